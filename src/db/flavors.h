/*
 * flavors.h — the local flavor catalog (table ctrove_flavors), standing in for
 * Nova's flavors on one machine. Lists are malloc'd arrays freed by the caller.
 */
#ifndef CT_DB_FLAVORS_H
#define CT_DB_FLAVORS_H

#include <stddef.h>

#include "common/error.h"

struct flavor {
	char id[256];
	char name[256];
	long ram; /* MB */
	long vcpus;
	long disk; /* GB */
	long ephemeral;
};

int flavor_list(struct flavor **out, size_t *count, struct ct_error *err);
/* 404 "Resource <id> cannot be found." */
int flavor_get(const char *id, struct flavor *out, struct ct_error *err);
/* Insert or replace by id (ctrove manage flavor_create). */
int flavor_save(const struct flavor *f, struct ct_error *err);
int flavor_delete(const char *id, struct ct_error *err);

#endif
