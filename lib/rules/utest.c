/*
 * utest.c - promtool's rule unit tests (see utest.h), following
 * cmd/promtool/unittest.go of Prometheus 2.42: the same steps in the same
 * order, the same messages.
 */
#define _GNU_SOURCE
#include "rules/utest.h"
#include "common/buf.h"
#include "promql/duration.h"
#include "promql/eval.h"
#include "promql/numfmt.h"
#include "promql/parse.h"
#include "promql/quote.h"
#include "promql/series.h"
#include "promql/storage.h"
#include "rules/ruleeval.h"
#include "rules/rules.h"
#include "rules/ydoc.h"

#include <glob.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TEST_FILE_MAX (64 * 1024 * 1024)

/* A failure being collected: its text, and where the test is. */
struct runner {
	const char *path;
	struct utest_report *rep;
	struct perr *e;
	int rc;				/* PERR_NOMEM once memory ran out */
	struct ydoc_node *root;
	/* The file's settings. */
	int64_t eval_interval;
	struct ydoc_node *order;	/* group_eval_order */
	char **rule_files;
	size_t nrule_files;
	struct rule_file *rf;		/* loaded, one per rule file */
	bool rules_bad;			/* a rule file has errors */
};

static void fail(struct runner *R, unsigned line, unsigned col,
    const char *check, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
fail(struct runner *R, unsigned line, unsigned col, const char *check,
    const char *fmt, ...)
{
	struct utest_report *rep = R->rep;
	struct buf b = BUF_INIT(16 * 1024 * 1024);
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (rc == 0 && rep->nfail == rep->capfail) {
		size_t cap = rep->capfail ? rep->capfail * 2 : 8;
		struct utest_failure *f = realloc(rep->fail, cap * sizeof(*f));

		if (f == NULL)
			rc = PERR_NOMEM;
		else {
			rep->fail = f;
			rep->capfail = cap;
		}
	}
	if (rc != 0) {
		R->rc = PERR_NOMEM;
		buf_free(&b);
		return;
	}
	rep->fail[rep->nfail].text = buf_take(&b);
	rep->fail[rep->nfail].file = strdup(R->path);
	rep->fail[rep->nfail].line = line;
	rep->fail[rep->nfail].col = col;
	rep->fail[rep->nfail].check = check;
	if (rep->fail[rep->nfail].text == NULL)
		rep->fail[rep->nfail].text = strdup("");
	rep->nfail++;
}

/* A failure with the text of b (which may hold anything). */
static void
fail_buf(struct runner *R, unsigned line, unsigned col, const char *check,
    struct buf *b)
{
	fail(R, line, col, check, "%s", buf_str(b));
}

void
utest_report_free(struct utest_report *rep)
{
	for (size_t i = 0; i < rep->nwarnings; i++)
		free(rep->warnings[i]);
	free(rep->warnings);
	for (size_t i = 0; i < rep->nfail; i++) {
		free(rep->fail[i].text);
		free(rep->fail[i].file);
	}
	free(rep->fail);
	for (size_t i = 0; i < rep->nrule_files; i++) {
		findings_free(&rep->rule_findings[i]);
		free(rep->rule_files[i]);
	}
	free(rep->rule_findings);
	free(rep->rule_files);
	memset(rep, 0, sizeof(*rep));
}

/* --- YAML, as go-yaml v2's UnmarshalStrict decodes into promtool's types --- */

static unsigned
ln(const struct ydoc_node *n)
{
	return n->line + 1;
}

static unsigned
cl(const struct ydoc_node *n)
{
	return n->col + 1;
}

static bool
is_null(const struct ydoc_node *n)
{
	return n == NULL || (n->kind == YDOC_SCALAR &&
	    n->style == YAML_PLAIN_SCALAR_STYLE && (n->n == 0 ||
	    (n->n == 1 && n->u.s[0] == '~') || (n->n == 4 &&
	    (memcmp(n->u.s, "null", 4) == 0 || memcmp(n->u.s, "Null", 4) == 0 ||
	    memcmp(n->u.s, "NULL", 4) == 0))));
}

static bool
key_is(const struct ydoc_node *k, const char *s)
{
	return k->kind == YDOC_SCALAR && k->n == strlen(s) &&
	    memcmp(k->u.s, s, k->n) == 0;
}

/* The text a string field receives: the scalar as written, "" for null. */
static bool
text(struct runner *R, const struct ydoc_node *n, const char *type,
    const char **s, size_t *len)
{
	*s = "";
	*len = 0;
	if (is_null(n))
		return true;
	if (n->kind != YDOC_SCALAR) {
		fail(R, ln(n), cl(n), "test-yaml", "yaml: unmarshal errors:\n"
		    "  line %u: cannot unmarshal %s into string (in %s)", ln(n),
		    n->kind == YDOC_MAPPING ? "!!map" : "!!seq", type);
		return false;
	}
	*s = n->u.s;
	*len = n->n;
	return true;
}

static bool
duration(struct runner *R, const struct ydoc_node *n, int64_t *ms)
{
	const char *s;
	size_t len;
	struct perr e;

	*ms = 0;
	if (!text(R, n, "model.Duration", &s, &len))
		return false;
	if (is_null(n))
		return true;
	if (pq_duration_parse(s, len, ms, &e) != 0) {
		fail(R, ln(n), cl(n), "test-yaml", "%s", e.msg);
		return false;
	}
	return true;
}

/* go-yaml v2's resolution of a plain scalar into a float64 field. */
static bool
yaml_float(const struct ydoc_node *n, double *v)
{
	char tmp[256], *end;
	size_t k = 0;
	long long iv;

	if (n->kind != YDOC_SCALAR || n->n == 0 || n->n >= sizeof(tmp))
		return false;
	if (n->style != YAML_PLAIN_SCALAR_STYLE)
		return false;	/* a quoted scalar is a string */
	for (size_t i = 0; i < n->n; i++)
		if (n->u.s[i] != '_')
			tmp[k++] = n->u.s[i];
	tmp[k] = '\0';
	if (strcmp(tmp, ".inf") == 0 || strcmp(tmp, ".Inf") == 0 ||
	    strcmp(tmp, ".INF") == 0 || strcmp(tmp, "+.inf") == 0 ||
	    strcmp(tmp, "+.Inf") == 0 || strcmp(tmp, "+.INF") == 0) {
		*v = INFINITY;
		return true;
	}
	if (strcmp(tmp, "-.inf") == 0 || strcmp(tmp, "-.Inf") == 0 ||
	    strcmp(tmp, "-.INF") == 0) {
		*v = -INFINITY;
		return true;
	}
	if (strcmp(tmp, ".nan") == 0 || strcmp(tmp, ".NaN") == 0 ||
	    strcmp(tmp, ".NAN") == 0) {
		*v = NAN;
		return true;
	}
	iv = strtoll(tmp, &end, 0);
	if (*end == '\0' && (tmp[0] == '-' || tmp[0] == '+' ||
	    (tmp[0] >= '0' && tmp[0] <= '9'))) {
		*v = (double)iv;
		return true;
	}
	/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
	{
		const char *p = tmp;
		bool digits = false;

		if (*p == '-' || *p == '+')
			p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			digits = true;
		}
		if (*p == '.') {
			p++;
			while (*p >= '0' && *p <= '9') {
				p++;
				digits = true;
			}
		}
		if (!digits)
			return false;
		if (*p == 'e' || *p == 'E') {
			p++;
			if (*p == '-' || *p == '+')
				p++;
			if (!(*p >= '0' && *p <= '9'))
				return false;
			while (*p >= '0' && *p <= '9')
				p++;
		}
		if (*p != '\0')
			return false;
	}
	return pq_parse_float(tmp, k, v);
}

