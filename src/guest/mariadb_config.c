/*
 * mariadb_config.c — rendering Trove's mysql/mariadb config.template
 * (trove/templates/{mysql,mariadb}/config.template, trove-guest.md §2.4).
 * Owns nothing; may not touch files. Three deliberate differences from the
 * template: innodb_log_files_in_group (removed in MariaDB 10.5, only a
 * warning) is left out; table_definition_cache is at least 400 (the
 * server's minimum; it would clamp the value with a warning); and
 * innodb_log_buffer_size follows the flavor (RAM / 64, 2 .. 25 MB) instead of
 * a fixed 25 MB — MariaDB 10.11 keeps the log buffer and its flush buffer
 * resident from the start, 25 MB of a 256 MB instance's ~68 MB (issue 18).
 */
#include "guest/mariadb_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

uint32_t mariadb_server_id(const char *instance_id)
{
	uint32_t crc = 0xffffffffu;
	for (const unsigned char *p = (const unsigned char *)(instance_id ? instance_id : ""); *p;
	     p++) {
		crc ^= *p;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	uint32_t id = (crc ^ 0xffffffffu) & 0x7fffffffu;
	return id ? id : 1;
}

struct out {
	char *buf;
	size_t size;
	size_t used;
	int overflow;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	if (o->overflow)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->used, o->size - o->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->used) {
		o->overflow = 1;
		return;
	}
	o->used += (size_t)n;
}

int mariadb_config_render(int memory_mb, enum mariadb_flavor flavor, const char *instance_id,
			  char *out, size_t size, struct ct_error *err)
{
	if (memory_mb < 1)
		return ct_fail(err, 400, "Flavor RAM must be at least 1 MB, not %d.", memory_mb);
	if (!out || size == 0)
		return ct_fail(err, 500, "No room to render the config.");
	long r = memory_mb;
#define SCALE(k) ((long)(k)*r / 512)
	long tdc = SCALE(256) < 400 ? 400 : SCALE(256);
	long log_buffer = r / 64 < 2 ? 2 : r / 64 > 25 ? 25 : r / 64;
	int maria = flavor == MARIADB_FLAVOR_MARIADB;
	struct out o = {out, size, 0, 0};
	out[0] = '\0';
	put(&o, "[client]\nport = 3306\nsocket = /var/run/mysqld/mysqld.sock\n\n");
	put(&o, "[mysqld_safe]\nsocket = /var/run/mysqld/mysqld.sock\nnice = 0\n\n");
	put(&o, "[mysqld]\nuser = mysql\nport = 3306\nbasedir = /usr\n"
		"datadir = /var/lib/mysql/data\ntmpdir = /var/tmp\n"
		"pid_file = /var/run/mysqld/mysqld.pid\nsocket = /var/run/mysqld/mysqld.sock\n"
		"skip-external-locking = 1\n");
	put(&o, "key_buffer_size = %ldM\n", SCALE(50));
	put(&o, "max_allowed_packet = %ldK\n", SCALE(1024));
	put(&o, "thread_stack = 192K\n");
	put(&o, "thread_cache_size = %ld\n", SCALE(4));
	put(&o, "myisam-recover-options = BACKUP,FORCE\n");
	if (maria)
		put(&o, "query_cache_type = 1\nquery_cache_limit = 1M\nquery_cache_size = %ldM\n",
		    SCALE(8));
	put(&o, "innodb_data_file_path = ibdata1:10M:autoextend\n");
	put(&o, "innodb_buffer_pool_size = %ldM\n", SCALE(150));
	put(&o, "innodb_file_per_table = 1\n");
	if (!maria)
		put(&o, "innodb_log_files_in_group = 2\n");
	put(&o, "innodb_log_file_size = 50M\ninnodb_log_buffer_size = %ldM\n", log_buffer);
	put(&o, "connect_timeout = 15\nwait_timeout = 120\n");
	put(&o, "join_buffer_size = 1M\nread_buffer_size = 512K\nread_rnd_buffer_size = 512K\n"
		"sort_buffer_size = 1M\n");
	put(&o, "tmp_table_size = %ldM\nmax_heap_table_size = %ldM\n", SCALE(16), SCALE(16));
	put(&o, "table_open_cache = %ld\ntable_definition_cache = %ld\n", SCALE(256),
	    maria ? tdc : SCALE(256));
	put(&o, "open_files_limit = %ld\n", SCALE(512));
	put(&o, "max_user_connections = %ld\nmax_connections = %ld\n", SCALE(100), SCALE(100));
	put(&o, "default_storage_engine = innodb\nlocal-infile = 0\n");
	put(&o, "server_id = %u\n", (unsigned)mariadb_server_id(instance_id));
	/* Every instance writes a row-format binary log from its first start:
	 * replicas, failover and point-in-time recovery all read it, and turning
	 * it on later would cost a restart (docs/guest-mariadb.md). */
	put(&o, "log_bin = mariadb-bin\nlog_bin_index = mariadb-bin.index\n"
		"relay_log = mariadb-relay\nbinlog_format = ROW\nlog_slave_updates = ON\n");
	if (!maria)
		put(&o, "secure-file-priv = NULL\n"
			"default_authentication_plugin = mysql_native_password\n"
			"performance_schema = ON\n");
	put(&o, "\n[mysqldump]\nquick = 1\nquote-names = 1\nmax_allowed_packet = 16M\n\n");
	put(&o, "[isamchk]\nkey_buffer = 16M\n\n");
	put(&o, "!includedir /etc/mysql/conf.d/\n");
#undef SCALE
	if (o.overflow)
		return ct_fail(err, 500, "No room to render the config.");
	return 0;
}
