/* remote.c - remote write 1.0 (see remote.h). */
#include "push/remote.h"
#include "push/pb.h"

#include <snappy-c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_LABEL "__name__"
#define SCRATCH_MAX (1u << 20)

/* prompb's MetricMetadata.MetricType. */
static unsigned
metric_type(enum expfmt_type t)
{
	switch (t) {
	case EXPFMT_COUNTER:
		return 1;
	case EXPFMT_GAUGE:
		return 2;
	case EXPFMT_HISTOGRAM:
		return 3;
	case EXPFMT_SUMMARY:
		return 5;
	default:
		return 0;	/* UNKNOWN */
	}
}

static size_t
string_field_size(size_t len)
{
	return 1 + pb_varint_size(len) + len;
}

/* Label { name = 1; value = 2; } as field 1 of TimeSeries. */
static int
label(struct buf *b, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);
	int rc;

	if ((rc = pb_tag(b, 1, PB_LEN)) != 0 ||
	    (rc = pb_varint(b, string_field_size(nl) +
	    string_field_size(vl))) != 0 ||
	    (rc = pb_len(b, 1, name, nl)) != 0)
		return rc;
	return pb_len(b, 2, value, vl);
}

/* Sample { value = 1; timestamp = 2; } as field 2 of TimeSeries. */
static int
sample(struct buf *b, double v, long long ts)
{
	int rc;

	if ((rc = pb_tag(b, 2, PB_LEN)) != 0 ||
	    (rc = pb_varint(b, 9 + 1 + pb_varint_size((uint64_t)ts))) != 0 ||
	    (rc = pb_double(b, 1, v)) != 0 ||
	    (rc = pb_tag(b, 2, PB_VARINT)) != 0)
		return rc;
	return pb_varint(b, (uint64_t)ts);
}

int
remote_timeseries(struct buf *req, struct buf *scratch,
    const struct series *s, double v, long long ts)
{
	bool named = false;
	size_t i;
	int rc = 0;

	buf_reset(scratch);
	/* __name__ in its place among the sorted names ('A' < '_' < 'a'). */
	for (i = 0; rc == 0 && i < s->nlabels; i++) {
		if (!named && strcmp(s->labels[i].name, NAME_LABEL) > 0) {
			named = true;
			if ((rc = label(scratch, NAME_LABEL, s->name)) != 0)
				break;
		}
		rc = label(scratch, s->labels[i].name, s->labels[i].value);
	}
	if (rc == 0 && !named)
		rc = label(scratch, NAME_LABEL, s->name);
	if (rc == 0)
		rc = sample(scratch, v, ts);
	if (rc != 0)
		return rc;
	return pb_len(req, 1, scratch->p, scratch->len);
}

int
remote_metadata(struct buf *req, const struct series_family *f)
{
	size_t nl = strlen(f->name), hl = strlen(f->help), size;
	unsigned type = metric_type(f->type);
	int rc;

	size = string_field_size(nl) + (type != 0 ? 2 : 0) +
	    (hl > 0 ? string_field_size(hl) : 0);
	if ((rc = pb_tag(req, 3, PB_LEN)) != 0 ||
	    (rc = pb_varint(req, size)) != 0)
		return rc;
	if (type != 0 && ((rc = pb_tag(req, 1, PB_VARINT)) != 0 ||
	    (rc = pb_varint(req, type)) != 0))
		return rc;
	if ((rc = pb_len(req, 2, f->name, nl)) != 0)
		return rc;
	return hl > 0 ? pb_len(req, 4, f->help, hl) : 0;
}

int
remote_snappy(const char *in, size_t len, struct buf *out, struct perr *e)
{
	size_t room = snappy_max_compressed_length(len);
	char *space;
	int rc;

	/* Room for snappy's bound, filled in place, the rest given back. */
	buf_reset(out);
	if ((rc = buf_extend(out, room, &space)) != 0)
		return perr_set(e, rc, rc == PERR_LIMIT ? "a request of %zu "
		    "bytes is too large to compress" : "out of memory "
		    "compressing a request of %zu bytes", len);
	if (snappy_compress(in, len, space, &room) != SNAPPY_OK)
		return perr_set(e, PERR_NOMEM, "snappy could not compress a "
		    "request of %zu bytes", len);
	buf_truncate(out, room);
	return 0;
}

struct sender {
	struct push_client *c;
	struct buf req, scratch, z;
	struct buf meta;	/* the metadata, for the end of the first request */
	size_t in_req;		/* series in req */
	struct remote_result res;
	size_t max;
	struct perr *e;
};

