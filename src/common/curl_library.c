/*
 * curl_library.c — libcurl through dlopen() (curl_library.h says why).
 * Owns the one handle and the function table; never unloads them.
 */
#include "common/curl_library.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

struct curl_library ctcurl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static bool loaded;	     /* written once, under load_once */
static char load_error[256]; /* why not, when !loaded */

static void load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(load_error, sizeof load_error, "%s", dlerror());
		return;
	}
	struct {
		const char *name;
		void **slot;
	} const symbols[] = {
		{"curl_global_init", (void **)&ctcurl.global_init},
		{"curl_easy_init", (void **)&ctcurl.easy_init},
		{"curl_easy_cleanup", (void **)&ctcurl.easy_cleanup},
		{"curl_easy_pause", (void **)&ctcurl.easy_pause},
		{"curl_easy_perform", (void **)&ctcurl.easy_perform},
		{"curl_easy_setopt", (void **)&ctcurl.easy_setopt},
		{"curl_easy_getinfo", (void **)&ctcurl.easy_getinfo},
		{"curl_easy_strerror", (void **)&ctcurl.easy_strerror},
		{"curl_multi_init", (void **)&ctcurl.multi_init},
		{"curl_multi_add_handle", (void **)&ctcurl.multi_add_handle},
		{"curl_multi_remove_handle", (void **)&ctcurl.multi_remove_handle},
		{"curl_multi_cleanup", (void **)&ctcurl.multi_cleanup},
		{"curl_multi_info_read", (void **)&ctcurl.multi_info_read},
		{"curl_multi_perform", (void **)&ctcurl.multi_perform},
		{"curl_multi_poll", (void **)&ctcurl.multi_poll},
		{"curl_slist_append", (void **)&ctcurl.slist_append},
		{"curl_slist_free_all", (void **)&ctcurl.slist_free_all},
	};
	for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
		*symbols[i].slot = dlsym(h, symbols[i].name);
		if (!*symbols[i].slot) {
			snprintf(load_error, sizeof load_error, "libcurl.so.4 has no %s",
				 symbols[i].name);
			return;
		}
	}
	if (ctcurl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(load_error, sizeof load_error, "curl_global_init failed");
		return;
	}
	loaded = true;
}

int curl_library_load(struct ct_error *err)
{
	pthread_once(&load_once, load);
	if (!loaded)
		return ct_fail(err, 500,
			       "Talking to Swift or OpenStack needs libcurl (Debian package "
			       "libcurl4): %s.",
			       load_error);
	return 0;
}
