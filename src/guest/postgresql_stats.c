/*
 * postgresql_stats.c — the server counters a PostgreSQL heartbeat carries for
 * the metrics endpoint (docs/metrics.md): client backends connected,
 * transactions since the statistics were reset (commits + rollbacks: the
 * server counts no statements) and, on a standby, replication_lag: 0 once it
 * has replayed all the WAL it received, else seconds since the commit of the
 * last transaction it replayed. Read-only; may not change the server.
 */
#define LOG_MODULE "guest.postgresql"

#include <stdlib.h>

#include "guest/postgresql_internal.h"

json_t *pg_server_stats(const struct guest_instance *inst, struct ct_error *err)
{
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return NULL;
	PGresult *res =
		pg_select(c,
			  "SELECT (SELECT count(*) FROM pg_catalog.pg_stat_activity"
			  "  WHERE backend_type = 'client backend'),"
			  " (SELECT coalesce(sum(xact_commit + xact_rollback), 0)"
			  "  FROM pg_catalog.pg_stat_database),"
			  " CASE WHEN NOT pg_catalog.pg_is_in_recovery() THEN NULL"
			  "  WHEN pg_catalog.pg_last_wal_receive_lsn() IS NOT DISTINCT FROM"
			  "  pg_catalog.pg_last_wal_replay_lsn() THEN 0"
			  "  ELSE greatest(coalesce(extract(epoch FROM"
			  "  now() - pg_catalog.pg_last_xact_replay_timestamp()), 0), 0) END",
			  0, NULL, "Reading the server's counters", err);
	libpq.PQfinish(c);
	if (!res)
		return NULL;
	json_t *out = NULL;
	if (libpq.PQntuples(res) == 1) {
		out = json_pack("{s:I,s:I}", "connections",
				(json_int_t)strtoll(libpq.PQgetvalue(res, 0, 0), NULL, 10),
				"queries",
				(json_int_t)strtoll(libpq.PQgetvalue(res, 0, 1), NULL, 10));
		if (out && !libpq.PQgetisnull(res, 0, 2))
			json_object_set_new(out, "replication_lag",
					    json_real(strtod(libpq.PQgetvalue(res, 0, 2), NULL)));
	}
	libpq.PQclear(res);
	if (!out)
		ct_fail(err, 500, "The server's counters could not be read.");
	return out;
}
