/*
 * openstack_check.c — `ctrove openstack-check`: authenticate with
 * [service_credentials] and print, as JSON, the project the token is scoped to
 * and the catalog endpoints the nova driver uses — how an operator (and
 * tests/openstack) checks the credentials before starting the control plane.
 *
 * Owns its one session. Prints no token and no password.
 */
#include "cmd/openstack_check.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "openstack/service_session.h"

int openstack_check_main(void)
{
	struct ct_error err = {0};
	struct os_session *s = os_service_session_new(&err);
	if (!s) {
		fprintf(stderr, "error: %s\n", err.message);
		return 1;
	}
	static const char *const types[] = {"identity", "compute", "image", "volumev3", "network"};
	json_t *endpoints = json_object();
	char project[256], url[1024], token[16];
	int rc = os_session_project_id(s, project, sizeof project, &err);
	for (size_t i = 0; !rc && i < sizeof types / sizeof types[0]; i++) {
		struct ct_error missing = {0};
		if (!os_session_endpoint(s, types[i], url, sizeof url, &missing))
			json_object_set_new(endpoints, types[i], json_string(url));
	}
	/* A buffer too small for any token: proves the length check, copies nothing. */
	struct ct_error small = {0};
	bool token_refused = !rc && os_session_token(s, token, sizeof token, &small) != 0;
	if (rc) {
		fprintf(stderr, "error: %s\n", err.message);
	} else {
		json_t *out = json_pack("{s:s,s:o,s:b}", "project_id", project, "endpoints",
					endpoints, "small_token_buffer_refused", token_refused);
		endpoints = NULL;
		char *text = out ? json_dumps(out, JSON_INDENT(2)) : NULL;
		if (text)
			puts(text);
		free(text);
		json_decref(out);
		rc = text ? 0 : 1;
	}
	json_decref(endpoints);
	os_session_free(s);
	return rc ? 1 : 0;
}
