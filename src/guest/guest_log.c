/*
 * guest_log.c — see guest_log.h. A log's state is two numbers kept in
 * <run_dir>/guest_logs/<name>: the bytes published, and a hash of the
 * file's first line when it was published, so a rotated or truncated file
 * (smaller, or with another first line) is seen and published afresh.
 */
#define LOG_MODULE "guest"
#include "guest/guest_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"

struct log_state {
	uint64_t published;
	uint64_t header_hash;
};

struct log_names {
	char prefix[STORE_NAME_MAX + 1];   /* <id>/<ds>-<log>/ */
	char metafile[STORE_NAME_MAX + 1]; /* <id>/<ds>-<log>_metafile */
};

static void names_of(const struct guest_instance *inst, const char *log, struct log_names *n)
{
	snprintf(n->prefix, sizeof n->prefix, "%s/%s-%s/", inst->id, inst->manager, log);
	snprintf(n->metafile, sizeof n->metafile, "%s/%s-%s_metafile", inst->id, inst->manager,
		 log);
}

/* "<container>/<rest>" into out; 400 when it does not fit. */
static int store_name(const char *rest, char out[STORE_NAME_MAX + 1], struct ct_error *err)
{
	if ((size_t)snprintf(out, STORE_NAME_MAX + 1, "%s/%s", cfg_str(CFG_GUEST_LOG_CONTAINER),
			     rest) > STORE_NAME_MAX)
		return ct_fail(err, 400, "The log's object name is too long.");
	return 0;
}

static void state_path(const struct guest_instance *inst, const char *log, char *out, size_t size)
{
	snprintf(out, size, "%s/guest_logs/%s", inst->run_dir, log);
}

static struct log_state state_read(const struct guest_instance *inst, const char *log)
{
	char path[2 * GUEST_PATH_MAX];
	state_path(inst, log, path, sizeof path);
	struct log_state s = {0, 0};
	FILE *f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%" SCNu64 " %" SCNx64, &s.published, &s.header_hash) != 2)
			s = (struct log_state){0, 0};
		fclose(f);
	}
	return s;
}

static int state_write(const struct guest_instance *inst, const char *log,
		       const struct log_state *s, struct ct_error *err)
{
	char dir[2 * GUEST_PATH_MAX], path[2 * GUEST_PATH_MAX + 64], tmp[2 * GUEST_PATH_MAX + 80];
	snprintf(dir, sizeof dir, "%s/guest_logs", inst->run_dir);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return ct_fail(err, 500, "Cannot create %s: %s", dir, strerror(errno));
	state_path(inst, log, path, sizeof path);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return ct_fail(err, 500, "Cannot write %s: %s", tmp, strerror(errno));
	fprintf(f, "%" PRIu64 " %" PRIx64 "\n", s->published, s->header_hash);
	if (fclose(f) || rename(tmp, path)) {
		unlink(tmp);
		return ct_fail(err, 500, "Cannot write %s: %s", path, strerror(errno));
	}
	return 0;
}

/* FNV-1a of the first line (at most 1 KiB): enough to tell a new file from
 * the one published, not a security property. 0 for an empty file. */
static uint64_t header_hash(int fd)
{
	char buf[1024];
	ssize_t n = pread(fd, buf, sizeof buf, 0);
	if (n <= 0)
		return 0;
	uint64_t h = 1469598103934665603ULL;
	for (ssize_t i = 0; i < n && buf[i] != '\n'; i++)
		h = (h ^ (unsigned char)buf[i]) * 1099511628211ULL;
	return h ? h : 1;
}

static int find_log(const struct guest_instance *inst, const struct datastore_manager *ds,
		    const char *name, struct guest_log_file *out, struct ct_error *err)
{
	struct guest_log_file files[GUEST_LOG_MAX];
	size_t n = 0;
	if (!ds->log_files)
		return ct_fail(err, 501, "Log actions are not supported.");
	if (ds->log_files(inst, files, &n, err))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(files[i].name, name)) {
			*out = files[i];
			return 0;
		}
	}
	return ct_fail(err, 404, "Log '%s' is not defined.", name);
}

