/*
 * postgresql_pitr.c — the archive half of a PostgreSQL restore to a time
 * (issue 16, docs/pitr.md): after the backup chain is extracted, the source's
 * archive (postgresql_archive.c's objects) is listed, checked for holes and
 * fetched from the chain's stop_lsn up to the first object that begins after
 * the restore point, each verified and decrypted by the agent itself into
 * <volume>/wal_restore as whole segments; recovery then reads them with a
 * plain `cp` restore_command (postgresql_backup.c's recover()), so the
 * archive's key never reaches the server's user. pg_waldump tells whether a
 * commit after the time is there: PostgreSQL stops a time target at such a
 * commit and refuses one it never passes, so without one recovery replays
 * everything fetched.
 * Owns nothing but the files it writes into wal_dir and one pg_waldump output
 * in the instance's log directory; may not touch the data directory.
 */
#define LOG_MODULE "guest.postgresql"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/backup_models.h"
#include "guest/backup_stream.h"
#include "guest/postgresql_internal.h"

#define PITR_SUFFIX   ".zst.enc"
#define PITR_NAME_MAX 64
#define PITR_TIME_MAX 253402300799LL

int pg_pitr_requested(const json_t *backup_info, bool *yes, struct ct_error *err)
{
	const json_t *rp = json_object_get(backup_info, "restore_point");
	*yes = rp && !json_is_null(rp);
	if (!*yes)
		return 0;
	const json_t *t = json_object_get(rp, "time");
	const json_t *archive = json_object_get(rp, "archive");
	const char *prefix = json_string_value(json_object_get(archive, "prefix"));
	const char *key = json_string_value(json_object_get(archive, "encryption_key"));
	if (!json_is_object(rp))
		return ct_fail(err, 400, "backup_info: 'restore_point' is not an object.");
	if (!json_is_integer(t) || json_integer_value(t) <= 0 ||
	    json_integer_value(t) > PITR_TIME_MAX)
		return ct_fail(err, 400, "restore_point: 'time' must be unix seconds.");
	if (!prefix || !key)
		return ct_fail(err, 400,
			       "restore_point: 'archive' needs 'prefix' and 'encryption_key'.");
	if (store_check_prefix(prefix, err))
		return -1;
	if (prefix[strlen(prefix) - 1] != '/')
		return ct_fail(err, 400, "restore_point: the archive prefix must end in '/'.");
	struct backup_key k;
	int rc = backup_key_from_base64(key, &k, err);
	explicit_bzero(&k, sizeof k);
	return rc;
}

/* --- the listing ---------------------------------------------------------------------- */

enum pitr_kind { PITR_SEGMENT, PITR_PART, PITR_HISTORY };

struct pitr_object {
	char name[STORE_NAME_MAX + 1];
	char native[PITR_NAME_MAX]; /* 000000010000000000000003[.<offset>] or 00000002.history */
	char file[PITR_NAME_MAX];   /* the file in wal_dir */
	enum pitr_kind kind;
	int64_t seq;
	uint64_t offset; /* in the segment */
};

struct pitr_listing {
	const char *prefix;
	struct pitr_object *v;
	size_t n, cap;
};

/* "<12 digits>-<native>.zst.enc" after the prefix. */
static int parse_object(const char *rest, struct pitr_object *o)
{
	size_t len = strlen(rest), sl = strlen(PITR_SUFFIX);
	if (len < 13 + sl || strspn(rest, "0123456789") != 12 || rest[12] != '-' ||
	    strcmp(rest + len - sl, PITR_SUFFIX) || len - 13 - sl >= PITR_NAME_MAX)
		return -1;
	o->seq = strtoll(rest, NULL, 10);
	memcpy(o->native, rest + 13, len - 13 - sl);
	o->native[len - 13 - sl] = '\0';
	size_t hex = strspn(o->native, "0123456789ABCDEF");
	o->offset = 0;
	if (hex == 8 && !strcmp(o->native + 8, ".history"))
		o->kind = PITR_HISTORY;
	else if (hex == PG_WAL_NAME_LEN && !o->native[hex])
		o->kind = PITR_SEGMENT;
	else if (hex == PG_WAL_NAME_LEN && o->native[hex] == '.' &&
		 strspn(o->native + hex + 1, "0123456789") == 12 && !o->native[hex + 13]) {
		o->kind = PITR_PART;
		o->offset = strtoull(o->native + hex + 1, NULL, 10);
	} else
		return -1;
	snprintf(o->file, sizeof o->file, "%.*s", o->kind == PITR_HISTORY ? 16 : PG_WAL_NAME_LEN,
		 o->native);
	return 0;
}

