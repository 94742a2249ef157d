/* curlapi.c - libcurl loaded on first use (see curlapi.h). */
#define _POSIX_C_SOURCE 200809L
#include "push/curlapi.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* dlsym returns an object pointer; POSIX guarantees it holds a function's. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
    "function pointers must fit in void *");

#define SYMBOL(member, name) {name, offsetof(struct curlapi, member)}

static const struct {
	const char *name;
	size_t offset;
} symbols[] = {
	SYMBOL(global_init, "curl_global_init"),
	SYMBOL(global_cleanup, "curl_global_cleanup"),
	SYMBOL(easy_init, "curl_easy_init"),
	SYMBOL(easy_cleanup, "curl_easy_cleanup"),
	SYMBOL(easy_setopt, "curl_easy_setopt"),
	SYMBOL(easy_perform, "curl_easy_perform"),
	SYMBOL(easy_getinfo, "curl_easy_getinfo"),
	SYMBOL(easy_strerror, "curl_easy_strerror"),
	SYMBOL(slist_append, "curl_slist_append"),
	SYMBOL(slist_free_all, "curl_slist_free_all"),
	SYMBOL(url, "curl_url"),
	SYMBOL(url_set, "curl_url_set"),
	SYMBOL(url_get, "curl_url_get"),
	SYMBOL(url_cleanup, "curl_url_cleanup"),
	SYMBOL(free, "curl_free"),
};

int
curlapi_load(const struct curlapi **out, struct perr *e)
{
	static struct curlapi loaded;
	static bool done;
	const char *why;
	void *lib, *fn;
	size_t i;

	if (done) {
		*out = &loaded;
		return 0;
	}
	if ((lib = dlopen(CURLAPI_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		return perr_set(e, PERR_IO, "cannot load libcurl: %s (install "
		    "libcurl4)", why != NULL ? why : CURLAPI_SONAME);
	}
	for (i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
		if ((fn = dlsym(lib, symbols[i].name)) == NULL) {
			why = dlerror();
			dlclose(lib);
			return perr_set(e, PERR_IO, "cannot load libcurl: %s",
			    why != NULL ? why : symbols[i].name);
		}
		memcpy((char *)&loaded + symbols[i].offset, &fn, sizeof(fn));
	}
	done = true;
	*out = &loaded;
	return 0;
}
