/* pb.c - the protobuf wire format (see pb.h). */
#include "push/pb.h"

#include <string.h>

int
pb_varint(struct buf *b, uint64_t v)
{
	char out[10];
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (char)((v & 0x7f) | 0x80);
		v >>= 7;
	}
	out[n++] = (char)v;
	return buf_add(b, out, n);
}

size_t
pb_varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

int
pb_tag(struct buf *b, unsigned field, enum pb_wire w)
{
	return pb_varint(b, ((uint64_t)field << 3) | (uint64_t)w);
}

int
pb_len(struct buf *b, unsigned field, const void *data, size_t len)
{
	int rc;

	if ((rc = pb_tag(b, field, PB_LEN)) != 0 ||
	    (rc = pb_varint(b, len)) != 0)
		return rc;
	return len > 0 ? buf_add(b, data, len) : 0;
}

int
pb_fixed64(struct buf *b, unsigned field, uint64_t v)
{
	char out[8];
	int i, rc;

	for (i = 0; i < 8; i++)
		out[i] = (char)(v >> (8 * i));
	if ((rc = pb_tag(b, field, PB_FIXED64)) != 0)
		return rc;
	return buf_add(b, out, sizeof(out));
}

int
pb_double(struct buf *b, unsigned field, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	return pb_fixed64(b, field, bits);
}
