/*
 * curlapi.h - the libcurl functions the push stage calls, as a table, so a
 * program can either link libcurl or load it only when it needs it.
 *
 * promrun-push links libcurl (curlapi_linked).  promrun-record sends a run
 * to a receiver only with --server, and must start as fast as /bin/true
 * otherwise: a program linked with libcurl spends several milliseconds
 * more in the dynamic loader before main(), on every run (libcurl brings
 * some 30 libraries: TLS, SSH, LDAP, IDN, HTTP/2, Kerberos; PERFORMANCE.md
 * has the figures).  So it loads libcurl with
 * dlopen on the first post instead (curlapi_load), as systemd does for its
 * optional libraries, and the local path never pays for it.
 *
 * Every call in lib/push goes through a table, whichever way it was
 * filled, so there is one code path for both.  The members' types are the
 * header's own (__typeof__), so the table follows <curl/curl.h> exactly,
 * const qualifiers of later versions included.
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
 * curlapi_linked: the table of the libcurl the program is linked with.
 * Only a program that links libcurl may call it (it lives in its own
 * object, curlapi_linked.c, which references libcurl's symbols).
 */
const struct curlapi *curlapi_linked(void);

/*
 * curlapi_load: load CURLAPI_SONAME with dlopen on the first call and fill
 * the table from it with dlsym; later calls return the same table.  The
 * library stays loaded until the program exits.  Returns 0 with *out set,
 * or PERR_IO naming the library and dlerror's reason (not installed, or a
 * function missing).
 */
int curlapi_load(const struct curlapi **out, struct perr *e);

#endif