/* Unknown fields, as UnmarshalStrict reports them. */
static bool
known(struct runner *R, const struct ydoc_node *m, const char *type,
    const char *const *fields)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct ydoc_node *k = m->u.pairs[i].k;
		size_t f;

		for (f = 0; fields[f] != NULL && !key_is(k, fields[f]); f++)
			;
		if (fields[f] == NULL) {
			fail(R, ln(k), cl(k), "test-yaml", "yaml: unmarshal "
			    "errors:\n  line %u: field %.*s not found in type %s",
			    ln(k), (int)k->n, k->kind == YDOC_SCALAR ? k->u.s :
			    "?", type);
			return false;
		}
		for (size_t j = 0; j < i; j++)
			if (key_is(m->u.pairs[j].k, fields[f])) {
				fail(R, ln(k), cl(k), "test-yaml", "yaml: unmarshal "
				    "errors:\n  line %u: field %s already set in "
				    "type %s", ln(k), fields[f], type);
				return false;
			}
	}
	return true;
}

static const struct ydoc_node *
field(const struct ydoc_node *m, const char *name)
{
	if (m == NULL || m->kind != YDOC_MAPPING)
		return NULL;
	for (size_t i = 0; i < m->n; i++)
		if (key_is(m->u.pairs[i].k, name))
			return m->u.pairs[i].v;
	return NULL;
}

static bool
want_kind(struct runner *R, const struct ydoc_node *n, enum ydoc_kind k,
    const char *type)
{
	if (is_null(n) || n->kind == k)
		return true;
	fail(R, ln(n), cl(n), "test-yaml", "yaml: unmarshal errors:\n  line "
	    "%u: cannot unmarshal %s into %s", ln(n), n->kind == YDOC_MAPPING ?
	    "!!map" : n->kind == YDOC_SEQUENCE ? "!!seq" : "!!str", type);
	return false;
}

static size_t
count(const struct ydoc_node *n)
{
	return is_null(n) || n->kind == YDOC_SCALAR ? 0 : n->n;
}

/* A string map (exp_labels, external_labels) as a label set; empty
 * values kept, as labels.FromMap keeps them. */
static bool
string_map(struct runner *R, const struct ydoc_node *m, struct pq_arena *a,
    bool keep_empty, const struct pq_lset **out)
{
	struct pq_lbuilder lb;
	const char *k, *v;
	size_t kl, vl;
	bool ok = true;

	*out = &pq_lset_empty;
	if (is_null(m))
		return true;
	if (!want_kind(R, m, YDOC_MAPPING, "map[string]string"))
		return false;
	pq_lb_init(&lb, a);
	lb.keep_empty = keep_empty;
	for (size_t i = 0; ok && i < m->n; i++)
		ok = text(R, m->u.pairs[i].k, "map[string]string", &k, &kl) &&
		    text(R, m->u.pairs[i].v, "map[string]string", &v, &vl);
	for (size_t i = 0; ok && i < m->n; i++) {
		text(R, m->u.pairs[i].k, "", &k, &kl);
		text(R, m->u.pairs[i].v, "", &v, &vl);
		pq_lb_set_copy(&lb, k, kl, v, vl);
	}
	if (ok && (*out = pq_lb_finish(&lb)) == NULL) {
		R->rc = PERR_NOMEM;
		ok = false;
	}
	pq_lb_free(&lb);
	return ok;
}

/* --- formatting --- */

/* Go's time.Duration.String() for a whole number of milliseconds. */
static int
go_duration(struct buf *b, int64_t ms)
{
	int64_t h, m, s, frac;
	int rc = 0;

	if (ms == 0)
		return buf_adds(b, "0s");
	if (ms < 0) {
		rc = buf_addc(b, '-');
		ms = -ms;
	}
	if (ms < 1000)
		return rc != 0 ? rc : buf_addf(b, "%lldms", (long long)ms);
	h = ms / 3600000;
	m = ms / 60000 % 60;
	s = ms / 1000 % 60;
	frac = ms % 1000;
	if (h > 0)
		rc = buf_addf(b, "%lldh", (long long)h);
	if (rc == 0 && (h > 0 || m > 0))
		rc = buf_addf(b, "%lldm", (long long)m);
	if (rc == 0 && frac == 0)
		return buf_addf(b, "%llds", (long long)s);
	if (rc == 0) {
		char f[8];

		snprintf(f, sizeof(f), "%03lld", (long long)frac);
		for (size_t n = 3; n > 0 && f[n - 1] == '0'; n--)
			f[n - 1] = '\0';
		rc = buf_addf(b, "%lld.%ss", (long long)s, f);
	}
	return rc;
}

/* model.Duration.String(). */
static const char *
mdur(struct buf *b, int64_t ms)
{
	buf_reset(b);
	if (pq_duration_format(b, ms) != 0)
		return "?";
	return buf_str(b);
}

