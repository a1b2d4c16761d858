/*
 * mariadb_binlog_backup.c — MariaDB incremental backups made of binary logs
 * (issue 12, docs/backups.md): `mariabackup --incremental-lsn` reads every page
 * of the data to find the changed ones, so an incremental after a 1 % change
 * took a fifth of a full's time; the server's binary log already holds every
 * change since the parent. An incremental is then `FLUSH BINARY LOGS` (the
 * files to copy stop changing) and `mariadb-binlog --start-position=<parent's
 * offset>` over the parent's file and every later closed one, its SQL
 * streamed sealed into the store (metadata incremental_kind=binlog, the end
 * position binlog_file/binlog_pos, gtid, consistent_time). When the parent
 * records no binary log position, or a file since it is gone (purged), the
 * caller falls back to mariabackup. Restore: the physical chain is prepared as
 * before, then each such incremental's SQL is applied in order with the server
 * reachable only over its socket.
 * Owns <root>/inc<N>.sql while a restore runs; may not change the server
 * beyond FLUSH BINARY LOGS (backup) and the replayed SQL (restore).
 */
#define LOG_MODULE "guest.mariadb"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/backup_models.h"
#include "guest/backup_stream.h"
#include "guest/mariadb_internal.h"

#define BINLOG_ARGS_MAX 4096

struct binlog_meta_ctx {
	const struct guest_backup_info *backup;
	const struct mdb_binlog_end *end;
	long long consistent_time;
};

static int binlog_meta(void *arg, struct store_meta *meta, struct ct_error *err)
{
	const struct binlog_meta_ctx *c = arg;
	const struct guest_backup_info *b = c->backup;
	char t[24];
	snprintf(t, sizeof t, "%lld", c->consistent_time);
	if (store_meta_set(meta, "datastore", b->datastore, err) ||
	    (b->datastore_version[0] &&
	     store_meta_set(meta, "datastore_version", b->datastore_version, err)) ||
	    store_meta_set(meta, "backup_id", b->id, err) ||
	    store_meta_set(meta, "backup_type", b->backup_type, err) ||
	    store_meta_set(meta, "parent_id", b->parent.id, err) ||
	    store_meta_set(meta, "incremental_kind", "binlog", err) ||
	    store_meta_set(meta, "binlog_file", c->end->file, err) ||
	    store_meta_set(meta, "binlog_pos", c->end->pos, err) ||
	    (c->end->gtid[0] && store_meta_set(meta, "gtid", c->end->gtid, err)) ||
	    store_meta_set(meta, "consistent_time", t, err))
		return -1;
	return 0;
}

/* One column of one row, or "" (into out). */
static int select_text(MYSQL *c, const char *sql, char *out, size_t size, struct ct_error *err)
{
	struct sqlb b;
	unsigned code = 0;
	sqlb_init(&b, c);
	sqlb_raw(&b, sql);
	MYSQL_RES *res = mdb_select(&b, &code);
	if (!res)
		return mdb_fail(&b, code, "Reading the binary log position", err);
	MYSQL_ROW row = libmariadb.mysql_fetch_row(res);
	snprintf(out, size, "%s", row && row[0] ? row[0] : "");
	libmariadb.mysql_free_result(res);
	return 0;
}

struct closed_files {
	size_t n;
	char (*name)[64];
	unsigned long long last_size;
};

/* After FLUSH BINARY LOGS: the files from `first` to the one before the new
 * current file. 1 when `first` is not among them any more. */
