/*
 * agent.h — the guest agent process: the RPC server on topic
 * guestagent.<guest_id> (server <guest_id>, version cap 1.1, payloads
 * encrypted with instance_rpc_encr_key), its dispatch table onto the
 * datastore manager (each operation run in a worker process, worker.h), and
 * the heartbeat thread that casts the service status to the conductor every
 * report_interval seconds — and at once after prepare, restart and stop, so
 * the control plane sees a change without waiting for the next period; and,
 * once start_archiving came (kept on disk, resumed at start), the archive
 * thread that runs a shipping round every interval (guest/archive.h) and casts
 * update_archive. Owns the agent's RPC server and client and the heartbeat
 * and archive threads; may not touch
 * the control-plane database (guests talk only to the conductor).
 */
#ifndef CT_GUEST_AGENT_H
#define CT_GUEST_AGENT_H

#include "common/error.h"
#include "guest/datastore.h"

struct guest_agent;

/* Build the agent from the loaded config (guest_id, datastore_manager, ...). */
struct guest_agent *guest_agent_new(struct ct_error *err);
/* Start the RPC server and the heartbeat thread. */
int guest_agent_start(struct guest_agent *a, struct ct_error *err);
/* Stop both and free everything. */
void guest_agent_free(struct guest_agent *a);

#endif