/* Each line after the first indented, as promtool's indentLines. */
static int
indent_lines(struct buf *out, const char *s, const char *indent)
{
	int rc = 0;

	for (; *s != '\0' && rc == 0; s++) {
		rc = buf_addc(out, *s);
		if (rc == 0 && *s == '\n')
			rc = buf_adds(out, indent);
	}
	return rc;
}

struct la {
	const struct pq_lset *labels, *annotations;
};

static int
cmp_la(const void *a, const void *b)
{
	const struct la *x = a, *y = b;
	int c = pq_lset_cmp(x->labels, y->labels);

	return c != 0 ? c : pq_lset_cmp(x->annotations, y->annotations);
}

/* labelsAndAnnotations.String(). */
static int
la_string(struct buf *b, const struct la *v, size_t n)
{
	struct buf one = BUF_INIT(16 * 1024 * 1024);
	int rc = 0;

	if (n == 0)
		return buf_adds(b, "[]");
	rc = buf_adds(b, "[\n");
	for (size_t i = 0; i < n && rc == 0; i++) {
		buf_reset(&one);
		if ((rc = buf_adds(&one, "\nLabels:")) == 0 &&
		    (rc = pq_lset_format(&one, v[i].labels)) == 0 &&
		    (rc = buf_adds(&one, "\nAnnotations:")) == 0)
			rc = pq_lset_format(&one, v[i].annotations);
		if (rc == 0)
			rc = buf_addf(b, "%s%zu:", i > 0 ? ",\n" : "", i);
		if (rc == 0)
			rc = indent_lines(b, buf_str(&one), "  ");
	}
	buf_free(&one);
	return rc != 0 ? rc : buf_adds(b, "\n]");
}

struct ps {
	const struct pq_lset *ls;
	double v;
};

static int
cmp_ps(const void *a, const void *b)
{
	return pq_lset_cmp(((const struct ps *)a)->ls,
	    ((const struct ps *)b)->ls);
}

/* parsedSamplesString. */
static int
ps_string(struct buf *b, const struct ps *v, size_t n)
{
	int rc = 0;

	if (n == 0)
		return buf_adds(b, "nil");
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i > 0)
			rc = buf_adds(b, ", ");
		if (rc == 0)
			rc = pq_lset_format(b, v[i].ls);
		if (rc == 0)
			rc = buf_addc(b, ' ');
		if (rc == 0)
			rc = pq_format_float(b, v[i].v, 'E', -1);
	}
	return rc;
}

/* --- rule files --- */

static void
warn(struct runner *R, const char *pattern)
{
	struct utest_report *rep = R->rep;
	char **w = realloc(rep->warnings, (rep->nwarnings + 1) * sizeof(*w));
	char *s;

	if (w == NULL || asprintf(&s, "  WARNING: no file match pattern %s",
	    pattern) < 0) {
		if (w != NULL)
			rep->warnings = w;
		R->rc = PERR_NOMEM;
		return;
	}
	rep->warnings = w;
	rep->warnings[rep->nwarnings++] = s;
}

/* filepath.Join(dir, p): joined, with "." and empty parts removed. */
static char *
join(const char *dir, const char *p, size_t len)
{
	char *s;

	if (len > 0 && p[0] == '/')
		return strndup(p, len);
	if (strcmp(dir, ".") == 0)
		return strndup(p, len);
	if (asprintf(&s, "%s/%.*s", dir, (int)len, p) < 0)
		return NULL;
	return s;
}

static bool
add_rule_file(struct runner *R, const char *path)
{
	char **v = realloc(R->rule_files, (R->nrule_files + 1) * sizeof(*v));

	if (v == NULL)
		return false;
	R->rule_files = v;
	if ((v[R->nrule_files] = strdup(path)) == NULL)
		return false;
	R->nrule_files++;
	return true;
}

static bool
glob_rule_files(struct runner *R, const struct ydoc_node *list)
{
	char *dir = strdup(R->path), *slash, *pattern;
	const char *s;
	size_t len;
	glob_t g;
	bool ok = true;

	if (dir == NULL)
		return false;
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	for (size_t i = 0; ok && i < count(list); i++) {
		if (!text(R, list->u.items[i], "string", &s, &len))
			break;
		if ((pattern = len == 0 ? strdup("") : join(dir, s, len)) ==
		    NULL) {
			ok = false;
			break;
		}
		memset(&g, 0, sizeof(g));
		if (glob(pattern, GLOB_PERIOD, NULL, &g) == 0) {
			for (size_t k = 0; ok && k < g.gl_pathc; k++)
				ok = add_rule_file(R, g.gl_pathv[k]);
		} else {
			warn(R, pattern);
		}
		globfree(&g);
		free(pattern);
	}
	free(dir);
	return ok;
}

/* Load and validate every rule file, as check does; errors fail. */
static int
load_rules(struct runner *R, const struct utest_opts *o)
{
	struct utest_report *rep = R->rep;
	struct perr e;
	int rc;

	R->rf = calloc(R->nrule_files + 1, sizeof(*R->rf));
	rep->rule_findings = calloc(R->nrule_files + 1,
	    sizeof(*rep->rule_findings));
	rep->rule_files = calloc(R->nrule_files + 1, sizeof(char *));
	if (R->rf == NULL || rep->rule_findings == NULL ||
	    rep->rule_files == NULL)
		return PERR_NOMEM;
	for (size_t i = 0; i < R->nrule_files; i++) {
		if ((rep->rule_files[i] = strdup(R->rule_files[i])) == NULL)
			return PERR_NOMEM;
		rep->nrule_files++;
		rc = rules_load(R->rule_files[i], &R->rf[i],
		    &rep->rule_findings[i], &e);
		if (rc == PERR_NOMEM)
			return rc;
		if (rc != 0) {
			fail(R, 0, 0, "rules", "%s", e.msg);
			R->rules_bad = true;
			continue;
		}
		if (o != NULL && o->catalog != NULL &&
		    lint_catalog_add_recorded(o->catalog, &R->rf[i]) != 0)
			return PERR_NOMEM;
	}
	for (size_t i = 0; i < R->nrule_files; i++) {
		struct rule_file *rf = &R->rf[i];

		if (rf->structure_ok) {
			rc = o != NULL && o->catalog != NULL ?
			    lint_rules(o->catalog, rf, &rep->rule_findings[i]) :
			    rules_validate(rf, &rep->rule_findings[i], NULL, NULL);
			if (rc != 0)
				return rc;
		}
		if (rep->rule_findings[i].errors > 0)
			R->rules_bad = true;
	}
	return 0;
}

