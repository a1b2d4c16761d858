/*
 * crypto.c — AES-256-CBC payload encryption compatible with Trove (see crypto.h).
 * Owns only its temporary buffers; may not log.
 *
 * AES and MD5 come from libnettle (AES-NI where the CPU has it), not
 * OpenSSL's EVP: in OpenSSL 3 the first EVP cipher or digest loads the
 * configuration and builds every cipher and digest of the default provider,
 * which leaves 2 MiB of libcrypto and its heap resident in every process that
 * encrypts one message — most of the guest agent's memory. Base64 stays
 * OpenSSL's EVP_EncodeBlock (plain code, no provider). The IV comes from the
 * kernel (ids_random).
 */
#include "rpc/crypto.h"

#include <nettle/aes.h>
#include <nettle/cbc.h>
#include <nettle/md5.h>
#include <openssl/evp.h> /* EVP_EncodeBlock/DecodeBlock: plain Base64, no provider */
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"

#define RPC_CRYPTO_IV	 16
#define RPC_CRYPTO_BLOCK 16
/* Largest ciphertext we agree to handle (a guard against absurd inputs). */
#define RPC_CRYPTO_MAX (256u * 1024 * 1024)

/* aes_key = the 32 ASCII characters of the lowercase hex MD5 of the key string. */
static void derive_key(const char *key, unsigned char out[32])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[MD5_DIGEST_SIZE];
	struct md5_ctx md5;
	md5_init(&md5);
	md5_update(&md5, strlen(key), (const uint8_t *)key);
	md5_digest(&md5, sizeof digest, digest);
	for (int i = 0; i < 16; i++) {
		out[2 * i] = (unsigned char)hex[digest[i] >> 4];
		out[2 * i + 1] = (unsigned char)hex[digest[i] & 15];
	}
	explicit_bzero(digest, sizeof digest);
}

char *rpc_crypto_encrypt(const char *key, const void *plain, size_t len, struct ct_error *err)
{
	if (len > RPC_CRYPTO_MAX) {
		ct_fail(err, 413, "payload too large to encrypt");
		return NULL;
	}
	/* PKCS#7: 1 to 16 bytes, each holding the count. */
	size_t pad = RPC_CRYPTO_BLOCK - len % RPC_CRYPTO_BLOCK;
	size_t ct_len = len + pad;
	size_t raw_len = RPC_CRYPTO_IV + ct_len;
	unsigned char *raw = malloc(raw_len);
	unsigned char *padded = malloc(ct_len);
	char *out = NULL;
	unsigned char aes_key[32], iv[RPC_CRYPTO_IV];
	struct aes256_ctx ks;
	derive_key(key, aes_key);
	if (!raw || !padded) {
		ct_fail(err, 500, "out of memory");
		goto done;
	}
	if (ids_random(raw, RPC_CRYPTO_IV)) {
		ct_fail(err, 500, "no random bytes for the IV");
		goto done;
	}
	memcpy(padded, plain, len);
	memset(padded + len, (int)pad, pad);
	memcpy(iv, raw, sizeof iv); /* cbc_encrypt advances the IV it is given */
	aes256_set_encrypt_key(&ks, aes_key);
	cbc_encrypt(&ks, (nettle_cipher_func *)aes256_encrypt, AES_BLOCK_SIZE, iv, ct_len,
		    raw + RPC_CRYPTO_IV, padded);
	out = malloc(4 * ((raw_len + 2) / 3) + 1);
	if (!out) {
		ct_fail(err, 500, "out of memory");
		goto done;
	}
	EVP_EncodeBlock((unsigned char *)out, raw, (int)raw_len);
done:
	if (padded)
		explicit_bzero(padded, ct_len);
	free(padded);
	free(raw);
	explicit_bzero(&ks, sizeof ks);
	explicit_bzero(aes_key, sizeof aes_key);
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
	unsigned char aes_key[32], iv[RPC_CRYPTO_IV];
	struct aes256_ctx ks;
	derive_key(key, aes_key);
	if (!raw) {
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
	size_t ct_len = (size_t)rlen - RPC_CRYPTO_IV;
	plain = malloc(ct_len + 1);
	if (!plain) {
		ct_fail(err, 500, "out of memory");
		goto done;
	}
	aes256_set_decrypt_key(&ks, aes_key);
	memcpy(iv, raw, sizeof iv);
	cbc_decrypt(&ks, (nettle_cipher_func *)aes256_decrypt, AES_BLOCK_SIZE, iv, ct_len,
		    (uint8_t *)plain, raw + RPC_CRYPTO_IV);
	/* The PKCS#7 padding must be intact (what EVP_DecryptFinal checks): a
	 * wrong key leaves garbage there. Every byte is looked at. */
	unsigned pad = (unsigned char)plain[ct_len - 1];
	unsigned bad = pad == 0 || pad > RPC_CRYPTO_BLOCK;
	for (unsigned i = 1; i <= RPC_CRYPTO_BLOCK; i++)
		bad |= (i <= pad) & ((unsigned char)plain[ct_len - i] != pad);
	if (bad) {
		ct_fail(err, 400, "ciphertext does not decrypt with this key");
		explicit_bzero(plain, ct_len);
		free(plain);
		plain = NULL;
		goto done;
	}
	plain[ct_len - pad] = '\0';
	if (len)
		*len = ct_len - pad;
done:
	free(raw);
	explicit_bzero(&ks, sizeof ks);
	explicit_bzero(aes_key, sizeof aes_key);
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
