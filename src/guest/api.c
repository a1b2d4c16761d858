/*
 * api.c — see api.h. Each typed function builds its method's arguments with
 * guest/models.h, sends them with call() or cast(), and parses the answer
 * back into structs; a malformed answer is the guest's fault (500).
 */
#define LOG_MODULE "guest"
#include "guest/api.h"

#include <jansson.h>
#include <nettle/base64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "rpc/crypto.h"
#include "rpc/thread_client.h"

/* ctrove sends database, user and root changes as calls, not casts (so a
 * refusal reaches the client), and gives every request from the API Trove's
 * high timeout. */
#define TIMEOUT_API GUEST_TIMEOUT_HIGH
/* Delete asks the guest to stop its database only as a courtesy: the
 * driver kills whatever is left, so it does not wait long. */
#define TIMEOUT_STOP_DB 10
/* Showing an instance asks for the volume's usage only when no heartbeat
 * brought it; a slow guest must not hold up the answer. */
#define TIMEOUT_FS_STATS 2
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

/* args: stolen; NULL means building them failed (out of memory, or a NULL
 * string where json_pack wanted one). Returns the result, a new reference. */
static json_t *call(const struct guest_ref *g, const char *method, json_t *args, int timeout_s,
		    struct ct_error *err)
{
	struct rpc_client *client = rpc_thread_client(err);
	char topic[128], *key = NULL;
	struct rpc_target target;
	json_t *result = NULL;
	if (!args)
		ct_fail(err, 500, "cannot build the arguments of %s", method);
	else if (client &&
		 !target_for(g->id, g->encrypted_key, topic, sizeof topic, &key, &target, err))
		result = rpc_call(client, &target, method, args, NULL, timeout_s, NULL, err);
	json_decref(args);
	free(key);
	if (!result)
		log_warning("guest %s: %s failed: %s", g->id, method, err->message);
	return result;
}

/* A call whose answer does not matter (None on success). */
static int call_done(const struct guest_ref *g, const char *method, json_t *args, int timeout_s,
		     struct ct_error *err)
{
	json_t *result = call(g, method, args, timeout_s, err);
	json_decref(result);
	return result ? 0 : -1;
}

static int cast(const struct guest_ref *g, const char *method, json_t *args, struct ct_error *err)
{
	struct rpc_client *client = rpc_thread_client(err);
	char topic[128], *key = NULL;
	struct rpc_target target;
	int rc = -1;
	if (!args)
		ct_fail(err, 500, "cannot build the arguments of %s", method);
	else if (client &&
		 !target_for(g->id, g->encrypted_key, topic, sizeof topic, &key, &target, err))
		rc = rpc_cast(client, &target, method, args, NULL, err);
	json_decref(args);
	free(key);
	return rc;
}

/* The guest answered something that is not what method returns: its detail
 * (parse_err) goes to the log, the caller gets a 500. */
static int malformed(const struct guest_ref *g, const char *method,
		     const struct ct_error *parse_err, struct ct_error *err)
{
	log_error("guest %s: malformed %s answer: %s", g->id, method, parse_err->message);
	return ct_fail(err, 500, "The guest answered %s with something malformed.", method);
}

static json_t *page_args(const struct guest_page_request *page)
{
	return json_pack("{s:i,s:s?,s:b}", "limit", page->limit, "marker", page->marker,
			 "include_marker", page->include_marker);
}

