/*
 * fuzz-expfmt - libFuzzer target: the exposition-format parser and writer.
 *
 * The input is a textfile.  The parser accepts or refuses it, never
 * crashes; what it accepts, written again with the writer, parses to the
 * same families and samples (names, labels in order, values, timestamps).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "metrics/expfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
	if (!ok)
		abort();
}

/* What one parse saw, as one canonical text, and the input rewritten. */
struct seen {
	struct buf canon;	/* every family and sample, one per line */
	struct buf rewrite;	/* the same input written by the writer */
	const struct expfmt_family *last;
};

static int
on_family(void *ctx, const struct expfmt_family *f)
{
	(void)ctx;
	(void)f;
	return 0;
}

/* Families are written when their first sample comes: HELP/TYPE are known by then. */
static int
on_sample(void *ctx, const struct expfmt_sample *s)
{
	struct seen *w = ctx;
	size_t i;
	int rc = 0;

	if (s->family != w->last) {
		w->last = s->family;
		rc |= buf_addf(&w->canon, "F %s %d %s\n", s->family->name,
		    (int)s->family->type, s->family->help ? "H" : "-");
		if (s->family->help != NULL)
			rc |= buf_add(&w->canon, s->family->help,
			    strlen(s->family->help) + 1);
		if (s->family->help != NULL)
			rc |= expfmt_write_header(&w->rewrite, s->family->name,
			    s->family->help, s->family->type);
		else
			rc |= buf_addf(&w->rewrite, "# TYPE %s %s\n",
			    s->family->name, expfmt_type_name(s->family->type));
	}
	rc |= buf_addf(&w->canon, "S %s", s->name);
	for (i = 0; i < s->nlabels; i++) {
		rc |= buf_addf(&w->canon, " %s=", s->labels[i].name);
		rc |= buf_add(&w->canon, s->labels[i].value,
		    strlen(s->labels[i].value) + 1);
	}
	if (isnan(s->value))
		rc |= buf_adds(&w->canon, " NaN");
	else
		rc |= buf_addf(&w->canon, " %a", s->value == 0 ? 0.0 : s->value);
	if (s->has_timestamp)
		rc |= buf_addf(&w->canon, " @%lld", s->timestamp);
	rc |= buf_addc(&w->canon, '\n');
	rc |= expfmt_write_sample(&w->rewrite, s->name, s->labels, s->nlabels,
	    s->value);
	if (s->has_timestamp) {
		/* The writer never writes timestamps; put it before the newline. */
		w->rewrite.len--;
		rc |= buf_addf(&w->rewrite, " %lld\n", s->timestamp);
	}
	return rc ? PERR_NOMEM : 0;
}

static int
parse(const char *text, size_t len, struct seen *w)
{
	struct expfmt_handler h = {on_family, on_sample, w};
	char *copy = malloc(len + 1);
	int rc;

	memcpy(copy, text, len);
	copy[len] = '\0';
	buf_init(&w->canon, (size_t)1 << 30);
	buf_init(&w->rewrite, (size_t)1 << 30);
	w->last = NULL;
	rc = expfmt_parse(copy, len, "fuzz", 0, &h, NULL, NULL);
	free(copy);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen first, second;
	int rc;

	rc = parse((const char *)data, size, &first);
	check(rc == 0 || rc == PERR_INVALID);
	if (rc == 0) {
		check(parse(first.rewrite.p != NULL ? first.rewrite.p : "",
		    first.rewrite.len, &second) == 0);
		check(first.canon.len == second.canon.len &&
		    (first.canon.len == 0 || memcmp(first.canon.p,
		    second.canon.p, first.canon.len) == 0));
		buf_free(&second.canon);
		buf_free(&second.rewrite);
	}
	buf_free(&first.canon);
	buf_free(&first.rewrite);
	return 0;
}
