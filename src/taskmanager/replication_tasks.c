/*
 * replication_tasks.c — see replication_tasks.h. The order of the guest calls
 * is Trove's (trove-guest.md §5.1); what differs is written down in
 * docs/replication.md. Rows change only after the guests did (so a failure
 * leaves the rows telling what runs), through db/replication.h; the guests
 * only through guest/api.h; the machines only through the compute driver.
 */
#define LOG_MODULE "taskmanager"
#include "taskmanager/replication_tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "compute/driver.h"
#include "db/addresses.h"
#include "db/backups.h"
#include "db/datastores.h"
#include "db/instances.h"
#include "db/replication.h"
#include "guest/api.h"
#include "guest/datastore_hooks.h"
#include "storage/store.h"
#include "taskmanager/backup_tasks.h"
#include "taskmanager/failover.h"
#include "taskmanager/task_threads.h"
#include "taskmanager/tasks.h"

/* How long a replica may take to catch up with its source's last
 * transaction during a promote. */
#define PROMOTE_CATCH_UP_S 60
/* How long the conductor may take to record the snapshot backup's end. */
#define SNAPSHOT_RECORD_S 30

static void record_failure(const char *id, int task, const char *message)
{
	struct ct_error ignored;
	log_error("replication failed: %s", message);
	if (instance_add_fault(id, message, "", &ignored) || instance_set_task(id, task, &ignored))
		log_error("cannot record the failure on %s: %s", id, ignored.message);
}

static void set_task_quietly(const char *id, int task)
{
	struct ct_error ignored;
	if (instance_set_task(id, task, &ignored))
		log_error("cannot set the task of %s: %s", id, ignored.message);
}

static struct guest_ref ref_of(const struct instance *in)
{
	return (struct guest_ref){in->id, in->encrypted_key};
}

/* [address] of one instance, or NULL when the driver keeps none here. */
static json_t *addresses_of_one(const char *id)
{
	char address[ADDRESS_TEXT_MAX];
	struct ct_error ignored;
	if (addresses_find(id, address, &ignored) != 1)
		return NULL;
	return json_pack("[s]", address);
}

