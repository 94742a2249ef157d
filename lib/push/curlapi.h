/*
 * curlapi.h - the libcurl functions the push stage calls, as a table
 * filled from libcurl loaded with dlopen (dynlib.h) when a program first
 * needs it.
 *
 * No program links libcurl: it brings some 30 libraries (TLS, SSH, LDAP,
 * IDN, HTTP/2, Kerberos) that the dynamic loader would load and relocate
 * before main() on every run, several milliseconds (PERFORMANCE.md has the
 * figures).  promrun-record sends a run to a receiver only with --server,
 * and must start as fast as /bin/true otherwise: it loads libcurl on the
 * first post.  promrun-push always sends, but loads libcurl on a thread
 * while it reads and checks its input (push_client_begin), rather than
 * before it.  Debian's packages are the libraries: nothing of them is
 * copied in.
 */
#ifndef PROMRUN_CURLAPI_H
#define PROMRUN_CURLAPI_H

#include <curl/curl.h>

#include "common/err.h"

/* The soname loaded: libcurl's ABI has been version 4 since 2006. */
#define CURLAPI_SONAME "libcurl.so.4"

struct curlapi {
	__typeof__(&curl_global_init) global_init;
	__typeof__(&curl_global_cleanup) global_cleanup;
	__typeof__(&curl_easy_init) easy_init;
	__typeof__(&curl_easy_cleanup) easy_cleanup;
	__typeof__(&curl_easy_setopt) easy_setopt;
	__typeof__(&curl_easy_perform) easy_perform;
	__typeof__(&curl_easy_getinfo) easy_getinfo;
	__typeof__(&curl_easy_strerror) easy_strerror;
	__typeof__(&curl_slist_append) slist_append;
	__typeof__(&curl_slist_free_all) slist_free_all;
	__typeof__(&curl_url) url;
	__typeof__(&curl_url_set) url_set;
	__typeof__(&curl_url_get) url_get;
	__typeof__(&curl_url_cleanup) url_cleanup;
	__typeof__(&curl_free) free;
};

/*
 * curlapi_load: load CURLAPI_SONAME with dlopen on the first call and fill
 * the table from it; later calls, from any thread, return the same table
 * (dynlib_get).  The library stays loaded until the program exits.
 * Returns 0 with *out set, or PERR_IO naming the library and dlerror's
 * reason (not installed, or a function missing).
 */
int curlapi_load(const struct curlapi **out, struct perr *e);

#endif
