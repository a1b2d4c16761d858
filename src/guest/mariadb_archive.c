/*
 * mariadb_archive.c — continuous archiving of a MariaDB instance's binary log
 * (issue 16, docs/guest-mariadb.md "Binary log archive"): the archive_ship
 * slot. Every round ships what the server has written since the last one, as
 * a part of the open file ending where SHOW MASTER STATUS says the last
 * complete transaction group ends (no FLUSH per round: a file per second would
 * pile up thousands of files), so an object never holds half a transaction.
 * Each object is a binary log file of its own — the file's magic and format
 * description event, then the part's events — so `mariadb-binlog` reads any
 * one of them (mariadb_pitr.c replays them). Metadata: start/end time from the
 * events' headers, the first and last GTID, the file and the byte range.
 * Shipped files are purged (PURGE BINARY LOGS, the newest two always kept, for
 * replicas); a file over BINLOG_ROTATE_SIZE is rotated after it is shipped.
 * Owns the "ds" part of the archive state; may not change the server beyond
 * FLUSH/PURGE BINARY LOGS.
 */
#define LOG_MODULE "guest.mariadb"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/archive.h"
#include "guest/mariadb_internal.h"

#define BINLOG_FILES_MAX   4096
#define BINLOG_ROTATE_SIZE (256ull << 20)
#define BINLOG_KEEP	   2 /* newest files never purged (replicas read them) */

/* --- the events' headers (pure) ----------------------------------------------------- */

static uint32_t le32(const unsigned char *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t le64(const unsigned char *b)
{
	return (uint64_t)le32(b) | (uint64_t)le32(b + 4) << 32;
}

int mdb_binlog_scan(int fd, uint64_t from, uint64_t to, struct mdb_binlog_scan *s,
		    struct ct_error *err)
{
	memset(s, 0, sizeof *s);
	unsigned char h[MDB_BINLOG_HEADER + 13];
	uint64_t pos = from;
	if (pos < 4) {
		if (pread(fd, h, 4, 0) != 4 || memcmp(h,
						      "\xfe"
						      "bin",
						      4))
			return ct_fail(err, 500, "Not a binary log (no magic number).");
		pos = 4;
	}
	while (pos < to) {
		if (to - pos < MDB_BINLOG_HEADER ||
		    pread(fd, h, MDB_BINLOG_HEADER, (off_t)pos) != MDB_BINLOG_HEADER)
			return ct_fail(err, 500,
				       "A binary log event header at %" PRIu64 " is cut short.",
				       pos);
		uint32_t ts = le32(h), size = le32(h + 9);
		unsigned type = h[4];
		if (size < MDB_BINLOG_HEADER || size > to - pos)
			return ct_fail(err, 500,
				       "The binary log event at %" PRIu64 " crosses %" PRIu64 ".",
				       pos, to);
		if (ts && (!s->first_ts || ts < s->first_ts))
			s->first_ts = ts;
		if (ts > s->last_ts)
			s->last_ts = ts;
		if (type == MDB_BINLOG_GTID_EVENT && size >= MDB_BINLOG_HEADER + 13) {
			if (pread(fd, h + MDB_BINLOG_HEADER, 13, (off_t)pos + MDB_BINLOG_HEADER) !=
			    13)
				return ct_fail(err, 500,
					       "A GTID event at %" PRIu64 " is cut short.", pos);
			char *gtid = s->first_gtid[0] ? s->last_gtid : s->first_gtid;
			snprintf(gtid, sizeof s->first_gtid, "%" PRIu32 "-%" PRIu32 "-%" PRIu64,
				 le32(h + MDB_BINLOG_HEADER + 8), le32(h + 5),
				 le64(h + MDB_BINLOG_HEADER));
			if (gtid == s->first_gtid)
				memcpy(s->last_gtid, s->first_gtid, sizeof s->last_gtid);
			s->transactions++;
		}
		s->events++;
		pos += size;
	}
	s->end = pos;
	return 0;
}

/* The magic number and the format description event: where a file's events start. */
int mdb_binlog_header_size(int fd, uint64_t *out, struct ct_error *err)
{
	unsigned char h[MDB_BINLOG_HEADER];
	if (pread(fd, h, 4, 0) != 4 ||
	    memcmp(h,
		   "\xfe"
		   "bin",
		   4) ||
	    pread(fd, h, MDB_BINLOG_HEADER, 4) != MDB_BINLOG_HEADER ||
	    h[4] != MDB_BINLOG_FORMAT_DESCRIPTION)
		return ct_fail(err, 500, "The binary log has no format description event.");
	*out = 4 + (uint64_t)le32(h + 9);
	return 0;
}

/* --- the server's view ---------------------------------------------------------------- */

struct binlog_list {
	size_t n;
	char (*name)[64];
	uint64_t *size;
	char current[64];
	uint64_t current_pos;
};

static void binlog_list_free(struct binlog_list *l)
{
	free(l->name);
	free(l->size);
	memset(l, 0, sizeof *l);
}

static int query_binlogs(MYSQL *c, struct binlog_list *l, struct ct_error *err)
{
	struct sqlb b;
	unsigned code = 0;
	memset(l, 0, sizeof *l);
	/* SHOW MASTER STATUS first: every file SHOW BINARY LOGS lists then ends at
	 * or after it, and the current one's Position is a group boundary. */
	sqlb_init(&b, c);
	sqlb_raw(&b, "SHOW MASTER STATUS");
	MYSQL_RES *res = mdb_select(&b, &code);
	if (!res)
		return mdb_fail(&b, code, "Reading the binary log position", err);
	MYSQL_ROW row = libmariadb.mysql_fetch_row(res);
	if (row && row[0] && row[1] && strlen(row[0]) < sizeof l->current) {
		snprintf(l->current, sizeof l->current, "%s", row[0]);
		l->current_pos = strtoull(row[1], NULL, 10);
	}
	libmariadb.mysql_free_result(res);
	if (!l->current[0])
		return ct_fail(err, 422, "The server writes no binary log.");
	sqlb_init(&b, c);
	sqlb_raw(&b, "SHOW BINARY LOGS");
	res = mdb_select(&b, &code);
	if (!res)
		return mdb_fail(&b, code, "Listing the binary logs", err);
	size_t cap = 0;
	bool oom = false;
	while (l->n < BINLOG_FILES_MAX && (row = libmariadb.mysql_fetch_row(res))) {
		if (!row[0] || !row[1] || strlen(row[0]) >= sizeof l->name[0] ||
		    strchr(row[0], '/'))
			continue;
		if (l->n == cap) {
			cap = cap ? cap * 2 : 16;
			char(*names)[64] = realloc(l->name, cap * sizeof *l->name);
			if (names)
				l->name = names;
			uint64_t *sizes = realloc(l->size, cap * sizeof *l->size);
			if (sizes)
				l->size = sizes;
			if (!names || !sizes) {
				oom = true;
				break;
			}
		}
		snprintf(l->name[l->n], sizeof l->name[0], "%s", row[0]);
		l->size[l->n++] = strtoull(row[1], NULL, 10);
	}
	libmariadb.mysql_free_result(res);
	if (oom) {
		binlog_list_free(l);
		return ct_fail(err, 500, "Out of memory.");
	}
	return 0;
}

static long find_binlog(const struct binlog_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->name[i], name))
			return (long)i;
	return -1;
}

