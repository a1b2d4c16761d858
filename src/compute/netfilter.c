/*
 * netfilter.c — per-instance nftables chains for allowed_cidrs (netfilter.h).
 * Owns the table `inet <[local] nft_table>`; may not read or change any other
 * table. Scripts are built only from validated pieces (instance id, canonical
 * addresses, integers), never from raw user text.
 */
#define LOG_MODULE "compute"
#include "compute/netfilter.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "compute/paths.h"
#include "compute/run.h"

enum nf_state { NF_UNKNOWN, NF_USABLE, NF_UNUSABLE };

static _Atomic int nf_state = NF_UNKNOWN;
static _Atomic bool nf_missing; /* nft is not installed: no rule of ours can exist */
static char nf_reason[512];	/* why nft is unusable; written under nf_lock */
/* Serialises this process's changes, so "drop the table when empty" cannot race
 * with an apply from another thread. */
static pthread_mutex_t nf_lock = PTHREAD_MUTEX_INITIALIZER;

static int table_name(const char **out, struct ct_error *err)
{
	const char *t = cfg_str(CFG_LOCAL_NFT_TABLE);
	size_t n = 0;
	for (; t && t[n]; n++)
		if (!((t[n] >= 'a' && t[n] <= 'z') || (t[n] >= 'A' && t[n] <= 'Z') ||
		      (t[n] >= '0' && t[n] <= '9') || t[n] == '_'))
			break;
	if (!t || !n || t[n] || n > 32 || (t[0] >= '0' && t[0] <= '9'))
		return ct_fail(err, 500, "[local] nft_table '%.40s' is not a plain name",
			       t ? t : "");
	*out = t;
	return 0;
}

static int probe_locked(struct ct_error *err)
{
	struct run_result res;
	const char *const argv[] = {"nft", "list", "tables", NULL};
	struct ct_error e;
	nf_missing = false;
	if (run_tool(argv, NULL, &res, &e)) {
		nf_missing = e.status == 501;
		snprintf(nf_reason, sizeof nf_reason, "%.400s", e.message);
	} else if (res.status) {
		res.errtext[strcspn(res.errtext, "\n")] = '\0';
		snprintf(nf_reason, sizeof nf_reason, "nft list tables: %.400s",
			 res.errtext[0] ? res.errtext : "failed");
	} else {
		nf_state = NF_USABLE;
		log_info("allowed_cidrs are enforced with nftables (table inet %s)",
			 cfg_str(CFG_LOCAL_NFT_TABLE));
		return 0;
	}
	nf_state = NF_UNUSABLE;
	log_warning("nftables is not usable on this host (%s): instances with allowed_cidrs "
		    "cannot be created",
		    nf_reason);
	return ct_fail(err, 501, "allowed_cidrs cannot be enforced on this host: %s", nf_reason);
}

int netfilter_init(struct ct_error *err)
{
	pthread_mutex_lock(&nf_lock);
	int rc = probe_locked(err);
	pthread_mutex_unlock(&nf_lock);
	return rc;
}

/* Called with nf_lock held. */
static int ensure_usable(struct ct_error *err)
{
	if (nf_state == NF_UNKNOWN)
		return probe_locked(err);
	if (nf_state == NF_UNUSABLE)
		return ct_fail(err, 501, "allowed_cidrs cannot be enforced on this host: %s",
			       nf_reason);
	return 0;
}

int netfilter_parse_cidr(const char *text, char out[NETFILTER_CIDR_MAX], struct ct_error *err)
{
	char addr[NETFILTER_CIDR_MAX];
	size_t n = text ? strlen(text) : 0;
	if (!n || n >= sizeof addr)
		return ct_fail(err, 400, "Invalid CIDR '%.64s'.", text ? text : "");
	memcpy(addr, text, n + 1);
	char *slash = strchr(addr, '/');
	long len = -1;
	if (slash) {
		char *end;
		*slash = '\0';
		len = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end || len < 0)
			return ct_fail(err, 400, "Invalid CIDR '%.64s'.", text);
	}
	unsigned char bytes[16];
	int family, bits;
	if (inet_pton(AF_INET, addr, bytes) == 1) {
		family = AF_INET;
		bits = 32;
	} else if (inet_pton(AF_INET6, addr, bytes) == 1) {
		family = AF_INET6;
		bits = 128;
	} else {
		return ct_fail(err, 400, "Invalid CIDR '%.64s'.", text);
	}
	if (len < 0)
		len = bits;
	if (len > bits)
		return ct_fail(err, 400, "Invalid CIDR '%.64s'.", text);
	for (int i = 0; i < bits / 8; i++) {
		int keep = (int)len - i * 8;
		if (keep <= 0)
			bytes[i] = 0;
		else if (keep < 8)
			bytes[i] &= (unsigned char)(0xff << (8 - keep));
	}
	char net[INET6_ADDRSTRLEN];
	inet_ntop(family, bytes, net, sizeof net);
	snprintf(out, NETFILTER_CIDR_MAX, "%s/%ld", net, len);
	return family == AF_INET ? 4 : 6;
}

