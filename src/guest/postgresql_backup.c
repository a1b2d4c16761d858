/*
 * postgresql_backup.c — backups and restores of a PostgreSQL instance
 * (issue 12, trove-guest.md §4.3 done for PostgreSQL 15; docs/backups.md,
 * "PostgreSQL"):
 *  - full: `pg_basebackup -Ft -X fetch -D -` as os_admin over the socket, one
 *    tar stream; metadata start_lsn, stop_lsn, timeline, label from its log;
 *  - incremental: the WAL segments from the parent's stop_lsn up to a new
 *    boundary (a restore point named after the backup, then pg_switch_wal),
 *    read from pg_wal, where the physical slot "ctrove_backups" keeps them
 *    (advanced by every backup, capped by max_slot_wal_keep_size);
 *  - restore (a step of prepare): the full's tar into a new data directory,
 *    each incremental's WAL into <volume>/wal_restore, recovery.signal, and one
 *    start with restore_command and a recovery target (the last backup's
 *    restore point; a lone full: immediate), promoted, and left running:
 *    prepare goes on with it (one start, not three);
 *  - consistent_time in every backup's metadata: a wall-clock upper bound on
 *    the commits the backup holds (docs/pitr.md).
 * Bytes go through guest/backup_stream.h (zstd, AES-256-GCM, the store).
 * Owns the slot, <volume>/wal_restore, <data>.restore while restoring, and
 * <run>/backup.log; may not touch another instance, nor write the volume
 * outside those and <volume>/data.
 */
#define LOG_MODULE "guest.postgresql"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/backup_models.h"
#include "guest/backup_stream.h"
#include "guest/backups.h"
#include "guest/postgresql_internal.h"

#define PG_BACKUP_SLOT	    "ctrove_backups"
#define PG_BACKUP_FORMAT    "ctbk1"
#define TOOL_LOG_MAX	    (1 << 20)
#define RECOVERY_TIMEOUT_MS (6 * 3600 * 1000)

/* --- names ------------------------------------------------------------------------ */

/* A backup id becomes a label and a restore point name (at most 63 bytes):
 * keep it plain. */
static int check_backup_id(const char *id, struct ct_error *err)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789-_";
	size_t n = strlen(id);
	if (!n || n > 63 || strspn(id, plain) != n)
		return ct_fail(err, 400, "Backup id '%.64s' is not a UUID.", id);
	return 0;
}

/* --- SQL ---------------------------------------------------------------------------- */

struct slot_state {
	bool exists;
	bool lost; /* invalidated by max_slot_wal_keep_size */
	uint64_t restart_lsn;
};

static int slot_read(PGconn *c, struct slot_state *s, struct ct_error *err)
{
	const char *params[1] = {PG_BACKUP_SLOT};
	PGresult *res =
		pg_select(c,
			  "SELECT coalesce(restart_lsn::text, ''), coalesce(wal_status, '') "
			  "FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
			  1, params, "Reading the backup slot", err);
	if (!res)
		return -1;
	memset(s, 0, sizeof *s);
	if (libpq.PQntuples(res) == 1) {
		s->exists = true;
		s->lost = !strcmp(libpq.PQgetvalue(res, 0, 1), "lost") ||
			  pg_lsn_parse(libpq.PQgetvalue(res, 0, 0), &s->restart_lsn);
	}
	libpq.PQclear(res);
	return 0;
}

/* Before a full backup: a slot that keeps every WAL segment from now on (a
 * lost one is made again). */
static int slot_ensure(PGconn *c, struct ct_error *err)
{
	struct slot_state s;
	char ignored[64];
	if (slot_read(c, &s, err))
		return -1;
	if (s.exists && s.lost) {
		log_warning(
			"backup slot %s was invalidated (max_slot_wal_keep_size); making it again",
			PG_BACKUP_SLOT);
		if (pg_select_one(c, "SELECT pg_catalog.pg_drop_replication_slot($1)::text",
				  PG_BACKUP_SLOT, "Dropping the backup slot", ignored,
				  sizeof ignored, err))
			return -1;
	}
	if (s.exists && !s.lost)
		return 0;
	return pg_select_one(c,
			     "SELECT slot_name::text FROM "
			     "pg_catalog.pg_create_physical_replication_slot($1, true, false)",
			     PG_BACKUP_SLOT, "Creating the backup slot", ignored, sizeof ignored,
			     err);
}