/* The file's size and first-line hash now; a missing file is empty. */
static void measure(const struct guest_log_file *f, uint64_t *size, uint64_t *hash, bool *exists)
{
	*size = 0;
	*hash = 0;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	*exists = fd >= 0;
	if (fd < 0)
		return;
	struct stat st;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		*hash = header_hash(fd);
	}
	close(fd);
}

static json_t *view(const struct guest_instance *inst, const struct guest_log_file *f)
{
	struct log_state s = state_read(inst, f->name);
	uint64_t size, hash;
	bool exists;
	measure(f, &size, &hash, &exists);
	bool rotated = s.published > 0 && (size < s.published || hash != s.header_hash);
	const char *status;
	if (f->user && !f->enabled)
		status = "Disabled";
	else if (rotated)
		status = "Rotated";
	else if (!exists)
		status = f->user ? "Enabled" : "Unavailable";
	else if (size > s.published)
		status = s.published ? "Partial" : "Ready";
	else
		status = s.published ? "Published" : "Enabled";
	uint64_t pending = rotated ? size : size - (size > s.published ? s.published : size);
	struct log_names n;
	names_of(inst, f->name, &n);
	return json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:s}", "name", f->name, "type",
			 f->user ? "USER" : "SYS", "status", status, "published",
			 (json_int_t)(rotated ? 0 : s.published), "pending", (json_int_t)pending,
			 "container", s.published ? cfg_str(CFG_GUEST_LOG_CONTAINER) : "None",
			 "prefix", s.published ? n.prefix : "None", "metafile", n.metafile);
}

json_t *guest_log_list(const struct guest_instance *inst, const struct datastore_manager *ds,
		       struct ct_error *err)
{
	struct guest_log_file files[GUEST_LOG_MAX];
	size_t n = 0;
	if (!ds->log_files) {
		ct_fail(err, 501, "Log actions are not supported.");
		return NULL;
	}
	if (ds->log_files(inst, files, &n, err))
		return NULL;
	json_t *list = json_array();
	for (size_t i = 0; list && i < n; i++)
		json_array_append_new(list, view(inst, &files[i]));
	if (!list)
		ct_fail(err, 500, "Out of memory.");
	return list;
}

/* --- discard ---------------------------------------------------------------- */

struct name_list {
	char (*names)[STORE_NAME_MAX + 1];
	size_t n, cap;
};

static int collect_name(const struct store_entry *e, void *arg, struct ct_error *err)
{
	struct name_list *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void *bigger = realloc(l->names, cap * sizeof *l->names);
		if (!bigger)
			return ct_fail(err, 500, "Out of memory.");
		l->names = bigger;
		l->cap = cap;
	}
	snprintf(l->names[l->n++], STORE_NAME_MAX + 1, "%s", e->name);
	return 0;
}

static int delete_if_there(struct backup_store *store, const char *name, struct ct_error *err)
{
	struct ct_error e = {0};
	if (store_delete(store, name, &e) && e.status != 404) {
		*err = e;
		return -1;
	}
	return 0;
}

static int discard(const struct guest_instance *inst, struct backup_store *store, const char *log,
		   struct ct_error *err)
{
	struct log_names n;
	names_of(inst, log, &n);
	char prefix[STORE_NAME_MAX + 1], metafile[STORE_NAME_MAX + 1];
	if (store_name(n.prefix, prefix, err) || store_name(n.metafile, metafile, err))
		return -1;
	struct name_list l = {0};
	int rc = store_list(store, prefix, collect_name, &l, err);
	for (size_t i = 0; !rc && i < l.n; i++)
		rc = delete_if_there(store, l.names[i], err);
	free(l.names);
	if (!rc)
		rc = delete_if_there(store, metafile, err);
	struct log_state none = {0, 0};
	if (!rc)
		rc = state_write(inst, log, &none, err);
	if (!rc)
		log_info("%s log discarded (%zu parts)", log, l.n);
	return rc;
}

/* --- publish ------------------------------------------------------------------ */

