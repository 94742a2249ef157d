/* ast.c - arena, types and equality of PromQL trees (see ast.h). */
#include "promql/ast.h"
#include "promql/func.h"
#include "common/mem.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN 4096

struct pq_chunk {
	struct pq_chunk *next;
	size_t size, used;
	max_align_t data[];
};

/* A new, empty chunk of at least want bytes on top of a's, or NULL. */
static struct pq_chunk *
push_chunk(struct pq_arena *a, size_t want)
{
	size_t max = sizeof(max_align_t), csize = (want + max - 1) / max * max;
	struct pq_chunk *c = malloc(sizeof(*c) + csize);

	if (c == NULL)
		return NULL;
	c->size = csize;
	c->used = 0;
	c->next = a->head;
	a->head = c;
	/* About to be filled: 12% of promrun-rules' time on its benchmark
	   was page faults on fresh chunks. */
	mem_prefault(c->data, csize);
	return c;
}

/*
 * size bytes at a multiple of align (a power of two, at most
 * sizeof(max_align_t)), not zeroed, or NULL when memory runs out.
 */
static void *
take(struct pq_arena *a, size_t size, size_t align)
{
	struct pq_chunk *c = a->head;
	size_t off = 0, want;

	if (c != NULL)
		off = (c->used + align - 1) & ~(align - 1);
	if (c == NULL || c->size - off < size) {
		want = size > CHUNK_MIN ? size : CHUNK_MIN;
		/* Grow chunks with the arena: big expressions make few mallocs. */
		if (a->used / 2 > want)
			want = a->used / 2;
		if ((c = push_chunk(a, want)) == NULL)
			return NULL;
		off = 0;
	}
	c->used = off + size;
	a->used += size;
	return (char *)c->data + off;
}

void *
pq_arena_alloc(struct pq_arena *a, size_t size)
{
	void *p = take(a, size > 0 ? size : 1, sizeof(max_align_t));

	if (p != NULL)
		memset(p, 0, size);
	return p;
}

void *
pq_arena_take(struct pq_arena *a, size_t size)
{
	return take(a, size > 0 ? size : 1, sizeof(max_align_t));
}

void *
pq_arena_grow(struct pq_arena *a, void *p, size_t n, size_t *cap,
    size_t size, size_t first)
{
	size_t c = *cap ? *cap : first;
	void *np;

	if (n < *cap)
		return p;
	if (*cap > 0 && c > SIZE_MAX / 2 / size)
		return NULL;
	if (*cap > 0)
		c *= 2;
	if (c > SIZE_MAX / size || (np = pq_arena_take(a, c * size)) == NULL)
		return NULL;
	if (n > 0)
		memcpy(np, p, n * size);
	*cap = c;
	return np;
}

