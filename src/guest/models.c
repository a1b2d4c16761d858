/*
 * models.c — see models.h. The wire keys of the guest models are written
 * here and nowhere else.
 */
#include "guest/models.h"

#include "storage/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_NAME     "_name"
#define KEY_CHARSET  "_character_set"
#define KEY_COLLATE  "_collate"
#define KEY_PASSWORD "_password"
#define KEY_HOST     "_host"
#define KEY_DBS	     "_databases"
#define KEY_IS_ROOT  "_is_root"
#define DEFAULT_HOST "%"
/* The plain form change_passwords and update_attributes use. */
#define PLAIN_NAME     "name"
#define PLAIN_HOST     "host"
#define PLAIN_PASSWORD "password"

/* --- building ------------------------------------------------------------- */

static int copy_field(char *dst, size_t size, const char *src, const char *what, const char *field,
		      struct ct_error *err)
{
	if (!src)
		src = "";
	size_t len = strlen(src);
	if (len >= size)
		return ct_fail(err, 400, "%s: '%s' is longer than %zu bytes.", what, field,
			       size - 1);
	memcpy(dst, src, len + 1);
	return 0;
}

int guest_database_set(struct guest_database *db, const char *name, const char *character_set,
		       const char *collate, struct ct_error *err)
{
	struct guest_database d = {0};
	if (copy_field(d.name, sizeof d.name, name, "database", "name", err) ||
	    copy_field(d.character_set, sizeof d.character_set, character_set, "database",
		       "character_set", err) ||
	    copy_field(d.collate, sizeof d.collate, collate, "database", "collate", err))
		return -1;
	*db = d;
	return 0;
}

int guest_user_set(struct guest_user *u, const char *name, const char *host, const char *password,
		   struct ct_error *err)
{
	if (copy_field(u->name, sizeof u->name, name, "user", "name", err) ||
	    copy_field(u->host, sizeof u->host, host, "user", "host", err) ||
	    copy_field(u->password, sizeof u->password, password, "user", "password", err))
		return -1;
	return 0;
}

int guest_user_add_database(struct guest_user *u, const char *name, struct ct_error *err)
{
	struct guest_database db;
	if (guest_database_set(&db, name, NULL, NULL, err))
		return -1;
	struct guest_database *grown =
		realloc(u->databases, (u->n_databases + 1) * sizeof *u->databases);
	if (!grown)
		return ct_fail(err, 500, "out of memory");
	u->databases = grown;
	u->databases[u->n_databases++] = db;
	return 0;
}

void guest_user_clear(struct guest_user *u)
{
	free(u->databases);
	/* Volatile writes: the compiler may not drop the wipe of a dying buffer. */
	volatile char *p = u->password;
	for (size_t i = 0; i < sizeof u->password; i++)
		p[i] = 0;
	u->databases = NULL;
	u->n_databases = 0;
	u->name[0] = u->host[0] = '\0';
	u->is_root = false;
}

void guest_users_free(struct guest_user *users, size_t n)
{
	if (!users)
		return;
	for (size_t i = 0; i < n; i++)
		guest_user_clear(&users[i]);
	free(users);
}

/* --- serialiser ------------------------------------------------------------- */

static const char *or_null(const char *s)
{
	return s && *s ? s : NULL;
}

json_t *guest_schema_pack(const char *name, const char *character_set, const char *collate)
{
	return json_pack("{s:s,s:s?,s:s?}", KEY_NAME, name ? name : "", KEY_CHARSET,
			 or_null(character_set), KEY_COLLATE, or_null(collate));
}

json_t *guest_user_pack(const char *name, const char *host, const char *password, json_t *databases,
			bool is_root)
{
	if (!databases)
		databases = json_array();
	return json_pack("{s:s,s:s?,s:s,s:o,s:b}", KEY_NAME, name ? name : "", KEY_PASSWORD,
			 or_null(password), KEY_HOST, host && *host ? host : DEFAULT_HOST, KEY_DBS,
			 databases, KEY_IS_ROOT, is_root);
}

json_t *guest_database_to_json(const struct guest_database *db)
{
	return guest_schema_pack(db->name, db->character_set, db->collate);
}

