/*
 * fuzz-rules - libFuzzer target: a rule file through promrun-rules check
 * (rules_load_text, rules_validate with the lint checks against the native
 * preset, findings sorted and written in the three formats).
 *
 * The input is a rule file; one that starts with SHAPE_MARK (shapes.h) is
 * a recipe for a deep or long one: an expression, an alert's template or
 * YAML nested 500 levels and more, or chains thousands long.  Property:
 * nothing crashes, overflows the stack or leaks; every finding is one
 * line with a position inside the file, and the error and warning counts
 * are the findings'; rule_pos_at gives rule_text_pos's positions.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "rules/finding.h"
#include "rules/lint.h"
#include "rules/rules.h"
#include "shapes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz-rules: %s\n", what);
		abort();
	}
}

/* The rule file a recipe's text goes into; place picks where. */
static int
rule_file(struct buf *b, enum shape_kind kind, unsigned place,
    const struct buf *text)
{
	const char *t = buf_str(text);

	switch (kind) {
	case SHAPE_EXPR:
		return buf_addf(b, "groups:\n- name: g\n  rules:\n  - %s: r\n"
		    "    expr: |\n      %s\n%s", place & 1 ? "alert" : "record",
		    t, place & 1 ? "    for: 1m\n" : "");
	case SHAPE_TEMPLATE:
		return buf_addf(b, "groups:\n- name: g\n  rules:\n  - alert: A\n"
		    "    expr: up == 0\n    for: 1m\n    annotations:\n"
		    "      summary: |\n        %s\n", t);
	default:
		if (place & 1)
			return buf_addf(b, "groups:\n- name: g\n  rules:\n"
			    "  - record: r\n    expr: up\n    labels: %s\n", t);
		return buf_addf(b, "groups: %s\n", t);
	}
}

/* Every finding one line, inside the file; the counts are the findings'. */
static void
check_findings(struct findings *f, const char *text, size_t len)
{
	struct buf line = BUF_INIT(64 * 1024);
	size_t i, errors = 0, lines = 1;
	int format;

	/* At most: a line per break YAML knows (CR, LF, NEL, LS, PS),
	   and one more, libyaml putting the end of a text without a last
	   break on the line after. */
	for (i = 0; i < len; i++)
		lines += text[i] == '\n' || text[i] == '\r' ||
		    (unsigned char)text[i] == 0x85 || (i + 2 < len &&
		    memcmp(text + i, "\xe2\x80", 2) == 0 &&
		    (text[i + 2] == '\xa8' || text[i + 2] == '\xa9'));
	lines++;
	findings_sort(f);
	for (i = 0; i < f->n; i++) {
		check(f->v[i].line <= lines, "a finding past the last line");
		check(strchr(f->v[i].msg, '\n') == NULL, "a finding of two lines");
		errors += f->v[i].level == FINDING_ERROR;
		for (format = FORMAT_TEXT; format <= FORMAT_GITHUB; format++) {
			buf_reset(&line);
			check(finding_format(&line, "f.yml", &f->v[i],
			    (enum finding_format)format) == 0, "cannot format");
		}
	}
	check(errors == f->errors && f->n - errors == f->warnings,
	    "counts differ from the findings");
	buf_free(&line);
}

/* rule_pos_at agrees with rule_text_pos, offsets asked out of order. */
static void
check_positions(const struct rule_file *rf)
{
	struct rule_pos pos;
	unsigned l1, c1, l2, c2;
	size_t g, r, i, off;

	for (g = 0; g < rf->ngroups; g++)
		for (r = 0; r < rf->groups[g].nrules; r++) {
			const struct rule_text *t = &rf->groups[g].rules[r].expr;

			rule_pos_init(&pos, t);
			for (i = 0; i < 64; i++) {
				off = i * 7919 % (t->len + 2);
				rule_pos_at(&pos, off, &l1, &c1);
				rule_text_pos(t, off, &l2, &c2);
				check(l1 == l2 && c1 == c2, "positions differ");
			}
			rule_pos_free(&pos);
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct lint_configured none;
	struct buf text, file = BUF_INIT(2 * SHAPE_TEXT_MAX);
	struct lint_catalog cat;
	struct rule_file rf;
	struct findings f;
	enum shape_kind kind;
	struct perr e;
	const char *p = (const char *)data;
	size_t len = size;

	if (shape_build(data, size, &kind, &text)) {
		if (rule_file(&file, kind, data[1] / SHAPE_KINDS, &text) != 0) {
			buf_free(&text);
			return 0;
		}
		buf_free(&text);
		p = buf_str(&file);
		len = file.len;
	}
	memset(&cat, 0, sizeof(cat));
	memset(&f, 0, sizeof(f));
	check(lint_catalog_build(&cat, "native", NULL, &none, NULL, 0, &e) ==
	    0, "no catalog");
	if (rules_load_text(p, len, &rf, &f, &e) == 0) {
		lint_catalog_add_recorded(&cat, &rf);
		if (rf.structure_ok)
			check(lint_rules(&cat, &rf, &f) == 0, "out of memory");
		check_findings(&f, p, len);
		check_positions(&rf);
	}
	rules_free(&rf);
	findings_free(&f);
	lint_catalog_free(&cat);
	buf_free(&file);
	return 0;
}
