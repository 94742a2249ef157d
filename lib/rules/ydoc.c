/*
 * ydoc.c - YAML documents as compact trees, from libyaml's events (see
 * ydoc.h).
 *
 * Composing without recursion: the collections being read form a stack,
 * and the children read so far of all of them sit on one more stack, each
 * collection's after its parent's.  When a collection ends, its children
 * move into one array in the arena.
 */
#include "rules/ydoc.h"
#include "common/err.h"
#include "common/hmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)

/* A collection being read; its children so far are pend[first..npend). */
struct open {
	struct ydoc_node *node;
	size_t first;
};

struct builder {
	struct ydoc *d;
	struct ydoc_error *e;
	struct ydoc_node **pend;
	size_t npend, cappend;
	struct open *open;
	size_t nopen, capopen;
	struct hmap anchors;		/* name -> index in anchored */
	struct ydoc_node **anchored;
	size_t nanchored, capanchored;
};

/*
 * v, an array of n elem-sized items with room for *cap, with room for one
 * more (possibly moved), or NULL when memory ran out (v is untouched).
 */
static void *
room(void *v, size_t n, size_t *cap, size_t elem)
{
	size_t ncap;

	if (n < *cap)
		return v;
	ncap = *cap != 0 ? 2 * *cap : 64;
	if ((v = realloc(v, ncap * elem)) != NULL)
		*cap = ncap;
	return v;
}

static int
fail(struct builder *b, const char *problem, const char *context,
    const struct ydoc_node *at)
{
	b->e->problem = problem;
	b->e->context = context;
	b->e->line = at->line;
	b->e->col = at->col;
	b->e->context_line = 0;
	b->e->scanner = false;
	b->e->alias[0] = '\0';
	return PERR_INVALID;
}

static int
parse_error(const yaml_parser_t *p, struct ydoc_error *e)
{
	if (p->error == YAML_MEMORY_ERROR)
		return PERR_NOMEM;
	e->problem = p->problem;
	e->context = p->context;
	e->line = (unsigned)p->problem_mark.line;
	e->col = (unsigned)p->problem_mark.column;
	e->context_line = (unsigned)p->context_mark.line;
	e->scanner = p->error == YAML_SCANNER_ERROR;
	e->alias[0] = '\0';
	return PERR_INVALID;
}

static struct ydoc_node *
new_node(struct builder *b, enum ydoc_kind kind, const yaml_mark_t *m)
{
	struct ydoc_node *n = pq_arena_alloc(&b->d->arena, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->kind = (unsigned char)kind;
	n->line = (unsigned)m->line;
	n->col = (unsigned)m->column;
	return n;
}

/* Remember the node an anchor names; libyaml refuses a second one. */
static int
anchor(struct builder *b, const yaml_char_t *name, struct ydoc_node *n)
{
	struct ydoc_node **v;
	size_t *slot;
	bool found;

	if (name == NULL)
		return 0;
	if ((v = room(b->anchored, b->nanchored, &b->capanchored,
	    sizeof(*v))) == NULL)
		return PERR_NOMEM;
	b->anchored = v;
	if (hmap_upsert(&b->anchors, name, strlen((const char *)name), &slot,
	    &found) != 0)
		return PERR_NOMEM;
	if (found)
		return fail(b, "second occurrence",
		    "found duplicate anchor; first occurrence", n);
	b->anchored[b->nanchored] = n;
	*slot = b->nanchored++;
	return 0;
}

/* n is the root, or the next child of the innermost open collection. */
static int
attach(struct builder *b, struct ydoc_node *n)
{
	struct ydoc_node **v;

	if (b->nopen == 0) {
		b->d->root = n;
		return 0;
	}
	if ((v = room(b->pend, b->npend, &b->cappend, sizeof(*v))) == NULL)
		return PERR_NOMEM;
	b->pend = v;
	b->pend[b->npend++] = n;
	return 0;
}

static int
open_collection(struct builder *b, struct ydoc_node *n)
{
	struct open *v;
	int rc;

	/* Not for our stack: libyaml's scanner takes time growing with the
	   square of the depth, and a rule file is a few levels deep. */
	if (b->nopen == PQ_DEPTH_MAX)
		return fail(b, "YAML nests deeper than " STR(PQ_DEPTH_MAX)
		    " levels", NULL, n);
	if ((rc = attach(b, n)) != 0)
		return rc;
	if ((v = room(b->open, b->nopen, &b->capopen, sizeof(*v))) == NULL)
		return PERR_NOMEM;
	b->open = v;
	b->open[b->nopen].node = n;
	b->open[b->nopen].first = b->npend;
	b->nopen++;
	return 0;
}

/* The innermost collection ends: its children move into the arena. */
static int
close_collection(struct builder *b)
{
	struct open *o = &b->open[--b->nopen];
	struct ydoc_node *n = o->node, **kids = &b->pend[o->first];
	size_t count = b->npend - o->first, i;

	b->npend = o->first;
	if (count == 0)
		return 0;
	if (n->kind == YDOC_SEQUENCE) {
		n->u.items = pq_arena_alloc(&b->d->arena,
		    count * sizeof(*kids));
		if (n->u.items == NULL)
			return PERR_NOMEM;
		memcpy(n->u.items, kids, count * sizeof(*kids));
		n->n = (uint32_t)count;
		return 0;
	}
	/* A mapping's children alternate key, value. */
	n->n = (uint32_t)(count / 2);
	n->u.pairs = pq_arena_alloc(&b->d->arena, n->n * sizeof(*n->u.pairs));
	if (n->u.pairs == NULL)
		return PERR_NOMEM;
	for (i = 0; i < n->n; i++) {
		n->u.pairs[i].k = kids[2 * i];
		n->u.pairs[i].v = kids[2 * i + 1];
	}
	return 0;
}

static int
scalar(struct builder *b, const yaml_event_t *ev)
{
	struct ydoc_node *n = new_node(b, YDOC_SCALAR, &ev->start_mark);
	int rc;

	if (n == NULL || (n->u.s = pq_arena_strdup(&b->d->arena,
	    (const char *)ev->data.scalar.value, ev->data.scalar.length)) ==
	    NULL)
		return PERR_NOMEM;
	n->n = (uint32_t)ev->data.scalar.length;	/* <= YDOC_TEXT_MAX */
	n->style = (unsigned char)ev->data.scalar.style;
	if ((rc = anchor(b, ev->data.scalar.anchor, n)) != 0)
		return rc;
	return attach(b, n);
}

static int
collection(struct builder *b, const yaml_event_t *ev, enum ydoc_kind kind,
    const yaml_char_t *name)
{
	struct ydoc_node *n = new_node(b, kind, &ev->start_mark);
	int rc;

	if (n == NULL)
		return PERR_NOMEM;
	if ((rc = anchor(b, name, n)) != 0)
		return rc;
	return open_collection(b, n);
}

static int
alias(struct builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct ydoc_node at;
	size_t i;
	int rc;

	if (!hmap_find(&b->anchors, name, strlen(name), &i)) {
		at.line = (unsigned)ev->start_mark.line;
		at.col = (unsigned)ev->start_mark.column;
		rc = fail(b, "found undefined alias", NULL, &at);
		snprintf(b->e->alias, sizeof(b->e->alias), "%s", name);
		return rc;
	}
	return attach(b, b->anchored[i]);
}

static int
on_event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return collection(b, ev, YDOC_SEQUENCE,
		    ev->data.sequence_start.anchor);
	case YAML_MAPPING_START_EVENT:
		return collection(b, ev, YDOC_MAPPING,
		    ev->data.mapping_start.anchor);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return close_collection(b);
	case YAML_ALIAS_EVENT:
		return alias(b, ev);
	default:
		return 0;	/* no others come inside a document */
	}
}

