/*
 * test_instance_status.c — api/instance_status.h against the rules of
 * spec/trove-api.md §5.2 (status) and §5.3 (operating_status), one table row
 * per rule and per observed pair.
 */
#include "testutil.h"

#include "api/instance_status.h"

/* Task ids (trove/instance/tasks.py). */
enum {
	NONE = 1,
	DELETING = 2,
	REBOOTING = 3,
	RESIZING = 4,
	BUILDING = 5,
	MIGRATING = 6,
	RESTART_REQUIRED = 7,
	PROMOTING = 8,
	EJECTING = 9,
	LOGGING = 10,
	DETACHING = 11,
	UPDATING = 12,
	BUILDING_ERROR_DNS = 80,
	BUILDING_ERROR_SERVER = 81,
	BUILDING_ERROR_VOLUME = 82,
	BUILDING_ERROR_TIMEOUT_GA = 91,
	BUILDING_ERROR_PORT = 92,
	PROMOTION_ERROR = 85,
	EJECTION_ERROR = 86,
	GROWING_ERROR = 87,
	SHRINKING_ERROR = 88,
	UPGRADING = 89,
	UPGRADING_ERROR = 90,
	UPDATING_ERROR_ACCESS = 93,
};

/* Service status codes (trove/instance/service_status.py). */
enum {
	RUNNING = 0x01,
	BLOCKED = 0x02,
	PAUSED = 0x03,
	SHUTDOWN = 0x04,
	DELETED = 0x05,
	CRASHED = 0x06,
	FAILED = 0x08,
	BUILD_PENDING = 0x09,
	PROMOTE = 0x10,
	EJECT = 0x11,
	LOGGING_SVC = 0x12,
	UNKNOWN = 0x16,
	NEW = 0x17,
	FAILED_TIMEOUT_GA = 0x18,
	INSTANCE_READY = 0x19,
	RESTART_REQUIRED_SVC = 0x20,
	HEALTHY = 0x21,
	RESTARTING = 0x22,
};

struct status_case {
	const char *rule;
	int task;
	const char *server;
	bool backup;
	const char *status;
};