/* --- one test group --- */

struct group_run {
	struct runner *R;
	const struct ydoc_node *tg;
	struct pq_store st;
	struct re_engine en;
	struct pq_arena a;
	const char *name;		/* the test group's, or NULL */
	size_t name_len;
	int64_t interval;
	/* Series the storage refuses (no labels, a name twice): from the
	   first evaluation at or after a refused series' first sample, every
	   evaluation fails with its error (promtool's loader retries and
	   rolls back at each), no rule is evaluated and no sample is added
	   any more. */
	struct refused {
		int64_t t0;		/* its first sample */
		const char *msg;
		unsigned line, col;
	} *refused;
	size_t nrefused;
};

static void
test_name(struct group_run *G, struct buf *b)
{
	if (G->name != NULL && G->name_len > 0)
		(void)buf_addf(b, "    name: %.*s,\n", (int)G->name_len, G->name);
}

/*
 * Whether the storage takes ls: 1; if not, 0, and the series is
 * remembered in G->refused (when it has samples at all); -1: no memory.
 */
static int
storable(struct group_run *G, const struct ydoc_node *it,
    const struct pq_lset *ls, const struct pq_seq_item *items, size_t n)
{
	struct buf b = BUF_INIT(64 * 1024);
	const char *why = pq_lset_storable(ls, &b);
	struct refused *r;
	int64_t k = 0;
	size_t j;

	if (why == NULL) {
		buf_free(&b);
		return 1;
	}
	for (j = 0; j < n && items[j].omitted; j++)
		k += (int64_t)items[j].count;
	if (j == n || items[j].count == 0) {
		buf_free(&b);
		return 0;		/* never appended */
	}
	r = realloc(G->refused, (G->nrefused + 1) * sizeof(*r));
	if (r == NULL || (why = pq_arena_strdup(&G->a, why,
	    strlen(why))) == NULL) {
		if (r != NULL)
			G->refused = r;
		buf_free(&b);
		G->R->rc = PERR_NOMEM;
		return -1;
	}
	G->refused = r;
	r[G->nrefused].t0 = k * G->interval;
	r[G->nrefused].msg = why;
	r[G->nrefused].line = ln(it);
	r[G->nrefused].col = cl(it);
	G->nrefused++;
	buf_free(&b);
	return 0;
}

static bool
load_series(struct group_run *G)
{
	struct runner *R = G->R;
	const struct ydoc_node *list = field(G->tg, "input_series");
	static const char *const fields[] = {"series", "values", NULL};

	if (!want_kind(R, list, YDOC_SEQUENCE, "[]main.series"))
		return false;
	for (size_t i = 0; i < count(list); i++) {
		const struct ydoc_node *it = list->u.items[i];
		const char *series, *values;
		size_t sl, vl, pos, nitems, idx;
		struct buf line = BUF_INIT(TEST_FILE_MAX);
		const struct pq_lset *ls;
		struct pq_seq_item *items;
		struct perr e;
		int rc;

		if (!want_kind(R, it, YDOC_MAPPING, "main.series") ||
		    !known(R, it, "main.series", fields) ||
		    !text(R, field(it, "series"), "string", &series, &sl) ||
		    !text(R, field(it, "values"), "string", &values, &vl))
			return false;
		/* The line promtool's loader parses: "  series values". */
		if (buf_adds(&line, "  ") != 0 || buf_add(&line, series, sl) != 0 ||
		    buf_addc(&line, ' ') != 0 || buf_add(&line, values, vl) != 0) {
			buf_free(&line);
			R->rc = PERR_NOMEM;
			return false;
		}
		rc = pq_parse_series(line.p, line.len, &G->a, &ls, &items,
		    &nitems, &pos, &e);
		buf_free(&line);
		if (rc == PERR_NOMEM) {
			R->rc = rc;
			return false;
		}
		if (rc != 0) {
			fail(R, ln(it), cl(it), "test-series", "%s", e.msg);
			return false;
		}
		if ((rc = storable(G, it, ls, items, nitems)) < 0)
			return false;
		if (rc == 0)
			continue;
		if (pq_store_series(&G->st, ls, &idx, &e) != 0) {
			R->rc = PERR_NOMEM;
			return false;
		}
		/* A series given twice: the last definition counts, so the
		   earlier samples are forgotten. */
		G->st.s[idx].nruns = 0;
		int64_t k = 0;

		for (size_t j = 0; j < nitems; j++) {
			double v = items[j].start;

			if (items[j].omitted) {
				k += (int64_t)items[j].count;
				continue;
			}
			for (uint64_t c = 0; c < items[j].count; c++, k++) {
				if (pq_store_append(&G->st, idx, k * G->interval,
				    items[j].stale ? pq_stale_nan() : v, &e) ==
				    PERR_NOMEM) {
					R->rc = PERR_NOMEM;
					return false;
				}
				v += items[j].delta;
			}
		}
	}
	return true;
}

