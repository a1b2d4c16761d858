/*
 * broker_accounts.c — see broker_accounts.h: account names, permission rules,
 * the guest's transport URL, and the choice of backend. Owns no state; the
 * backend owns the calls to the broker. Never logs a password or a URL that
 * carries one.
 */
#define LOG_MODULE "rpc"
#include "rpc/broker_accounts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "rpc/url.h"

#define GUEST_TOPIC_PREFIX "guestagent." /* guest/api.c's topics */
#define ACCOUNT_PREFIX	   "ctrove-guest-"

static bool valid_id(const char *id)
{
	size_t n = 0;
	if (!id)
		return false;
	for (; id[n]; n++) {
		char c = id[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return n > 0 && n <= 64;
}

/* s with every regular-expression metacharacter escaped, into out[size]. */
static int regex_quote(const char *s, char *out, size_t size)
{
	size_t o = 0;
	for (; *s; s++) {
		if (strchr("\\.^$|?*+()[]{}", *s)) {
			if (o + 1 >= size)
				return -1;
			out[o++] = '\\';
		}
		if (o + 1 >= size)
			return -1;
		out[o++] = *s;
	}
	out[o] = '\0';
	return 0;
}

int broker_grant_for(const char *instance_id, const char *control_exchange,
		     const char *conductor_topic, struct broker_grant *g, struct ct_error *err)
{
	char id[160], ex[512], conductor[512];
	if (!valid_id(instance_id))
		return ct_fail(err, 400, "Invalid instance id '%.64s'.",
			       instance_id ? instance_id : "");
	if (!control_exchange || !*control_exchange || !conductor_topic || !*conductor_topic)
		return ct_fail(err, 500, "control_exchange and conductor_queue must be set");
	memset(g, 0, sizeof *g);
	if (regex_quote(instance_id, id, sizeof id) ||
	    regex_quote(control_exchange, ex, sizeof ex) ||
	    regex_quote(conductor_topic, conductor, sizeof conductor))
		return ct_fail(err, 500, "control_exchange or conductor_queue is too long");
	/* Its queues: <topic>, <topic>.<server>, the <topic>_fanout exchange and
	 * its <topic>_fanout_<id> queues; nothing that merely starts the same. */
	char own[256];
	snprintf(own, sizeof own, "guestagent\\.%s([._].*)?", id);
	size_t cut = sizeof g->configure;
	if ((size_t)snprintf(g->user, sizeof g->user, ACCOUNT_PREFIX "%s", instance_id) >=
		    sizeof g->user ||
	    (size_t)snprintf(g->configure, cut, "^%s$", own) >= cut ||
	    /* Replies to calls go through the default exchange (oslo.messaging):
	     * write on amq.default cannot be narrowed by routing key, so what it
	     * publishes there is trusted only when it decrypts (docs/security.md). */
	    (size_t)snprintf(g->write, sizeof g->write, "^(%s|%s|amq\\.default)$", own, ex) >=
		    sizeof g->write ||
	    (size_t)snprintf(g->read, sizeof g->read, "^(%s|%s)$", own, ex) >= sizeof g->read ||
	    (size_t)snprintf(g->topic_exchange, sizeof g->topic_exchange, "%s", control_exchange) >=
		    sizeof g->topic_exchange ||
	    (size_t)snprintf(g->topic_write, sizeof g->topic_write, "^%s$", conductor) >=
		    sizeof g->topic_write ||
	    (size_t)snprintf(g->topic_read, sizeof g->topic_read, "^guestagent\\.%s(\\..+)?$",
			     id) >= sizeof g->topic_read)
		return ct_fail(err, 500, "control_exchange or conductor_queue is too long");
	return 0;
}

/* Append s percent-encoded (all but RFC 3986's unreserved characters). */
static int put_encoded(char *out, size_t size, size_t *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || strchr("-._~", c);
		if (*o + (plain ? 1 : 3) >= size)
			return -1;
		if (plain) {
			out[(*o)++] = (char)c;
		} else {
			out[(*o)++] = '%';
			out[(*o)++] = hex[c >> 4];
			out[(*o)++] = hex[c & 15];
		}
	}
	out[*o] = '\0';
	return 0;
}

static int put_raw(char *out, size_t size, size_t *o, const char *s)
{
	size_t n = strlen(s);
	if (*o + n >= size)
		return -1;
	memcpy(out + *o, s, n + 1);
	*o += n;
	return 0;
}

int broker_url_with_login(const char *url, const char *user, const char *password, char *out,
			  size_t size, struct ct_error *err)
{
	struct rpc_url u;
	if (rpc_url_parse(url, &u, err))
		return -1;
	size_t o = 0;
	/* The guest reaches the broker the way the control plane does: TLS stays TLS. */
	int bad = put_raw(out, size, &o, u.tls ? "amqps://" : "rabbit://");
	for (size_t i = 0; !bad && i < u.n_hosts; i++) {
		char port[16];
		bool v6 = strchr(u.hosts[i].host, ':') != NULL;
		snprintf(port, sizeof port, ":%d", u.hosts[i].port);
		bad = (i && put_raw(out, size, &o, ",")) || put_encoded(out, size, &o, user) ||
		      put_raw(out, size, &o, ":") || put_encoded(out, size, &o, password) ||
		      put_raw(out, size, &o, v6 ? "@[" : "@") ||
		      put_raw(out, size, &o, u.hosts[i].host) ||
		      (v6 && put_raw(out, size, &o, "]")) || put_raw(out, size, &o, port);
	}
	/* oslo reads an empty path as the vhost "/" */
	bad = bad || put_raw(out, size, &o, "/") ||
	      (strcmp(u.vhost, "/") && put_encoded(out, size, &o, u.vhost));
	for (size_t i = 0; !bad && i < u.n_options; i++)
		bad = put_raw(out, size, &o, i ? "&" : "?") ||
		      put_encoded(out, size, &o, u.options[i].key) || put_raw(out, size, &o, "=") ||
		      put_encoded(out, size, &o, u.options[i].value);
	rpc_url_free(&u);
	if (bad) {
		explicit_bzero(out, size);
		return ct_fail(err, 500, "the guest's transport URL is too long");
	}
	return 0;
}

static const struct broker_accounts_backend *backend(void)
{
	return &broker_accounts_management;
}

static int vhost_of_bus(char **vhost, struct ct_error *err)
{
	struct rpc_url u;
	if (rpc_url_parse(cfg_str(CFG_TRANSPORT_URL), &u, err))
		return -1;
	*vhost = strdup(u.vhost);
	rpc_url_free(&u);
	if (!*vhost)
		return ct_fail(err, 500, "out of memory");
	return 0;
}

int broker_guest_account_create(const char *instance_id, char *out, size_t size,
				struct ct_error *err)
{
	if (!cfg_bool(CFG_BROKER_ACCOUNTS)) {
		const char *url = cfg_str(CFG_GUEST_TRANSPORT_URL);
		if (!*url)
			return ct_fail(err, 500,
				       "[broker_accounts] enabled is false and [DEFAULT] "
				       "guest_transport_url is unset: a guest never gets the "
				       "control plane's own transport_url");
		if ((size_t)snprintf(out, size, "%s", url) >= size)
			return ct_fail(err, 500, "guest_transport_url is too long");
		return 0;
	}
	struct broker_grant g;
	if (broker_grant_for(instance_id, cfg_str(CFG_CONTROL_EXCHANGE),
			     cfg_str(CFG_CONDUCTOR_QUEUE), &g, err))
		return -1;
	unsigned char raw[24];
	char password[48];
	if (ids_random(raw, sizeof raw))
		return ct_fail(err, 500, "no randomness for the guest's broker password");
	ids_base64url(raw, sizeof raw, password);
	explicit_bzero(raw, sizeof raw);
	char *vhost = NULL;
	int rc =
		vhost_of_bus(&vhost, err) || backend()->create(vhost, &g, password, err) ||
		broker_url_with_login(cfg_str(CFG_TRANSPORT_URL), g.user, password, out, size, err);
	free(vhost);
	explicit_bzero(password, sizeof password);
	if (rc)
		return -1;
	log_info("broker account %s made (%s)", g.user, backend()->name);
	return 0;
}

int broker_guest_account_remove(const char *instance_id, struct ct_error *err)
{
	if (!cfg_bool(CFG_BROKER_ACCOUNTS))
		return 0;
	struct broker_grant g;
	if (broker_grant_for(instance_id, cfg_str(CFG_CONTROL_EXCHANGE),
			     cfg_str(CFG_CONDUCTOR_QUEUE), &g, err))
		return -1;
	char *vhost = NULL;
	int rc = vhost_of_bus(&vhost, err) || backend()->remove(vhost, g.user, err);
	free(vhost);
	if (rc)
		return -1;
	log_info("broker account %s removed", g.user);
	return 0;
}
