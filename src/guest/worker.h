/*
 * worker.h — the guest agent's database work in short-lived processes.
 *
 * The agent is a long-lived process whose job between operations is to
 * heartbeat. A session with the database server costs memory that never
 * comes back to a process: the client library and everything it links
 * (libpq: Kerberos, LDAP, GnuTLS — 3.5 MiB), and OpenSSL's provider machinery,
 * which the client libraries start for their password hashing (1.9 MiB that
 * libcrypto, linked for the RPC layer, keeps for good). So the agent runs each
 * datastore operation — prepare, start, stop, status with its SELECT 1, every
 * database, user and root call — in a worker: `ctrove-guestagent --worker`,
 * the agent's own executable started afresh (/proc/self/exe), which reads one
 * request on stdin, calls the real manager, writes the answer on stdout and
 * exits. Only get_filesystem_stats (a statvfs) and update_overrides (writing
 * the configuration group's file) stay in the agent. This is
 * what Trove's agent does too: it runs `mysql`/`psql` for its status probes.
 *
 * The request is {"op", "instance": {the struct guest_instance fields},
 * "args": {...}, "debug", "request_id"}; the answer {"result": ...} or
 * {"error": {"status", "message"}}. Both go through pipes, never a command
 * line, since they can carry passwords. The worker logs to the agent's log
 * (its stderr), with its own pid and the agent's request context. A worker
 * that dies without answering is a 500 in the agent, logged.
 *
 * Owns the workers it starts (waits for each); may not touch RPC, the
 * control plane or any datastore's files itself.
 */
#ifndef CT_GUEST_WORKER_H
#define CT_GUEST_WORKER_H

#include "guest/datastore.h"

/* The manager table the agent calls: each operation runs the instance's
 * real manager (datastore_manager_find(inst->manager)) in a worker. */
extern const struct datastore_manager guest_worker_manager;

/* create_backup(backup_info) in a worker (guest/backups.h: the store is
 * opened and the stream runs there): → {"checksum", "location", "size"}
 * (bytes), a new reference, or NULL with err. */
json_t *guest_worker_create_backup(const struct guest_instance *inst, const json_t *backup_info,
				   struct ct_error *err);
/* One archive shipping round in a worker (guest/archive.h): → {"last_seq",
 * "archived_until", "gap", "shipped"}, a new reference, or NULL with err. */
json_t *guest_worker_archive_ship(const struct guest_instance *inst, const json_t *archive_info,
				  struct ct_error *err);

/* main() of `ctrove-guestagent --worker`: one operation; 0 once the answer
 * is written (whatever it says), 1 when there is none. */
int guest_worker_main(void);

#endif
