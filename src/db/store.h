/*
 * store.h — the control-plane database handle (SQLite, WAL).
 *
 * Each thread gets its own connection, opened on first use and closed by
 * db_shutdown(); statements are prepared once per connection and cached by the
 * address of their SQL text (always a string literal), so a hot request costs
 * no parsing. Owns the connections and the cached statements; callers borrow a
 * statement between db_stmt() and db_stmt_done(). Knows nothing of the API.
 */
#ifndef CT_DB_STORE_H
#define CT_DB_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* Parse [database] connection ("sqlite:///path"); no connection is opened yet. */
int db_configure(const char *connection_url, struct ct_error *err);
const char *db_path(void);

/* This thread's connection; NULL with err set on failure. */
sqlite3 *db_handle(struct ct_error *err);
/* Close every connection of every thread (at shutdown, after workers stopped). */
void db_shutdown(void);

/* A cached, reset statement for `sql` (a string literal) on this thread's
 * connection. Finish with db_stmt_done(). */
sqlite3_stmt *db_stmt(const char *sql, struct ct_error *err);
void db_stmt_done(sqlite3_stmt *stmt);

/* Run SQL without results (may hold several statements). */
int db_exec(const char *sql, struct ct_error *err);
int db_begin(struct ct_error *err); /* BEGIN IMMEDIATE */
int db_commit(struct ct_error *err);
void db_rollback(void);

/* Step a statement that returns no row; -1 (500) on failure. */
int db_step_done(sqlite3_stmt *stmt, struct ct_error *err);
/* Fail and log the SQLite message: 503 (with the reason) when the database is
 * locked past the busy timeout, its disk is full or it cannot be read or
 * written; 500 for anything else. Every -1 of this header carries that status.
 * Returns -1. */
int db_fail(struct ct_error *err, const char *what);

/* Reads the current row of a statement into one element of a row array. */
typedef void db_row_reader(sqlite3_stmt *stmt, void *row);

/* Step `stmt` to its end, reading each row with read_row into a malloc'd array
 * of elem_size elements: *rows (NULL when there is none; the caller frees it)
 * and *count. The statement is finished (db_stmt_done) either way. -1 (500) on
 * a SQLite error, logged with `what`, or out of memory; *rows untouched. */
int db_collect(sqlite3_stmt *stmt, size_t elem_size, db_row_reader *read_row, const char *what,
	       void **rows, size_t *count, struct ct_error *err);

/* The same for `sql` (a string literal) with ?1 bound to `text`. */
int db_collect_text(const char *sql, const char *text, size_t elem_size, db_row_reader *read_row,
		    const char *what, void **rows, size_t *count, struct ct_error *err);
/* The first row of `sql` with ?1 bound to `text`, read into row: 1, or 0 when
 * there is none; -1 (500) on failure, logged with `what`. */
int db_read_row(const char *sql, const char *text, db_row_reader *read_row, void *row,
		const char *what, struct ct_error *err);
/* Whether `sql` with ?1 and ?2 bound to text returns a row: 1 or 0; -1 (500). */
int db_exists(const char *sql, const char *text1, const char *text2, const char *what,
	      struct ct_error *err);

/* Binding helpers: NULL text binds SQL NULL. */
void db_bind_text(sqlite3_stmt *stmt, int idx, const char *text);
const char *db_col_text(sqlite3_stmt *stmt, int col); /* "" for NULL */
bool db_col_is_null(sqlite3_stmt *stmt, int col);

/* Migrations (migrations.c). */
int db_sync(struct ct_error *err);
int db_schema_version(struct ct_error *err); /* 0 = empty database */
int db_latest_version(void);

#endif
