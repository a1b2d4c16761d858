/*
 * volume_fs.c — see volume_fs.h. Owns nothing; runs resize2fs on the
 * configured device and nothing else (no mkfs, no mount: a volume is never
 * formatted or moved from here).
 */
#define LOG_MODULE "guest"

#include "guest/volume_fs.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "guest/guest_util.h"

int guest_volume_grow(const char *device, const char *log_path, struct ct_error *err)
{
	if (!device || !*device) {
		log_info("no volume device configured: no file system to grow");
		return 0;
	}
	struct stat st;
	if (stat(device, &st))
		return ct_fail(err, 500, "the volume device %s: %s", device, strerror(errno));
	if (!S_ISBLK(st.st_mode))
		return ct_fail(err, 500, "the volume device %s is not a block device", device);
	const char *const argv[] = {"/usr/sbin/resize2fs", device, NULL};
	if (guest_run(argv, log_path, NULL, err))
		return ct_fail(err, 500, "growing the file system on %s failed; see %s", device,
			       log_path ? log_path : "the agent's log");
	log_info("file system on %s grown to the volume's size", device);
	return 0;
}
