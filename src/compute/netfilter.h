/*
 * netfilter.h — enforcing an instance's allowed_cidrs with nftables.
 *
 * ctrove owns one table, `inet <[local] nft_table>` (default "ctrove"). Each
 * instance has its own base chain `inst-<id>` hooked on input, holding: accept
 * TCP to <address>:<ports> from each allowed IPv4 CIDR, then reject (TCP reset)
 * TCP to <address>:<ports> from anywhere else. No CIDRs = no rules = open to
 * all (Trove: an empty allowed_cidrs means 0.0.0.0/0). Each change is one
 * atomic `nft -f -` transaction fed through a pipe; removing an instance
 * deletes only its chain, and the table goes when its last chain does.
 *
 * Remember: a local client that does not bind connects from 127.0.0.1 whatever
 * 127.x.y.z it dials, so "127.0.0.1/32" is what admits unbound local clients.
 * IPv6 CIDRs are accepted and ignored (the instance address is IPv4, so they
 * can never match). Owns that table; may not read or change any other table,
 * nor filter an address outside 127.0.0.0/8.
 */
#ifndef CT_COMPUTE_NETFILTER_H
#define CT_COMPUTE_NETFILTER_H

#include <stddef.h>

#include "common/error.h"

#define NETFILTER_CIDR_MAX 64

/* Check that nft works (once; again when called again). 501 when it does not,
 * with nft's own reason; the decision is logged. */
int netfilter_init(struct ct_error *err);

/* Allow TCP to address (127.0.0.0/8) on ports only from the given CIDRs
 * (ncidrs 0 = from anywhere), replacing the instance's earlier rules in one
 * transaction. 400 for a bad CIDR, address or port; 501 when nft is unusable. */
int netfilter_apply(const char *instance_id, const char *address, const int *ports, size_t nports,
		    const char *const *cidrs, size_t ncidrs, struct ct_error *err);

/* Remove the instance's chain; 0 also when it had none, and when nft is not
 * installed at all (then no rule can exist). 501 when nft is there but fails. */
int netfilter_remove(const char *instance_id, struct ct_error *err);

/* Fencing (automatic failover): a chain `fence-<id>` of its own, hooked on
 * input before the instance's allowed_cidrs chain (which set_access flushes
 * and rebuilds), that resets all TCP to and from address, whatever the port
 * and the allowed CIDRs. Idempotent. 400 for a bad address, 501 when nft is
 * unusable (then the instance cannot be fenced and must not be failed over). */
int netfilter_fence(const char *instance_id, const char *address, struct ct_error *err);
/* Remove the fence chain; 0 also when there was none. */
int netfilter_unfence(const char *instance_id, struct ct_error *err);
/* ctrove: the instance's own outgoing TCP to 127.0.0.0/8 leaves from its own
 * address, not 127.0.0.1: a chain `snat-<id>` (nat, postrouting) rewrites the
 * source of packets of sockets owned by uid that would leave from 127.0.0.1.
 * So a replica reaches its source from an address the source's allowed_cidrs
 * and pg_hba can name (docs/replication.md). Replaces the earlier rule. */
int netfilter_snat_apply(const char *instance_id, const char *address, unsigned uid,
			 struct ct_error *err);
/* Remove that chain; 0 also when it had none or nft is not installed. */
int netfilter_snat_remove(const char *instance_id, struct ct_error *err);

/* Delete the whole ctrove table (tests, decommissioning); 0 when absent. */
int netfilter_remove_all(struct ct_error *err);

/* Parse "a.b.c.d[/n]" or an IPv6 "x::[/n]" into its canonical network form
 * ("10.0.0.0/24"); returns the family (4 or 6) or -1 (400). */
int netfilter_parse_cidr(const char *text, char out[NETFILTER_CIDR_MAX], struct ct_error *err);

#endif
