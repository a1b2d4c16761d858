/*
 * registry.c — the backup stores ctrove knows, and the choice among them by
 * [DEFAULT] storage_strategy (Trove's option; ctrove's default is local).
 *
 * A new store is one row here and one file implementing backend.h; nothing
 * else in the tree names a store. May not hold state: each call opens a new
 * store the caller owns.
 */
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "common/config.h"
#include "storage/local_store.h"
#include "storage/store.h"
#include "storage/swift_store.h"

static struct backup_store *open_local(struct ct_error *err)
{
	char dir[PATH_MAX];
	if (local_store_dir(dir, err))
		return NULL;
	return local_store_new(dir, err);
}

static struct backup_store *open_local_access(const struct store_access *a, struct ct_error *err)
{
	if (a->backups_dir[0] != '/') {
		ct_fail(err, 400, "A local backup store needs an absolute backups_dir.");
		return NULL;
	}
	return local_store_new(a->backups_dir, err);
}

static const struct {
	const char *kind;
	struct backup_store *(*open)(struct ct_error *err); /* NULL = a slot, not yet written */
	struct backup_store *(*open_access)(const struct store_access *a, struct ct_error *err);
} stores[] = {
	{"local", open_local, open_local_access},
	{"swift", swift_store_new, swift_store_new_access}, /* segments + SLO manifest */
	{"s3", NULL, NULL}, /* S3-compatible (bucket = container, multipart upload) */
};

struct backup_store *backup_store_open_access(const struct store_access *access,
					      struct ct_error *err)
{
	for (size_t i = 0; i < sizeof stores / sizeof stores[0]; i++) {
		if (strcmp(access->kind, stores[i].kind))
			continue;
		if (!stores[i].open_access) {
			ct_fail(err, 501, "Backup storage '%s' is not implemented yet.",
				stores[i].kind);
			return NULL;
		}
		return stores[i].open_access(access, err);
	}
	ct_fail(err, 400, "Unknown backup storage '%.16s'.", access->kind);
	return NULL;
}

struct backup_store *backup_store_new(struct ct_error *err)
{
	const char *kind = cfg_str(CFG_STORAGE_STRATEGY);
	for (size_t i = 0; i < sizeof stores / sizeof stores[0]; i++) {
		if (strcasecmp(kind, stores[i].kind))
			continue;
		if (!stores[i].open) {
			ct_fail(err, 501,
				"Backup storage '%s' is not implemented yet; set [DEFAULT] "
				"storage_strategy = local.",
				stores[i].kind);
			return NULL;
		}
		return stores[i].open(err);
	}
	ct_fail(err, 500,
		"[DEFAULT] storage_strategy '%.64s' is unknown; use local or swift (s3 "
		"is not implemented yet).",
		kind);
	return NULL;
}
