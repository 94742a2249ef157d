/*
 * func.h - the functions of PromQL in Prometheus 2.42, with their argument
 * types and counts (Prometheus's functions.go).
 *
 * A function takes nargs arguments of types args[0..nargs).  variadic is 0
 * for exactly nargs; 1 when the last argument may be left out (round,
 * year, ...); -1 when the last type may repeat without limit (label_join).
 * The same table gives the evaluator each function's implementation.
 */
#ifndef PROMRUN_PROMQL_FUNC_H
#define PROMRUN_PROMQL_FUNC_H

#include <stddef.h>

#include "promql/ast.h"

#define PQ_FUNC_MAX_ARGS 5

struct pq_fcall;

struct pq_func {
	const char *name;
	enum pq_type args[PQ_FUNC_MAX_ARGS];
	int nargs;
	int variadic;
	enum pq_type ret;
	/* The implementation (fn.c); evalint.h says how it is called. */
	int (*impl)(struct pq_fcall *c);
};

/* pq_func_lookup: the function named s[0..len) (case-sensitive), or NULL. */
const struct pq_func *pq_func_lookup(const char *s, size_t len);

/* pq_func_at: the i-th function in name order, or NULL past the last. */
const struct pq_func *pq_func_at(size_t i);

#endif
