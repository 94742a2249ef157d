/*
 * ast.h - the PromQL syntax tree, as Prometheus 2.42 builds it.
 *
 * Every node, string and array of one parsed expression lives in the
 * expression's arena and is freed at once by pq_expr_free; nothing in a
 * tree is freed alone.  Strings are stored with their length (a label value
 * may hold a NUL from a "\x00" escape) and are also NUL-terminated.
 *
 * Positions are byte offsets into the parsed text: [start, end).
 *
 * Depth.  A chain of binary operators written flat, "a + b - c * d ...",
 * is a tree as deep as the chain is long: each node's lhs is the chain
 * before it.  Such chains may be as long as the text (promtool takes them
 * whatever their length), so code that walks trees follows an lhs that is
 * itself a binary node with a loop, never by recursion: pq_chain_first
 * goes down to the chain's first operand and the nodes' up pointers lead
 * back.  Every other child - an operand in parentheses, of a function, an
 * aggregation, a unary operator or a subquery, the rhs of a binary node -
 * is one level deeper than its parent, and the parser refuses a tree more
 * than PQ_DEPTH_MAX levels deep.  So a walk that recurses into those
 * children only, with a bounded frame, has a bounded stack.
 */
#ifndef PROMRUN_PROMQL_AST_H
#define PROMRUN_PROMQL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promql/lex.h"

/*
 * PQ_DEPTH_MAX: how deep anything the rules checker reads may nest, and so
 * how deep every recursive walk of lib/promql and lib/rules may go: a
 * PromQL tree (see "Depth" above; the parser, the type checker, the
 * printer, equality, the linter, the evaluator), the actions of a Go
 * template (tmpl.h) and the collections of a YAML document (ydoc.h).
 * Past it the input is refused with its position.  promtool's own bounds
 * are higher or absent (its YAML reader stops at 10,000 levels, its PromQL
 * and template parsers at none), but no rule needs 500 levels, and the
 * deepest input takes about 320 KiB of stack, 590 KiB under ASan (1 MiB
 * with a regex nested 1,000 deep at the bottom; the default is 8 MiB).
 * A walk that adds frames per level must keep them small: see lint.c's
 * NOINLINE.
 */
#define PQ_DEPTH_MAX 500

/* The value types of the type checker (Prometheus's ValueType). */
enum pq_type {
	PQ_TYPE_NONE,
	PQ_TYPE_SCALAR,
	PQ_TYPE_VECTOR,		/* "instant vector" */
	PQ_TYPE_MATRIX,		/* "range vector" */
	PQ_TYPE_STRING,
};

enum pq_kind {
	PQ_NUMBER,
	PQ_STRING,
	PQ_VECTOR_SELECTOR,
	PQ_MATRIX_SELECTOR,	/* expr is the vector selector */
	PQ_SUBQUERY,
	PQ_PAREN,
	PQ_UNARY,
	PQ_BINARY,
	PQ_CALL,
	PQ_AGGREGATE,
};

enum pq_match { PQ_MATCH_EQ, PQ_MATCH_NEQ, PQ_MATCH_RE, PQ_MATCH_NRE };

enum pq_at { PQ_AT_NONE, PQ_AT_TIME, PQ_AT_START, PQ_AT_END };

enum pq_card {
	PQ_CARD_ONE_TO_ONE,
	PQ_CARD_MANY_TO_ONE,	/* group_left */
	PQ_CARD_ONE_TO_MANY,	/* group_right */
	PQ_CARD_MANY_TO_MANY,	/* set operators */
};

struct pq_str {
	const char *p;		/* NUL-terminated; may hold NULs inside */
	size_t len;
};

/* A label name as written in by/without/on/ignoring/group_x, with its place. */
struct pq_label {
	struct pq_str name;
	size_t pos;
};

struct pq_matcher {
	struct pq_str name;
	enum pq_match op;
	struct pq_str value;
	bool matches_empty;	/* the matcher accepts the empty value */
	size_t pos;		/* where the label name starts; the implicit
				 * __name__ matcher of "foo{}" has foo's place */
};

/* A list of label names (by/without, on/ignoring, group_left/right). */
struct pq_labels {
	struct pq_label *v;
	size_t n;
};

struct pq_func;

struct pq_node {
	enum pq_kind kind;
	enum pq_type type;		/* as Prometheus's Type(): set by the
					   parser, see pq_node_type */
	size_t start, end;
	struct pq_node *up;		/* the binary node whose lhs this is,
					   or NULL (see "Depth" above) */

	double num;			/* PQ_NUMBER */
	struct pq_str str;		/* PQ_STRING */

