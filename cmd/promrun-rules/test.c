/* test.c - promrun-rules test: promtool's rule unit tests. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "rules/finding.h"
#include "rules/utest.h"

/* Write each piece as promtool does, stdout and stderr unbuffered, so a
 * terminal shows them in promtool's order. */
static int
emit(void *ctx, enum utest_stream s, const char *text, size_t len)
{
	FILE *fp = s == UTEST_STDERR ? stderr : stdout;

	(void)ctx;
	if (fwrite(text, 1, len, fp) != len || fflush(fp) != 0)
		return PERR_IO;
	return 0;
}

int
verb_test(const struct options *o)
{
	struct lint_catalog cat;
	struct utest_opts uo;
	struct utest_report rep;
	struct perr e;
	bool failed = false;

	if (o->noperands == 0)
		usage("test needs at least one test file");
	/* As promtool: every file must exist before any runs. */
	for (int i = 0; i < o->noperands; i++)
		if (access(o->operands[i], F_OK) != 0) {
			fprintf(stderr, "%s: path '%s' does not exist\n",
			    progname, o->operands[i]);
			return 1;
		}
	memset(&cat, 0, sizeof(cat));
	memset(&uo, 0, sizeof(uo));
	if (o->catalog) {
		if (build_catalog(&cat, o, &e) != 0) {
			lint_catalog_free(&cat);
			fail(&e);
		}
		uo.catalog = &cat;
	}
	for (int i = 0; i < o->noperands; i++) {
		memset(&rep, 0, sizeof(rep));
		if (utest_run(o->operands[i], &uo, &rep, &e) != 0) {
			utest_report_free(&rep);
			lint_catalog_free(&cat);
			fail(&e);
		}
		if (o->strict)
			for (size_t k = 0; k < rep.nrule_files; k++)
				findings_promote(&rep.rule_findings[k]);
		for (size_t k = 0; k < rep.nrule_files; k++)
			for (size_t s = 0; s < o->nskip; s++)
				findings_skip(&rep.rule_findings[k], o->skip[s]);
		failed |= rep.nfail > 0;
		for (size_t k = 0; k < rep.nrule_files; k++)
			failed |= rep.rule_findings[k].errors > 0;
		if (utest_report_write(&rep, o->operands[i], o->format, emit,
		    NULL) != 0)
			fprintf(stderr, "%s: cannot write the report\n", progname);
		utest_report_free(&rep);
	}
	lint_catalog_free(&cat);
	return failed ? 1 : 0;
}
