/*
 * expfmt-verdict - test helper: promrun's verdict on many exposition-format
 * inputs in one process, for test/tools/expfmt-edges.py to set beside the
 * real Pushgateway's, promtool's and python3-prometheus-client's.
 *
 * usage: expfmt-verdict < ROWS
 *
 * ROWS is a sequence of "LEN\n" followed by LEN bytes of exposition text
 * (any bytes: NUL, CR and unterminated lines included).  For each row one
 * line is printed:
 *
 *   PUSH GENERIC MESSAGE
 *
 * PUSH is push_validate's code (what promrun-push decides before sending,
 * with job "t", no other grouping label, and PUSH_ALLOW_EMPTY: whether an
 * input may be empty is promrun-push's policy, not the format), GENERIC is
 * expfmt_parse's with timestamps accepted (what the format allows), 0 for
 * accepted; MESSAGE is push_validate's error, or "-".  Exit 0, or 1 on
 * malformed ROWS or an I/O error.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "metrics/expfmt.h"
#include "push/push.h"

#define ROW_MAX (1u << 20)

/* Read one "LEN\n" header; false at the end of the input. */
static int
read_length(size_t *len)
{
	unsigned long long n;
	int c;

	if ((c = getchar()) == EOF)
		return 0;
	ungetc(c, stdin);
	if (scanf("%llu", &n) != 1 || getchar() != '\n' || n > ROW_MAX)
		return -1;
	*len = (size_t)n;
	return 1;
}

static int
verdict(const char *row, size_t len, const struct push_group *g)
{
	char *copy = malloc(len + 1);
	struct perr e, eg;
	int push, generic;

	if (copy == NULL)
		return -1;
	memcpy(copy, row, len);
	perr_clear(&e);
	perr_clear(&eg);
	push = push_validate(row, len, "row", g, PUSH_ALLOW_EMPTY, &e);
	generic = expfmt_parse(copy, len, "row", 0, NULL, NULL, &eg);
	free(copy);
	return printf("%d %d %s\n", push, generic, push != 0 ? e.msg : "-") <
	    0 ? -1 : 0;
}

int
main(void)
{
	struct push_group g;
	char *row = malloc(ROW_MAX + 1);
	size_t len;
	int more;

	push_group_init(&g, "t");
	if (row == NULL)
		return 1;
	while ((more = read_length(&len)) == 1) {
		if (fread(row, 1, len, stdin) != len || verdict(row, len, &g) != 0)
			break;
	}
	free(row);
	if (more != 0 || ferror(stdin) || fflush(stdout) != 0) {
		fprintf(stderr, "expfmt-verdict: malformed input or I/O error\n");
		return 1;
	}
	return 0;
}
