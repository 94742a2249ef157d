/*
 * snappyapi.h - the libsnappy functions remote write calls, as a table
 * filled from libsnappy loaded with dlopen (dynlib.h) when first needed.
 *
 * libsnappy is C++: linked, it would have the dynamic loader load and
 * relocate the C++ runtime (libstdc++, libgcc_s) before main() on every
 * run of promrun-push, a millisecond or more, whatever the run sends.
 * Loaded with dlopen, only remote write pays, and promrun-push loads it on
 * a thread while it reads its input (push_client_begin).  Its C API,
 * snappy-c.h, is the whole of what is used.
 */
#ifndef PROMRUN_SNAPPYAPI_H
#define PROMRUN_SNAPPYAPI_H

#include <snappy-c.h>

#include "common/err.h"

/* The soname loaded: Debian's libsnappy1v5. */
#define SNAPPYAPI_SONAME "libsnappy.so.1"

struct snappyapi {
	__typeof__(&snappy_compress) compress;
	__typeof__(&snappy_max_compressed_length) max_compressed_length;
};

/*
 * snappyapi_load: load SNAPPYAPI_SONAME on the first call and fill the
 * table from it; later calls, from any thread, return the same table
 * (dynlib_get).  Returns 0 with *out set, or PERR_IO naming the library
 * and dlerror's reason.
 */
int snappyapi_load(const struct snappyapi **out, struct perr *e);

#endif
