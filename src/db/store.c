/*
 * store.c — per-thread SQLite connections and the statement cache (store.h).
 * A thread's connection is closed when the thread exits (a pthread key's
 * destructor): the taskmanager runs every task on a thread of its own, and a
 * connection kept until db_shutdown() held two descriptors and its page cache
 * for each finished task (hundreds within minutes under `make soak`).
 */
#define LOG_MODULE "db"
#include "db/store.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/log.h"

#define STMT_CACHE_SIZE 128

struct stmt_slot {
	const char *sql;
	sqlite3_stmt *stmt;
};

struct db_conn {
	sqlite3 *db;
	struct stmt_slot cache[STMT_CACHE_SIZE];
	uintptr_t serial; /* never reused: what the thread's key holds */
	struct db_conn *next;
};

static char *database_path;
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct db_conn *all_conns;
static uint64_t generation = 1; /* bumped by db_shutdown; stale thread handles reopen */
static _Thread_local struct db_conn *thread_conn;
static _Thread_local uint64_t thread_generation;
static uintptr_t next_serial = 1;
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

static void close_conn(struct db_conn *c);

/* At thread exit: the thread's connection, unless db_shutdown() already
 * closed it (its serial is then no longer listed). */
static void close_on_exit(void *value)
{
	uintptr_t serial = (uintptr_t)value;
	struct db_conn *found = NULL;
	pthread_mutex_lock(&conns_lock);
	for (struct db_conn **p = &all_conns; *p; p = &(*p)->next)
		if ((*p)->serial == serial) {
			found = *p;
			*p = found->next;
			break;
		}
	pthread_mutex_unlock(&conns_lock);
	if (found)
		close_conn(found);
	thread_conn = NULL;
}

static void make_exit_key(void)
{
	pthread_key_create(&exit_key, close_on_exit);
}

int db_configure(const char *url, struct ct_error *err)
{
	static const char prefix[] = "sqlite:///";
	if (strncmp(url, prefix, sizeof prefix - 1) != 0)
		return ct_fail(err, 400,
			       "[database] connection '%.40s...' is not supported: only "
			       "sqlite:/// URLs are implemented",
			       url);
	const char *path = url + sizeof prefix - 1;
	if (!*path)
		return ct_fail(err, 400, "[database] connection names no file");
	char *copy = strdup(path);
	if (!copy)
		return ct_fail(err, 500, "out of memory");
	free(database_path);
	database_path = copy;
	return 0;
}

const char *db_path(void)
{
	return database_path;
}

/* A database another process holds locked past the busy timeout, a full disk
 * or storage that cannot be read or written is the service being unavailable
 * for now, not a fault of ctrove's: Trove's 503, with the reason, so that a
 * client retries and an operator knows where to look. Everything else is 500. */
static int fail_with_code(struct ct_error *err, int code)
{
	switch (code & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return ct_fail(err, 503,
			       "The control-plane database is locked by another process; try "
			       "again later.");
	case SQLITE_FULL:
		return ct_fail(err, 503,
			       "The control-plane database has no space left on its disk; try "
			       "again later.");
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
		return ct_fail(err, 503,
			       "The control-plane database cannot be read or written; try again "
			       "later.");
	default: return ct_fail(err, 500, "control-plane database error");
	}
}

int db_fail(struct ct_error *err, const char *what)
{
	sqlite3 *db = thread_conn ? thread_conn->db : NULL;
	log_error("%s: %s", what, db ? sqlite3_errmsg(db) : "no connection");
	return fail_with_code(err, db ? sqlite3_extended_errcode(db) : SQLITE_ERROR);
}

