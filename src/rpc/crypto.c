/*
 * crypto.c — AES-256-CBC payload encryption compatible with Trove (see crypto.h).
 * Owns only its temporary buffers; may not log.
 */
#include "rpc/crypto.h"

#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define RPC_CRYPTO_IV	 16
#define RPC_CRYPTO_BLOCK 16
/* Largest ciphertext we agree to handle (a guard against absurd inputs). */
#define RPC_CRYPTO_MAX (256u * 1024 * 1024)

/* aes_key = the 32 ASCII characters of the lowercase hex MD5 of the key string. */
static void derive_key(const char *key, unsigned char out[32])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[16];
	unsigned int dlen = 0;
	EVP_Digest(key, strlen(key), digest, &dlen, EVP_md5(), NULL);
	for (int i = 0; i < 16; i++) {
		out[2 * i] = (unsigned char)hex[digest[i] >> 4];
		out[2 * i + 1] = (unsigned char)hex[digest[i] & 15];
	}
}

char *rpc_crypto_encrypt(const char *key, const void *plain, size_t len, struct ct_error *err)
{
	if (len > RPC_CRYPTO_MAX) {
		ct_fail(err, 413, "payload too large to encrypt");
		return NULL;
	}
	unsigned char aes_key[32];
	derive_key(key, aes_key);
	size_t raw_cap = RPC_CRYPTO_IV + len + RPC_CRYPTO_BLOCK;
	unsigned char *raw = malloc(raw_cap);
	char *out = NULL;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!raw || !ctx) {
		ct_fail(err, 500, "out of memory");
		goto done;
	}
	if (RAND_bytes(raw, RPC_CRYPTO_IV) != 1) {
		ct_fail(err, 500, "no random bytes for the IV");
		goto done;
	}
	int n1 = 0, n2 = 0;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, aes_key, raw) != 1 ||
	    EVP_EncryptUpdate(ctx, raw + RPC_CRYPTO_IV, &n1, plain, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, raw + RPC_CRYPTO_IV + n1, &n2) != 1) {
		ct_fail(err, 500, "encryption failed");
		goto done;
	}
	size_t raw_len = RPC_CRYPTO_IV + (size_t)n1 + (size_t)n2;
	out = malloc(4 * ((raw_len + 2) / 3) + 1);
	if (!out) {
		ct_fail(err, 500, "out of memory");
		goto done;
	}
	EVP_EncodeBlock((unsigned char *)out, raw, (int)raw_len);
done:
	EVP_CIPHER_CTX_free(ctx);
	free(raw);
	OPENSSL_cleanse(aes_key, sizeof aes_key);
	return out;
}

char *rpc_crypto_decrypt(const char *key, const char *b64, size_t *len, struct ct_error *err)
{
	size_t blen = strlen(b64);
	if (blen == 0 || blen % 4 || blen > RPC_CRYPTO_MAX) {
		ct_fail(err, 400, "not a Base64 ciphertext");
		return NULL;
	}
	unsigned char *raw = malloc(blen / 4 * 3 + 1);
	char *plain = NULL;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned char aes_key[32];
	derive_key(key, aes_key);
	if (!raw || !ctx) {
		ct_fail(err, 500, "out of memory");
		goto done;
	}
	int rlen = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)blen);
	if (rlen < 0) {
		ct_fail(err, 400, "not a Base64 ciphertext");
		goto done;
	}
	/* EVP_DecodeBlock counts the '=' padding as zero bytes. */
	if (b64[blen - 1] == '=')
		rlen--;
	if (b64[blen - 2] == '=')
		rlen--;
	if (rlen < RPC_CRYPTO_IV + RPC_CRYPTO_BLOCK || (rlen - RPC_CRYPTO_IV) % RPC_CRYPTO_BLOCK) {
		ct_fail(err, 400, "ciphertext has a bad length");
		goto done;
	}
	int ct_len = rlen - RPC_CRYPTO_IV;
	plain = malloc((size_t)ct_len + RPC_CRYPTO_BLOCK + 1);
	if (!plain) {
		ct_fail(err, 500, "out of memory");
		goto done;
	}
	int n1 = 0, n2 = 0;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, aes_key, raw) != 1 ||
	    EVP_DecryptUpdate(ctx, (unsigned char *)plain, &n1, raw + RPC_CRYPTO_IV, ct_len) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + n1, &n2) != 1) {
		ct_fail(err, 400, "ciphertext does not decrypt with this key");
		free(plain);
		plain = NULL;
		goto done;
	}
	plain[n1 + n2] = '\0';
	if (len)
		*len = (size_t)(n1 + n2);
done:
	EVP_CIPHER_CTX_free(ctx);
	free(raw);
	OPENSSL_cleanse(aes_key, sizeof aes_key);
	return plain;
}

char *rpc_crypto_encrypt_json(const char *key, const json_t *value, struct ct_error *err)
{
	char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!text) {
		ct_fail(err, 500, "cannot encode value as JSON");
		return NULL;
	}
	char *out = rpc_crypto_encrypt(key, text, strlen(text), err);
	free(text);
	return out;
}

json_t *rpc_crypto_decrypt_json(const char *key, const char *b64, struct ct_error *err)
{
	size_t len = 0;
	char *plain = rpc_crypto_decrypt(key, b64, &len, err);
	if (!plain)
		return NULL;
	json_error_t jerr;
	json_t *v = json_loadb(plain, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	free(plain);
	if (!v)
		ct_fail(err, 400, "decrypted payload is not JSON");
	return v;
}
