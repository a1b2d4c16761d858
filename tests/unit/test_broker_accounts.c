/*
 * test_broker_accounts.c — the pure rules of rpc/broker_accounts.h: what a guest's
 * permission patterns admit (checked with POSIX extended regexes, which read these
 * patterns as RabbitMQ's do: anchors, groups, alternation, escaped dots), the
 * guest's transport URL (every host's login replaced, escapes, IPv6, vhost,
 * options), and the accounts-off path. No broker: tests/e2e/test_broker_accounts.py
 * checks the same rules on RabbitMQ itself.
 */
#include "testutil.h"

#include <regex.h>

#include "common/config.h"
#include "rpc/broker_accounts.h"

#define A "c3425539-fb8d-483a-a47d-8d3cff2f9912"
#define B "d3425539-fb8d-483a-a47d-8d3cff2f9912"

static bool matches(const char *pattern, const char *s)
{
	regex_t re;
	assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	bool yes = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return yes;
}

static void test_grant_admits_only_its_own(void **state)
{
	(void)state;
	struct ct_error err;
	struct broker_grant g;
	assert_int_equal(broker_grant_for(A, "openstack", "trove-conductor", &g, &err), 0);
	assert_string_equal(g.user, "ctrove-guest-" A);
	assert_string_equal(g.topic_exchange, "openstack");
	/* its own queues and fanout exchange */
	const char *own[] = {"guestagent." A, "guestagent." A "." A, "guestagent." A "_fanout",
			     "guestagent." A "_fanout_0123abcd"};
	for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
		assert_true(matches(g.configure, own[i]));
		assert_true(matches(g.write, own[i]));
		assert_true(matches(g.read, own[i]));
	}
	/* nobody else's, nor a name that merely starts like its own */
	const char *others[] = {
		"guestagent." B,     "guestagent." B "_fanout", "taskmanager",	"trove-conductor",
		"guestagent." A "x", "xguestagent." A,		"guestagent" A, "reply_0123"};
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		assert_false(matches(g.configure, others[i]));
		assert_false(matches(g.write, others[i]));
		assert_false(matches(g.read, others[i]));
	}
	/* the control exchange: bind from it, publish to it; never configure it */
	assert_false(matches(g.configure, "openstack"));
	assert_true(matches(g.write, "openstack") && matches(g.read, "openstack"));
	/* replies: write on the default exchange only */
	assert_true(matches(g.write, "amq.default"));
	assert_false(matches(g.read, "amq.default") || matches(g.configure, "amq.default"));
	/* on the control exchange: publish only to the conductor, bind only its keys */
	assert_true(matches(g.topic_write, "trove-conductor"));
	assert_false(matches(g.topic_write, "taskmanager"));
	assert_false(matches(g.topic_write, "trove-conductor.host"));
	assert_false(matches(g.topic_write, "guestagent." B));
	assert_true(matches(g.topic_read, "guestagent." A));
	assert_true(matches(g.topic_read, "guestagent." A "." A));
	assert_false(matches(g.topic_read, "guestagent." B));
	assert_false(matches(g.topic_read, "#"));
	assert_false(matches(g.topic_read, "guestagent.*"));
	assert_false(matches(g.topic_read, "taskmanager"));
}

static void test_grant_quotes_configured_names(void **state)
{
	(void)state;
	struct ct_error err;
	struct broker_grant g;
	/* names from trove.conf are literal, not patterns */
	assert_int_equal(broker_grant_for(A, "ex.a+b", "cond(x)|.*", &g, &err), 0);
	assert_true(matches(g.write, "ex.a+b"));
	assert_false(matches(g.write, "exXaab"));
	assert_true(matches(g.topic_write, "cond(x)|.*"));
	assert_false(matches(g.topic_write, "taskmanager"));
	assert_false(matches(g.topic_write, "condx"));
	/* an id that is not one */
	assert_int_equal(broker_grant_for("a.*", "openstack", "c", &g, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(broker_grant_for("", "openstack", "c", &g, &err), -1);
	assert_int_equal(broker_grant_for(NULL, "openstack", "c", &g, &err), -1);
	assert_int_equal(broker_grant_for(A, "", "c", &g, &err), -1);
}

static void test_guest_url(void **state)
{
	(void)state;
	struct ct_error err;
	char out[512];
	assert_int_equal(broker_url_with_login("rabbit://ctrove:secret@127.0.0.1:5673/", "g-1",
					       "p/w+=", out, sizeof out, &err),
			 0);
	assert_string_equal(out, "rabbit://g-1:p%2Fw%2B%3D@127.0.0.1:5673/");
	assert_null(strstr(out, "secret"));
	/* every host, IPv6, a vhost and options */
	assert_int_equal(broker_url_with_login("rabbit://a:x@h1,b:y@[::1]:5000/v%2Fh?ssl=1", "u",
					       "p", out, sizeof out, &err),
			 0);
	assert_string_equal(out, "rabbit://u:p@h1:5672,u:p@[::1]:5000/v%2Fh?ssl=1");
	/* TLS stays TLS: a guest never gets a plain URL to a TLS bus */
	assert_int_equal(
		broker_url_with_login("amqps://a:x@localhost/", "u", "p", out, sizeof out, &err),
		0);
	assert_string_equal(out, "amqps://u:p@localhost:5671/");
	/* too small: an error, and nothing half-written left */
	char small[24];
	assert_int_equal(broker_url_with_login("rabbit://a:x@host:1/", "user", "password", small,
					       sizeof small, &err),
			 -1);
	assert_int_equal(small[0], '\0');
	/* a bad URL is refused without echoing it */
	assert_int_equal(broker_url_with_login("rabbit://a:hunter2@h:notaport/", "u", "p", out,
					       sizeof out, &err),
			 -1);
	assert_null(strstr(err.message, "hunter2"));
}

static void test_accounts_off(void **state)
{
	(void)state;
	struct ct_error err = {0, ""};
	char out[256];
	cfg_reset();
	assert_int_equal(cfg_set(CFG_BROKER_ACCOUNTS, "false", &err), 0);
	assert_int_equal(cfg_set(CFG_TRANSPORT_URL, "rabbit://ctrove:secret@h:1/", &err), 0);
	/* never the control plane's URL */
	assert_int_equal(broker_guest_account_create(A, out, sizeof out, &err), -1);
	assert_int_equal(err.status, 500);
	assert_non_null(strstr(err.message, "guest_transport_url is unset"));
	assert_null(strstr(err.message, "secret"));
	assert_int_equal(cfg_set(CFG_GUEST_TRANSPORT_URL, "rabbit://g:pw@h:1/", &err), 0);
	assert_int_equal(broker_guest_account_create(A, out, sizeof out, &err), 0);
	assert_string_equal(out, "rabbit://g:pw@h:1/");
	/* nothing to remove */
	assert_int_equal(broker_guest_account_remove(A, &err), 0);
	cfg_free();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grant_admits_only_its_own),
		cmocka_unit_test(test_grant_quotes_configured_names),
		cmocka_unit_test(test_guest_url),
		cmocka_unit_test(test_accounts_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
