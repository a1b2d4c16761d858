/*
 * mariadb_pitr.c — MariaDB point-in-time restore (issue 16, docs/pitr.md):
 * after the backup chain is in place (mariadb_backup.c), the source's binary
 * log archive (mariadb_archive.c) is replayed from the backup's binary log
 * position (xtrabackup_binlog_info in the restored data) up to and including
 * restore_point.time: every object of the archive from the one holding that
 * position on, checked to be continuous (no sequence number missing) and
 * whole (ctbk1 verification, then every event header), decrypted into
 * <data_dir>/pitr, turned into SQL by `mariadb-binlog --stop-datetime` (TZ=UTC,
 * one second after the time: the tool stops at the first event at or after
 * it) and applied over the socket of a server started with networking off.
 * Any missing, corrupt or unreadable piece fails the prepare; the server is
 * stopped either way.
 * Owns <data_dir>/pitr and <run>/pitr.log; may not touch the archive.
 */
#define LOG_MODULE "guest.mariadb"

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
#include "guest/archive.h"
#include "guest/backup_models.h"
#include "guest/mariadb_internal.h"

#define PITR_OBJECTS_MAX 1000000

bool mdb_pitr_requested(const json_t *backup_info)
{
	const json_t *rp = json_object_get(backup_info, "restore_point");
	return rp && !json_is_null(rp);
}

struct pitr_point {
	int64_t time;
	char prefix[STORE_NAME_MAX + 1];
	struct backup_key key; /* secret */
};

static int point_from_json(const json_t *backup_info, struct pitr_point *out, struct ct_error *err)
{
	memset(out, 0, sizeof *out);
	const json_t *rp = json_object_get(backup_info, "restore_point");
	const json_t *t = json_object_get(rp, "time");
	const json_t *archive = json_object_get(rp, "archive");
	const json_t *prefix = json_object_get(archive, "prefix");
	const char *key = json_string_value(json_object_get(archive, "encryption_key"));
	if (!json_is_object(rp))
		return ct_fail(err, 400, "backup_info: 'restore_point' is not an object.");
	if (!json_is_integer(t) || json_integer_value(t) <= 0 ||
	    json_integer_value(t) > 253402300799LL)
		return ct_fail(err, 400, "restore_point: 'time' must be unix seconds.");
	if (!json_is_string(prefix) || json_string_length(prefix) >= sizeof out->prefix || !key)
		return ct_fail(err, 400,
			       "restore_point: 'archive' needs 'prefix' and 'encryption_key'.");
	out->time = json_integer_value(t);
	snprintf(out->prefix, sizeof out->prefix, "%s", json_string_value(prefix));
	if (store_check_prefix(out->prefix, err) || out->prefix[strlen(out->prefix) - 1] != '/' ||
	    backup_key_from_base64(key, &out->key, err)) {
		if (!err->status)
			ct_fail(err, 400, "restore_point: bad archive prefix.");
		explicit_bzero(out, sizeof *out);
		return -1;
	}
	return 0;
}

int mdb_pitr_check(const json_t *backup_info, struct ct_error *err)
{
	if (!mdb_pitr_requested(backup_info))
		return 0;
	struct pitr_point pt;
	int rc = point_from_json(backup_info, &pt, err);
	explicit_bzero(&pt, sizeof pt);
	return rc;
}

/* --- the archive's listing ------------------------------------------------------------- */

struct pitr_object {
	int64_t seq;
	char file[64];	 /* mariadb-bin.000042 */
	uint64_t offset; /* where the part starts in that file */
	char name[STORE_NAME_MAX + 1];
};

struct pitr_listing {
	const char *prefix;
	struct pitr_object *v;
	size_t n, cap;
};

