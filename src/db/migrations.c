/*
 * migrations.c — the versioned schema of the control-plane database.
 *
 * Tables and columns follow Trove 18's schema (spec: trove-internals.md §5) so the
 * data reads the same; ctrove-only tables are prefixed `ctrove_` (identity,
 * flavors). The applied version is kept in `migrate_version` under repository
 * `ctrove` (Trove's own row would say 48; ours is a separate series). Trove's
 * legacy tables that nothing reads (service_images, usage_events, dns_records,
 * security_group*, agent_heartbeats) are not created: see docs/schema.md.
 * Migrations only ever append; each runs in one transaction.
 */
#define LOG_MODULE "db"
#include "common/log.h"
#include "db/store.h"

static const char *const migrations[] = {
	/* 1: Trove's tables used by 18, ctrove identity and flavors. */
	"CREATE TABLE datastores ("
	" id VARCHAR(36) PRIMARY KEY, name VARCHAR(255) UNIQUE,"
	" default_version_id VARCHAR(36));"
	"CREATE TABLE datastore_versions ("
	" id VARCHAR(36) PRIMARY KEY,"
	" datastore_id VARCHAR(36) REFERENCES datastores(id),"
	" name VARCHAR(255), image_id VARCHAR(36), packages VARCHAR(511),"
	" active BOOLEAN NOT NULL CHECK (active IN (0,1)), manager VARCHAR(255),"
	" image_tags VARCHAR(255), version VARCHAR(255),"
	" CONSTRAINT ds_versions UNIQUE (datastore_id, name, version));"
	"CREATE TABLE datastore_version_metadata ("
	" id VARCHAR(36) PRIMARY KEY,"
	" datastore_version_id VARCHAR(36) REFERENCES datastore_versions(id) ON DELETE CASCADE,"
	" key VARCHAR(128) NOT NULL, value VARCHAR(128), created DATETIME NOT NULL,"
	" deleted BOOLEAN NOT NULL DEFAULT 0, deleted_at DATETIME, updated_at DATETIME,"
	" UNIQUE (datastore_version_id, key, value));"
	"CREATE TABLE datastore_configuration_parameters ("
	" id VARCHAR(36) NOT NULL, name VARCHAR(128) NOT NULL,"
	" datastore_version_id VARCHAR(36) NOT NULL REFERENCES datastore_versions(id) ON DELETE "
	"CASCADE,"
	" restart_required BOOLEAN NOT NULL, max_size VARCHAR(40), min_size VARCHAR(40),"
	" data_type VARCHAR(128) NOT NULL,"
	" PRIMARY KEY (id, name, datastore_version_id),"
	" UNIQUE (datastore_version_id, name));"
	"CREATE TABLE capabilities ("
	" id VARCHAR(36) PRIMARY KEY, name VARCHAR(255) UNIQUE,"
	" description VARCHAR(255) NOT NULL, enabled BOOLEAN);"
	"CREATE TABLE capability_overrides ("
	" id VARCHAR(36) PRIMARY KEY,"
	" datastore_version_id VARCHAR(36) REFERENCES datastore_versions(id),"
	" capability_id VARCHAR(36) REFERENCES capabilities(id), enabled BOOLEAN,"
	" UNIQUE (datastore_version_id, capability_id));"
	"CREATE TABLE configurations ("
	" id VARCHAR(36) PRIMARY KEY, name VARCHAR(64) NOT NULL, description VARCHAR(256),"
	" tenant_id VARCHAR(36) NOT NULL, datastore_version_id VARCHAR(36) NOT NULL,"
	" deleted BOOLEAN NOT NULL DEFAULT 0, deleted_at DATETIME, created DATETIME,"
	" updated DATETIME);"
	"CREATE TABLE configuration_parameters ("
	" configuration_id VARCHAR(36) NOT NULL REFERENCES configurations(id),"
	" configuration_key VARCHAR(128) NOT NULL, configuration_value VARCHAR(128),"
	" deleted BOOLEAN NOT NULL DEFAULT 0, deleted_at DATETIME,"
	" PRIMARY KEY (configuration_id, configuration_key));"
	"CREATE TABLE clusters ("
	" id VARCHAR(36) PRIMARY KEY, created DATETIME NOT NULL, updated DATETIME NOT NULL,"
	" name VARCHAR(255) NOT NULL, task_id INTEGER NOT NULL, tenant_id VARCHAR(36) NOT NULL,"
	" datastore_version_id VARCHAR(36) NOT NULL REFERENCES datastore_versions(id),"
	" deleted BOOLEAN, deleted_at DATETIME,"
	" configuration_id VARCHAR(36) REFERENCES configurations(id));"
	"CREATE INDEX clusters_tenant_id ON clusters(tenant_id);"
	"CREATE INDEX clusters_deleted ON clusters(deleted);"
	"CREATE TABLE instances ("
	" id VARCHAR(36) PRIMARY KEY, created DATETIME, updated DATETIME, name VARCHAR(255),"
	" hostname VARCHAR(255), compute_instance_id VARCHAR(36), task_id INTEGER,"
	" task_description VARCHAR(255), task_start_time DATETIME, volume_id VARCHAR(36),"
	" flavor_id VARCHAR(255), volume_size INTEGER, tenant_id VARCHAR(36),"
	" server_status VARCHAR(64), deleted BOOLEAN, deleted_at DATETIME,"
	" datastore_version_id VARCHAR(36) REFERENCES datastore_versions(id),"
	" configuration_id VARCHAR(36) REFERENCES configurations(id),"
	" slave_of_id VARCHAR(36) REFERENCES instances(id),"
	" cluster_id VARCHAR(36) REFERENCES clusters(id), shard_id VARCHAR(36),"
	" type VARCHAR(64), region_id VARCHAR(255), encrypted_key VARCHAR(255), access TEXT);"
	"CREATE INDEX instances_tenant_id ON instances(tenant_id);"
	"CREATE INDEX instances_deleted ON instances(deleted);"
	"CREATE INDEX instances_cluster_id ON instances(cluster_id);"
	"CREATE TABLE service_statuses ("
	" id VARCHAR(36) PRIMARY KEY, instance_id VARCHAR(36) NOT NULL,"
	" status_id INTEGER NOT NULL, status_description VARCHAR(64) NOT NULL,"
	" updated_at DATETIME);"
	"CREATE INDEX service_statuses_instance_id ON service_statuses(instance_id);"
	"CREATE TABLE instance_faults ("
	" id VARCHAR(64) PRIMARY KEY,"
	" instance_id VARCHAR(64) NOT NULL REFERENCES instances(id) ON DELETE CASCADE ON UPDATE "
	"CASCADE,"
	" message VARCHAR(255) NOT NULL, details TEXT NOT NULL, created DATETIME NOT NULL,"
	" updated DATETIME NOT NULL, deleted BOOLEAN NOT NULL DEFAULT 0, deleted_at DATETIME);"
	"CREATE TABLE conductor_lastseen ("
	" instance_id VARCHAR(36) NOT NULL, method_name VARCHAR(36) NOT NULL, sent FLOAT,"
	" PRIMARY KEY (instance_id, method_name));"
	"CREATE TABLE root_enabled_history ("
	" id VARCHAR(36) PRIMARY KEY, user VARCHAR(255), created DATETIME);"
	"CREATE TABLE backups ("
	" id VARCHAR(36) PRIMARY KEY, name VARCHAR(255) NOT NULL, description VARCHAR(512),"
	" location VARCHAR(1024), backup_type VARCHAR(32), size FLOAT, tenant_id VARCHAR(36),"
	" state VARCHAR(32) NOT NULL, instance_id VARCHAR(36), checksum VARCHAR(32),"
	" backup_timestamp DATETIME, deleted BOOLEAN, created DATETIME, updated DATETIME,"
	" deleted_at DATETIME, parent_id VARCHAR(36),"
	" datastore_version_id VARCHAR(36) REFERENCES datastore_versions(id));"
	"CREATE INDEX backups_instance_id ON backups(instance_id);"
	"CREATE INDEX backups_deleted ON backups(deleted);"
	"CREATE TABLE backup_strategy ("
	" id VARCHAR(36) PRIMARY KEY, tenant_id VARCHAR(36) NOT NULL,"
	" instance_id VARCHAR(36) NOT NULL DEFAULT '', backend VARCHAR(255) NOT NULL,"
	" swift_container VARCHAR(255), created DATETIME, UNIQUE (tenant_id, instance_id));"
	"CREATE TABLE quotas ("
	" id VARCHAR(36) PRIMARY KEY, created DATETIME, updated DATETIME,"
	" tenant_id VARCHAR(36), resource VARCHAR(255) NOT NULL, hard_limit INTEGER,"
	" UNIQUE (tenant_id, resource));"
	"CREATE TABLE quota_usages ("
	" id VARCHAR(36) PRIMARY KEY, created DATETIME, updated DATETIME,"
	" tenant_id VARCHAR(36), in_use INTEGER DEFAULT 0, reserved INTEGER DEFAULT 0,"
	" resource VARCHAR(255) NOT NULL, UNIQUE (tenant_id, resource));"
	"CREATE TABLE reservations ("
	" created DATETIME, updated DATETIME, id VARCHAR(36) PRIMARY KEY,"
	" usage_id VARCHAR(36), delta INTEGER NOT NULL, status VARCHAR(36));"
	"CREATE TABLE modules ("
	" id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL, type VARCHAR(255) NOT NULL,"
	" contents TEXT NOT NULL, description VARCHAR(255), tenant_id VARCHAR(64),"
	" datastore_id VARCHAR(64), datastore_version_id VARCHAR(64),"
	" auto_apply BOOLEAN NOT NULL, visible BOOLEAN NOT NULL, live_update BOOLEAN NOT NULL,"
	" md5 VARCHAR(32) NOT NULL, created DATETIME NOT NULL, updated DATETIME NOT NULL,"
	" deleted BOOLEAN NOT NULL, deleted_at DATETIME, priority_apply BOOLEAN,"
	" apply_order INTEGER DEFAULT 5, is_admin BOOLEAN,"
	" CONSTRAINT UQ_type_tenant_datastore_datastore_version_name UNIQUE"
	" (type, tenant_id, datastore_id, datastore_version_id, name, deleted_at));"
	"CREATE TABLE instance_modules ("
	" id VARCHAR(64) PRIMARY KEY,"
	" instance_id VARCHAR(64) REFERENCES instances(id) ON DELETE CASCADE,"
	" module_id VARCHAR(64) REFERENCES modules(id) ON DELETE CASCADE,"
	" md5 VARCHAR(32) NOT NULL, created DATETIME NOT NULL, updated DATETIME NOT NULL,"
	" deleted BOOLEAN NOT NULL, deleted_at DATETIME);"
	/* ctrove: the flavor catalog (Nova's job on a cloud). */
	"CREATE TABLE ctrove_flavors ("
	" id VARCHAR(255) PRIMARY KEY, name VARCHAR(255) NOT NULL UNIQUE,"
	" ram INTEGER NOT NULL, vcpus INTEGER NOT NULL, disk INTEGER NOT NULL,"
	" ephemeral INTEGER NOT NULL DEFAULT 0);"
	"INSERT INTO ctrove_flavors VALUES"
	" ('1', 'm1.tiny', 512, 1, 1, 0), ('2', 'm1.small', 2048, 1, 20, 0),"
	" ('3', 'm1.medium', 4096, 2, 40, 0), ('4', 'm1.large', 8192, 4, 80, 0),"
	" ('11', 'd1', 256, 1, 1, 0), ('12', 'd2', 512, 1, 2, 0),"
	" ('13', 'd3', 1024, 1, 5, 0), ('14', 'd4', 2048, 2, 10, 0);"
	/* ctrove: the embedded identity service (a Keystone v3 subset). */
	"CREATE TABLE ctrove_projects ("
	" id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL UNIQUE,"
	" domain_id VARCHAR(64) NOT NULL DEFAULT 'default', created DATETIME);"
	"CREATE TABLE ctrove_users ("
	" id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL UNIQUE,"
	" domain_id VARCHAR(64) NOT NULL DEFAULT 'default', password_hash VARCHAR(255) NOT NULL,"
	" created DATETIME);"
	"CREATE TABLE ctrove_roles (id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL UNIQUE);"
	"CREATE TABLE ctrove_role_assignments ("
	" user_id VARCHAR(64) NOT NULL REFERENCES ctrove_users(id) ON DELETE CASCADE,"
	" project_id VARCHAR(64) NOT NULL REFERENCES ctrove_projects(id) ON DELETE CASCADE,"
	" role_id VARCHAR(64) NOT NULL REFERENCES ctrove_roles(id) ON DELETE CASCADE,"
	" PRIMARY KEY (user_id, project_id, role_id));",
	/* 2: the local compute driver's loopback addresses (one per instance). */
	"CREATE TABLE ctrove_addresses ("
	" address VARCHAR(45) PRIMARY KEY, instance_id VARCHAR(36) UNIQUE,"
	" allocated DATETIME);",
	/* 3: a project's instances in id order without a sort (GET /instances
	 * pages by id), and an instance's faults without a scan. */
	("CREATE INDEX instances_tenant_id_id ON instances(tenant_id, id);"
	 "CREATE INDEX instance_faults_instance_id ON instance_faults(instance_id, created);"),
	/* 4: the volume usage guests report with their heartbeats. */
	"CREATE TABLE ctrove_volume_usage ("
	" instance_id VARCHAR(36) PRIMARY KEY, used_gb FLOAT NOT NULL, total_gb FLOAT NOT NULL,"
	" updated_at DATETIME NOT NULL);",
	/* 5: the identity service's admin API (Keystone's attributes of projects,
	 * users and roles) and token revocation: a user's tokens issued before
	 * tokens_valid_after (microseconds since the epoch) are refused. */
	("ALTER TABLE ctrove_projects ADD COLUMN description TEXT NOT NULL DEFAULT '';"
	 "ALTER TABLE ctrove_projects ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT 1;"
	 "ALTER TABLE ctrove_users ADD COLUMN description TEXT NOT NULL DEFAULT '';"
	 "ALTER TABLE ctrove_users ADD COLUMN email VARCHAR(255) NOT NULL DEFAULT '';"
	 "ALTER TABLE ctrove_users ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT 1;"
	 "ALTER TABLE ctrove_users ADD COLUMN default_project_id VARCHAR(64);"
	 "ALTER TABLE ctrove_users ADD COLUMN tokens_valid_after BIGINT NOT NULL DEFAULT 0;"
	 "ALTER TABLE ctrove_roles ADD COLUMN description TEXT NOT NULL DEFAULT '';"
	 "CREATE INDEX ctrove_role_assignments_project ON ctrove_role_assignments(project_id);"),
	/* 6: backups (issue 12): each backup's data key, sealed with
	 * inst_rpc_key_encr_key like instances.encrypted_key (never in clear), and a
	 * project's backups newest first without a sort. */
	("ALTER TABLE backups ADD COLUMN ctrove_encrypted_key TEXT;"
	 "CREATE INDEX backups_tenant_updated ON backups(tenant_id, updated);"
	 "CREATE INDEX backups_parent_id ON backups(parent_id);"),
	/* 7: each instance's server certificate: its names and when it expires
	 * (seconds since the epoch), for the taskmanager's renewals (docs/tls.md). */
	"CREATE TABLE ctrove_instance_certificates ("
	" instance_id VARCHAR(36) PRIMARY KEY, sans TEXT NOT NULL, not_after BIGINT NOT NULL,"
	" issued_at DATETIME NOT NULL);",
	/* 8: the server counters guests report with their heartbeats, for the
	 * metrics endpoint (sampled_at: the heartbeat's `sent`, Unix seconds). */
	"CREATE TABLE ctrove_guest_metrics ("
	" instance_id VARCHAR(36) PRIMARY KEY, connections BIGINT NOT NULL,"
	" queries BIGINT NOT NULL, queries_per_second FLOAT NOT NULL, replication_lag FLOAT,"
	" sampled_at FLOAT NOT NULL, updated_at DATETIME NOT NULL);",
	/* 9: backup schedules run by the taskmanager (issue 16,
	 * docs/backups.md "Schedules and retention"): next_run/last_run are Unix
	 * seconds; a run row ties each backup a schedule made to it, for retention. */
	("CREATE TABLE ctrove_backup_schedules ("
	 " id VARCHAR(36) PRIMARY KEY, instance_id VARCHAR(36) NOT NULL,"
	 " tenant_id VARCHAR(64) NOT NULL, name VARCHAR(255) NOT NULL, description TEXT,"
	 " pattern VARCHAR(255) NOT NULL, incremental BOOLEAN NOT NULL DEFAULT 0,"
	 " max_count INTEGER, max_age_days INTEGER, last_run BIGINT, next_run BIGINT NOT NULL,"
	 " created DATETIME NOT NULL, deleted BOOLEAN NOT NULL DEFAULT 0);"
	 "CREATE INDEX ctrove_backup_schedules_next_run ON ctrove_backup_schedules(deleted, "
	 "next_run);"
	 "CREATE INDEX ctrove_backup_schedules_instance ON ctrove_backup_schedules(instance_id);"
	 "CREATE TABLE ctrove_backup_schedule_runs ("
	 " backup_id VARCHAR(36) PRIMARY KEY, schedule_id VARCHAR(36) NOT NULL,"
	 " instance_id VARCHAR(36) NOT NULL, created DATETIME NOT NULL);"
	 "CREATE INDEX ctrove_backup_schedule_runs_instance ON "
	 "ctrove_backup_schedule_runs(instance_id);"),
	/* 10: automatic failover (issue 15): a source's opt-in settings, and the
	 * claim that makes one failover of a source happen exactly once (the
	 * process whose INSERT succeeded acts; docs/replication.md). */
	("CREATE TABLE ctrove_failover_settings ("
	 " instance_id VARCHAR(36) PRIMARY KEY, automatic BOOLEAN NOT NULL,"
	 " synchronous BOOLEAN NOT NULL, updated_at DATETIME NOT NULL);"
	 "CREATE TABLE ctrove_failover_claims ("
	 " source_id VARCHAR(36) PRIMARY KEY, claimed_by VARCHAR(255) NOT NULL,"
	 " claimed_at DATETIME NOT NULL, new_source_id VARCHAR(36), finished_at DATETIME,"
	 " outcome TEXT);"),
	/* 11: PITR (issue 16, docs/pitr.md): each instance's continuous archive — where
	 * it is, its data key (sealed like backups.ctrove_encrypted_key), how far it
	 * reaches (unix seconds) and a gap the guest reported; kept after the
	 * instance is deleted. Each backup's consistent_time (unix seconds: the
	 * commits it holds) is where a replay starts. */
	("CREATE TABLE ctrove_archives ("
	 " instance_id VARCHAR(36) PRIMARY KEY, tenant_id VARCHAR(64) NOT NULL,"
	 " datastore VARCHAR(64) NOT NULL, prefix VARCHAR(1024) NOT NULL,"
	 " encrypted_key TEXT NOT NULL, archived_until BIGINT, last_seq BIGINT,"
	 " gap TEXT, started_at BIGINT, reported_at BIGINT,"
	 " created DATETIME NOT NULL, updated DATETIME NOT NULL);"
	 "ALTER TABLE backups ADD COLUMN ctrove_consistent_time BIGINT;"
	 "CREATE INDEX backups_instance_consistent ON backups(instance_id, "
	 "ctrove_consistent_time);"),
	/* 12: a replication source's replicas, looked up for every row of an
	 * instance list (db/instance_rows.c): unindexed, GET /instances (N=100)
	 * cost 2.8 times its CPU. */
	("CREATE INDEX instances_slave_of_id ON instances(slave_of_id);"),
	/* 13: crash recovery (issue 18, docs/crash_recovery.md): who works on an
	 * instance's build or delete, under a lease; a build's create_instance
	 * arguments sealed with the instance's RPC key, and when it began. */
	("CREATE TABLE ctrove_instance_claims ("
	 " instance_id VARCHAR(36) NOT NULL, task VARCHAR(16) NOT NULL,"
	 " owner VARCHAR(255) NOT NULL, lease_until BIGINT NOT NULL,"
	 " started_at BIGINT NOT NULL, phase VARCHAR(16) NOT NULL, sealed_args TEXT,"
	 " PRIMARY KEY (instance_id, task));"),
};