static void test_status_rules(void **state)
{
	(void)state;
	static const struct status_case cases[] = {
		/* 1: error tasks win over everything. */
		{"1", BUILDING_ERROR_DNS, "ACTIVE", false, "ERROR"},
		{"1", BUILDING_ERROR_SERVER, "BUILD", false, "ERROR"},
		{"1", BUILDING_ERROR_VOLUME, "ACTIVE", true, "ERROR"},
		{"1", BUILDING_ERROR_PORT, "ACTIVE", false, "ERROR"},
		{"1", BUILDING_ERROR_TIMEOUT_GA, "ACTIVE", false, "ERROR"},
		{"1", PROMOTION_ERROR, "ACTIVE", false, "ERROR"},
		{"1", EJECTION_ERROR, "ACTIVE", false, "ERROR"},
		{"1", GROWING_ERROR, "ACTIVE", false, "ERROR"},
		{"1", SHRINKING_ERROR, "ACTIVE", false, "ERROR"},
		{"1", UPGRADING_ERROR, "ACTIVE", false, "ERROR"},
		{"1", UPDATING_ERROR_ACCESS, "ACTIVE", false, "ERROR"},
		/* 2: BUILDING. */
		{"2", BUILDING, "BUILD", false, "BUILD"},
		{"2", BUILDING, "ACTIVE", false, "BUILD"},
		{"2", BUILDING, "", false, "BUILD"},
		{"2", BUILDING, "ERROR", false, "ERROR"},
		{"2", BUILDING, "ACTIVE", true, "BUILD"},
		/* 3-10: actions shown directly, whatever the server says. */
		{"3", REBOOTING, "ACTIVE", false, "REBOOT"},
		{"3", REBOOTING, "HARD_REBOOT", true, "REBOOT"},
		{"4", RESIZING, "VERIFY_RESIZE", false, "RESIZE"},
		{"4", RESIZING, "ACTIVE", false, "RESIZE"},
		{"5", UPGRADING, "ACTIVE", false, "UPGRADE"},
		{"6", RESTART_REQUIRED, "ACTIVE", false, "RESTART_REQUIRED"},
		{"7", PROMOTING, "ACTIVE", false, "PROMOTE"},
		{"8", EJECTING, "ACTIVE", false, "EJECT"},
		{"9", LOGGING, "ACTIVE", false, "LOGGING"},
		{"10", DETACHING, "ACTIVE", false, "DETACH"},
		{"10", DETACHING, "ERROR", true, "DETACH"},
		/* 11: DELETING. */
		{"11", DELETING, "ACTIVE", false, "SHUTDOWN"},
		{"11", DELETING, "SHUTDOWN", false, "SHUTDOWN"},
		{"11", DELETING, "DELETED", false, "SHUTDOWN"},
		{"11", DELETING, "SHUTOFF", false, "ERROR"},
		{"11", DELETING, "ERROR", false, "ERROR"},
		{"11", DELETING, "ACTIVE", true, "SHUTDOWN"},
		/* 12: a running backup, below every task rule. */
		{"12", NONE, "ACTIVE", true, "BACKUP"},
		{"12", NONE, "SHUTOFF", true, "BACKUP"},
		{"12", UPDATING, "ACTIVE", true, "BACKUP"},
		{"12", MIGRATING, "MIGRATING", true, "BACKUP"},
		/* 13: server statuses passed through. */
		{"13", NONE, "ACTIVE", false, "ACTIVE"},
		{"13", NONE, "BUILD", false, "BUILD"},
		{"13", NONE, "ERROR", false, "ERROR"},
		{"13", NONE, "REBOOT", false, "REBOOT"},
		{"13", NONE, "RESIZE", false, "RESIZE"},
		{"13", NONE, "SHUTDOWN", false, "SHUTDOWN"},
		{"13", UPDATING, "ACTIVE", false, "ACTIVE"},
		{"13", MIGRATING, "ACTIVE", false, "ACTIVE"},
		/* 14: VERIFY_RESIZE. */
		{"14", NONE, "VERIFY_RESIZE", false, "RESIZE"},
		/* 15: anything else. */
		{"15", NONE, "SHUTOFF", false, "UNKNOWN"},
		{"15", NONE, "HARD_REBOOT", false, "UNKNOWN"},
		{"15", MIGRATING, "MIGRATING", false, "UNKNOWN"},
		{"15", UPDATING, "SHUTOFF", false, "UNKNOWN"},
		{"15", NONE, "HEALTHY", false, "UNKNOWN"}, /* observed with a fake Nova */
		{"15", NONE, "active", false, "UNKNOWN"},  /* case matters */
		{"15", NONE, "", false, "UNKNOWN"},
		{"15", NONE, NULL, false, "UNKNOWN"},
		/* An unknown task code behaves like NONE. */
		{"15", 4242, "ACTIVE", false, "ACTIVE"},
		{"15", 0, "SHUTOFF", false, "UNKNOWN"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct status_case *c = &cases[i];
		struct instance_state s = {c->task, c->server, HEALTHY, c->backup, false};
		const char *got = instance_status(&s);
		if (strcmp(got, c->status))
			fail_msg("rule %s: task %d server %s backup %d: got %s, want %s", c->rule,
				 c->task, c->server ? c->server : "(null)", c->backup, got,
				 c->status);
	}
}

struct operating_case {
	int task;
	const char *server;
	int service;
	bool expired;
	const char *operating;
};

static void test_operating_status_rules(void **state)
{
	(void)state;
	static const struct operating_case cases[] = {
		/* Rule 2: any task, or a server that is not ACTIVE → "". */
		{BUILDING, "BUILD", NEW, false, ""},
		{BUILDING, "ACTIVE", HEALTHY, false, ""},
		{REBOOTING, "ACTIVE", RESTARTING, false, ""},
		{RESIZING, "ACTIVE", HEALTHY, false, ""},
		{RESTART_REQUIRED, "ACTIVE", RESTART_REQUIRED_SVC, false, ""},
		{DELETING, "ACTIVE", HEALTHY, true, ""},
		{BUILDING_ERROR_SERVER, "ERROR", NEW, true, ""},
		{PROMOTION_ERROR, "ACTIVE", HEALTHY, false, ""},
		{NONE, "SHUTOFF", SHUTDOWN, false, ""},
		{NONE, "SHUTOFF", HEALTHY, true, ""},
		{NONE, "", HEALTHY, false, ""},
		{NONE, NULL, HEALTHY, false, ""},
		/* Rule 3: the service's api_status. */
		{NONE, "ACTIVE", RUNNING, false, "ACTIVE"},
		{NONE, "ACTIVE", BLOCKED, false, "BLOCKED"},
		{NONE, "ACTIVE", PAUSED, false, "SHUTDOWN"},
		{NONE, "ACTIVE", SHUTDOWN, false, "SHUTDOWN"},
		{NONE, "ACTIVE", DELETED, false, "DELETED"},
		{NONE, "ACTIVE", CRASHED, false, "SHUTDOWN"},
		{NONE, "ACTIVE", FAILED, false, "FAILED"},
		{NONE, "ACTIVE", BUILD_PENDING, false, "BUILD"},
		{NONE, "ACTIVE", PROMOTE, false, "PROMOTE"},
		{NONE, "ACTIVE", EJECT, false, "EJECT"},
		{NONE, "ACTIVE", LOGGING_SVC, false, "LOGGING"},
		{NONE, "ACTIVE", UNKNOWN, false, "ERROR"},
		{NONE, "ACTIVE", NEW, false, "NEW"},
		{NONE, "ACTIVE", FAILED_TIMEOUT_GA, false, "ERROR"},
		{NONE, "ACTIVE", INSTANCE_READY, false, "BUILD"},
		{NONE, "ACTIVE", RESTART_REQUIRED_SVC, false, "RESTART_REQUIRED"},
		{NONE, "ACTIVE", HEALTHY, false, "HEALTHY"},
		{NONE, "ACTIVE", RESTARTING, false, "RESTARTING"},
		/* Rule 1: an expired heartbeat reads as ERROR, except RESTART_REQUIRED. */
		{NONE, "ACTIVE", HEALTHY, true, "ERROR"},
		{NONE, "ACTIVE", RUNNING, true, "ERROR"},
		{NONE, "ACTIVE", SHUTDOWN, true, "ERROR"},
		{NONE, "ACTIVE", RESTART_REQUIRED_SVC, true, "RESTART_REQUIRED"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct operating_case *c = &cases[i];
		struct instance_state s = {c->task, c->server, c->service, false, c->expired};
		const char *got = instance_operating_status(&s);
		if (strcmp(got, c->operating))
			fail_msg("task %d server %s service 0x%02x expired %d: got '%s', want '%s'",
				 c->task, c->server ? c->server : "(null)", c->service, c->expired,
				 got, c->operating);
	}
}

/* The pairs of §5.3 "Observed pairs", end to end. */
static void test_observed_pairs(void **state)
{
	(void)state;
	static const struct {
		struct instance_state s;
		const char *status, *operating;
	} cases[] = {
		{{BUILDING, "BUILD", NEW, false, false}, "BUILD", ""},
		{{NONE, "ACTIVE", HEALTHY, false, false}, "ACTIVE", "HEALTHY"},
		{{NONE, "ACTIVE", HEALTHY, true, false}, "BACKUP", "HEALTHY"},
		{{REBOOTING, "ACTIVE", RESTARTING, false, false}, "REBOOT", ""},
		{{RESIZING, "ACTIVE", HEALTHY, false, false}, "RESIZE", ""},
		{{RESTART_REQUIRED, "ACTIVE", RESTART_REQUIRED_SVC, false, false},
		 "RESTART_REQUIRED",
		 ""},
		{{BUILDING_ERROR_SERVER, "ERROR", NEW, false, false}, "ERROR", ""},
		{{PROMOTION_ERROR, "ACTIVE", HEALTHY, false, false}, "ERROR", ""},
		{{DELETING, "ACTIVE", HEALTHY, false, false}, "SHUTDOWN", ""},
		{{NONE, "ACTIVE", UNKNOWN, false, false}, "ACTIVE", "ERROR"},
		{{NONE, "ACTIVE", HEALTHY, false, true}, "ACTIVE", "ERROR"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_string_equal(instance_status(&cases[i].s), cases[i].status);
		assert_string_equal(instance_operating_status(&cases[i].s), cases[i].operating);
	}
}

static void test_task_actions(void **state)
{
	(void)state;
	static const struct {
		int task;
		const char *action;
	} cases[] = {
		{NONE, "NONE"},
		{DELETING, "DELETING"},
		{BUILDING, "BUILDING"},
		{BUILDING_ERROR_DNS, "BUILDING"},
		{BUILDING_ERROR_PORT, "BUILDING"},
		{BUILDING_ERROR_TIMEOUT_GA, "ERROR"},
		{PROMOTION_ERROR, "PROMOTING"},
		{EJECTION_ERROR, "EJECTING"},
		{GROWING_ERROR, "GROWING"},
		{SHRINKING_ERROR, "SHRINKING"},
		{UPGRADING, "UPGRADING"},
		{UPGRADING_ERROR, "UPGRADING"},
		{UPDATING_ERROR_ACCESS, "UPDATING"},
		{RESTART_REQUIRED, "RESTART_REQUIRED"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_string_equal(instance_task_action(cases[i].task), cases[i].action);
	assert_null(instance_task_action(0));
	assert_null(instance_task_action(13));
	assert_null(instance_task_action(-1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_rules),
		cmocka_unit_test(test_operating_status_rules),
		cmocka_unit_test(test_observed_pairs),
		cmocka_unit_test(test_task_actions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