/* After a backup is stored: the WAL before its stop is needed no more. A
 * failure costs only disk until the next backup, so it is a warning. */
static void slot_advance(const struct guest_instance *inst, uint64_t stop_lsn)
{
	struct ct_error err = {0};
	char lsn[PG_LSN_TEXT_MAX], ignored[64];
	struct slot_state s;
	PGconn *c = pg_connect_admin(inst, NULL, &err);
	if (!c || slot_read(c, &s, &err))
		goto out;
	if (!s.exists || s.lost || s.restart_lsn >= stop_lsn)
		goto out;
	pg_lsn_format(stop_lsn, lsn);
	const char *params[2] = {PG_BACKUP_SLOT, lsn};
	PGresult *res = pg_select(c,
				  "SELECT end_lsn::text FROM "
				  "pg_catalog.pg_replication_slot_advance($1, $2::pg_lsn)",
				  2, params, "Advancing the backup slot", &err);
	if (res)
		snprintf(ignored, sizeof ignored, "%s", libpq.PQgetvalue(res, 0, 0));
	libpq.PQclear(res);
out:
	if (err.message[0])
		log_warning("backup slot not advanced: %s", err.message);
	if (c)
		libpq.PQfinish(c);
}

/* --- metadata ------------------------------------------------------------------------ */

struct backup_run {
	const struct guest_backup_info *backup;
	const char *tool_log; /* full: pg_basebackup -v's stderr */
	char start_lsn[PG_LSN_TEXT_MAX];
	char stop_lsn[PG_LSN_TEXT_MAX];
	char restore_point_lsn[PG_LSN_TEXT_MAX];
	char wal_first[PG_WAL_NAME_LEN + 1];
	char wal_last[PG_WAL_NAME_LEN + 1];
	unsigned timeline;
	uint64_t stop;
	long long consistent_time; /* unix s; 0 = taken when the tool has ended */
};

/* Now, rounded up: a bound no commit seen so far is later than. */
static long long wall_time_ceil(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec + (ts.tv_nsec > 0);
}

/* The value after the last occurrence of key in text (up to the line end). */
static bool log_value(const char *text, const char *key, char *out, size_t size)
{
	const char *hit = NULL;
	for (const char *s = text; (s = strstr(s, key)); s += strlen(key))
		hit = s;
	if (!hit)
		return false;
	hit += strlen(key);
	size_t n = strcspn(hit, "\n");
	if (n >= size)
		return false;
	memcpy(out, hit, n);
	out[n] = '\0';
	return true;
}

/* pg_basebackup -v prints "write-ahead log start point: 0/2000028 on
 * timeline 1" and "write-ahead log end point: 0/2000100". */
static int read_basebackup_log(struct backup_run *run, struct ct_error *err)
{
	char *text = malloc(TOOL_LOG_MAX + 1);
	if (!text)
		return ct_fail(err, 500, "Out of memory.");
	int fd = open(run->tool_log, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, text, TOOL_LOG_MAX);
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		free(text);
		return ct_fail(err, 500, "Cannot read %s: %s", run->tool_log, strerror(errno));
	}
	text[n] = '\0';
	char start[128], stop[128], lsn[PG_LSN_TEXT_MAX];
	uint64_t v = 0;
	int rc = 0;
	if (!log_value(text, "write-ahead log start point: ", start, sizeof start) ||
	    !log_value(text, "write-ahead log end point: ", stop, sizeof stop) ||
	    sscanf(start, "%31s on timeline %u", lsn, &run->timeline) != 2 ||
	    pg_lsn_parse(lsn, &v) || pg_lsn_parse(stop, &run->stop))
		rc = ct_fail(err, 500, "pg_basebackup did not report its WAL positions; see %s.",
			     run->tool_log);
	else {
		pg_lsn_format(v, run->start_lsn);
		pg_lsn_format(run->stop, run->stop_lsn);
	}
	free(text);
	return rc;
}