/* --- one round ------------------------------------------------------------------------ */

static int meta_num(struct store_meta *m, const char *key, uint64_t v, struct ct_error *err)
{
	char text[24];
	snprintf(text, sizeof text, "%" PRIu64, v);
	return store_meta_set(m, key, text, err);
}

/* Ship [from, to) of file `name` as one object; ds moves to `to`. */
static int ship_part(struct guest_archive_ctx *ctx, const struct mdb_paths *p, const char *name,
		     uint64_t from, uint64_t to, int64_t until, struct ct_error *err)
{
	char path[PATH_MAX + 80];
	snprintf(path, sizeof path, "%s/%s", p->datadir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ct_fail(err, 500, "Cannot read %s: %s", path, strerror(errno));
	struct mdb_binlog_scan s;
	uint64_t header = 0;
	int rc = mdb_binlog_header_size(fd, &header, err);
	if (!rc && from > 0 && from < header)
		rc = ct_fail(err, 500, "%s: position %" PRIu64 " is inside its header.", name,
			     from);
	if (!rc)
		rc = mdb_binlog_scan(fd, from, to, &s, err);
	close(fd);
	if (rc)
		return -1;
	struct store_meta *m = calloc(1, sizeof *m);
	if (!m)
		return ct_fail(err, 500, "Out of memory.");
	int64_t start_time = s.first_ts ? s.first_ts : until;
	int64_t end_time = s.last_ts > until ? s.last_ts : until;
	if (store_meta_set(m, "binlog_file", name, err) || meta_num(m, "start_pos", from, err) ||
	    meta_num(m, "end_pos", to, err) ||
	    meta_num(m, "start_time", (uint64_t)start_time, err) ||
	    meta_num(m, "end_time", (uint64_t)end_time, err) ||
	    (s.first_gtid[0] && store_meta_set(m, "start_gtid", s.first_gtid, err)) ||
	    (s.last_gtid[0] && store_meta_set(m, "end_gtid", s.last_gtid, err))) {
		free(m);
		return -1;
	}
	char native[128];
	snprintf(native, sizeof native, "%s.%012" PRIu64, name, from);
	json_t *ds = guest_archive_ds_state(ctx);
	json_t *old = json_deep_copy(ds);
	json_object_set_new(ds, "file", json_string(name));
	json_object_set_new(ds, "pos", json_integer((json_int_t)to));
	struct guest_archive_range r[2] = {{0, from ? header : 0}, {from, to - from}};
	rc = guest_archive_put_ranges(ctx, native, path, r, 2, m, err);
	free(m);
	if (rc) {
		json_object_update(ds, old);
		json_decref(old);
		return -1;
	}
	json_decref(old);
	if (ctx->existed) {
		/* An earlier round published this name; it ends where it says. */
		const char *end = store_meta_get(&ctx->existing_meta, "end_pos");
		if (!end)
			return ct_fail(err, 500, "The stored part %s has no end_pos.", native);
		json_object_set_new(ds, "pos", json_integer((json_int_t)strtoull(end, NULL, 10)));
	}
	log_debug("shipped %s [%" PRIu64 ", %" PRIu64 "): %u transactions", name, from, to,
		  s.transactions);
	return 0;
}

/* Drop the files every replica and the archive are done with. */
static void purge_shipped(MYSQL *c, const struct binlog_list *l, long shipped_idx)
{
	long keep_from = (long)l->n - BINLOG_KEEP;
	long to = shipped_idx < keep_from ? shipped_idx : keep_from;
	if (to <= 0)
		return;
	struct sqlb b;
	sqlb_init(&b, c);
	sqlb_raw(&b, "PURGE BINARY LOGS TO ");
	sqlb_str(&b, l->name[to]);
	unsigned code = mdb_run(&b);
	if (code)
		log_warning("PURGE BINARY LOGS TO %s: error %u", l->name[to], code);
	else
		log_info("purged the binary logs before %s (shipped)", l->name[to]);
}

int mdb_archive_ship(const struct guest_instance *inst, struct guest_archive_ctx *ctx,
		     struct ct_error *err)
{
	struct mdb_paths p;
	if (mdb_paths(inst, &p, err))
		return -1;
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return -1;
	/* Everything committed before this second is in what the server lists. */
	int64_t until = (int64_t)time(NULL) - 1;
	struct binlog_list l;
	int rc = query_binlogs(c, &l, err);
	if (rc) {
		libmariadb.mysql_close(c);
		return -1;
	}
	json_t *ds = guest_archive_ds_state(ctx);
	const char *file = json_string_value(json_object_get(ds, "file"));
	uint64_t pos = (uint64_t)json_integer_value(json_object_get(ds, "pos"));
	long i = file ? find_binlog(&l, file) : 0;
	if (l.n == 0)
		rc = ct_fail(err, 422, "The server lists no binary log.");
	else if (i < 0) {
		char gap[GUEST_ARCHIVE_GAP_MAX];
		snprintf(gap, sizeof gap,
			 "binary log %s was removed before it was shipped from position %" PRIu64
			 "; shipping continues with %s",
			 file, pos, l.name[0]);
		rc = guest_archive_set_gap(ctx, gap, err);
		i = 0;
		pos = 0;
	}
	for (; !rc && i < (long)l.n; i++) {
		bool current = !strcmp(l.name[i], l.current);
		uint64_t end = current ? l.current_pos : l.size[i];
		if (end > pos)
			rc = ship_part(ctx, &p, l.name[i], pos, end, until, err);
		if (rc || current)
			break;
		pos = (uint64_t)json_integer_value(json_object_get(ds, "pos"));
		if (pos < end)
			break; /* an old part ended early: the rest goes next round */
		if ((size_t)i + 1 < l.n) {
			/* Closed and shipped: the next file starts. */
			json_object_set_new(ds, "file", json_string(l.name[i + 1]));
			json_object_set_new(ds, "pos", json_integer(0));
			pos = 0;
		}
	}
	if (!rc && i >= 0 && i < (long)l.n && !strcmp(l.name[i], l.current))
		rc = guest_archive_set_until(ctx, until, err);
	if (!rc) {
		purge_shipped(c, &l,
			      find_binlog(&l, json_string_value(json_object_get(ds, "file"))));
		if (l.current_pos > BINLOG_ROTATE_SIZE &&
		    (uint64_t)json_integer_value(json_object_get(ds, "pos")) >= l.current_pos) {
			struct sqlb b;
			sqlb_init(&b, c);
			sqlb_raw(&b, "FLUSH BINARY LOGS");
			if (mdb_run(&b))
				log_warning("FLUSH BINARY LOGS failed");
		}
	}
	binlog_list_free(&l);
	libmariadb.mysql_close(c);
	return rc;
}

int mdb_archive_source_dir(const struct guest_instance *inst, char *out, size_t size,
			   const char **prefix, struct ct_error *err)
{
	*prefix = "mariadb-bin."; /* the binary logs and their index, not InnoDB's files */
	struct mdb_paths p;
	if (mdb_paths(inst, &p, err))
		return -1;
	/* log_bin has no directory: the files are in the data directory. */
	if ((size_t)snprintf(out, size, "%s", p.datadir) >= size)
		return ct_fail(err, 500, "The data directory's path is too long.");
	return 0;
}
