/*
 * test_nova_userdata.c — compute/nova_userdata.c: the user data the nova
 * driver gives a server is base64 of "#cloud-config", a newline and one line
 * of JSON whose write_files carry /etc/ctrove/guest.conf (0600, base64) with
 * the instance's identity, key, own bus login and in-VM paths; a missing bus
 * login is an error, not an agent that cannot connect.
 */
#include "testutil.h"

#include <nettle/base64.h>

#include "common/config.h"
#include "compute/nova_internal.h"

static char *unbase64(const char *in)
{
	struct base64_decode_ctx ctx;
	size_t len = BASE64_DECODE_LENGTH(strlen(in));
	char *out = malloc(len + 1);
	assert_non_null(out);
	base64_decode_init(&ctx);
	assert_true(base64_decode_update(&ctx, &len, (uint8_t *)out, strlen(in), in));
	assert_true(base64_decode_final(&ctx));
	out[len] = '\0';
	return out;
}

static const struct compute_spec spec = {
	.id = "0f3a6b1e-8c3d-4e5f-9a0b-1c2d3e4f5a6b",
	.tenant_id = "p1",
	.manager = "mariadb",
	.datastore_version = "10.11",
	.rpc_key = "k3y-of-the-instance",
	.transport_url = "rabbit://guest_0f3a:s3cret@10.0.0.5:5672/",
	.volume_gb = 1,
	.memory_mb = 2048,
};

static void test_cloud_config_with_guest_conf(void **state)
{
	(void)state;
	cfg_reset();
	struct ct_error err = {0};
	char *data = nova_user_data(&spec, "10.0.0.9", &err);
	assert_non_null(data);
	char *text = unbase64(data);
	assert_int_equal(strncmp(text, "#cloud-config\n", 14), 0);
	/* One line of JSON after it, ending the text. */
	const char *nl = strchr(text + 14, '\n');
	assert_non_null(nl);
	assert_int_equal(nl[1], '\0');
	json_t *doc = json_loads(text + 14, 0, NULL);
	assert_non_null(doc);
	json_t *files = json_object_get(doc, "write_files");
	assert_int_equal(json_array_size(files), 1); /* plain bus: no CA */
	json_t *f = json_array_get(files, 0);
	assert_string_equal(json_string_value(json_object_get(f, "path")),
			    "/etc/ctrove/guest.conf");
	assert_string_equal(json_string_value(json_object_get(f, "permissions")), "0600");
	assert_string_equal(json_string_value(json_object_get(f, "owner")), "root:root");
	assert_string_equal(json_string_value(json_object_get(f, "encoding")), "b64");
	char *conf = unbase64(json_string_value(json_object_get(f, "content")));
	assert_non_null(strstr(conf, "\nguest_id = 0f3a6b1e-8c3d-4e5f-9a0b-1c2d3e4f5a6b\n"));
	assert_non_null(strstr(conf, "\ndatastore_manager = mariadb\n"));
	assert_non_null(strstr(conf, "\ninstance_rpc_encr_key = k3y-of-the-instance\n"));
	assert_non_null(
		strstr(conf, "\ntransport_url = rabbit://guest_0f3a:s3cret@10.0.0.5:5672/\n"));
	assert_non_null(strstr(conf, "\ndevice_path = /dev/vdb\n"));
	assert_non_null(strstr(conf, "\ndata_dir = /var/lib/ctrove/data\n"));
	assert_non_null(strstr(conf, "\nbind_address = 0.0.0.0\n"));
	assert_non_null(strstr(conf, "\nmemory_mb = 2048\n"));
	assert_null(strstr(conf, "oslo_messaging_rabbit"));
	free(conf);
	json_decref(doc);
	free(text);
	free(data);
	cfg_free();
}

static void test_no_bus_login_is_an_error(void **state)
{
	(void)state;
	cfg_reset();
	struct compute_spec s = spec;
	s.transport_url = "";
	struct ct_error err = {0};
	assert_null(nova_user_data(&s, "10.0.0.9", &err));
	assert_int_equal(err.status, 500);
	assert_non_null(strstr(err.message, "transport URL"));
	cfg_free();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cloud_config_with_guest_conf),
		cmocka_unit_test(test_no_bus_login_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
