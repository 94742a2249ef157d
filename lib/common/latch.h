/*
 * latch.h - a flag that one thread opens once and others wait for: "the
 * gate is open", "the work is done".
 *
 * A thread that only has to hand over an outcome opens a latch rather
 * than being joined at once: its exit gives its stack back and leaves the
 * address space under the address space's lock, where it can queue behind
 * the other threads' mappings (a library loading, memory mapped).  What a
 * thread writes before latch_open is seen by a thread after latch_wait.
 */
#ifndef PROMRUN_LATCH_H
#define PROMRUN_LATCH_H

#include <stdbool.h>
#include <threads.h>

struct latch {
	mtx_t lock;
	cnd_t cond;
	bool open;
};

/* latch_init: closed (or already open).  Returns 0, or -1 when the
 * system has no mutex or condition to give (nothing to destroy then). */
int latch_init(struct latch *l, bool open);

/* latch_open: open it and wake every waiter; opening twice is harmless. */
void latch_open(struct latch *l);

/* latch_wait: return once it is open. */
void latch_wait(struct latch *l);

/* latch_destroy: when no thread uses it any more. */
void latch_destroy(struct latch *l);

#endif
