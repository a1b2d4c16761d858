/*
 * timefmt.h — the timestamp formats of the Trove API: naive UTC
 * "YYYY-MM-DDTHH:MM:SS" for resources, with "Z" for limits, with microseconds
 * and "Z" for Keystone tokens. Owns nothing.
 */
#ifndef CT_COMMON_TIMEFMT_H
#define CT_COMMON_TIMEFMT_H

#include <stdbool.h>
#include <time.h>

#define CT_TIME_LEN 32

void timefmt_trove(time_t t, char out[CT_TIME_LEN]);	/* 2026-11-25T14:17:33 */
void timefmt_zulu(time_t t, char out[CT_TIME_LEN]);	/* 2026-11-25T14:17:33Z */
void timefmt_keystone(time_t t, char out[CT_TIME_LEN]); /* ...33.000000Z */
/* Current time as stored in the DB ("YYYY-MM-DD HH:MM:SS"). */
void timefmt_db_now(char out[CT_TIME_LEN]);
/* DB text ("YYYY-MM-DD HH:MM:SS[.ffffff]") to the API form; NULL/garbage -> "". */
void timefmt_db_to_trove(const char *db, char out[CT_TIME_LEN]);
/* DB text to a UTC time; false when it is not one. */
bool timefmt_db_parse(const char *db, time_t *out);
/* Wall-clock microseconds since the epoch (token issue and revocation times). */
long long timefmt_now_us(void);

#endif