static int collect(const struct store_entry *e, void *arg, struct ct_error *err)
{
	struct pitr_listing *l = arg;
	struct pitr_object o;
	memset(&o, 0, sizeof o);
	if (parse_object(e->name + strlen(l->prefix), &o))
		return ct_fail(err, 422,
			       "The archive holds an object named unlike the archive's: %s",
			       e->name);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct pitr_object *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return ct_fail(err, 500, "Out of memory.");
		l->v = v;
		l->cap = cap;
	}
	snprintf(o.name, sizeof o.name, "%s", e->name);
	l->v[l->n++] = o;
	return 0;
}

/* --- fetching ----------------------------------------------------------------------------- */

struct pitr_run {
	struct backup_store *store;
	struct backup_key key; /* secret */
	const char *wal_dir;
	const struct guest_identity *id;
	const char *log;
	long long time;
	uint64_t stop_lsn;
	uint64_t seg_size;
};

static int meta_ll(const struct store_meta *m, const char *key, long long *out)
{
	const char *v = store_meta_get(m, key);
	char *end;
	if (!v || !*v)
		return -1;
	errno = 0;
	*out = strtoll(v, &end, 10);
	return errno || *end ? -1 : 0;
}

/* The object's bytes, verified and decrypted, written at its offset into its
 * file in wal_dir as the instance's user. */
static int fetch_object(struct pitr_run *r, const struct pitr_object *o, struct ct_error *err)
{
	char of[PATH_MAX + 80], seek[48];
	snprintf(of, sizeof of, "of=%s/%s", r->wal_dir, o->file);
	snprintf(seek, sizeof seek, "seek=%" PRIu64, o->offset);
	char *argv[] = {"dd",	       of,  "bs=1M", seek, "oflag=seek_bytes", "conv=notrunc",
			"status=none", NULL};
	struct backup_command cmd = {.argv = argv,
				     .uid = r->id->drop ? r->id->uid : (uid_t)-1,
				     .gid = r->id->drop ? r->id->gid : (gid_t)-1,
				     .cwd = "/",
				     .stderr_path = r->log};
	struct ct_error cause = {0};
	if (backup_stream_to_command(r->store, o->name, &r->key, &cmd, &cause))
		return ct_fail(err, 422, "Archive object %s cannot be restored: %s", o->name,
			       cause.message);
	return 0;
}

/* A segment that ends where its WAL ends is padded with zeros to its size:
 * recovery reads zeros as the end of the WAL. */
static int pad_segment(const struct pitr_run *r, const char *file, struct ct_error *err)
{
	char path[PATH_MAX + 80];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", r->wal_dir, file);
	if (stat(path, &st))
		return ct_fail(err, 500, "Cannot stat %s: %s", path, strerror(errno));
	if ((uint64_t)st.st_size < r->seg_size && truncate(path, (off_t)r->seg_size))
		return ct_fail(err, 500, "Cannot extend %s: %s", path, strerror(errno));
	return 0;
}

/* "YYYY-MM-DD HH:MM:SS[.frac] UTC" → unix seconds (with the fraction). */
static bool parse_utc(const char *s, double *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	double sec = 0;
	if (sscanf(s, "%d-%d-%d %d:%d:%lf", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &sec) != 6)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_sec = 0;
	*out = (double)timegm(&tm) + sec;
	return true;
}

/* Is there a commit (or abort) stamped after the time in the WAL from lsn
 * on? pg_waldump (TZ=UTC) ends with an error at the end of the WAL: only its
 * output counts. */
