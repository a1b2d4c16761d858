/*
 * test_netfilter.c — allowed_cidrs enforced by nftables, proved with real TCP
 * on loopback (needs root and nft): a listener on 127.10.254.x:<ephemeral>,
 * clients bound to 127.0.0.1 and 127.0.0.9. Uses its own table
 * ctrove_test_<pid>, deleted by the group teardown even after a failure; never
 * touches another table.
 */
#include "compute_testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compute/netfilter.h"

static char table[64];

static void must(int rc, const struct ct_error *err)
{
	if (rc)
		fail_msg("error %d: %s", err->status, err->message);
}

struct listener {
	int fd;
	char addr[16];
	int port;
};

static void listen_on(struct listener *l, const char *addr)
{
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l->fd >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	assert_int_equal(inet_pton(AF_INET, addr, &sa.sin_addr), 1);
	assert_int_equal(bind(l->fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(l->fd, 64), 0);
	socklen_t len = sizeof sa;
	assert_int_equal(getsockname(l->fd, (struct sockaddr *)&sa, &len), 0);
	l->port = ntohs(sa.sin_port);
	snprintf(l->addr, sizeof l->addr, "%s", addr);
}

/* Accept and drop whatever connected, so the backlog never fills. */
static void drain(struct listener *l)
{
	int fd;
	while ((fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
		close(fd);
}

/* 0 when a client from src (NULL = unbound) connects to l, else the errno. */
static int connect_from(struct listener *l, const char *src)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	if (src) {
		struct sockaddr_in me = {.sin_family = AF_INET};
		inet_pton(AF_INET, src, &me.sin_addr);
		assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof me), 0);
	}
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)l->port)};
	inet_pton(AF_INET, l->addr, &to.sin_addr);
	int rc = connect(fd, (struct sockaddr *)&to, sizeof to) ? errno : 0;
	if (rc == EINPROGRESS) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (poll(&p, 1, 3000) != 1) {
			rc = ETIMEDOUT;
		} else {
			socklen_t len = sizeof rc;
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &rc, &len);
		}
	}
	close(fd);
	int flags = fcntl(l->fd, F_GETFL);
	fcntl(l->fd, F_SETFL, flags | O_NONBLOCK);
	drain(l);
	return rc;
}

static bool ruleset_mentions(const char *what)
{
	static char out[RUN_OUTPUT_MAX];
	const char *const argv[] = {"nft", "list", "ruleset", NULL};
	assert_int_equal(ctest_run(argv, out, sizeof out), 0);
	return strstr(out, what) != NULL;
}

static int group_setup(void **state)
{
	(void)state;
	ctest_init();
	snprintf(table, sizeof table, "ctrove_test_%ld", (long)getpid());
	return cfg_set(CFG_LOCAL_NFT_TABLE, table, NULL);
}

static int group_teardown(void **state)
{
	(void)state;
	struct ct_error err;
	if (geteuid() == 0)
		netfilter_remove_all(&err);
	cfg_free();
	return 0;
}

