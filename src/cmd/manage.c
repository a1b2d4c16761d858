/*
 * manage.c — see manage.h. Each subcommand is a row of the table at the end:
 * name, positional arguments, options and the function that runs it.
 */
#define LOG_MODULE "manage"
#include "cmd/manage.h"

#include "cmd/manage_pki.h"
#include "cmd/password_input.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "db/datastores.h"
#include "db/flavors.h"
#include "db/identity.h"
#include "db/parameters.h"
#include "db/store.h"

#define MAX_ARGS 8

struct manage_args {
	const char *pos[MAX_ARGS];
	int npos;
	const char *version;	    /* --version */
	const char *image_tags;	    /* --image-tags */
	const char *password_file;  /* --password-file; standard input when NULL */
	const char *user;	    /* --user (identity_bootstrap) */
	const char *project;	    /* --project (identity_bootstrap) */
	const char *sans[MAX_ARGS]; /* --san, repeated (issue_certificate) */
	size_t n_sans;
	const char *days; /* --days */
	const char *out;  /* --out */
};

struct subcommand {
	const char *name;
	const char *usage;
	int min_args;
	int max_args;
	int (*run)(const struct manage_args *a, struct ct_error *err);
};

static int cmd_db_sync(const struct manage_args *a, struct ct_error *err)
{
	(void)a;
	if (db_sync(err))
		return -1;
	printf("database schema is at version %d\n", db_latest_version());
	return 0;
}

static int cmd_datastore_update(const struct manage_args *a, struct ct_error *err)
{
	struct datastore d;
	if (ds_ensure(a->pos[0], &d, err))
		return -1;
	const char *version = a->pos[1];
	if (!*version) {
		if (ds_set_default(d.id, NULL, err))
			return -1;
		printf("Datastore '%s' updated.\n", d.name);
		return 0;
	}
	struct ds_version v;
	if (ids_is_uuid(version) ? dsv_by_id(version, 400, &v, err)
				 : dsv_by_name(d.id, version, &v, err))
		return -1;
	if (strcmp(v.datastore_id, d.id))
		return ct_fail(err, 400, "version %s does not belong to datastore %s", version,
			       d.name);
	if (!v.active)
		return ct_fail(err, 400, "Datastore version '%s' is not active.", v.name);
	if (ds_set_default(d.id, v.id, err))
		return -1;
	printf("Datastore '%s' updated.\n", d.name);
	return 0;
}

static int cmd_datastore_version_update(const struct manage_args *a, struct ct_error *err)
{
	struct datastore d;
	struct ds_version v;
	memset(&v, 0, sizeof v);
	if (strcmp(a->pos[5], "0") && strcmp(a->pos[5], "1"))
		return ct_fail(err, 400, "active must be 0 or 1");
	if (ds_find(a->pos[0], &d, err))
		return -1;
	snprintf(v.datastore_id, sizeof v.datastore_id, "%s", d.id);
	snprintf(v.name, sizeof v.name, "%s", a->pos[1]);
	snprintf(v.version, sizeof v.version, "%s", a->version ? a->version : a->pos[1]);
	snprintf(v.manager, sizeof v.manager, "%s", a->pos[2]);
	snprintf(v.image_id, sizeof v.image_id, "%s", a->pos[3]);
	snprintf(v.packages, sizeof v.packages, "%s", a->pos[4]);
	snprintf(v.image_tags, sizeof v.image_tags, "%s", a->image_tags ? a->image_tags : "");
	v.active = !strcmp(a->pos[5], "1");
	if (dsv_upsert(&v, err))
		return -1;
	printf("Datastore version '%s(%s)' updated.\n", v.name, v.version);
	return 0;
}

/* The version named by (datastore, name[, --version]). */
static int find_version(const struct manage_args *a, const char *ds_name, const char *name,
			struct ds_version *v, struct ct_error *err)
{
	struct datastore d;
	if (ds_find(ds_name, &d, err))
		return -1;
	if (!a->version)
		return dsv_by_name(d.id, name, v, err);
	struct ds_version *all;
	size_t count;
	if (dsv_list(d.id, false, &all, &count, err))
		return -1;
	int found = -1;
	for (size_t i = 0; i < count; i++)
		if (!strcmp(all[i].name, name) && !strcmp(all[i].version, a->version)) {
			*v = all[i];
			found = 0;
		}
	free(all);
	return found ? ct_fail(err, 400, "Datastore version '%s(%s)' cannot be found.", name,
			       a->version)
		     : 0;
}

/* Rules files are small; anything bigger is refused, counted on the bytes
 * actually read (a chunked answer or a lying Content-Length included). */