static int put_object(struct backup_store *store, const char *name, const char *buf, size_t len,
		      const struct store_meta *meta, struct ct_error *err)
{
	struct store_writer *w = store_open_write(store, name, err);
	if (!w)
		return -1;
	if (store_write(w, buf, len, err)) {
		store_abort(w);
		return -1;
	}
	return store_finish(w, meta, NULL, err);
}

/* log-<UTC ISO time with microseconds>, later than *last (parts of one
 * publish are named in the order they were cut). */
static int part_name(const struct log_names *n, long long *last_us, char *out, size_t size,
		     struct ct_error *err)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	long long us = (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
	if (us <= *last_us)
		us = *last_us + 1;
	*last_us = us;
	time_t secs = (time_t)(us / 1000000LL);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char when[32];
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	if ((size_t)snprintf(out, size, "%slog-%s.%06lld", n->prefix, when, us % 1000000LL) >= size)
		return ct_fail(err, 400, "The log's object name is too long.");
	return 0;
}

static int write_metafile(struct backup_store *store, const struct guest_instance *inst,
			  const struct guest_log_file *f, const struct log_state *s,
			  struct ct_error *err)
{
	struct log_names n;
	names_of(inst, f->name, &n);
	char name[STORE_NAME_MAX + 1], digest[32];
	if (store_name(n.metafile, name, err) || delete_if_there(store, name, err))
		return -1;
	snprintf(digest, sizeof digest, "%016" PRIx64, s->header_hash);
	json_t *meta = json_pack("{s:s,s:s,s:s,s:I,s:s}", "log_name", f->name, "log_type",
				 f->user ? "USER" : "SYS", "log_file", f->path, "log_size",
				 (json_int_t)s->published, "log_header_digest", digest);
	char *text = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
	json_decref(meta);
	if (!text)
		return ct_fail(err, 500, "Out of memory.");
	int rc = put_object(store, name, text, strlen(text), NULL, err);
	free(text);
	return rc;
}

static int publish(const struct guest_instance *inst, struct backup_store *store,
		   const struct guest_log_file *f, struct ct_error *err)
{
	struct log_state s = state_read(inst, f->name);
	int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return 0; /* nothing written yet: nothing to publish */
	if (fd < 0)
		return ct_fail(err, 500, "Cannot read the %s log: %s", f->name, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return ct_fail(err, 500, "The %s log is not a regular file.", f->name);
	}
	uint64_t size = (uint64_t)st.st_size, hash = header_hash(fd);
	if (s.published > 0 && (size < s.published || hash != s.header_hash)) {
		if (discard(inst, store, f->name, err)) {
			close(fd);
			return -1;
		}
		s = (struct log_state){0, 0};
	}
	long limit = cfg_int(CFG_GUEST_LOG_LIMIT) > 0 ? cfg_int(CFG_GUEST_LOG_LIMIT) : 1000000;
	char *buf = malloc((size_t)limit);
	if (!buf) {
		close(fd);
		return ct_fail(err, 500, "Out of memory.");
	}
	struct log_names n;
	names_of(inst, f->name, &n);
	long long last_us = 0;
	int rc = 0, parts = 0;
	while (!rc && s.published < size) {
		uint64_t want = size - s.published;
		if (want > (uint64_t)limit)
			want = (uint64_t)limit;
		ssize_t got = pread(fd, buf, (size_t)want, (off_t)s.published);
		if (got <= 0) {
			rc = ct_fail(err, 500, "Cannot read the %s log: %s", f->name,
				     got < 0 ? strerror(errno) : "it shrank");
			break;
		}
		size_t len = (size_t)got;
		/* Whole lines, unless one line is longer than a part. */
		if (s.published + len < size) {
			size_t cut = len;
			while (cut > 0 && buf[cut - 1] != '\n')
				cut--;
			if (cut > 0)
				len = cut;
		}
		long lines = 0;
		for (size_t i = 0; i < len; i++)
			lines += buf[i] == '\n';
		if (len && buf[len - 1] != '\n')
			lines++;
		char rest[STORE_NAME_MAX + 1], name[STORE_NAME_MAX + 1], count[32];
		snprintf(count, sizeof count, "%ld", lines);
		struct store_meta meta = {0};
		rc = part_name(&n, &last_us, rest, sizeof rest, err) ||
		     store_name(rest, name, err) || store_meta_set(&meta, "lines", count, err) ||
		     put_object(store, name, buf, len, &meta, err);
		if (!rc) {
			s.published += len;
			s.header_hash = hash;
			parts++;
		}
	}
	free(buf);
	close(fd);
	/* What was stored counts even when a later part failed. */
	if (parts && (state_write(inst, f->name, &s, rc ? &(struct ct_error){0} : err) ||
		      write_metafile(store, inst, f, &s, rc ? &(struct ct_error){0} : err)))
		rc = -1;
	if (!rc)
		log_info("%s log published: %d part(s), %" PRIu64 " bytes in all", f->name, parts,
			 s.published);
	return rc ? -1 : 0;
}