/* Append to a growing script; false when out of memory. */
struct script {
	char *text;
	size_t len, cap;
	bool failed;
};

__attribute__((format(printf, 2, 3))) static void emit(struct script *s, const char *fmt, ...)
{
	if (s->failed)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(s->text ? s->text + s->len : NULL, s->text ? s->cap - s->len : 0,
				  fmt, ap);
		va_end(ap);
		if (n < 0) {
			s->failed = true;
			return;
		}
		if (s->text && (size_t)n < s->cap - s->len) {
			s->len += (size_t)n;
			return;
		}
		size_t ncap = (s->cap ? s->cap * 2 : 1024) + (size_t)n;
		char *grown = realloc(s->text, ncap);
		if (!grown) {
			s->failed = true;
			return;
		}
		s->text = grown;
		s->cap = ncap;
	}
}

static int run_script(struct script *s, const char *what, struct ct_error *err)
{
	if (s->failed) {
		free(s->text);
		return ct_fail(err, 500, "out of memory");
	}
	struct run_result res;
	const char *const argv[] = {"nft", "-f", "-", NULL};
	int rc = run_tool(argv, s->text, &res, err);
	if (!rc && res.status) {
		log_error("nft failed %s (exit %d): %s", what, res.status, res.errtext);
		log_debug("nft script was:\n%s", s->text);
		res.errtext[strcspn(res.errtext, "\n")] = '\0';
		rc = ct_fail(err, 500, "nft failed %s: %.300s", what, res.errtext);
	}
	free(s->text);
	return rc;
}

static void emit_chain(struct script *s, const char *table, const char *id)
{
	emit(s, "add table inet %s\n", table);
	emit(s,
	     "add chain inet %s inst-%s { type filter hook input priority 0; "
	     "policy accept; }\n",
	     table, id);
}

/* Priority -10: judged before inst-<id> (priority 0), so an accept there
 * cannot let a fenced instance's traffic through. */
static void emit_fence_chain(struct script *s, const char *table, const char *id)
{
	emit(s, "add table inet %s\n", table);
	emit(s,
	     "add chain inet %s fence-%s { type filter hook input priority -10; "
	     "policy accept; }\n",
	     table, id);
}

