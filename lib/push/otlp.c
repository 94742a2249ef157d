/* otlp.c - OTLP/HTTP metrics (see otlp.h). */
#define _POSIX_C_SOURCE 200809L
#include "push/otlp.h"
#include "journal/journal.h"
#include "push/pb.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PROMRUN_VERSION
#define PROMRUN_VERSION "unknown"
#endif

#define DEPTH 9			/* nesting of the deepest message */
#define LEVEL_MAX (256u << 20)
#define CUMULATIVE 2		/* AggregationTemporality */

enum kind { K_GAUGE, K_SUM, K_HISTOGRAM, K_SUMMARY };

/* One data point, whatever its kind. */
struct point {
	const struct series *s;	/* the series whose labels it carries */
	long long start, time;	/* ms */
	double value;		/* Gauge, Sum */
	double count, sum;	/* Histogram, Summary */
	double *bounds, *counts;	/* Histogram: le and its count */
	size_t nb;		/* buckets, +Inf included when given */
	double *q, *qv;		/* Summary: quantile and value */
	size_t nq;
};

struct metric {
	const struct series_family *f;
	enum kind kind;
	struct point *pts;
	size_t n, cap;
	struct hmap groups;	/* histogram/summary: labels -> point */
};

struct model {
	struct metric *m;	/* one per family, in the set's order */
	size_t n;
	const char *rk[ENDPOINT_MAX_RESOURCE + 2];	/* resource attributes */
	const char *rv[ENDPOINT_MAX_RESOURCE + 2];
	size_t nr;
	char host[256];
	char *copies[ENDPOINT_MAX_RESOURCE];	/* "KEY\0VALUE" of -r args */
};

static enum kind
kind_of(enum expfmt_type t)
{
	switch (t) {
	case EXPFMT_COUNTER:
		return K_SUM;
	case EXPFMT_HISTOGRAM:
		return K_HISTOGRAM;
	case EXPFMT_SUMMARY:
		return K_SUMMARY;
	default:
		return K_GAUGE;
	}
}

static const char *
label_value(const struct series *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nlabels; i++)
		if (strcmp(s->labels[i].name, name) == 0)
			return s->labels[i].value;
	return NULL;
}

static bool
is_attribute(const struct metric *m, const char *name)
{
	return !((m->kind == K_HISTOGRAM && strcmp(name, "le") == 0) ||
	    (m->kind == K_SUMMARY && strcmp(name, "quantile") == 0));
}

static struct point *
new_point(struct metric *m, const struct series *s)
{
	struct point *grown;

	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 16;
		if ((grown = realloc(m->pts, m->cap * sizeof(*grown))) == NULL)
			return NULL;
		m->pts = grown;
	}
	memset(&m->pts[m->n], 0, sizeof(*grown));
	m->pts[m->n].s = s;
	m->pts[m->n].time = s->time;
	return &m->pts[m->n++];
}

/* The point of a histogram's or summary's series: its labels but le/quantile. */
static struct point *
group_point(struct metric *m, const struct series *s, struct buf *key,
    struct perr *e)
{
	size_t i, *slot;
	bool found;

	buf_reset(key);
	for (i = 0; i < s->nlabels; i++)
		if (is_attribute(m, s->labels[i].name) &&
		    (buf_adds(key, s->labels[i].name) != 0 ||
		    buf_addc(key, '=') != 0 ||
		    expfmt_write_label_value(key, s->labels[i].value) != 0 ||
		    buf_addc(key, '\n') != 0)) {
			perr_set(e, PERR_LIMIT, "series too long: %.200s", s->key);
			return NULL;
		}
	if (hmap_upsert(&m->groups, key->p != NULL ? key->p : "", key->len,
	    &slot, &found) != 0)
		goto nomem;
	if (found)
		return &m->pts[*slot];
	*slot = m->n;
	if (new_point(m, s) == NULL)
		goto nomem;
	return &m->pts[m->n - 1];
nomem:
	perr_set(e, PERR_NOMEM, "out of memory");
	return NULL;
}

static int
append_pair(double **a, double **b, size_t *n, double x, double y)
{
	double *ga, *gb;

	if ((ga = realloc(*a, (*n + 1) * sizeof(double))) == NULL)
		return PERR_NOMEM;
	*a = ga;
	if ((gb = realloc(*b, (*n + 1) * sizeof(double))) == NULL)
		return PERR_NOMEM;
	*b = gb;
	ga[*n] = x;
	gb[*n] = y;
	(*n)++;
	return 0;
}

