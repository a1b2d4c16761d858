/*
 * crypto.h — Trove's RPC payload encryption (trove/common/crypto_utils.py), spec §2.7:
 * E(key, obj) = base64(iv || AES-256-CBC(key = lowercase hex MD5 of the key string,
 * iv, PKCS#7(JSON(obj)))). Pure functions over libnettle's AES and MD5 (not
 * OpenSSL's EVP: see crypto.c); thread-safe.
 * Owns nothing but the strings it returns (caller frees). May not log or touch
 * the network; the secure-serializer wrapping of messages lives in envelope.c.
 */
#ifndef CT_RPC_CRYPTO_H
#define CT_RPC_CRYPTO_H

#include <jansson.h>
#include <stddef.h>

#include "common/error.h"

/* Encrypt len bytes; returns a malloc'd NUL-terminated Base64 string. */
char *rpc_crypto_encrypt(const char *key, const void *plain, size_t len, struct ct_error *err);
/* Decrypt a Base64 string; returns malloc'd plaintext (NUL-terminated, *len set). */
char *rpc_crypto_decrypt(const char *key, const char *b64, size_t *len, struct ct_error *err);

/* E(key, value): the JSON encoding of value (any JSON, null included), encrypted. */
char *rpc_crypto_encrypt_json(const char *key, const json_t *value, struct ct_error *err);
/* The inverse; returns a new reference, or NULL when b64 does not decrypt to JSON. */
json_t *rpc_crypto_decrypt_json(const char *key, const char *b64, struct ct_error *err);

#endif
