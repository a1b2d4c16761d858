/*
 * curl_library.h — libcurl, loaded with dlopen() the first time something
 * speaks HTTP to another service (a Swift store, an OpenStack API), so that
 * processes that never do (every guest agent on the local store, and each of
 * its short-lived workers) do not map libcurl and the two dozen libraries it
 * pulls in (GnuTLS, Kerberos, LDAP, ...): that cost each guest agent 4 MiB of
 * RSS and its workers a slower exec.
 *
 * Owns the table of the curl functions its users call as ctcurl.<name>(...)
 * after curl_library_load() succeeded. May not know anything about Swift or
 * OpenStack.
 */
#ifndef CT_COMMON_CURL_LIBRARY_H
#define CT_COMMON_CURL_LIBRARY_H

#include <curl/curl.h>

#include "common/error.h"

struct curl_library {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *curl);
	CURLcode (*easy_pause)(CURL *curl, int bitmask);
	CURLcode (*easy_perform)(CURL *curl);
	CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
	CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode code);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *multi, CURL *curl);
	CURLMcode (*multi_remove_handle)(CURLM *multi, CURL *curl);
	CURLMcode (*multi_cleanup)(CURLM *multi);
	CURLMsg *(*multi_info_read)(CURLM *multi, int *msgs_in_queue);
	CURLMcode (*multi_perform)(CURLM *multi, int *running_handles);
	CURLMcode (*multi_poll)(CURLM *multi, struct curl_waitfd extra_fds[],
				unsigned int extra_nfds, int timeout_ms, int *numfds);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *string);
	void (*slist_free_all)(struct curl_slist *list);
};

/* Filled by curl_library_load(); read-only afterwards. */
extern struct curl_library ctcurl;

/* Loads libcurl once (thread-safe) and runs curl_global_init; 500 naming the
 * Debian package when it is missing. Every later call is free. */
int curl_library_load(struct ct_error *err);

#endif