#define MIGRATION_COUNT ((int)(sizeof migrations / sizeof migrations[0]))

int db_latest_version(void)
{
	return MIGRATION_COUNT;
}

int db_schema_version(struct ct_error *err)
{
	if (db_exec("CREATE TABLE IF NOT EXISTS migrate_version ("
		    " repository_id VARCHAR(250) PRIMARY KEY, repository_path TEXT,"
		    " version INTEGER)",
		    err))
		return -1;
	sqlite3_stmt *st =
		db_stmt("SELECT version FROM migrate_version WHERE repository_id = 'ctrove'", err);
	if (!st)
		return -1;
	int version = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	db_stmt_done(st);
	return version;
}

int db_sync(struct ct_error *err)
{
	int version = db_schema_version(err);
	if (version < 0)
		return -1;
	if (version > MIGRATION_COUNT)
		return ct_fail(err, 500,
			       "database schema version %d is newer than this ctrove (%d)", version,
			       MIGRATION_COUNT);
	for (int v = version; v < MIGRATION_COUNT; v++) {
		if (db_begin(err))
			return -1;
		if (db_exec(migrations[v], err))
			goto fail;
		sqlite3_stmt *st = db_stmt(
			"INSERT INTO migrate_version (repository_id, repository_path, version)"
			" VALUES ('ctrove', 'ctrove', ?1) ON CONFLICT (repository_id)"
			" DO UPDATE SET version = excluded.version",
			err);
		if (!st)
			goto fail;
		sqlite3_bind_int(st, 1, v + 1);
		if (db_step_done(st, err))
			goto fail;
		if (db_commit(err))
			goto fail;
		log_info("schema migrated to version %d", v + 1);
	}
	return 0;
fail:
	db_rollback();
	return -1;
}