static int
flush(struct sender *s)
{
	char what[96];
	int rc;

	if (s->req.len == 0 && s->meta.len == 0)
		return 0;
	/* WriteRequest's field 3 after its field 1, in the first request. */
	if (s->meta.len > 0) {
		if ((rc = buf_add(&s->req, s->meta.p, s->meta.len)) != 0)
			return perr_set(s->e, rc, "out of memory building a "
			    "request");
		buf_free(&s->meta);
	}
	if ((rc = remote_snappy(s->req.p, s->req.len, &s->z, s->e)) != 0)
		return rc;
	s->res.requests++;
	s->res.bytes += s->req.len;
	s->res.compressed += s->z.len;
	snprintf(what, sizeof(what), "%zu series (request %zu)", s->in_req,
	    s->res.requests);
	if ((rc = push_post(s->c, what, s->z.p, s->z.len, s->e)) != 0)
		return rc;
	buf_reset(&s->req);
	s->in_req = 0;
	return 0;
}

/* One series, in the current request if it fits, else in the next. */
static int
add(struct sender *s, const struct series *ser, double v, long long ts)
{
	struct buf one = BUF_INIT(SCRATCH_MAX);
	int rc;

	if ((rc = remote_timeseries(&one, &s->scratch, ser, v, ts)) != 0) {
		buf_free(&one);
		return perr_set(s->e, rc, "series %.200s is too large to send",
		    ser->key);
	}
	if (s->req.len > 0 && s->req.len + s->meta.len + one.len > s->max)
		rc = flush(s);
	if (rc == 0 && (rc = buf_add(&s->req, one.p, one.len)) != 0)
		perr_set(s->e, rc, "out of memory building a request");
	buf_free(&one);
	s->in_req++;
	s->res.series++;
	return rc;
}

static double
stale_nan(void)
{
	uint64_t bits = STATE_STALE_NAN;
	double v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* The markers for st's series that set no longer has. */
static int
add_stale(struct sender *s, const struct series_set *set,
    const struct push_state *st, long long t)
{
	struct series_set gone;
	struct buf keys = BUF_INIT(STATE_MAX_FILE);
	const struct state_rec *prev;
	long long ts;
	size_t i;
	int rc;

	series_set_init(&gone);
	if ((rc = state_vanished(st, set, &keys)) != 0)
		rc = perr_set(s->e, rc, "out of memory");
	else if (keys.len > 0)
		rc = series_set_parse_keys(&gone, keys.p, keys.len, st->path,
		    s->e);
	for (i = 0; rc == 0 && i < gone.nseries; i++) {
		prev = state_lookup(st, gone.series[i].key,
		    gone.series[i].key_len);
		ts = prev != NULL && prev->ts >= t ? prev->ts + 1 : t;
		if ((rc = add(s, &gone.series[i], stale_nan(), ts)) == 0)
			s->res.stale++;
	}
	buf_free(&keys);
	series_set_free(&gone);
	return rc;
}

int
remote_push(struct push_client *c, const struct series_set *set,
    struct push_state *st, long long t, size_t max_request,
    struct remote_result *res, struct perr *e)
{
	struct sender s = {c, BUF_INIT(2 * max_request + SCRATCH_MAX),
	    BUF_INIT(SCRATCH_MAX), BUF_INIT(3 * max_request + SCRATCH_MAX),
	    BUF_INIT(max_request), 0, {0, 0, 0, 0, 0}, max_request, e};
	const struct state_rec *prev;
	struct state_rec *recs;
	size_t i;
	int rc = 0;

	if ((recs = calloc(set->nseries ? set->nseries : 1,
	    sizeof(*recs))) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	for (i = 0; rc == 0 && i < set->nfamilies; i++)
		if ((rc = remote_metadata(&s.meta, &set->families[i])) != 0)
			perr_set(e, rc, "the families' metadata are larger "
			    "than a request may be");
	for (i = 0; rc == 0 && i < set->nseries; i++) {
		prev = state_lookup(st, set->series[i].key,
		    set->series[i].key_len);
		recs[i].value = set->series[i].value;
		recs[i].ts = state_next_ts(prev, set->series[i].time,
		    recs[i].value);
		recs[i].start = prev != NULL ? prev->start : 0;
		rc = add(&s, &set->series[i], recs[i].value, recs[i].ts);
	}
	if (rc == 0)
		rc = add_stale(&s, set, st, t);
	if (rc == 0)
		rc = flush(&s);
	if (rc == 0)
		rc = state_commit(st, set, recs, e);
	if (res != NULL)
		*res = s.res;
	free(recs);
	buf_free(&s.req);
	buf_free(&s.scratch);
	buf_free(&s.z);
	buf_free(&s.meta);
	return rc;
}
