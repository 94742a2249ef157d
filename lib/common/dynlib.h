/*
 * dynlib.h - a shared library loaded with dlopen when a program first
 * needs it, its functions looked up into a table of pointers (curlapi.h,
 * snappyapi.h).
 *
 * Why: a library linked into a program is loaded and relocated by the
 * dynamic loader before main() on every run, whether the run uses it or
 * not, and before the program can do anything else.  Loaded with dlopen,
 * it costs only the runs that use it, and those can load it on a thread
 * while they do other work (promrun-push reads its input meanwhile).
 *
 * A table's members are the header's own function types (__typeof__), so
 * calls through it are checked as calls to the library itself.
 */
#ifndef PROMRUN_DYNLIB_H
#define PROMRUN_DYNLIB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/* One function of a table: its name and the member it fills. */
struct dynlib_sym {
	const char *name;
	size_t offset;		/* offsetof(table type, member) */
};

#define DYNLIB_SYM(type, member, name) {name, offsetof(type, member)}

/* A library and its table, loaded at most once (a static of its module). */
struct dynlib {
	const char *soname;	/* "libcurl.so.4" */
	const char *what;	/* "libcurl", in messages */
	const char *package;	/* "libcurl4": what to install */
	const struct dynlib_sym *syms;
	size_t nsyms;
	void *table;
	pthread_mutex_t lock;
	bool tried;
	int rc;			/* the load's outcome, and its message: */
	struct perr err;
};

#define DYNLIB_INIT(soname, what, package, syms, table) \
	{(soname), (what), (package), (syms), \
	    sizeof(syms) / sizeof((syms)[0]), (table), \
	    PTHREAD_MUTEX_INITIALIZER, false, 0, {PERR_OK, 0, ""}}

/*
 * dynlib_get: on the first call, dlopen d's library (its functions bound
 * when first called, except in libraries linked to bind at once; none
 * made global) and store the address of each of its functions
 * in its table; later calls, from any thread, wait for that one and give
 * its outcome.  The library stays loaded until the program exits.
 * Returns 0; PERR_IO "cannot load WHAT: REASON (install PACKAGE)" when
 * the library cannot be loaded, or "cannot load WHAT: REASON" when a
 * function is missing (the library is then unloaded), REASON dlerror's.
 */
int dynlib_get(struct dynlib *d, struct perr *e);

#endif
