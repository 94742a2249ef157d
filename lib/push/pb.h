/*
 * pb.h - the protobuf wire format, written: the four encodings the
 * messages of remote write (prompb) and OTLP (metrics.proto) need, each
 * appending to a buffer (buf.h).  A message is written by one function per
 * message type, fields in field-number order, as protoc's encoders do; a
 * nested message is written into its own buffer first and appended with
 * pb_len, since its length comes before it on the wire.
 *
 * Field numbers are 1..2^29-1; a varint takes 1 to 10 bytes, little-endian
 * groups of 7 bits with the high bit marking "more"; fixed64 is 8 bytes
 * little-endian.  Each returns 0 or buf.h's error (PERR_LIMIT past the
 * buffer's cap, PERR_NOMEM), after which the buffer is empty (buf.h).
 */
#ifndef PROMRUN_PB_H
#define PROMRUN_PB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"

enum pb_wire {
	PB_VARINT = 0,		/* int32, int64, uint64, bool, enum */
	PB_FIXED64 = 1,		/* fixed64, double */
	PB_LEN = 2,		/* string, bytes, messages, packed repeated */
};

/* pb_varint: v as a varint (negative int64s as their two's complement). */
int pb_varint(struct buf *b, uint64_t v);

/* pb_tag: the key of field number field with wire type w. */
int pb_tag(struct buf *b, unsigned field, enum pb_wire w);

/* pb_len: field as length-delimited: tag, varint length, the len bytes. */
int pb_len(struct buf *b, unsigned field, const void *data, size_t len);

/* pb_fixed64: field as 8 little-endian bytes of v (tag included). */
int pb_fixed64(struct buf *b, unsigned field, uint64_t v);

/* pb_double: field as the IEEE 754 bits of v, by pb_fixed64. */
int pb_double(struct buf *b, unsigned field, double v);

/* pb_varint_size: how many bytes pb_varint writes for v (1 to 10). */
static inline size_t
pb_varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/*
 * The same encodings written at p, for a message whose size was worked
 * out first and room made for it at once (buf_extend): each returns the
 * end of what it wrote, and the caller answers for the room (the sizes:
 * pb_varint_size; a tag of a field below 16 is one byte; pb_put_len
 * writes tag, length and data; pb_put_double tag and 8 bytes).  These and
 * pb_varint_size are inline: a remote-write request is a dozen of them
 * per series.
 */
static inline char *
pb_put_varint(char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (char)((v & 0x7f) | 0x80);
		v >>= 7;
	}
	*p++ = (char)v;
	return p;
}

static inline char *
pb_put_tag(char *p, unsigned field, enum pb_wire w)
{
	return pb_put_varint(p, ((uint64_t)field << 3) | (uint64_t)w);
}

static inline char *
pb_put_len(char *p, unsigned field, const void *data, size_t len)
{
	p = pb_put_varint(pb_put_tag(p, field, PB_LEN), len);
	if (len > 0)
		memcpy(p, data, len);
	return p + len;
}

static inline char *
pb_put_fixed64(char *p, unsigned field, uint64_t v)
{
	int i;

	p = pb_put_tag(p, field, PB_FIXED64);
	for (i = 0; i < 8; i++)
		*p++ = (char)(v >> (8 * i));
	return p;
}

static inline char *
pb_put_double(char *p, unsigned field, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	return pb_put_fixed64(p, field, bits);
}

#endif
