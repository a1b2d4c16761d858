/*
 * instance_failover.c — see instance_failover.h.
 */
#define LOG_MODULE "api"
#include "api/instance_failover.h"

#include "api/validate.h"
#include "common/log.h"
#include "taskmanager/api.h"

int instance_failover_parse(const json_t *value, const struct failover_settings *current,
			    struct failover_settings *out, struct ct_error *err)
{
	static const char *const keys[] = {"automatic", "synchronous", NULL};
	*out = current ? *current : (struct failover_settings){0};
	if (validate_object(value, "instance['failover']", err) ||
	    validate_only(value, "instance['failover']", keys, err))
		return -1;
	if (json_object_size(value) == 0)
		return ct_fail(err, 400,
			       "Validation error: instance['failover'] needs 'automatic' or "
			       "'synchronous'.");
	const json_t *automatic = json_object_get(value, "automatic");
	const json_t *synchronous = json_object_get(value, "synchronous");
	if ((automatic && validate_boolean(automatic, "instance['failover']['automatic']", err)) ||
	    (synchronous &&
	     validate_boolean(synchronous, "instance['failover']['synchronous']", err)))
		return -1;
	if (automatic)
		out->automatic = json_is_true(automatic);
	if (synchronous)
		out->synchronous = json_is_true(synchronous);
	return 0;
}

int instance_failover_create(const char *instance_id, const json_t *value, struct ct_error *err)
{
	struct failover_settings s;
	if (instance_failover_parse(value, NULL, &s, err))
		return -1;
	return failover_settings_set(instance_id, &s, err);
}

int instance_failover_change(const struct instance *in, const json_t *value, struct ct_error *err)
{
	struct failover_settings current, next;
	int replica = failover_is_replica(in->id, err);
	if (replica < 0 || failover_settings_get(in->id, &current, err) < 0 ||
	    instance_failover_parse(value, &current, &next, err))
		return -1;
	if (replica)
		return ct_fail(err, 400,
			       "Instance %s is a replica: failover is set on its replication "
			       "source.",
			       in->id);
	if (failover_settings_set(in->id, &next, err))
		return -1;
	log_info("failover settings: automatic %s, synchronous %s", next.automatic ? "on" : "off",
		 next.synchronous ? "on" : "off");
	json_t *args = json_pack("{s:s}", "instance_id", in->id);
	int rc = taskmanager_cast("apply_failover_settings", args, err);
	json_decref(args);
	return rc;
}

void instance_failover_write(struct json_writer *w, const char *instance_id)
{
	struct ct_error ignored = {0};
	struct failover_settings s;
	if (failover_settings_get(instance_id, &s, &ignored) != 1)
		return;
	json_writer_key(w, "failover");
	json_writer_object_begin(w);
	json_writer_key(w, "automatic");
	json_writer_bool(w, s.automatic);
	json_writer_key(w, "synchronous");
	json_writer_bool(w, s.synchronous);
	json_writer_object_end(w);
}
