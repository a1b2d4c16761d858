/*
 * mariadb_overrides.c — configuration groups on a MariaDB/MySQL instance
 * (trove-guest.md §6): update_overrides writes or removes the user override
 * <run>/conf.d/20-user-001-common.cnf, which my.cnf includes after the base
 * config and before the instance's own section (so a group wins over the
 * flavor's values, never over the instance's paths); apply_overrides sets
 * values live with SET GLOBAL. A null value goes back to what my.cnf without
 * the group gives: its last [mysqld] value, else the server's default.
 * Owns the user override file; may not touch the rest of the instance's config.
 */
#define LOG_MODULE "guest.mariadb"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/mariadb_internal.h"
#include "guest/overrides.h"
#include "guest/overrides_file.h"

int mdb_update_overrides(const struct guest_instance *inst, const json_t *overrides, bool remove,
			 struct ct_error *err)
{
	struct mdb_paths p;
	if (mdb_paths(inst, &p, err))
		return -1;
	return overrides_file_store(inst, p.confd, OVERRIDES_MYCNF_FILE, OVERRIDES_MYCNF, overrides,
				    remove, err);
}

static void normalise(char *name)
{
	for (; *name; name++)
		if (*name == '-')
			*name = '_';
}

/* The last value of key in the server's sections of my.cnf, into out. */
static bool base_value(const char *cnf, const char *key, char *out, size_t size)
{
	FILE *f = fopen(cnf, "r");
	if (!f)
		return false;
	char line[2048];
	bool server_section = false, found = false;
	while (fgets(line, sizeof line, f)) {
		char *t = line;
		while (*t == ' ' || *t == '\t')
			t++;
		t[strcspn(t, "\r\n")] = '\0';
		if (*t == '[') {
			server_section = !strncmp(t, "[mysqld]", 8) || !strncmp(t, "[server]", 8) ||
					 !strncmp(t, "[mariadb]", 9) ||
					 !strncmp(t, "[mariadbd]", 10);
			continue;
		}
		if (!server_section || !*t || *t == '#' || *t == ';' || *t == '!')
			continue;
		char name[256];
		size_t n = strcspn(t, " \t=");
		if (n >= sizeof name)
			continue;
		memcpy(name, t, n);
		name[n] = '\0';
		normalise(name);
		if (strcmp(name, key))
			continue;
		const char *v = t + n;
		while (*v == ' ' || *v == '\t' || *v == '=')
			v++;
		size_t vl = strlen(v);
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
			v++;
			vl -= 2;
		}
		if (vl >= size)
			continue;
		memcpy(out, v, vl);
		out[vl] = '\0';
		found = true;
	}
	fclose(f);
	return found;
}

static void add_text_value(struct sqlb *b, const char *text)
{
	long long bytes;
	char num[32];
	if (overrides_size_bytes(text, &bytes)) {
		snprintf(num, sizeof num, "%lld", bytes);
		sqlb_raw(b, num);
	} else if (!strcasecmp(text, "ON") || !strcasecmp(text, "OFF") ||
		   !strcasecmp(text, "TRUE") || !strcasecmp(text, "FALSE")) {
		sqlb_raw(b, !strcasecmp(text, "ON") || !strcasecmp(text, "TRUE") ? "1" : "0");
	} else {
		sqlb_str(b, text);
	}
}

int mdb_apply_overrides(const struct guest_instance *inst, const json_t *overrides,
			struct ct_error *err)
{
	struct mdb_paths p;
	if (overrides_check(overrides, true, err) || mdb_paths(inst, &p, err))
		return -1;
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return -1;
	char failed[512] = "";
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)overrides, key, v) {
		char name[160], text[1100], num[64];
		snprintf(name, sizeof name, "%s", key);
		normalise(name);
		struct sqlb b;
		sqlb_init(&b, c);
		sqlb_raw(&b, "SET GLOBAL ");
		sqlb_raw(&b, name); /* checked: [A-Za-z0-9_.] */
		sqlb_raw(&b, " = ");
		if (json_is_null(v)) {
			if (base_value(p.cnf, name, text, sizeof text))
				add_text_value(&b, text);
			else
				sqlb_raw(&b, "DEFAULT");
		} else if (json_is_boolean(v)) {
			sqlb_raw(&b, json_is_true(v) ? "1" : "0");
		} else if (json_is_integer(v)) {
			snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
			sqlb_raw(&b, num);
		} else if (json_is_real(v)) {
			snprintf(num, sizeof num, "%.17g", json_real_value(v));
			sqlb_raw(&b, num);
		} else {
			add_text_value(&b, json_string_value(v));
		}
		unsigned code = mdb_run(&b);
		if (code) {
			log_warning("SET GLOBAL %s failed: error %u", name, code);
			size_t used = strlen(failed);
			snprintf(failed + used, sizeof failed - used, "%s%s", used ? ", " : "",
				 name);
		}
	}
	libmariadb.mysql_close(c);
	if (failed[0])
		return ct_fail(err, 500, "The server refused the new values of: %s", failed);
	log_info("configuration applied live (%zu values)", json_object_size(overrides));
	return 0;
}
