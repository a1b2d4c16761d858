/*
 * postgresql_archive.c — the archive_ship slot of the PostgreSQL manager
 * (issue 16, docs/pitr.md, docs/guest-postgresql.md "WAL archive"): every
 * round ships the WAL flushed since the last round, read straight from
 * pg_wal, where a physical slot of its own ("ctrove_archive") keeps every
 * segment until it is shipped. A segment goes out in parts as it fills —
 * "<segment>.<offset, 12 digits>" — or whole ("<segment>") when one round
 * sees all of it; a new timeline's history file goes out before its WAL.
 * No archive_command and no forced segment switch: a commit is in the store
 * one round after it is flushed, and a quiet server costs no 16 MB segment
 * per second (which would also fill the backups' slot).
 * Owns the slot and its "ds" part of the archive state (timeline, next_lsn,
 * lower); reads pg_wal, writes nothing of the instance's.
 */
#define LOG_MODULE "guest.postgresql"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/archive.h"
#include "guest/postgresql_internal.h"

#define ARCHIVE_SLOT "ctrove_archive"

struct wal_now {
	long long t_before; /* unix s, read before the position (minus a second) */
	uint64_t flush;	    /* pg_current_wal_flush_lsn() */
	unsigned timeline;  /* of the WAL being written */
	uint64_t seg_size;
	bool in_recovery;
};

static long long wall_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec;
}

/* Where the server is. The time is taken first and a second earlier: every
 * commit stamped before it has its record flushed by the time the position
 * is read (the stamp is taken just before the record is written). */
static int read_now(PGconn *c, struct wal_now *now, struct ct_error *err)
{
	memset(now, 0, sizeof *now);
	now->t_before = wall_seconds() - 1;
	PGresult *res = pg_select(
		c,
		"SELECT pg_catalog.pg_is_in_recovery()::text, "
		"CASE WHEN pg_catalog.pg_is_in_recovery() THEN '' ELSE "
		"pg_catalog.pg_current_wal_flush_lsn()::text END, "
		"CASE WHEN pg_catalog.pg_is_in_recovery() THEN '' ELSE "
		"pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_flush_lsn()) END, "
		"(SELECT setting FROM pg_catalog.pg_settings WHERE name = 'wal_segment_size')",
		0, NULL, "Reading the WAL position", err);
	if (!res)
		return -1;
	int rc = 0;
	if (libpq.PQntuples(res) != 1)
		rc = ct_fail(err, 500, "Reading the WAL position returned no row.");
	else if (!strcmp(libpq.PQgetvalue(res, 0, 0), "true"))
		now->in_recovery = true;
	else {
		const char *file = libpq.PQgetvalue(res, 0, 2);
		now->seg_size = strtoull(libpq.PQgetvalue(res, 0, 3), NULL, 10);
		if (pg_lsn_parse(libpq.PQgetvalue(res, 0, 1), &now->flush) ||
		    !pg_wal_seg_size_ok(now->seg_size) || strlen(file) != PG_WAL_NAME_LEN ||
		    sscanf(file, "%8X", &now->timeline) != 1 || !now->timeline)
			rc = ct_fail(err, 500, "Unexpected WAL position %s (%s).",
				     libpq.PQgetvalue(res, 0, 1), file);
	}
	libpq.PQclear(res);
	return rc;
}

/* The slot's restart_lsn (0 when it is missing or lost). */
static int slot_restart(PGconn *c, uint64_t *restart, struct ct_error *err)
{
	char text[64] = "";
	const char *params[1] = {ARCHIVE_SLOT};
	PGresult *res = pg_select(c,
				  "SELECT CASE WHEN wal_status = 'lost' THEN '' ELSE "
				  "coalesce(restart_lsn::text, '') END "
				  "FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
				  1, params, "Reading the archive slot", err);
	if (!res)
		return -1;
	if (libpq.PQntuples(res) == 1)
		snprintf(text, sizeof text, "%s", libpq.PQgetvalue(res, 0, 0));
	libpq.PQclear(res);
	*restart = 0;
	if (text[0])
		pg_lsn_parse(text, restart);
	return 0;
}

/* A new slot (a lost one is dropped first), reserving WAL from now on. */
static int slot_make(PGconn *c, uint64_t *restart, struct ct_error *err)
{
	char ignored[64];
	const char *params[1] = {ARCHIVE_SLOT};
	PGresult *res = pg_select(c,
				  "SELECT pg_catalog.pg_drop_replication_slot(slot_name)::text "
				  "FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
				  1, params, "Dropping the archive slot", err);
	if (!res)
		return -1;
	libpq.PQclear(res);
	if (pg_select_one(c,
			  "SELECT slot_name::text FROM "
			  "pg_catalog.pg_create_physical_replication_slot($1, true, false)",
			  ARCHIVE_SLOT, "Creating the archive slot", ignored, sizeof ignored,
			  err) ||
	    slot_restart(c, restart, err))
		return -1;
	if (!*restart)
		return ct_fail(err, 500, "The archive slot reserved no WAL.");
	return 0;
}

