/*
 * ids.h — identifiers and randomness: UUIDs (libuuid), secure random bytes (the
 * kernel's getrandom) and their base64url form. Owns nothing; buffers are the
 * caller's.
 */
#ifndef CT_COMMON_IDS_H
#define CT_COMMON_IDS_H

#include <stdbool.h>
#include <stddef.h>

#define CT_UUID_LEN 36

/* Lower-case random UUID in out[CT_UUID_LEN + 1]. */
void ids_uuid(char out[CT_UUID_LEN + 1]);
/* The same without dashes (Keystone-style ids), out[33]. */
void ids_hex32(char out[33]);
/* True for 8-4-4-4-12 hex digits, either case. */
bool ids_is_uuid(const char *s);
/* Fill buf with cryptographically secure random bytes; -1 on failure. */
int ids_random(void *buf, size_t len);
/* base64url without padding of len bytes into out (size >= 4*len/3 + 4). */
size_t ids_base64url(const unsigned char *in, size_t len, char *out);
/* Decode base64url (no padding); returns decoded length or -1. */
long ids_base64url_decode(const char *in, size_t len, unsigned char *out, size_t cap);

#endif
