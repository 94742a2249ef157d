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
size_t pb_varint_size(uint64_t v);

#endif
