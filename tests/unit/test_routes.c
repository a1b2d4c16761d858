/*
 * test_routes.c — the route table's invariants (api/routes.h): a route is
 * WAIT_GUEST exactly when its handler is one of instance_guest.c's (the list
 * is read from that file at build time, guest_handlers.py), and
 * routes_wait_on_guest() finds a request's route the way the dispatcher does.
 * Pure logic; no database, no HTTP.
 */
#include "testutil.h"

#include "api/routes.h"
#include "guest_handlers.h"

static const struct {
	const char *name;
	api_handler handler;
} guest_handlers[] = {
#define GUEST_HANDLER_ROW(h) {#h, h},
	GUEST_HANDLERS(GUEST_HANDLER_ROW)
#undef GUEST_HANDLER_ROW
};

#define N_GUEST_HANDLERS ((int)(sizeof guest_handlers / sizeof guest_handlers[0]))

static const char *guest_handler_name(api_handler h)
{
	for (int i = 0; i < N_GUEST_HANDLERS; i++)
		if (guest_handlers[i].handler == h)
			return guest_handlers[i].name;
	return NULL;
}

static void test_guest_handlers_and_only_they_wait_on_guest(void **state)
{
	(void)state;
	int count;
	const struct api_route *routes = routes_table(&count);
	assert_true(N_GUEST_HANDLERS >= 10); /* databases, users, access, root */
	for (int i = 0; i < count; i++) {
		const char *guest = guest_handler_name(routes[i].handler);
		if ((guest != NULL) != (routes[i].wait == WAIT_GUEST))
			fail_msg("%s %s (%s): handler %s in instance_guest.c but wait is %s",
				 routes[i].method, routes[i].pattern, routes[i].rule,
				 guest ? "is" : "is not",
				 routes[i].wait == WAIT_GUEST ? "WAIT_GUEST" : "WAIT_NONE");
	}
	/* Every guest handler is routed: a handler that lost its row would
	 * otherwise pass the check above unnoticed. */
	for (int h = 0; h < N_GUEST_HANDLERS; h++) {
		bool routed = false;
		for (int i = 0; i < count; i++)
			routed |= routes[i].handler == guest_handlers[h].handler;
		if (!routed)
			fail_msg("%s is in instance_guest.c but no route serves it",
				 guest_handlers[h].name);
	}
}

static void test_wait_on_guest_by_request(void **state)
{
	(void)state;
	static const struct {
		const char *method, *path;
		bool waits;
	} cases[] = {
		{"GET", "/v1.0/p1/instances/i1/databases", true},
		{"POST", "/v1.0/p1/instances/i1/databases", true},
		{"DELETE", "/v1.0/p1/instances/i1/databases/db1", true},
		{"GET", "/v1.0/p1/instances/i1/users", true},
		{"PUT", "/v1.0/p1/instances/i1/users/update_all", true},
		{"PUT", "/v1.0/p1/instances/i1/users/u1/update", true},
		{"GET", "/v1.0/p1/instances/i1/users/u1/databases", true},
		{"DELETE", "/v1.0/p1/instances/i1/users/u1/databases/db1", true},
		{"POST", "/v1.0/p1/instances/i1/root", true},
		{"GET", "//v1.0//p1/instances/i1/root/", true}, /* as split_path reads it */
		/* Served without a guest: not implemented, instance rows, other resources. */
		{"GET", "/v1.0/p1/instances/i1/databases/db1", false},
		{"GET", "/v1.0/p1/instances/i1", false},
		{"POST", "/v1.0/p1/instances/i1/action", false},
		{"GET", "/v1.0/p1/instances/i1/backups", false}, /* a guest row's shape */
		{"GET", "/v1.0/p1/instances/i1/configuration", false},
		{"GET", "/v1.0/p1/instances", false},
		{"GET", "/v1.0/p1/datastores", false},
		/* No route: answered 404 by the dispatcher, on the HTTP thread. */
		{"PATCH", "/v1.0/p1/instances/i1/users", false},
		{"GET", "/v1.0/p1/instances/i1/users/u1/databases/db1/x", false},
		{"GET", "/v2.0/p1/instances/i1/users", false},
		{"GET", "/identity/v3/instances/i1/users", false},
		{"GET", "/v1.0/p1", false},
		{"GET", "/", false},
		{"GET", "", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (routes_wait_on_guest(cases[i].method, cases[i].path) != cases[i].waits)
			fail_msg("%s %s: expected %s", cases[i].method, cases[i].path,
				 cases[i].waits ? "WAIT_GUEST" : "no wait");
}

static void test_wait_on_guest_hostile_paths(void **state)
{
	(void)state;
	static char path[4096];
	/* Longer than any path the dispatcher serves. */
	memset(path, 'a', sizeof path - 1);
	memcpy(path, "/v1.0/p1/instances/", 19);
	path[sizeof path - 1] = '\0';
	assert_false(routes_wait_on_guest("GET", path));
	/* Many segments. */
	strcpy(path, "/v1.0");
	for (int i = 0; i < 200; i++)
		strcat(path, "/users");
	assert_false(routes_wait_on_guest("GET", path));
	/* Only slashes. */
	memset(path, '/', 2000);
	path[2000] = '\0';
	assert_false(routes_wait_on_guest("GET", path));
	assert_false(routes_wait_on_guest("", "/v1.0/p1/instances/i1/users"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_handlers_and_only_they_wait_on_guest),
		cmocka_unit_test(test_wait_on_guest_by_request),
		cmocka_unit_test(test_wait_on_guest_hostile_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