/* "<12 digits>-<file>.<12 digits>.zst.enc" after the prefix. */
static int parse_object(const char *rest, struct pitr_object *o)
{
	size_t len = strlen(rest);
	const char *suffix = ".zst.enc";
	if (len < 13 + 14 + strlen(suffix) || strspn(rest, "0123456789") != 12 || rest[12] != '-' ||
	    strcmp(rest + len - strlen(suffix), suffix))
		return -1;
	const char *file = rest + 13;
	size_t file_len = len - 13 - strlen(suffix);
	if (file_len < 14 || file[file_len - 13] != '.' ||
	    strspn(file + file_len - 12, "0123456789") < 12 || file_len - 13 >= sizeof o->file)
		return -1;
	o->seq = strtoll(rest, NULL, 10);
	memcpy(o->file, file, file_len - 13);
	o->file[file_len - 13] = '\0';
	o->offset = strtoull(file + file_len - 12, NULL, 10);
	return 0;
}

static int collect(const struct store_entry *e, void *arg, struct ct_error *err)
{
	struct pitr_listing *l = arg;
	struct pitr_object o = {0};
	if (parse_object(e->name + strlen(l->prefix), &o)) {
		log_warning("not an archive object, ignored: %s", e->name);
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		if (cap > PITR_OBJECTS_MAX)
			return ct_fail(err, 422, "The archive holds too many objects.");
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

/* Binary log names sort by their number, which has a fixed width. */
static int file_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	return la != lb ? (la < lb ? -1 : 1) : strcmp(a, b);
}

/* --- the backup's position ------------------------------------------------------------ */

struct binlog_position {
	char file[64];
	uint64_t pos;
};

static int backup_position(const struct mdb_paths *p, struct binlog_position *out,
			   struct ct_error *err)
{
	char path[PATH_MAX + 32], line[512] = "";
	snprintf(path, sizeof path, "%s/xtrabackup_binlog_info", p->datadir);
	FILE *f = fopen(path, "re");
	if (!f)
		return ct_fail(err, 422,
			       "The backup records no binary log position; it cannot be rolled "
			       "forward to a point in time.");
	char *ok = fgets(line, sizeof line, f);
	fclose(f);
	char file[64];
	unsigned long long pos = 0;
	if (!ok || sscanf(line, "%63s %llu", file, &pos) != 2 || strchr(file, '/'))
		return ct_fail(err, 422, "The backup's binary log position cannot be read.");
	snprintf(out->file, sizeof out->file, "%s", file);
	out->pos = pos;
	return 0;
}

/* --- replay ------------------------------------------------------------------------------ */

struct pitr_run {
	const struct guest_instance *inst;
	const struct mdb_paths *p;
	struct backup_store *store;
	const struct pitr_point *pt;
	char dir[PATH_MAX];    /* <data_dir>/pitr */
	char log[PATH_MAX];    /* <run>/pitr.log */
	char stop[32];	       /* time + 1 s, UTC */
	unsigned transactions; /* seen in what was replayed (upper bound) */
};

/* Copy [from, from + len) of in into out. */
static int copy_range(int in, int out, uint64_t from, uint64_t len, struct ct_error *err)
{
	char buf[65536];
	while (len > 0) {
		ssize_t n = pread(in, buf, len < sizeof buf ? len : sizeof buf, (off_t)from);
		if (n <= 0)
			return ct_fail(err, 500, "Reading a binary log part: %s",
				       n ? strerror(errno) : "cut short");
		if (write(out, buf, (size_t)n) != n)
			return ct_fail(err, 500, "Writing a binary log part: %s", strerror(errno));
		from += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* The object's bytes as a binary log file starting at source position
 * `from` (0: all of it). *past: the part ends at or before `from`. *max_ts:
 * its latest event time. */
static int fetch_part(struct pitr_run *r, const struct pitr_object *o, uint64_t from,
		      const char *path, bool *past, uint32_t *max_ts, struct ct_error *err)
{
	char raw[PATH_MAX + 32], a_of[PATH_MAX + 40];
	snprintf(raw, sizeof raw, "%s/raw", r->dir);
	snprintf(a_of, sizeof a_of, "of=%s", raw);
	char *argv[] = {"/bin/dd", a_of, "bs=1M", "status=none", NULL};
	struct backup_command cmd = {.argv = argv, .uid = (uid_t)-1, .stderr_path = r->log};
	struct ct_error get_err = {0};
	if (backup_stream_to_command(r->store, o->name, &r->pt->key, &cmd, &get_err))
		return ct_fail(err, 422, "The archive object %s cannot be read: %s", o->name,
			       get_err.message);
	int in = open(raw, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return ct_fail(err, 500, "Cannot open %s: %s", raw, strerror(errno));
	struct stat st;
	uint64_t header = 0;
	struct mdb_binlog_scan s;
	int rc = fstat(in, &st) ? ct_fail(err, 500, "stat %s: %s", raw, strerror(errno))
				: mdb_binlog_header_size(in, &header, err);
	/* The object is the source file's [o->offset, end) behind the file's
	 * header (or, for the first part, the file's own bytes from 0). */
	uint64_t size = (uint64_t)st.st_size;
	uint64_t events_from = o->offset ? header : 0;
	if (!rc)
		rc = mdb_binlog_scan(in, events_from, size, &s, err);
	if (rc) {
		close(in);
		struct ct_error cause = *err;
		return ct_fail(err, 422, "The archive object %s is not a whole binary log: %s",
			       o->name, cause.message);
	}
	uint64_t first_event = o->offset ? o->offset : header;
	uint64_t end = o->offset ? o->offset + (size - header) : size;
	*past = from >= end;
	*max_ts = s.last_ts;
	if (*past) {
		close(in);
		return 0;
	}
	int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return ct_fail(err, 500, "Cannot write %s: %s", path, strerror(errno));
	}
	if (from <= first_event)
		rc = copy_range(in, out, 0, size, err);
	else {
		uint64_t at = o->offset ? header + (from - o->offset) : from;
		rc = copy_range(in, out, 0, header, err) || copy_range(in, out, at, size - at, err);
	}
	close(in);
	if (close(out) && !rc)
		rc = ct_fail(err, 500, "Cannot write %s: %s", path, strerror(errno));
	r->transactions += s.transactions;
	return rc;
}

static int apply_part(struct pitr_run *r, const char *path, struct ct_error *err)
{
	char sql[PATH_MAX + 16], a_result[PATH_MAX + 32], a_stop[64];
	snprintf(sql, sizeof sql, "%s/replay.sql", r->dir);
	snprintf(a_result, sizeof a_result, "--result-file=%s", sql);
	snprintf(a_stop, sizeof a_stop, "--stop-datetime=%s", r->stop);
	const char *to_sql[] = {"/usr/bin/env",
				"TZ=UTC",
				"/usr/bin/mariadb-binlog",
				"--no-defaults",
				a_stop,
				a_result,
				path,
				NULL};
	struct ct_error run_err = {0};
	if (guest_run(to_sql, r->log, NULL, &run_err)) {
		guest_log_tail(r->log);
		return ct_fail(err, 500, "mariadb-binlog could not read %s: %s", path,
			       run_err.message);
	}
	char self[64];
	guest_self_name(self, sizeof self);
	const char *apply[] = {"/bin/sh",
			       "-c",
			       "exec /usr/bin/mariadb --no-defaults --socket=\"$1\" --user=\"$2\" "
			       "--binary-mode < \"$3\"",
			       "sh",
			       r->p->sock,
			       self,
			       sql,
			       NULL};
	if (guest_run(apply, r->log, NULL, &run_err)) {
		guest_log_tail(r->log);
		return ct_fail(err, 500, "Replaying the binary log into the server failed: %s",
			       run_err.message);
	}
	unlink(sql);
	return 0;
}

static int replay(struct pitr_run *r, const struct pitr_listing *l, size_t first,
		  const struct binlog_position *bp, struct ct_error *err)
{
	char part[PATH_MAX + 16];
	snprintf(part, sizeof part, "%s/part.bin", r->dir);
	size_t applied = 0;
	for (size_t i = first; i < l->n; i++) {
		const struct pitr_object *o = &l->v[i];
		uint64_t from = !strcmp(o->file, bp->file) ? bp->pos : 0;
		bool past = false;
		uint32_t max_ts = 0;
		if (fetch_part(r, o, from, part, &past, &max_ts, err))
			return -1;
		if (past)
			continue;
		if (apply_part(r, part, err))
			return -1;
		applied++;
		/* mariadb-binlog stopped inside this part: nothing later counts. */
		if ((int64_t)max_ts > r->pt->time)
			break;
	}
	log_info("point-in-time restore: %zu archive objects replayed up to %s UTC (exclusive)",
		 applied, r->stop);
	return 0;
}

int mdb_pitr_replay(const struct guest_instance *inst, const struct mdb_paths *p,
		    const struct guest_identity *id, const json_t *backup_info,
		    struct ct_error *err)
{
	(void)id;
	struct pitr_point *pt = malloc(sizeof *pt);
	struct pitr_run *r = calloc(1, sizeof *r);
	struct store_access *access = malloc(sizeof *access);
	struct pitr_listing l = {0};
	bool started = false;
	int rc = -1;
	if (!pt || !r || !access) {
		ct_fail(err, 500, "Out of memory.");
		goto out;
	}
	if (point_from_json(backup_info, pt, err) ||
	    guest_store_access_from_json(json_object_get(backup_info, "store"), access, err))
		goto out;
	struct binlog_position bp;
	if (backup_position(p, &bp, err))
		goto out;
	r->inst = inst;
	r->p = p;
	r->pt = pt;
	snprintf(r->dir, sizeof r->dir, "%s/pitr", inst->data_dir);
	snprintf(r->log, sizeof r->log, "%s/pitr.log", inst->run_dir);
	time_t stop = (time_t)pt->time + 1;
	struct tm tm;
	gmtime_r(&stop, &tm);
	strftime(r->stop, sizeof r->stop, "%Y-%m-%d %H:%M:%S", &tm);
	r->store = backup_store_open_access(access, err);
	if (!r->store)
		goto out;
	l.prefix = pt->prefix;
	if (store_list(r->store, pt->prefix, collect, &l, err))
		goto out;
	/* The part holding the backup's position, then every later one. */
	size_t first = l.n;
	for (size_t i = 0; i < l.n; i++) {
		int c = file_cmp(l.v[i].file, bp.file);
		if (c < 0 || (c == 0 && l.v[i].offset <= bp.pos))
			first = i;
		else
			break;
	}
	if (first == l.n && l.n > 0) {
		ct_fail(err, 422,
			"The archive %s holds nothing from the backup's position %s:%" PRIu64
			" on.",
			pt->prefix, bp.file, bp.pos);
		goto out;
	}
	for (size_t i = first; i + 1 < l.n; i++)
		if (l.v[i + 1].seq != l.v[i].seq + 1) {
			ct_fail(err, 422,
				"The archive %s misses object %012" PRId64
				": the binary log cannot be replayed past it.",
				pt->prefix, l.v[i].seq + 1);
			goto out;
		}
	log_info("point-in-time restore to %s UTC: replaying %zu archive objects from %s:%" PRIu64,
		 r->stop, l.n - first, bp.file, bp.pos);
	if (guest_remove_tree(r->dir, err) || guest_mkdir(r->dir, 0700, NULL, err))
		goto out;
	if (unlink(r->log) && errno != ENOENT) {
		ct_fail(err, 500, "Cannot remove %s: %s", r->log, strerror(errno));
		goto out;
	}
	if (mdb_start_socket_only(inst, p, err))
		goto out;
	started = true;
	if (first < l.n && replay(r, &l, first, &bp, err))
		goto out;
	rc = 0;
out:;
	struct ct_error stop_err = {0};
	if (started && mdb_stop_server(inst, p, &stop_err) && !rc) {
		*err = stop_err;
		rc = -1;
	}
	if (r && r->dir[0]) {
		struct ct_error cleanup_err = {0};
		if (guest_remove_tree(r->dir, &cleanup_err))
			log_warning("%s", cleanup_err.message);
	}
	if (r)
		backup_store_free(r->store);
	if (pt)
		explicit_bzero(pt, sizeof *pt);
	if (access)
		explicit_bzero(access, sizeof *access);
	free(pt);
	free(r);
	free(access);
	free(l.v);
	if (rc && err->status != 400)
		log_error("point-in-time restore failed: %s", err->message);
	return rc;
}
