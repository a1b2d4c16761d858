/*
 * broker_accounts.h — each guest's own account on the message bus: a RabbitMQ
 * user with a random password, allowed only its own queues, binding on the
 * control exchange only with its own routing keys and publishing there only to
 * the conductor's topic (vhost permissions plus topic permissions). Made by the
 * taskmanager before the guest's agent starts, removed when the instance is
 * deleted; the password is never kept: it goes only into the transport URL the
 * caller writes into the guest's config.
 *
 * How accounts are made is a table of operations (struct broker_accounts_backend):
 * the RabbitMQ management HTTP API (broker_management.c) today; a deployment
 * without it can plug another way in. Owns the naming and permission rules and
 * the guest URL; may not touch the database, the compute driver or the AMQP
 * connections, and never logs a password.
 */
#ifndef CT_RPC_BROKER_ACCOUNTS_H
#define CT_RPC_BROKER_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* One guest's account and what it may do (RabbitMQ regular expressions). */
struct broker_grant {
	char user[96];
	char configure[256];	  /* queues and exchanges it may declare or delete */
	char write[512];	  /* ... publish to or bind queues to */
	char read[512];		  /* ... consume from or bind from */
	char topic_exchange[256]; /* the control exchange */
	char topic_write[256];	  /* routing keys it may publish with there */
	char topic_read[256];	  /* routing keys it may bind with there */
};

struct broker_accounts_backend {
	const char *name;
	/* Create or update the user with this password and grant; idempotent. */
	int (*create)(const char *vhost, const struct broker_grant *g, const char *password,
		      struct ct_error *err);
	/* Remove the user (and so its permissions); a user already gone is 0. */
	int (*remove)(const char *vhost, const char *user, struct ct_error *err);
};

extern const struct broker_accounts_backend broker_accounts_management;

/* Pure: the account of instance_id on a bus whose control exchange and
 * conductor topic are given. 400 for an id that is not [A-Za-z0-9_-]{1,64}. */
int broker_grant_for(const char *instance_id, const char *control_exchange,
		     const char *conductor_topic, struct broker_grant *g, struct ct_error *err);

/* Pure: url (a transport_url) with every host's login replaced by user/password,
 * written to out[size]. 400 for a malformed url (never echoing it). */
int broker_url_with_login(const char *url, const char *user, const char *password, char *out,
			  size_t size, struct ct_error *err);

/* The transport URL for instance_id's guest, into out[size] (wipe it after use).
 * Accounts on: a new password, and the account made (again) with it; a broker
 * that refuses fails with 500 and never falls back. Accounts off: [DEFAULT]
 * guest_transport_url, or 500 when it is unset. */
int broker_guest_account_create(const char *instance_id, char *out, size_t size,
				struct ct_error *err);
/* Remove instance_id's account; 0 when accounts are off or it is gone already. */
int broker_guest_account_remove(const char *instance_id, struct ct_error *err);

#endif
