/*
 * auth.c — token signing and checking for the embedded strategy (auth.h).
 * A token is base64url(payload) "." base64url(HMAC-SHA256(key, payload)), with
 * payload "2|<expires>|<issued, microseconds>|<user id>|<project id>|<roles>|<nonce>".
 * The signature and expiry are checked without I/O; whether the user's tokens
 * were revoked since is token_revocation.c's question.
 */
#define LOG_MODULE "auth"
#include "api/auth.h"

#include "api/auth_keystone.h"
#include "api/https.h"
#include "api/token_revocation.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/timefmt.h"

#define KEY_LEN	  32
#define MAX_TOKEN 1024

static unsigned char signing_key[KEY_LEN];
static bool have_key;
/* auth_strategy = keystone: tokens are Keystone's (auth_keystone.h). */
static bool use_keystone;

/* A keyed HMAC-SHA256 context made once per key; each signature works on a
 * copy, so no thread looks the algorithm up or re-keys per request. */
static EVP_MAC_CTX *keyed_ctx;
static pthread_mutex_t keyed_lock = PTHREAD_MUTEX_INITIALIZER;

static void drop_keyed_ctx(void)
{
	EVP_MAC_CTX_free(keyed_ctx);
	keyed_ctx = NULL;
}

static EVP_MAC_CTX *new_keyed_ctx(void)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac);
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
			       OSSL_PARAM_construct_end()};
	if (ctx && !EVP_MAC_init(ctx, signing_key, KEY_LEN, params)) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

void auth_set_key(const unsigned char *key, size_t len)
{
	drop_keyed_ctx();
	memset(signing_key, 0, sizeof signing_key);
	memcpy(signing_key, key, len < KEY_LEN ? len : KEY_LEN);
	have_key = true;
}

static int load_or_create_key(const char *path, struct ct_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, signing_key, KEY_LEN);
		close(fd);
		if (n != KEY_LEN)
			return ct_fail(err, 500, "token key %s is damaged", path);
		have_key = true;
		return 0;
	}
	if (errno != ENOENT)
		return ct_fail(err, 500, "cannot read token key %s", path);
	if (ids_random(signing_key, KEY_LEN))
		return ct_fail(err, 500, "no random bytes for the token key");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return ct_fail(err, 500, "cannot create token key %s", path);
	ssize_t n = write(fd, signing_key, KEY_LEN);
	close(fd);
	if (n != KEY_LEN)
		return ct_fail(err, 500, "cannot write token key %s", path);
	have_key = true;
	return 0;
}

int auth_init(struct ct_error *err)
{
	const char *strategy = cfg_str(CFG_AUTH_STRATEGY);
	if (!strcmp(strategy, "keystone")) {
		if (auth_keystone_init(err))
			return -1;
		use_keystone = true;
		return 0;
	}
	if (strcmp(strategy, "embedded"))
		return ct_fail(err, 400, "unknown auth_strategy '%s'", strategy);
	if (have_key)
		return 0;
	char path[4096];
	snprintf(path, sizeof path, "%s/token.key", cfg_str(CFG_STATE_PATH));
	return load_or_create_key(path, err);
}

void auth_shutdown(void)
{
	if (use_keystone)
		auth_keystone_shutdown();
	use_keystone = false;
	drop_keyed_ctx();
	OPENSSL_cleanse(signing_key, sizeof signing_key);
	have_key = false;
}

static void sign(const char *payload, size_t len, unsigned char mac[32])
{
	pthread_mutex_lock(&keyed_lock);
	if (!keyed_ctx)
		keyed_ctx = new_keyed_ctx();
	EVP_MAC_CTX *ctx = keyed_ctx ? EVP_MAC_CTX_dup(keyed_ctx) : NULL;
	pthread_mutex_unlock(&keyed_lock);
	size_t out = 0;
	if (!ctx || !EVP_MAC_update(ctx, (const unsigned char *)payload, len) ||
	    !EVP_MAC_final(ctx, mac, &out, 32) || out != 32)
		/* No signature can be made: fill with key-independent garbage that
		 * never verifies (a random MAC). */
		ids_random(mac, 32);
	EVP_MAC_CTX_free(ctx);
}

