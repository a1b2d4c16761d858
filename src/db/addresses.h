/*
 * addresses.h — the rows of ctrove_addresses: which loopback address belongs
 * to which instance (address PRIMARY KEY, instance_id UNIQUE): the local
 * driver's pool, or the port a cloud gave. The
 * table's uniqueness, not a lock, decides a race between processes. May not
 * choose an address nor touch the machine (compute/address.c does both).
 */
#ifndef CT_DB_ADDRESSES_H
#define CT_DB_ADDRESSES_H

#include <stddef.h>

#include "common/error.h"

#define ADDRESS_TEXT_MAX 16 /* "255.255.255.255" and NUL */

/* The instance's address: 1 found, 0 none, -1 failed. */
int addresses_find(const char *instance_id, char out[ADDRESS_TEXT_MAX], struct ct_error *err);
/* Every address in the table, as stored (malloc'd; the caller frees). */
int addresses_list(char (**out)[ADDRESS_TEXT_MAX], size_t *count, struct ct_error *err);
/* Record `address` for the instance: 1 claimed, 0 when the address or the
 * instance already has a row (another allocation won), -1 failed. */
int addresses_claim(const char *address, const char *instance_id, struct ct_error *err);
/* Make `address` the instance's (a cloud's port address, which no pool
 * chose): another address it had is dropped, the same one kept. 0 done,
 * 409 when another instance holds it, -1 failed. */
int addresses_set(const char *instance_id, const char *address, struct ct_error *err);
/* Drop the instance's row; 0 also when it had none. */
int addresses_release(const char *instance_id, struct ct_error *err);

#endif
