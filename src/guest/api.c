/*
 * api.c — see api.h.
 */
#define LOG_MODULE "guest"
#include "guest/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "rpc/crypto.h"
#include "rpc/thread_client.h"

char *guest_instance_key(const char *encrypted_key, struct ct_error *err)
{
	if (!encrypted_key || !*encrypted_key)
		return NULL;
	size_t len = 0;
	return rpc_crypto_decrypt(cfg_str(CFG_INST_RPC_KEY_ENCR_KEY), encrypted_key, &len, err);
}

int guest_new_key(char key[33], char *encrypted, size_t size, struct ct_error *err)
{
	ids_hex32(key);
	char *enc = rpc_crypto_encrypt(cfg_str(CFG_INST_RPC_KEY_ENCR_KEY), key, strlen(key), err);
	if (!enc)
		return -1;
	if ((size_t)snprintf(encrypted, size, "%s", enc) >= size) {
		free(enc);
		return ct_fail(err, 500, "encrypted key too long");
	}
	free(enc);
	return 0;
}

static int target_for(const char *instance_id, const char *encrypted_key, char *topic, size_t size,
		      char **key, struct rpc_target *t, struct ct_error *err)
{
	snprintf(topic, size, "guestagent.%s", instance_id);
	*key = NULL;
	if (encrypted_key && *encrypted_key) {
		*key = guest_instance_key(encrypted_key, err);
		if (!*key)
			return -1;
	}
	*t = (struct rpc_target){.topic = topic, .version = "1.0", .key = *key};
	return 0;
}

json_t *guest_call(const char *instance_id, const char *encrypted_key, const char *method,
		   const json_t *args, int timeout_s, struct ct_error *err)
{
	struct rpc_client *client = rpc_thread_client(err);
	char topic[128], *key;
	struct rpc_target target;
	if (!client ||
	    target_for(instance_id, encrypted_key, topic, sizeof topic, &key, &target, err))
		return NULL;
	json_t *empty = args ? NULL : json_object();
	json_t *result =
		rpc_call(client, &target, method, args ? args : empty, NULL, timeout_s, NULL, err);
	json_decref(empty);
	free(key);
	if (!result)
		log_warning("guest %s: %s failed: %s", instance_id, method, err->message);
	return result;
}

int guest_cast(const char *instance_id, const char *encrypted_key, const char *method,
	       const json_t *args, struct ct_error *err)
{
	struct rpc_client *client = rpc_thread_client(err);
	char topic[128], *key;
	struct rpc_target target;
	if (!client ||
	    target_for(instance_id, encrypted_key, topic, sizeof topic, &key, &target, err))
		return -1;
	json_t *empty = args ? NULL : json_object();
	int rc = rpc_cast(client, &target, method, args ? args : empty, NULL, err);
	json_decref(empty);
	free(key);
	return rc;
}

int guest_declare_queue(const char *instance_id, struct ct_error *err)
{
	struct rpc_client *client = rpc_thread_client(err);
	if (!client)
		return -1;
	char topic[128];
	snprintf(topic, sizeof topic, "guestagent.%s", instance_id);
	return rpc_client_declare_topic(client, topic, instance_id, err);
}