static int fill_meta(void *arg, struct store_meta *meta, struct ct_error *err)
{
	struct backup_run *run = arg;
	const struct guest_backup_info *b = run->backup;
	bool full = !b->has_parent;
	if (full && read_basebackup_log(run, err))
		return -1;
	char timeline[16], consistent[24];
	snprintf(timeline, sizeof timeline, "%u", run->timeline);
	/* A full is consistent at pg_backup_stop, which pg_basebackup calls
	 * just before it ends: the time it ended bounds every commit in it.
	 * (Later commits are replayed from the archive by a restore to a time,
	 * so an upper bound is the safe side.) */
	if (!run->consistent_time)
		run->consistent_time = wall_time_ceil();
	snprintf(consistent, sizeof consistent, "%lld", run->consistent_time);
	if (store_meta_set(meta, "datastore", "postgresql", err) ||
	    store_meta_set(meta, "datastore_version", b->datastore_version, err) ||
	    store_meta_set(meta, "backup_id", b->id, err) ||
	    store_meta_set(meta, "backup_type", full ? "full" : "incremental", err) ||
	    store_meta_set(meta, "format", PG_BACKUP_FORMAT, err) ||
	    store_meta_set(meta, "start_lsn", run->start_lsn, err) ||
	    store_meta_set(meta, "stop_lsn", run->stop_lsn, err) ||
	    store_meta_set(meta, "timeline", timeline, err) ||
	    store_meta_set(meta, "consistent_time", consistent, err) ||
	    store_meta_set(meta, "label", b->id, err))
		return -1;
	if (full)
		return 0;
	return store_meta_set(meta, "parent_id", b->parent.id, err) ||
			       store_meta_set(meta, "restore_point", b->id, err) ||
			       store_meta_set(meta, "restore_point_lsn", run->restore_point_lsn,
					      err) ||
			       store_meta_set(meta, "wal_first", run->wal_first, err) ||
			       store_meta_set(meta, "wal_last", run->wal_last, err)
		       ? -1
		       : 0;
}

/* --- backup ---------------------------------------------------------------------------- */

/* libpq's password file for os_admin (0600, root's credentials directory):
 * the password never reaches an argv or a log. */
static int write_passfile(const struct guest_instance *inst, const struct pg_paths *p, char *path,
			  size_t size, struct ct_error *err)
{
	struct guest_credentials cred;
	char line[512];
	(void)inst;
	snprintf(path, size, "%s/backup.pgpass", p->cred_dir);
	if (guest_read_credentials(p->admin_cnf, &cred, err)) {
		if (err && err->status == 404)
			ct_fail(err, 422, "The database server is not prepared.");
		return -1;
	}
	/* Generated passwords are [A-Za-z0-9]: nothing to escape. */
	int n = snprintf(line, sizeof line, "*:*:*:%s:%s\n", cred.user, cred.password);
	int rc = n > 0 && (size_t)n < sizeof line
			 ? guest_write_file(path, line, (size_t)n, 0600, err)
			 : ct_fail(err, 500, "The admin credentials are too long.");
	explicit_bzero(&cred, sizeof cred);
	explicit_bzero(line, sizeof line);
	return rc;
}

