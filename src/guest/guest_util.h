/*
 * guest_util.h — what every datastore manager needs from the operating system:
 * random passwords, atomic file writes, 0600 credential files, directories
 * owned by the service user, detached server processes and their pid files,
 * file-system statistics, template copies, and the helpers both managers
 * read prepare's arguments with (the models themselves are guest/models.h).
 * Shared by the MariaDB and PostgreSQL managers.
 * Owns nothing; may not know any datastore's SQL or layout.
 */
#ifndef CT_GUEST_GUEST_UTIL_H
#define CT_GUEST_GUEST_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"
#include "guest/datastore.h"
#include "guest/models.h" /* the serialized models the managers read and write */

/* The fields of a struct guest_instance from {"id", "manager", ...} (the
 * worker's request, guest_cli's input); missing ones stay empty / 0. */
void guest_instance_from_json(const json_t *j, struct guest_instance *inst);

/* Trove's generated passwords: 36 characters of [A-Za-z0-9]. */
#define GUEST_PASSWORD_LEN 36

/* The credentials a guest keeps in a 0600 file ([client] user/password). */
struct guest_credentials {
	char user[128];
	char password[256];
};

/* Who the database server runs as. With drop set (the agent is root) a
 * spawned process switches to uid/gid before exec; otherwise it keeps the
 * agent's identity. uid is never 0 when drop is set. */
struct guest_identity {
	uid_t uid;
	gid_t gid;
	bool drop;
	char name[64];
};

/* Resolve os_user: as root, its passwd entry (refused if it is root itself);
 * as another user, that user. */
int guest_identity_resolve(const char *os_user, struct guest_identity *id, struct ct_error *err);
/* The agent's own user name (the account its unix-socket logins map to). */
void guest_self_name(char *out, size_t size);

/* len random characters of [A-Za-z0-9] into out[len + 1]. */
int guest_random_password(char *out, size_t len, struct ct_error *err);

/* Write content to path through a temporary file in the same directory,
 * fsync and rename, so readers see the old or the new file. mode applies to
 * the new file from its creation (no window with wider permissions). */
int guest_write_file(const char *path, const char *content, size_t len, mode_t mode,
		     struct ct_error *err);
/* The same, the file owned by id when id->drop (a file its server reads). */
int guest_write_file_owned(const char *path, const char *content, size_t len, mode_t mode,
			   const struct guest_identity *id, struct ct_error *err);
/* The same for a credential file: mode 0600, [client] section. socket may be NULL. */
int guest_write_credentials(const char *path, const struct guest_credentials *cred,
			    const char *socket, struct ct_error *err);
/* Read a file written by guest_write_credentials. 404 when it does not exist. */
int guest_read_credentials(const char *path, struct guest_credentials *cred, struct ct_error *err);

/* mkdir -p with mode for the last component; chown it to id when id->drop. */
int guest_mkdir(const char *path, mode_t mode, const struct guest_identity *id,
		struct ct_error *err);
/* chown -R uid:gid path (never follows symlinks); nothing unless the agent
 * runs as root. */
int guest_chown_tree(const char *path, uid_t uid, gid_t gid, struct ct_error *err);
/* rm -rf path (never follows symlinks). */
int guest_remove_tree(const char *path, struct ct_error *err);

/* Start argv[0] (absolute path) detached: own session and process group, stdin
 * /dev/null, stdout/stderr appended to out_path, identity switched as id says,
 * and not a child of the caller (so it is never left a zombie). Returns its pid,
 * or -1. */
pid_t guest_spawn_detached(const char *const argv[], const char *out_path,
			   const struct guest_identity *id, struct ct_error *err);
/* Run argv to completion (same identity rules, output appended to out_path);
 * 0 when it exited 0. */
int guest_run(const char *const argv[], const char *out_path, const struct guest_identity *id,
	      struct ct_error *err);

/* The pid in a pid file, or 0 when there is none or it is garbage. */
pid_t guest_pidfile_read(const char *path);

enum guest_proc_state { GUEST_PROC_GONE, GUEST_PROC_ALIVE, GUEST_PROC_STOPPED };
/* State of pid, checked to be a process named comm (so a reused pid is "gone");
 * zombies are gone. */
enum guest_proc_state guest_proc_state(pid_t pid, const char *comm);
/* Send sig and wait until the process is gone, up to timeout_ms; 0 if gone. */
int guest_proc_terminate(pid_t pid, const char *comm, int sig, int timeout_ms);

/* Trove's get_filesystem_stats for the file system holding path (§7.5). */
json_t *guest_fs_stats(const char *path, struct ct_error *err);

/* Copy the directory tree src to dst (which must not exist) with cp -a,
 * reflinked where the file system can and sparse; cp's output goes to
 * log_path. */
int guest_copy_tree(const char *src, const char *dst, const char *log_path, struct ct_error *err);

/* The cached template directory tmpl, built once: init fills a new private
 * directory beside it (mode, owned by id; cache_dir must let the service
 * user through), which is then handed to root (instances' users may not read
 * it, let alone change what later instances copy) and renamed into place.
 * A concurrent agent that won the race keeps its copy; either will do. */
int guest_template_build(const char *cache_dir, const char *tmpl, mode_t mode,
			 const struct guest_identity *id,
			 int (*init)(const void *ctx, const char *dir, struct ct_error *err),
			 const void *ctx, struct ct_error *err);

/* The last ~2 KB of a server's log file, to the agent's log at ERROR (servers
 * never write passwords there). */
void guest_log_tail(const char *path);

/* --- Trove's wire JSON ------------------------------------------------------- */

/* prepare's kwargs: a string argument, or NULL. */
const char *guest_kw_string(const json_t *kwargs, const char *key);
/* prepare's kwargs: present and not null, {} or []. */
bool guest_kw_present(const json_t *kwargs, const char *key);
/* 501 for the prepare arguments no manager supports yet (backup_info,
 * snapshot, cluster_config, overrides); warns that modules are ignored. */
int guest_prepare_check_unsupported(const json_t *kwargs, struct ct_error *err);
/* [[items], next_marker] (§3.5) from items fetched with limit + 1 rows: the
 * extra row is dropped and last (the sort key of the last item kept) becomes
 * the marker; null when nothing more. Steals items. */
json_t *guest_page(json_t *items, int limit, const char *last);

/* Monotonic seconds. */
double guest_now(void);
/* Sleep ms milliseconds. */
void guest_sleep_ms(int ms);

/* The status of a server whose pid is known: SHUTDOWN when gone, PAUSED when
 * stopped, else HEALTHY or RUNNING as answers(inst) says (a SELECT 1). */
enum guest_status guest_server_status(const struct guest_instance *inst, pid_t pid,
				      const char *comm,
				      bool (*answers)(const struct guest_instance *inst));

/* Poll status() every 10 ms until HEALTHY (0), SHUTDOWN or timeout_ms (500):
 * how every start waits, as Trove waits for HEALTHY after each start. */
int guest_wait_healthy(const struct guest_instance *inst,
		       enum guest_status (*status)(const struct guest_instance *inst),
		       int timeout_ms, struct ct_error *err);

#endif