static bool
ends_with(const char *s, const char *base, const char *suffix)
{
	size_t bl = strlen(base);

	return strncmp(s, base, bl) == 0 && strcmp(s + bl, suffix) == 0;
}

/* A histogram's or summary's series into its point. */
static int
add_part(struct metric *m, const struct series *s, long long start,
    struct buf *key, struct perr *e)
{
	const char *name = m->f->name, *v;
	struct point *p;
	double x;
	char *end;

	if ((p = group_point(m, s, key, e)) == NULL)
		return e->code;
	if (ends_with(s->name, name, "_sum")) {
		p->sum = s->value;
		return 0;
	}
	if (ends_with(s->name, name, "_count")) {
		p->count = s->value;
		p->start = start;	/* a reset shows in the count */
		p->s = s;
		return 0;
	}
	v = label_value(s, m->kind == K_HISTOGRAM ? "le" : "quantile");
	x = v != NULL ? strtod(v, &end) : NAN;
	if (v == NULL || end == v || *end != '\0')
		return perr_set(e, PERR_INVALID, "%.200s: a %s sample without "
		    "a number in %s", s->key, m->kind == K_HISTOGRAM ?
		    "bucket" : "summary", m->kind == K_HISTOGRAM ? "le" :
		    "quantile");
	if (m->kind == K_HISTOGRAM && p->nb > 0 && !(x > p->bounds[p->nb - 1]))
		return perr_set(e, PERR_INVALID, "%.200s: bucket bounds must "
		    "increase", s->key);
	if ((m->kind == K_HISTOGRAM ? append_pair(&p->bounds, &p->counts,
	    &p->nb, x, s->value) : append_pair(&p->q, &p->qv, &p->nq, x,
	    s->value)) != 0)
		return perr_set(e, PERR_NOMEM, "out of memory");
	return 0;
}

/* Cumulative bucket counts into OTLP's per-bucket ones, +Inf last. */
static void
finish_histogram(struct point *p)
{
	size_t i;

	if (p->nb == 0 || !isinf(p->bounds[p->nb - 1])) {
		/* No +Inf bucket given: _count is its value. */
		if (append_pair(&p->bounds, &p->counts, &p->nb, INFINITY,
		    p->count) != 0)
			return;
	}
	for (i = p->nb - 1; i > 0; i--)
		p->counts[i] -= p->counts[i - 1];
}

static void
free_model(struct model *md)
{
	size_t i, j;

	for (i = 0; i < md->n; i++) {
		for (j = 0; j < md->m[i].n; j++) {
			free(md->m[i].pts[j].bounds);
			free(md->m[i].pts[j].counts);
			free(md->m[i].pts[j].q);
			free(md->m[i].pts[j].qv);
		}
		free(md->m[i].pts);
		hmap_free(&md->m[i].groups);
	}
	free(md->m);
	for (i = 0; i < ENDPOINT_MAX_RESOURCE; i++)
		free(md->copies[i]);
}

/* service.name, host.name, then KEY=VALUE pairs, a repeated key replacing. */
static int
set_resource(struct model *md, const struct endpoint_options *o,
    struct perr *e)
{
	size_t i, j;
	char *eq;

	if (gethostname(md->host, sizeof(md->host)) != 0)
		snprintf(md->host, sizeof(md->host), "localhost");
	md->host[sizeof(md->host) - 1] = '\0';
	md->rk[0] = "service.name";
	md->rv[0] = "promrun";
	md->rk[1] = "host.name";
	md->rv[1] = md->host;
	md->nr = 2;
	for (i = 0; i < o->nresource; i++) {
		if ((md->copies[i] = strdup(o->resource[i])) == NULL)
			return perr_set(e, PERR_NOMEM, "out of memory");
		if ((eq = strchr(md->copies[i], '=')) == NULL ||
		    eq == md->copies[i])
			return perr_set(e, PERR_INVALID, "--otlp-resource %.100s: "
			    "use KEY=VALUE", o->resource[i]);
		*eq = '\0';
		for (j = 0; j < md->nr && strcmp(md->rk[j], md->copies[i]) != 0;
		    j++)
			;
		md->rk[j] = md->copies[i];
		md->rv[j] = eq + 1;
		if (j == md->nr)
			md->nr++;
	}
	return 0;
}