json_t *guest_databases_to_json(const struct guest_database *dbs, size_t n)
{
	json_t *out = json_array();
	for (size_t i = 0; out && i < n; i++) {
		if (json_array_append_new(out, guest_database_to_json(&dbs[i]))) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

json_t *guest_user_to_json(const struct guest_user *u)
{
	json_t *dbs = json_array();
	for (size_t i = 0; dbs && i < u->n_databases; i++) {
		/* A user's databases carry only their names, as Trove sends them. */
		if (json_array_append_new(dbs,
					  guest_schema_pack(u->databases[i].name, NULL, NULL))) {
			json_decref(dbs);
			return NULL;
		}
	}
	return dbs ? guest_user_pack(u->name, u->host, u->password, dbs, u->is_root) : NULL;
}

json_t *guest_users_to_json(const struct guest_user *users, size_t n)
{
	json_t *out = json_array();
	for (size_t i = 0; out && i < n; i++) {
		if (json_array_append_new(out, guest_user_to_json(&users[i]))) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

json_t *guest_password_changes_to_json(const struct guest_user *users, size_t n)
{
	json_t *out = json_array();
	for (size_t i = 0; out && i < n; i++) {
		const struct guest_user *u = &users[i];
		if (json_array_append_new(out,
					  json_pack("{s:s,s:s,s:s}", PLAIN_NAME, u->name,
						    PLAIN_HOST, *u->host ? u->host : DEFAULT_HOST,
						    PLAIN_PASSWORD, u->password))) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

json_t *guest_user_attrs_to_json(const char *name, const char *host, const char *password)
{
	return json_pack("{s:s*,s:s*,s:s*}", PLAIN_NAME, name, PLAIN_HOST, host, PLAIN_PASSWORD,
			 password);
}

/* --- parser ---------------------------------------------------------------- */

/* The value of key, or of key without its underscore when key is absent. */
static const json_t *field(const json_t *model, const char *key)
{
	const json_t *v = json_object_get(model, key);
	return v ? v : json_object_get(model, key + 1);
}

static const char *string_field(const json_t *model, const char *key)
{
	const json_t *v = field(model, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A string field into dst: absent or null gives "", anything but a string
 * without NULs that fits is refused. */
static int read_string(const json_t *model, const char *key, bool required, char *dst, size_t size,
		       const char *what, struct ct_error *err)
{
	const json_t *v = field(model, key);
	const char *name = key + 1;
	if (!v || json_is_null(v)) {
		if (required)
			return ct_fail(err, 400, "%s: '%s' is missing.", what, name);
		dst[0] = '\0';
		return 0;
	}
	if (!json_is_string(v))
		return ct_fail(err, 400, "%s: '%s' must be a string.", what, name);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return ct_fail(err, 400, "%s: '%s' contains a NUL character.", what, name);
	if (copy_field(dst, size, json_string_value(v), what, name, err))
		return -1;
	if (required && !dst[0])
		return ct_fail(err, 400, "%s: '%s' is empty.", what, name);
	return 0;
}

int guest_database_from_json(const json_t *j, const char *what, struct guest_database *db,
			     struct ct_error *err)
{
	if (json_is_string(j)) {
		/* A bare name: what grant_access and the create arguments may carry. */
		if (strlen(json_string_value(j)) != json_string_length(j))
			return ct_fail(err, 400, "%s: 'name' contains a NUL character.", what);
		if (!json_string_length(j))
			return ct_fail(err, 400, "%s: 'name' is empty.", what);
		return guest_database_set(db, json_string_value(j), NULL, NULL, err);
	}
	if (!json_is_object(j))
		return ct_fail(err, 400, "%s: a database must be an object or a name.", what);
	if (read_string(j, KEY_NAME, true, db->name, sizeof db->name, what, err) ||
	    read_string(j, KEY_CHARSET, false, db->character_set, sizeof db->character_set, what,
			err) ||
	    read_string(j, KEY_COLLATE, false, db->collate, sizeof db->collate, what, err))
		return -1;
	return 0;
}

int guest_user_from_json(const json_t *j, const char *what, struct guest_user *u,
			 struct ct_error *err)
{
	guest_user_clear(u);
	if (!json_is_object(j))
		return ct_fail(err, 400, "%s: a user must be an object.", what);
	if (read_string(j, KEY_NAME, true, u->name, sizeof u->name, what, err) ||
	    read_string(j, KEY_HOST, false, u->host, sizeof u->host, what, err) ||
	    read_string(j, KEY_PASSWORD, false, u->password, sizeof u->password, what, err))
		goto fail;
	if (!u->host[0])
		strcpy(u->host, DEFAULT_HOST);
	const json_t *root = field(j, KEY_IS_ROOT);
	if (root && !json_is_null(root) && !json_is_boolean(root)) {
		ct_fail(err, 400, "%s: 'is_root' must be a boolean.", what);
		goto fail;
	}
	u->is_root = json_is_true(root);
	const json_t *dbs = field(j, KEY_DBS);
	if (dbs && !json_is_null(dbs) && !json_is_array(dbs)) {
		ct_fail(err, 400, "%s: 'databases' must be a list.", what);
		goto fail;
	}
	char where[128];
	snprintf(where, sizeof where, "%s.databases", what);
	if (guest_databases_from_json(dbs, where, &u->databases, &u->n_databases, err))
		goto fail;
	return 0;
fail:
	guest_user_clear(u);
	return -1;
}

int guest_databases_from_json(const json_t *list, const char *what, struct guest_database **out,
			      size_t *n, struct ct_error *err)
{
	*out = NULL;
	*n = 0;
	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return ct_fail(err, 400, "%s: databases must be a list.", what);
	size_t count = json_array_size(list);
	if (!count)
		return 0;
	struct guest_database *dbs = calloc(count, sizeof *dbs);
	if (!dbs)
		return ct_fail(err, 500, "out of memory");
	for (size_t i = 0; i < count; i++) {
		char where[128];
		snprintf(where, sizeof where, "%s[%zu]", what, i);
		if (guest_database_from_json(json_array_get(list, i), where, &dbs[i], err)) {
			free(dbs);
			return -1;
		}
	}
	*out = dbs;
	*n = count;
	return 0;
}

int guest_users_from_json(const json_t *list, const char *what, struct guest_user **out, size_t *n,
			  struct ct_error *err)
{
	*out = NULL;
	*n = 0;
	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return ct_fail(err, 400, "%s: users must be a list.", what);
	size_t count = json_array_size(list);
	if (!count)
		return 0;
	struct guest_user *users = calloc(count, sizeof *users);
	if (!users)
		return ct_fail(err, 500, "out of memory");
	for (size_t i = 0; i < count; i++) {
		char where[128];
		snprintf(where, sizeof where, "%s[%zu]", what, i);
		if (guest_user_from_json(json_array_get(list, i), where, &users[i], err)) {
			guest_users_free(users, count);
			return -1;
		}
	}
	*out = users;
	*n = count;
	return 0;
}

int guest_page_from_json(const json_t *page, const json_t **items, char next[GUEST_MARKER_SIZE],
			 struct ct_error *err)
{
	const json_t *list = json_array_get(page, 0), *marker = json_array_get(page, 1);
	if (!json_is_array(page) || json_array_size(page) != 2 || !json_is_array(list))
		return ct_fail(err, 400, "a page must be [[items], next_marker].");
	next[0] = '\0';
	if (!json_is_null(marker)) {
		if (!json_is_string(marker) ||
		    strlen(json_string_value(marker)) != json_string_length(marker))
			return ct_fail(err, 400, "a page's next marker must be a string or null.");
		if (copy_field(next, GUEST_MARKER_SIZE, json_string_value(marker), "page", "marker",
			       err))
			return -1;
	}
	*items = list;
	return 0;
}

/* --- the agent's field readers -------------------------------------------- */

const char *guest_model_name(const json_t *model)
{
	return string_field(model, KEY_NAME);
}

const char *guest_model_host(const json_t *model)
{
	return string_field(model, KEY_HOST);
}

const char *guest_model_password(const json_t *model)
{
	return string_field(model, KEY_PASSWORD);
}

const char *guest_model_character_set(const json_t *model)
{
	return string_field(model, KEY_CHARSET);
}

const char *guest_model_collate(const json_t *model)
{
	return string_field(model, KEY_COLLATE);
}

const json_t *guest_model_databases(const json_t *user)
{
	return field(user, KEY_DBS);
}

const char *guest_model_db_name(const json_t *entry)
{
	return json_is_string(entry) ? json_string_value(entry) : guest_model_name(entry);
}

/* --- backups ------------------------------------------------------------------- */

json_t *guest_store_access_to_json(const struct store_access *a)
{
	if (!strcmp(a->kind, "swift"))
		return json_pack("{s:s,s:s,s:s,s:I,s:I,s:I}", "kind", a->kind, "storage_url",
				 a->storage_url, "auth_token", a->auth_token, "segment_max_size",
				 (json_int_t)a->segment_max_size, "timeout", (json_int_t)a->timeout,
				 "list_page_size", (json_int_t)a->list_page_size);
	return json_pack("{s:s,s:s}", "kind", a->kind, "backups_dir", a->backups_dir);
}

static json_t *link_to_json(const struct guest_backup_link *l)
{
	json_t *o = json_pack("{s:s,s:s?,s:s?}", "id", l->id, "location", l->location, "checksum",
			      l->checksum);
	if (o && l->backup_type)
		json_object_set_new(o, "backup_type", json_string(l->backup_type));
	if (o && l->encryption_key)
		json_object_set_new(o, "encryption_key", json_string(l->encryption_key));
	return o;
}

json_t *guest_backup_request_to_json(const struct guest_backup_request *r)
{
	json_t *store = guest_store_access_to_json(r->store);
	json_t *parent = r->parent ? link_to_json(r->parent) : json_null();
	if (!store || !parent) {
		json_decref(store);
		json_decref(parent);
		return NULL;
	}
	return json_pack("{s:s,s:s,s:s?,s:s,s:s,s:n,s:o,s:s,s:s,s:s,s:s,s:s,s:o}", "id", r->id,
			 "name", r->name, "description", r->description, "instance_id",
			 r->instance_id, "backup_type", r->backup_type, "checksum", "parent",
			 parent, "datastore", r->datastore, "datastore_version",
			 r->datastore_version, "swift_container", r->swift_container, "location",
			 r->location, "encryption_key", r->encryption_key, "store", store);
}

json_t *guest_restore_info_to_json(const struct guest_restore_info *r)
{
	json_t *chain = json_array();
	json_t *store = guest_store_access_to_json(r->store);
	for (size_t i = 0; chain && i < r->n_chain; i++) {
		json_t *l = link_to_json(&r->chain[i]);
		if (!l || json_array_append_new(chain, l)) {
			json_decref(chain);
			chain = NULL;
		}
	}
	if (!chain || !store) {
		json_decref(chain);
		json_decref(store);
		return NULL;
	}
	json_t *info = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:o,s:o}", "id", r->id, "instance_id",
				 r->instance_id, "location", r->location, "type", r->type,
				 "checksum", r->checksum, "chain", chain, "store", store);
	if (info && r->restore_point) {
		const struct guest_restore_point *p = r->restore_point;
		json_t *point =
			json_pack("{s:I,s:{s:s,s:s}}", "time", (json_int_t)p->time, "archive",
				  "prefix", p->archive_prefix, "encryption_key", p->encryption_key);
		if (!point || json_object_set_new(info, "restore_point", point)) {
			json_decref(info);
			return NULL;
		}
	}
	return info;
}

json_t *guest_archive_request_to_json(const struct guest_archive_request *a)
{
	json_t *store = guest_store_access_to_json(a->store);
	return store ? json_pack("{s:s,s:s,s:o,s:I}", "prefix", a->prefix, "encryption_key",
				 a->encryption_key, "store", store, "interval",
				 (json_int_t)a->interval)
		     : NULL;
}

/* --- TLS material ----------------------------------------------------------- */

json_t *guest_tls_to_json(const struct guest_tls *tls)
{
	return json_pack("{s:s,s:s,s:s}", "cert", tls->cert_pem, "key", tls->key_pem, "ca",
			 tls->ca_pem);
}

static const char *tls_field(const json_t *j, const char *key, const char *begin, const char *end,
			     struct ct_error *err)
{
	const json_t *v = json_object_get(j, key);
	const char *text = json_string_value(v);
	size_t len = text ? json_string_length(v) : 0;
	if (!text || len != strlen(text) || len > GUEST_TLS_PEM_MAX ||
	    strncmp(text, begin, strlen(begin)) || !strstr(text, end)) {
		ct_fail(err, 400, "ctrove_tls.%s is not a PEM %s.", key, end);
		return NULL;
	}
	return text;
}

int guest_tls_from_json(const json_t *j, struct guest_tls *out, struct ct_error *err)
{
	if (!json_is_object(j))
		return ct_fail(err, 400, "ctrove_tls must be an object.");
	if (!(out->cert_pem =
		      tls_field(j, "cert", "-----BEGIN CERTIFICATE-----", "CERTIFICATE", err)) ||
	    !(out->key_pem = tls_field(j, "key", "-----BEGIN ", "PRIVATE KEY", err)) ||
	    !(out->ca_pem = tls_field(j, "ca", "-----BEGIN CERTIFICATE-----", "CERTIFICATE", err)))
		return -1;
	return 0;
}
