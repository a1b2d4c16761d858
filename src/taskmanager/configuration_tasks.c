/*
 * configuration_tasks.c — see configuration_tasks.h. The values come from
 * the rows when the task runs, not from the cast, so when changes overlap
 * the last task to run writes the newest group; tasks of one instance take
 * turns (a lock per instance id, striped) so their files and SET GLOBALs
 * never interleave. May not know which datastore it drives: the guest
 * renders and applies.
 */
#define LOG_MODULE "taskmanager"
#include "taskmanager/configuration_tasks.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "db/configurations.h"
#include "db/instances.h"
#include "db/parameters.h"
#include "guest/api.h"
#include "taskmanager/task_threads.h"

enum { TASK_RESTART_REQUIRED = 7, STRIPES = 64 };

static pthread_mutex_t stripes[STRIPES] = {[0 ... STRIPES - 1] = PTHREAD_MUTEX_INITIALIZER};

static pthread_mutex_t *stripe_of(const char *id)
{
	unsigned h = 5381;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = h * 33 + *p;
	return &stripes[h % STRIPES];
}

static const struct ds_parameter *rule_of(const struct ds_parameter *rules, size_t n,
					  const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rules[i].name, name))
			return &rules[i];
	return NULL;
}

/* What to set live, and whether a restart is needed, for the changed names. */
static json_t *live_values(const json_t *changed, const json_t *overrides,
			   const struct ds_parameter *rules, size_t n, bool *restart)
{
	json_t *live = json_object();
	size_t i;
	json_t *name;
	json_array_foreach (changed, i, name) {
		const char *key = json_string_value(name);
		if (!key)
			continue;
		const struct ds_parameter *rule = rule_of(rules, n, key);
		/* A name without a rule cannot be judged: a restart applies it. */
		if (!rule || rule->restart_required) {
			*restart = true;
			continue;
		}
		json_t *v = json_object_get(overrides, key);
		json_object_set_new(live, key, v ? json_incref(v) : json_null());
	}
	return live;
}

static int apply(const struct instance *in, const json_t *changed, bool *restart,
		 struct ct_error *err)
{
	char config_id[37];
	if (instance_configuration_id(in->id, config_id, err))
		return -1;
	json_t *overrides = config_id[0]
				    ? config_group_typed(config_id, in->datastore_version_id, err)
				    : json_object();
	if (!overrides)
		return -1;
	struct ds_parameter *rules = NULL;
	size_t n = 0;
	if (param_list(in->datastore_version_id, &rules, &n, err)) {
		json_decref(overrides);
		return -1;
	}
	json_t *live = live_values(changed, overrides, rules, n, restart);
	free(rules);
	const struct guest_ref guest = {in->id, in->encrypted_key};
	int rc = guest_update_overrides(&guest, overrides, json_object_size(overrides) == 0, err);
	if (!rc && json_object_size(live) > 0)
		rc = guest_apply_overrides(&guest, live, err);
	json_decref(live);
	json_decref(overrides);
	return rc;
}

static void run_apply(const char *id, const json_t *args)
{
	struct ct_error err = {0}, ignored;
	pthread_mutex_t *lock = stripe_of(id);
	pthread_mutex_lock(lock);
	struct instance in;
	if (instance_load(id, NULL, &in, &err)) {
		pthread_mutex_unlock(lock);
		log_warning("configuration of an unknown instance ignored: %s", err.message);
		return;
	}
	bool restart = false;
	int rc = apply(&in, json_object_get(args, "changed"), &restart, &err);
	/* Reload: the task may have changed while the guest worked. */
	struct instance now;
	int task = instance_load(id, NULL, &now, &ignored) ? in.task_id : now.task_id;
	if (rc) {
		log_error("configuration not applied: %s", err.message);
		instance_add_fault(id, err.message, "", &ignored);
		if (task == TASK_UPDATING)
			instance_set_task(id, TASK_NONE, &ignored);
	} else if (restart) {
		if (task == TASK_NONE || task == TASK_UPDATING)
			instance_set_task(id, TASK_RESTART_REQUIRED, &ignored);
		log_info("configuration written; a restart applies the rest");
	} else {
		if (task == TASK_UPDATING)
			instance_set_task(id, TASK_NONE, &ignored);
		log_info("configuration applied");
	}
	pthread_mutex_unlock(lock);
}

int tasks_apply_configuration(const json_t *args, struct ct_error *err)
{
	const char *id = json_string_value(json_object_get(args, "instance_id"));
	if (!id)
		return ct_fail(err, 400, "instance_id must be a string");
	return task_threads_submit(run_apply, id, args, err);
}
