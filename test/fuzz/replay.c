/*
 * replay.c - run the fuzz target over saved inputs without libFuzzer, so
 * "make check" replays the corpus under gcc (and under ASan/UBSan with
 * SANITIZE=1).
 *
 * usage: fuzz-replay FILE...
 * Prints "N inputs, P parsed and printed back to the same tree"; a broken
 * property aborts inside the target.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/buf.h"
#include "promql/parse.h"
#include "rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	struct pq_expr *x;
	struct perr e;
	struct buf b;
	size_t parsed = 0, pos;
	int i;

	for (i = 1; i < argc; i++) {
		if (rules_read_file(argv[i], 16 * PQ_EXPR_MAX, &b, &e) != 0) {
			fprintf(stderr, "fuzz-replay: %s\n", e.msg);
			return 2;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)b.p, b.len);
		if (pq_parse(b.p, b.len, &x, &pos, &e) == 0) {
			parsed++;
			pq_expr_free(x);
		}
		buf_free(&b);
	}
	printf("%d inputs, %zu parsed and printed back to the same tree\n",
	    argc - 1, parsed);
	return 0;
}
