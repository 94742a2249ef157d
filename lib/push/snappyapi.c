/* snappyapi.c - libsnappy loaded on first use (see snappyapi.h). */
#include "push/snappyapi.h"
#include "common/dynlib.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SYM(member, name) DYNLIB_SYM(struct snappyapi, member, name)

static const struct dynlib_sym symbols[] = {
	SYM(compress, "snappy_compress"),
	SYM(max_compressed_length, "snappy_max_compressed_length"),
	SYM(uncompress, "snappy_uncompress"),
	SYM(uncompressed_length, "snappy_uncompressed_length"),
};

static struct snappyapi table;
static struct dynlib libsnappy = DYNLIB_INIT(SNAPPYAPI_SONAME, "libsnappy",
    "libsnappy1v5", symbols, &table);

int
snappyapi_load(const struct snappyapi **out, struct perr *e)
{
	int rc;

	if ((rc = dynlib_get(&libsnappy, e)) == 0)
		*out = &table;
	return rc;
}

/* Bytes kept in front of the block for its length: a varint of 32 bits. */
#define LEN_ROOM 5

int
snappy_stream_begin(struct snappy_stream *s, size_t max_input,
    struct perr *e)
{
	size_t pieces = max_input / SNAPPY_PIECE + 1;

	memset(s, 0, sizeof(*s));
	s->max = max_input;
	/* Each piece's bound, as libsnappy's for SNAPPY_PIECE, with room. */
	buf_init(&s->out, LEN_ROOM + max_input + max_input / 6 + 32 * pieces +
	    SNAPPY_PIECE / 6 + 32);
	return snappyapi_load(&s->api, e);
}

char *
snappy_stream_room(struct snappy_stream *s, size_t n)
{
	size_t cap;
	char *grown;

	if (n > s->max - s->total)
		return NULL;
	if (s->used + n > s->cap) {
		cap = s->used + n > SNAPPY_PIECE + 4096 ? s->used + n :
		    SNAPPY_PIECE + 4096;
		if ((grown = realloc(s->in, cap)) == NULL)
			return NULL;
		s->in = grown;
		s->cap = cap;
	}
	return s->in + s->used;
}

/* in[0..n) compressed onto out, without the length snappy puts first. */
static int
compress(struct snappy_stream *s, const char *in, size_t n)
{
	size_t start, len, skip = 0;
	char *space;
	int rc;

	if (s->out.len == 0 && (rc = buf_extend(&s->out, LEN_ROOM, &space)) != 0)
		return rc;
	if (n == 0)
		return 0;
	start = s->out.len;
	len = s->api->max_compressed_length(n);
	if ((rc = buf_extend(&s->out, len, &space)) != 0)
		return rc;
	if (s->api->compress(in, n, space, &len) != SNAPPY_OK) {
		buf_free(&s->out);
		return PERR_NOMEM;
	}
	while (skip < len && (unsigned char)space[skip++] & 0x80)
		;
	memmove(space, space + skip, len - skip);
	buf_truncate(&s->out, start + len - skip);
	return 0;
}

int
snappy_stream_wrote(struct snappy_stream *s, size_t n)
{
	size_t off = 0;
	int rc;

	s->used += n;
	s->total += n;
	for (; s->used - off >= SNAPPY_PIECE; off += SNAPPY_PIECE)
		if ((rc = compress(s, s->in + off, SNAPPY_PIECE)) != 0)
			return rc;
	if (off > 0) {
		memmove(s->in, s->in + off, s->used - off);
		s->used -= off;
	}
	return 0;
}

int
snappy_stream_add(struct snappy_stream *s, const void *data, size_t n)
{
	const char *p = data;
	size_t part;
	char *room;
	int rc;

	/* A piece at a time: large data need not be held whole. */
	while (n > 0) {
		part = n < SNAPPY_PIECE ? n : SNAPPY_PIECE;
		if ((room = snappy_stream_room(s, part)) == NULL)
			return part > s->max - s->total ? PERR_LIMIT : PERR_NOMEM;
		memcpy(room, p, part);
		if ((rc = snappy_stream_wrote(s, part)) != 0)
			return rc;
		p += part;
		n -= part;
	}
	return 0;
}

int
snappy_stream_end(struct snappy_stream *s, const char **block, size_t *len)
{
	unsigned char varint[LEN_ROOM];
	size_t total = s->total, n = 0;
	int rc;

	if (s->total > 0xffffffffu)
		return PERR_LIMIT;
	if ((rc = compress(s, s->in, s->used)) != 0)
		return rc;
	s->used = 0;
	do {
		varint[n++] = (unsigned char)((total & 0x7f) |
		    (total > 0x7f ? 0x80 : 0));
		total >>= 7;
	} while (total > 0);
	memcpy(s->out.p + LEN_ROOM - n, varint, n);
	*block = s->out.p + LEN_ROOM - n;
	*len = s->out.len - LEN_ROOM + n;
	return 0;
}

void
snappy_stream_reset(struct snappy_stream *s)
{
	buf_reset(&s->out);
	s->used = 0;
	s->total = 0;
}

void
snappy_stream_free(struct snappy_stream *s)
{
	buf_free(&s->out);
	free(s->in);
	s->in = NULL;
	s->used = s->cap = s->total = 0;
}