/* [<manager>] guest_log_long_query_time of the agent's own config. */
static long slow_query_ms(const char *manager)
{
	return cfg_int(strcmp(manager, "postgresql") ? CFG_MARIADB_LONG_QUERY_MS
						     : CFG_POSTGRESQL_LONG_QUERY_MS);
}

/* --- the action ---------------------------------------------------------------- */

json_t *guest_log_action(const struct guest_instance *inst, const struct datastore_manager *ds,
			 const struct guest_log_request *r, struct ct_error *err)
{
	struct guest_log_file f;
	if (r->enable && r->disable) {
		ct_fail(err, 400, "Cannot enable and disable log '%s'.", r->name);
		return NULL;
	}
	if (find_log(inst, ds, r->name, &f, err))
		return NULL;
	bool enable = r->enable || (r->publish && !r->disable && f.user && !f.enabled);
	if ((enable || r->disable) && !f.user) {
		ct_fail(err, 400, "Cannot enable or disable log '%s': it is a SYS log.", r->name);
		return NULL;
	}
	if (enable != f.enabled && (enable || r->disable)) {
		if (ds->log_enable(inst, f.name, enable, slow_query_ms(inst->manager), err) ||
		    find_log(inst, ds, r->name, &f, err))
			return NULL;
	}
	if (r->publish || r->discard) {
		if (!r->store) {
			ct_fail(err, 501, "Log actions are not supported.");
			return NULL;
		}
		struct backup_store *store = backup_store_open_access(r->store, err);
		if (!store)
			return NULL;
		int rc = 0;
		if (r->discard)
			rc = discard(inst, store, f.name, err);
		if (!rc && r->publish)
			rc = publish(inst, store, &f, err);
		backup_store_free(store);
		if (rc)
			return NULL;
	}
	json_t *v = view(inst, &f);
	if (!v)
		ct_fail(err, 500, "Out of memory.");
	return v;
}

const char *const guest_user_logs[GUEST_USER_LOGS] = {"slow_query", "general"};

void guest_log_override_name(const char *log, const char *ext, char *out, size_t size)
{
	snprintf(out, size, "10-system-001-enable_%s_log%s", log, ext);
}

void guest_log_files_of(const char *error_path, const char *confd, const char *ext,
			const char *const user_paths[GUEST_USER_LOGS], struct guest_log_file *out,
			size_t *n)
{
	out[0] = (struct guest_log_file){.name = "error", .user = false, .enabled = true};
	snprintf(out[0].path, sizeof out[0].path, "%s", error_path);
	*n = 1;
	for (size_t i = 0; i < GUEST_USER_LOGS; i++) {
		char file[128], override[2 * PATH_MAX];
		guest_log_override_name(guest_user_logs[i], ext, file, sizeof file);
		snprintf(override, sizeof override, "%s/%s", confd, file);
		struct guest_log_file *f = &out[(*n)++];
		*f = (struct guest_log_file){.user = true, .enabled = access(override, F_OK) == 0};
		snprintf(f->name, sizeof f->name, "%s", guest_user_logs[i]);
		snprintf(f->path, sizeof f->path, "%s", user_paths[i]);
	}
}
