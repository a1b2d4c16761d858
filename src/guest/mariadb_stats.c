/*
 * mariadb_stats.c — the server counters a MariaDB/MySQL heartbeat carries for
 * the metrics endpoint (docs/metrics.md): clients connected
 * (Threads_connected), statements since start (Questions) and, on a replica,
 * Seconds_Behind_Master. Read-only; may not change the server.
 */
#define LOG_MODULE "guest.mariadb"

#include <stdlib.h>
#include <string.h>

#include "guest/mariadb_internal.h"

json_t *mdb_server_stats(const struct guest_instance *inst, struct ct_error *err)
{
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return NULL;
	struct sqlb b;
	sqlb_init(&b, c);
	sqlb_raw(&b, "SHOW GLOBAL STATUS WHERE Variable_name IN ('Threads_connected', "
		     "'Questions')");
	unsigned code = 0;
	MYSQL_RES *res = mdb_select(&b, &code);
	if (!res) {
		mdb_fail(&b, code, "Reading the server's counters", err);
		libmariadb.mysql_close(c);
		return NULL;
	}
	long long connections = 0, queries = 0;
	MYSQL_ROW row;
	while ((row = libmariadb.mysql_fetch_row(res))) {
		if (!row[0] || !row[1])
			continue;
		if (!strcmp(row[0], "Threads_connected"))
			connections = strtoll(row[1], NULL, 10);
		else if (!strcmp(row[0], "Questions"))
			queries = strtoll(row[1], NULL, 10);
	}
	libmariadb.mysql_free_result(res);
	json_t *out = json_pack("{s:I,s:I}", "connections", (json_int_t)connections, "queries",
				(json_int_t)queries);
	/* A replica says how far behind it is; a primary has no row. */
	sqlb_init(&b, c);
	sqlb_raw(&b, "SHOW SLAVE STATUS");
	res = mdb_select(&b, &code);
	if (res) {
		unsigned n = libmariadb.mysql_num_fields(res);
		MYSQL_FIELD *fields = libmariadb.mysql_fetch_fields(res);
		row = libmariadb.mysql_fetch_row(res);
		for (unsigned i = 0; row && fields && i < n; i++)
			if (!strcmp(fields[i].name, "Seconds_Behind_Master") && row[i])
				json_object_set_new(out, "replication_lag",
						    json_real(strtod(row[i], NULL)));
		libmariadb.mysql_free_result(res);
	}
	libmariadb.mysql_close(c);
	if (!out)
		ct_fail(err, 500, "Out of memory.");
	return out;
}
