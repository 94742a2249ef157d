/*
 * labels.h - label sets, as Prometheus 2.42's labels.Labels: name/value
 * pairs sorted by name, names unique, no empty values (setting a label to
 * "" removes it, as labels.Builder does).
 *
 * A label set is immutable once built and lives in an arena (ast.h):
 * the evaluator's scratch arena for intermediate results, the series
 * store's for stored series.  Strings are stored with their length (a
 * value may hold a NUL) and are NUL-terminated.
 */
#ifndef PROMRUN_PROMQL_LABELS_H
#define PROMRUN_PROMQL_LABELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "promql/ast.h"

#define PQ_NAME_LABEL "__name__"

struct pq_lpair {
	const char *name, *value;	/* NUL-terminated */
	uint32_t nlen, vlen;
};

struct pq_lset {
	uint32_t n;
	/* Set on label sets that stay, unchanged and at the same address,
	   as long as the store or the query that made them: the series
	   store's own, and those a query keeps between evaluations
	   (eval.h).  The evaluator recognizes them by address from one
	   evaluation to the next; every other label set (0) may be freed
	   and its memory reused for another. */
	uint32_t stable;
	struct pq_lpair l[];		/* sorted by name */
};

/* The empty label set (static, stable). */
extern const struct pq_lset pq_lset_empty;

/*
 * pq_lset_get: the value of label name[0..nlen) in ls, or NULL when ls has
 * no such label; *vlen receives its length (vlen may be NULL).
 */
const char *pq_lset_get(const struct pq_lset *ls, const char *name,
    size_t nlen, size_t *vlen);

/* pq_lset_cmp: Prometheus's labels.Compare: pairwise, then the shorter first. */
int pq_lset_cmp(const struct pq_lset *a, const struct pq_lset *b);

/* pq_lset_equal: same pairs. */
bool pq_lset_equal(const struct pq_lset *a, const struct pq_lset *b);

/* A label name from a PromQL node (by/on/...), with its length. */
struct pq_label_name {
	const char *p;
	size_t len;
};

/*
 * pq_lset_key: append to b a byte string that identifies the labels of ls
 * named in names[0..n) (on == true), or all but those and __name__
 * (on == false), as Prometheus's signatures for vector matching and
 * grouping.  Returns buf.h's codes.
 */
int pq_lset_key(struct buf *b, const struct pq_lset *ls, bool on,
    const struct pq_label_name *names, size_t n);

/* pq_lset_key_all: append a byte string that identifies all of ls. */
int pq_lset_key_all(struct buf *b, const struct pq_lset *ls);

/*
 * pq_lset_format: append ls as Prometheus's Labels.String() writes it:
 * {a="1", b="2"} with values quoted as Go's strconv.Quote.
 */
int pq_lset_format(struct buf *b, const struct pq_lset *ls);

/* pq_lset_json: append ls as a JSON object, {"a":"1","b":"2"}. */
int pq_lset_json(struct buf *b, const struct pq_lset *ls);

/*
 * A label set being built.  Strings added are referenced, not copied,
 * unless added with pq_lb_set_copy; pq_lb_finish copies the pairs into the
 * arena (strings that are referenced must outlive the result).
 */
struct pq_lbuilder {
	struct pq_lpair *v;
	size_t n, cap;
	struct pq_arena *arena;		/* where results and copies go */
	bool nomem;			/* a step ran out of memory */
	bool keep_empty;		/* "" is a value, not a removal (the
					   label sets tests expect, as
					   labels.New keeps them) */
	bool keep_dups;			/* a name set twice is there twice,
					   in the order set, and an empty
					   value is skipped, not a removal
					   (labels.New, which test files'
					   bare label sets go through) */
};

/* pq_lb_init: an empty builder producing into arena a. */
void pq_lb_init(struct pq_lbuilder *lb, struct pq_arena *a);

/* pq_lb_reset: start over from the labels of ls (NULL: empty). */
void pq_lb_reset(struct pq_lbuilder *lb, const struct pq_lset *ls);

/* pq_lb_set: set name to value; an empty value removes the label. */
void pq_lb_set(struct pq_lbuilder *lb, const char *name, size_t nlen,
    const char *value, size_t vlen);

/* pq_lb_set_copy: the same, copying value (and name) into the arena. */
void pq_lb_set_copy(struct pq_lbuilder *lb, const char *name, size_t nlen,
    const char *value, size_t vlen);

/* pq_lb_del: remove name (absent: nothing happens). */
void pq_lb_del(struct pq_lbuilder *lb, const char *name, size_t nlen);

/* pq_lb_keep: keep only the labels named in names[0..n). */
void pq_lb_keep(struct pq_lbuilder *lb, const struct pq_label_name *names,
    size_t n);

/*
 * pq_lb_finish: the label set built, sorted, in the arena; NULL when
 * memory ran out at any step since the last reset.
 */
const struct pq_lset *pq_lb_finish(struct pq_lbuilder *lb);

/* pq_lb_free: release the builder's own memory. */
void pq_lb_free(struct pq_lbuilder *lb);

/*
 * pq_lset_copy: ls with every string copied into arena a (for a store
 * that outlives the evaluation that made ls), or NULL.
 */
const struct pq_lset *pq_lset_copy(struct pq_arena *a,
    const struct pq_lset *ls);

/*
 * pq_lset_copy_stable: pq_lset_copy marked stable, for an owner that keeps
 * arena a (and never releases part of it) as long as the copy is used.
 */
const struct pq_lset *pq_lset_copy_stable(struct pq_arena *a,
    const struct pq_lset *ls);

/* pq_label_name_valid: [a-zA-Z_][a-zA-Z0-9_]* over s[0..len). */
bool pq_label_name_valid(const char *s, size_t len);

#endif