static void test_allowed_cidrs(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	struct ct_error err;
	must(netfilter_init(&err), &err);
	struct listener l;
	listen_on(&l, "127.10.254.17");
	const char *id = "nf-one";

	/* No rules yet: everybody connects. */
	assert_int_equal(connect_from(&l, "127.0.0.1"), 0);
	assert_int_equal(connect_from(&l, "127.0.0.9"), 0);

	const char *local[] = {"127.0.0.1/32"};
	must(netfilter_apply(id, l.addr, &l.port, 1, local, 1, &err), &err);
	assert_int_equal(connect_from(&l, "127.0.0.1"), 0);
	assert_int_equal(connect_from(&l, "127.0.0.9"), ECONNREFUSED);
	assert_int_equal(connect_from(&l, NULL), 0); /* unbound = 127.0.0.1 */
	assert_true(ruleset_mentions(table));

	const char *nine[] = {"127.0.0.9/32"};
	must(netfilter_apply(id, l.addr, &l.port, 1, nine, 1, &err), &err);
	assert_int_equal(connect_from(&l, "127.0.0.1"), ECONNREFUSED);
	assert_int_equal(connect_from(&l, "127.0.0.9"), 0);
	assert_int_equal(connect_from(&l, NULL), ECONNREFUSED);
	must(netfilter_apply(id, l.addr, &l.port, 1, nine, 1, &err), &err); /* idempotent */
	assert_int_equal(connect_from(&l, "127.0.0.9"), 0);
	assert_int_equal(connect_from(&l, "127.0.0.1"), ECONNREFUSED);

	/* Several CIDRs, one with host bits set. */
	const char *both[] = {"127.0.0.9/32", "127.0.0.1/8"};
	must(netfilter_apply(id, l.addr, &l.port, 1, both, 2, &err), &err);
	assert_int_equal(connect_from(&l, "127.0.0.1"), 0);
	assert_int_equal(connect_from(&l, "127.0.0.9"), 0);

	/* Only IPv6 CIDRs: no IPv4 source is allowed. */
	const char *v6[] = {"::1/128"};
	must(netfilter_apply(id, l.addr, &l.port, 1, v6, 1, &err), &err);
	assert_int_equal(connect_from(&l, "127.0.0.1"), ECONNREFUSED);

	/* Empty allowed_cidrs: open to all (Trove's 0.0.0.0/0). */
	must(netfilter_apply(id, l.addr, &l.port, 1, NULL, 0, &err), &err);
	assert_int_equal(connect_from(&l, "127.0.0.1"), 0);
	assert_int_equal(connect_from(&l, "127.0.0.9"), 0);

	must(netfilter_apply(id, l.addr, &l.port, 1, local, 1, &err), &err);
	must(netfilter_remove(id, &err), &err);
	assert_int_equal(connect_from(&l, "127.0.0.9"), 0);
	assert_false(ruleset_mentions(table));
	must(netfilter_remove(id, &err), &err); /* again: nothing there */
	assert_false(ruleset_mentions(table));
	close(l.fd);
}

static void test_two_instances(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	struct ct_error err;
	struct listener a, b;
	listen_on(&a, "127.10.254.18");
	listen_on(&b, "127.10.254.19");
	const char *local[] = {"127.0.0.1/32"};
	const char *nine[] = {"127.0.0.9/32"};
	must(netfilter_apply("nf-a", a.addr, &a.port, 1, local, 1, &err), &err);
	must(netfilter_apply("nf-b", b.addr, &b.port, 1, nine, 1, &err), &err);
	assert_int_equal(connect_from(&a, "127.0.0.9"), ECONNREFUSED);
	assert_int_equal(connect_from(&b, "127.0.0.1"), ECONNREFUSED);

	must(netfilter_remove("nf-a", &err), &err);
	assert_int_equal(connect_from(&a, "127.0.0.9"), 0);
	assert_int_equal(connect_from(&b, "127.0.0.1"), ECONNREFUSED); /* untouched */
	assert_int_equal(connect_from(&b, "127.0.0.9"), 0);
	assert_true(ruleset_mentions("inst-nf-b"));
	assert_false(ruleset_mentions("inst-nf-a"));

	must(netfilter_remove("nf-b", &err), &err);
	assert_int_equal(connect_from(&b, "127.0.0.1"), 0);
	assert_false(ruleset_mentions(table));
	close(a.fd);
	close(b.fd);
}

/* A fenced address takes no TCP from anyone and sends none, whatever its
 * allowed_cidrs say and however often they are applied again. */
