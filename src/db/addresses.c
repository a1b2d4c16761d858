/*
 * addresses.c — see addresses.h.
 */
#define LOG_MODULE "db"
#include "db/addresses.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timefmt.h"
#include "db/store.h"

int addresses_find(const char *instance_id, char out[ADDRESS_TEXT_MAX], struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt("SELECT address FROM ctrove_addresses WHERE instance_id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(out, ADDRESS_TEXT_MAX, "%s", db_col_text(st, 0));
	else if (rc != SQLITE_DONE)
		db_fail(err, "reading an address");
	db_stmt_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static void read_address(sqlite3_stmt *st, void *row)
{
	snprintf(row, ADDRESS_TEXT_MAX, "%s", db_col_text(st, 0));
}

int addresses_list(char (**out)[ADDRESS_TEXT_MAX], size_t *count, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT address FROM ctrove_addresses", err);
	if (!st)
		return -1;
	void *rows;
	if (db_collect(st, sizeof **out, read_address, "listing addresses", &rows, count, err))
		return -1;
	*out = rows;
	return 0;
}

int addresses_claim(const char *address, const char *instance_id, struct ct_error *err)
{
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt("INSERT INTO ctrove_addresses (address, instance_id, allocated)"
				   " VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, address);
	db_bind_text(st, 2, instance_id);
	db_bind_text(st, 3, now);
	if (db_step_done(st, err))
		return -1;
	return sqlite3_changes(db_handle(NULL)) == 1;
}

int addresses_set(const char *instance_id, const char *address, struct ct_error *err)
{
	if (strlen(address) >= ADDRESS_TEXT_MAX)
		return ct_fail(err, 500, "the address %.64s is not an IPv4 address", address);
	sqlite3_stmt *st = db_stmt("DELETE FROM ctrove_addresses WHERE instance_id = ?1"
				   " AND address != ?2",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	db_bind_text(st, 2, address);
	if (db_step_done(st, err))
		return -1;
	int claimed = addresses_claim(address, instance_id, err);
	if (claimed != 0)
		return claimed < 0 ? -1 : 0;
	char held[ADDRESS_TEXT_MAX];
	int found = addresses_find(instance_id, held, err);
	if (found < 0)
		return -1;
	return found && !strcmp(held, address)
		       ? 0
		       : ct_fail(err, 409, "the address %s belongs to another instance", address);
}

int addresses_release(const char *instance_id, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("DELETE FROM ctrove_addresses WHERE instance_id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	return db_step_done(st, err);
}
