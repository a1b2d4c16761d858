/*
 * instance_certificates.c — see instance_certificates.h.
 */
#define LOG_MODULE "db"
#include "db/instance_certificates.h"

#include <stdio.h>

#include "common/timefmt.h"
#include "db/store.h"

int instance_cert_record(const char *instance_id, const char *sans, long long not_after,
			 struct ct_error *err)
{
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt(
		"INSERT INTO ctrove_instance_certificates (instance_id, sans, not_after, issued_at)"
		" VALUES (?1, ?2, ?3, ?4) ON CONFLICT (instance_id) DO UPDATE SET"
		" sans = excluded.sans, not_after = excluded.not_after,"
		" issued_at = excluded.issued_at",
		err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	db_bind_text(st, 2, sans);
	sqlite3_bind_int64(st, 3, not_after);
	db_bind_text(st, 4, now);
	return db_step_done(st, err);
}

static void read_row(sqlite3_stmt *st, void *row)
{
	struct instance_cert_row *r = row;
	snprintf(r->instance_id, sizeof r->instance_id, "%s", db_col_text(st, 0));
	snprintf(r->sans, sizeof r->sans, "%s", db_col_text(st, 1));
	r->not_after = sqlite3_column_int64(st, 2);
}

int instance_certs_due(long long deadline, struct instance_cert_row **out, size_t *count,
		       struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT c.instance_id, c.sans, c.not_after"
				   " FROM ctrove_instance_certificates c"
				   " JOIN instances i ON i.id = c.instance_id AND NOT i.deleted"
				   " WHERE c.not_after < ?1 ORDER BY c.not_after",
				   err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, deadline);
	void *rows;
	if (db_collect(st, sizeof **out, read_row, "listing certificates to renew", &rows, count,
		       err))
		return -1;
	*out = rows;
	return 0;
}

int instance_cert_find(const char *instance_id, struct instance_cert_row *out, struct ct_error *err)
{
	return db_read_row("SELECT instance_id, sans, not_after FROM ctrove_instance_certificates"
			   " WHERE instance_id = ?1",
			   instance_id, read_row, out, "reading a certificate row", err);
}
