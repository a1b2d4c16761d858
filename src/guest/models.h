/*
 * models.h — Trove's guest models (trove/common/db/models.py) as C structs,
 * and the one place that knows their wire JSON (trove-guest.md §3.1): the
 * serialized schema {"_name", "_character_set", "_collate"}, the serialized
 * user {"_name", "_password", "_host", "_databases", "_is_root"}, the plain
 * {"name", "host", "password"} of change_passwords and update_attributes, and
 * the [[items], next_marker] page of the list methods. The guest client
 * (guest/api.c), the taskmanager's create_instance arguments and the agent's
 * datastore managers all read and write the models through here.
 * Owns no state; may not do I/O, log, or know a datastore's name rules (those
 * are common/dbnames.h and the managers').
 */
#ifndef CT_GUEST_MODELS_H
#define CT_GUEST_MODELS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* Every name a datastore accepts fits with room to spare (MariaDB: 64 / 80
 * characters of UTF-8, hosts 255 bytes; PostgreSQL: 63 bytes; passwords 255
 * characters of UTF-8); the parser refuses longer values with a 400. */
#define GUEST_NAME_SIZE	    512
#define GUEST_HOST_SIZE	    256
#define GUEST_PASSWORD_SIZE 1024
#define GUEST_CHARSET_SIZE  128
#define GUEST_COLLATE_SIZE  128
/* A list's next marker: a name, or user@host for MariaDB users. */
#define GUEST_MARKER_SIZE (GUEST_NAME_SIZE + GUEST_HOST_SIZE)

/* A serialized schema. "" stands for null on the wire. */
struct guest_database {
	char name[GUEST_NAME_SIZE];
	char character_set[GUEST_CHARSET_SIZE];
	char collate[GUEST_COLLATE_SIZE];
};

/* A serialized user. host "" is written as "%" (Trove's default); password
 * "" as null. databases is malloc'd and owned by the user: release it with
 * guest_user_clear() or guest_users_free(). */
struct guest_user {
	char name[GUEST_NAME_SIZE];
	char host[GUEST_HOST_SIZE];
	char password[GUEST_PASSWORD_SIZE];
	struct guest_database *databases;
	size_t n_databases;
	bool is_root;
};

/* --- building ------------------------------------------------------------- */

/* Fill a model from plain strings (NULL = ""), 400 when one does not fit.
 * guest_user_set leaves databases alone. */
int guest_database_set(struct guest_database *db, const char *name, const char *character_set,
		       const char *collate, struct ct_error *err);
int guest_user_set(struct guest_user *u, const char *name, const char *host, const char *password,
		   struct ct_error *err);
/* Append a database (only its name) to u->databases. */
int guest_user_add_database(struct guest_user *u, const char *name, struct ct_error *err);

/* Free u->databases and wipe the password; u can be reused after. */
void guest_user_clear(struct guest_user *u);
/* guest_user_clear on each of n users, then free(users). NULL is fine. */
void guest_users_free(struct guest_user *users, size_t n);

/* --- serialiser ------------------------------------------------------------- */

/* The serialized forms (new references; NULL only when out of memory). */
json_t *guest_database_to_json(const struct guest_database *db);
json_t *guest_databases_to_json(const struct guest_database *dbs, size_t n);
json_t *guest_user_to_json(const struct guest_user *u);
json_t *guest_users_to_json(const struct guest_user *users, size_t n);
/* change_passwords' plain form: [{"name", "host", "password"}, ...]. */
json_t *guest_password_changes_to_json(const struct guest_user *users, size_t n);
/* update_attributes' user_attrs: {"name"?, "host"?, "password"?} (NULL = unchanged). */
json_t *guest_user_attrs_to_json(const char *name, const char *host, const char *password);

/* The same from plain fields, for the agent's managers which build results
 * from server rows: a schema, and a user that steals `databases` (a JSON array
 * of schemas; NULL = []). NULL strings are null on the wire; host NULL is "%". */
json_t *guest_schema_pack(const char *name, const char *character_set, const char *collate);
json_t *guest_user_pack(const char *name, const char *host, const char *password, json_t *databases,
			bool is_root);

/* --- parser ---------------------------------------------------------------- */

/* A serialized model into its struct. Keys may come with or without their
 * leading underscore (change_passwords sends them plain); a database entry
 * may also be a bare name string. Refused with 400 and a message naming
 * `what` and the field: not an object, a missing or empty name, a field of
 * the wrong type, a string with a NUL in it, or one too long for the struct.
 * u must be zeroed or cleared; on failure it is left cleared. */
