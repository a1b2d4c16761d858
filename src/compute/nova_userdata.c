/*
 * nova_userdata.c — what a Nova server is given for its guest agent
 * (docs/openstack.md "User data"): a `#cloud-config` line and one line of
 * JSON, {"write_files": [...]}, every file base64-encoded: the agent's entry
 * point /etc/ctrove/guest.conf (the local driver's option format with in-VM
 * paths: the volume at device_path mounted at ctrove_guest_mount_point, the
 * server on every address of the VM) and, on a TLS bus, the bus's CA.
 *
 * Owns the text it builds (wiped before it is freed: it holds the instance's
 * RPC key and its own broker password). May not log any of it.
 */
#include <nettle/base64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/text_buffer.h"
#include "compute/guest_bus_tls.h"
#include "compute/guest_conf.h"
#include "compute/nova_internal.h"

#define GUEST_DIR "/etc/ctrove"
#define CA_MAX	  (1024 * 1024)

static char *base64(const char *data, size_t len)
{
	char *out = malloc(BASE64_ENCODE_RAW_LENGTH(len) + 1);
	if (!out)
		return NULL;
	base64_encode_raw(out, len, (const uint8_t *)data);
	out[BASE64_ENCODE_RAW_LENGTH(len)] = '\0';
	return out;
}

static void wipe_free(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

static char *read_ca(const char *path, size_t *len, struct ct_error *err)
{
	FILE *in = fopen(path, "rbe");
	char *buf = in ? malloc(CA_MAX + 1) : NULL;
	size_t n = buf ? fread(buf, 1, CA_MAX, in) : 0;
	bool whole = buf && feof(in) && !ferror(in);
	if (in)
		fclose(in);
	if (!whole) {
		free(buf);
		ct_fail(err, 500, "ssl_ca_file %s is unreadable or over 1 MiB", path);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static char *guest_conf(const struct compute_spec *s, bool tls, struct ct_error *err)
{
	struct text_buffer b;
	text_buffer_init(&b, 4096); /* no realloc: no stray copy of the key */
	char defaults[4096];
	if (guest_conf_defaults(s, "nova", cfg_int(CFG_REPORT_INTERVAL), defaults, sizeof defaults,
				err)) {
		text_buffer_free(&b);
		return NULL;
	}
	text_buffer_printf(&b,
			   "%s"
			   "device_path = %s\n"
			   "\n[guest_agent]\n"
			   "data_dir = %s\n"
			   "mount_device = true\n"
			   "bind_address = 0.0.0.0\n"
			   "memory_mb = %ld\n",
			   defaults, cfg_str(CFG_DEVICE_PATH), cfg_str(CFG_NOVA_GUEST_MOUNT_POINT),
			   s->memory_mb);
	explicit_bzero(defaults, sizeof defaults);
	if (tls)
		text_buffer_puts(&b,
				 "\n[oslo_messaging_rabbit]\nssl = true\nssl_ca_file = " GUEST_DIR
				 "/bus-ca.pem\n");
	size_t len;
	char *text = text_buffer_take(&b, &len);
	if (!text)
		ct_fail(err, 500, "out of memory");
	return text;
}

static int add_file(json_t *files, const char *path, const char *mode, const char *content,
		    struct ct_error *err)
{
	char *b64 = base64(content, strlen(content));
	json_t *f = b64 ? json_pack("{s:s,s:s,s:s,s:s,s:s}", "path", path, "permissions", mode,
				    "owner", "root:root", "encoding", "b64", "content", b64)
			: NULL;
	wipe_free(b64);
	if (!f || json_array_append_new(files, f))
		return ct_fail(err, 500, "out of memory");
	return 0;
}

char *nova_user_data(const struct compute_spec *s, const char *address, struct ct_error *err)
{
	(void)address; /* the guest listens on every address of its VM */
	if (!s->transport_url || !*s->transport_url) {
		ct_fail(err, 500, "the guest has no transport URL of its own");
		return NULL;
	}
	const char *ca_file;
	if (guest_bus_tls_ca_file(s->transport_url, &ca_file, err))
		return NULL;
	char *conf = guest_conf(s, ca_file != NULL, err);
	if (!conf)
		return NULL;
	json_t *files = json_array();
	int rc = files ? add_file(files, GUEST_DIR "/guest.conf", "0600", conf, err)
		       : ct_fail(err, 500, "out of memory");
	wipe_free(conf);
	if (!rc && ca_file) {
		size_t len;
		char *ca = read_ca(ca_file, &len, err);
		rc = ca ? add_file(files, GUEST_DIR "/bus-ca.pem", "0644", ca, err) : -1;
		free(ca);
	}
	json_t *doc = rc ? NULL : json_pack("{s:o}", "write_files", files);
	if (rc)
		json_decref(files);
	char *json = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!json) {
		if (!rc)
			ct_fail(err, 500, "out of memory");
		return NULL;
	}
	struct text_buffer b;
	text_buffer_init(&b, strlen(json) + 32);
	text_buffer_printf(&b, "#cloud-config\n%s\n", json);
	wipe_free(json);
	size_t len = 0;
	char *text = text_buffer_take(&b, &len);
	char *out = text ? base64(text, len) : NULL;
	wipe_free(text);
	if (!out)
		ct_fail(err, 500, "out of memory");
	return out;
}