static int
build(struct model *md, const struct endpoint_options *o,
    const struct series_set *set, const long long *starts, struct perr *e)
{
	struct buf key = BUF_INIT(1u << 20);
	struct metric *m;
	struct point *p;
	size_t i, j;
	int rc;

	memset(md, 0, sizeof(*md));
	if ((rc = set_resource(md, o, e)) != 0)
		return rc;
	if (set->nfamilies > 0 && (md->m = calloc(set->nfamilies,
	    sizeof(*md->m))) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	md->n = set->nfamilies;
	for (i = 0; i < md->n; i++) {
		md->m[i].f = &set->families[i];
		md->m[i].kind = kind_of(set->families[i].type);
	}
	for (i = 0; rc == 0 && i < set->nseries; i++) {
		m = &md->m[set->series[i].family];
		if (m->kind == K_HISTOGRAM || m->kind == K_SUMMARY) {
			rc = add_part(m, &set->series[i], starts[i], &key, e);
		} else if ((p = new_point(m, &set->series[i])) == NULL) {
			rc = perr_set(e, PERR_NOMEM, "out of memory");
		} else {
			p->value = set->series[i].value;
			p->start = starts[i];
		}
	}
	for (i = 0; rc == 0 && i < md->n; i++)
		for (j = 0; md->m[i].kind == K_HISTOGRAM && j < md->m[i].n; j++)
			finish_histogram(&md->m[i].pts[j]);
	buf_free(&key);
	return rc;
}

/* --- protobuf --- */

struct enc {
	struct buf lv[DEPTH];
};

static uint64_t
nanos(long long ms)
{
	return ms > 0 ? (uint64_t)ms * 1000000u : 0;
}

/* The message built at level d, as field of the message at d - 1. */
static int
close_level(struct enc *x, int d, unsigned field)
{
	int rc = pb_len(&x->lv[d - 1], field, x->lv[d].p, x->lv[d].len);

	buf_reset(&x->lv[d]);
	return rc;
}

static int
pb_str(struct buf *b, unsigned field, const char *s)
{
	return pb_len(b, field, s, strlen(s));
}

/* AnyValue { string_value = 1; } */
static int
any_value(struct enc *x, int d, const char *v)
{
	int rc;

	if ((rc = pb_str(&x->lv[d], 1, v)) != 0)
		return rc;
	return close_level(x, d, 2);
}

/* KeyValue { key = 1; value = 2; } as field of level d - 1. */
static int
key_value(struct enc *x, int d, unsigned field, const char *k, const char *v)
{
	int rc;

	if ((rc = pb_str(&x->lv[d], 1, k)) != 0 ||
	    (rc = any_value(x, d + 1, v)) != 0)
		return rc;
	return close_level(x, d, field);
}

static int
attributes(struct enc *x, int d, unsigned field, const struct metric *m,
    const struct series *s)
{
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < s->nlabels; i++)
		if (is_attribute(m, s->labels[i].name))
			rc = key_value(x, d, field, s->labels[i].name,
			    s->labels[i].value);
	return rc;
}

/* NumberDataPoint { start 2; time 3; as_double 4; attributes 7; } */
static int
number_point(struct enc *x, int d, const struct metric *m,
    const struct point *p)
{
	struct buf *b = &x->lv[d];
	int rc;

	if ((m->kind == K_SUM && (rc = pb_fixed64(b, 2, nanos(p->start))) !=
	    0) || (rc = pb_fixed64(b, 3, nanos(p->time))) != 0 ||
	    (rc = pb_double(b, 4, p->value)) != 0 ||
	    (rc = attributes(x, d + 1, 7, m, p->s)) != 0)
		return rc;
	return close_level(x, d, 1);
}

