/*
 * fuzz-utest - libFuzzer target: a promtool unit-test file through
 * promrun-rules test (lib/rules/utest.h).
 *
 * The input is a test file (its rule_files match nothing).  It runs to a
 * verdict without crashing or hanging: every failure has a text, the
 * report writes in every format, and a file that passes has no failure.
 * An input that starts with SHAPE_MARK (shapes.h) stands for a deep or
 * long YAML document, run as the test file, or expression, run as a
 * promql_expr_test over a small series.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rules/utest.h"
#include "shapes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
	if (!ok)
		abort();
}

static int
discard(void *ctx, enum utest_stream s, const char *text, size_t len)
{
	size_t *n = ctx;

	(void)s;
	(void)text;
	*n += len;
	return 0;
}

static int
run_file(const uint8_t *data, size_t size)
{
	struct utest_report rep;
	struct perr e;
	char path[64];
	size_t n = 0;
	int fd, rc;

	fd = memfd_create("utest", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	memset(&rep, 0, sizeof(rep));
	rc = utest_run(path, NULL, &rep, &e);
	check(rc == 0 || rc == PERR_NOMEM);
	for (size_t i = 0; i < rep.nfail; i++)
		check(rep.fail[i].text != NULL && rep.fail[i].check != NULL);
	for (int f = FORMAT_TEXT; f <= FORMAT_GITHUB; f++)
		check(utest_report_write(&rep, path, (enum finding_format)f,
		    discard, &n) == 0);
	check(n > 0);
	utest_report_free(&rep);
	close(fd);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf text, file = BUF_INIT(SHAPE_TEXT_MAX + 4096);
	enum shape_kind kind;

	if (!shape_build(data, size, &kind, &text))
		return run_file(data, size);
	if (kind == SHAPE_YAML) {
		run_file((const uint8_t *)buf_str(&text), text.len);
	} else if (kind == SHAPE_EXPR) {
		/* A block scalar holds the expression as it is. */
		if (buf_adds(&file, "tests:\n- interval: 1m\n  input_series:\n"
		    "  - series: up\n    values: 1+1x10\n  promql_expr_test:\n"
		    "  - eval_time: 5m\n    expr: |-\n      ") == 0 &&
		    buf_add(&file, buf_str(&text), text.len) == 0 &&
		    buf_adds(&file, "\n") == 0)
			run_file((const uint8_t *)buf_str(&file), file.len);
	}
	buf_free(&file);
	buf_free(&text);
	return 0;
}