static int commit_after(const struct pitr_run *r, const char *bin_dir, unsigned timeline,
			uint64_t lsn, bool *found, struct ct_error *err)
{
	char tool[PATH_MAX + 16], tl[16], start[PG_LSN_TEXT_MAX], out[PATH_MAX + 32];
	snprintf(tool, sizeof tool, "%s/pg_waldump", bin_dir);
	snprintf(tl, sizeof tl, "%u", timeline);
	pg_lsn_format(lsn, start);
	snprintf(out, sizeof out, "%s.waldump", r->log);
	unlink(out);
	const char *argv[] = {"env", "TZ=UTC", tool,  "-p", r->wal_dir,	   "-t",
			      tl,    "-s",     start, "-r", "Transaction", NULL};
	struct ct_error ignored = {0};
	guest_run(argv, out, r->id, &ignored);
	FILE *f = fopen(out, "re");
	if (!f)
		return ct_fail(err, 500, "pg_waldump left no output: %s", strerror(errno));
	char line[2048];
	*found = false;
	while (!*found && fgets(line, sizeof line, f)) {
		const char *d = strstr(line, "desc: ");
		if (!d)
			continue;
		d += 6;
		const char *ts = !strncmp(d, "COMMIT ", 7)  ? d + 7
				 : !strncmp(d, "ABORT ", 6) ? d + 6
							    : NULL;
		double t;
		if (ts && parse_utc(ts, &t) && t > (double)r->time)
			*found = true;
	}
	fclose(f);
	unlink(out);
	return 0;
}

static int fetch_all(struct pitr_run *r, struct pitr_listing *l, const char *bin_dir,
		     struct pg_pitr_plan *plan, struct ct_error *err)
{
	struct store_object_info *info = malloc(sizeof *info);
	if (!info)
		return ct_fail(err, 500, "Out of memory.");
	int rc = -1;
	/* The segment size and where each object starts, from the first WAL
	 * object's metadata and the names. */
	size_t first = l->n;
	for (size_t i = 0; i < l->n && !r->seg_size; i++) {
		if (l->v[i].kind == PITR_HISTORY)
			continue;
		long long seg = 0;
		if (store_stat(r->store, l->v[i].name, info, err))
			goto out;
		if (meta_ll(&info->meta, "wal_segment_size", &seg) ||
		    !pg_wal_seg_size_ok((uint64_t)seg)) {
			ct_fail(err, 422, "Archive object %s has no WAL segment size.",
				l->v[i].name);
			goto out;
		}
		r->seg_size = (uint64_t)seg;
	}
	/* Replay begins at the first object of the segment holding stop_lsn:
	 * a segment in wal_dir must be whole from its start. */
	uint64_t stop_seg = r->seg_size ? r->stop_lsn / r->seg_size : 0;
	for (size_t i = 0; i < l->n && r->seg_size; i++) {
		unsigned tli;
		uint64_t segno;
		if (l->v[i].kind == PITR_HISTORY)
			continue;
		if (pg_wal_file_parse(l->v[i].file, r->seg_size, &tli, &segno)) {
			ct_fail(err, 422, "Archive object %s names no WAL segment.", l->v[i].name);
			goto out;
		}
		if (segno <= stop_seg && l->v[i].offset == 0)
			first = i;
		if (segno > stop_seg)
			break;
	}
	if (first == l->n) {
		ct_fail(err, 422,
			"The archive has no write-ahead log from the backup's end (%" PRIX64
			") on: it began later or was removed.",
			r->stop_lsn);
		goto out;
	}
	/* History files are small: all of them (recovery picks the timeline). */
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].kind == PITR_HISTORY && fetch_object(r, &l->v[i], err))
			goto out;
	uint64_t prev_end = 0, scan_from = 0;
	unsigned scan_tl = 0;
	int64_t prev_seq = -1;
	size_t fetched = 0;
	for (size_t i = first; i < l->n; i++) {
		const struct pitr_object *o = &l->v[i];
		if (prev_seq >= 0 && o->seq != prev_seq + 1) {
			ct_fail(err, 422,
				"The archive misses object %012" PRId64 " (before %s): it cannot "
				"be replayed past it.",
				prev_seq + 1, o->name);
			goto out;
		}
		prev_seq = o->seq;
		if (o->kind == PITR_HISTORY)
			continue;
		long long start_time, end_time, tl;
		uint64_t start = 0, end = 0;
		if (store_stat(r->store, o->name, info, err))
			goto out;
		const struct store_meta *m = &info->meta;
		if (meta_ll(m, "start_time", &start_time) || meta_ll(m, "end_time", &end_time) ||
		    meta_ll(m, "timeline", &tl) ||
		    pg_lsn_parse(store_meta_get(m, "start_lsn"), &start) ||
		    pg_lsn_parse(store_meta_get(m, "end_lsn"), &end) || end <= start) {
			ct_fail(err, 422, "Archive object %s has no WAL position or time.",
				o->name);
			goto out;
		}
		if (prev_end && start != prev_end) {
			ct_fail(err, 422,
				"The archive's write-ahead log has a hole before %s: it cannot be "
				"replayed past it.",
				o->name);
			goto out;
		}
		prev_end = end;
		if (fetch_object(r, o, err) || pad_segment(r, o->file, err))
			goto out;
		fetched++;
		if (end_time >= r->time && !scan_tl) {
			scan_from = start > r->stop_lsn ? start : r->stop_lsn;
			scan_tl = (unsigned)tl;
		}
		/* Everything in it is after the time: the commit that ends the
		 * recovery is here or nowhere. */
		if (start_time > r->time)
			break;
	}
	bool after = false;
	if (scan_tl && commit_after(r, bin_dir, scan_tl, scan_from, &after, err))
		goto out;
	plan->to_end = !after;
	log_info("restore to %lld: %zu archive objects from %s, %s", r->time, fetched,
		 l->v[first].name,
		 after ? "recovery stops at the first commit after it"
		       : "no commit after it is archived: replaying all of it");
	rc = 0;
