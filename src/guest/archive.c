/*
 * archive.c — see archive.h. The worker's half of a shipping round and the
 * two files that make shipping survive a restart; the agent's thread and its
 * casts are agent.c's. Owns the decoded key and the opened store of one round;
 * may not know a datastore's files or tools.
 */
#define LOG_MODULE "archive"
#include "guest/archive.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/backup_models.h"
#include "guest/guest_util.h"

#define INFO_FILE "archive_info.json"
/* On the volume: it must outlive a reboot (the run directory is on tmpfs)
 * and a lost one would restart the sequence over the stored objects. */
#define STATE_FILE ".ctrove-archive-state.json"

static int field_text(const json_t *j, const char *key, char *dst, size_t size,
		      struct ct_error *err)
{
	const json_t *v = json_object_get(j, key);
	if (!json_is_string(v) || json_string_length(v) == 0)
		return ct_fail(err, 400, "archive_info: '%s' is missing or not a string.", key);
	if (json_string_length(v) >= size)
		return ct_fail(err, 400, "archive_info: '%s' is too long.", key);
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int guest_archive_info_from_json(const json_t *j, const char *instance_id,
				 struct guest_archive_info *out, struct ct_error *err)
{
	memset(out, 0, sizeof *out);
	if (!json_is_object(j))
		return ct_fail(err, 400, "archive_info is missing or not an object.");
	if (field_text(j, "prefix", out->prefix, sizeof out->prefix, err) ||
	    field_text(j, "encryption_key", out->encryption_key, sizeof out->encryption_key, err) ||
	    guest_store_access_from_json(json_object_get(j, "store"), &out->store, err))
		goto fail;
	if (store_check_prefix(out->prefix, err))
		goto fail;
	char tail[128];
	snprintf(tail, sizeof tail, "/archive/%s/", instance_id);
	size_t plen = strlen(out->prefix), tlen = strlen(tail);
	if (plen <= tlen || strcmp(out->prefix + plen - tlen, tail) ||
	    strchr(out->prefix, '/') != out->prefix + plen - tlen) {
		ct_fail(err, 400, "archive_info: 'prefix' must be <container>/archive/%s/.",
			instance_id);
		goto fail;
	}
	struct backup_key key;
	if (backup_key_from_base64(out->encryption_key, &key, err))
		goto fail;
	explicit_bzero(&key, sizeof key);
	const json_t *interval = json_object_get(j, "interval");
	if (!interval || json_is_null(interval))
		out->interval = GUEST_ARCHIVE_INTERVAL_DEFAULT;
	else if (json_is_integer(interval) && json_integer_value(interval) >= 1 &&
		 json_integer_value(interval) <= GUEST_ARCHIVE_INTERVAL_MAX)
		out->interval = (int)json_integer_value(interval);
	else {
		ct_fail(err, 400, "archive_info: 'interval' must be an integer from 1 to %d.",
			GUEST_ARCHIVE_INTERVAL_MAX);
		goto fail;
	}
	return 0;
fail:
	guest_archive_info_wipe(out);
	return -1;
}

void guest_archive_info_wipe(struct guest_archive_info *a)
{
	explicit_bzero(a, sizeof *a);
}

static int run_path(const struct guest_instance *inst, const char *file, char *out, size_t size,
		    struct ct_error *err)
{
	if (snprintf(out, size, "%s/%s", inst->run_dir, file) >= (int)size)
		return ct_fail(err, 500, "The instance's run directory path is too long.");
	return 0;
}

int guest_archive_info_save(const struct guest_instance *inst, const json_t *archive_info,
			    struct ct_error *err)
{
	char path[GUEST_PATH_MAX + 32];
	if (run_path(inst, INFO_FILE, path, sizeof path, err))
		return -1;
	char *text = json_dumps(archive_info, JSON_COMPACT);
	if (!text)
		return ct_fail(err, 500, "Out of memory.");
	size_t len = strlen(text);
	int rc = guest_write_file(path, text, len, 0600, err);
	explicit_bzero(text, len);
	free(text);
	return rc;
}

json_t *guest_archive_info_load(const struct guest_instance *inst, struct ct_error *err)
{
	char path[GUEST_PATH_MAX + 32];
	if (run_path(inst, INFO_FILE, path, sizeof path, err))
		return NULL;
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	if (!j) {
		if (access(path, F_OK) && errno == ENOENT)
			ct_fail(err, 404, "Archiving was never started here.");
		else
			ct_fail(err, 500, "%s cannot be read: %s", path, jerr.text);
	}
	return j;
}

/* --- one round -------------------------------------------------------------------- */

int64_t guest_archive_next_seq(const struct guest_archive_ctx *ctx)
{
	return (int64_t)json_integer_value(json_object_get(ctx->state, "last_seq")) + 1;
}

json_t *guest_archive_ds_state(struct guest_archive_ctx *ctx)
{
	json_t *ds = json_object_get(ctx->state, "ds");
	if (!json_is_object(ds)) {
		ds = json_object();
		json_object_set_new(ctx->state, "ds", ds);
	}
	return ds;
}

static int save_state(struct guest_archive_ctx *ctx, struct ct_error *err)
{
	char *text = json_dumps(ctx->state, JSON_COMPACT);
	if (!text)
		return ct_fail(err, 500, "Out of memory.");
	int rc = guest_write_file(ctx->state_path, text, strlen(text), 0600, err);
	free(text);
	return rc;
}

int guest_archive_set_until(struct guest_archive_ctx *ctx, int64_t until, struct ct_error *err)
{
	ctx->caught_up = true;
	if (until <= json_integer_value(json_object_get(ctx->state, "archived_until")))
		return 0;
	json_object_set_new(ctx->state, "archived_until", json_integer(until));
	return save_state(ctx, err);
}

int guest_archive_set_gap(struct guest_archive_ctx *ctx, const char *text, struct ct_error *err)
{
	char gap[GUEST_ARCHIVE_GAP_MAX];
	snprintf(gap, sizeof gap, "%s", text);
	log_error("archive gap: %s", gap);
	json_object_set_new(ctx->state, "gap", json_string(gap));
	return save_state(ctx, err);
}

static int copy_meta(void *arg, struct store_meta *meta, struct ct_error *err)
{
	const struct store_meta *from = arg;
	for (unsigned i = 0; i < from->count; i++)
		if (store_meta_set(meta, from->item[i].key, from->item[i].value, err))
			return -1;
	return 0;
}

int guest_archive_put_file(struct guest_archive_ctx *ctx, const char *native_name, const char *path,
			   uint64_t offset, uint64_t length, const struct store_meta *meta,
			   struct ct_error *err)
{
	if (!length) {
		struct stat st;
		if (stat(path, &st))
			return ct_fail(err, 500, "Cannot read %s: %s", path, strerror(errno));
		length = (uint64_t)st.st_size > offset ? (uint64_t)st.st_size - offset : 0;
	}
	struct guest_archive_range r = {offset, length};
	return guest_archive_put_ranges(ctx, native_name, path, &r, 1, meta, err);
}

#define RANGES_MAX 8
/* One dd per range: the stream code takes a producer's stdout. */
static const char RANGES_SCRIPT[] =
	"f=$1; shift; while [ $# -gt 0 ]; do dd if=\"$f\" iflag=skip_bytes,count_bytes bs=1M "
	"skip=$1 count=$2 status=none || exit 1; shift 2; done";

int guest_archive_put_ranges(struct guest_archive_ctx *ctx, const char *native_name,
			     const char *path, const struct guest_archive_range *ranges, size_t n,
			     const struct store_meta *meta, struct ct_error *err)
{
	if (n == 0 || n > RANGES_MAX)
		return ct_fail(err, 500, "An archive object is made of 1 to %d ranges.",
			       RANGES_MAX);
	int64_t seq = guest_archive_next_seq(ctx);
	char name[STORE_NAME_MAX + 64], seq_text[24];
	snprintf(seq_text, sizeof seq_text, "%" PRId64, seq);
	if (snprintf(name, sizeof name, "%s%012" PRId64 "-%s.zst.enc", ctx->prefix, seq,
		     native_name) > STORE_NAME_MAX)
		return ct_fail(err, 500, "The archive object's name would be too long.");
	struct store_meta *all = malloc(sizeof *all);
	struct store_object_info *info = malloc(sizeof *info);
	int rc = -1;
	if (!all || !info) {
		ct_fail(err, 500, "Out of memory.");
		goto out;
	}
	if (meta)
		*all = *meta;
	else
		memset(all, 0, sizeof *all);
	if (store_meta_set(all, "format", "ctbk1", err) ||
	    store_meta_set(all, "kind", "archive", err) ||
	    store_meta_set(all, "instance_id", ctx->inst->id, err) ||
	    store_meta_set(all, "datastore", ctx->datastore, err) ||
	    store_meta_set(all, "seq", seq_text, err))
		goto out;
	char numbers[RANGES_MAX * 2][24];
	char *argv[4 + RANGES_MAX * 2 + 1] = {"/bin/sh", "-c", (char *)RANGES_SCRIPT, "sh",
					      (char *)path};
	size_t k = 5;
	for (size_t i = 0; i < n; i++) {
		snprintf(numbers[2 * i], sizeof numbers[0], "%" PRIu64, ranges[i].offset);
		snprintf(numbers[2 * i + 1], sizeof numbers[0], "%" PRIu64, ranges[i].length);
		argv[k++] = numbers[2 * i];
		argv[k++] = numbers[2 * i + 1];
	}
	argv[k] = NULL;
	struct backup_command cmd = {.argv = argv, .uid = (uid_t)-1};
	struct ct_error put_err = {0};
	ctx->existed = false;
	if (backup_stream_from_command(ctx->store, name, ctx->key, &cmd, copy_meta, all, NULL,
				       &put_err)) {
		struct ct_error stat_err = {0};
		if (put_err.status != 409 || store_stat(ctx->store, name, info, &stat_err)) {
			*err = put_err;
			goto out;
		}
		ctx->existed = true;
		ctx->existing_meta = info->meta;
		log_warning("archive object %s was already stored: kept", name);
	}
	json_object_set_new(ctx->state, "last_seq", json_integer(seq));
	ctx->shipped++;
	rc = save_state(ctx, err);
	if (!rc)
		log_debug("archived %s", name);
out:
	free(all);
	free(info);
	return rc;
}

static int highest_seq(const struct store_entry *e, void *arg, struct ct_error *err)
{
	(void)err;
	const char *base = strrchr(e->name, '/');
	base = base ? base + 1 : e->name;
	if (strspn(base, "0123456789") == 12 && base[12] == '-') {
		int64_t seq = strtoll(base, NULL, 10);
		if (seq > *(int64_t *)arg)
			*(int64_t *)arg = seq;
	}
	return 0;
}

/* No progress file: a new archive, or one whose progress was lost (a new
 * volume under an old archive). Never reuse a stored sequence number; a lost
 * progress is a gap (what was shipped cannot be matched to the log). */
static int fresh_state(struct guest_archive_ctx *ctx, struct backup_store *store,
		       const char *prefix, struct ct_error *err)
{
	int64_t last = 0;
	if (store_list(store, prefix, highest_seq, &last, err))
		return -1;
	ctx->state = json_pack("{s:I,s:I,s:n,s:{}}", "last_seq", (json_int_t)last, "archived_until",
			       (json_int_t)0, "gap", "ds");
	if (!ctx->state)
		return ct_fail(err, 500, "Out of memory.");
	if (last > 0) {
		char gap[GUEST_ARCHIVE_GAP_MAX];
		snprintf(gap, sizeof gap,
			 "the archive's progress on this instance was lost after object %012lld; "
			 "shipping starts again from the oldest local log",
			 (long long)last);
		return guest_archive_set_gap(ctx, gap, err);
	}
	return 0;
}

json_t *guest_archive_ship(const struct datastore_manager *m, const struct guest_instance *inst,
			   const json_t *archive_info, struct ct_error *err)
{
	if (!m->archive_ship) {
		ct_fail(err, 501, "Archiving of datastore %s is not supported.", m->name);
		return NULL;
	}
	struct guest_archive_info *a = malloc(sizeof *a);
	struct backup_key key;
	struct backup_store *store = NULL;
	struct guest_archive_ctx ctx = {0};
	json_t *result = NULL;
	if (!a) {
		ct_fail(err, 500, "Out of memory.");
		return NULL;
	}
	if (guest_archive_info_from_json(archive_info, inst->id, a, err) ||
	    backup_key_from_base64(a->encryption_key, &key, err))
		goto out;
	store = backup_store_open_access(&a->store, err);
	if (!store)
		goto out;
	if (snprintf(ctx.state_path, sizeof ctx.state_path, "%s/%s", inst->data_dir, STATE_FILE) >=
	    (int)sizeof ctx.state_path) {
		ct_fail(err, 500, "The instance's volume path is too long.");
		goto out;
	}
	json_error_t jerr;
	ctx.state = json_load_file(ctx.state_path, 0, &jerr);
	if (!ctx.state && !(access(ctx.state_path, F_OK) && errno == ENOENT)) {
		/* Never restart the sequence over a progress file we cannot read. */
		ct_fail(err, 500, "%s cannot be read: %s", ctx.state_path, jerr.text);
		goto out;
	}
	if (!ctx.state && fresh_state(&ctx, store, a->prefix, err))
		goto out;
	ctx.store = store;
	ctx.key = &key;
	ctx.prefix = a->prefix;
	ctx.datastore = inst->manager;
	ctx.inst = inst;
	int rc = m->archive_ship(inst, &ctx, err);
	if (rc && !ctx.shipped)
		goto out;
	if (rc) /* what was shipped counts; the rest waits for the next round */
		log_warning("archive round stopped after %d objects: %s", ctx.shipped,
			    err->message);
	result = json_pack("{s:O,s:O,s:O,s:i,s:b}", "last_seq",
			   json_object_get(ctx.state, "last_seq"), "archived_until",
			   json_object_get(ctx.state, "archived_until"), "gap",
			   json_object_get(ctx.state, "gap"), "shipped", ctx.shipped, "caught_up",
			   !rc && ctx.caught_up);
	if (!result)
		ct_fail(err, 500, "Out of memory.");
out:
	explicit_bzero(&key, sizeof key);
	guest_archive_info_wipe(a);
	free(a);
	json_decref(ctx.state);
	backup_store_free(store);
	return result;
}