/* Strings are packed, unaligned, and not zeroed first: they are copied. */
const char *
pq_arena_strdup(struct pq_arena *a, const char *s, size_t len)
{
	char *p = take(a, len + 1, 1);

	if (p == NULL)
		return NULL;
	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void
pq_arena_free(struct pq_arena *a)
{
	struct pq_chunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	a->used = 0;
}

void
pq_arena_mark(const struct pq_arena *a, struct pq_arena_mark *m)
{
	m->head = a->head;
	m->head_used = a->head != NULL ? a->head->used : 0;
	m->used = a->used;
}

void
pq_arena_release(struct pq_arena *a, const struct pq_arena_mark *m)
{
	struct pq_chunk *c;

	while (a->head != NULL && a->head != m->head) {
		c = a->head;
		a->head = c->next;
		free(c);
	}
	if (a->head != NULL)
		a->head->used = m->head_used;
	a->used = m->used;
}

void
pq_arena_move(struct pq_arena *dst, struct pq_arena *src)
{
	struct pq_chunk *c = src->head;

	if (c == NULL)
		return;
	while (c->next != NULL)
		c = c->next;
	/* src's newest chunk goes first: its room is used before dst's. */
	c->next = dst->head;
	dst->head = src->head;
	dst->used += src->used;
	src->head = NULL;
	src->used = 0;
}

void
pq_arena_reset(struct pq_arena *a)
{
	struct pq_chunk *c;
	size_t total = 0;

	if (a->head != NULL && a->head->next == NULL) {
		a->head->used = 0;
		a->used = 0;
		return;
	}
	/* Several chunks: next time one as large as all of them will do
	   (or, short of memory, none: take() makes them as needed). */
	for (c = a->head; c != NULL; c = c->next)
		total += c->size;
	pq_arena_free(a);
	if (total > 0)
		(void)push_chunk(a, total);
}

void
pq_expr_free(struct pq_expr *x)
{
	if (x == NULL)
		return;
	pq_arena_free(&x->arena);
	free(x);
}

enum pq_type
pq_node_type(const struct pq_node *n)
{
	return n->type;
}

const struct pq_node *
pq_chain_first(const struct pq_node *n)
{
	while (n->kind == PQ_BINARY)
		n = n->lhs;
	return n;
}

const char *
pq_type_name(enum pq_type t)
{
	switch (t) {
	case PQ_TYPE_SCALAR:
		return "scalar";
	case PQ_TYPE_VECTOR:
		return "instant vector";
	case PQ_TYPE_MATRIX:
		return "range vector";
	case PQ_TYPE_STRING:
		return "string";
	case PQ_TYPE_NONE:
		break;
	}
	return "none";
}

bool
pq_str_eq(struct pq_str s, const char *c)
{
	return strlen(c) == s.len && memcmp(s.p, c, s.len) == 0;
}

static bool
str_equal(struct pq_str a, struct pq_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static bool
labels_equal(const struct pq_labels *a, const struct pq_labels *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (!str_equal(a->v[i].name, b->v[i].name))
			return false;
	return true;
}

static int
matcher_cmp(const struct pq_matcher *a, const struct pq_matcher *b)
{
	size_t n;
	int c;

	n = a->name.len < b->name.len ? a->name.len : b->name.len;
	if ((c = memcmp(a->name.p, b->name.p, n)) != 0)
		return c;
	if (a->name.len != b->name.len)
		return a->name.len < b->name.len ? -1 : 1;
	if (a->op != b->op)
		return a->op < b->op ? -1 : 1;
	n = a->value.len < b->value.len ? a->value.len : b->value.len;
	if (n > 0 && (c = memcmp(a->value.p, b->value.p, n)) != 0)
		return c;
	if (a->value.len != b->value.len)
		return a->value.len < b->value.len ? -1 : 1;
	return 0;
}

/* Matchers compare as multisets: each of a's must pair with one of b's. */
static bool
matchers_equal(const struct pq_node *a, const struct pq_node *b)
{
	size_t i, j, used_words;
	unsigned char used[256];
	bool found;

	if (a->nmatchers != b->nmatchers)
		return false;
	used_words = a->nmatchers;
	if (used_words > sizeof(used)) {
		/* Too many to track: require the same order. */
		for (i = 0; i < a->nmatchers; i++)
			if (matcher_cmp(&a->matchers[i], &b->matchers[i]) != 0)
				return false;
		return true;
	}
	memset(used, 0, sizeof(used));
	for (i = 0; i < a->nmatchers; i++) {
		found = false;
		for (j = 0; j < b->nmatchers && !found; j++) {
			if (!used[j] && matcher_cmp(&a->matchers[i],
			    &b->matchers[j]) == 0) {
				used[j] = 1;
				found = true;
			}
		}
		if (!found)
			return false;
	}
	return true;
}

static bool
number_equal(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return a == b && signbit(a) == signbit(b);
}

static bool
modifiers_equal(const struct pq_node *a, const struct pq_node *b)
{
	return a->offset_ms == b->offset_ms && a->at == b->at &&
	    (a->at != PQ_AT_TIME || a->at_ms == b->at_ms);
}

/* The binary nodes a and b themselves, not their operands. */
static bool
binary_equal(const struct pq_node *a, const struct pq_node *b)
{
	if (a->op != b->op || a->return_bool != b->return_bool ||
	    a->has_matching != b->has_matching)
		return false;
	return !a->has_matching || (a->card == b->card && a->on == b->on &&
	    labels_equal(&a->matching, &b->matching) &&
	    labels_equal(&a->include, &b->include));
}

bool
pq_node_equal(const struct pq_node *a, const struct pq_node *b)
{
	size_t i;

	if (a == NULL || b == NULL)
		return a == b;
	/* Down two chains of binary nodes side by side (ast.h: a loop). */
	while (a->kind == PQ_BINARY && b->kind == PQ_BINARY) {
		if (!binary_equal(a, b) || !pq_node_equal(a->rhs, b->rhs))
			return false;
		a = a->lhs;
		b = b->lhs;
	}
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case PQ_NUMBER:
		return number_equal(a->num, b->num);
	case PQ_STRING:
		return str_equal(a->str, b->str);
	case PQ_VECTOR_SELECTOR:
		return str_equal(a->name, b->name) && matchers_equal(a, b) &&
		    modifiers_equal(a, b);
	case PQ_MATRIX_SELECTOR:
		return a->range_ms == b->range_ms &&
		    pq_node_equal(a->expr, b->expr);
	case PQ_SUBQUERY:
		return a->range_ms == b->range_ms && a->step_ms == b->step_ms &&
		    modifiers_equal(a, b) && pq_node_equal(a->expr, b->expr);
	case PQ_PAREN:
		return pq_node_equal(a->expr, b->expr);
	case PQ_UNARY:
		return a->op == b->op && pq_node_equal(a->expr, b->expr);
	case PQ_BINARY:
		break;		/* not both: the loop above */
	case PQ_CALL:
		if (a->func != b->func || a->nargs != b->nargs)
			return false;
		for (i = 0; i < a->nargs; i++)
			if (!pq_node_equal(a->args[i], b->args[i]))
				return false;
		return true;
	case PQ_AGGREGATE:
		return a->op == b->op && a->without == b->without &&
		    labels_equal(&a->grouping, &b->grouping) &&
		    pq_node_equal(a->param, b->param) &&
		    pq_node_equal(a->expr, b->expr);
	}
	return false;
}