#define RULES_MAX_BYTES (16L << 20)

struct fetched {
	FILE *out;
	size_t bytes;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
	struct fetched *f = user;
	size_t n = size * nmemb;
	if (f->bytes + n > (size_t)RULES_MAX_BYTES)
		return 0; /* curl fails with CURLE_WRITE_ERROR */
	f->bytes += n;
	return fwrite(data, 1, n, f->out);
}

static int fetch_url(const char *url, struct fetched *f, struct ct_error *err)
{
	CURL *curl = curl_easy_init();
	if (!curl)
		return ct_fail(err, 500, "cannot start an HTTP client");
	/* http and https only, redirects included: never file://, never a
	 * protocol that could read the machine's own files. */
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)RULES_MAX_BYTES);
	CURLcode rc = curl_easy_perform(curl);
	curl_easy_cleanup(curl);
	if (rc == CURLE_OK)
		return 0;
	if (rc == CURLE_WRITE_ERROR || rc == CURLE_FILESIZE_EXCEEDED)
		return ct_fail(err, 413, "%s is larger than %ld bytes", url, RULES_MAX_BYTES);
	if (rc == CURLE_UNSUPPORTED_PROTOCOL)
		return ct_fail(err, 400, "%s: only http and https URLs are read", url);
	return ct_fail(err, 400, "cannot fetch %s: %s", url, curl_easy_strerror(rc));
}

static int read_file(const char *path, struct fetched *f, struct ct_error *err)
{
	FILE *in = fopen(path, "rb");
	if (!in)
		return ct_fail(err, 400, "cannot open %s", path);
	char chunk[8192];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof chunk, in)) > 0)
		if (on_body(chunk, 1, n, f) != n) {
			rc = ct_fail(err, 413, "%s is larger than %ld bytes", path,
				     RULES_MAX_BYTES);
			break;
		}
	fclose(in);
	return rc;
}

