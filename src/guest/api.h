/*
 * api.h — the calling side of the guest agent's RPC API (Trove's
 * trove/guestagent/api.py), used by the API server and the taskmanager: topic
 * guestagent.<instance id>, payloads encrypted with the instance's own key
 * (instances.encrypted_key, decrypted with inst_rpc_key_encr_key).
 */
#ifndef CT_GUEST_API_H
#define CT_GUEST_API_H

#include <jansson.h>

#include "common/error.h"

/* Timeouts of Trove's guest API (agent_call_low/high_timeout). */
#define GUEST_TIMEOUT_LOW  15
#define GUEST_TIMEOUT_HIGH 180

/* encrypted_key: the instance's column ("" = plain text). args borrowed.
 * Returns the result (new reference) or NULL: 504 when the guest did not
 * answer in time, 503 bus down, else the guest's own error status. */
json_t *guest_call(const char *instance_id, const char *encrypted_key, const char *method,
		   const json_t *args, int timeout_s, struct ct_error *err);
int guest_cast(const char *instance_id, const char *encrypted_key, const char *method,
	       const json_t *args, struct ct_error *err);
/* Declare the guest's queues so a cast sent before the agent starts waits. */
int guest_declare_queue(const char *instance_id, struct ct_error *err);

/* The instance's plain key from its encrypted form; malloc'd, NULL if none. */
char *guest_instance_key(const char *encrypted_key, struct ct_error *err);
/* A new key and its encrypted form (base64) for a new instance. */
int guest_new_key(char key[33], char *encrypted, size_t size, struct ct_error *err);

#endif