static json_t *account_args(const char *name, const char *host)
{
	return json_pack("{s:s,s:s}", "username", name, "hostname", host);
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

/* --- life cycle -------------------------------------------------------------------- */

int guest_prepare(const struct guest_ref *g, const struct guest_prepare_args *a,
		  struct ct_error *err)
{
	json_t *dbs = guest_databases_to_json(a->databases, a->n_databases);
	json_t *users = guest_users_to_json(a->users, a->n_users);
	if (!dbs || !users) {
		json_decref(dbs);
		json_decref(users);
		return ct_fail(err, 500, "out of memory");
	}
	json_t *backup_info = a->restore ? guest_restore_info_to_json(a->restore) : json_null();
	if (!backup_info) {
		json_decref(dbs);
		json_decref(users);
		return ct_fail(err, 500, "out of memory");
	}
	json_t *args =
		json_pack("{s:s,s:o,s:I,s:o,s:n,s:s?,s:o,s:s?,s:s?,s:O?,s:n,s:n,s:[],s:s?}",
			  "packages", "", "databases", dbs, "memory_mb", (json_int_t)a->memory_mb,
			  "users", users, "device_path", "mount_point", a->mount_point,
			  "backup_info", backup_info, "config_contents", a->config_contents,
			  "root_password", a->root_password, "overrides", a->overrides,
			  "cluster_config", "snapshot", "modules", "ds_version", a->ds_version);
	if (args && a->snapshot && json_object_set(args, "snapshot", (json_t *)a->snapshot)) {
		json_decref(args);
		return ct_fail(err, 500, "out of memory");
	}
	/* ctrove's own argument; a Python guest would refuse it, ctrove's reads it. */
	if (args && a->tls) {
		json_t *tls = guest_tls_to_json(a->tls);
		if (!tls || json_object_set_new(args, "ctrove_tls", tls)) {
			json_decref(args);
			return ct_fail(err, 500, "out of memory");
		}
	}
	return cast(g, "prepare", args, err);
}

int guest_rotate_tls(const struct guest_ref *g, const struct guest_tls *tls, struct ct_error *err)
{
	return call_done(g, "rotate_tls", json_pack("{s:o?}", "ctrove_tls", guest_tls_to_json(tls)),
			 GUEST_TIMEOUT_LOW, err);
}

int guest_restart(const struct guest_ref *g, struct ct_error *err)
{
	return call_done(g, "restart", json_object(), GUEST_TIMEOUT_HIGH, err);
}

int guest_resize_fs(const struct guest_ref *g, struct ct_error *err)
{
	/* The agent grows its configured device (Trove sends its own idea of
	 * the device and mount point; ours knows them). */
	return call_done(g, "resize_fs",
			 json_pack("{s:n,s:n,s:b}", "device_path", "mount_point", "online", 1),
			 GUEST_TIMEOUT_HIGH, err);
}

int guest_update_overrides(const struct guest_ref *g, const json_t *overrides, bool remove,
			   struct ct_error *err)
{
	return call_done(g, "update_overrides",
			 json_pack("{s:O,s:b}", "overrides", overrides, "remove", remove),
			 GUEST_TIMEOUT_HIGH, err);
}

int guest_apply_overrides(const struct guest_ref *g, const json_t *overrides, struct ct_error *err)
{
	return call_done(g, "apply_overrides", json_pack("{s:O}", "overrides", overrides),
			 GUEST_TIMEOUT_HIGH, err);
}

int guest_stop_db(const struct guest_ref *g, struct ct_error *err)
{
	return call_done(g, "stop_db", json_object(), TIMEOUT_STOP_DB, err);
}

int guest_start_db_with_conf_changes(const struct guest_ref *g, const char *config_contents,
				     const char *ds_version, struct ct_error *err)
{
	return call_done(g, "start_db_with_conf_changes",
			 json_pack("{s:s?,s:s?}", "config_contents", config_contents, "ds_version",
				   ds_version),
			 GUEST_TIMEOUT_HIGH, err);
}

int guest_get_filesystem_stats(const struct guest_ref *g, struct guest_fs_stats *out,
			       struct ct_error *err)
{
	json_t *stats = call(g, "get_filesystem_stats", json_pack("{s:n}", "fs_path"),
			     TIMEOUT_FS_STATS, err);
	if (!stats)
		return -1;
	static const char *const keys[] = {"block_size", "total_blocks", "free_blocks",
					   "total",	 "free",	 "used"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (!json_is_number(json_object_get(stats, keys[i]))) {
			struct ct_error detail;
			ct_fail(&detail, 400, "'%s' is not a number", keys[i]);
			json_decref(stats);
			return malformed(g, "get_filesystem_stats", &detail, err);
		}
	}
#define NUMBER(k) json_number_value(json_object_get(stats, k))
	*out = (struct guest_fs_stats){
		.block_size = (long long)NUMBER("block_size"),
		.total_blocks = (long long)NUMBER("total_blocks"),
		.free_blocks = (long long)NUMBER("free_blocks"),
		.total = NUMBER("total"),
		.free = NUMBER("free"),
		.used = NUMBER("used"),
	};
#undef NUMBER
	json_decref(stats);
	return 0;
}

/* --- databases ---------------------------------------------------------------------- */

int guest_create_databases(const struct guest_ref *g, const struct guest_database *dbs, size_t n,
			   struct ct_error *err)
{
	json_t *list = guest_databases_to_json(dbs, n);
	return call_done(g, "create_database", list ? json_pack("{s:o}", "databases", list) : NULL,
			 TIMEOUT_API, err);
}

int guest_delete_database(const struct guest_ref *g, const char *name, struct ct_error *err)
{
	struct guest_database db;
	if (guest_database_set(&db, name, NULL, NULL, err))
		return -1;
	json_t *schema = guest_database_to_json(&db);
	return call_done(g, "delete_database",
			 schema ? json_pack("{s:o}", "database", schema) : NULL, TIMEOUT_API, err);
}

int guest_list_databases(const struct guest_ref *g, const struct guest_page_request *page,
			 struct guest_database **dbs, size_t *n, char next[GUEST_MARKER_SIZE],
			 struct ct_error *err)
{
	json_t *result = call(g, "list_databases", page_args(page), TIMEOUT_API, err);
	if (!result)
		return -1;
	const json_t *items;
	struct ct_error detail;
	int rc = guest_page_from_json(result, &items, next, &detail) ||
				 guest_databases_from_json(items, "databases", dbs, n, &detail)
			 ? malformed(g, "list_databases", &detail, err)
			 : 0;
	json_decref(result);
	return rc;
}

/* --- users ------------------------------------------------------------------------- */

int guest_create_users(const struct guest_ref *g, const struct guest_user *users, size_t n,
		       struct ct_error *err)
{
	json_t *list = guest_users_to_json(users, n);
	return call_done(g, "create_user", list ? json_pack("{s:o}", "users", list) : NULL,
			 TIMEOUT_API, err);
}

int guest_list_users(const struct guest_ref *g, const struct guest_page_request *page,
		     struct guest_user **users, size_t *n, char next[GUEST_MARKER_SIZE],
		     struct ct_error *err)
{
	json_t *result = call(g, "list_users", page_args(page), TIMEOUT_API, err);
	if (!result)
		return -1;
	const json_t *items;
	struct ct_error detail;
	int rc = guest_page_from_json(result, &items, next, &detail) ||
				 guest_users_from_json(items, "users", users, n, &detail)
			 ? malformed(g, "list_users", &detail, err)
			 : 0;
	json_decref(result);
	return rc;
}

int guest_get_user(const struct guest_ref *g, const char *name, const char *host,
		   struct guest_user *out, struct ct_error *err)
{
	json_t *result = call(g, "get_user", account_args(name, host), TIMEOUT_API, err);
	if (!result)
		return -1;
	struct ct_error detail;
	int rc = 0;
	if (json_is_null(result)) /* Trove's guest answers None */
		rc = ct_fail(err, 404, "User %s cannot be found on the instance.", name);
	else if (guest_user_from_json(result, "user", out, &detail))
		rc = malformed(g, "get_user", &detail, err);
	json_decref(result);
	return rc;
}

int guest_update_attributes(const struct guest_ref *g, const char *name, const char *host,
			    const char *new_name, const char *new_host, const char *new_password,
			    struct ct_error *err)
{
	json_t *attrs = guest_user_attrs_to_json(new_name, new_host, new_password);
	return call_done(g, "update_attributes",
			 attrs ? json_pack("{s:s,s:s,s:o}", "username", name, "hostname", host,
					   "user_attrs", attrs)
			       : NULL,
			 TIMEOUT_API, err);
}

int guest_change_passwords(const struct guest_ref *g, const struct guest_user *users, size_t n,
			   struct ct_error *err)
{
	json_t *list = guest_password_changes_to_json(users, n);
	return call_done(g, "change_passwords", list ? json_pack("{s:o}", "users", list) : NULL,
			 TIMEOUT_API, err);
}

int guest_delete_user(const struct guest_ref *g, const char *name, const char *host,
		      struct ct_error *err)
{
	struct guest_user u = {0};
	if (guest_user_set(&u, name, host, NULL, err))
		return -1;
	json_t *user = guest_user_to_json(&u);
	return call_done(g, "delete_user", user ? json_pack("{s:o}", "user", user) : NULL,
			 TIMEOUT_API, err);
}

/* --- access ------------------------------------------------------------------------ */

int guest_grant_access(const struct guest_ref *g, const char *name, const char *host,
		       const struct guest_database *dbs, size_t n, struct ct_error *err)
{
	/* grant_access takes bare names, not schemas. */
	json_t *names = json_array();
	for (size_t i = 0; names && i < n; i++) {
		if (json_array_append_new(names, json_string(dbs[i].name))) {
			json_decref(names);
			names = NULL;
		}
	}
	return call_done(g, "grant_access",
			 names ? json_pack("{s:s,s:s,s:o}", "username", name, "hostname", host,
					   "databases", names)
			       : NULL,
			 TIMEOUT_API, err);
}

int guest_revoke_access(const struct guest_ref *g, const char *name, const char *host,
			const char *database, struct ct_error *err)
{
	return call_done(g, "revoke_access",
			 json_pack("{s:s,s:s,s:s}", "username", name, "hostname", host, "database",
				   database),
			 TIMEOUT_API, err);
}

int guest_list_access(const struct guest_ref *g, const char *name, const char *host,
		      struct guest_database **dbs, size_t *n, struct ct_error *err)
{
	json_t *result = call(g, "list_access", account_args(name, host), TIMEOUT_API, err);
	if (!result)
		return -1;
	struct ct_error detail;
	int rc = guest_databases_from_json(result, "databases", dbs, n, &detail)
			 ? malformed(g, "list_access", &detail, err)
			 : 0;
	json_decref(result);
	return rc;
}

/* --- root ------------------------------------------------------------------------- */

static int root_from(const struct guest_ref *g, const char *method, json_t *result,
		     struct guest_user *root, struct ct_error *err)
{
	if (!result)
		return -1;
	struct ct_error detail;
	int rc = 0;
	if (guest_user_from_json(result, "root", root, &detail))
		rc = malformed(g, method, &detail, err);
	else if (!root->password[0])
		rc = ct_fail(err, 500, "the guest returned no root credentials");
	json_decref(result);
	return rc;
}

int guest_enable_root(const struct guest_ref *g, struct guest_user *root, struct ct_error *err)
{
	return root_from(g, "enable_root", call(g, "enable_root", json_object(), TIMEOUT_API, err),
			 root, err);
}

int guest_enable_root_with_password(const struct guest_ref *g, const char *password,
				    struct guest_user *root, struct ct_error *err)
{
	return root_from(g, "enable_root_with_password",
			 call(g, "enable_root_with_password",
			      json_pack("{s:s}", "root_password", password), TIMEOUT_API, err),
			 root, err);
}

int guest_disable_root(const struct guest_ref *g, struct ct_error *err)
{
	return call_done(g, "disable_root", json_object(), TIMEOUT_API, err);
}

/* --- backups ------------------------------------------------------------------- */

int guest_create_backup(const struct guest_ref *g, const struct guest_backup_request *r,
			struct ct_error *err)
{
	json_t *info = guest_backup_request_to_json(r);
	return cast(g, "create_backup", info ? json_pack("{s:o}", "backup_info", info) : NULL, err);
}

#define BACKUP_KEY_BYTES 32

int guest_new_backup_key(char *sealed, size_t size, struct ct_error *err)
{
	unsigned char key[BACKUP_KEY_BYTES];
	char b64[BASE64_ENCODE_RAW_LENGTH(BACKUP_KEY_BYTES) + 1];
	if (ids_random(key, sizeof key))
		return ct_fail(err, 500, "no random bytes for a backup key");
	base64_encode_raw(b64, sizeof key, key);
	b64[BASE64_ENCODE_RAW_LENGTH(BACKUP_KEY_BYTES)] = '\0';
	explicit_bzero(key, sizeof key);
	char *enc = rpc_crypto_encrypt(cfg_str(CFG_INST_RPC_KEY_ENCR_KEY), b64, strlen(b64), err);
	explicit_bzero(b64, sizeof b64);
	if (!enc)
		return -1;
	int rc = 0;
	if ((size_t)snprintf(sealed, size, "%s", enc) >= size)
		rc = ct_fail(err, 500, "sealed backup key too long");
	free(enc);
	return rc;
}

char *guest_backup_key_open(const char *sealed, struct ct_error *err)
{
	if (!sealed || !*sealed) {
		ct_fail(err, 500, "the backup has no data key");
		return NULL;
	}
	size_t len = 0;
	return rpc_crypto_decrypt(cfg_str(CFG_INST_RPC_KEY_ENCR_KEY), sealed, &len, err);
}

/* --- PITR archive ------------------------------------------------------------------ */

int guest_start_archiving(const struct guest_ref *g, const struct guest_archive_request *a,
			  struct ct_error *err)
{
	json_t *info = guest_archive_request_to_json(a);
	return cast(g, "start_archiving", info ? json_pack("{s:o}", "archive_info", info) : NULL,
		    err);
}

/* --- database logs ------------------------------------------------------------------ */

/* A log view as §6.8 has it: the strings and byte counts the API shows. */
static int check_log_view(const json_t *v, struct ct_error *err)
{
	static const char *const strings[] = {"name",	   "type",   "status",
					      "container", "prefix", "metafile"};
	if (!json_is_object(v))
		return ct_fail(err, 400, "a log view is not an object");
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
		if (!json_is_string(json_object_get(v, strings[i])))
			return ct_fail(err, 400, "'%s' is not a string", strings[i]);
	if (!json_is_integer(json_object_get(v, "published")) ||
	    !json_is_integer(json_object_get(v, "pending")))
		return ct_fail(err, 400, "'published' or 'pending' is not an integer");
	return 0;
}

int guest_list_logs(const struct guest_ref *g, json_t **logs, struct ct_error *err)
{
	json_t *list = call(g, "guest_log_list", json_object(), TIMEOUT_API, err);
	if (!list)
		return -1;
	struct ct_error detail = {0};
	size_t i;
	json_t *v;
	if (!json_is_array(list))
		ct_fail(&detail, 400, "not a list");
	json_array_foreach (list, i, v)
		if (!detail.status && check_log_view(v, &detail))
			break;
	if (detail.status) {
		json_decref(list);
		return malformed(g, "guest_log_list", &detail, err);
	}
	*logs = list;
	return 0;
}

int guest_act_on_log(const struct guest_ref *g, const struct guest_log_args *a, json_t **log,
		     struct ct_error *err)
{
	json_t *store = a->store ? guest_store_access_to_json(a->store) : json_null();
	json_t *args = store ? json_pack("{s:s,s:b,s:b,s:b,s:b,s:o}", "log_name", a->name, "enable",
					 a->enable, "disable", a->disable, "publish", a->publish,
					 "discard", a->discard, "store", store)
			     : NULL;
	json_t *view = call(g, "guest_log_action", args, TIMEOUT_API, err);
	if (!view)
		return -1;
	struct ct_error detail = {0};
	if (check_log_view(view, &detail)) {
		json_decref(view);
		return malformed(g, "guest_log_action", &detail, err);
	}
	*log = view;
	return 0;
}

/* --- replication ------------------------------------------------------------------ */

/* Seeding a MariaDB replica takes a backup on the source first. */
#define TIMEOUT_SNAPSHOT 1800
/* attach_replica waits up to 180 s for replication to start on the guest. */
#define TIMEOUT_ATTACH (GUEST_TIMEOUT_HIGH + 30)

static int check_master(const json_t *r, struct ct_error *err)
{
	const json_t *master = json_object_get(r, "master");
	if (!json_is_string(json_object_get(master, "host")) ||
	    !json_is_integer(json_object_get(master, "port")))
		return ct_fail(err, 500, "no master {host, port}");
	if (!json_is_object(json_object_get(r, "replica_conf")))
		return ct_fail(err, 500, "no replica_conf");
	return 0;
}

int guest_get_replication_snapshot(const struct guest_ref *g, const json_t *snapshot_info,
				   json_t **snapshot, struct ct_error *err)
{
	*snapshot = NULL;
	json_t *r = call(
		g, "get_replication_snapshot",
		json_pack("{s:O,s:n}", "snapshot_info", snapshot_info, "replica_source_config"),
		TIMEOUT_SNAPSHOT, err);
	if (!r)
		return -1;
	struct ct_error parse = {0};
	if (!json_is_object(r) || !json_is_object(json_object_get(r, "dataset")) ||
	    check_master(r, &parse)) {
		if (!parse.status)
			ct_fail(&parse, 500, "not a snapshot object");
		json_decref(r);
		return malformed(g, "get_replication_snapshot", &parse, err);
	}
	*snapshot = r;
	return 0;
}

int guest_attach_replica(const struct guest_ref *g, const json_t *replica_info, bool restart,
			 struct ct_error *err)
{
	return call_done(g, "attach_replica",
			 json_pack("{s:O,s:n,s:b}", "replica_info", replica_info, "slave_config",
				   "restart", restart),
			 TIMEOUT_ATTACH, err);
}

int guest_detach_replica(const struct guest_ref *g, bool for_failover, struct ct_error *err)
{
	return call_done(g, "detach_replica", json_pack("{s:b}", "for_failover", for_failover),
			 GUEST_TIMEOUT_HIGH, err);
}

int guest_get_replica_context(const struct guest_ref *g, const json_t *replica_addresses,
			      json_t **context, struct ct_error *err)
{
	*context = NULL;
	json_t *args = json_object();
	if (args && replica_addresses)
		json_object_set(args, "replica_addresses", (json_t *)replica_addresses);
	json_t *r = call(g, "get_replica_context", args, GUEST_TIMEOUT_HIGH, err);
	if (!r)
		return -1;
	struct ct_error parse = {0};
	if (check_master(r, &parse)) {
		json_decref(r);
		return malformed(g, "get_replica_context", &parse, err);
	}
	*context = r;
	return 0;
}

int guest_make_read_only(const struct guest_ref *g, bool read_only, struct ct_error *err)
{
	return call_done(g, "make_read_only", json_pack("{s:b}", "read_only", read_only),
			 GUEST_TIMEOUT_HIGH, err);
}

int guest_enable_as_master(const struct guest_ref *g, struct ct_error *err)
{
	return call_done(g, "enable_as_master", json_pack("{s:n}", "replica_source_config"),
			 GUEST_TIMEOUT_HIGH, err);
}

int guest_demote_replication_master(const struct guest_ref *g, struct ct_error *err)
{
	return call_done(g, "demote_replication_master", json_object(), GUEST_TIMEOUT_HIGH, err);
}

int guest_get_latest_txn_id(const struct guest_ref *g, char *txn, size_t size, struct ct_error *err)
{
	json_t *r = call(g, "get_latest_txn_id", json_object(), GUEST_TIMEOUT_HIGH, err);
	if (!r)
		return -1;
	int rc = 0;
	if (!json_is_string(r) || json_string_length(r) >= size) {
		struct ct_error parse;
		ct_fail(&parse, 500, "not a short string");
		rc = malformed(g, "get_latest_txn_id", &parse, err);
	} else {
		snprintf(txn, size, "%s", json_string_value(r));
	}
	json_decref(r);
	return rc;
}

int guest_wait_for_txn(const struct guest_ref *g, const char *txn, int timeout_s,
		       struct ct_error *err)
{
	return call_done(g, "wait_for_txn",
			 json_pack("{s:s,s:i}", "txn", txn, "timeout", timeout_s),
			 timeout_s + GUEST_TIMEOUT_LOW, err);
}

int guest_get_last_txn(const struct guest_ref *g, char *master_id, size_t size, long long *seq,
		       struct ct_error *err)
{
	json_t *r = call(g, "get_last_txn", json_object(), GUEST_TIMEOUT_LOW, err);
	if (!r)
		return -1;
	const json_t *id = json_array_get(r, 0), *n = json_array_get(r, 1);
	int rc = 0;
	if (json_array_size(r) != 2 || !(json_is_string(id) || json_is_integer(id)) ||
	    !json_is_integer(n)) {
		struct ct_error parse;
		ct_fail(&parse, 500, "not [master id, seq]");
		rc = malformed(g, "get_last_txn", &parse, err);
	} else {
		if (json_is_string(id))
			snprintf(master_id, size, "%s", json_string_value(id));
		else
			snprintf(master_id, size, "%lld", (long long)json_integer_value(id));
		*seq = (long long)json_integer_value(n);
	}
	json_decref(r);
	return rc;
}

int guest_set_synchronous_replication(const struct guest_ref *g, bool enabled, struct ct_error *err)
{
	return call_done(g, "set_synchronous_replication", json_pack("{s:b}", "enabled", enabled),
			 GUEST_TIMEOUT_LOW, err);
}
