/*
 * nova.h — the `nova` compute driver: instances are Nova servers booted from
 * a Glance image (the datastore version's id or newest with its tags), with a
 * Cinder volume, Neutron ports and a security group of their own, created in
 * the project of [service_credentials] (docs/openstack.md).
 *
 * Exposes only the driver's table (driver.c registers it).
 */
#ifndef CT_COMPUTE_NOVA_H
#define CT_COMPUTE_NOVA_H

#include "compute/driver.h"

extern const struct compute_driver compute_nova_driver;

#endif