int netfilter_apply(const char *instance_id, const char *address, const int *ports, size_t nports,
		    const char *const *cidrs, size_t ncidrs, struct ct_error *err)
{
	const char *table;
	struct in_addr a;
	if (paths_check_id(instance_id, err) || table_name(&table, err))
		return -1;
	if (!address || inet_pton(AF_INET, address, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127)
		return ct_fail(err, 400, "Instance address '%.45s' is not a loopback address.",
			       address ? address : "");
	char addr[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, addr, sizeof addr);
	if (!nports)
		return ct_fail(err, 400, "No port to filter for instance %s.", instance_id);
	struct script s = {0};
	emit(&s, "{ ");
	for (size_t i = 0; i < nports; i++) {
		if (ports[i] < 1 || ports[i] > 65535) {
			free(s.text);
			return ct_fail(err, 400, "Invalid port %d.", ports[i]);
		}
		emit(&s, "%s%d", i ? ", " : "", ports[i]);
	}
	emit(&s, " }");
	char port_set[256];
	snprintf(port_set, sizeof port_set, "%s", s.text ? s.text : "");
	free(s.text);
	if (s.failed || strlen(port_set) + 1 >= sizeof port_set)
		return ct_fail(err, 400, "Too many ports for instance %s.", instance_id);

	s = (struct script){0};
	emit_chain(&s, table, instance_id);
	emit(&s, "flush chain inet %s inst-%s\n", table, instance_id);
	size_t v4 = 0;
	for (size_t i = 0; i < ncidrs; i++) {
		char cidr[NETFILTER_CIDR_MAX];
		int family = netfilter_parse_cidr(cidrs[i], cidr, err);
		if (family < 0) {
			free(s.text);
			return -1;
		}
		if (family != 4)
			continue; /* can never match traffic to an IPv4 address */
		v4++;
		emit(&s,
		     "add rule inet %s inst-%s ip daddr %s tcp dport %s ip saddr %s accept "
		     "comment \"%s\"\n",
		     table, instance_id, addr, port_set, cidr, instance_id);
	}
	if (ncidrs)
		emit(&s,
		     "add rule inet %s inst-%s ip daddr %s tcp dport %s reject with tcp reset "
		     "comment \"%s\"\n",
		     table, instance_id, addr, port_set, instance_id);
	pthread_mutex_lock(&nf_lock);
	int rc = ensure_usable(err);
	if (rc)
		free(s.text);
	else
		rc = run_script(&s, "to set the allowed CIDRs", err);
	pthread_mutex_unlock(&nf_lock);
	if (!rc)
		log_info("instance %s: %s tcp ports %s open to %s", instance_id, addr, port_set,
			 ncidrs ? (v4 ? "its allowed_cidrs only" : "no IPv4 source")
				: "every source");
	return rc;
}

/* With nf_lock held: delete the table when no chain is left in it. */
static void drop_table_if_empty(const char *table)
{
	struct run_result res;
	struct ct_error e;
	const char *const list[] = {"nft", "list", "table", "inet", table, NULL};
	if (run_tool(list, NULL, &res, &e) || res.status || strstr(res.out, "chain "))
		return;
	const char *const del[] = {"nft", "delete", "table", "inet", table, NULL};
	if (run_tool_ok(del, NULL, &res, &e))
		log_warning("cannot delete the empty table inet %s: %s", table, e.message);
}

int netfilter_remove(const char *instance_id, struct ct_error *err)
{
	const char *table;
	if (paths_check_id(instance_id, err) || table_name(&table, err))
		return -1;
	struct script s = {0};
	/* Adding first makes the delete succeed whether or not the chain exists. */
	emit_chain(&s, table, instance_id);
	emit(&s, "delete chain inet %s inst-%s\n", table, instance_id);
	emit_fence_chain(&s, table, instance_id);
	emit(&s, "delete chain inet %s fence-%s\n", table, instance_id);
	pthread_mutex_lock(&nf_lock);
	struct ct_error unusable;
	int rc = ensure_usable(&unusable);
	if (rc && nf_missing) {
		/* without nft no rule can have been made: nothing to remove */
		free(s.text);
		pthread_mutex_unlock(&nf_lock);
		return 0;
	}
	if (rc) {
		if (err)
			*err = unusable;
		free(s.text);
	} else {
		rc = run_script(&s, "to remove an instance's rules", err);
	}
	if (!rc)
		drop_table_if_empty(table);
	pthread_mutex_unlock(&nf_lock);
	if (!rc)
		log_info("instance %s: packet filter rules removed", instance_id);
	return rc;
}

static void emit_snat_chain(struct script *s, const char *table, const char *id)
{
	emit(s, "add table inet %s\n", table);
	emit(s,
	     "add chain inet %s snat-%s { type nat hook postrouting priority srcnat; "
	     "policy accept; }\n",
	     table, id);
}

int netfilter_snat_apply(const char *instance_id, const char *address, unsigned uid,
			 struct ct_error *err)
{
	const char *table;
	struct in_addr a;
	if (paths_check_id(instance_id, err) || table_name(&table, err))
		return -1;
	if (!address || inet_pton(AF_INET, address, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127)
		return ct_fail(err, 400, "Instance address '%.45s' is not a loopback address.",
			       address ? address : "");
	if (uid == 0)
		return ct_fail(err, 400, "Instance %s has no user of its own.", instance_id);
	char addr[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, addr, sizeof addr);
	struct script s = {0};
	emit_snat_chain(&s, table, instance_id);
	emit(&s, "flush chain inet %s snat-%s\n", table, instance_id);
	/* Only what would leave from 127.0.0.1: a socket its owner bound keeps its
	 * address. */
	emit(&s,
	     "add rule inet %s snat-%s meta skuid %u ip saddr 127.0.0.1 ip daddr 127.0.0.0/8 "
	     "meta l4proto tcp snat ip to %s comment \"%s\"\n",
	     table, instance_id, uid, addr, instance_id);
	pthread_mutex_lock(&nf_lock);
	int rc = ensure_usable(err);
	if (rc)
		free(s.text);
	else
		rc = run_script(&s, "to set the instance's source address", err);
	pthread_mutex_unlock(&nf_lock);
	if (!rc)
		log_info("instance %s: outgoing connections of uid %u leave from %s", instance_id,
			 uid, addr);
	return rc;
}

int netfilter_snat_remove(const char *instance_id, struct ct_error *err)
{
	const char *table;
	if (paths_check_id(instance_id, err) || table_name(&table, err))
		return -1;
	struct script s = {0};
	emit_snat_chain(&s, table, instance_id);
	emit(&s, "delete chain inet %s snat-%s\n", table, instance_id);
	pthread_mutex_lock(&nf_lock);
	struct ct_error unusable;
	int rc = ensure_usable(&unusable);
	if (rc) {
		free(s.text);
		pthread_mutex_unlock(&nf_lock);
		if (nf_missing)
			return 0;
		if (err)
			*err = unusable;
		return -1;
	}
	rc = run_script(&s, "to remove the instance's source address", err);
	if (!rc)
		drop_table_if_empty(table);
	pthread_mutex_unlock(&nf_lock);
	return rc;
}

int netfilter_remove_all(struct ct_error *err)
{
	const char *table;
	if (table_name(&table, err))
		return -1;
	struct script s = {0};
	emit(&s, "add table inet %s\ndelete table inet %s\n", table, table);
	pthread_mutex_lock(&nf_lock);
	int rc = ensure_usable(err);
	if (rc)
		free(s.text);
	else
		rc = run_script(&s, "to delete its table", err);
	pthread_mutex_unlock(&nf_lock);
	return rc;
}

int netfilter_fence(const char *instance_id, const char *address, struct ct_error *err)
{
	const char *table;
	struct in_addr a;
	if (paths_check_id(instance_id, err) || table_name(&table, err))
		return -1;
	if (!address || inet_pton(AF_INET, address, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127)
		return ct_fail(err, 400, "Instance address '%.45s' is not a loopback address.",
			       address ? address : "");
	char addr[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, addr, sizeof addr);
	struct script s = {0};
	emit_fence_chain(&s, table, instance_id);
	emit(&s, "flush chain inet %s fence-%s\n", table, instance_id);
	/* To it: clients and replicas; from it: a server that comes back and
	 * dials its old replicas (its outgoing TCP carries its own address).
	 * Resets pass first: the ones these rules send travel to and from the
	 * fenced address too, and are what makes a peer see "refused" at once
	 * rather than hang. */
	emit(&s,
	     "add rule inet %s fence-%s ip daddr %s tcp flags & rst == rst accept "
	     "comment \"fence %s\"\n",
	     table, instance_id, addr, instance_id);
	emit(&s,
	     "add rule inet %s fence-%s ip saddr %s tcp flags & rst == rst accept "
	     "comment \"fence %s\"\n",
	     table, instance_id, addr, instance_id);
	emit(&s,
	     "add rule inet %s fence-%s ip daddr %s meta l4proto tcp reject with tcp reset "
	     "comment \"fence %s\"\n",
	     table, instance_id, addr, instance_id);
	emit(&s,
	     "add rule inet %s fence-%s ip saddr %s meta l4proto tcp reject with tcp reset "
	     "comment \"fence %s\"\n",
	     table, instance_id, addr, instance_id);
	pthread_mutex_lock(&nf_lock);
	int rc = ensure_usable(err);
	if (rc)
		free(s.text);
	else
		rc = run_script(&s, "to fence an instance", err);
	pthread_mutex_unlock(&nf_lock);
	if (!rc)
		log_info("instance %s: fenced, all TCP to and from %s is reset", instance_id, addr);
	return rc;
}

int netfilter_unfence(const char *instance_id, struct ct_error *err)
{
	const char *table;
	if (paths_check_id(instance_id, err) || table_name(&table, err))
		return -1;
	struct script s = {0};
	emit_fence_chain(&s, table, instance_id);
	emit(&s, "delete chain inet %s fence-%s\n", table, instance_id);
	pthread_mutex_lock(&nf_lock);
	int rc = ensure_usable(err);
	if (rc)
		free(s.text);
	else
		rc = run_script(&s, "to unfence an instance", err);
	if (!rc)
		drop_table_if_empty(table);
	pthread_mutex_unlock(&nf_lock);
	if (!rc)
		log_info("instance %s: fence removed", instance_id);
	return rc;
}