/* The rule groups in group_eval_order, the others after in file order. */
static size_t *
group_order(struct group_run *G)
{
	const struct ydoc_node *order = G->R->order;
	size_t n = G->en.ngroups, *idx = calloc(n + 1, sizeof(*idx)), *rank;

	rank = calloc(n + 1, sizeof(*rank));
	if (idx == NULL || rank == NULL) {
		free(idx);
		free(rank);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const struct rule_text *name = &G->en.groups[i].g->name;

		idx[i] = i;
		rank[i] = 0;
		for (size_t k = 0; k < count(order); k++)
			if (order->u.items[k]->kind == YDOC_SCALAR &&
			    order->u.items[k]->n == name->len &&
			    memcmp(order->u.items[k]->u.s, name->s, name->len) ==
			    0)
				rank[i] = k;
	}
	/* Stable insertion sort by rank. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && rank[idx[j]] < rank[idx[j - 1]];
		    j--) {
			size_t t = idx[j];

			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	free(rank);
	return idx;
}

struct alert_case {
	const struct ydoc_node *node;
	int64_t eval_time;
	const char *alertname;
	size_t alen;
	const struct ydoc_node *exp;
};

static int
cmp_case_time(const void *a, const void *b)
{
	const struct alert_case *x = a, *y = b;

	return x->eval_time < y->eval_time ? -1 : x->eval_time > y->eval_time;
}

/* Compare one alert test with the firing alerts of its name. */
static void
check_alert(struct group_run *G, const struct alert_case *ac)
{
	struct runner *R = G->R;
	struct la *exp = NULL, *got = NULL;
	size_t nexp = count(ac->exp), ngot = 0, capgot = 0;
	struct buf b = BUF_INIT(64 * 1024 * 1024), d = BUF_INIT(256);
	struct buf es = BUF_INIT(64 * 1024 * 1024), gs = es;
	static const char *const fields[] = {"exp_labels", "exp_annotations",
	    NULL};
	bool same;

	if ((exp = calloc(nexp + 1, sizeof(*exp))) == NULL)
		goto nomem;
	for (size_t i = 0; i < nexp; i++) {
		const struct ydoc_node *it = ac->exp->u.items[i];
		struct pq_lbuilder lb;

		if (!want_kind(R, it, YDOC_MAPPING, "main.alert") ||
		    !known(R, it, "main.alert", fields) ||
		    !string_map(R, field(it, "exp_labels"), &G->a, true,
		    &exp[i].labels) ||
		    !string_map(R, field(it, "exp_annotations"), &G->a, true,
		    &exp[i].annotations))
			goto out;
		pq_lb_init(&lb, &G->a);
		lb.keep_empty = true;
		pq_lb_reset(&lb, exp[i].labels);
		pq_lb_set_copy(&lb, "alertname", 9, ac->alertname, ac->alen);
		exp[i].labels = pq_lb_finish(&lb);
		pq_lb_free(&lb);
		if (exp[i].labels == NULL)
			goto nomem;
	}
	for (size_t g = 0; g < G->en.ngroups; g++)
		for (size_t r = 0; r < G->en.groups[g].nrules; r++) {
			const struct re_rule *ru = &G->en.groups[g].rules[r];

			if (!ru->r->alerting || ru->r->name.len != ac->alen ||
			    memcmp(ru->r->name.s, ac->alertname, ac->alen) != 0)
				continue;
			for (size_t k = 0; k < ru->nalerts; k++) {
				if (ru->alerts[k]->state != ALERT_FIRING)
					continue;
				if (ngot == capgot) {
					capgot = capgot ? capgot * 2 : 8;
					struct la *ng = realloc(got, capgot *
					    sizeof(*ng));

					if (ng == NULL)
						goto nomem;
					got = ng;
				}
				got[ngot].labels = ru->alerts[k]->labels;
				got[ngot].annotations = ru->alerts[k]->annotations;
				ngot++;
			}
		}
	qsort(exp, nexp, sizeof(*exp), cmp_la);
	if (ngot > 0)
		qsort(got, ngot, sizeof(*got), cmp_la);
	same = nexp == ngot;
	for (size_t i = 0; same && i < nexp; i++)
		same = cmp_la(&exp[i], &got[i]) == 0;
	if (same)
		goto out;
	if (la_string(&es, exp, nexp) != 0 || la_string(&gs, got, ngot) != 0)
		goto nomem;
	test_name(G, &b);
	if (buf_addf(&b, "    alertname: %.*s, time: %s, \n        exp:",
	    (int)ac->alen, ac->alertname, mdur(&d, ac->eval_time)) != 0 ||
	    indent_lines(&b, buf_str(&es), "            ") != 0 ||
	    buf_adds(&b, ", \n        got:") != 0 ||
	    indent_lines(&b, buf_str(&gs), "            ") != 0)
		goto nomem;
	fail_buf(R, ln(ac->node), cl(ac->node), "alert-test", &b);
	goto out;
nomem:
	R->rc = PERR_NOMEM;
out:
	free(exp);
	free(got);
	buf_free(&b);
	buf_free(&d);
	buf_free(&es);
	buf_free(&gs);
}

static void
check_expr(struct group_run *G, const struct ydoc_node *tc)
{
	static const char *const fields[] = {"expr", "eval_time",
	    "exp_samples", NULL};
	static const char *const sfields[] = {"labels", "value", NULL};
	struct runner *R = G->R;
	const struct ydoc_node *samples = field(tc, "exp_samples");
	const char *expr;
	size_t elen, pos, nexp = 0, ngot = 0;
	int64_t t;
	struct buf b = BUF_INIT(64 * 1024 * 1024), d = BUF_INIT(256);
	struct pq_expr *x = NULL;
	struct pq_query *q = NULL;
	struct pq_value val;
	struct ps *exp = NULL, *got = NULL;
	struct perr e;
	bool same;
	int rc;

	if (!want_kind(R, tc, YDOC_MAPPING, "main.promqlTestCase") ||
	    !known(R, tc, "main.promqlTestCase", fields) ||
	    !text(R, field(tc, "expr"), "string", &expr, &elen) ||
	    !duration(R, field(tc, "eval_time"), &t) ||
	    !want_kind(R, samples, YDOC_SEQUENCE, "[]main.sample"))
		return;
	rc = pq_parse(expr, elen, &x, &pos, &e);
	if (rc == 0)
		rc = pq_query_new(x->root, &q, &e);
	if (rc == 0) {
		pq_arena_reset(&G->en.scratch);
		rc = pq_query_exec(q, &G->st, &G->en.opts, t, t, t,
		    &G->en.scratch, &val, &e);
		if (rc == 0 && val.type != PQ_TYPE_VECTOR &&
		    val.type != PQ_TYPE_SCALAR)
			rc = perr_set(&e, PERR_INVALID, "rule result is not a "
			    "vector or scalar");
	} else if (rc == PERR_INVALID) {
		unsigned line, col;
		char msg[PERR_MSG_MAX];
		char *src = strndup(expr, elen);

		if (src == NULL)
			goto nomem;
		pq_line_col(src, pos, &line, &col);
		free(src);
		snprintf(msg, sizeof(msg), "%s", e.msg);
		perr_set(&e, rc, "%u:%u: parse error: %s", line, col, msg);
	}
	if (rc == PERR_NOMEM)
		goto nomem;
	if (buf_adds(&b, "    expr: ") != 0 || pq_quote_go(&b, expr, elen) != 0 ||
	    buf_addf(&b, ", time: %s", mdur(&d, t)) != 0)
		goto nomem;
	if (rc != 0) {
		if (buf_addf(&b, ", err: %s", e.msg) != 0)
			goto nomem;
		fail_buf(R, ln(tc), cl(tc), "expr-test", &b);
		goto out;
	}
	exp = calloc(count(samples) + 1, sizeof(*exp));
	got = calloc((val.type == PQ_TYPE_VECTOR ? val.vec.n : 1) + 1,
	    sizeof(*got));
	if (exp == NULL || got == NULL)
		goto nomem;
	if (val.type == PQ_TYPE_SCALAR) {
		got[0].ls = &pq_lset_empty;
		got[0].v = val.scalar;
		ngot = 1;
	} else {
		for (size_t i = 0; i < val.vec.n; i++) {
			got[i].ls = val.vec.v[i].ls;
			got[i].v = val.vec.v[i].v;
		}
		ngot = val.vec.n;
	}
	for (size_t i = 0; i < count(samples); i++) {
		const struct ydoc_node *it = samples->u.items[i], *vn;
		const char *ls;
		size_t lsl;

		if (!want_kind(R, it, YDOC_MAPPING, "main.sample") ||
		    !known(R, it, "main.sample", sfields) ||
		    !text(R, field(it, "labels"), "string", &ls, &lsl))
			goto out;
		vn = field(it, "value");
		exp[i].v = 0;
		if (!is_null(vn) && !yaml_float(vn, &exp[i].v)) {
			fail(R, ln(vn), cl(vn), "test-yaml", "yaml: unmarshal "
			    "errors:\n  line %u: cannot unmarshal !!str `%.*s` "
			    "into float64", ln(vn), (int)(vn->kind ==
			    YDOC_SCALAR ? vn->n : 0), vn->kind == YDOC_SCALAR ?
			    vn->u.s : "");
			goto out;
		}
		rc = pq_parse_metric(ls, lsl, &G->a, &exp[i].ls, &pos, &e);
		if (rc == PERR_NOMEM)
			goto nomem;
		if (rc != 0) {
			if (buf_adds(&b, ", err: labels ") != 0 ||
			    pq_quote_go(&b, ls, lsl) != 0 ||
			    buf_addf(&b, ": %s", e.msg) != 0)
				goto nomem;
			fail_buf(R, ln(it), cl(it), "expr-test", &b);
			goto out;
		}
		nexp++;
	}
	qsort(exp, nexp, sizeof(*exp), cmp_ps);
	qsort(got, ngot, sizeof(*got), cmp_ps);
	same = nexp == ngot;
	for (size_t i = 0; same && i < nexp; i++)
		same = pq_lset_cmp(exp[i].ls, got[i].ls) == 0 &&
		    exp[i].v == got[i].v;
	if (same)
		goto out;
	if (buf_adds(&b, ",\n        exp: ") != 0 || ps_string(&b, exp, nexp) != 0 ||
	    buf_adds(&b, "\n        got: ") != 0 || ps_string(&b, got, ngot) != 0)
		goto nomem;
	fail_buf(R, ln(tc), cl(tc), "expr-test", &b);
	goto out;
nomem:
	R->rc = PERR_NOMEM;
out:
	pq_query_free(q);
	pq_expr_free(x);
	free(exp);
	free(got);
	buf_free(&b);
	buf_free(&d);
}

static int64_t
max_eval_time(struct runner *R, const struct ydoc_node *tg)
{
	const struct ydoc_node *lists[2] = {field(tg, "alert_rule_test"),
	    field(tg, "promql_expr_test")};
	int64_t max = 0, t;

	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < count(lists[l]); i++)
			if (duration(R, field(lists[l]->u.items[i], "eval_time"),
			    &t) && t > max)
				max = t;
	return max;
}