/* The events of one document, up to its DOCUMENT-END. */
static int
build(struct builder *b, yaml_parser_t *p)
{
	yaml_event_t ev;
	int rc;

	for (;;) {
		if (!yaml_parser_parse(p, &ev))
			return parse_error(p, b->e);
		if (ev.type == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		rc = on_event(b, &ev);
		yaml_event_delete(&ev);
		if (rc != 0)
			return rc;
	}
}

/* STREAM-END, or a DOCUMENT-START whose version d keeps. */
static int
document_start(struct ydoc_reader *r, struct ydoc *d, struct ydoc_error *e,
    bool *more)
{
	yaml_event_t ev;
	const yaml_version_directive_t *v;

	*more = false;
	if (!r->started) {
		if (!yaml_parser_parse(&r->parser, &ev))
			return parse_error(&r->parser, e);
		yaml_event_delete(&ev);		/* STREAM-START */
		r->started = true;
	}
	if (r->ended)
		return 0;
	if (!yaml_parser_parse(&r->parser, &ev))
		return parse_error(&r->parser, e);
	if (ev.type == YAML_STREAM_END_EVENT) {
		r->ended = true;
	} else {
		*more = true;
		d->line = (unsigned)ev.start_mark.line;
		d->col = (unsigned)ev.start_mark.column;
		if ((v = ev.data.document_start.version_directive) != NULL) {
			d->has_version = true;
			d->major = v->major;
			d->minor = v->minor;
		}
	}
	yaml_event_delete(&ev);
	return 0;
}

int
ydoc_reader_init(struct ydoc_reader *r, const char *text, size_t len)
{
	memset(r, 0, sizeof(*r));
	if (len > YDOC_TEXT_MAX)
		return PERR_LIMIT;
	if (!yaml_parser_initialize(&r->parser))
		return PERR_NOMEM;
	yaml_parser_set_input_string(&r->parser, (const unsigned char *)text,
	    len);
	return 0;
}

int
ydoc_next(struct ydoc_reader *r, struct ydoc *d, struct ydoc_error *e)
{
	struct builder b;
	bool more;
	int rc;

	memset(d, 0, sizeof(*d));
	if ((rc = document_start(r, d, e, &more)) != 0 || !more)
		return rc;
	memset(&b, 0, sizeof(b));
	b.d = d;
	b.e = e;
	rc = build(&b, &r->parser);
	free(b.pend);
	free(b.open);
	free(b.anchored);
	hmap_free(&b.anchors);
	if (rc != 0)
		ydoc_free(d);
	return rc;
}

void
ydoc_free(struct ydoc *d)
{
	pq_arena_free(&d->arena);
	memset(d, 0, sizeof(*d));
}

void
ydoc_reader_free(struct ydoc_reader *r)
{
	yaml_parser_delete(&r->parser);
	memset(r, 0, sizeof(*r));
}
