/*
 * meta.c — the metadata recorded with a backup object (struct store_meta).
 *
 * Keys are [a-z][a-z0-9_]* so that Swift's X-Object-Meta-<key> (with '_' sent
 * as '-') maps back to the same key; values are printable ASCII, because HTTP
 * headers carry them; the limits are Swift's. Pure functions over the caller's
 * struct; may not allocate.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "storage/store.h"

static bool key_valid(const char *key)
{
	size_t n = strlen(key);
	if (!n || n > STORE_META_KEY_MAX || key[0] < 'a' || key[0] > 'z')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = key[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static bool value_valid(const char *value)
{
	size_t n = strlen(value);
	if (n > STORE_META_VALUE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)value[i] < 0x20 || (unsigned char)value[i] > 0x7e)
			return false;
	return true;
}

static size_t meta_total(const struct store_meta *meta)
{
	size_t total = 0;
	for (unsigned i = 0; i < meta->count && i < STORE_META_MAX; i++)
		total += strlen(meta->item[i].key) + strlen(meta->item[i].value);
	return total;
}

static int check_item(const char *key, const char *value, struct ct_error *err)
{
	if (!key || !key_valid(key))
		return ct_fail(err, 400,
			       "Backup metadata key '%.64s' is invalid: 1-%d of a-z, 0-9 and '_', "
			       "starting with a letter.",
			       key && value_valid(key) ? key : "", STORE_META_KEY_MAX);
	if (!value || !value_valid(value))
		return ct_fail(err, 400,
			       "Backup metadata '%s' must be at most %d printable ASCII "
			       "characters.",
			       key, STORE_META_VALUE_MAX);
	return 0;
}

const char *store_meta_get(const struct store_meta *meta, const char *key)
{
	for (unsigned i = 0; i < meta->count && i < STORE_META_MAX; i++)
		if (!strcmp(meta->item[i].key, key))
			return meta->item[i].value;
	return NULL;
}

int store_meta_set(struct store_meta *meta, const char *key, const char *value,
		   struct ct_error *err)
{
	if (check_item(key, value, err))
		return -1;
	if (meta->count > STORE_META_MAX)
		return ct_fail(err, 400, "Backup metadata holds more than %d items.",
			       STORE_META_MAX);
	unsigned i = 0;
	while (i < meta->count && strcmp(meta->item[i].key, key))
		i++;
	size_t total = meta_total(meta) + strlen(key) + strlen(value);
	if (i < meta->count)
		total -= strlen(meta->item[i].key) + strlen(meta->item[i].value);
	if (total > STORE_META_TOTAL_MAX)
		return ct_fail(err, 400, "Backup metadata may hold at most %d bytes.",
			       STORE_META_TOTAL_MAX);
	if (i == meta->count) {
		if (meta->count == STORE_META_MAX)
			return ct_fail(err, 400, "Backup metadata may hold at most %d items.",
				       STORE_META_MAX);
		meta->count++;
	}
	snprintf(meta->item[i].key, sizeof meta->item[i].key, "%s", key);
	snprintf(meta->item[i].value, sizeof meta->item[i].value, "%s", value);
	return 0;
}

int store_meta_check(const struct store_meta *meta, struct ct_error *err)
{
	if (meta->count > STORE_META_MAX)
		return ct_fail(err, 400, "Backup metadata may hold at most %d items.",
			       STORE_META_MAX);
	for (unsigned i = 0; i < meta->count; i++) {
		const struct store_meta_item *item = &meta->item[i];
		/* A caller filling the struct by hand may leave a field unterminated. */
		if (!memchr(item->key, '\0', sizeof item->key) ||
		    !memchr(item->value, '\0', sizeof item->value))
			return ct_fail(err, 400, "Backup metadata item %u is not terminated.", i);
		if (check_item(item->key, item->value, err))
			return -1;
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(meta->item[j].key, item->key))
				return ct_fail(err, 400, "Backup metadata key '%s' appears twice.",
					       item->key);
	}
	if (meta_total(meta) > STORE_META_TOTAL_MAX)
		return ct_fail(err, 400, "Backup metadata may hold at most %d bytes.",
			       STORE_META_TOTAL_MAX);
	return 0;
}
