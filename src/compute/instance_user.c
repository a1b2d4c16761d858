/*
 * instance_user.c — see instance_user.h. Owns the ct-* accounts in
 * [local] instance_uid_range; may not touch any other account, nor the
 * database or the bus. useradd/userdel lock /etc/passwd themselves, so two
 * taskmanagers racing for one uid see one of them fail with "UID not unique"
 * and try the next free one.
 */
#define LOG_MODULE "compute"
#include "compute/instance_user.h"

#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "compute/paths.h"
#include "compute/run.h"
#include "os/proc.h"

#define COMMENT_PREFIX "ctrove instance "
#define ALLOCATE_TRIES 20

int instance_user_name(const char *id, char *out, size_t size, struct ct_error *err)
{
	if (paths_check_id(id, err))
		return -1;
	if (size < INSTANCE_USER_NAME_MAX)
		return ct_fail(err, 500, "no room for a user name");
	/* useradd's default NAME_REGEX wants lower case; ids are [A-Za-z0-9_-]. */
	size_t n = (size_t)snprintf(out, size, "ct-");
	for (const char *p = id; *p && n < INSTANCE_USER_NAME_MAX - 1; p++)
		out[n++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
	out[n] = '\0';
	return 0;
}

int instance_user_parse_range(const char *text, uid_t *first, uid_t *last, struct ct_error *err)
{
	char *end;
	errno = 0;
	unsigned long a = strtoul(text, &end, 10);
	if (errno || end == text || *end != '-')
		goto bad;
	const char *second = end + 1;
	unsigned long b = strtoul(second, &end, 10);
	if (errno || end == second || *end || a < 1000 || a > b || b >= 0x7fffffffUL)
		goto bad;
	*first = (uid_t)a;
	*last = (uid_t)b;
	return 0;
bad:
	return ct_fail(err, 400,
		       "[local] instance_uid_range must be first-last with 1000 <= first <= last "
		       "< 2147483647, not '%.64s'.",
		       text);
}

static void fill(struct instance_user *out, const struct passwd *pw)
{
	snprintf(out->name, sizeof out->name, "%s", pw->pw_name);
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
}

int instance_user_lookup(const char *id, struct instance_user *out, struct ct_error *err)
{
	char name[INSTANCE_USER_NAME_MAX], buf[4096], expect[128];
	if (instance_user_name(id, name, sizeof name, err))
		return -1;
	struct passwd pw, *res = NULL;
	int rc = getpwnam_r(name, &pw, buf, sizeof buf, &res);
	if (rc)
		return ct_fail(err, 500, "cannot look up user %s: %s", name, strerror(rc));
	if (!res)
		return ct_fail(err, 404, "instance %s has no OS user", id);
	snprintf(expect, sizeof expect, COMMENT_PREFIX "%s", id);
	/* The name is cut to 32 characters: two ids may share it. */
	if (strcmp(pw.pw_gecos, expect) || pw.pw_uid == 0)
		return ct_fail(err, 409, "OS user %s exists and is not instance %s's", name, id);
	fill(out, &pw);
	return 0;
}

/* Which ids of the range /etc/passwd (uids) and /etc/group (gids) use. */
static int mark_used(uid_t first, uid_t last, unsigned char *used, struct ct_error *err)
{
	char buf[4096];
	FILE *f = fopen("/etc/passwd", "re");
	if (!f)
		return ct_fail(err, 500, "cannot read /etc/passwd: %s", strerror(errno));
	struct passwd pw, *pres;
	while (fgetpwent_r(f, &pw, buf, sizeof buf, &pres) == 0)
		if (pw.pw_uid >= first && pw.pw_uid <= last)
			used[(pw.pw_uid - first) / 8] |=
				(unsigned char)(1u << ((pw.pw_uid - first) % 8));
	fclose(f);
	f = fopen("/etc/group", "re");
	if (!f)
		return ct_fail(err, 500, "cannot read /etc/group: %s", strerror(errno));
	struct group gr, *gres;
	while (fgetgrent_r(f, &gr, buf, sizeof buf, &gres) == 0)
		if (gr.gr_gid >= first && gr.gr_gid <= last)
			used[(gr.gr_gid - first) / 8] |=
				(unsigned char)(1u << ((gr.gr_gid - first) % 8));
	fclose(f);
	return 0;
}

/* A free id of the range (as uid and gid), starting at a place derived from
 * the instance id: spreads instances over the range, so a freed uid is seldom
 * the next one given. */
static int pick_uid(const char *id, uid_t *out, struct ct_error *err)
{
	uid_t first, last;
	if (instance_user_parse_range(cfg_str(CFG_LOCAL_INSTANCE_UID_RANGE), &first, &last, err))
		return -1;
	size_t size = (size_t)(last - first) + 1;
	unsigned char *used = calloc(size / 8 + 1, 1);
	if (!used)
		return ct_fail(err, 500, "out of memory");
	if (mark_used(first, last, used, err)) {
		free(used);
		return -1;
	}
	uint32_t h = 2166136261u;
	for (const char *p = id; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (size_t k = 0; k < size; k++) {
		size_t i = (h + k) % size;
		if (!(used[i / 8] & (1u << (i % 8)))) {
			free(used);
			*out = first + (uid_t)i;
			return 0;
		}
	}
	free(used);
	return ct_fail(err, 500, "No free uid left in [local] instance_uid_range (%s).",
		       cfg_str(CFG_LOCAL_INSTANCE_UID_RANGE));
}

/* A group of the name without its user: what a crash between useradd's two
 * writes, or a groupadd by hand, leaves. useradd --user-group refuses it. */
static int drop_stale_group(const char *name, struct ct_error *err)
{
	char buf[4096];
	struct group gr, *res = NULL;
	if (getgrnam_r(name, &gr, buf, sizeof buf, &res) || !res)
		return 0;
	uid_t first, last;
	if (instance_user_parse_range(cfg_str(CFG_LOCAL_INSTANCE_UID_RANGE), &first, &last, err))
		return -1;
	if (gr.gr_gid < first || gr.gr_gid > last)
		return ct_fail(err, 409, "group %s exists outside [local] instance_uid_range",
			       name);
	const char *argv[] = {"groupdel", name, NULL};
	struct run_result r;
	return run_tool_ok(argv, NULL, &r, err);
}

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

int instance_user_ensure(const char *id, struct instance_user *out, struct ct_error *err)
{
	uid_t first, last;
	if (instance_user_parse_range(cfg_str(CFG_LOCAL_INSTANCE_UID_RANGE), &first, &last, err))
		return -1;
	for (int attempt = 0; attempt < ALLOCATE_TRIES; attempt++) {
		if (!instance_user_lookup(id, out, err))
			return 0;
		if (err->status != 404)
			return -1;
		uid_t uid = 0;
		char name[INSTANCE_USER_NAME_MAX], comment[128], a_uid[16], k[4][40];
		if (instance_user_name(id, name, sizeof name, err) || drop_stale_group(name, err) ||
		    pick_uid(id, &uid, err))
			return -1;
		snprintf(comment, sizeof comment, COMMENT_PREFIX "%s", id);
		snprintf(a_uid, sizeof a_uid, "%u", (unsigned)uid);
		/* Keep the group's gid in the range too (by default it would come from
		 * Debian's small system range, 100-999). */
		snprintf(k[0], sizeof k[0], "SYS_UID_MIN=%u", (unsigned)first);
		snprintf(k[1], sizeof k[1], "SYS_UID_MAX=%u", (unsigned)last);
		snprintf(k[2], sizeof k[2], "SYS_GID_MIN=%u", (unsigned)first);
		snprintf(k[3], sizeof k[3], "SYS_GID_MAX=%u", (unsigned)last);
		const char *argv[] = {"useradd",
				      "--system",
				      "--no-create-home",
				      "--home-dir",
				      "/nonexistent",
				      "--shell",
				      "/usr/sbin/nologin",
				      "--user-group",
				      "--uid",
				      a_uid,
				      "-K",
				      k[0],
				      "-K",
				      k[1],
				      "-K",
				      k[2],
				      "-K",
				      k[3],
				      "--comment",
				      comment,
				      name,
				      NULL};
		struct run_result r;
		if (run_tool(argv, NULL, &r, err))
			return -1;
		if (r.status == 0) {
			if (instance_user_lookup(id, out, err))
				return -1;
			log_info("OS user %s (uid %u, gid %u)", out->name, (unsigned)out->uid,
				 (unsigned)out->gid);
			return 0;
		}
		/* 4: the uid was taken meanwhile; 9: the name (another taskmanager
		 * making the same instance's user); 10: /etc/passwd was locked. */
		if (r.status != 4 && r.status != 9 && r.status != 10)
			return ct_fail(err, 500, "useradd %s failed (status %d): %.200s", name,
				       r.status, r.errtext);
		pause_ms(5 + attempt * 5);
	}
	return ct_fail(err, 500, "could not create an OS user for instance %s", id);
}

struct uid_procs {
	uid_t uid;
	int found;
};

static int kill_if_owned(pid_t pid, void *ctx)
{
	struct uid_procs *u = ctx;
	char path[32];
	struct stat st;
	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	struct os_proc_info info;
	/* A zombie holds nothing and cannot be killed again. */
	if (!stat(path, &st) && st.st_uid == u->uid && pid != getpid() &&
	    !os_proc_info(pid, &info) && info.state != 'Z' && info.state != 'X') {
		kill(pid, SIGKILL);
		u->found++;
	}
	return 0;
}

static void kill_processes(uid_t uid)
{
	for (int round = 0; round < 100; round++) {
		struct uid_procs u = {uid, 0};
		if (os_proc_each(kill_if_owned, &u) < 0 || !u.found)
			return;
		if (round == 0)
			log_warning("killed %d process(es) of uid %u", u.found, (unsigned)uid);
		pause_ms(10);
	}
}

/* nftw passes no context: the uid being swept, per thread. */
static _Thread_local uid_t sweep_uid;

static int remove_if_owned(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (ftw->level == 0 || st->st_uid != sweep_uid)
		return 0;
	if (flag == FTW_DP)
		rmdir(path); /* fails, and stays, when others' files are inside */
	else if (flag != FTW_DNR)
		unlink(path);
	return 0;
}

static void sweep_shared_dirs(uid_t uid)
{
	static const char *const dirs[] = {"/tmp", "/var/tmp", "/dev/shm", NULL};
	sweep_uid = uid;
	for (size_t i = 0; dirs[i]; i++)
		nftw(dirs[i], remove_if_owned, 16, FTW_PHYS | FTW_MOUNT | FTW_DEPTH);
}

int instance_user_stop_processes(const char *id, struct ct_error *err)
{
	struct instance_user u;
	if (instance_user_lookup(id, &u, err))
		return err->status == 404 ? 0 : -1;
	kill_processes(u.uid);
	return 0;
}

int instance_user_remove(const char *id, struct ct_error *err)
{
	struct instance_user u = {0};
	if (instance_user_lookup(id, &u, err)) {
		if (err->status != 404)
			return -1;
		char name[INSTANCE_USER_NAME_MAX];
		return instance_user_name(id, name, sizeof name, err) ||
		       drop_stale_group(name, err);
	}
	for (int attempt = 0; attempt < ALLOCATE_TRIES; attempt++) {
		kill_processes(u.uid);
		sweep_shared_dirs(u.uid);
		const char *argv[] = {"userdel", u.name, NULL};
		struct run_result r;
		if (run_tool(argv, NULL, &r, err))
			return -1;
		/* 6: already gone. */
		if (r.status == 0 || r.status == 6) {
			log_info("removed OS user %s (uid %u)", u.name, (unsigned)u.uid);
			return drop_stale_group(u.name, err);
		}
		/* 8: a process of the user appeared meanwhile; 10: locked. */
		if (r.status != 8 && r.status != 10)
			return ct_fail(err, 500, "userdel %s failed (status %d): %.200s", u.name,
				       r.status, r.errtext);
		pause_ms(5 + attempt * 5);
	}
	return ct_fail(err, 500, "could not remove OS user %s", u.name);
}
