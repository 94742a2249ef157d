/* remote.c - remote write 1.0 (see remote.h). */
#include "push/remote.h"
#include "push/pb.h"
#include "push/snappyapi.h"
#include "common/mem.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

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

/* Bytes of a Label { name = 1; value = 2; } as field 1 of TimeSeries. */
static size_t
label_size(size_t nl, size_t vl)
{
	size_t body = string_field_size(nl) + string_field_size(vl);

	return 1 + pb_varint_size(body) + body;
}

static char *
put_label(char *p, const char *name, size_t nl, const char *value,
    size_t vl)
{
	p = pb_put_tag(p, 1, PB_LEN);
	p = pb_put_varint(p, string_field_size(nl) + string_field_size(vl));
	p = pb_put_len(p, 1, name, nl);
	return pb_put_len(p, 2, value, vl);
}

/* Sample { value = 1; timestamp = 2; }: its size, as field 2 of TimeSeries. */
static size_t
sample_body_size(long long ts)
{
	return 9 + 1 + pb_varint_size((uint64_t)ts);
}

static char *
put_sample(char *p, double v, long long ts)
{
	p = pb_put_tag(p, 2, PB_LEN);
	p = pb_put_varint(p, sample_body_size(ts));
	p = pb_put_double(p, 1, v);
	p = pb_put_tag(p, 2, PB_VARINT);
	return pb_put_varint(p, (uint64_t)ts);
}

/* A TimeSeries measured before it is written: its strings' lengths. */
struct plan {
	size_t body;		/* bytes of the message's body */
	size_t size;		/* and with its tag and length */
	size_t name;		/* strlen of the series' name */
	size_t len[2 * SERIES_MAX_LABELS];	/* of each label's name, value */
};

static int
measure(const struct series *s, long long ts, struct plan *pl)
{
	size_t i;

	if (s->nlabels > SERIES_MAX_LABELS)
		return PERR_LIMIT;
	pl->name = strlen(s->name);
	pl->body = label_size(strlen(NAME_LABEL), pl->name);
	for (i = 0; i < s->nlabels; i++) {
		pl->len[2 * i] = s->lens != NULL ? s->lens[2 * i] :
		    strlen(s->labels[i].name);
		pl->len[2 * i + 1] = s->lens != NULL ? s->lens[2 * i + 1] :
		    strlen(s->labels[i].value);
		pl->body += label_size(pl->len[2 * i], pl->len[2 * i + 1]);
	}
	pl->body += 1 + 1 + sample_body_size(ts);
	pl->size = 1 + pb_varint_size(pl->body) + pl->body;
	return 0;
}

/* Every byte straight into its place: p has room for pl->size. */
static void
write_timeseries(char *p, const struct series *s, const struct plan *pl,
    double v, long long ts)
{
	bool named = false;
	size_t i;

	p = pb_put_varint(pb_put_tag(p, 1, PB_LEN), pl->body);
	/*
	 * __name__ in its place among the sorted names ('A' < '_' < 'a'),
	 * told mostly by the first byte (expfmt_name_cmp).
	 */
	for (i = 0; i < s->nlabels; i++) {
		if (!named && expfmt_name_cmp(s->labels[i].name, NAME_LABEL) >
		    0) {
			named = true;
			p = put_label(p, NAME_LABEL, strlen(NAME_LABEL), s->name,
			    pl->name);
		}
		p = put_label(p, s->labels[i].name, pl->len[2 * i],
		    s->labels[i].value, pl->len[2 * i + 1]);
	}
	if (!named)
		p = put_label(p, NAME_LABEL, strlen(NAME_LABEL), s->name,
		    pl->name);
	(void)put_sample(p, v, ts);
}

int
remote_timeseries(struct buf *req, struct buf *scratch,
    const struct series *s, double v, long long ts)
{
	struct plan pl;
	char *p;
	int rc;

	(void)scratch;
	if ((rc = measure(s, ts, &pl)) != 0 ||
	    (rc = buf_extend(req, pl.size, &p)) != 0)
		return rc;
	write_timeseries(p, s, &pl, v, ts);
	return 0;
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
	struct snappy_stream z;
	const char *block;
	size_t n;
	int rc;

	buf_reset(out);
	if ((rc = snappy_stream_begin(&z, len, e)) == 0) {
		if (z.api->max_compressed_length(len) > out->max)
			rc = PERR_LIMIT;
		else if ((rc = snappy_stream_add(&z, in, len)) == 0 &&
		    (rc = snappy_stream_end(&z, &block, &n)) == 0)
			rc = buf_add(out, block, n);
		if (rc != 0)
			perr_set(e, rc, rc == PERR_LIMIT ? "a request of %zu "
			    "bytes is too large to compress" : "out of memory "
			    "compressing a request of %zu bytes", len);
	}
	snappy_stream_free(&z);
	return rc;
}