int auth_issue(const char *user_id, const char *project_id, const char *roles, time_t expires,
	       char *out, size_t size)
{
	unsigned char nonce[12];
	char nonce_text[24];
	char payload[600];
	if (!have_key || ids_random(nonce, sizeof nonce))
		return -1;
	ids_base64url(nonce, sizeof nonce, nonce_text);
	int len = snprintf(payload, sizeof payload, "2|%lld|%lld|%s|%s|%s|%s", (long long)expires,
			   timefmt_now_us(), user_id, project_id, roles, nonce_text);
	if (len < 0 || (size_t)len >= sizeof payload)
		return -1;
	unsigned char mac[32];
	sign(payload, (size_t)len, mac);
	char body[sizeof payload * 4 / 3 + 8], mac_text[48];
	ids_base64url((const unsigned char *)payload, (size_t)len, body);
	ids_base64url(mac, sizeof mac, mac_text);
	if ((size_t)snprintf(out, size, "%s.%s", body, mac_text) >= size)
		return -1;
	return 0;
}

/* Check signature and expiry; on success copy the payload into out. */
static int open_token(const char *token, char *out, size_t size)
{
	size_t len = strnlen(token, MAX_TOKEN + 1);
	if (!have_key || len > MAX_TOKEN)
		return -1;
	const char *dot = memchr(token, '.', len);
	if (!dot)
		return -1;
	long n = ids_base64url_decode(token, (size_t)(dot - token), (unsigned char *)out, size - 1);
	if (n <= 0)
		return -1;
	out[n] = '\0';
	unsigned char mac[32], given[40];
	long m =
		ids_base64url_decode(dot + 1, len - (size_t)(dot + 1 - token), given, sizeof given);
	if (m != 32)
		return -1;
	sign(out, (size_t)n, mac);
	if (CRYPTO_memcmp(mac, given, 32))
		return -1;
	if (strlen(out) != (size_t)n || strncmp(out, "2|", 2))
		return -1;
	char *end;
	long long expires = strtoll(out + 2, &end, 10);
	if (*end != '|' || expires < (long long)time(NULL))
		return -1;
	return 0;
}

time_t auth_token_expiry(const char *token)
{
	char payload[MAX_TOKEN];
	if (open_token(token, payload, sizeof payload))
		return 0;
	return (time_t)strtoll(payload + 2, NULL, 10);
}

static int copy_field(char **p, char *dst, size_t size)
{
	char *bar = strchr(*p, '|');
	if (!bar || (size_t)(bar - *p) >= size)
		return -1;
	memcpy(dst, *p, (size_t)(bar - *p));
	dst[bar - *p] = '\0';
	*p = bar + 1;
	return 0;
}

int auth_verify(const char *token, struct api_identity *who, struct ct_error *err)
{
	char payload[MAX_TOKEN];
	if (open_token(token, payload, sizeof payload))
		return ct_fail(err, 401, "The request you have made requires authentication.");
	char expires[32], issued[32];
	char *p = payload + 2;
	memset(who, 0, sizeof *who);
	if (copy_field(&p, expires, sizeof expires) || copy_field(&p, issued, sizeof issued) ||
	    copy_field(&p, who->user_id, sizeof who->user_id) ||
	    copy_field(&p, who->project_id, sizeof who->project_id) ||
	    copy_field(&p, who->roles, sizeof who->roles))
		return ct_fail(err, 401, "The request you have made requires authentication.");
	who->issued_us = strtoll(issued, NULL, 10);
	/* is_admin: any role in admin_roles (case-insensitive). */
	char roles[sizeof who->roles];
	memcpy(roles, who->roles, sizeof roles);
	char *save = NULL;
	for (char *r = strtok_r(roles, ",", &save); r; r = strtok_r(NULL, ",", &save))
		if (cfg_list_contains(CFG_ADMIN_ROLES, r))
			who->is_admin = true;
	return 0;
}

int auth_validate(const char *token, struct api_identity *who, struct ct_error *err)
{
	if (use_keystone)
		return auth_keystone_validate(token, who, err);
	if (auth_verify(token, who, err))
		return -1;
	if (!token_revocation_allows(who->user_id, who->project_id, who->issued_us))
		return ct_fail(err, 401, "The request you have made requires authentication.");
	return 0;
}

void auth_public_base(const struct api_request *req, char *out, size_t size)
{
	const char *pub = cfg_str(CFG_PUBLIC_ENDPOINT);
	if (*pub) {
		size_t len = strlen(pub);
		while (len > 0 && pub[len - 1] == '/')
			len--;
		snprintf(out, size, "%.*s", (int)len, pub);
		return;
	}
	const char *host = req && req->host && *req->host ? req->host : "localhost";
	snprintf(out, size, "%s://%s", https_enabled() ? "https" : "http", host);
}

bool auth_is_keystone(void)
{
	return use_keystone;
}
