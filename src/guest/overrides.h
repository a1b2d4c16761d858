/*
 * overrides.h — a configuration group's values as the guest receives them
 * (update_overrides / apply_overrides / prepare's overrides: {name: value},
 * trove-guest.md §6) checked and rendered into an override file for
 * MariaDB's my.cnf or PostgreSQL's postgresql.conf. The control plane checks
 * values against the rules; this is the guest's own check, so no message can
 * write a second setting into a server's config: names are [A-Za-z0-9_.-],
 * strings hold no control character, quote, backslash, '#' or ';', and are
 * written quoted. Pure: may not touch files or servers.
 */
#ifndef CT_GUEST_OVERRIDES_H
#define CT_GUEST_OVERRIDES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* The user override file's name in an instance's conf.d (Trove's). */
#define OVERRIDES_MYCNF_FILE  "20-user-001-common.cnf"
#define OVERRIDES_PGCONF_FILE "20-user-001-common.conf"

enum overrides_syntax { OVERRIDES_MYCNF, OVERRIDES_PGCONF };

/* 0 when every name and value may be written; 400 otherwise. allow_null:
 * apply_overrides' "back to the base value". */
int overrides_check(const json_t *overrides, bool allow_null, struct ct_error *err);
/* The override file's text (malloc'd, free()); NULL with err on a bad value. */
char *overrides_render(const json_t *overrides, enum overrides_syntax syntax, struct ct_error *err);
/* "<digits>[KMG]" (my.cnf sizes) as bytes; false when text is not one. */
bool overrides_size_bytes(const char *text, long long *out);

#endif
