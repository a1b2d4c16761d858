/*
 * config.h — typed access to trove.conf (INI; the options are declared once, in
 * config_options.h).
 *
 * cfg_load() reads one or more files in order, later values winning, the way
 * oslo.config does with several --config-file. After start-up the values are
 * read-only, so any thread may read them without locks. Options not in the table
 * (per-datastore sections such as [mariadb]) are kept too and read with
 * cfg_lookup(). Owns every value string; callers borrow them.
 */
#ifndef CT_COMMON_CONFIG_H
#define CT_COMMON_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "common/config_options.h"
#include "common/error.h"

enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL, CFG_LIST };

#define CFG_ENUM(id, section, name, type, def, help) CFG_##id,
enum cfg_id { CT_CONFIG_OPTIONS(CFG_ENUM) CFG__COUNT };
#undef CFG_ENUM

/* Set every option to its default. */
void cfg_reset(void);
/* Read an INI file over the current values. 400-class errors name file:line. */
int cfg_load(const char *path, struct ct_error *err);
/* Set one value from text (command line, tests). */
int cfg_set(enum cfg_id id, const char *value, struct ct_error *err);
void cfg_free(void);

const char *cfg_str(enum cfg_id id);
long cfg_int(enum cfg_id id);
bool cfg_bool(enum cfg_id id);
/* True when `item` is one of the comma-separated values (case-insensitive). */
bool cfg_list_contains(enum cfg_id id, const char *item);

/* Any option by section and name, table or not; NULL when unset. */
const char *cfg_lookup(const char *section, const char *name);

/* The option table as Markdown (for docs/config.md and --help-config). */
void cfg_print_help(FILE *out);

#endif
