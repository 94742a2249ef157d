/*
 * snappyapi.h - the libsnappy functions promrun-push calls (remote
 * write's requests, the state files of remote write and OTLP), as a table
 * filled from libsnappy loaded with dlopen (dynlib.h) when first needed.
 *
 * libsnappy is C++: linked, it would have the dynamic loader load and
 * relocate the C++ runtime (libstdc++, libgcc_s) before main() on every
 * run of promrun-push, a millisecond or more, whatever the run sends.
 * Loaded with dlopen, only pushes to an endpoint pay, and promrun-push
 * loads it on a thread while it reads its input (push_client_begin).  Its
 * C API, snappy-c.h, is the whole of what is used.
 */
#ifndef PROMRUN_SNAPPYAPI_H
#define PROMRUN_SNAPPYAPI_H

#include <snappy-c.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

/* The soname loaded: Debian's libsnappy1v5. */
#define SNAPPYAPI_SONAME "libsnappy.so.1"

struct snappyapi {
	__typeof__(&snappy_compress) compress;
	__typeof__(&snappy_max_compressed_length) max_compressed_length;
	__typeof__(&snappy_uncompress) uncompress;
	__typeof__(&snappy_uncompressed_length) uncompressed_length;
};

/*
 * snappyapi_load: load SNAPPYAPI_SONAME on the first call and fill the
 * table from it; later calls, from any thread, return the same table
 * (dynlib_get).  Returns 0 with *out set, or PERR_IO naming the library
 * and dlerror's reason.
 */
int snappyapi_load(const struct snappyapi **out, struct perr *e);

/*
 * A snappy block made while its input is written, the input never held
 * whole: it is written in place (snappy_stream_room, then
 * snappy_stream_wrote), and each 64 KiB piece compressed as it fills, in
 * memory that stays in the cache.  libsnappy compresses its input in
 * pieces of that size, each on its own (a fresh table, copies only within
 * the piece), so the pieces' output after one length is the block
 * snappy_compress makes of the whole, byte for byte (test-remote checks
 * it against the library); any snappy reader takes it in any case.
 */
#define SNAPPY_PIECE 65536

struct snappy_stream {
	const struct snappyapi *api;
	struct buf out;		/* room for the length, then the pieces' */
	char *in;		/* the input not compressed yet */
	size_t used, cap;	/* bytes of it, and its room */
	size_t total;		/* bytes of input so far */
	size_t max;		/* of input in all */
};

/*
 * snappy_stream_begin: an empty stream for at most max_input bytes of
 * input (a snappy block holds at most 4 GiB), and libsnappy loaded
 * (snappyapi_load).  Returns 0 or snappyapi_load's PERR_IO.
 * snappy_stream_free in every case.
 */
int snappy_stream_begin(struct snappy_stream *s, size_t max_input,
    struct perr *e);

/*
 * snappy_stream_room: where the next n bytes of input are to be written;
 * NULL when out of memory or past max_input.  snappy_stream_wrote: they
 * were written (n at most what room was asked for): the pieces filled are
 * compressed.  snappy_stream_add: both, for data at hand (PERR_LIMIT past
 * max_input).  Returns 0 or PERR_NOMEM.
 */
char *snappy_stream_room(struct snappy_stream *s, size_t n);
int snappy_stream_wrote(struct snappy_stream *s, size_t n);
int snappy_stream_add(struct snappy_stream *s, const void *data, size_t n);

/*
 * snappy_stream_end: the block of the input written (its last piece
 * compressed, its length put in front): *block and *len, valid until the
 * stream is reset or freed.  The appends' errors.
 */
int snappy_stream_end(struct snappy_stream *s, const char **block,
    size_t *len);

/* snappy_stream_reset: empty again, for another block, keeping memory. */
void snappy_stream_reset(struct snappy_stream *s);

/* snappy_stream_free: release the memory; reset after, it may be used. */
void snappy_stream_free(struct snappy_stream *s);

#endif
