/*
 * mariadb_backup.c — MariaDB backups and restores with Debian's mariadb-backup
 * (trove-guest.md §4.2, §4.7): a full or incremental `mariabackup --backup
 * --stream=xbstream` of the running server into the encrypted stream
 * (backup_stream.h), its checkpoint LSN recorded as the object's `lsn`; and a
 * restore chain streamed into `mbstream -x`, prepared (`--prepare`, then each
 * incremental with `--incremental-dir`) and moved into place as the data
 * directory, owned by the instance's user.
 * The backup tool runs as root (it reads the server's files) with os_admin's
 * password in a 0600 defaults file under the root-only credentials directory;
 * the stream goes from its stdout to the store and never touches the volume.
 * Restore work runs as the instance's user on the new instance's volume.
 * Owns <run_dir>/backup-tmp, <run_dir>/{backup,restore}.log, the defaults file
 * and <data_dir>/restore while they exist; may not touch the data directory
 * except to replace it at the end of a successful restore.
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
#include "guest/backups.h"
#include "guest/mariadb_internal.h"

#define BACKUP_TOOL    "mariabackup"
#define EXTRACT_TOOL   "mbstream"
#define LSN_MARKER     "The latest check point (for incremental): '"
#define LOG_TAIL_MAX   65536
#define PREPARE_MEMORY "--use-memory=256M"

struct backup_paths {
	char cnf[PATH_MAX]; /* credentials/mariabackup.cnf, 0600 root */
	char tmp[PATH_MAX]; /* <run>/backup-tmp, 0700 root */
	char log[PATH_MAX]; /* <run>/backup.log */
};

static int backup_paths(const struct guest_instance *inst, const struct mdb_paths *p,
			struct backup_paths *b, struct ct_error *err)
{
	if (snprintf(b->cnf, sizeof b->cnf, "%s/mariabackup.cnf", p->cred_dir) >=
		    (int)sizeof b->cnf ||
	    snprintf(b->tmp, sizeof b->tmp, "%s/backup-tmp", inst->run_dir) >= (int)sizeof b->tmp ||
	    snprintf(b->log, sizeof b->log, "%s/backup.log", inst->run_dir) >= (int)sizeof b->log)
		return ct_fail(err, 500, "The instance's run directory path is too long.");
	return 0;
}

/* The instance's my.cnf (the InnoDB settings the tool must agree with), then
 * os_admin's login: later lines win, so [mysqld]'s user= is not the login. */
static int write_tool_defaults(const struct mdb_paths *p, const struct backup_paths *b,
			       struct ct_error *err)
{
	struct guest_credentials cred;
	if (guest_read_credentials(p->admin_cnf, &cred, err))
		return -1;
	char *text = malloc(2 * PATH_MAX + 1024);
	if (!text) {
		explicit_bzero(&cred, sizeof cred);
		return ct_fail(err, 500, "Out of memory.");
	}
	int n = snprintf(text, 2 * PATH_MAX + 1024,
			 "!include %s\n[mariabackup]\nuser=%s\npassword=%s\nsocket=%s\n", p->cnf,
			 cred.user, cred.password, p->sock);
	int rc = guest_write_file(b->cnf, text, (size_t)n, 0600, err);
	explicit_bzero(text, (size_t)n);
	explicit_bzero(&cred, sizeof cred);
	free(text);
	return rc;
}

#define GTID_MARKER "GTID of the last change '"

/* The last KB of the tool's log: its last line, the checkpoint LSN and the
 * binary log GTID position of the backup. */
struct tool_log {
	char lsn[32];
	char gtid[200];
	bool completed_ok;
	char last_line[256];
};