/* packed repeated fixed64 (as_counts) or double, as field. */
static int
packed(struct buf *b, unsigned field, const double *v, size_t n,
    bool as_counts)
{
	uint64_t bits;
	size_t i;
	int k, rc;
	char le[8];

	if (n == 0)
		return 0;	/* proto3 leaves an empty packed field out */
	if ((rc = pb_tag(b, field, PB_LEN)) != 0 ||
	    (rc = pb_varint(b, 8 * n)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if (as_counts)
			bits = (uint64_t)llround(v[i] > 0 ? v[i] : 0);
		else
			memcpy(&bits, &v[i], sizeof(bits));
		for (k = 0; k < 8; k++)
			le[k] = (char)(bits >> (8 * k));
		if ((rc = buf_add(b, le, 8)) != 0)
			return rc;
	}
	return 0;
}

/*
 * HistogramDataPoint { start 2; time 3; count 4; sum 5; bucket_counts 6;
 * explicit_bounds 7; attributes 9; }
 */
static int
histogram_point(struct enc *x, int d, const struct metric *m,
    const struct point *p)
{
	struct buf *b = &x->lv[d];
	int rc;

	if ((rc = pb_fixed64(b, 2, nanos(p->start))) != 0 ||
	    (rc = pb_fixed64(b, 3, nanos(p->time))) != 0 ||
	    (rc = pb_fixed64(b, 4, (uint64_t)llround(p->count))) != 0 ||
	    (rc = pb_double(b, 5, p->sum)) != 0 ||
	    (rc = packed(b, 6, p->counts, p->nb, true)) != 0 ||
	    (rc = packed(b, 7, p->bounds, p->nb - 1, false)) != 0 ||
	    (rc = attributes(x, d + 1, 9, m, p->s)) != 0)
		return rc;
	return close_level(x, d, 1);
}

/*
 * SummaryDataPoint { start 2; time 3; count 4; sum 5; quantile_values 6
 * { quantile 1; value 2; }; attributes 7; }
 */
static int
summary_point(struct enc *x, int d, const struct metric *m,
    const struct point *p)
{
	struct buf *b = &x->lv[d];
	size_t i;
	int rc;

	if ((rc = pb_fixed64(b, 2, nanos(p->start))) != 0 ||
	    (rc = pb_fixed64(b, 3, nanos(p->time))) != 0 ||
	    (rc = pb_fixed64(b, 4, (uint64_t)llround(p->count))) != 0 ||
	    (rc = pb_double(b, 5, p->sum)) != 0)
		return rc;
	for (i = 0; i < p->nq; i++)
		if ((rc = pb_double(&x->lv[d + 1], 1, p->q[i])) != 0 ||
		    (rc = pb_double(&x->lv[d + 1], 2, p->qv[i])) != 0 ||
		    (rc = close_level(x, d + 1, 6)) != 0)
			return rc;
	if ((rc = attributes(x, d + 1, 7, m, p->s)) != 0)
		return rc;
	return close_level(x, d, 1);
}

/*
 * Metric { name 1; description 2; gauge 5 | sum 7 | histogram 9 |
 * summary 11; } with Gauge { data_points 1; }, Sum { data_points 1;
 * aggregation_temporality 2; is_monotonic 3; }, Histogram { data_points
 * 1; aggregation_temporality 2; }, Summary { data_points 1; }.
 */
static int
metric(struct enc *x, int d, const struct metric *m)
{
	static const unsigned data_field[] = {5, 7, 9, 11};
	struct buf *b = &x->lv[d];
	size_t i;
	int rc = 0;

	if ((rc = pb_str(b, 1, m->f->name)) != 0 ||
	    (m->f->help[0] != '\0' && (rc = pb_str(b, 2, m->f->help)) != 0))
		return rc;
	for (i = 0; rc == 0 && i < m->n; i++)
		rc = m->kind == K_HISTOGRAM ? histogram_point(x, d + 2, m,
		    &m->pts[i]) : m->kind == K_SUMMARY ? summary_point(x, d + 2,
		    m, &m->pts[i]) : number_point(x, d + 2, m, &m->pts[i]);
	if (rc == 0 && (m->kind == K_SUM || m->kind == K_HISTOGRAM) &&
	    ((rc = pb_tag(&x->lv[d + 1], 2, PB_VARINT)) != 0 ||
	    (rc = pb_varint(&x->lv[d + 1], CUMULATIVE)) != 0))
		return rc;
	if (rc == 0 && m->kind == K_SUM &&
	    ((rc = pb_tag(&x->lv[d + 1], 3, PB_VARINT)) != 0 ||
	    (rc = pb_varint(&x->lv[d + 1], 1)) != 0))
		return rc;
	if (rc != 0 || (rc = close_level(x, d + 1, data_field[m->kind])) != 0)
		return rc;
	return close_level(x, d, 2);
}

/*
 * ExportMetricsServiceRequest { resource_metrics 1; }, ResourceMetrics {
 * resource 1; scope_metrics 2; }, Resource { attributes 1; },
 * ScopeMetrics { scope 1; metrics 2; }, InstrumentationScope { name 1;
 * version 2; }.
 */
static int
request_pb(const struct model *md, struct buf *out)
{
	struct enc x;
	size_t i;
	int d, rc = 0;

	for (d = 0; d < DEPTH; d++)
		buf_init(&x.lv[d], LEVEL_MAX);
	/* resource (level 2 in ResourceMetrics at level 1) */
	for (i = 0; rc == 0 && i < md->nr; i++)
		rc = key_value(&x, 3, 1, md->rk[i], md->rv[i]);
	if (rc == 0)
		rc = close_level(&x, 2, 1);
	/* scope_metrics (level 2): the scope, then each metric */
	if (rc == 0 && ((rc = pb_str(&x.lv[3], 1, "promrun")) != 0 ||
	    (rc = pb_str(&x.lv[3], 2, PROMRUN_VERSION)) != 0 ||
	    (rc = close_level(&x, 3, 1)) != 0))
		goto out;
	for (i = 0; rc == 0 && i < md->n; i++)
		if (md->m[i].n > 0)
			rc = metric(&x, 3, &md->m[i]);
	if (rc == 0 && (rc = close_level(&x, 2, 2)) == 0)
		rc = close_level(&x, 1, 1);
	if (rc == 0)
		rc = buf_add(out, x.lv[0].p != NULL ? x.lv[0].p : "",
		    x.lv[0].len);
out:
	for (d = 0; d < DEPTH; d++)
		buf_free(&x.lv[d]);
	return rc;
}

/* --- JSON (protobuf's JSON mapping, as OTLP/HTTP defines it) --- */

/* A double: a number, or "NaN", "Infinity", "-Infinity" as strings. */
static json_t *
jdouble(double v)
{
	if (isnan(v))
		return json_string("NaN");
	if (isinf(v))
		return json_string(v > 0 ? "Infinity" : "-Infinity");
	return json_real(v);
}

/* A 64-bit integer: a decimal string. */
static json_t *
juint(uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
	return json_string(s);
}

static json_t *
jkv(const char *k, const char *v)
{
	return json_pack("{s:s, s:{s:s}}", "key", k, "value", "stringValue",
	    v);
}

static json_t *
jattributes(const struct metric *m, const struct series *s)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < s->nlabels; i++)
		if (is_attribute(m, s->labels[i].name))
			json_array_append_new(a, jkv(s->labels[i].name,
			    s->labels[i].value));
	return a;
}