static void
run_group(struct runner *R, const struct ydoc_node *tg)
{
	static const char *const fields[] = {"interval", "input_series",
	    "alert_rule_test", "promql_expr_test", "external_labels",
	    "external_url", "name", NULL};
	static const char *const afields[] = {"eval_time", "alertname",
	    "exp_alerts", NULL};
	const struct ydoc_node *alerts, *exprs;
	struct group_run G;
	struct alert_case *cases = NULL;
	size_t ncases = 0, curr = 0, *order = NULL;
	struct buf b = BUF_INIT(64 * 1024 * 1024), d = BUF_INIT(256);
	const char *url;
	size_t ulen;
	int64_t maxt;
	struct perr e;
	bool stop = false;

	memset(&G, 0, sizeof(G));
	G.R = R;
	G.tg = tg;
	pq_store_init(&G.st);
	re_engine_init(&G.en, &G.st);
	if (!want_kind(R, tg, YDOC_MAPPING, "main.testGroup") ||
	    !known(R, tg, "main.testGroup", fields) ||
	    !duration(R, field(tg, "interval"), &G.interval) ||
	    !text(R, field(tg, "name"), "string", &G.name, &G.name_len) ||
	    !text(R, field(tg, "external_url"), "string", &url, &ulen) ||
	    !string_map(R, field(tg, "external_labels"), &G.a, false,
	    &G.en.external_labels))
		goto out;
	if ((G.en.external_url = pq_arena_strdup(&G.a, url, ulen)) == NULL)
		goto nomem;
	G.en.opts.subquery_step_ms = R->eval_interval;
	if (!load_series(&G))
		goto out;
	if (R->rules_bad) {
		fail(R, 0, 0, "rules", "the rule files have errors (above)");
		goto out;
	}
	for (size_t i = 0; i < R->nrule_files; i++)
		if (re_engine_add(&G.en, &R->rf[i], R->rule_files[i], &e) != 0) {
			if (e.code == PERR_NOMEM)
				goto nomem;
			fail(R, 0, 0, "rules", "%s", e.msg);
			goto out;
		}
	if ((order = group_order(&G)) == NULL)
		goto nomem;
	alerts = field(tg, "alert_rule_test");
	exprs = field(tg, "promql_expr_test");
	if (!want_kind(R, alerts, YDOC_SEQUENCE, "[]main.alertTestCase") ||
	    !want_kind(R, exprs, YDOC_SEQUENCE, "[]main.promqlTestCase"))
		goto out;
	if ((cases = calloc(count(alerts) + 1, sizeof(*cases))) == NULL)
		goto nomem;
	for (size_t i = 0; i < count(alerts); i++) {
		const struct ydoc_node *ac = alerts->u.items[i];
		struct alert_case *c = &cases[ncases];

		if (!want_kind(R, ac, YDOC_MAPPING, "main.alertTestCase") ||
		    !known(R, ac, "main.alertTestCase", afields) ||
		    !duration(R, field(ac, "eval_time"), &c->eval_time) ||
		    !text(R, field(ac, "alertname"), "string", &c->alertname,
		    &c->alen) || !want_kind(R, field(ac, "exp_alerts"),
		    YDOC_SEQUENCE, "[]main.alert"))
			goto out;
		c->node = ac;
		c->exp = field(ac, "exp_alerts");
		if (c->alen == 0) {
			buf_reset(&b);
			if (G.name != NULL && G.name_len > 0 && buf_addf(&b,
			    " (in TestGroup %.*s)", (int)G.name_len, G.name) != 0)
				goto nomem;
			fail(R, ln(ac), cl(ac), "alert-test", "an item under "
			    "alert_rule_test misses required attribute alertname "
			    "at eval_time %s%s", mdur(&d, c->eval_time),
			    buf_str(&b));
			goto out;
		}
		ncases++;
	}
	/* Stable: tests of one time keep their order. */
	for (size_t i = 1; i < ncases; i++)
		for (size_t j = i; j > 0 && cmp_case_time(&cases[j],
		    &cases[j - 1]) < 0; j--) {
			struct alert_case t = cases[j];

			cases[j] = cases[j - 1];
			cases[j - 1] = t;
		}
	maxt = max_eval_time(R, tg);
	G.st.horizon = -1;		/* nothing loaded yet */
	for (int64_t ts = 0; ts <= maxt && !stop && R->rc == 0;
	    ts += R->eval_interval) {
		size_t before = R->rep->nfail;
		const struct refused *rf = NULL;

		for (size_t k = 0; k < G.nrefused && rf == NULL; k++)
			if (G.refused[k].t0 <= ts)
				rf = &G.refused[k];
		if (rf != NULL) {
			/* The loader's error; the rules keep their state. */
			fail(R, rf->line, rf->col, "test-series", "%s",
			    rf->msg);
			before = R->rep->nfail;
		} else {
			G.st.horizon = ts;
		}
		for (size_t gi = 0; gi < G.en.ngroups && rf == NULL; gi++) {
			const struct re_group *g = &G.en.groups[order[gi]];

			if (re_group_eval(&G.en, order[gi], ts, &e) != 0)
				goto nomem;
			for (size_t r = 0; r < g->nrules; r++)
				if (g->rules[r].error != NULL) {
					buf_reset(&d);
					(void)go_duration(&d, ts);
					fail(R, g->rules[r].r->line,
					    g->rules[r].r->col, "rule-eval",
					    "    rule: %s, time: %s, err: %s",
					    g->rules[r].r->name.s, buf_str(&d),
					    g->rules[r].error);
				}
		}
		if (R->rep->nfail > before) {
			stop = true;
			break;
		}
		/* Alert tests with ts <= eval_time < ts + interval. */
		while (curr < ncases && ts <= cases[curr].eval_time &&
		    cases[curr].eval_time < ts + R->eval_interval) {
			int64_t t0 = cases[curr].eval_time;

			while (curr < ncases && cases[curr].eval_time == t0)
				check_alert(&G, &cases[curr++]);
		}
		if (R->eval_interval <= 0)
			break;
	}
	if (stop)
		goto out;
	for (size_t i = 0; i < count(exprs) && R->rc == 0; i++)
		check_expr(&G, exprs->u.items[i]);
	goto out;
nomem:
	R->rc = PERR_NOMEM;
out:
	free(cases);
	free(order);
	free(G.refused);
	buf_free(&b);
	buf_free(&d);
	re_engine_free(&G.en);
	pq_store_free(&G.st);
	pq_arena_free(&G.a);
}