/* Read a local path or an http(s) URL into a malloc'd buffer. */
static char *read_source(const char *source, size_t *len, struct ct_error *err)
{
	char *buf = NULL;
	struct fetched f = {open_memstream(&buf, len), 0};
	if (!f.out) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	int rc = strstr(source, "://") ? fetch_url(source, &f, err) : read_file(source, &f, err);
	fclose(f.out);
	if (rc) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int cmd_load_parameters(const struct manage_args *a, struct ct_error *err)
{
	struct ds_version v;
	if (find_version(a, a->pos[0], a->pos[1], &v, err))
		return -1;
	size_t len = 0;
	char *text = read_source(a->pos[2], &len, err);
	if (!text)
		return -1;
	json_t *rules = json_load_rules(text, len, err);
	free(text);
	if (!rules)
		return -1;
	int n = param_load_rules(v.id, rules, err);
	json_decref(rules);
	if (n < 0)
		return -1;
	printf("Loaded %d configuration parameters for %s %s.\n", n, a->pos[0], v.name);
	return 0;
}

static int cmd_remove_parameters(const struct manage_args *a, struct ct_error *err)
{
	struct ds_version v;
	if (find_version(a, a->pos[0], a->pos[1], &v, err) || param_delete_all(v.id, err))
		return -1;
	printf("Removed configuration parameters of %s %s.\n", a->pos[0], v.name);
	return 0;
}

static int metadata_command(const struct manage_args *a, const char *key, bool add,
			    struct ct_error *err)
{
	struct ds_version v;
	if (find_version(a, a->pos[0], a->pos[1], &v, err))
		return -1;
	char list[1024];
	snprintf(list, sizeof list, "%s", a->pos[2]);
	char *save = NULL;
	for (char *item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		while (*item == ' ')
			item++;
		if (!*item)
			continue;
		if (add ? dsv_metadata_add(v.id, key, item, err)
			: dsv_metadata_remove(v.id, key, item, err))
			return -1;
		printf("%s %s %s %s %s.\n", add ? "Added" : "Removed", key, item,
		       add ? "to" : "from", v.name);
	}
	return 0;
}

static int cmd_flavor_add(const struct manage_args *a, struct ct_error *err)
{
	return metadata_command(a, "flavor", true, err);
}

static int cmd_flavor_delete(const struct manage_args *a, struct ct_error *err)
{
	return metadata_command(a, "flavor", false, err);
}

static int cmd_volume_type_add(const struct manage_args *a, struct ct_error *err)
{
	return metadata_command(a, "volume_type", true, err);
}

static int cmd_volume_type_delete(const struct manage_args *a, struct ct_error *err)
{
	return metadata_command(a, "volume_type", false, err);
}

static int cmd_volume_type_list(const struct manage_args *a, struct ct_error *err)
{
	struct ds_version v;
	if (find_version(a, a->pos[0], a->pos[1], &v, err))
		return -1;
	char(*names)[256] = NULL;
	size_t count = 0;
	if (dsv_volume_types(v.id, &names, &count, err))
		return -1;
	for (size_t i = 0; i < count; i++)
		printf("%s\n", names[i]);
	free(names);
	return 0;
}

static int cmd_identity_bootstrap(const struct manage_args *a, struct ct_error *err)
{
	struct identity_entity project, user, admin, member, reader;
	const char *user_name = a->user ? a->user : "admin";
	const char *project_name = a->project ? a->project : "admin";
	char password[PASSWORD_MAX + 1];
	if (password_read(a->password_file, password, sizeof password, err))
		return -1;
	int failed = db_begin(err);
	if (!failed && (identity_ensure_role("admin", &admin, err) ||
			identity_ensure_role("member", &member, err) ||
			identity_ensure_role("reader", &reader, err) ||
			identity_ensure_project(project_name, &project, err) ||
			identity_set_user(user_name, password, &user, err) ||
			identity_assign(user.id, project.id, admin.id, err) ||
			identity_assign(user.id, project.id, member.id, err) || db_commit(err))) {
		db_rollback();
		failed = -1;
	}
	OPENSSL_cleanse(password, sizeof password);
	if (failed)
		return -1;
	printf("user %s (%s) is admin of project %s (%s)\n", user.name, user.id, project.name,
	       project.id);
	return 0;
}

static int cmd_user_create(const struct manage_args *a, struct ct_error *err)
{
	struct identity_entity project, user, role;
	char password[PASSWORD_MAX + 1];
	if (password_read(a->password_file, password, sizeof password, err))
		return -1;
	int failed = db_begin(err);
	if (!failed && (identity_ensure_project(a->pos[1], &project, err) ||
			identity_set_user(a->pos[0], password, &user, err) ||
			identity_ensure_role(a->pos[2], &role, err) ||
			identity_assign(user.id, project.id, role.id, err) || db_commit(err))) {
		db_rollback();
		failed = -1;
	}
	OPENSSL_cleanse(password, sizeof password);
	if (failed)
		return -1;
	printf("user %s (%s) has role %s on project %s (%s)\n", user.name, user.id, role.name,
	       project.name, project.id);
	return 0;
}

static int parse_long(const char *text, long min, long *out)
{
	char *end;
	long v = strtol(text, &end, 10);
	if (!*text || *end || v < min)
		return -1;
	*out = v;
	return 0;
}

static int cmd_flavor_create(const struct manage_args *a, struct ct_error *err)
{
	struct flavor f;
	memset(&f, 0, sizeof f);
	snprintf(f.id, sizeof f.id, "%s", a->pos[0]);
	snprintf(f.name, sizeof f.name, "%s", a->pos[1]);
	if (!f.id[0] || !f.name[0] || parse_long(a->pos[2], 1, &f.ram) ||
	    parse_long(a->pos[3], 1, &f.vcpus) || parse_long(a->pos[4], 0, &f.disk))
		return ct_fail(err, 400, "flavor_create ID NAME RAM_MB VCPUS DISK_GB");
	if (flavor_save(&f, err))
		return -1;
	printf("flavor %s (%s): %ld MB, %ld vCPU, %ld GB\n", f.name, f.id, f.ram, f.vcpus, f.disk);
	return 0;
}

static int cmd_flavor_delete_local(const struct manage_args *a, struct ct_error *err)
{
	struct flavor f;
	if (flavor_get(a->pos[0], &f, err) || flavor_delete(f.id, err))
		return -1;
	printf("flavor %s deleted\n", f.id);
	return 0;
}

static int cmd_issue_certificate(const struct manage_args *a, struct ct_error *err)
{
	return manage_issue_certificate(a->sans, a->n_sans, a->days, a->out, err);
}

static int cmd_ca_certificate(const struct manage_args *a, struct ct_error *err)
{
	(void)a;
	return manage_print_ca_certificate(err);
}

static const struct subcommand commands[] = {
	{"db_sync", "", 0, 0, cmd_db_sync},
	{"db_upgrade", "", 0, 0, cmd_db_sync},
	{"datastore_update", "DATASTORE_NAME DEFAULT_VERSION", 2, 2, cmd_datastore_update},
	{"datastore_version_update",
	 "DATASTORE VERSION_NAME MANAGER IMAGE_ID PACKAGES ACTIVE [--image-tags T1,T2] "
	 "[--version X]",
	 6, 6, cmd_datastore_version_update},
	{"db_load_datastore_config_parameters", "DATASTORE VERSION_NAME FILE_OR_URL [--version X]",
	 3, 3, cmd_load_parameters},
	{"db_remove_datastore_config_parameters", "DATASTORE VERSION_NAME [--version X]", 2, 2,
	 cmd_remove_parameters},
	{"datastore_version_flavor_add", "DATASTORE VERSION_NAME FLAVOR_IDS [--version X]", 3, 3,
	 cmd_flavor_add},
	{"datastore_version_flavor_delete", "DATASTORE VERSION_NAME FLAVOR_ID [--version X]", 3, 3,
	 cmd_flavor_delete},
	{"datastore_version_volume_type_add",
	 "DATASTORE VERSION_NAME VOLUME_TYPE_IDS [--version X]", 3, 3, cmd_volume_type_add},
	{"datastore_version_volume_type_delete",
	 "DATASTORE VERSION_NAME VOLUME_TYPE_ID [--version X]", 3, 3, cmd_volume_type_delete},
	{"datastore_version_volume_type_list", "DATASTORE VERSION_NAME [--version X]", 2, 2,
	 cmd_volume_type_list},
	{"identity_bootstrap",
	 "[--user NAME] [--project NAME] [--password-file FILE]  (the password: first line of "
	 "FILE, else standard input; never an argument)",
	 0, 0, cmd_identity_bootstrap},
	{"user_create",
	 "NAME PROJECT ROLE [--password-file FILE]  (the password: first line of FILE, else "
	 "standard input; never an argument)",
	 3, 3, cmd_user_create},
	{"flavor_create", "ID NAME RAM_MB VCPUS DISK_GB", 5, 5, cmd_flavor_create},
	{"flavor_delete", "ID", 1, 1, cmd_flavor_delete_local},
	{"issue_certificate", "--san NAME_OR_IP [--san ...] [--days N] --out DIR", 0, 0,
	 cmd_issue_certificate},
	{"ca_certificate", "  (prints the CA certificate, PEM)", 0, 0, cmd_ca_certificate},
};

/* The certificate commands touch the CA's files, not the database. */
static bool needs_schema(const struct subcommand *cmd)
{
	return cmd->run != cmd_db_sync && cmd->run != cmd_issue_certificate &&
	       cmd->run != cmd_ca_certificate;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: ctrove [--config-file FILE] manage <subcommand> [args]\n\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %s %s\n", commands[i].name, commands[i].usage);
}

int manage_main(int argc, char **argv)
{
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	const struct subcommand *cmd = NULL;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(commands[i].name, argv[0]))
			cmd = &commands[i];
	if (!cmd) {
		if (strcmp(argv[0], "help") && strcmp(argv[0], "--help"))
			fprintf(stderr, "unknown subcommand '%s'\n\n", argv[0]);
		usage(stderr);
		return 2;
	}
	struct manage_args a = {0};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--version") && i + 1 < argc)
			a.version = argv[++i];
		else if (!strcmp(argv[i], "--image-tags") && i + 1 < argc)
			a.image_tags = argv[++i];
		else if (!strcmp(argv[i], "--password-file") && i + 1 < argc)
			a.password_file = argv[++i];
		else if (!strcmp(argv[i], "--user") && i + 1 < argc)
			a.user = argv[++i];
		else if (!strcmp(argv[i], "--project") && i + 1 < argc)
			a.project = argv[++i];
		else if (!strcmp(argv[i], "--san") && i + 1 < argc && a.n_sans < MAX_ARGS)
			a.sans[a.n_sans++] = argv[++i];
		else if (!strcmp(argv[i], "--days") && i + 1 < argc)
			a.days = argv[++i];
		else if (!strcmp(argv[i], "--out") && i + 1 < argc)
			a.out = argv[++i];
		else if (a.npos < MAX_ARGS)
			a.pos[a.npos++] = argv[i];
	}
	if (a.npos < cmd->min_args || a.npos > cmd->max_args) {
		fprintf(stderr, "usage: ctrove manage %s %s\n", cmd->name, cmd->usage);
		return 2;
	}
	struct ct_error err = {0};
	/* Everything but db_sync needs the schema in place. */
	if (needs_schema(cmd)) {
		int version = db_schema_version(&err);
		if (version >= 0 && version < db_latest_version())
			ct_fail(&err, 400,
				"the database schema is at version %d; run 'ctrove manage "
				"db_sync' first",
				version);
		if (err.status) {
			fprintf(stderr, "error: %s\n", err.message);
			return 1;
		}
	}
	if (cmd->run(&a, &err)) {
		fprintf(stderr, "error: %s\n", err.message);
		return 1;
	}
	return 0;
}
