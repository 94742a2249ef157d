/* dynlib.c - a library loaded on use (see dynlib.h). */
#define _POSIX_C_SOURCE 200809L
#include "common/dynlib.h"

#include <dlfcn.h>
#include <string.h>

/* dlsym returns an object pointer; POSIX guarantees it holds a function's. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
    "function pointers must fit in void *");

static int
load(struct dynlib *d, struct perr *e)
{
	const char *why;
	void *lib, *fn;
	size_t i;
	int rc;

	/*
	 * Lazily: of the thousands of functions the library and its own
	 * (the C++ runtime, Kerberos, nghttp2...) import, a run calls a few
	 * hundred.  Those linked with -z now (libcurl, OpenSSL) bind theirs
	 * at once all the same.
	 */
	if ((lib = dlopen(d->soname, RTLD_LAZY | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		return perr_set(e, PERR_IO, "cannot load %s: %s (install %s)",
		    d->what, why != NULL ? why : d->soname, d->package);
	}
	for (i = 0; i < d->nsyms; i++) {
		if ((fn = dlsym(lib, d->syms[i].name)) == NULL) {
			why = dlerror();
			rc = perr_set(e, PERR_IO, "cannot load %s: %s", d->what,
			    why != NULL ? why : d->syms[i].name);
			dlclose(lib);
			return rc;
		}
		memcpy((char *)d->table + d->syms[i].offset, &fn, sizeof(fn));
	}
	return 0;
}

int
dynlib_get(struct dynlib *d, struct perr *e)
{
	int rc;

	pthread_mutex_lock(&d->lock);
	if (!d->tried) {
		d->rc = load(d, &d->err);
		d->tried = true;
	}
	rc = d->rc;
	pthread_mutex_unlock(&d->lock);
	if (rc != 0 && e != NULL)
		*e = d->err;
	return rc;
}