static int backup_full(const struct guest_instance *inst, const struct pg_paths *p,
		       struct backup_store *store, const struct backup_key *key,
		       struct backup_run *run, struct store_object_info *out, struct ct_error *err)
{
	char bin[PATH_MAX], tool[PATH_MAX + 32], port[16], label[96], passfile[PATH_MAX + 32];
	char env_pass[PATH_MAX + 48];
	if (pg_bin_dir(p, bin, sizeof bin, err) < 0)
		return -1;
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return -1;
	int rc = slot_ensure(c, err);
	libpq.PQfinish(c);
	if (rc || write_passfile(inst, p, passfile, sizeof passfile, err))
		return -1;
	snprintf(tool, sizeof tool, "%s/pg_basebackup", bin);
	snprintf(port, sizeof port, "%d", inst->port);
	snprintf(label, sizeof label, "--label=%s", run->backup->id);
	snprintf(env_pass, sizeof env_pass, "PGPASSFILE=%s", passfile);
	/* -X fetch: streaming WAL cannot go to stdout in tar mode; the slot
	 * keeps the WAL the fetch needs. -c fast: no spread checkpoint to wait. */
	char *argv[] = {tool,	       "-h",	(char *)p->sock_dir,
			"-p",	       port,	"-U",
			PG_ADMIN_USER, "-w",	"-Ft",
			"-X",	       "fetch", "-D",
			"-",	       "-c",	"fast",
			"-v",	       label,	NULL};
	char *env[] = {env_pass, "PGCONNECT_TIMEOUT=30", "PGAPPNAME=ctrove_backup", NULL};
	unlink(run->tool_log);
	struct backup_command cmd = {.argv = argv,
				     .env = env,
				     .uid = (uid_t)-1,
				     .gid = (gid_t)-1,
				     .cwd = "/",
				     .stderr_path = run->tool_log};
	rc = backup_stream_from_command(store, run->backup->location, key, &cmd, fill_meta, run,
					out, err);
	unlink(passfile);
	if (rc)
		guest_log_tail(run->tool_log);
	return rc;
}

/* The history files in pg_wal, which a restore on a later timeline needs. */
static int add_history_files(const char *wal_dir, char ***names, size_t *n, size_t *cap,
			     struct ct_error *err)
{
	DIR *d = opendir(wal_dir);
	if (!d)
		return ct_fail(err, 500, "Cannot read %s: %s", wal_dir, strerror(errno));
	struct dirent *e;
	int rc = 0;
	while (!rc && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len != 16 || strcmp(e->d_name + 8, ".history"))
			continue;
		if (*n + 1 >= *cap) {
			size_t ncap = *cap * 2;
			char **grown = realloc(*names, ncap * sizeof **names);
			if (!grown) {
				rc = ct_fail(err, 500, "Out of memory.");
				break;
			}
			*names = grown;
			*cap = ncap;
		}
		if (!((*names)[(*n)++] = strdup(e->d_name)))
			rc = ct_fail(err, 500, "Out of memory.");
	}
	closedir(d);
	return rc;
}

static int parent_meta(struct backup_store *store, const struct guest_backup_info *b,
		       uint64_t *stop, unsigned *timeline, struct ct_error *err)
{
	struct store_object_info info;
	if (store_stat(store, b->parent.location, &info, err))
		return -1;
	const char *ds = store_meta_get(&info.meta, "datastore");
	const char *s_stop = store_meta_get(&info.meta, "stop_lsn");
	const char *s_tl = store_meta_get(&info.meta, "timeline");
	if (!ds || strcmp(ds, "postgresql"))
		return ct_fail(err, 400, "The parent backup %s is not a PostgreSQL backup.",
			       b->parent.id);
	if (pg_lsn_parse(s_stop, stop) || !s_tl ||
	    (*timeline = (unsigned)strtoul(s_tl, NULL, 10)) == 0)
		return ct_fail(err, 400, "The parent backup %s has no WAL position.", b->parent.id);
	return 0;
}

