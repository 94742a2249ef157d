/*
 * check.h - the smallest unit-test harness: CHECK(cond) reports the failing
 * line and counts; CHECK_STR compares strings; check_done() ends the program
 * with 0 when every check held, 1 otherwise.
 */
#ifndef PROMRUN_TEST_CHECK_H
#define PROMRUN_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int check_failures, check_count;

#define CHECK(cond) do { \
	check_count++; \
	if (!(cond)) { \
		check_failures++; \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
		    __LINE__, #cond); \
	} \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	check_count++; \
	if (g_ == NULL || strcmp(g_, w_) != 0) { \
		check_failures++; \
		fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, \
		    __LINE__, g_ != NULL ? g_ : "(null)", w_); \
	} \
} while (0)

/* check_rnd: a number below n from a fixed sequence (xorshift64), the
 * same at every run, for tests that try many random cases. */
static inline uint64_t
check_rnd(uint64_t n)
{
	static uint64_t state = 0x9e3779b97f4a7c15ull;

	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state % n;
}

static inline int
check_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_count,
	    check_failures);
	return check_failures == 0 ? 0 : 1;
}

#endif