static void read_tool_log(const char *path, struct tool_log *out)
{
	memset(out, 0, sizeof *out);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	char *buf = malloc(LOG_TAIL_MAX + 1);
	off_t size = buf ? lseek(fd, 0, SEEK_END) : -1;
	ssize_t n = -1;
	if (size >= 0) {
		off_t from = size > LOG_TAIL_MAX ? size - LOG_TAIL_MAX : 0;
		n = pread(fd, buf, LOG_TAIL_MAX, from);
	}
	close(fd);
	if (n <= 0) {
		free(buf);
		return;
	}
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	char *last = strrchr(buf, '\n');
	last = last ? last + 1 : buf;
	snprintf(out->last_line, sizeof out->last_line, "%s", last);
	out->completed_ok = strstr(last, "completed OK!") != NULL;
	char *m = NULL;
	for (char *s = strstr(buf, LSN_MARKER); s; s = strstr(s + 1, LSN_MARKER))
		m = s;
	if (m) {
		m += strlen(LSN_MARKER);
		size_t len = strspn(m, "0123456789");
		if (len > 0 && len < sizeof out->lsn && m[len] == '\'')
			memcpy(out->lsn, m, len);
	}
	char *g = strstr(buf, GTID_MARKER);
	if (g) {
		g += strlen(GTID_MARKER);
		size_t len = strspn(g, "0123456789-,");
		if (len > 0 && len < sizeof out->gtid && g[len] == '\'')
			memcpy(out->gtid, g, len);
	}
	free(buf);
}

struct backup_meta_ctx {
	const struct guest_backup_info *backup;
	const char *log;
};

/* Trove's rule: success only when the log's last line says completed OK!. */
static int backup_meta(void *arg, struct store_meta *meta, struct ct_error *err)
{
	const struct backup_meta_ctx *c = arg;
	struct tool_log tl;
	read_tool_log(c->log, &tl);
	if (!tl.completed_ok)
		return ct_fail(err, 500, "mariabackup did not complete: %s",
			       tl.last_line[0] ? tl.last_line : "(no output)");
	if (!tl.lsn[0])
		return ct_fail(err, 500, "mariabackup reported no checkpoint LSN.");
	const struct guest_backup_info *b = c->backup;
	if (store_meta_set(meta, "datastore", b->datastore, err) ||
	    (b->datastore_version[0] &&
	     store_meta_set(meta, "datastore_version", b->datastore_version, err)) ||
	    store_meta_set(meta, "backup_id", b->id, err) ||
	    store_meta_set(meta, "backup_type", b->backup_type, err) ||
	    (b->has_parent && store_meta_set(meta, "parent_id", b->parent.id, err)) ||
	    store_meta_set(meta, "lsn", tl.lsn, err) ||
	    (tl.gtid[0] && store_meta_set(meta, "gtid", tl.gtid, err)))
		return -1;
	/* Point-in-time restore (issue 16): the backup holds every commit up to
	 * its binary log position, taken before the tool finished; replay starts
	 * there, so the time it finished is a safe upper bound. */
	char now[24];
	snprintf(now, sizeof now, "%lld", (long long)time(NULL));
	return store_meta_set(meta, "consistent_time", now, err);
}

/* The parent's checkpoint LSN, from its object's metadata. */
static int parent_lsn(struct backup_store *store, const struct guest_backup_info *b, char *out,
		      size_t size, struct ct_error *err)
{
	struct store_object_info *info = malloc(sizeof *info);
	if (!info)
		return ct_fail(err, 500, "Out of memory.");
	struct ct_error stat_err = {0};
	int rc = -1;
	if (store_stat(store, b->parent.location, info, &stat_err)) {
		ct_fail(err, stat_err.status == 404 ? 422 : stat_err.status,
			"The parent backup %s cannot be read: %s", b->parent.id, stat_err.message);
		goto out;
	}
	if (b->parent.checksum[0] && strcmp(b->parent.checksum, info->sha256)) {
		ct_fail(err, 422, "The parent backup %s does not have the checksum recorded.",
			b->parent.id);
		goto out;
	}
	const char *lsn = store_meta_get(&info->meta, "lsn");
	if (!lsn || !*lsn || strspn(lsn, "0123456789") != strlen(lsn) || strlen(lsn) >= size) {
		ct_fail(err, 422, "The parent backup %s has no LSN to continue from.",
			b->parent.id);
		goto out;
	}
	snprintf(out, size, "%s", lsn);
	rc = 0;
out:
	free(info);
	return rc;
}