static void test_fence(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	struct ct_error err;
	struct listener fenced, other;
	listen_on(&fenced, "127.10.254.20");
	listen_on(&other, "127.10.254.21");
	const char *local[] = {"127.0.0.1/32", "127.10.254.20/32"};
	must(netfilter_apply("nf-f", fenced.addr, &fenced.port, 1, local, 2, &err), &err);
	assert_int_equal(connect_from(&fenced, "127.0.0.1"), 0);
	assert_int_equal(connect_from(&other, "127.10.254.20"), 0);

	must(netfilter_fence("nf-f", fenced.addr, &err), &err);
	assert_int_equal(connect_from(&fenced, "127.0.0.1"), ECONNREFUSED);
	assert_int_equal(connect_from(&fenced, "127.0.0.9"), ECONNREFUSED);
	assert_int_equal(connect_from(&fenced, NULL), ECONNREFUSED);
	/* a server that comes back cannot dial out either */
	assert_int_equal(connect_from(&other, "127.10.254.20"), ECONNREFUSED);
	assert_int_equal(connect_from(&other, "127.0.0.1"), 0); /* others untouched */
	assert_true(ruleset_mentions("fence-nf-f"));
	/* set_access rebuilds the instance's chain: the fence stays */
	must(netfilter_apply("nf-f", fenced.addr, &fenced.port, 1, local, 2, &err), &err);
	assert_int_equal(connect_from(&fenced, "127.0.0.1"), ECONNREFUSED);
	must(netfilter_fence("nf-f", fenced.addr, &err), &err); /* idempotent */
	assert_int_equal(connect_from(&fenced, "127.0.0.1"), ECONNREFUSED);

	must(netfilter_unfence("nf-f", &err), &err);
	assert_int_equal(connect_from(&fenced, "127.0.0.1"), 0);
	assert_int_equal(connect_from(&fenced, "127.0.0.9"), ECONNREFUSED); /* its own rules */
	assert_false(ruleset_mentions("fence-nf-f"));
	must(netfilter_unfence("nf-f", &err), &err); /* again: nothing there */

	/* deleting the instance removes a fence too */
	must(netfilter_fence("nf-f", fenced.addr, &err), &err);
	must(netfilter_remove("nf-f", &err), &err);
	assert_int_equal(connect_from(&fenced, "127.0.0.9"), 0);
	assert_false(ruleset_mentions(table));

	assert_int_equal(netfilter_fence("nf-f", "10.0.0.1", &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(netfilter_fence("nf-f; flush ruleset", fenced.addr, &err), -1);
	assert_int_equal(err.status, 400);
	assert_false(ruleset_mentions(table));
	close(fenced.fd);
	close(other.fd);
}

/* A process of uid connects, unbound, to l: the peer address l accepted
 * ("" when the connection failed). */
static void peer_of_uid_connection(struct listener *l, uid_t uid, char peer[16])
{
	peer[0] = '\0';
	int flags = fcntl(l->fd, F_GETFL);
	fcntl(l->fd, F_SETFL, flags | O_NONBLOCK);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		if (setgid(uid) || setuid(uid))
			_exit(2);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in to = {.sin_family = AF_INET,
					 .sin_port = htons((uint16_t)l->port)};
		inet_pton(AF_INET, l->addr, &to.sin_addr);
		_exit(connect(fd, (struct sockaddr *)&to, sizeof to) ? 1 : 0);
	}
	int status = 0;
	assert_int_equal(waitpid(child, &status, 0), child);
	struct pollfd p = {.fd = l->fd, .events = POLLIN};
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && poll(&p, 1, 3000) == 1) {
		struct sockaddr_in from;
		socklen_t len = sizeof from;
		int fd = accept4(l->fd, (struct sockaddr *)&from, &len, SOCK_CLOEXEC);
		if (fd >= 0) {
			inet_ntop(AF_INET, &from.sin_addr, peer, 16);
			close(fd);
		}
	}
	drain(l);
}

/* An instance's own outgoing connections leave from its address (replicas
 * reach their source from an address its allowed_cidrs can name), proved
 * with a real connection from a process of the instance's uid. */
