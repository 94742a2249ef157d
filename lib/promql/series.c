/* series.c - the series and metric notations of PromQL tests (see series.h). */
#include "promql/series.h"
#include "promql/lex.h"
#include "promql/numfmt.h"
#include "promql/quote.h"
#include "common/buf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
syntax(struct perr *e, const char *s, size_t pos, size_t *err_pos,
    const char *what)
{
	unsigned line = 1, col = 1;

	for (size_t i = 0; i < pos; i++) {
		if (s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	*err_pos = pos;
	return perr_set(e, PERR_INVALID, "%u:%u: parse error: %s", line, col,
	    what);
}

/* syntax with a formatted message. */
static int
syntax_f(struct perr *e, const char *s, size_t pos, size_t *err_pos,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
syntax_f(struct perr *e, const char *s, size_t pos, size_t *err_pos,
    const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return syntax(e, s, pos, err_pos, what);
}

/* Whether lb holds __name__. */
static bool
lb_has_name(const struct pq_lbuilder *lb)
{
	for (size_t i = 0; i < lb->n; i++)
		if (lb->v[i].nlen == 8 && memcmp(lb->v[i].name, PQ_NAME_LABEL,
		    8) == 0)
			return true;
	return false;
}

/* Tokens that may name a metric (the grammar's metric_identifier). */
static bool
metric_token(enum pq_tok t)
{
	switch (t) {
	case PQ_T_IDENT: case PQ_T_METRIC_IDENT: case PQ_T_AVG:
	case PQ_T_BOTTOMK: case PQ_T_BY: case PQ_T_COUNT:
	case PQ_T_COUNT_VALUES: case PQ_T_GROUP: case PQ_T_LAND:
	case PQ_T_LOR: case PQ_T_LUNLESS: case PQ_T_MAX: case PQ_T_MIN:
	case PQ_T_OFFSET: case PQ_T_QUANTILE: case PQ_T_STDDEV:
	case PQ_T_STDVAR: case PQ_T_SUM: case PQ_T_TOPK: case PQ_T_WITHOUT:
	case PQ_T_START: case PQ_T_END:
		return true;
	default:
		return false;
	}
}

/*
 * The metric at the start of s: name and/or label set.  *end is where it
 * ends; in series mode the label set must follow the name directly.
 */
static int
metric(const char *s, size_t len, struct pq_arena *a, bool series,
    const struct pq_lset **out, size_t *end, size_t *err_pos, struct perr *e)
{
	struct pq_lexer lx;
	struct pq_token t, name = {PQ_T_EOF, 0, 0}, ln;
	struct pq_lbuilder lb;
	struct buf v = BUF_INIT(1 << 24);
	const char *lname;
	int rc = 0;

	pq_lb_init(&lb, a);
	/*
	 * The label set as labels.New makes it: as written, a name given
	 * twice there twice, "" kept (ParseMetric) or left out as the storage
	 * leaves it out (series).  After a name, the grammar goes through a
	 * labels.Builder: a name set to "" anywhere goes entirely (below).
	 */
	lb.keep_dups = true;
	lb.keep_empty = !series;
	pq_lex_init(&lx, s, len);
	t = pq_lex_next(&lx);
	if (metric_token(t.type)) {
		name = t;
		*end = t.end;
		lb.keep_empty = true;
		if (series && (t.end >= len || s[t.end] != '{'))
			goto done;
		t = pq_lex_next(&lx);
		if (t.type == PQ_T_EOF)
			goto done;
	}
	if (t.type == PQ_T_EOF && !series && name.end == 0) {
		*end = t.end;
		goto done;		/* ParseMetric(""): no labels */
	}
	if (t.type != PQ_T_LBRACE) {
		/* As the grammar: the empty label set, then a token that
		   neither a metric nor (in series mode) the values may start
		   with. */
		if (t.type == PQ_T_ERROR) {
			rc = syntax(e, s, t.start, err_pos, lx.msg);
		} else {
			buf_reset(&v);
			if (pq_tok_desc(&v, s, t) != 0) {
				rc = perr_set(e, PERR_NOMEM, "out of memory");
				goto out;
			}
			rc = series ? syntax_f(e, s, t.start, err_pos,
			    "unexpected %s in series values", buf_str(&v)) :
			    syntax_f(e, s, t.start, err_pos, "unexpected %s",
			    buf_str(&v));
		}
		goto out;
	}
	for (;;) {
		t = pq_lex_next(&lx);
		if (t.type == PQ_T_RBRACE)
			break;
		if (t.type != PQ_T_IDENT) {
			rc = syntax(e, s, t.start, err_pos, t.type == PQ_T_ERROR ?
			    lx.msg : "unexpected token in label set, expected "
			    "label name");
			goto out;
		}
		ln = t;
		if ((t = pq_lex_next(&lx)).type != PQ_T_EQL) {
			rc = syntax(e, s, t.start, err_pos, "unexpected token in "
			    "label set, expected \"=\"");
			goto out;
		}
		if ((t = pq_lex_next(&lx)).type != PQ_T_STRING) {
			rc = syntax(e, s, t.start, err_pos, "unexpected token in "
			    "label set, expected string");
			goto out;
		}
		buf_reset(&v);
		if (pq_unquote(s + t.start, t.end - t.start, true, &v) != 0) {
			rc = syntax(e, s, t.start, err_pos, "invalid string");
			goto out;
		}
		lname = pq_arena_strdup(a, s + ln.start, ln.end - ln.start);
		if (lname == NULL) {
			rc = perr_set(e, PERR_NOMEM, "out of memory");
			goto out;
		}
		pq_lb_set_copy(&lb, lname, ln.end - ln.start, buf_str(&v), v.len);
		t = pq_lex_next(&lx);
		if (t.type == PQ_T_RBRACE)
			break;
		if (t.type != PQ_T_COMMA) {
			rc = syntax(e, s, t.start, err_pos, "unexpected token in "
			    "label set, expected \",\" or \"}\"");
			goto out;
		}
	}
	*end = t.end;
done:
	if (name.end > name.start) {
		/* labels.NewBuilder(set).Set("__name__", name).Labels(). */
		for (size_t i = 0; i < lb.n; ) {
			if (lb.v[i].vlen == 0) {
				const char *dn = lb.v[i].name;
				size_t dl = lb.v[i].nlen, j, k = 0;

				for (j = 0; j < lb.n; j++)
					if (lb.v[j].nlen != dl || memcmp(lb.v[j].name,
					    dn, dl) != 0)
						lb.v[k++] = lb.v[j];
				lb.n = k;
				i = 0;
				continue;
			}
			i++;
		}
		while (lb.n > 0 && lb_has_name(&lb))
			pq_lb_del(&lb, PQ_NAME_LABEL, 8);
		lb.keep_dups = false;
		pq_lb_set_copy(&lb, PQ_NAME_LABEL, 8, s + name.start,
		    name.end - name.start);
	}
	if ((*out = pq_lb_finish(&lb)) == NULL)
		rc = perr_set(e, PERR_NOMEM, "out of memory");
out:
	buf_free(&v);
	pq_lb_free(&lb);
	return rc;
}

const char *
pq_lset_storable(const struct pq_lset *ls, struct buf *b)
{
	buf_reset(b);
	if (ls->n == 0)
		return "empty labelset: invalid sample";
	for (uint32_t i = 1; i < ls->n; i++)
		if (ls->l[i].nlen == ls->l[i - 1].nlen && memcmp(ls->l[i].name,
		    ls->l[i - 1].name, ls->l[i].nlen) == 0) {
			if (buf_addf(b, "label name \"%.*s\" is not unique: "
			    "invalid sample", (int)ls->l[i].nlen,
			    ls->l[i].name) != 0)
				return "out of memory";
			return buf_str(b);
		}
	return NULL;
}

int
pq_parse_metric(const char *s, size_t len, struct pq_arena *a,
    const struct pq_lset **out, size_t *err_pos, struct perr *e)
{
	size_t end = 0;
	int rc = metric(s, len, a, false, out, &end, err_pos, e);

	if (rc != 0)
		return rc;
	while (end < len && isspace((unsigned char)s[end]))
		end++;
	if (end != len)
		return syntax(e, s, end, err_pos, "unexpected input after the "
		    "metric");
	return 0;
}

/* Go's ParseInt(s, 0, 64) falling back to ParseFloat, as parser.number. */
static bool
number(const char *s, size_t n, double *out)
{
	char tmp[128], *end;
	long long v;

	if (n == 0 || n >= sizeof(tmp))
		return false;
	if ((n == 3 && (strncasecmp(s, "inf", 3) == 0 ||
	    strncasecmp(s, "nan", 3) == 0)))
		return pq_parse_float(s, n, out);
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	v = strtoll(tmp, &end, 0);
	if (end == tmp + n && errno == 0 && isdigit((unsigned char)tmp[0])) {
		*out = (double)v;
		return true;
	}
	return pq_parse_float(s, n, out);
}

/* A number of the value sequence at s[*i]: digits, point, exponent. */
static size_t
scan_number(const char *s, size_t len, size_t i)
{
	size_t k = i;

	while (k < len && isdigit((unsigned char)s[k]))
		k++;
	if (k < len && s[k] == '.')
		for (k++; k < len && isdigit((unsigned char)s[k]); k++)
			;
	if (k < len && (s[k] == 'e' || s[k] == 'E')) {
		k++;
		if (k < len && (s[k] == '+' || s[k] == '-'))
			k++;
		while (k < len && isdigit((unsigned char)s[k]))
			k++;
	}
	return k;
}

/* One value (number, Inf, NaN, stale) at s[*i]; *stale for "stale". */
static bool
value(const char *s, size_t len, size_t *i, double *v, bool *stale,
    bool signed_only)
{
	size_t k = *i, start;
	double sign = 1;

	*stale = false;
	if (k < len && (s[k] == '+' || s[k] == '-')) {
		sign = s[k] == '-' ? -1 : 1;
		k++;
	} else if (signed_only) {
		return false;
	}
	start = k;
	if (k < len && (isdigit((unsigned char)s[k]) || (s[k] == '.' &&
	    k + 1 < len && isdigit((unsigned char)s[k + 1])))) {
		k = scan_number(s, len, k);
		/* Only the repetition's 'x' may follow a number directly. */
		if (k < len && (isalnum((unsigned char)s[k]) || s[k] == '_') &&
		    s[k] != 'x')
			return false;
	} else if (k < len && (isalpha((unsigned char)s[k]) || s[k] == '_')) {
		while (k < len && (isalnum((unsigned char)s[k]) || s[k] == '_' ||
		    s[k] == ':'))
			k++;
		if (k - start == 5 && memcmp(s + start, "stale", 5) == 0 &&
		    sign > 0 && start == *i) {
			*stale = true;
			*i = k;
			return true;
		}
		if (k - start != 3 || (strncasecmp(s + start, "inf", 3) != 0 &&
		    strncasecmp(s + start, "nan", 3) != 0))
			return false;
	} else {
		return false;
	}
	if (!number(s + start, k - start, v))
		return false;
	*v *= sign;
	*i = k;
	return true;
}

/* "xN" at s[*i]: N in decimal (ParseUint). */
static bool
times(const char *s, size_t len, size_t *i, uint64_t *n)
{
	size_t k = *i + 1;
	uint64_t v = 0;

	if (*i >= len || s[*i] != 'x' || k >= len ||
	    !isdigit((unsigned char)s[k]))
		return false;
	for (; k < len && isdigit((unsigned char)s[k]); k++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[k] - '0');
	}
	*i = k;
	*n = v;
	return true;
}

int
pq_parse_series(const char *s, size_t len, struct pq_arena *a,
    const struct pq_lset **labels, struct pq_seq_item **items,
    size_t *nitems, size_t *err_pos, struct perr *e)
{
	struct pq_seq_item *v = NULL, *nv;
	size_t n = 0, cap = 0, i = 0, at;
	uint64_t total = 0;
	int rc;

	*items = NULL;
	*nitems = 0;
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	if ((rc = metric(s + i, len - i, a, true, labels, &at, err_pos, e)) != 0) {
		*err_pos += i;
		return rc;
	}
	i += at;
	for (;;) {
		struct pq_seq_item it;
		size_t blanks = i;

		while (i < len && isspace((unsigned char)s[i]))
			i++;
		if (i >= len)
			break;
		if (i == blanks)
			return syntax(e, s, i, err_pos, "unexpected character in "
			    "series values");
		memset(&it, 0, sizeof(it));
		at = i;
		if (s[i] == '_') {
			i++;
			it.omitted = true;
			it.count = 1;
			if (i < len && s[i] == 'x' && !times(s, len, &i, &it.count))
				return syntax(e, s, i, err_pos, "invalid "
				    "repetition in series values");
		} else if (!value(s, len, &i, &it.start, &it.stale, false)) {
			return syntax(e, s, at, err_pos, "unexpected input in "
			    "series values, expected number or \"stale\"");
		} else if (it.stale) {
			it.count = 1;
		} else {
			it.count = 1;
			if (i < len && (s[i] == '+' || s[i] == '-')) {
				bool stale;

				if (!value(s, len, &i, &it.delta, &stale, true) ||
				    stale || i >= len || s[i] != 'x')
					return syntax(e, s, i, err_pos,
					    "unexpected input in series values, "
					    "expected \"x\"");
			}
			if (i < len && s[i] == 'x') {
				if (!times(s, len, &i, &it.count))
					return syntax(e, s, i, err_pos, "invalid "
					    "repetition in series values");
				if (it.count == UINT64_MAX)
					return syntax(e, s, i, err_pos,
					    "repetition too large");
				it.count++;	/* "AxN" is N+1 values */
			}
		}
		if (i < len && !isspace((unsigned char)s[i]))
			return syntax(e, s, i, err_pos, "unexpected character in "
			    "series values");
		if (it.count > PQ_SERIES_VALUES_MAX ||
		    (total += it.count) > PQ_SERIES_VALUES_MAX)
			return perr_set(e, PERR_LIMIT, "series values: more than "
			    "%d values", PQ_SERIES_VALUES_MAX);
		if ((nv = pq_arena_grow(a, v, n, &cap, sizeof(*nv), 16)) == NULL)
			return perr_set(e, PERR_NOMEM, "out of memory");
		v = nv;
		v[n++] = it;
	}
	*items = v;
	*nitems = n;
	return 0;
}