static json_t *
jpoint(const struct metric *m, const struct point *p)
{
	json_t *o = json_object(), *counts, *bounds, *qv;
	size_t i;

	json_object_set_new(o, "attributes", jattributes(m, p->s));
	if (m->kind != K_GAUGE)
		json_object_set_new(o, "startTimeUnixNano", juint(nanos(p->start)));
	json_object_set_new(o, "timeUnixNano", juint(nanos(p->time)));
	if (m->kind == K_GAUGE || m->kind == K_SUM) {
		json_object_set_new(o, "asDouble", jdouble(p->value));
		return o;
	}
	json_object_set_new(o, "count", juint((uint64_t)llround(p->count)));
	json_object_set_new(o, "sum", jdouble(p->sum));
	if (m->kind == K_SUMMARY) {
		qv = json_array();
		for (i = 0; i < p->nq; i++)
			json_array_append_new(qv, json_pack("{s:o, s:o}",
			    "quantile", jdouble(p->q[i]), "value",
			    jdouble(p->qv[i])));
		json_object_set_new(o, "quantileValues", qv);
		return o;
	}
	counts = json_array();
	bounds = json_array();
	for (i = 0; i < p->nb; i++) {
		json_array_append_new(counts, juint((uint64_t)llround(
		    p->counts[i] > 0 ? p->counts[i] : 0)));
		if (i + 1 < p->nb)
			json_array_append_new(bounds, jdouble(p->bounds[i]));
	}
	json_object_set_new(o, "bucketCounts", counts);
	json_object_set_new(o, "explicitBounds", bounds);
	return o;
}