static void test_snat_own_address(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	struct ct_error err;
	must(netfilter_init(&err), &err);
	struct listener source;
	listen_on(&source, "127.10.254.22");
	const uid_t uid = 64999;
	char peer[16];
	peer_of_uid_connection(&source, uid, peer);
	assert_string_equal(peer, "127.0.0.1");

	must(netfilter_snat_apply("nf-replica", "127.10.254.23", uid, &err), &err);
	assert_true(ruleset_mentions("snat-nf-replica"));
	peer_of_uid_connection(&source, uid, peer);
	assert_string_equal(peer, "127.10.254.23");
	/* Other users keep 127.0.0.1; a bound socket keeps its address. */
	assert_int_equal(connect_from(&source, NULL), 0);
	assert_int_equal(connect_from(&source, "127.0.0.9"), 0);

	/* The source admits only the replica's address: the replica gets in. */
	const char *replica_only[] = {"127.10.254.23/32"};
	must(netfilter_apply("nf-source", source.addr, &source.port, 1, replica_only, 1, &err),
	     &err);
	peer_of_uid_connection(&source, uid, peer);
	assert_string_equal(peer, "127.10.254.23");
	assert_int_equal(connect_from(&source, NULL), ECONNREFUSED);

	must(netfilter_snat_apply("nf-replica", "127.10.254.23", uid, &err), &err); /* again */
	assert_int_equal(netfilter_snat_apply("nf-replica", "10.0.0.1", uid, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(netfilter_snat_apply("nf-replica", "127.10.254.23", 0, &err), -1);
	assert_int_equal(err.status, 400);

	must(netfilter_snat_remove("nf-replica", &err), &err);
	must(netfilter_remove("nf-source", &err), &err);
	assert_false(ruleset_mentions(table));
	peer_of_uid_connection(&source, uid, peer);
	assert_string_equal(peer, "127.0.0.1");
	must(netfilter_snat_remove("nf-replica", &err), &err); /* nothing there */
	close(source.fd);
}

static void test_rejects_bad_input(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	struct ct_error err;
	int port = 3306;
	const char *bad_cidrs[] = {"10.0.0.0/33", "foo",      "1.2.3.4/24; delete table inet x", "",
				   "10.0.0.0/-1", "10.0.0.0/"};
	for (size_t i = 0; i < sizeof bad_cidrs / sizeof bad_cidrs[0]; i++) {
		assert_int_equal(netfilter_apply("nf-bad", "127.10.254.20", &port, 1, &bad_cidrs[i],
						 1, &err),
				 -1);
		assert_int_equal(err.status, 400);
	}
	const char *ok[] = {"127.0.0.1/32"};
	assert_int_equal(netfilter_apply("nf-bad", "10.1.2.3", &port, 1, ok, 1, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(netfilter_apply("nf-bad", "127.10.254.20 ", &port, 1, ok, 1, &err), -1);
	assert_int_equal(netfilter_apply("bad id", "127.10.254.20", &port, 1, ok, 1, &err), -1);
	assert_int_equal(err.status, 400);
	int bad_port = 70000;
	assert_int_equal(netfilter_apply("nf-bad", "127.10.254.20", &bad_port, 1, ok, 1, &err), -1);
	assert_int_equal(err.status, 400);
	assert_false(ruleset_mentions(table));
}

static void test_parse_cidr(void **state)
{
	(void)state;
	struct ct_error err;
	char out[NETFILTER_CIDR_MAX];
	assert_int_equal(netfilter_parse_cidr("10.0.0.5/24", out, &err), 4);
	assert_string_equal(out, "10.0.0.0/24");
	assert_int_equal(netfilter_parse_cidr("127.0.0.1", out, &err), 4);
	assert_string_equal(out, "127.0.0.1/32");
	assert_int_equal(netfilter_parse_cidr("0.0.0.0/0", out, &err), 4);
	assert_string_equal(out, "0.0.0.0/0");
	assert_int_equal(netfilter_parse_cidr("10.1.2.3/13", out, &err), 4);
	assert_string_equal(out, "10.0.0.0/13");
	assert_int_equal(netfilter_parse_cidr("2001:db8::1/32", out, &err), 6);
	assert_string_equal(out, "2001:db8::/32");
	assert_int_equal(netfilter_parse_cidr("10.0.0.0/33", out, &err), -1);
	assert_int_equal(netfilter_parse_cidr("10.0.0.0/x", out, &err), -1);
}

/* With nft gone from PATH the module says so (501) instead of pretending. */
static void test_unusable_nft(void **state)
{
	(void)state;
	struct ct_error err;
	char *saved = strdup(getenv("PATH") ? getenv("PATH") : "/usr/sbin:/usr/bin:/sbin:/bin");
	setenv("PATH", "/nonexistent", 1);
	int rc = netfilter_init(&err);
	int port = 3306;
	const char *ok[] = {"127.0.0.1/32"};
	struct ct_error err2;
	int rc2 = netfilter_apply("nf-x", "127.10.254.21", &port, 1, ok, 1, &err2);
	struct ct_error err3;
	int rc3 = netfilter_remove("nf-x", &err3); /* nothing can exist: fine */
	setenv("PATH", saved, 1);
	free(saved);
	assert_int_equal(rc, -1);
	assert_int_equal(err.status, 501);
	assert_int_equal(rc2, -1);
	assert_int_equal(err2.status, 501);
	assert_non_null(strstr(err2.message, "nft"));
	assert_int_equal(rc3, 0);
	if (geteuid() == 0)
		must(netfilter_init(&err), &err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed_cidrs),	  cmocka_unit_test(test_two_instances),
		cmocka_unit_test(test_rejects_bad_input), cmocka_unit_test(test_parse_cidr),
		cmocka_unit_test(test_unusable_nft),	  cmocka_unit_test(test_fence),
		cmocka_unit_test(test_snat_own_address),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