/* --- the file --- */

static void
run_file(struct runner *R, const struct utest_opts *o)
{
	static const char *const fields[] = {"rule_files",
	    "evaluation_interval", "group_eval_order", "tests", NULL};
	const struct ydoc_node *root = R->root, *rules, *tests;
	struct hmap seen = HMAP_INIT;
	size_t *slot;
	bool found;

	if (is_null(root))
		return;
	if (!want_kind(R, root, YDOC_MAPPING, "main.unitTestFile") ||
	    !known(R, root, "main.unitTestFile", fields))
		return;
	rules = field(root, "rule_files");
	R->order = (struct ydoc_node *)field(root, "group_eval_order");
	tests = field(root, "tests");
	if (!want_kind(R, rules, YDOC_SEQUENCE, "[]string") ||
	    !want_kind(R, R->order, YDOC_SEQUENCE, "[]string") ||
	    !want_kind(R, tests, YDOC_SEQUENCE, "[]main.testGroup") ||
	    !duration(R, field(root, "evaluation_interval"), &R->eval_interval))
		return;
	if (!glob_rule_files(R, rules)) {
		R->rc = PERR_NOMEM;
		return;
	}
	if (R->eval_interval == 0)
		R->eval_interval = 60000;
	for (size_t i = 0; i < count(R->order); i++) {
		const struct ydoc_node *gn = R->order->u.items[i];
		const char *s;
		size_t len;

		if (!text(R, gn, "string", &s, &len))
			return;
		if (hmap_upsert(&seen, s, len, &slot, &found) != 0) {
			R->rc = PERR_NOMEM;
			break;
		}
		if (found) {
			fail(R, ln(gn), cl(gn), "test-yaml", "group name repeated "
			    "in evaluation order: %.*s", (int)len, s);
			hmap_free(&seen);
			return;
		}
	}
	hmap_free(&seen);
	if ((R->rc = load_rules(R, o)) != 0)
		return;
	for (size_t i = 0; i < count(tests) && R->rc == 0; i++)
		run_group(R, tests->u.items[i]);
}

/*
 * A YAML syntax error as gopkg.in/yaml.v2 words it: "line N" is the
 * problem's 0-based line (one more for the scanner's errors, which stop
 * before counting their line), else the context's, and is left out when
 * that is 0.
 */