out:
	free(info);
	return rc;
}

int pg_pitr_fetch(const json_t *backup_info, uint64_t stop_lsn, const char *wal_dir,
		  const struct guest_identity *id, const char *bin_dir, const char *log,
		  struct pg_pitr_plan *plan, struct ct_error *err)
{
	bool yes = false;
	memset(plan, 0, sizeof *plan);
	if (pg_pitr_requested(backup_info, &yes, err))
		return -1;
	if (!yes)
		return ct_fail(err, 500, "No restore point.");
	const json_t *rp = json_object_get(backup_info, "restore_point");
	const json_t *archive = json_object_get(rp, "archive");
	struct guest_restore_plan *rplan = malloc(sizeof *rplan);
	struct pitr_listing l = {.prefix = json_string_value(json_object_get(archive, "prefix"))};
	struct pitr_run r = {.wal_dir = wal_dir,
			     .id = id,
			     .log = log,
			     .time = json_integer_value(json_object_get(rp, "time")),
			     .stop_lsn = stop_lsn};
	int rc = -1;
	if (!rplan) {
		ct_fail(err, 500, "Out of memory.");
		goto out;
	}
	if (guest_restore_plan_from_json(backup_info, rplan, err) ||
	    backup_key_from_base64(json_string_value(json_object_get(archive, "encryption_key")),
				   &r.key, err))
		goto out;
	r.store = backup_store_open_access(&rplan->store, err);
	if (!r.store || store_list(r.store, l.prefix, collect, &l, err))
		goto out;
	plan->time = r.time;
	time_t t = (time_t)r.time;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(plan->target, sizeof plan->target, "%Y-%m-%d %H:%M:%S+00", &tm);
	rc = fetch_all(&r, &l, bin_dir, plan, err);
out:
	explicit_bzero(&r.key, sizeof r.key);
	if (rplan)
		guest_restore_plan_wipe(rplan);
	free(rplan);
	free(l.v);
	backup_store_free(r.store);
	return rc;
}
