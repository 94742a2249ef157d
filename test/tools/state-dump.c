/*
 * state-dump - test helper: promrun-push's state file for a destination,
 * of either version, as version 1's text (state_dump), which the tests
 * read with grep and awk.
 *
 * usage: state-dump FILE
 *
 * Prints "promrun-push-state 1 DESTINATION", then a line
 * "TIMESTAMP_MS START_MS VALUE KEY" per series, VALUE as 16 hex digits.
 * Exit 0; 1 with the error on standard error when the file cannot be read
 * or is damaged; 2 for a usage error.
 */
#include <stdio.h>

#include "common/buf.h"
#include "common/err.h"
#include "push/state.h"

int
main(int argc, char **argv)
{
	struct buf out = BUF_INIT(STATE_MAX_FILE * 2u);
	struct perr e;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: state-dump FILE\n");
		return 2;
	}
	if ((rc = state_dump(argv[1], &out, &e)) != 0) {
		fprintf(stderr, "state-dump: %s\n", e.msg);
		buf_free(&out);
		return 1;
	}
	fwrite(out.p != NULL ? out.p : "", 1, out.len, stdout);
	buf_free(&out);
	return 0;
}
