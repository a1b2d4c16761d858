/*
 * driver.c — see driver.h. Owns the registry of compute drivers; the one
 * file outside local.c that includes compute/local.h.
 */
#include "compute/driver.h"

#include <string.h>

#include "common/config.h"
#include "compute/local.h"
#include "compute/nova.h"

static const struct compute_driver *const drivers[] = {
	&compute_local_driver,
	&compute_nova_driver,
};

const struct compute_driver *compute_driver_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof drivers / sizeof drivers[0]; i++)
		if (!strcmp(drivers[i]->name, name))
			return drivers[i];
	return NULL;
}

const struct compute_driver *compute_driver_current(struct ct_error *err)
{
	const char *name = cfg_str(CFG_COMPUTE_DRIVER);
	const struct compute_driver *d = compute_driver_find(name);
	if (!d)
		ct_fail(err, 500, "Unknown compute_driver '%.64s' (ctrove has: local, nova).",
			name);
	return d;
}

void compute_driver_shutdown(void)
{
	const struct compute_driver *d = compute_driver_find(cfg_str(CFG_COMPUTE_DRIVER));
	if (d && d->shutdown)
		d->shutdown();
}

static int not_implemented(const struct compute_driver *d, const char *what, struct ct_error *err)
{
	return ct_fail(err, 501, "%s is not implemented by the %s compute driver yet.", what,
		       d->name);
}

int compute_resize_volume(const struct compute_driver *d, const char *id, long new_size_gb,
			  struct ct_error *err)
{
	if (!d->resize_volume)
		return not_implemented(d, "Resizing a volume", err);
	return d->resize_volume(id, new_size_gb, err);
}

int compute_resize_flavor(const struct compute_driver *d, const char *id, const char *flavor_id,
			  long memory_mb, struct ct_error *err)
{
	if (!d->resize_flavor)
		return not_implemented(d, "Resizing an instance's flavor", err);
	return d->resize_flavor(id, flavor_id, memory_mb, err);
}

int compute_attach_storage(const struct compute_driver *d, const char *id, const char *storage_id,
			   struct ct_error *err)
{
	if (!d->attach_storage)
		return not_implemented(d, "Attaching storage", err);
	return d->attach_storage(id, storage_id, err);
}

int compute_fence(const struct compute_driver *d, const char *id, struct ct_error *err)
{
	if (!d->fence)
		return not_implemented(d, "Fencing an instance", err);
	return d->fence(id, err);
}

int compute_unfence(const struct compute_driver *d, const char *id, struct ct_error *err)
{
	if (!d->unfence)
		return not_implemented(d, "Unfencing an instance", err);
	return d->unfence(id, err);
}
