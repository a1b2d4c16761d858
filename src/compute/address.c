/*
 * address.c — loopback address allocation (address.h): picks a free address
 * of [local] address_range; its rows are kept by db/addresses.c. Touches
 * nothing on the machine but a probe bind.
 */
#define LOG_MODULE "compute"
#include "compute/address.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "compute/paths.h"
#include "db/addresses.h"

static int parse_ipv4(const char *text, size_t len, uint32_t *out)
{
	char buf[ADDRESS_MAX];
	while (len && text[0] == ' ')
		text++, len--;
	while (len && text[len - 1] == ' ')
		len--;
	if (!len || len >= sizeof buf)
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	struct in_addr a;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

static void format_ipv4(uint32_t addr, char out[ADDRESS_MAX])
{
	struct in_addr a = {.s_addr = htonl(addr)};
	inet_ntop(AF_INET, &a, out, ADDRESS_MAX);
}

int address_parse_range(const char *text, uint32_t *first, uint32_t *last, struct ct_error *err)
{
	const char *dash = strchr(text, '-'), *slash = strchr(text, '/');
	bool ok = false;
	if (dash) {
		ok = !parse_ipv4(text, (size_t)(dash - text), first) &&
		     !parse_ipv4(dash + 1, strlen(dash + 1), last);
	} else if (slash) {
		char *end;
		long len = strtol(slash + 1, &end, 10);
		uint32_t net;
		ok = !parse_ipv4(text, (size_t)(slash - text), &net) && *end == '\0' &&
		     end != slash + 1 && len >= 8 && len <= 30;
		if (ok) {
			uint32_t mask = 0xffffffffU << (32 - len);
			*first = (net & mask) + 1;
			*last = (net | ~mask) - 1;
		}
	}
	if (!ok || *first > *last || (*first >> 24) != 127 || (*last >> 24) != 127)
		return ct_fail(err, 400,
			       "[local] address_range '%.60s' is not 'first-last' or 'net/len' "
			       "inside 127.0.0.0/8",
			       text);
	return 0;
}

int address_lookup(const char *instance_id, char out[ADDRESS_MAX], struct ct_error *err)
{
	int found = addresses_find(instance_id, out, err);
	if (found < 0)
		return -1;
	if (!found)
		return ct_fail(err, 404, "Instance %.64s has no address.", instance_id);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Every address in the table (any range), sorted; caller frees. */
static uint32_t *load_taken(size_t *count, struct ct_error *err)
{
	char(*rows)[ADDRESS_TEXT_MAX] = NULL;
	size_t nrows = 0;
	if (addresses_list(&rows, &nrows, err))
		return NULL;
	uint32_t *arr = malloc((nrows ? nrows : 1) * sizeof *arr);
	size_t n = 0;
	for (size_t i = 0; arr && i < nrows; i++)
		if (!parse_ipv4(rows[i], strlen(rows[i]), &arr[n]))
			n++;
	free(rows);
	if (!arr) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	qsort(arr, n, sizeof *arr, cmp_u32);
	*count = n;
	return arr;
}

static bool usable_host(uint32_t a)
{
	uint32_t host = a & 0xff;
	return host != 0 && host != 255;
}

/* True when something outside our table already listens on the address at a
 * datastore port (another ctrove on the machine, a leftover server): such an
 * address is skipped rather than handed to an instance that could not bind. */
static bool address_busy(const char *text)
{
	static const int ports[] = {3306, 5432};
	for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(ports[i])};
		if (inet_pton(AF_INET, text, &sa.sin_addr) != 1)
			return true;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return false;
		int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
		int saved = errno;
		close(fd);
		if (rc && saved == EADDRINUSE)
			return true;
	}
	return false;
}

int address_allocate(const char *instance_id, char out[ADDRESS_MAX], struct ct_error *err)
{
	if (paths_check_id(instance_id, err))
		return -1;
	struct ct_error lookup_err;
	if (!address_lookup(instance_id, out, &lookup_err))
		return 0;
	if (lookup_err.status != 404) {
		if (err)
			*err = lookup_err;
		return -1;
	}
	uint32_t first, last;
	if (address_parse_range(cfg_str(CFG_LOCAL_ADDRESS_RANGE), &first, &last, err)) {
		err->status = 500;
		return -1;
	}
	size_t ntaken = 0;
	uint32_t *taken = load_taken(&ntaken, err);
	if (!taken)
		return -1;
	int rc = -1;
	bool db_failed = false;
	for (uint64_t a = first; !db_failed && a <= last; a++) {
		uint32_t cand = (uint32_t)a;
		if (!usable_host(cand) || bsearch(&cand, taken, ntaken, sizeof cand, cmp_u32))
			continue;
		char text[ADDRESS_MAX];
		format_ipv4(cand, text);
		if (address_busy(text)) {
			log_warning("address %s is in use outside ctrove; skipped", text);
			continue;
		}
		int claimed = addresses_claim(text, instance_id, err);
		db_failed = claimed < 0;
		if (claimed == 1) {
			memcpy(out, text, ADDRESS_MAX);
			log_info("address %s allocated to instance %s", text, instance_id);
			rc = 0;
			break;
		}
		/* Lost a race: another allocation took this address or this instance. */
		if (!db_failed && !address_lookup(instance_id, out, &lookup_err)) {
			rc = 0;
			break;
		}
	}
	free(taken);
	if (rc && !db_failed)
		ct_fail(err, 500, "No free address left in [local] address_range %.60s.",
			cfg_str(CFG_LOCAL_ADDRESS_RANGE));
	return rc;
}

int address_free(const char *instance_id, struct ct_error *err)
{
	if (addresses_release(instance_id, err))
		return -1;
	log_debug("address of instance %s freed", instance_id);
	return 0;
}