	/* PQ_VECTOR_SELECTOR: name ("" in the braces-only form) and matchers;
	 * the name, when given, is also the last matcher (__name__="name"). */
	struct pq_str name;
	struct pq_matcher *matchers;
	size_t nmatchers;
	/* Vector selector and subquery modifiers. */
	int64_t offset_ms;
	enum pq_at at;
	int64_t at_ms;			/* when at == PQ_AT_TIME */

	int64_t range_ms;		/* matrix selector, subquery */
	int64_t step_ms;		/* subquery; 0 when not given */

	/* The operand of matrix selector, subquery, paren, unary, aggregate. */
	struct pq_node *expr;

	enum pq_tok op;			/* unary, binary, aggregate */
	size_t op_pos;			/* where the operator is written */
	struct pq_node *lhs, *rhs;	/* binary */
	bool return_bool;
	bool has_matching;		/* vector matching kept (both sides vectors) */
	enum pq_card card;
	bool on;
	struct pq_labels matching;	/* on/ignoring labels */
	struct pq_labels include;	/* group_left/right labels */

	const struct pq_func *func;	/* call */
	struct pq_node **args;
	size_t nargs;

	struct pq_node *param;		/* aggregate parameter, or NULL */
	struct pq_labels grouping;	/* by/without labels */
	bool without;
};

/* The arena that owns a tree. */
struct pq_chunk;
struct pq_arena {
	struct pq_chunk *head;
	size_t used;			/* bytes handed out, for limits */
};

/* A parsed expression: the tree and the memory it lives in. */
struct pq_expr {
	struct pq_node *root;
	struct pq_arena arena;
};

/*
 * pq_arena_alloc: size zeroed bytes that live until the arena is freed, or
 * NULL when memory runs out.
 */
void *pq_arena_alloc(struct pq_arena *a, size_t size);

/* pq_arena_take: pq_arena_alloc without the zeroing (the caller fills it). */
void *pq_arena_take(struct pq_arena *a, size_t size);

/*
 * pq_arena_grow: room for element n of the arena array p (*cap elements of
 * size bytes): p itself while n < *cap, else a copy of its n elements in
 * twice the room (first when *cap is 0), *cap updated; the old copy stays
 * until the arena is freed.  New room is not zeroed.  NULL when memory
 * runs out or the size would not fit a size_t (p and *cap unchanged).
 */
void *pq_arena_grow(struct pq_arena *a, void *p, size_t n, size_t *cap,
    size_t size, size_t first);

/* pq_arena_strdup: a NUL-terminated copy of s[0..len) in the arena, or NULL. */
const char *pq_arena_strdup(struct pq_arena *a, const char *s, size_t len);

/* pq_arena_free: release everything the arena handed out. */
void pq_arena_free(struct pq_arena *a);

/*
 * pq_arena_move: hand everything src handed out over to dst, to be freed
 * with it; src is empty after.
 */
void pq_arena_move(struct pq_arena *dst, struct pq_arena *src);

/*
 * pq_arena_reset: forget everything the arena handed out, but keep as much
 * memory (in one chunk) for what comes next: a caller that parses one
 * expression after another reuses the same memory instead of fresh pages.
 */
void pq_arena_reset(struct pq_arena *a);

/*
 * pq_arena_mark, pq_arena_release: everything a handed out after the mark
 * is forgotten (its newer chunks freed), what came before stays.  Marks
 * nest: release the inner one first.
 */
struct pq_arena_mark {
	struct pq_chunk *head;
	size_t head_used, used;
};

void pq_arena_mark(const struct pq_arena *a, struct pq_arena_mark *m);
void pq_arena_release(struct pq_arena *a, const struct pq_arena_mark *m);

/* pq_expr_free: free a parsed expression (NULL is allowed). */
void pq_expr_free(struct pq_expr *x);

/*
 * pq_node_type: the value type of an expression, as Prometheus's Type():
 * the type field, which the parser sets as it builds each node.
 */
enum pq_type pq_node_type(const struct pq_node *n);

/*
 * pq_chain_first: n when it is no binary node, else the first operand of
 * the chain n ends: its lhs, their lhs, and so on down to a node that is
 * no binary node.  From there, up leads back through every binary node of
 * the chain to n, the first of them being the one whose lhs it is.
 */
const struct pq_node *pq_chain_first(const struct pq_node *n);

/* pq_type_name: "scalar", "instant vector", "range vector", "string", "none". */
const char *pq_type_name(enum pq_type t);

/*
 * pq_node_equal: true when two trees are the same expression: same kinds,
 * operators, values (NaN equals NaN, -0 differs from 0), names, durations,
 * modifiers and children.  Positions are ignored, and so is the order of
 * a selector's matchers, which the canonical form sorts.
 */
bool pq_node_equal(const struct pq_node *a, const struct pq_node *b);

/* pq_str_eq: s equals the C string c. */
bool pq_str_eq(struct pq_str s, const char *c);

#endif
