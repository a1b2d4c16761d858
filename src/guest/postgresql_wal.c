/*
 * postgresql_wal.c — WAL positions and file names, shared by backups
 * (postgresql_backup.c), the archive (postgresql_archive.c) and restores to a
 * time (postgresql_pitr.c): LSN text both ways, XLogFileName, the reading of
 * one query's single value. Pure except select_one; touches no file.
 */
#include <stdio.h>
#include <string.h>

#include "guest/postgresql_internal.h"

int pg_lsn_parse(const char *text, uint64_t *out)
{
	unsigned hi, lo;
	char tail;
	if (!text || sscanf(text, "%X/%X%c", &hi, &lo, &tail) != 2)
		return -1;
	*out = ((uint64_t)hi << 32) | lo;
	return 0;
}

void pg_lsn_format(uint64_t lsn, char out[PG_LSN_TEXT_MAX])
{
	snprintf(out, PG_LSN_TEXT_MAX, "%X/%X", (unsigned)(lsn >> 32), (unsigned)lsn);
}

void pg_wal_file_name(unsigned tli, uint64_t segno, uint64_t seg_size,
		      char out[PG_WAL_NAME_LEN + 1])
{
	uint64_t per_id = 0x100000000ull / seg_size;
	snprintf(out, PG_WAL_NAME_LEN + 1, "%08X%08X%08X", tli, (unsigned)(segno / per_id),
		 (unsigned)(segno % per_id));
}

int pg_wal_file_parse(const char *name, uint64_t seg_size, unsigned *tli, uint64_t *segno)
{
	unsigned t, hi, lo;
	char tail;
	if (strspn(name, "0123456789ABCDEF") != PG_WAL_NAME_LEN ||
	    sscanf(name, "%8X%8X%8X%c", &t, &hi, &lo, &tail) != 3 || !t)
		return -1;
	uint64_t per_id = 0x100000000ull / seg_size;
	if (lo >= per_id)
		return -1;
	*tli = t;
	*segno = (uint64_t)hi * per_id + lo;
	return 0;
}

bool pg_wal_seg_size_ok(uint64_t seg_size)
{
	return seg_size >= (1u << 20) && seg_size <= (1ull << 30) && !(seg_size & (seg_size - 1));
}

int pg_select_one(PGconn *c, const char *sql, const char *param, const char *what, char *out,
		  size_t size, struct ct_error *err)
{
	const char *params[1] = {param};
	PGresult *res = pg_select(c, sql, param ? 1 : 0, params, what, err);
	if (!res)
		return -1;
	int rc = 0;
	if (libpq.PQntuples(res) != 1)
		rc = ct_fail(err, 500, "%s returned no row.", what);
	else
		snprintf(out, size, "%s", libpq.PQgetvalue(res, 0, 0));
	libpq.PQclear(res);
	return rc;
}