/*
 * The requests, made one at a time: each series written straight into
 * the compressor's input (snappy_stream), which compresses it 64 KiB at a
 * time, so a request is never held whole before compression.
 */
struct sender {
	struct push_client *c;
	struct snappy_stream z;	/* the current request */
	const char *block;	/* and, compressed, for post */
	size_t block_len;
	struct buf meta;	/* the metadata, for the end of the first request */
	size_t in_req;		/* series in the current request */
	struct remote_result res;
	size_t max;
	struct perr *e;
};

/* The request written, compressed; *any: there is one. */
static int
pack(struct sender *s, bool *any)
{
	int rc;

	if (!(*any = s->z.total > 0 || s->meta.len > 0))
		return 0;
	/* WriteRequest's field 3 after its field 1, in the first request. */
	if (s->meta.len > 0) {
		if ((rc = snappy_stream_add(&s->z, s->meta.p, s->meta.len)) !=
		    0)
			return perr_set(s->e, rc, "out of memory building a "
			    "request");
		buf_free(&s->meta);
	}
	if ((rc = snappy_stream_end(&s->z, &s->block, &s->block_len)) != 0)
		return perr_set(s->e, rc, rc == PERR_LIMIT ? "a request of %zu "
		    "bytes is too large to compress" : "out of memory "
		    "compressing a request of %zu bytes", s->z.total);
	s->res.requests++;
	s->res.bytes += s->z.total;
	s->res.compressed += s->block_len;
	return 0;
}

/* The compressed request sent. */
static int
post(struct sender *s)
{
	char what[96];

	snprintf(what, sizeof(what), "%zu series (request %zu)", s->in_req,
	    s->res.requests);
	s->in_req = 0;
	return push_post(s->c, what, s->block, s->block_len, s->e);
}

static int
flush(struct sender *s)
{
	bool any;
	int rc;

	if ((rc = pack(s, &any)) != 0 || !any || (rc = post(s)) != 0)
		return rc;
	snappy_stream_reset(&s->z);
	return 0;
}

/* One series, in the current request if it fits, else in the next. */
static int
add(struct sender *s, const struct series *ser, double v, long long ts)
{
	struct plan pl;
	char *p;
	int rc = 0;

	if (measure(ser, ts, &pl) != 0 || pl.size > SCRATCH_MAX)
		return perr_set(s->e, PERR_LIMIT, "series %.200s is too large "
		    "to send", ser->key);
	if (s->z.total > 0 && s->z.total + s->meta.len + pl.size > s->max)
		rc = flush(s);
	if (rc != 0)
		return rc;
	if ((p = snappy_stream_room(&s->z, pl.size)) == NULL)
		return perr_set(s->e, PERR_NOMEM, "out of memory building a "
		    "request");
	write_timeseries(p, ser, &pl, v, ts);
	if ((rc = snappy_stream_wrote(&s->z, pl.size)) != 0)
		return perr_set(s->e, rc, "out of memory building a request");
	s->in_req++;
	s->res.series++;
	return 0;
}

static double
stale_nan(void)
{
	uint64_t bits = STATE_STALE_NAN;
	double v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* The markers for st's series that set no longer has (state_match's). */