static int closed_since(MYSQL *c, const char *first, struct closed_files *out, struct ct_error *err)
{
	struct sqlb b;
	unsigned code = 0;
	memset(out, 0, sizeof *out);
	sqlb_init(&b, c);
	sqlb_raw(&b, "SHOW BINARY LOGS");
	MYSQL_RES *res = mdb_select(&b, &code);
	if (!res)
		return mdb_fail(&b, code, "Listing the binary logs", err);
	out->name = calloc(BINLOG_ARGS_MAX, sizeof *out->name);
	unsigned long long *sizes = calloc(BINLOG_ARGS_MAX, sizeof *sizes);
	size_t n = 0;
	bool found = false;
	MYSQL_ROW row;
	while (out->name && sizes && (row = libmariadb.mysql_fetch_row(res))) {
		if (!row[0] || !row[1] || strlen(row[0]) >= sizeof out->name[0] ||
		    strchr(row[0], '/'))
			continue;
		if (!found && strcmp(row[0], first))
			continue;
		found = true;
		if (n == BINLOG_ARGS_MAX)
			break;
		snprintf(out->name[n], sizeof out->name[0], "%s", row[0]);
		sizes[n++] = strtoull(row[1], NULL, 10);
	}
	libmariadb.mysql_free_result(res);
	int rc = 0;
	if (!out->name || !sizes)
		rc = ct_fail(err, 500, "Out of memory.");
	else if (!found || n < 2 || n == BINLOG_ARGS_MAX)
		rc = 1; /* the last listed is the new, open file */
	else {
		out->n = n - 1;
		out->last_size = sizes[n - 2];
	}
	free(sizes);
	if (rc) {
		free(out->name);
		out->name = NULL;
	}
	return rc;
}

int mdb_binlog_incremental(const struct guest_instance *inst, const struct mdb_paths *p,
			   const struct guest_backup_info *backup, const struct store_meta *parent,
			   struct backup_store *store, const struct backup_key *key,
			   struct store_object_info *out, struct ct_error *err)
{
	const char *file = store_meta_get(parent, "binlog_file");
	const char *pos = store_meta_get(parent, "binlog_pos");
	if (!file || !pos || !*pos || strspn(pos, "0123456789") != strlen(pos) ||
	    strchr(file, '/') || strlen(file) >= 64)
		return 1;
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return -1;
	struct sqlb b;
	sqlb_init(&b, c);
	sqlb_raw(&b, "FLUSH BINARY LOGS");
	unsigned code = mdb_run(&b);
	long long flushed = (long long)time(NULL);
	struct closed_files files = {0};
	struct mdb_binlog_end end = {0};
	int rc = code ? mdb_fail(&b, code, "Closing the binary log", err)
		      : closed_since(c, file, &files, err);
	if (!rc) {
		snprintf(end.file, sizeof end.file, "%s", files.name[files.n - 1]);
		snprintf(end.pos, sizeof end.pos, "%llu", files.last_size);
		char sql[160];
		snprintf(sql, sizeof sql, "SELECT BINLOG_GTID_POS('%s', %s)", end.file, end.pos);
		rc = select_text(c, sql, end.gtid, sizeof end.gtid, err);
		if (strspn(end.gtid, "0123456789-,") != strlen(end.gtid))
			end.gtid[0] = '\0';
	}
	libmariadb.mysql_close(c);
	if (rc) {
		free(files.name);
		if (rc == 1)
			log_info("incremental %s: the binary logs since %s are gone; mariabackup "
				 "instead",
				 backup->id, file);
		return rc;
	}
	/* mariadb-binlog <parent's file from its offset> <every later closed file> */
	char a_start[48];
	snprintf(a_start, sizeof a_start, "--start-position=%s", pos);
	char **argv = calloc(files.n + 4, sizeof *argv);
	char(*paths)[PATH_MAX + 80] = calloc(files.n, sizeof *paths);
	if (!argv || !paths) {
		free(argv);
		free(paths);
		free(files.name);
		return ct_fail(err, 500, "Out of memory.");
	}
	size_t k = 0;
	argv[k++] = "/usr/bin/mariadb-binlog";
	argv[k++] = "--no-defaults";
	argv[k++] = a_start;
	for (size_t i = 0; i < files.n; i++) {
		snprintf(paths[i], sizeof paths[i], "%s/%s", p->datadir, files.name[i]);
		argv[k++] = paths[i];
	}
	argv[k] = NULL;
	char log[PATH_MAX + 32];
	snprintf(log, sizeof log, "%s/backup.log", inst->run_dir);
	struct backup_command cmd = {.argv = argv, .uid = (uid_t)-1, .stderr_path = log};
	struct binlog_meta_ctx ctx = {backup, &end, flushed};
	log_info("incremental %s: binary logs %s:%s to %s:%s (%zu files)", backup->id, file, pos,
		 end.file, end.pos, files.n);
	rc = backup_stream_from_command(store, backup->location, key, &cmd, binlog_meta, &ctx, out,
					err);
	free(argv);
	free(paths);
	free(files.name);
	return rc ? -1 : 0;
}