static int backup_incremental(const struct guest_instance *inst, const struct pg_paths *p,
			      struct backup_store *store, const struct backup_key *key,
			      struct backup_run *run, struct store_object_info *out,
			      struct ct_error *err)
{
	const struct guest_backup_info *b = run->backup;
	uint64_t parent_stop = 0, seg_size = 0, switch_end = 0, rp = 0;
	unsigned parent_tl = 0;
	char text[64];
	if (parent_meta(store, b, &parent_stop, &parent_tl, err))
		return -1;
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return -1;
	struct slot_state slot;
	int rc =
		pg_select_one(c, "SELECT timeline_id::text FROM pg_catalog.pg_control_checkpoint()",
			      NULL, "Reading the timeline", text, sizeof text, err);
	if (!rc) {
		run->timeline = (unsigned)strtoul(text, NULL, 10);
		rc = pg_select_one(c,
				   "SELECT setting FROM pg_catalog.pg_settings "
				   "WHERE name = 'wal_segment_size'",
				   NULL, "Reading the WAL segment size", text, sizeof text, err);
	}
	if (!rc) {
		seg_size = strtoull(text, NULL, 10);
		if (!pg_wal_seg_size_ok(seg_size))
			rc = ct_fail(err, 500, "Unexpected wal_segment_size %s.", text);
	}
	if (!rc && run->timeline != parent_tl)
		rc = ct_fail(err, 422,
			     "The instance changed timeline since the parent backup %s; take a "
			     "full backup.",
			     b->parent.id);
	if (!rc)
		rc = slot_read(c, &slot, err);
	if (!rc &&
	    (!slot.exists || slot.lost || slot.restart_lsn / seg_size > parent_stop / seg_size))
		rc = ct_fail(err, 422,
			     "The write-ahead log since the parent backup %s is no longer kept on "
			     "the instance (a newer backup or max_slot_wal_keep_size let it go); "
			     "take a full backup.",
			     b->parent.id);
	/* The boundary: a restore point named after this backup (the restore's
	 * recovery target), then a switch so its segment is complete on disk. */
	if (!rc)
		rc = pg_select_one(c, "SELECT pg_catalog.pg_create_restore_point($1)::text", b->id,
				   "Creating the restore point", text, sizeof text, err);
	if (!rc && pg_lsn_parse(text, &rp))
		rc = ct_fail(err, 500, "Unexpected restore point %s.", text);
	/* The restore of this incremental stops at the restore point. */
	run->consistent_time = wall_time_ceil();
	if (!rc)
		rc = pg_select_one(c, "SELECT pg_catalog.pg_switch_wal()::text", NULL,
				   "Switching the WAL file", text, sizeof text, err);
	if (!rc && pg_lsn_parse(text, &switch_end))
		rc = ct_fail(err, 500, "Unexpected WAL position %s.", text);
	libpq.PQfinish(c);
	if (rc)
		return -1;

	uint64_t first = parent_stop / seg_size, last = (switch_end - 1) / seg_size;
	run->stop = (last + 1) * seg_size;
	pg_lsn_format(parent_stop, run->start_lsn);
	pg_lsn_format(run->stop, run->stop_lsn);
	pg_lsn_format(rp, run->restore_point_lsn);
	pg_wal_file_name(run->timeline, first, seg_size, run->wal_first);
	pg_wal_file_name(run->timeline, last, seg_size, run->wal_last);