int replication_apply_access(const char *id, const json_t *allowed_cidrs, struct ct_error *err)
{
	struct instance in;
	if (instance_load(id, NULL, &in, err))
		return -1;
	const struct compute_driver *driver = compute_driver_current(err);
	if (!driver)
		return -1;
	if (json_array_size(allowed_cidrs) == 0)
		return driver->set_access(id, in.manager, allowed_cidrs, err);
	json_t *cidrs = json_deep_copy(allowed_cidrs);
	char(*replicas)[37] = NULL;
	size_t n = 0;
	if (!cidrs || replication_replicas_of(id, &replicas, &n, err)) {
		json_decref(cidrs);
		return err->status ? -1 : ct_fail(err, 500, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		char address[ADDRESS_TEXT_MAX], cidr[ADDRESS_TEXT_MAX + 3];
		struct ct_error ignored;
		if (addresses_find(replicas[i], address, &ignored) != 1)
			continue;
		snprintf(cidr, sizeof cidr, "%s/32", address);
		json_array_append_new(cidrs, json_string(cidr));
	}
	free(replicas);
	int rc = driver->set_access(id, in.manager, cidrs, err);
	json_decref(cidrs);
	return rc;
}

/* The source's rules again, now admitting its replicas as well. */
static int admit_replicas(const char *source_id, struct ct_error *err)
{
	struct instance in;
	if (instance_load(source_id, NULL, &in, err))
		return -1;
	json_t *access = json_loads(in.access, 0, NULL);
	int rc = replication_apply_access(source_id, json_object_get(access, "allowed_cidrs"), err);
	json_decref(access);
	return rc;
}

/* --- create replicas -------------------------------------------------------------- */

static int store_access_now(struct store_access *out, struct ct_error *err)
{
	struct backup_store *store = backup_store_new(err);
	if (!store)
		return -1;
	int rc = backup_store_access(store, out, err);
	backup_store_free(store);
	return rc;
}

/* The snapshot backup's row (Trove's "snapshot record"): a full backup of
 * the source, named after it, deleted when the replicas are built. */
static int snapshot_row(const struct instance *src, struct backup_row *b, struct ct_error *err)
{
	struct ds_version v;
	if (dsv_by_id(src->datastore_version_id, 500, &v, err))
		return -1;
	memset(b, 0, sizeof *b);
	ids_uuid(b->id);
	snprintf(b->name, sizeof b->name, "Replication snapshot for %s", src->id);
	snprintf(b->backup_type, sizeof b->backup_type, "full");
	snprintf(b->tenant_id, sizeof b->tenant_id, "%s", src->tenant_id);
	snprintf(b->instance_id, sizeof b->instance_id, "%s", src->id);
	snprintf(b->datastore_version_id, sizeof b->datastore_version_id, "%s", v.id);
	snprintf(b->datastore_name, sizeof b->datastore_name, "%s", v.datastore_name);
	if (guest_new_backup_key(b->encrypted_key, sizeof b->encrypted_key, err) ||
	    backup_insert(b, -1, err))
		return -1;
	return 0;
}

/* snapshot_info: create_backup's backup_info for the snapshot row, plus
 * ctrove's replica_ids and replica_addresses. A new reference (it holds the
 * backup's data key: never logged). */
static json_t *snapshot_info(const struct instance *src, const struct backup_row *b,
			     const json_t *ids, const json_t *addresses, struct ct_error *err)
{
	const struct datastore_hooks *hooks = datastore_hooks_find(src->manager, err);
	if (!hooks)
		return NULL;
	const char *container = cfg_str(CFG_BACKUP_SWIFT_CONTAINER);
	char location[STORE_NAME_MAX + 1];
	snprintf(location, sizeof location, "%s/%s%s", container, b->id,
		 hooks->backup_suffix_full ? hooks->backup_suffix_full : "");
	if (store_check_name(location, err) || backup_set_location(b->id, location, err))
		return NULL;
	struct store_access access;
	if (store_access_now(&access, err))
		return NULL;
	char *key = guest_backup_key_open(b->encrypted_key, err);
	json_t *info = NULL;
	if (key) {
		const struct guest_backup_request r = {
			.id = b->id,
			.name = b->name,
			.instance_id = src->id,
			.backup_type = "full",
			.datastore = b->datastore_name,
			.datastore_version = src->datastore_version,
			.swift_container = container,
			.location = location,
			.encryption_key = key,
			.store = &access,
		};
		info = guest_backup_request_to_json(&r);
		if (info) {
			json_object_set(info, "replica_ids", (json_t *)ids);
			json_object_set(info, "replica_addresses", (json_t *)addresses);
		} else {
			ct_fail(err, 500, "out of memory");
		}
		explicit_bzero(key, strlen(key));
		free(key);
	}
	explicit_bzero(&access, sizeof access);
	return info;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* The guest answered after its last update_backup; the conductor may not
 * have written it yet. */
static int wait_snapshot_recorded(const char *backup_id, struct ct_error *err)
{
	for (int i = 0; i < SNAPSHOT_RECORD_S * 10; i++) {
		struct backup_row b;
		if (backup_load(backup_id, NULL, &b, err))
			return -1;
		if (!strcmp(b.state, "COMPLETED"))
			return 0;
		if (!strcmp(b.state, "FAILED"))
			return ct_fail(err, 500, "the replication snapshot %s failed", backup_id);
		sleep_ms(100);
	}
	return ct_fail(err, 504, "the replication snapshot %s was not recorded in time", backup_id);
}

/* get_replication_snapshot on the source. backup_id: the snapshot backup the
 * replicas restore, "" when the datastore seeds without one (PostgreSQL). */
static int take_snapshot(const struct instance *src, const json_t *ids, const json_t *addresses,
			 json_t **snapshot, char backup_id[37], struct ct_error *err)
{
	backup_id[0] = '\0';
	struct backup_row b;
	if (snapshot_row(src, &b, err))
		return -1;
	json_t *info = snapshot_info(src, &b, ids, addresses, err);
	const struct guest_ref g = ref_of(src);
	int rc = info ? guest_get_replication_snapshot(&g, info, snapshot, err) : -1;
	json_decref(info);
	const json_t *used =
		rc ? NULL : json_object_get(json_object_get(*snapshot, "dataset"), "snapshot_id");
	if (!rc && json_is_string(used)) {
		snprintf(backup_id, 37, "%s", json_string_value(used));
		rc = wait_snapshot_recorded(backup_id, err);
		if (!rc)
			return 0;
	}
	/* Unused or failed: the row (and whatever object it left) goes. */
	struct ct_error ignored;
	if (tasks_delete_backup(b.id, &ignored))
		backup_mark_deleted(b.id, &ignored);
	if (rc) {
		json_decref(*snapshot);
		*snapshot = NULL;
		backup_id[0] = '\0';
	}
	return rc;
}

/* The create_instance arguments of replica i (a new reference). */
static json_t *replica_args(const json_t *a, size_t i, const char *backup_id)
{
	json_t *args = json_deep_copy(a);
	if (!args)
		return NULL;
	const json_t *ids = json_object_get(a, "instance_id"), *names = json_object_get(a, "name");
	json_object_set(args, "instance_id",
			json_is_array(ids) ? json_array_get(ids, i) : (json_t *)ids);
	json_object_set(args, "name",
			json_is_array(names) ? json_array_get(names, i) : (json_t *)names);
	json_object_del(args, "slave_of_id");
	if (backup_id && *backup_id)
		json_object_set_new(args, "backup_id", json_string(backup_id));
	return args;
}

static void run_create_replicas(const char *source_id, const json_t *a)
{
	struct ct_error err = {0};
	char request_id[128];
	snprintf(request_id, sizeof request_id, "%s", log_request_id() ? log_request_id() : "");
	const json_t *ids_arg = json_object_get(a, "instance_id");
	json_t *ids =
		json_is_array(ids_arg) ? json_incref((json_t *)ids_arg) : json_pack("[O]", ids_arg);
	size_t n = json_array_size(ids);
	struct tasks_build *builds = calloc(n ? n : 1, sizeof *builds);
	bool *built = calloc(n ? n : 1, sizeof *built);
	json_t *addresses = json_array();
	if (!ids || !builds || !built || !addresses) {
		log_error("out of memory creating replicas");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *args = replica_args(a, i, NULL);
		log_set_context(request_id, json_string_value(json_array_get(ids, i)));
		built[i] = args && !tasks_build_machine(json_string_value(json_array_get(ids, i)),
							args, &builds[i]);
		json_decref(args);
		if (built[i])
			json_array_append_new(addresses, json_string(builds[i].server.address));
	}
	log_set_context(request_id, source_id);
	struct instance src;
	json_t *snapshot = NULL;
	char backup_id[37] = "";
	int rc = instance_load(source_id, NULL, &src, &err);
	if (!rc && json_array_size(addresses) == 0)
		rc = ct_fail(&err, 500, "no replica machine could be built");
	if (!rc) {
		/* Rows first: the rules the source gets now admit them. */
		for (size_t i = 0; i < n && !rc; i++)
			if (built[i])
				rc = replication_set_source(builds[i].in.id, source_id, &err);
		rc = rc || admit_replicas(source_id, &err) ||
		     take_snapshot(&src, ids, addresses, &snapshot, backup_id, &err);
	}
	for (size_t i = 0; i < n; i++) {
		if (!built[i])
			continue;
		const char *id = builds[i].in.id;
		log_set_context(request_id, id);
		if (rc) {
			char message[1100];
			snprintf(message, sizeof message, "Replica source %s gave no snapshot: %s",
				 source_id, err.message);
			record_failure(id, TASK_BUILDING_ERROR_REPLICA, message);
			continue;
		}
		json_t *args = replica_args(a, i, backup_id);
		if (args)
			tasks_build_finish(&builds[i], args, snapshot);
		else
			record_failure(id, TASK_BUILDING_ERROR_REPLICA, "out of memory");
		json_decref(args);
	}
	log_set_context(request_id, source_id);
	if (!rc)
		failover_after_topology_change(source_id, source_id);
	if (backup_id[0] && tasks_delete_backup(backup_id, &err))
		log_warning("the replication snapshot %s stays: %s", backup_id, err.message);
	json_decref(snapshot);
done:
	json_decref(ids);
	json_decref(addresses);
	free(builds);
	free(built);
}

int tasks_create_replicas(const json_t *args, struct ct_error *err)
{
	const char *source = json_string_value(json_object_get(args, "slave_of_id"));
	if (!source)
		return ct_fail(err, 400, "slave_of_id must be a string");
	return task_threads_submit(run_create_replicas, source, args, err);
}

/* --- moving replicas -------------------------------------------------------------- */

/* replica follows new_source: attach with a fresh replication user admitted
 * from the replica's address. */
static int repoint(const struct instance *new_source, const struct instance *replica, bool restart,
		   struct ct_error *err)
{
	const struct guest_ref src = ref_of(new_source), r = ref_of(replica);
	json_t *addresses = addresses_of_one(replica->id), *context = NULL;
	/* No detach first: attach_replica re-points a running replica itself,
	 * and a PostgreSQL detach promotes the standby, which then no longer
	 * follows anyone (failover: its writes would be lost). */
	int rc = guest_get_replica_context(&src, addresses, &context, err) ||
		 guest_attach_replica(&r, context, restart, err);
	json_decref(addresses);
	json_decref(context);
	return rc ? -1 : 0;
}

/* The replica becomes a writable source. */
static int make_source(const struct instance *r, struct ct_error *err)
{
	const struct guest_ref g = ref_of(r);
	return guest_detach_replica(&g, true, err) || guest_enable_as_master(&g, err) ||
			       guest_make_read_only(&g, false, err)
		       ? -1
		       : 0;
}

struct topology {
	struct instance source;
	struct instance *replicas;
	size_t n;
};

static void topology_free(struct topology *t)
{
	free(t->replicas);
	t->replicas = NULL;
	t->n = 0;
}

static int topology_load(const char *source_id, struct topology *t, struct ct_error *err)
{
	memset(t, 0, sizeof *t);
	char(*ids)[37] = NULL;
	size_t n = 0;
	if (instance_load(source_id, NULL, &t->source, err) ||
	    replication_replicas_of(source_id, &ids, &n, err))
		return -1;
	t->replicas = calloc(n ? n : 1, sizeof *t->replicas);
	if (!t->replicas) {
		free(ids);
		return ct_fail(err, 500, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		if (instance_load(ids[i], NULL, &t->replicas[t->n], err)) {
			free(ids);
			topology_free(t);
			return -1;
		}
		t->n++;
	}
	free(ids);
	return 0;
}

static void topology_set_task(const struct topology *t, int task)
{
	set_task_quietly(t->source.id, task);
	for (size_t i = 0; i < t->n; i++)
		set_task_quietly(t->replicas[i].id, task);
}

/* --- promote ------------------------------------------------------------------------ */

static int promote(const struct topology *t, const struct instance *r, struct ct_error *err)
{
	const struct guest_ref old = ref_of(&t->source), g = ref_of(r);
	char txn[1024];
	if (guest_make_read_only(&old, true, err))
		return -1;
	if (guest_get_latest_txn_id(&old, txn, sizeof txn, err) ||
	    guest_wait_for_txn(&g, txn, PROMOTE_CATCH_UP_S, err) || make_source(r, err)) {
		/* Nothing moved yet: the old source takes writes again. */
		struct ct_error ignored;
		guest_make_read_only(&old, false, &ignored);
		return -1;
	}
	log_info("replica %s is the source now; moving the others", r->id);
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->replicas[i].id, r->id) && repoint(r, &t->replicas[i], true, err))
			return -1;
	json_t *addresses = addresses_of_one(t->source.id), *context = NULL;
	int rc = guest_get_replica_context(&g, addresses, &context, err) ||
		 guest_attach_replica(&old, context, false, err) ||
		 guest_demote_replication_master(&old, err);
	json_decref(addresses);
	json_decref(context);
	return rc ? -1 : 0;
}

static void run_promote(const char *replica_id, const json_t *args)
{
	(void)args;
	struct ct_error err = {0};
	char source_id[37];
	struct topology t = {0};
	struct instance r;
	if (instance_load(replica_id, NULL, &r, &err) ||
	    replication_source_of(replica_id, source_id, &err) != 1 ||
	    topology_load(source_id, &t, &err)) {
		record_failure(replica_id, TASK_PROMOTION_ERROR,
			       err.status ? err.message : "The instance is not a replica.");
		topology_free(&t);
		return;
	}
	int rc = promote(&t, &r, &err) || replication_move_replicas(source_id, replica_id, 1, &err);
	/* The new source admits its replicas, among them the old source. */
	struct ct_error access_err;
	if (!rc && admit_replicas(replica_id, &access_err))
		log_error("the new source's rules do not admit its replicas: %s",
			  access_err.message);
	topology_set_task(&t, TASK_NONE);
	if (rc)
		record_failure(replica_id, TASK_PROMOTION_ERROR, err.message);
	else
		log_info("promoted %s to replica source in place of %s", replica_id, source_id);
	if (!rc)
		failover_after_topology_change(source_id, replica_id);
	topology_free(&t);
}

int tasks_promote_to_replica_source(const char *instance_id, struct ct_error *err)
{
	return task_threads_submit(run_promote, instance_id, NULL, err);
}

/* --- eject --------------------------------------------------------------------------- */

/* The replica that has applied the most of the dead source's log. */
static int most_advanced(const struct topology *t, size_t *best, struct ct_error *err)
{
	char first_master[256] = "";
	long long best_seq = -1;
	bool found = false;
	for (size_t i = 0; i < t->n; i++) {
		const struct guest_ref g = ref_of(&t->replicas[i]);
		char master[256];
		long long seq;
		struct ct_error e = {0};
		if (guest_get_last_txn(&g, master, sizeof master, &seq, &e)) {
			log_warning("replica %s does not say how far it got: %s", g.id, e.message);
			continue;
		}
		if (first_master[0] && strcmp(first_master, master))
			return ct_fail(err, 500,
				       "The replicas of %s follow different sources (%s, %s).",
				       t->source.id, first_master, master);
		snprintf(first_master, sizeof first_master, "%s", master);
		if (!found || seq > best_seq) {
			best_seq = seq;
			*best = i;
			found = true;
		}
	}
	if (!found)
		return ct_fail(err, 500, "No replica of %s answered.", t->source.id);
	return 0;
}

int replication_eject(const char *source_id, bool fenced, char new_source_id[37],
		      struct ct_error *err)
{
	struct topology t;
	if (topology_load(source_id, &t, err))
		return -1;
	if (t.n == 0) {
		topology_free(&t);
		return ct_fail(err, 400, "Instance %s is not a replica source.", source_id);
	}
	for (size_t i = 0; i < t.n; i++)
		set_task_quietly(t.replicas[i].id, TASK_EJECTING);
	size_t best = 0;
	int rc = most_advanced(&t, &best, err);
	const struct instance *r = rc ? NULL : &t.replicas[best];
	if (r) {
		log_info("ejecting %s%s: %s is the most advanced replica", source_id,
			 fenced ? " (fenced)" : "", r->id);
		rc = make_source(r, err);
		for (size_t i = 0; i < t.n && !rc; i++)
			if (i != best)
				rc = repoint(r, &t.replicas[i], false, err);
		rc = rc || replication_move_replicas(source_id, r->id, 0, err);
		struct ct_error access_err;
		if (!rc && admit_replicas(r->id, &access_err))
			log_error("the new source's rules do not admit its replicas: %s",
				  access_err.message);
		if (!rc)
			snprintf(new_source_id, 37, "%s", r->id);
	}
	for (size_t i = 0; i < t.n; i++)
		set_task_quietly(t.replicas[i].id, TASK_NONE);
	topology_free(&t);
	return rc;
}

static void run_eject(const char *source_id, const json_t *args)
{
	(void)args;
	struct ct_error err = {0};
	char new_source[37] = "";
	if (replication_eject(source_id, false, new_source, &err)) {
		record_failure(source_id, TASK_EJECTION_ERROR, err.message);
		return;
	}
	set_task_quietly(source_id, TASK_NONE);
	log_info("ejected; %s is the replica source now", new_source);
	failover_after_topology_change(source_id, new_source);
}

int tasks_eject_replica_source(const char *instance_id, struct ct_error *err)
{
	return task_threads_submit(run_eject, instance_id, NULL, err);
}

/* --- detach --------------------------------------------------------------------------- */

static void run_detach(const char *replica_id, const json_t *args)
{
	(void)args;
	struct ct_error err = {0};
	struct instance r;
	int rc = instance_load(replica_id, NULL, &r, &err);
	if (!rc) {
		const struct guest_ref g = ref_of(&r);
		rc = guest_detach_replica(&g, false, &err) ||
		     replication_set_source(replica_id, NULL, &err);
	}
	set_task_quietly(replica_id, TASK_NONE);
	if (rc) {
		struct ct_error ignored;
		log_error("detach failed: %s", err.message);
		instance_add_fault(replica_id, err.message, "", &ignored);
		return;
	}
	log_info("detached from its replica source; it stands alone");
}

int tasks_detach_replica(const char *instance_id, struct ct_error *err)
{
	return task_threads_submit(run_detach, instance_id, NULL, err);
}

/* --- recovery --------------------------------------------------------------------------- */

void tasks_replication_recover(void)
{
	static const struct {
		int task, error_task;
		const char *what;
	} interrupted[] = {
		{TASK_PROMOTING, TASK_PROMOTION_ERROR, "promoting a replica"},
		{TASK_EJECTING, TASK_EJECTION_ERROR, "ejecting a replica source"},
		{TASK_DETACHING, TASK_NONE, "detaching a replica"},
	};
	for (size_t k = 0; k < sizeof interrupted / sizeof interrupted[0]; k++) {
		struct ct_error err = {0};
		char(*ids)[37] = NULL;
		size_t n = 0;
		if (instance_ids_in_task(interrupted[k].task, &ids, &n, &err)) {
			log_error("cannot list interrupted replication tasks: %s", err.message);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			char message[160];
			snprintf(message, sizeof message,
				 "The taskmanager restarted while %s; check the replicas and "
				 "retry.",
				 interrupted[k].what);
			log_set_context(NULL, ids[i]);
			record_failure(ids[i], interrupted[k].error_task, message);
		}
		free(ids);
	}
	log_clear_context();
}
