/* curlapi.c - libcurl loaded on first use (see curlapi.h). */
#include "push/curlapi.h"
#include "common/dynlib.h"

#define SYM(member, name) DYNLIB_SYM(struct curlapi, member, name)

static const struct dynlib_sym symbols[] = {
	SYM(global_init, "curl_global_init"),
	SYM(global_cleanup, "curl_global_cleanup"),
	SYM(easy_init, "curl_easy_init"),
	SYM(easy_cleanup, "curl_easy_cleanup"),
	SYM(easy_setopt, "curl_easy_setopt"),
	SYM(easy_perform, "curl_easy_perform"),
	SYM(easy_getinfo, "curl_easy_getinfo"),
	SYM(easy_strerror, "curl_easy_strerror"),
	SYM(slist_append, "curl_slist_append"),
	SYM(slist_free_all, "curl_slist_free_all"),
	SYM(url, "curl_url"),
	SYM(url_set, "curl_url_set"),
	SYM(url_get, "curl_url_get"),
	SYM(url_cleanup, "curl_url_cleanup"),
	SYM(free, "curl_free"),
};

static struct curlapi table;
static struct dynlib libcurl = DYNLIB_INIT(CURLAPI_SONAME, "libcurl",
    "libcurl4", symbols, &table);

int
curlapi_load(const struct curlapi **out, struct perr *e)
{
	int rc;

	if ((rc = dynlib_get(&libcurl, e)) == 0)
		*out = &table;
	return rc;
}
