/*
 * address.h — each local instance's own loopback address (127.x.y.z).
 *
 * Addresses come from [local] address_range and are recorded in the
 * control-plane table ctrove_addresses (address PRIMARY KEY, instance_id
 * UNIQUE), so two instances never share one, even across processes: the
 * database's uniqueness, not a lock, decides a race. Allocation is idempotent
 * per instance. Its rows are db/addresses.c's; this file may not configure anything
 * on the machine (the whole 127/8 already routes to lo) nor hand out an
 * address outside 127.0.0.0/8.
 */
#ifndef CT_COMPUTE_ADDRESS_H
#define CT_COMPUTE_ADDRESS_H

#include <stdint.h>

#include "common/error.h"
#include "db/addresses.h"

#define ADDRESS_MAX ADDRESS_TEXT_MAX /* "255.255.255.255" and NUL */

/* The instance's address, allocating the lowest free one of the range when it
 * has none. 500 when the range is exhausted or misconfigured. */
int address_allocate(const char *instance_id, char out[ADDRESS_MAX], struct ct_error *err);
/* The instance's address; 404 when it has none. */
int address_lookup(const char *instance_id, char out[ADDRESS_MAX], struct ct_error *err);
/* Give the address back; 0 also when the instance had none. */
int address_free(const char *instance_id, struct ct_error *err);

/* "first-last" or "net/len" inside 127.0.0.0/8, host order; 400 when not. */
int address_parse_range(const char *text, uint32_t *first, uint32_t *last, struct ct_error *err);

#endif