int mdb_create_backup(const struct guest_instance *inst, const struct guest_backup_info *backup,
		      struct backup_store *store, const struct backup_key *key,
		      struct store_object_info *out, struct ct_error *err)
{
	struct mdb_paths p;
	struct backup_paths b;
	char lsn[32] = "";
	if (mdb_paths(inst, &p, err) || backup_paths(inst, &p, &b, err))
		return -1;
	if (backup->has_parent && parent_lsn(store, backup, lsn, sizeof lsn, err))
		return -1;
	/* A fresh log: its last line decides. */
	if (unlink(b.log) && errno != ENOENT)
		return ct_fail(err, 500, "Cannot remove %s: %s", b.log, strerror(errno));
	if (guest_remove_tree(b.tmp, err) || guest_mkdir(b.tmp, 0700, NULL, err) ||
	    write_tool_defaults(&p, &b, err))
		return -1;
	char a_defaults[PATH_MAX + 32], a_target[PATH_MAX + 32], a_tmp[PATH_MAX + 32], a_lsn[64];
	snprintf(a_defaults, sizeof a_defaults, "--defaults-file=%s", b.cnf);
	snprintf(a_target, sizeof a_target, "--target-dir=%s", b.tmp);
	snprintf(a_tmp, sizeof a_tmp, "--tmpdir=%s", b.tmp);
	snprintf(a_lsn, sizeof a_lsn, "--incremental-lsn=%s", lsn);
	char *argv[] = {BACKUP_TOOL,	       a_defaults, "--backup",
			"--stream=xbstream",   a_target,   a_tmp,
			lsn[0] ? a_lsn : NULL, NULL};
	struct backup_command cmd = {
		.argv = argv,
		.uid = (uid_t)-1,
		.cwd = b.tmp,
		.stderr_path = b.log,
	};
	struct backup_meta_ctx ctx = {backup, b.log};
	int rc = backup_stream_from_command(store, backup->location, key, &cmd, backup_meta, &ctx,
					    out, err);
	struct ct_error cleanup_err = {0};
	if (unlink(b.cnf) && errno != ENOENT)
		log_warning("cannot remove %s: %s", b.cnf, strerror(errno));
	if (guest_remove_tree(b.tmp, &cleanup_err))
		log_warning("%s", cleanup_err.message);
	if (rc) {
		guest_log_tail(b.log);
		if (strstr(err->message, "mariabackup") == NULL) {
			struct tool_log tl;
			read_tool_log(b.log, &tl);
			if (tl.last_line[0] && !tl.completed_ok) {
				struct ct_error cause = *err;
				ct_fail(err, cause.status, "%s (mariabackup: %.300s)",
					cause.message, tl.last_line);
			}
		}
	}
	return rc;
}

/* --- restore ------------------------------------------------------------------- */

struct restore_ctx {
	const struct guest_instance *inst;
	const struct mdb_paths *p;
	const struct guest_identity *id;
	char root[PATH_MAX];	      /* <data_dir>/restore */
	char base[PATH_MAX + 8];      /* <root>/base: the full, prepared in place */
	char log[PATH_MAX];	      /* <run>/restore.log (mbstream) */
	char tool_log[PATH_MAX + 32]; /* <run>/log/restore-prepare.log (mariabackup, as the user) */
};

