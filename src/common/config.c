/*
 * config.c — trove.conf parsing (inih) and typed values for config.h.
 */
#include "common/config.h"

#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct cfg_option {
	const char *section;
	const char *name;
	enum cfg_type type;
	const char *def;
	const char *help;
};

#define CFG_ROW(id, section, name, type, def, help) {section, name, type, def, help},
static const struct cfg_option options[CFG__COUNT] = {CT_CONFIG_OPTIONS(CFG_ROW)};
#undef CFG_ROW

static char *values[CFG__COUNT]; /* NULL = default */
static long int_values[CFG__COUNT];

/* Options outside the table, kept for cfg_lookup(). */
struct cfg_extra {
	char *section;
	char *name;
	char *value;
	struct cfg_extra *next;
};
static struct cfg_extra *extras;

static int parse_bool(const char *text, bool *out)
{
	if (!strcasecmp(text, "true") || !strcasecmp(text, "yes") || !strcasecmp(text, "on") ||
	    !strcmp(text, "1")) {
		*out = true;
		return 0;
	}
	if (!strcasecmp(text, "false") || !strcasecmp(text, "no") || !strcasecmp(text, "off") ||
	    !strcmp(text, "0")) {
		*out = false;
		return 0;
	}
	return -1;
}

static int parse_value(enum cfg_id id, const char *text, long *out, struct ct_error *err)
{
	const struct cfg_option *opt = &options[id];
	if (opt->type == CFG_INT) {
		char *end;
		errno = 0;
		long v = strtol(text, &end, 10);
		if (errno || end == text || *end)
			return ct_fail(err, 400, "[%s] %s: '%s' is not an integer", opt->section,
				       opt->name, text);
		*out = v;
	} else if (opt->type == CFG_BOOL) {
		bool b;
		if (parse_bool(text, &b))
			return ct_fail(err, 400, "[%s] %s: '%s' is not a boolean", opt->section,
				       opt->name, text);
		*out = b;
	}
	return 0;
}

void cfg_reset(void)
{
	cfg_free();
	for (int i = 0; i < CFG__COUNT; i++) {
		long v = 0;
		parse_value((enum cfg_id)i, options[i].def, &v, NULL);
		int_values[i] = v;
	}
}

int cfg_set(enum cfg_id id, const char *value, struct ct_error *err)
{
	long v = 0;
	if (parse_value(id, value, &v, err))
		return -1;
	char *copy = strdup(value);
	if (!copy)
		return ct_fail(err, 500, "out of memory");
	free(values[id]);
	values[id] = copy;
	int_values[id] = v;
	return 0;
}

static int find_option(const char *section, const char *name)
{
	for (int i = 0; i < CFG__COUNT; i++)
		if (!strcasecmp(options[i].section, section) && !strcmp(options[i].name, name))
			return i;
	return -1;
}

static int set_extra(const char *section, const char *name, const char *value)
{
	for (struct cfg_extra *e = extras; e; e = e->next)
		if (!strcasecmp(e->section, section) && !strcmp(e->name, name)) {
			char *copy = strdup(value);
			if (!copy)
				return -1;
			free(e->value);
			e->value = copy;
			return 0;
		}
	struct cfg_extra *e = calloc(1, sizeof *e);
	if (!e)
		return -1;
	e->section = strdup(section);
	e->name = strdup(name);
	e->value = strdup(value);
	e->next = extras;
	extras = e;
	return (e->section && e->name && e->value) ? 0 : -1;
}

struct load_state {
	struct ct_error *err;
	const char *path;
	int failed;
};

static int on_ini_entry(void *user, const char *section, const char *name, const char *value)
{
	struct load_state *st = user;
	int id = find_option(section, name);
	if (id >= 0) {
		if (cfg_set((enum cfg_id)id, value, st->err)) {
			st->failed = 1;
			return 0;
		}
		return 1;
	}
	if (set_extra(section, name, value)) {
		ct_fail(st->err, 500, "out of memory");
		st->failed = 1;
		return 0;
	}
	return 1;
}

int cfg_load(const char *path, struct ct_error *err)
{
	struct load_state st = {err, path, 0};
	int rc = ini_parse(path, on_ini_entry, &st);
	if (st.failed)
		return -1;
	if (rc < 0)
		return ct_fail(err, 400, "cannot read config file %s", path);
	if (rc > 0)
		return ct_fail(err, 400, "%s:%d: syntax error", path, rc);
	return 0;
}

void cfg_free(void)
{
	for (int i = 0; i < CFG__COUNT; i++) {
		free(values[i]);
		values[i] = NULL;
	}
	while (extras) {
		struct cfg_extra *next = extras->next;
		free(extras->section);
		free(extras->name);
		free(extras->value);
		free(extras);
		extras = next;
	}
}

const char *cfg_str(enum cfg_id id)
{
	return values[id] ? values[id] : options[id].def;
}

long cfg_int(enum cfg_id id)
{
	return int_values[id];
}

bool cfg_bool(enum cfg_id id)
{
	return int_values[id] != 0;
}

bool cfg_list_contains(enum cfg_id id, const char *item)
{
	const char *p = cfg_str(id);
	size_t len = strlen(item);
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *start = p;
		while (*p && *p != ',')
			p++;
		const char *end = p;
		while (end > start && end[-1] == ' ')
			end--;
		if ((size_t)(end - start) == len && !strncasecmp(start, item, len))
			return true;
	}
	return false;
}

const char *cfg_lookup(const char *section, const char *name)
{
	int id = find_option(section, name);
	if (id >= 0)
		return cfg_str((enum cfg_id)id);
	for (struct cfg_extra *e = extras; e; e = e->next)
		if (!strcasecmp(e->section, section) && !strcmp(e->name, name))
			return e->value;
	return NULL;
}

void cfg_print_help(FILE *out)
{
	static const char *const type_names[] = {"string", "integer", "boolean", "list"};
	fprintf(out, "# ctrove configuration options\n\n"
		     "Generated by `ctrove --help-config`; the table lives in "
		     "`src/common/config_options.h`.\n\n"
		     "| section | option | type | default | description |\n"
		     "|---|---|---|---|---|\n");
	for (int i = 0; i < CFG__COUNT; i++)
		fprintf(out, "| `[%s]` | `%s` | %s | `%s` | %s |\n", options[i].section,
			options[i].name, type_names[options[i].type], options[i].def,
			options[i].help);
}
