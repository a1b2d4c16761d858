/*
 * login_guard.h — how many wrong passwords POST /identity/v3/auth/tokens lets
 * through: a leaky bucket per user name ([identity] login_failures_per_user a
 * minute) and one per client address (login_failures_per_source). Every
 * password attempt takes a unit from both before the password is checked (so
 * parallel guesses are counted too) and a successful login gives it back, so
 * only failures fill the buckets. While either is full every attempt is
 * refused unchecked, whether the password is right or wrong and whether the
 * user exists or not. In memory, per process. Owns the bucket table.
 */
#ifndef CT_API_LOGIN_GUARD_H
#define CT_API_LOGIN_GUARD_H

/* 0: go ahead (a unit taken). -1: refuse; *retry_after seconds until a unit
 * frees. source may be "" (unknown client address: no source bucket). */
int login_guard_enter(const char *user, const char *source, int *retry_after);
/* The password was right: give back the units enter() took. */
void login_guard_succeeded(const char *user, const char *source);
void login_guard_shutdown(void);

#endif
