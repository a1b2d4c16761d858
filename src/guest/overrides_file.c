/*
 * overrides_file.c — see overrides_file.h.
 */
#define LOG_MODULE "guest"
#include "guest/overrides_file.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/guest_util.h"

int overrides_file_store(const struct guest_instance *inst, const char *confd, const char *file,
			 enum overrides_syntax syntax, const json_t *overrides, bool remove,
			 struct ct_error *err)
{
	char path[PATH_MAX + 32];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", confd, file) >= sizeof path)
		return ct_fail(err, 500, "Path too long: %s", confd);
	if (remove || !json_is_object(overrides) || json_object_size(overrides) == 0) {
		if (!unlink(path))
			log_info("configuration group removed");
		else if (errno != ENOENT)
			return ct_fail(err, 500, "Cannot remove the configuration group: %s",
				       strerror(errno));
		return 0;
	}
	char *text = overrides_render(overrides, syntax, err);
	if (!text)
		return -1;
	/* Read by the server, so owned by the instance's identity like the rest of
	 * its config (0600 in its 0700 conf.d). */
	struct guest_identity id;
	int rc = guest_identity_resolve(inst->os_user, &id, err) ||
		 guest_write_file_owned(path, text, strlen(text), 0600, &id, err);
	free(text);
	if (!rc)
		log_info("configuration group written (%zu values)", json_object_size(overrides));
	return rc;
}
