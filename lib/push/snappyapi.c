/* snappyapi.c - libsnappy loaded on first use (see snappyapi.h). */
#include "push/snappyapi.h"
#include "common/dynlib.h"

#define SYM(member, name) DYNLIB_SYM(struct snappyapi, member, name)

static const struct dynlib_sym symbols[] = {
	SYM(compress, "snappy_compress"),
	SYM(max_compressed_length, "snappy_max_compressed_length"),
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