static void
yaml_failure(struct runner *R, const struct ydoc_error *ye)
{
	const char *what = ye->problem != NULL ? ye->problem :
	    "unknown problem parsing YAML content";
	unsigned line = 0;

	if (ye->alias[0] != '\0') {
		/* Found by the decoder, which gives no line. */
		fail(R, ye->line + 1, ye->col + 1, "test-yaml", "yaml: unknown "
		    "anchor '%s' referenced", ye->alias);
		return;
	}
	if (ye->line != 0)
		line = ye->line + (ye->scanner ? 1 : 0);
	else
		line = ye->context_line;
	if (line != 0)
		fail(R, ye->line + 1, ye->col + 1, "test-yaml",
		    "yaml: line %u: %s", line, what);
	else
		fail(R, ye->line + 1, ye->col + 1, "test-yaml", "yaml: %s",
		    what);
}

int
utest_run(const char *path, const struct utest_opts *o,
    struct utest_report *rep, struct perr *e)
{
	struct runner R;
	struct buf text = BUF_INIT(TEST_FILE_MAX);
	struct ydoc_reader rd;
	struct ydoc doc;
	struct ydoc_error ye;
	struct perr re;
	int rc;

	memset(&R, 0, sizeof(R));
	memset(&doc, 0, sizeof(doc));
	R.path = path;
	R.rep = rep;
	R.e = e;
	if ((rc = rules_read_file(path, TEST_FILE_MAX, &text, &re)) != 0) {
		if (rc == PERR_NOMEM)
			return perr_set(e, rc, "out of memory");
		fail(&R, 0, 0, "test-yaml", "%s", re.msg);
		return R.rc != 0 ? perr_set(e, R.rc, "out of memory") : 0;
	}
	if (ydoc_reader_init(&rd, buf_str(&text), text.len) != 0) {
		buf_free(&text);
		return perr_set(e, PERR_NOMEM, "out of memory");
	}
	rc = ydoc_next(&rd, &doc, &ye);
	if (rc == PERR_NOMEM) {
		R.rc = rc;
	} else if (rc != 0) {
		yaml_failure(&R, &ye);
	} else {
		R.root = doc.root;
		run_file(&R, o);
	}
	ydoc_free(&doc);
	ydoc_reader_free(&rd);
	buf_free(&text);
	for (size_t i = 0; R.rf != NULL && i < R.nrule_files; i++)
		rules_free(&R.rf[i]);
	free(R.rf);
	for (size_t i = 0; i < R.nrule_files; i++)
		free(R.rule_files[i]);
	free(R.rule_files);
	if (R.rc != 0)
		return perr_set(e, R.rc, "out of memory");
	return 0;
}

/* --- the report --- */

static int
emit_buf(utest_emit_fn emit, void *ctx, enum utest_stream st, struct buf *b)
{
	return emit(ctx, st, buf_str(b), b->len);
}

static int
emit_finding(const char *file, unsigned line, unsigned col,
    enum finding_level level, const char *check, const char *msg,
    enum finding_format format, utest_emit_fn emit, void *ctx)
{
	struct buf b = BUF_INIT(64 * 1024 * 1024);
	struct finding f;
	int rc;

	memset(&f, 0, sizeof(f));
	f.line = line;
	f.col = col;
	f.level = level;
	f.check = check;
	f.msg = (char *)msg;
	if ((rc = finding_format(&b, file, &f, format)) == 0 &&
	    (rc = buf_addc(&b, '\n')) == 0)
		rc = emit_buf(emit, ctx, UTEST_STDOUT, &b);
	buf_free(&b);
	return rc;
}

/* A failure's text on one line, for the one-line formats. */
static char *
one_line(const char *s)
{
	char *c = strdup(s), *p, *q;

	if (c == NULL)
		return NULL;
	for (p = q = c; *p != '\0'; p++) {
		if (*p == '\n') {
			while (q > c && q[-1] == ' ')
				q--;
			*q++ = ' ';
			while (p[1] == ' ')
				p++;
		} else {
			*q++ = *p;
		}
	}
	*q = '\0';
	return c;
}

int
utest_report_write(const struct utest_report *rep, const char *path,
    enum finding_format format, utest_emit_fn emit, void *ctx)
{
	struct buf b = BUF_INIT(64 * 1024 * 1024);
	int rc = 0;

	for (size_t i = 0; i < rep->nrule_files && rc == 0; i++) {
		struct findings *f = &rep->rule_findings[i];

		findings_sort(f);
		for (size_t k = 0; k < f->n && rc == 0; k++)
			rc = emit_finding(rep->rule_files[i], f->v[k].line,
			    f->v[k].col, f->v[k].level, f->v[k].check,
			    f->v[k].msg, format, emit, ctx);
	}
	if (format != FORMAT_TEXT) {
		for (size_t i = 0; i < rep->nwarnings && rc == 0; i++)
			rc = emit_finding(path, 0, 0, FINDING_WARNING,
			    "rule-files", rep->warnings[i] + 11, format, emit,
			    ctx);
		for (size_t i = 0; i < rep->nfail && rc == 0; i++) {
			char *m = one_line(rep->fail[i].text);

			if (m == NULL)
				return PERR_NOMEM;
			rc = emit_finding(rep->fail[i].file, rep->fail[i].line,
			    rep->fail[i].col, FINDING_ERROR, rep->fail[i].check,
			    m, format, emit, ctx);
			free(m);
		}
		return rc;
	}
	if (rc == 0 && (rc = buf_addf(&b, "Unit Testing:  %s\n", path)) == 0)
		rc = emit_buf(emit, ctx, UTEST_STDOUT, &b);
	for (size_t i = 0; i < rep->nwarnings && rc == 0; i++) {
		buf_reset(&b);
		if ((rc = buf_addf(&b, "%s\n", rep->warnings[i])) == 0)
			rc = emit_buf(emit, ctx, UTEST_STDERR, &b);
	}
	if (rc == 0 && rep->nfail == 0)
		rc = emit(ctx, UTEST_STDOUT, "  SUCCESS\n", 10);
	else if (rc == 0)
		rc = emit(ctx, UTEST_STDERR, "  FAILED:\n", 10);
	for (size_t i = 0; i < rep->nfail && rc == 0; i++) {
		buf_reset(&b);
		if ((rc = buf_addf(&b, "%s\n", rep->fail[i].text)) == 0 &&
		    (rc = emit_buf(emit, ctx, UTEST_STDERR, &b)) == 0)
			rc = emit(ctx, UTEST_STDOUT, "\n", 1);
	}
	if (rc == 0)
		rc = emit(ctx, UTEST_STDOUT, "\n", 1);
	buf_free(&b);
	return rc;
}