static json_t *
jmetric(const struct metric *m)
{
	static const char *const data_name[] = {"gauge", "sum", "histogram",
	    "summary"};
	json_t *o = json_object(), *data = json_object(), *pts = json_array();
	size_t i;

	json_object_set_new(o, "name", json_string(m->f->name));
	if (m->f->help[0] != '\0')
		json_object_set_new(o, "description", json_string(m->f->help));
	for (i = 0; i < m->n; i++)
		json_array_append_new(pts, jpoint(m, &m->pts[i]));
	json_object_set_new(data, "dataPoints", pts);
	if (m->kind == K_SUM || m->kind == K_HISTOGRAM)
		json_object_set_new(data, "aggregationTemporality",
		    json_integer(CUMULATIVE));
	if (m->kind == K_SUM)
		json_object_set_new(data, "isMonotonic", json_true());
	json_object_set_new(o, data_name[m->kind], data);
	return o;
}

static int
request_json(const struct model *md, struct buf *out)
{
	json_t *attrs = json_array(), *metrics = json_array(), *root;
	char *text;
	size_t i;
	int rc;

	for (i = 0; i < md->nr; i++)
		json_array_append_new(attrs, jkv(md->rk[i], md->rv[i]));
	for (i = 0; i < md->n; i++)
		if (md->m[i].n > 0)
			json_array_append_new(metrics, jmetric(&md->m[i]));
	root = json_pack("{s:[{s:{s:o}, s:[{s:{s:s, s:s}, s:o}]}]}",
	    "resourceMetrics", "resource", "attributes", attrs,
	    "scopeMetrics", "scope", "name", "promrun", "version",
	    PROMRUN_VERSION, "metrics", metrics);
	/* jansson reports no allocation failure but through NULLs. */
	if (root == NULL || (text = json_dumps(root, JSON_COMPACT |
	    JSON_ENSURE_ASCII)) == NULL) {
		json_decref(root);
		return PERR_NOMEM;
	}
	rc = buf_adds(out, text);
	free(text);
	json_decref(root);
	return rc;
}

int
otlp_encode(const struct endpoint_options *o, const struct series_set *set,
    const long long *starts, struct buf *out, struct perr *e)
{
	struct model md;
	int rc;

	if ((rc = build(&md, o, set, starts, e)) == 0) {
		rc = o->json ? request_json(&md, out) : request_pb(&md, out);
		if (rc != 0)
			perr_set(e, rc, "the OTLP request is too large");
	}
	free_model(&md);
	return rc;
}

/* --- the answer --- */

static bool
read_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	unsigned shift;

	*v = 0;
	for (shift = 0; *p < end && shift < 64; shift += 7) {
		*v |= (uint64_t)(**p & 0x7f) << shift;
		if ((*(*p)++ & 0x80) == 0)
			return true;
	}
	return false;
}

/* ExportPartialSuccess { int64 rejected_data_points = 1; string error_message = 2; } */
static void
partial_pb(const unsigned char *p, const unsigned char *end, bool top,
    long long *rejected, char *msg, size_t size)
{
	uint64_t key, v;

	while (p < end && read_varint(&p, end, &key)) {
		if ((key & 7) == PB_VARINT) {
			if (!read_varint(&p, end, &v))
				return;
			if (!top && key >> 3 == 1)
				*rejected = (long long)v;
		} else if ((key & 7) == PB_LEN) {
			if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p))
				return;
			if (top && key >> 3 == 1)
				partial_pb(p, p + v, false, rejected, msg, size);
			else if (!top && key >> 3 == 2)
				snprintf(msg, size, "%.*s", (int)v,
				    (const char *)p);
			p += v;
		} else if ((key & 7) == PB_FIXED64 && end - p >= 8) {
			p += 8;
		} else {
			return;
		}
	}
}

void
otlp_partial(const char *body, size_t len, bool json, long long *rejected,
    char *msg, size_t size)
{
	json_t *root, *ps, *r, *m;

	*rejected = 0;
	msg[0] = '\0';
	if (!json) {
		partial_pb((const unsigned char *)body,
		    (const unsigned char *)body + len, true, rejected, msg,
		    size);
		return;
	}
	if ((root = json_loadb(body, len, 0, NULL)) == NULL)
		return;
	if ((ps = json_object_get(root, "partialSuccess")) != NULL) {
		r = json_object_get(ps, "rejectedDataPoints");
		m = json_object_get(ps, "errorMessage");
		if (json_is_string(r))
			*rejected = strtoll(json_string_value(r), NULL, 10);
		else if (json_is_integer(r))
			*rejected = json_integer_value(r);
		if (json_is_string(m))
			snprintf(msg, size, "%s", json_string_value(m));
	}
	json_decref(root);
}