/* --- restore ----------------------------------------------------------------------- */

int mdb_binlog_restore_fetch(struct backup_store *store, const struct guest_backup_ref *link,
			     const struct backup_key *key, const char *root, size_t index,
			     const char *log, struct mdb_binlog_end *end, struct ct_error *err)
{
	struct store_object_info *info = malloc(sizeof *info);
	if (!info)
		return ct_fail(err, 500, "Out of memory.");
	int rc = store_stat(store, link->location, info, err) ? -1 : 0;
	const char *kind = rc ? NULL : store_meta_get(&info->meta, "incremental_kind");
	if (rc || !kind || strcmp(kind, "binlog")) {
		free(info);
		return rc;
	}
	const char *file = store_meta_get(&info->meta, "binlog_file");
	const char *pos = store_meta_get(&info->meta, "binlog_pos");
	const char *gtid = store_meta_get(&info->meta, "gtid");
	if (!file || !pos || strlen(file) >= sizeof end->file || strlen(pos) >= sizeof end->pos) {
		free(info);
		return ct_fail(err, 422, "Backup %s records no binary log end position.", link->id);
	}
	snprintf(end->file, sizeof end->file, "%s", file);
	snprintf(end->pos, sizeof end->pos, "%s", pos);
	snprintf(end->gtid, sizeof end->gtid, "%s", gtid ? gtid : "");
	free(info);
	char a_of[PATH_MAX + 48];
	snprintf(a_of, sizeof a_of, "of=%s/inc%zu.sql", root, index);
	char *argv[] = {"/bin/dd", a_of, "bs=1M", "status=none", NULL};
	struct backup_command cmd = {.argv = argv, .uid = (uid_t)-1, .stderr_path = log};
	if (backup_stream_to_command(store, link->location, key, &cmd, err))
		return -1;
	return 1;
}

int mdb_apply_sql_file(const struct mdb_paths *p, const char *sql, const char *log,
		       struct ct_error *err)
{
	char self[64];
	guest_self_name(self, sizeof self);
	const char *apply[] = {"/bin/sh",
			       "-c",
			       "exec /usr/bin/mariadb --no-defaults --socket=\"$1\" --user=\"$2\" "
			       "--binary-mode --max-allowed-packet=1073741824 < \"$3\"",
			       "sh",
			       p->sock,
			       self,
			       sql,
			       NULL};
	struct ct_error run_err = {0};
	if (guest_run(apply, log, NULL, &run_err)) {
		guest_log_tail(log);
		return ct_fail(err, 500, "Replaying the binary log into the server failed: %s",
			       run_err.message);
	}
	return 0;
}

int mdb_binlog_restore_apply(const struct guest_instance *inst, const struct mdb_paths *p,
			     const struct guest_identity *id, const char *root, size_t last,
			     const struct mdb_binlog_end *end, const char *log,
			     struct ct_error *err)
{
	if (mdb_start_socket_only(inst, p, err))
		return -1;
	int rc = 0;
	for (size_t i = 1; !rc && i <= last; i++) {
		char sql[PATH_MAX + 32];
		snprintf(sql, sizeof sql, "%s/inc%zu.sql", root, i);
		if (access(sql, F_OK))
			continue;
		log_info("restore: applying the binary logs of incremental %zu", i);
		rc = mdb_apply_sql_file(p, sql, log, err);
		unlink(sql);
	}
	struct ct_error stop_err = {0};
	if (mdb_stop_server(inst, p, &stop_err) && !rc) {
		*err = stop_err;
		rc = -1;
	}
	if (rc)
		return -1;
	/* Where a point-in-time replay continues from (mariadb_pitr.c). */
	char path[PATH_MAX + 32], text[400];
	snprintf(path, sizeof path, "%s/xtrabackup_binlog_info", p->datadir);
	int n = snprintf(text, sizeof text, "%s\t%s\t%s\n", end->file, end->pos, end->gtid);
	return guest_write_file_owned(path, text, (size_t)n, 0640, id, err);
}