/* Shipped WAL may go: the slot moves to the start of the segment being
 * shipped. A failure costs disk only until the next round. */
static void slot_advance(PGconn *c, uint64_t to)
{
	struct ct_error err = {0};
	char lsn[PG_LSN_TEXT_MAX];
	uint64_t restart = 0;
	if (slot_restart(c, &restart, &err) || !restart || restart >= to)
		return;
	pg_lsn_format(to, lsn);
	const char *params[2] = {ARCHIVE_SLOT, lsn};
	PGresult *res = pg_select(c,
				  "SELECT end_lsn::text FROM "
				  "pg_catalog.pg_replication_slot_advance($1, $2::pg_lsn)",
				  2, params, "Advancing the archive slot", &err);
	libpq.PQclear(res);
	if (err.message[0])
		log_warning("archive slot not advanced: %s", err.message);
}

struct ds_state {
	unsigned timeline;
	uint64_t next_lsn; /* first byte not shipped */
	long long lower;   /* no record at or after next_lsn is older */
	bool known;
};

static void ds_load(struct guest_archive_ctx *ctx, struct ds_state *s)
{
	json_t *ds = guest_archive_ds_state(ctx);
	memset(s, 0, sizeof *s);
	s->timeline = (unsigned)json_integer_value(json_object_get(ds, "timeline"));
	s->lower = json_integer_value(json_object_get(ds, "lower"));
	s->known = s->timeline &&
		   !pg_lsn_parse(json_string_value(json_object_get(ds, "next_lsn")), &s->next_lsn);
}

static void ds_store(struct guest_archive_ctx *ctx, const struct ds_state *s)
{
	json_t *ds = guest_archive_ds_state(ctx);
	char lsn[PG_LSN_TEXT_MAX];
	pg_lsn_format(s->next_lsn, lsn);
	json_object_set_new(ds, "timeline", json_integer(s->timeline));
	json_object_set_new(ds, "next_lsn", json_string(lsn));
	json_object_set_new(ds, "lower", json_integer(s->lower));
}

static int meta_num(struct store_meta *m, const char *key, long long v, struct ct_error *err)
{
	char text[32];
	snprintf(text, sizeof text, "%lld", v);
	return store_meta_set(m, key, text, err);
}

static int meta_lsn(struct store_meta *m, const char *key, uint64_t v, struct ct_error *err)
{
	char text[PG_LSN_TEXT_MAX];
	pg_lsn_format(v, text);
	return store_meta_set(m, key, text, err);
}

/* start_time: the bound kept in the state; end_time: now, after the
 * position was read, rounded up — nothing in the object is later. */
static int object_meta(struct store_meta *m, const struct ds_state *s, const struct wal_now *now,
		       uint64_t start, uint64_t end, struct ct_error *err)
{
	memset(m, 0, sizeof *m);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return meta_num(m, "start_time", s->lower, err) ||
			       meta_num(m, "end_time", (long long)ts.tv_sec + 1, err) ||
			       meta_lsn(m, "start_lsn", start, err) ||
			       meta_lsn(m, "end_lsn", end, err) ||
			       meta_num(m, "timeline", s->timeline, err) ||
			       meta_num(m, "wal_segment_size", (long long)now->seg_size, err)
		       ? -1
		       : 0;
}

/* A history file of the timeline now written: a restore on it needs it. */
static int ship_history(struct guest_archive_ctx *ctx, const struct pg_paths *p, struct ds_state *s,
			const struct wal_now *now, struct ct_error *err)
{
	char name[32], path[PATH_MAX + 48];
	snprintf(name, sizeof name, "%08X.history", now->timeline);
	snprintf(path, sizeof path, "%s/pg_wal/%s", p->datadir, name);
	s->timeline = now->timeline;
	if (access(path, R_OK))
		return 0; /* timeline 1 has none */
	struct store_meta m;
	ds_store(ctx, s);
	if (object_meta(&m, s, now, s->next_lsn, s->next_lsn, err))
		return -1;
	return guest_archive_put_file(ctx, name, path, 0, 0, &m, err);
}

/* The file of segment segno: on the timeline written now, else (WAL from
 * before a promotion) on the one shipped so far. */
static void segment_path(const struct pg_paths *p, const struct ds_state *s,
			 const struct wal_now *now, uint64_t segno, char *name, char *path,
			 size_t size)
{
	pg_wal_file_name(now->timeline, segno, now->seg_size, name);
	snprintf(path, size, "%s/pg_wal/%s", p->datadir, name);
	if (access(path, R_OK) && s->timeline && s->timeline != now->timeline) {
		pg_wal_file_name(s->timeline, segno, now->seg_size, name);
		snprintf(path, size, "%s/pg_wal/%s", p->datadir, name);
	}
}

/* The slot or a segment was lost before it was shipped: say so, and go on
 * from what the server still has (a new slot, from now). */
