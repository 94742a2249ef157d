/*
 * curlapi_linked.c - the table of the libcurl a program is linked with
 * (see curlapi.h).  Its own object: linking it links libcurl, and only a
 * program that calls curlapi_linked pulls it in from the archive.
 */
#include "push/curlapi.h"

static const struct curlapi linked = {
	.global_init = curl_global_init,
	.global_cleanup = curl_global_cleanup,
	.easy_init = curl_easy_init,
	.easy_cleanup = curl_easy_cleanup,
	.easy_setopt = curl_easy_setopt,
	.easy_perform = curl_easy_perform,
	.easy_getinfo = curl_easy_getinfo,
	.easy_strerror = curl_easy_strerror,
	.slist_append = curl_slist_append,
	.slist_free_all = curl_slist_free_all,
	.url = curl_url,
	.url_set = curl_url_set,
	.url_get = curl_url_get,
	.url_cleanup = curl_url_cleanup,
	.free = curl_free,
};

const struct curlapi *
curlapi_linked(void)
{
	return &linked;
}