/* --- start times, and the push --- */

struct first {
	double time;
};

/* The time of the journal's first record that has one. */
static int
on_record(void *ctx, char *payload, size_t len, uint64_t offset)
{
	struct first *f = ctx;
	char *t, *end;

	(void)offset;
	payload[len] = '\0';
	if ((t = strstr(payload, " time=")) == NULL)
		return 0;
	f->time = strtod(t + 6, &end);
	return isfinite(f->time) && f->time > 0 ? 1 : 0;
}

static double
journal_start(const char *path)
{
	const struct journal_scan_cb cb = {on_record, NULL, NULL};
	struct journal_scan_cb c = cb;
	struct journal_stats js;
	struct first f = {NAN};

	c.ctx = &f;
	if (path == NULL || journal_scan(path, 0, &c, &js, NULL) != 1)
		return NAN;
	return f.time;
}

/* When a series first seen began counting (see otlp.h). */
static long long
first_start(const struct endpoint_options *o, const struct series_set *set,
    const struct series *s, double *journal)
{
	size_t i;

	if (isnan(*journal)) {
		*journal = INFINITY;	/* looked up once */
		for (i = 0; i < set->nfamilies; i++)
			if (strcmp(set->families[i].name, "promrun_build_info") ==
			    0) {
				double t = journal_start(o->journal);

				if (isfinite(t))
					*journal = t;
			}
	}
	if (isfinite(*journal))
		return llround(*journal * 1000);
	if (isfinite(set->start_time))
		return llround(set->start_time * 1000);
	return s->time;
}

int
otlp_push(struct push_client *c, const struct endpoint_options *o,
    const struct series_set *set, struct push_state *st,
    struct endpoint_result *res, struct perr *e)
{
	struct buf body = BUF_INIT(PUSH_MAX_INPUT * 4);
	const struct state_rec *prev;
	struct state_rec *recs;
	long long *starts, rejected;
	double journal = NAN;
	const char *answer;
	char msg[256], what[64];
	size_t i, len;
	int rc;

	recs = calloc(set->nseries ? set->nseries : 1, sizeof(*recs));
	starts = calloc(set->nseries ? set->nseries : 1, sizeof(*starts));
	if (recs == NULL || starts == NULL) {
		rc = perr_set(e, PERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < set->nseries; i++) {
		prev = state_lookup(st, set->series[i].key,
		    set->series[i].key_len);
		recs[i].ts = set->series[i].time;
		recs[i].value = set->series[i].value;
		if (prev != NULL && prev->start > 0 &&
		    !(set->series[i].value < prev->value))
			starts[i] = prev->start;
		else if (prev != NULL)
			starts[i] = prev->ts + 1;	/* reset since then */
		else
			starts[i] = first_start(o, set, &set->series[i],
			    &journal);
		recs[i].start = starts[i];
	}
	if ((rc = otlp_encode(o, set, starts, &body, e)) != 0)
		goto out;
	snprintf(what, sizeof(what), "%zu series", set->nseries);
	if ((rc = push_post(c, what, body.p != NULL ? body.p : "", body.len,
	    e)) != 0)
		goto out;
	res->series = set->nseries;
	res->requests = 1;
	res->bytes = res->compressed = body.len;
	answer = push_response(c, &len);
	otlp_partial(answer, len, o->json, &rejected, msg, sizeof(msg));
	/* What was accepted is in: the state moves on either way. */
	if ((rc = state_commit(st, set, recs, e)) != 0)
		goto out;
	if (rejected > 0)
		rc = perr_set(e, PERR_FAILED, "OTLP receiver accepted the push "
		    "only in part: %lld data points rejected: %s (not retried)",
		    rejected, msg[0] != '\0' ? msg : "no reason given");
	else if (msg[0] != '\0')
		push_log(c, "OTLP receiver's warning: %s", msg);
out:
	free(recs);
	free(starts);
	buf_free(&body);
	return rc;
}