static int restart_after_gap(PGconn *c, struct guest_archive_ctx *ctx, struct ds_state *s,
			     const struct wal_now *now, const char *what, struct ct_error *err)
{
	char gap[GUEST_ARCHIVE_GAP_MAX], from[PG_LSN_TEXT_MAX];
	uint64_t restart = 0;
	pg_lsn_format(s->next_lsn, from);
	snprintf(gap, sizeof gap,
		 "PostgreSQL write-ahead log from %s on timeline %u was not archived: %s", from,
		 s->timeline, what);
	if (guest_archive_set_gap(ctx, gap, err) || slot_make(c, &restart, err))
		return -1;
	s->next_lsn = restart / now->seg_size * now->seg_size;
	s->timeline = now->timeline;
	s->lower = 0;
	ds_store(ctx, s);
	return 0;
}

static int ship_round(PGconn *c, const struct pg_paths *p, struct guest_archive_ctx *ctx,
		      struct ct_error *err)
{
	struct wal_now now;
	struct ds_state s;
	uint64_t restart = 0;
	if (read_now(c, &now, err))
		return -1;
	if (now.in_recovery)
		return 0; /* a replica: its primary archives */
	ds_load(ctx, &s);
	if (slot_restart(c, &restart, err))
		return -1;
	if (!s.known) {
		/* The first round: from the start of the segment the new slot
		 * keeps (its redo pointer). That segment may hold WAL of any
		 * age: its start_time is 0, "unknown". */
		if (slot_make(c, &restart, err))
			return -1;
		s.next_lsn = restart / now.seg_size * now.seg_size;
		s.lower = 0;
		s.timeline = 0;
		char lsn[PG_LSN_TEXT_MAX];
		pg_lsn_format(s.next_lsn, lsn);
		log_info("archive: WAL from %s on timeline %u", lsn, now.timeline);
	} else if (!restart || restart > s.next_lsn) {
		if (restart_after_gap(c, ctx, &s, &now,
				      "the archive slot was invalidated (max_slot_wal_keep_size) "
				      "or dropped",
				      err))
			return -1;
	}
	if (s.timeline != now.timeline && ship_history(ctx, p, &s, &now, err))
		return -1;
	while (s.next_lsn < now.flush) {
		uint64_t segno = s.next_lsn / now.seg_size, seg_start = segno * now.seg_size;
		uint64_t end =
			now.flush < seg_start + now.seg_size ? now.flush : seg_start + now.seg_size;
		char seg[PG_WAL_NAME_LEN + 1], native[PG_WAL_NAME_LEN + 16], path[PATH_MAX + 48];
		struct stat st;
		segment_path(p, &s, &now, segno, seg, path, sizeof path);
		if (stat(path, &st) || (uint64_t)st.st_size < end - seg_start) {
			if (restart_after_gap(c, ctx, &s, &now, "its segment left pg_wal", err))
				return -1;
			break;
		}
		if (s.next_lsn == seg_start && end == seg_start + now.seg_size)
			snprintf(native, sizeof native, "%s", seg);
		else
			snprintf(native, sizeof native, "%s.%012" PRIu64, seg,
				 s.next_lsn - seg_start);
		struct store_meta m;
		struct ds_state before = s;
		if (object_meta(&m, &s, &now, s.next_lsn, end, err))
			return -1;
		s.next_lsn = end;
		ds_store(ctx, &s); /* saved with the object's sequence number */
		if (guest_archive_put_file(ctx, native, path, before.next_lsn - seg_start,
					   end - before.next_lsn, &m, err))
			return -1;
		if (ctx->existed) {
			/* Published by a round that died before saving: go on
			 * from where that object really ends. */
			uint64_t e = 0;
			if (pg_lsn_parse(store_meta_get(&ctx->existing_meta, "end_lsn"), &e) ||
			    e <= before.next_lsn)
				return ct_fail(err, 500, "Archive object %s has no end_lsn.",
					       native);
			s.next_lsn = e;
			ds_store(ctx, &s);
		}
	}
	/* What comes after was written after this round began. */
	s.lower = now.t_before;
	ds_store(ctx, &s);
	slot_advance(c, s.next_lsn / now.seg_size * now.seg_size);
	if (s.next_lsn >= now.flush)
		return guest_archive_set_until(ctx, now.t_before, err);
	return 0;
}

int pg_archive_ship(const struct guest_instance *inst, struct guest_archive_ctx *ctx,
		    struct ct_error *err)
{
	struct pg_paths p;
	if (pg_paths(inst, &p, err))
		return -1;
	if (!pg_server_pid(&p))
		return ct_fail(err, 422, "The database server is not running.");
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c) {
		if (err)
			err->status = 422;
		return -1;
	}
	int rc = ship_round(c, &p, ctx, err);
	libpq.PQfinish(c);
	return rc;
}

int pg_archive_source_dir(const struct guest_instance *inst, char *out, size_t size,
			  const char **prefix, struct ct_error *err)
{
	*prefix = "";
	struct pg_paths p;
	if (pg_paths(inst, &p, err))
		return -1;
	if ((size_t)snprintf(out, size, "%s/pg_wal", p.datadir) >= size)
		return ct_fail(err, 500, "The data directory's path is too long.");
	return 0;
}
