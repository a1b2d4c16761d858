/*
 * guest_cli.c — test driver for the guest agent's datastore managers, for
 * tests only. `guest_cli METHOD` reads {"instance": {...}, "args": {...}} on
 * stdin (so passwords never appear on a command line), calls the manager the
 * way the RPC dispatcher will (METHOD and args are Trove's guest RPC names,
 * trove-guest.md §1.3, plus get_status and config_render; create_backup runs
 * the worker's half, guest/backups.h; archive_ship one shipping round,
 * guest/archive.h), and prints
 * {"result": ...} or {"error": {"status", "message"}} on stdout; exit 0 or 1.
 * The agent's log goes to stderr. Owns nothing; may not touch anything the
 * manager does not.
 */
#define LOG_MODULE "guest_cli"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "guest/archive.h"
#include "guest/backups.h"
#include "guest/datastore.h"
#include "guest/guest_util.h"
#include "guest/mariadb_config.h"

static const char *arg_str(const json_t *args, const char *key)
{
	return json_string_value(json_object_get(args, key));
}

/* Run one method; *result set on success (may stay NULL for "no value"). */
static int call(const struct datastore_manager *m, const struct guest_instance *inst,
		const char *method, const json_t *args, json_t **result, struct ct_error *err)
{
	*result = NULL;
	int limit = (int)json_integer_value(json_object_get(args, "limit"));
	const char *marker = arg_str(args, "marker");
	bool include_marker = json_is_true(json_object_get(args, "include_marker"));
	const char *username = arg_str(args, "username");
	const char *hostname = arg_str(args, "hostname");

	if (!strcmp(method, "prepare"))
		return m->prepare(inst, args, err);
	if (!strcmp(method, "start_db"))
		return m->start(inst, err);
	if (!strcmp(method, "stop_db"))
		return m->stop(inst, err);
	if (!strcmp(method, "restart"))
		return datastore_restart(m, inst, err);
	if (!strcmp(method, "get_status")) {
		*result = json_string(guest_status_description(m->status(inst)));
		return 0;
	}
	if (!strcmp(method, "is_prepared")) {
		*result = json_boolean(guest_is_prepared(inst));
		return 0;
	}
	if (!strcmp(method, "list_databases"))
		return (*result = m->list_databases(inst, limit, marker, include_marker, err)) ? 0
											       : -1;
	if (!strcmp(method, "create_database"))
		return m->create_database(inst, json_object_get(args, "databases"), err);
	if (!strcmp(method, "delete_database"))
		return m->delete_database(inst, json_object_get(args, "database"), err);
	if (!strcmp(method, "list_users"))
		return (*result = m->list_users(inst, limit, marker, include_marker, err)) ? 0 : -1;
	if (!strcmp(method, "create_user"))
		return m->create_user(inst, json_object_get(args, "users"), err);
	if (!strcmp(method, "get_user"))
		return (*result = m->get_user(inst, username, hostname, err)) ? 0 : -1;
	if (!strcmp(method, "delete_user"))
		return m->delete_user(inst, json_object_get(args, "user"), err);
	if (!strcmp(method, "update_attributes"))
		return m->update_attributes(inst, username, hostname,
					    json_object_get(args, "user_attrs"), err);
	if (!strcmp(method, "change_passwords"))
		return m->change_passwords(inst, json_object_get(args, "users"), err);
	if (!strcmp(method, "grant_access"))
		return m->grant_access(inst, username, hostname, json_object_get(args, "databases"),
				       err);
	if (!strcmp(method, "revoke_access"))
		return m->revoke_access(inst, username, hostname, arg_str(args, "database"), err);
	if (!strcmp(method, "list_access"))
		return (*result = datastore_list_access(m, inst, username, hostname, err)) ? 0 : -1;
	if (!strcmp(method, "enable_root"))
		return (*result = m->enable_root(inst, NULL, err)) ? 0 : -1;
	if (!strcmp(method, "enable_root_with_password"))
		return (*result = m->enable_root(inst, arg_str(args, "root_password"), err)) ? 0
											     : -1;
	if (!strcmp(method, "disable_root"))
		return m->disable_root(inst, err);
	if (!strcmp(method, "is_root_enabled")) {
		bool on = false;
		if (m->is_root_enabled(inst, &on, err))
			return -1;
		*result = json_boolean(on);
		return 0;
	}
	if (!strcmp(method, "create_backup"))
		return (*result = guest_backup_create(m, inst, json_object_get(args, "backup_info"),
						      err))
			       ? 0
			       : -1;
	if (!strcmp(method, "archive_ship"))
		return (*result = guest_archive_ship(m, inst, json_object_get(args, "archive_info"),
						     err))
			       ? 0
			       : -1;
	if (!strcmp(method, "get_filesystem_stats"))
		return (*result = m->get_filesystem_stats(inst, err)) ? 0 : -1;
	if (!strcmp(method, "create_backup"))
		return (*result = guest_backup_create(m, inst, json_object_get(args, "backup_info"),
						      err))
			       ? 0
			       : -1;
	return ct_fail(err, 400, "Unknown method %s.", method);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s METHOD < {\"instance\": {...}, \"args\": {...}}\n",
			argv[0]);
		return 2;
	}
	log_open(NULL, getenv("GUEST_DEBUG") != NULL);
	json_error_t jerr;
	json_t *in = json_loadf(stdin, 0, &jerr);
	if (!json_is_object(in)) {
		fprintf(stderr, "bad input: %s\n", jerr.text);
		return 2;
	}
	const json_t *args = json_object_get(in, "args");
	json_t *empty = json_object();
	if (!args)
		args = empty;
	struct ct_error err = {0};
	json_t *result = NULL;
	int rc;
	if (!strcmp(argv[1], "config_render")) {
		static char buf[65536];
		const char *flavor = arg_str(args, "flavor");
		rc = mariadb_config_render(
			(int)json_integer_value(json_object_get(args, "memory_mb")),
			flavor && !strcmp(flavor, "mysql") ? MARIADB_FLAVOR_MYSQL
							   : MARIADB_FLAVOR_MARIADB,
			arg_str(args, "instance_id"), buf, sizeof buf, &err);
		if (!rc)
			result = json_string(buf);
	} else {
		struct guest_instance inst;
		guest_instance_from_json(json_object_get(in, "instance"), &inst);
		const struct datastore_manager *m = datastore_manager_find(inst.manager);
		rc = m ? call(m, &inst, argv[1], args, &result, &err)
		       : ct_fail(&err, 400, "No datastore manager %s.", inst.manager);
	}
	json_t *out = rc ? json_pack("{s:{s:i,s:s}}", "error", "status", err.status, "message",
				     err.message)
			 : json_pack("{s:o}", "result", result ? result : json_null());
	json_dumpf(out, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	json_decref(out);
	json_decref(in);
	json_decref(empty);
	log_close();
	return rc ? 1 : 0;
}