static int prepare_dir(struct restore_ctx *c, const char *incremental_dir, struct ct_error *err)
{
	char a_target[2 * PATH_MAX], a_inc[2 * PATH_MAX];
	snprintf(a_target, sizeof a_target, "--target-dir=%s", c->base);
	snprintf(a_inc, sizeof a_inc, "--incremental-dir=%s",
		 incremental_dir ? incremental_dir : "");
	const char *argv[] = {"/usr/bin/" BACKUP_TOOL,
			      "--no-defaults",
			      "--prepare",
			      a_target,
			      PREPARE_MEMORY,
			      incremental_dir ? a_inc : NULL,
			      NULL};
	if (unlink(c->tool_log) && errno != ENOENT)
		return ct_fail(err, 500, "Cannot remove %s: %s", c->tool_log, strerror(errno));
	struct ct_error run_err = {0};
	if (guest_run(argv, c->tool_log, c->id, &run_err)) {
		guest_log_tail(c->tool_log);
		struct tool_log tl;
		read_tool_log(c->tool_log, &tl);
		return ct_fail(err, 500, "mariabackup --prepare failed: %.300s",
			       tl.last_line[0] ? tl.last_line : run_err.message);
	}
	struct tool_log tl;
	read_tool_log(c->tool_log, &tl);
	if (!tl.completed_ok)
		return ct_fail(err, 500, "mariabackup --prepare did not complete: %.300s",
			       tl.last_line);
	return 0;
}

static int restore_link(void *arg, struct backup_store *store, const struct guest_backup_ref *link,
			size_t index, size_t count, const struct backup_key *key,
			struct ct_error *err)
{
	struct restore_ctx *c = arg;
	(void)count;
	char dir[PATH_MAX + 32];
	if (index == 0)
		snprintf(dir, sizeof dir, "%s", c->base);
	else
		snprintf(dir, sizeof dir, "%s/inc%zu", c->root, index);
	if (guest_remove_tree(dir, err) || guest_mkdir(dir, 0700, c->id, err))
		return -1;
	char a_dir[2 * PATH_MAX];
	snprintf(a_dir, sizeof a_dir, "%s", dir);
	char *argv[] = {EXTRACT_TOOL, "-x", "-C", a_dir, NULL};
	struct backup_command cmd = {
		.argv = argv,
		.uid = c->id->drop ? c->id->uid : (uid_t)-1,
		.gid = c->id->gid,
		.cwd = dir,
		.stderr_path = c->log,
	};
	if (backup_stream_to_command(store, link->location, key, &cmd, err)) {
		guest_log_tail(c->log);
		return -1;
	}
	if (prepare_dir(c, index == 0 ? NULL : dir, err))
		return -1;
	return index == 0 ? 0 : guest_remove_tree(dir, err);
}

int mdb_restore(const struct guest_instance *inst, const struct mdb_paths *p,
		const struct guest_identity *id, const json_t *backup_info, struct ct_error *err)
{
	struct restore_ctx *c = calloc(1, sizeof *c);
	if (!c)
		return ct_fail(err, 500, "Out of memory.");
	c->inst = inst;
	c->p = p;
	c->id = id;
	snprintf(c->root, sizeof c->root, "%s/restore", inst->data_dir);
	snprintf(c->base, sizeof c->base, "%s/base", c->root);
	snprintf(c->log, sizeof c->log, "%s/restore.log", inst->run_dir);
	snprintf(c->tool_log, sizeof c->tool_log, "%s/restore-prepare.log", p->log_dir);
	int rc = -1;
	if (unlink(c->log) && errno != ENOENT) {
		ct_fail(err, 500, "Cannot remove %s: %s", c->log, strerror(errno));
		goto out;
	}
	if (guest_remove_tree(c->root, err) || guest_mkdir(c->root, 0700, id, err))
		goto out;
	if (guest_restore_chain(backup_info, restore_link, c, err))
		goto out;
	/* The prepared copy becomes the data directory in one rename on the
	 * volume; what the tool left beside the data stays harmless. */
	if (guest_remove_tree(p->datadir, err))
		goto out;
	if (rename(c->base, p->datadir)) {
		ct_fail(err, 500, "Cannot move the restored data into place: %s", strerror(errno));
		goto out;
	}
	if (id->drop && guest_chown_tree(p->datadir, id->uid, id->gid, err))
		goto out;
	if (chmod(p->datadir, 0700)) {
		ct_fail(err, 500, "chmod %s: %s", p->datadir, strerror(errno));
		goto out;
	}
	rc = 0;
out:;
	struct ct_error cleanup_err = {0};
	if (guest_remove_tree(c->root, &cleanup_err))
		log_warning("%s", cleanup_err.message);
	free(c);
	return rc;
}