int guest_database_from_json(const json_t *j, const char *what, struct guest_database *db,
			     struct ct_error *err);
int guest_user_from_json(const json_t *j, const char *what, struct guest_user *u,
			 struct ct_error *err);
/* A list of them (null = empty). On success *out is malloc'd (free() for
 * databases, guest_users_free() for users; NULL when n is 0). */
int guest_databases_from_json(const json_t *list, const char *what, struct guest_database **out,
			      size_t *n, struct ct_error *err);
int guest_users_from_json(const json_t *list, const char *what, struct guest_user **out, size_t *n,
			  struct ct_error *err);
/* A list method's answer [[items], next_marker|null] into its items (borrowed
 * from page) and next marker ("" = no more). */
int guest_page_from_json(const json_t *page, const json_t **items, char next[GUEST_MARKER_SIZE],
			 struct ct_error *err);

/* --- the agent's field readers -------------------------------------------- */

/* The managers validate with their own rules and messages, so they read the
 * fields one by one. Each is the string value of the field with or without its
 * underscore, or NULL when absent or not a string. */
const char *guest_model_name(const json_t *model);
const char *guest_model_host(const json_t *model);
const char *guest_model_password(const json_t *model);
const char *guest_model_character_set(const json_t *model);
const char *guest_model_collate(const json_t *model);
/* A user's databases (a JSON array, borrowed) or NULL. */
const json_t *guest_model_databases(const json_t *user);
/* A database entry of a list: a plain string, or a serialized schema's name. */
const char *guest_model_db_name(const json_t *entry);

/* --- backups (the backup contract, docs/backups.md) --------------------------- */

struct store_access;

/* One backup of a chain, or an incremental's parent. encryption_key is the
 * base64 data key (a secret; NULL leaves it out, as for a parent). */
struct guest_backup_link {
	const char *id, *location, *checksum, *backup_type, *encryption_key;
};

/* create_backup's backup_info: Trove's fields plus location, encryption_key
 * and store. parent NULL = a full backup. Everything borrowed. */
struct guest_backup_request {
	const char *id, *name, *description, *instance_id, *backup_type;
	const char *datastore, *datastore_version, *swift_container;
	const char *location, *encryption_key;
	const struct guest_backup_link *parent;
	const struct store_access *store;
};

/* prepare's backup_info for a restore: Trove's {id, instance_id, location,
 * type, checksum} plus the chain (full first, this backup last) and store. */
struct guest_restore_info {
	const char *id, *instance_id, *location, *type, *checksum;
	const struct guest_backup_link *chain;
	size_t n_chain;
	const struct store_access *store;
	const struct guest_restore_point *restore_point; /* PITR; NULL = none */
};

/* PITR (the PITR contract): after the chain, replay the source's archive
 * (objects under archive_prefix, sealed with encryption_key, base64, a secret)
 * up to and including `time` (unix seconds, UTC). */
struct guest_restore_point {
	long long time;
	const char *archive_prefix, *encryption_key;
};

/* start_archiving's archive_info: where and how to ship the instance's
 * binlogs / WAL (the PITR contract). interval: the ship period, seconds. */
struct guest_archive_request {
	const char *prefix, *encryption_key;
	const struct store_access *store;
	long interval;
};

/* {"kind", ...}: only what the kind needs (local: backups_dir; swift:
 * storage_url, auth_token). */
json_t *guest_store_access_to_json(const struct store_access *a);
json_t *guest_backup_request_to_json(const struct guest_backup_request *r);
json_t *guest_restore_info_to_json(const struct guest_restore_info *r);
/* {"prefix", "encryption_key", "store", "interval"}. */
json_t *guest_archive_request_to_json(const struct guest_archive_request *a);
/* --- TLS material (ctrove: prepare's ctrove_tls, rotate_tls) -------------- */

#define GUEST_TLS_PEM_MAX 16384

/* A server certificate, its private key and the CA that signed it, in PEM
 * (borrowed). On the wire {"cert", "key", "ca"}; sealed like every guest
 * message, never logged. */
struct guest_tls {
	const char *cert_pem;
	const char *key_pem;
	const char *ca_pem;
};

json_t *guest_tls_to_json(const struct guest_tls *tls);
/* j's three fields into out (borrowed from j); 400 when one is missing, not
 * PEM of its kind, holds a NUL or is longer than GUEST_TLS_PEM_MAX. */
int guest_tls_from_json(const json_t *j, struct guest_tls *out, struct ct_error *err);

#endif