static int
add_stale(struct sender *s, const struct push_state *st, long long t)
{
	struct series_set gone;
	struct buf keys = BUF_INIT(STATE_MAX_FILE);
	const struct state_rec *prev;
	long long ts;
	size_t i;
	int rc;

	series_set_init(&gone);
	if ((rc = state_vanished(st, &keys)) != 0)
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

/* The state's new file, written beside the old one by a thread. */
struct state_job {
	struct push_state *st;
	struct series_set *set;
	const struct state_rec *recs;
	int rc;
	struct perr e;
};

static int
write_state(void *arg)
{
	struct state_job *j = arg;

	j->rc = state_write(j->st, j->set, j->recs, &j->e);
	/*
	 * The set freed here too (the input, its series and keys: most of
	 * what the push mapped): off the way from the answer to the exit,
	 * while the receiver works.
	 */
	series_set_free(j->set);
	mem_give_back();
	return 0;
}

/*
 * The last request, and the state after it: the state is known once every
 * series is in a request, so its file is written while the receiver works
 * on the last one (a thread; in turn where none can be started), and put
 * in place only when every request was accepted, else removed.
 */
static int
send_last(struct sender *s, struct push_state *st, struct series_set *set,
    const struct state_rec *recs)
{
	struct state_job job = {st, set, recs, 0, {PERR_OK, 0, ""}};
	bool threaded, any;
	thrd_t writer;
	int rc;

	if ((rc = pack(s, &any)) != 0)
		return rc;
	/*
	 * The client may still be being made (endpoint.h): post waits for
	 * it, and the writer, started first, for any library being loaded.
	 */
	if (!(threaded = thrd_create(&writer, write_state, &job) ==
	    thrd_success))
		(void)write_state(&job);
	if (any)
		rc = post(s);
	if (threaded)
		(void)thrd_join(writer, NULL);
	if (rc == 0 && job.rc != 0) {
		if (s->e != NULL)
			*s->e = job.e;
		rc = job.rc;
	}
	if (rc == 0)
		return state_put(st, s->e);
	state_drop(st);
	return rc;
}

/*
 * Room for the first request's compressed block made at once: a tenth or
 * so of its size, told from the series' keys, which are about as long as
 * their TimeSeries (a label's quotes and separators against its tags and
 * lengths), plus __name__ and the sample; and a piece's bound.
 */
static void
reserve_request(struct sender *s, const struct series_set *set)
{
	size_t size = s->meta.len, i;

	for (i = 0; i < set->nseries && size < s->max; i++)
		size += set->series[i].key_len + 2 * set->series[i].nlabels +
		    40;
	/* A hint: failing, it leaves the buffer empty, as it is. */
	(void)buf_reserve(&s->z.out, (size < s->max ? size : s->max) / 8 +
	    SNAPPY_PIECE + SNAPPY_PIECE / 6 + 64);
}

int
remote_push(struct push_client *c, struct series_set *set,
    struct push_state *st, long long t, size_t max_request,
    struct remote_result *res, struct perr *e)
{
	struct sender s;
	const struct state_rec **prev;
	struct state_rec *recs;
	size_t i;
	int rc = 0;

	memset(&s, 0, sizeof(s));
	s.c = c;
	buf_init(&s.meta, max_request);
	s.max = max_request;
	s.e = e;
	/*
	 * Not zeroed: state_match fills prev, the loop below recs (no
	 * overflow: the set holds a larger struct series per series).
	 */
	recs = malloc((set->nseries ? set->nseries : 1) * sizeof(*recs));
	prev = malloc((set->nseries ? set->nseries : 1) * sizeof(*prev));
	if (recs == NULL || prev == NULL)
		rc = perr_set(e, PERR_NOMEM, "out of memory");
	if (rc == 0)
		rc = state_match(st, set, prev, e);
	/* A request: the series that fit, one past them, the metadata. */
	if (rc == 0)
		rc = snappy_stream_begin(&s.z, 2 * max_request + SCRATCH_MAX, e);
	for (i = 0; rc == 0 && i < set->nfamilies; i++)
		if ((rc = remote_metadata(&s.meta, &set->families[i])) != 0)
			perr_set(e, rc, "the families' metadata are larger "
			    "than a request may be");
	if (rc == 0)
		reserve_request(&s, set);
	for (i = 0; rc == 0 && i < set->nseries; i++) {
		recs[i].value = set->series[i].value;
		recs[i].ts = state_next_ts(prev[i], set->series[i].time,
		    recs[i].value);
		recs[i].start = prev[i] != NULL ? prev[i]->start : 0;
		rc = add(&s, &set->series[i], recs[i].value, recs[i].ts);
	}
	if (rc == 0)
		rc = add_stale(&s, st, t);
	if (rc == 0)
		rc = send_last(&s, st, set, recs);
	if (res != NULL)
		*res = s.res;
	free(recs);
	free(prev);
	snappy_stream_free(&s.z);
	buf_free(&s.meta);
	series_set_free(set);
	return rc;
}