static struct db_conn *open_conn(struct ct_error *err)
{
	if (!database_path) {
		ct_fail(err, 500, "database not configured");
		return NULL;
	}
	struct db_conn *c = calloc(1, sizeof *c);
	if (!c) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	int rc = sqlite3_open_v2(database_path, &c->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		log_error("cannot open %s: %s", database_path,
			  c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		sqlite3_close(c->db);
		free(c);
		fail_with_code(err, rc);
		return NULL;
	}
	sqlite3_busy_timeout(c->db, 10000);
	char *msg = NULL;
	if (sqlite3_exec(c->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
			 "PRAGMA foreign_keys=ON;",
			 NULL, NULL, &msg) != SQLITE_OK) {
		log_error("cannot set up %s: %s", database_path, msg ? msg : "?");
		sqlite3_free(msg);
		int code = sqlite3_extended_errcode(c->db);
		sqlite3_close(c->db);
		free(c);
		fail_with_code(err, code);
		return NULL;
	}
	pthread_once(&exit_key_once, make_exit_key);
	pthread_mutex_lock(&conns_lock);
	c->serial = next_serial++;
	c->next = all_conns;
	all_conns = c;
	thread_generation = generation;
	pthread_mutex_unlock(&conns_lock);
	pthread_setspecific(exit_key, (void *)c->serial);
	return c;
}

sqlite3 *db_handle(struct ct_error *err)
{
	if (!thread_conn || thread_generation != generation) {
		thread_conn = open_conn(err);
		if (!thread_conn)
			return NULL;
	}
	return thread_conn->db;
}

static void close_conn(struct db_conn *c)
{
	for (int i = 0; i < STMT_CACHE_SIZE; i++)
		sqlite3_finalize(c->cache[i].stmt);
	sqlite3_close(c->db);
	free(c);
}

void db_shutdown(void)
{
	pthread_mutex_lock(&conns_lock);
	while (all_conns) {
		struct db_conn *next = all_conns->next;
		close_conn(all_conns);
		all_conns = next;
	}
	generation++;
	pthread_mutex_unlock(&conns_lock);
	thread_conn = NULL;
	free(database_path);
	database_path = NULL;
}

sqlite3_stmt *db_stmt(const char *sql, struct ct_error *err)
{
	if (!db_handle(err))
		return NULL;
	uintptr_t h = ((uintptr_t)sql >> 3) % STMT_CACHE_SIZE;
	for (int probe = 0; probe < STMT_CACHE_SIZE; probe++) {
		struct stmt_slot *slot =
			&thread_conn->cache[(h + (uintptr_t)probe) % STMT_CACHE_SIZE];
		if (slot->sql == sql)
			return slot->stmt;
		if (!slot->sql) {
			if (sqlite3_prepare_v3(thread_conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
					       &slot->stmt, NULL) != SQLITE_OK) {
				slot->stmt = NULL;
				db_fail(err, "prepare");
				return NULL;
			}
			slot->sql = sql;
			return slot->stmt;
		}
	}
	/* Cache full: a programming error (too many distinct statements). */
	log_error("statement cache full");
	ct_fail(err, 500, "control-plane database error");
	return NULL;
}

void db_stmt_done(sqlite3_stmt *stmt)
{
	if (stmt) {
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
	}
}

int db_exec(const char *sql, struct ct_error *err)
{
	sqlite3 *db = db_handle(err);
	if (!db)
		return -1;
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("exec failed: %s", msg ? msg : "?");
		sqlite3_free(msg);
		return fail_with_code(err, sqlite3_extended_errcode(db));
	}
	return 0;
}

int db_begin(struct ct_error *err)
{
	/* A transaction some failed caller left open would hold the write lock
	 * for good and stop every other writer: ended here, loudly. */
	if (thread_conn && thread_generation == generation &&
	    !sqlite3_get_autocommit(thread_conn->db)) {
		log_error("a transaction was left open on this thread: rolled back");
		db_rollback();
	}
	return db_exec("BEGIN IMMEDIATE", err);
}

int db_commit(struct ct_error *err)
{
	/* A COMMIT that fails (disk full, I/O error) may leave the transaction
	 * open, holding the write lock: nothing of it is written, so say so. */
	if (db_exec("COMMIT", err)) {
		db_rollback();
		return -1;
	}
	return 0;
}

void db_rollback(void)
{
	if (thread_conn && !sqlite3_get_autocommit(thread_conn->db))
		sqlite3_exec(thread_conn->db, "ROLLBACK", NULL, NULL, NULL);
}

int db_step_done(sqlite3_stmt *stmt, struct ct_error *err)
{
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		db_fail(err, "step");
		db_stmt_done(stmt);
		return -1;
	}
	db_stmt_done(stmt);
	return 0;
}

int db_collect(sqlite3_stmt *stmt, size_t elem_size, db_row_reader *read_row, const char *what,
	       void **rows, size_t *count, struct ct_error *err)
{
	unsigned char *arr = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		unsigned char *grown = array_grow(arr, n, &cap, elem_size);
		if (!grown) {
			db_stmt_done(stmt);
			free(arr);
			return ct_fail(err, 500, "out of memory");
		}
		arr = grown;
		read_row(stmt, arr + n++ * elem_size);
	}
	if (rc != SQLITE_DONE)
		db_fail(err, what);
	db_stmt_done(stmt);
	if (rc != SQLITE_DONE) {
		free(arr);
		return -1;
	}
	*rows = arr;
	*count = n;
	return 0;
}

int db_collect_text(const char *sql, const char *text, size_t elem_size, db_row_reader *read_row,
		    const char *what, void **rows, size_t *count, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(sql, err);
	if (!st)
		return -1;
	db_bind_text(st, 1, text);
	return db_collect(st, elem_size, read_row, what, rows, count, err);
}

/* 1 on a row, 0 at the end, -1 (500, logged with what) on failure. */
static int step_row(sqlite3_stmt *st, const char *what, struct ct_error *err)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : db_fail(err, what);
}

int db_read_row(const char *sql, const char *text, db_row_reader *read_row, void *row,
		const char *what, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(sql, err);
	if (!st)
		return -1;
	db_bind_text(st, 1, text);
	int found = step_row(st, what, err);
	if (found == 1)
		read_row(st, row);
	db_stmt_done(st);
	return found;
}

int db_exists(const char *sql, const char *text1, const char *text2, const char *what,
	      struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(sql, err);
	if (!st)
		return -1;
	db_bind_text(st, 1, text1);
	db_bind_text(st, 2, text2);
	int found = step_row(st, what, err);
	db_stmt_done(st);
	return found;
}

void db_bind_text(sqlite3_stmt *stmt, int idx, const char *text)
{
	if (text)
		sqlite3_bind_text(stmt, idx, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(stmt, idx);
}

const char *db_col_text(sqlite3_stmt *stmt, int col)
{
	const unsigned char *t = sqlite3_column_text(stmt, col);
	return t ? (const char *)t : "";
}

bool db_col_is_null(sqlite3_stmt *stmt, int col)
{
	return sqlite3_column_type(stmt, col) == SQLITE_NULL;
}