	char wal_dir[PATH_MAX + 16];
	snprintf(wal_dir, sizeof wal_dir, "%s/pg_wal", p->datadir);
	size_t cap = (size_t)(last - first) + 16, n = 0;
	char **names = calloc(cap, sizeof *names);
	if (!names)
		return ct_fail(err, 500, "Out of memory.");
	for (uint64_t seg = first; !rc && seg <= last; seg++) {
		char name[PG_WAL_NAME_LEN + 1], path[PATH_MAX + 64];
		pg_wal_file_name(run->timeline, seg, seg_size, name);
		snprintf(path, sizeof path, "%s/%s", wal_dir, name);
		if (access(path, R_OK))
			rc = ct_fail(err, 422,
				     "The write-ahead log file %s since the parent backup %s is "
				     "gone; take a full backup.",
				     name, b->parent.id);
		else if (!(names[n++] = strdup(name)))
			rc = ct_fail(err, 500, "Out of memory.");
	}
	if (!rc)
		rc = add_history_files(wal_dir, &names, &n, &cap, err);
	char **argv = rc ? NULL : calloc(n + 8, sizeof *argv);
	if (!rc && !argv)
		rc = ct_fail(err, 500, "Out of memory.");
	if (!rc) {
		size_t a = 0;
		argv[a++] = "tar";
		argv[a++] = "-c";
		argv[a++] = "-f";
		argv[a++] = "-";
		argv[a++] = "-C";
		argv[a++] = wal_dir;
		argv[a++] = "--";
		for (size_t i = 0; i < n; i++)
			argv[a++] = names[i];
		argv[a] = NULL;
		unlink(run->tool_log);
		struct backup_command cmd = {.argv = argv,
					     .uid = (uid_t)-1,
					     .gid = (gid_t)-1,
					     .cwd = "/",
					     .stderr_path = run->tool_log};
		log_info("backup %s: WAL %s .. %s (%zu files) since parent %s", b->id,
			 run->wal_first, run->wal_last, n, b->parent.id);
		rc = backup_stream_from_command(store, b->location, key, &cmd, fill_meta, run, out,
						err);
		if (rc)
			guest_log_tail(run->tool_log);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(argv);
	return rc;
}

int pg_create_backup(const struct guest_instance *inst, const struct guest_backup_info *backup,
		     struct backup_store *store, const struct backup_key *key,
		     struct store_object_info *out, struct ct_error *err)
{
	struct pg_paths p;
	struct backup_run run = {.backup = backup};
	char tool_log[PATH_MAX + 16];
	if (check_backup_id(backup->id, err) || pg_paths(inst, &p, err))
		return -1;
	if (backup->has_parent && check_backup_id(backup->parent.id, err))
		return -1;
	snprintf(tool_log, sizeof tool_log, "%s/backup.log", inst->run_dir);
	run.tool_log = tool_log;
	double t0 = guest_now();
	int rc = backup->has_parent ? backup_incremental(inst, &p, store, key, &run, out, err)
				    : backup_full(inst, &p, store, key, &run, out, err);
	if (rc)
		return -1;
	slot_advance(inst, run.stop);
	log_info("backup %s (%s): %" PRIu64 " bytes stored in %.3f s, WAL %s .. %s, timeline %u",
		 backup->id, backup->has_parent ? "incremental" : "full", out ? out->size : 0,
		 guest_now() - t0, run.start_lsn, run.stop_lsn, run.timeline);
	return 0;
}

/* --- restore ---------------------------------------------------------------------------- */

struct restore_run {
	const struct guest_instance *inst;
	const struct pg_paths *p;
	const struct guest_identity *id;
	int major;
	char staging[PATH_MAX + 16]; /* <data>.restore: the full goes here */
	char wal_dir[PATH_MAX + 16]; /* <volume>/wal_restore: the increments */
	char last_id[GUEST_BACKUP_ID_SIZE];
	bool last_full;
	uint64_t prev_stop;
	unsigned timeline;
	bool pitr; /* backup_info.restore_point: on to that time (postgresql_pitr.c) */
	struct pg_pitr_plan plan;
};

static int check_link_meta(struct restore_run *r, const struct guest_backup_ref *link, size_t index,
			   const struct store_object_info *info, struct ct_error *err)
{
	const struct store_meta *m = &info->meta;
	const char *ds = store_meta_get(m, "datastore");
	const char *type = store_meta_get(m, "backup_type");
	const char *tl = store_meta_get(m, "timeline");
	uint64_t start = 0, stop = 0;
	if (!ds || strcmp(ds, "postgresql"))
		return ct_fail(err, 400, "Backup %s is not a PostgreSQL backup.", link->id);
	if (!type || strcmp(type, index ? "incremental" : "full"))
		return ct_fail(err, 400, "Backup %s is not the %s backup its chain needs.",
			       link->id, index ? "incremental" : "full");
	if (pg_lsn_parse(store_meta_get(m, "start_lsn"), &start) ||
	    pg_lsn_parse(store_meta_get(m, "stop_lsn"), &stop) || !tl)
		return ct_fail(err, 400, "Backup %s has no WAL position.", link->id);
	unsigned timeline = (unsigned)strtoul(tl, NULL, 10);
	if (index && (start != r->prev_stop || timeline != r->timeline))
		return ct_fail(err, 400, "Backup %s does not continue the backup before it.",
			       link->id);
	if (link->checksum[0] && strcmp(link->checksum, info->sha256))
		return ct_fail(err, 400, "Backup %s does not have the checksum recorded for it.",
			       link->id);
	r->prev_stop = stop;
	r->timeline = timeline;
	return 0;
}

static int restore_link(void *ctx, struct backup_store *store, const struct guest_backup_ref *link,
			size_t index, size_t count, const struct backup_key *key,
			struct ct_error *err)
{
	struct restore_run *r = ctx;
	struct store_object_info info;
	if (check_backup_id(link->id, err) || store_stat(store, link->location, &info, err) ||
	    check_link_meta(r, link, index, &info, err))
		return -1;
	char log[PATH_MAX + 16];
	snprintf(log, sizeof log, "%s/restore.log", r->p->log_dir);
	/* tar as the instance's user: what it writes is that user's, and it can
	 * write nowhere else. */
	char *argv[] = {
		"tar", "-x", "-f", "-", "-C", index ? r->wal_dir : r->staging, "--no-same-owner",
		NULL};
	struct backup_command cmd = {.argv = argv,
				     .uid = r->id->drop ? r->id->uid : (uid_t)-1,
				     .gid = r->id->drop ? r->id->gid : (gid_t)-1,
				     .cwd = "/",
				     .stderr_path = log};
	double t0 = guest_now();
	if (backup_stream_to_command(store, link->location, key, &cmd, err))
		return -1;
	log_info("restore: backup %s (%zu of %zu, %s) extracted in %.3f s", link->id, index + 1,
		 count, index ? "incremental" : "full", guest_now() - t0);
	snprintf(r->last_id, sizeof r->last_id, "%s", link->id);
	r->last_full = index == 0;
	return 0;
}

/* The full's data directory must be of this server's major version. */
static int check_version(const struct restore_run *r, struct ct_error *err)
{
	char path[PATH_MAX + 32], buf[16] = "";
	snprintf(path, sizeof path, "%s/PG_VERSION", r->staging);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return ct_fail(err, 400, "The backup holds no PostgreSQL data directory.");
	if (atoi(buf) != r->major)
		return ct_fail(err, 400, "The backup is of PostgreSQL %d, not %d.", atoi(buf),
			       r->major);
	return 0;
}

/* Wait until the server left recovery (promoted at the target): then it
 * accepts writes. A server that stops on the way (the WAL ended before the
 * target, a bad segment) fails the restore. */
static int wait_promoted(struct restore_run *r, struct ct_error *err)
{
	double t0 = guest_now();
	for (;;) {
		if (!pg_server_pid(r->p)) {
			guest_log_tail(r->p->log);
			return ct_fail(
				err, 500,
				"PostgreSQL stopped while replaying the backup's write-ahead "
				"log; see %s.",
				r->p->log);
		}
		PGconn *c = pg_connect_bootstrap(r->inst, NULL);
		if (c) {
			PGresult *res = libpq.PQexec(c, "SELECT pg_catalog.pg_is_in_recovery()");
			bool done = res && libpq.PQresultStatus(res) == PGRES_TUPLES_OK &&
				    libpq.PQntuples(res) == 1 &&
				    !strcmp(libpq.PQgetvalue(res, 0, 0), "f");
			libpq.PQclear(res);
			libpq.PQfinish(c);
			if (done)
				return 0;
		}
		if (guest_now() - t0 > RECOVERY_TIMEOUT_MS / 1000.0)
			return ct_fail(err, 500, "PostgreSQL did not finish recovery in %d s.",
				       RECOVERY_TIMEOUT_MS / 1000);
		guest_sleep_ms(20);
	}
}

static int recover(struct restore_run *r, struct ct_error *err)
{
	char signal_path[PATH_MAX + 32], standby[PATH_MAX + 32];
	char restore_cmd[PATH_MAX * 2 + 64], target[GUEST_BACKUP_ID_SIZE + 96];
	if (strchr(r->wal_dir, '"') || strchr(r->wal_dir, '%'))
		return ct_fail(err, 500, "The volume's path cannot be used in restore_command.");
	snprintf(standby, sizeof standby, "%s/standby.signal", r->p->datadir);
	unlink(standby);
	snprintf(signal_path, sizeof signal_path, "%s/recovery.signal", r->p->datadir);
	if (guest_write_file_owned(signal_path, "", 0, 0600, r->id, err))
		return -1;
	snprintf(restore_cmd, sizeof restore_cmd, "restore_command=cp \"%s/%%f\" \"%%p\"",
		 r->wal_dir);
	/* A lone full: stop as soon as it is consistent; a chain: at the
	 * restore point the last incremental made, so a missing segment is an
	 * error ("recovery ended before configured recovery target was
	 * reached"), never a silently shorter database. */
	/* A restore to a time: up to and including it (the archive's WAL is in
	 * wal_dir too), or to the end of what was fetched when no commit after
	 * it is there (postgresql_pitr.c). */
	const char *inclusive = "recovery_target_inclusive=on";
	if (r->pitr && r->plan.to_end)
		snprintf(target, sizeof target, "recovery_target_inclusive=on");
	else if (r->pitr)
		snprintf(target, sizeof target, "recovery_target_time=%s", r->plan.target);
	else if (r->last_full)
		snprintf(target, sizeof target, "recovery_target=immediate");
	else
		snprintf(target, sizeof target, "recovery_target_name=%s", r->last_id);
	/* syncfs: the start-up flush of the extracted files is one syncfs() of
	 * the instance's own volume, not an fsync() per file. */
	const char *settings[] = {restore_cmd,
				  target,
				  inclusive,
				  "recovery_target_action=promote",
				  "hot_standby=on",
				  "archive_mode=off",
				  "recovery_init_sync_method=syncfs",
				  NULL};
	double t0 = guest_now();
	if (pg_server_start(r->inst, r->p, settings, err) || wait_promoted(r, err))
		return -1;
	/* The server stays up: it runs the instance's real config already, and
	 * the recovery settings given for this start mean nothing after the
	 * promotion (a stop and a second start cost a third of a restore). */
	log_info("restore: recovered to %s and promoted in %.3f s",
		 r->pitr	? r->plan.target
		 : r->last_full ? "the end of the full backup"
				: r->last_id,
		 guest_now() - t0);
	return 0;
}

int pg_restore_backup(const struct guest_instance *inst, const struct pg_paths *p,
		      const struct guest_identity *id, int major, const json_t *backup_info,
		      struct ct_error *err)
{
	struct restore_run r = {.inst = inst, .p = p, .id = id, .major = major};
	snprintf(r.staging, sizeof r.staging, "%s.restore", p->datadir);
	snprintf(r.wal_dir, sizeof r.wal_dir, "%s/wal_restore", inst->data_dir);
	double t0 = guest_now();
	int rc = pg_server_stop(inst, p, err) || guest_remove_tree(p->datadir, err) ||
				 guest_remove_tree(r.staging, err) ||
				 guest_remove_tree(r.wal_dir, err) ||
				 guest_mkdir(r.staging, 0700, id, err) ||
				 guest_mkdir(r.wal_dir, 0700, id, err)
			 ? -1
			 : 0;
	if (!rc)
		rc = guest_restore_chain(backup_info, restore_link, &r, err);
	if (!rc)
		rc = check_version(&r, err);
	if (!rc && chmod(r.staging, 0700))
		rc = ct_fail(err, 500, "Cannot chmod %s: %s", r.staging, strerror(errno));
	if (!rc && rename(r.staging, p->datadir))
		rc = ct_fail(err, 500, "Cannot rename %s: %s", r.staging, strerror(errno));
	if (!rc)
		rc = pg_pitr_requested(backup_info, &r.pitr, err);
	if (!rc && r.pitr) {
		char bin[PATH_MAX], log[PATH_MAX + 16];
		snprintf(log, sizeof log, "%s/restore.log", p->log_dir);
		rc = pg_bin_dir(p, bin, sizeof bin, err) < 0
			     ? -1
			     : pg_pitr_fetch(backup_info, r.prev_stop, r.wal_dir, id, bin, log,
					     &r.plan, err);
	}
	if (!rc)
		rc = recover(&r, err);
	if (rc) {
		/* Nothing half-restored may start later: stop and remove it all. */
		struct ct_error ignored = {0};
		pid_t pid = pg_server_pid(p);
		if (pid)
			guest_proc_terminate(pid, "postgres", SIGQUIT, 10000);
		guest_remove_tree(p->datadir, &ignored);
		guest_remove_tree(r.staging, &ignored);
		guest_remove_tree(r.wal_dir, &ignored);
		return -1;
	}
	struct ct_error ignored = {0};
	if (guest_remove_tree(r.wal_dir, &ignored))
		log_warning("restore: %s not removed: %s", r.wal_dir, ignored.message);
	log_info("restore: backup %s restored in %.3f s", r.last_id, guest_now() - t0);
	return 0;
}
