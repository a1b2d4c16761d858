/*
 * url.c — transport_url parsing (see url.h). Owns nothing beyond the strings
 * it hands out in struct rpc_url; never logs, and its error messages never
 * contain a user name or password.
 */
#include "rpc/url.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"

#define DEFAULT_PORT	 5672
#define DEFAULT_TLS_PORT 5671

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Copy [s, s+len) decoding %xx (and '+' as a space when plus_is_space).
 * NULL on a bad escape, an escaped NUL (it would silently cut the string) or
 * out of memory. */
static char *pct_decode(const char *s, size_t len, bool plus_is_space)
{
	char *out = malloc(len + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int h = i + 2 < len ? hexval((unsigned char)s[i + 1]) : -1;
			int l = i + 2 < len ? hexval((unsigned char)s[i + 2]) : -1;
			if (h < 0 || l < 0 || (h == 0 && l == 0)) {
				free(out);
				return NULL;
			}
			out[o++] = (char)(h * 16 + l);
			i += 2;
		} else {
			out[o++] = plus_is_space && s[i] == '+' ? ' ' : s[i];
		}
	}
	out[o] = '\0';
	return out;
}

static bool all_digits(const char *s, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool host_chars_ok(const char *host)
{
	for (const unsigned char *p = (const unsigned char *)host; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

/* [user[:pass]@] of one host entry: the last '@' ends the credentials, as in
 * Python's urlsplit, so an unescaped '@' in a password still works. */
static int parse_credentials(const char *s, size_t len, struct rpc_url_host *h, size_t *consumed,
			     struct ct_error *err)
{
	const char *at = NULL;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '@')
			at = s + i;
	*consumed = 0;
	if (!at) {
		h->user = strdup("guest");
		h->password = strdup("guest");
		if (!h->user || !h->password)
			return ct_fail(err, 500, "out of memory");
		return 0;
	}
	const char *colon = memchr(s, ':', (size_t)(at - s));
	size_t ulen = colon ? (size_t)(colon - s) : (size_t)(at - s);
	h->user = pct_decode(s, ulen, false);
	h->password = colon ? pct_decode(colon + 1, (size_t)(at - colon - 1), false) : strdup("");
	if (!h->user || !h->password)
		return ct_fail(err, 400, "transport_url: bad escape in credentials");
	*consumed = (size_t)(at + 1 - s);
	return 0;
}

static int parse_port(const char *s, size_t len, int *port, struct ct_error *err)
{
	/* Not echoed: without '@', "user:password" reads as host:port. */
	if (!all_digits(s, len) || len > 5)
		return ct_fail(err, 400, "transport_url: the port must be a number");
	long p = strtol(s, NULL, 10); /* digits only, at most 5: no overflow */
	if (p <= 0 || p > 65535)
		return ct_fail(err, 400, "transport_url: the port must be 1 to 65535");
	*port = (int)p;
	return 0;
}

/* host[:port] or [ipv6][:port]; empty = localhost. */
static int parse_address(const char *s, size_t len, bool tls, struct rpc_url_host *h,
			 struct ct_error *err)
{
	const char *host = s;
	size_t hlen = len;
	const char *port = NULL;
	size_t plen = 0;
	if (len && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close)
			return ct_fail(err, 400, "transport_url: unterminated IPv6 address");
		host = s + 1;
		hlen = (size_t)(close - host);
		const char *after = close + 1;
		size_t rest = len - (size_t)(after - s);
		if (rest && after[0] != ':')
			return ct_fail(err, 400, "transport_url: bad host after an IPv6 address");
		if (rest) {
			port = after + 1;
			plen = rest - 1;
		}
	} else {
		const char *colon = memchr(s, ':', len);
		if (colon) {
			hlen = (size_t)(colon - s);
			port = colon + 1;
			plen = len - hlen - 1;
		}
	}
	h->host = hlen ? pct_decode(host, hlen, false) : strdup("localhost");
	if (!h->host || !host_chars_ok(h->host))
		return ct_fail(err, 400, "transport_url: bad host");
	h->port = tls ? DEFAULT_TLS_PORT : DEFAULT_PORT;
	if (port && plen && parse_port(port, plen, &h->port, err))
		return -1;
	return 0;
}

static int parse_host(const char *s, size_t len, bool tls, struct rpc_url_host *h,
		      struct ct_error *err)
{
	size_t used;
	if (parse_credentials(s, len, h, &used, err))
		return -1;
	return parse_address(s + used, len - used, tls, h, err);
}

static int parse_hosts(const char *s, const char *end, struct rpc_url *out, struct ct_error *err)
{
	size_t cap = 0;
	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *e = comma ? comma : end;
		struct rpc_url_host *n = array_grow(out->hosts, out->n_hosts, &cap, sizeof *n);
		if (!n)
			return ct_fail(err, 500, "out of memory");
		out->hosts = n;
		struct rpc_url_host *h = &out->hosts[out->n_hosts++];
		memset(h, 0, sizeof *h);
		if (parse_host(s, (size_t)(e - s), out->tls, h, err))
			return -1;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

static int add_option(struct rpc_url *out, size_t *cap, char *key, char *value,
		      struct ct_error *err)
{
	for (size_t i = 0; i < out->n_options; i++) {
		struct rpc_url_option *o = &out->options[i];
		if (strcmp(o->key, key))
			continue;
		size_t a = strlen(o->value), b = strlen(value);
		char *joined = realloc(o->value, a + b + 2);
		free(key);
		if (!joined) {
			free(value);
			return ct_fail(err, 500, "out of memory");
		}
		joined[a] = ',';
		memcpy(joined + a + 1, value, b + 1);
		o->value = joined;
		free(value);
		return 0;
	}
	struct rpc_url_option *n = array_grow(out->options, out->n_options, cap, sizeof *n);
	if (!n) {
		free(key);
		free(value);
		return ct_fail(err, 500, "out of memory");
	}
	out->options = n;
	out->options[out->n_options++] = (struct rpc_url_option){key, value};
	return 0;
}

static int parse_options(const char *s, struct rpc_url *out, struct ct_error *err)
{
	size_t cap = 0;
	while (*s) {
		size_t len = strcspn(s, "&");
		const char *eq = memchr(s, '=', len);
		if (eq && eq > s && eq + 1 < s + len) {
			char *key = pct_decode(s, (size_t)(eq - s), true);
			char *value = pct_decode(eq + 1, (size_t)(s + len - eq - 1), true);
			if (!key || !value) {
				free(key);
				free(value);
				return ct_fail(err, 400,
					       "transport_url: bad escape in the options");
			}
			if (add_option(out, &cap, key, value, err))
				return -1;
		}
		s += len;
		if (*s == '&')
			s++;
	}
	return 0;
}

int rpc_url_parse(const char *url, struct rpc_url *out, struct ct_error *err)
{
	memset(out, 0, sizeof *out);
	const char *p = strstr(url, "://");
	if (!p)
		return ct_fail(err, 400,
			       "transport_url must look like rabbit://user:pass@host:port/");
	size_t scheme_len = (size_t)(p - url);
	out->tls = scheme_len == 5 && !strncmp(url, "amqps", 5);
	if (!((scheme_len == 6 && !strncmp(url, "rabbit", 6)) ||
	      (scheme_len == 4 && !strncmp(url, "amqp", 4)) || out->tls)) {
		out->tls = false;
		return ct_fail(err, 400,
			       "transport_url: only rabbit:// and amqps:// (TLS) are supported");
	}
	p += 3;
	const char *query = p + strcspn(p, "?");
	const char *slash = memchr(p, '/', (size_t)(query - p));
	const char *hosts_end = slash ? slash : query;
	if (slash && slash + 1 < query)
		out->vhost = pct_decode(slash + 1, (size_t)(query - slash - 1), false);
	else
		out->vhost = strdup("/");
	if (!out->vhost)
		return ct_fail(err, 400, "transport_url: bad virtual host");
	if (parse_hosts(p, hosts_end, out, err) || (*query && parse_options(query + 1, out, err))) {
		rpc_url_free(out);
		return -1;
	}
	return 0;
}

void rpc_url_free(struct rpc_url *u)
{
	for (size_t i = 0; i < u->n_hosts; i++) {
		free(u->hosts[i].host);
		free(u->hosts[i].user);
		if (u->hosts[i].password)
			memset(u->hosts[i].password, 0, strlen(u->hosts[i].password));
		free(u->hosts[i].password);
	}
	for (size_t i = 0; i < u->n_options; i++) {
		free(u->options[i].key);
		free(u->options[i].value);
	}
	free(u->hosts);
	free(u->options);
	free(u->vhost);
	memset(u, 0, sizeof *u);
}

const char *rpc_url_option(const struct rpc_url *u, const char *key)
{
	for (size_t i = 0; i < u->n_options; i++)
		if (!strcmp(u->options[i].key, key))
			return u->options[i].value;
	return NULL;
}
