/* pb.c - the protobuf wire format (see pb.h). */
#include "push/pb.h"

#include <string.h>

int
pb_varint(struct buf *b, uint64_t v)
{
	char out[10];

	return buf_add(b, out, (size_t)(pb_put_varint(out, v) - out));
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
	char out[16];

	return buf_add(b, out, (size_t)(pb_put_fixed64(out, field, v) - out));
}

int
pb_double(struct buf *b, unsigned field, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	return pb_fixed64(b, field, bits);
}
