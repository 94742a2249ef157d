/*
 * mem.h - memory hints.
 *
 * A page touched for the first time costs a page fault, and in a virtual
 * machine (where CI runners and most servers run) a fault costs several
 * times what the kernel needs to map the same page when asked up front.
 * Buffers and arenas that are about to be filled ask up front.
 */
#ifndef PROMRUN_MEM_H
#define PROMRUN_MEM_H

#include <stddef.h>

#define MEM_PREFAULT_MIN (64 * 1024)	/* smaller regions are not worth it */

/*
 * mem_prefault: have the kernel map the whole pages inside p[0..size) in
 * one call (MADV_POPULATE_WRITE), when size is at least MEM_PREFAULT_MIN.
 * Only for memory the caller is about to write.  A hint: where the system
 * lacks it (Linux before 5.14), or it fails, the pages come one fault at a
 * time as before.
 */
void mem_prefault(void *p, size_t size);

/*
 * mem_grow: room for want elements in a growable array: arrayp is the
 * address of the array's pointer (malloc'd, or NULL with *cap 0), *cap its
 * room in elements of size bytes.  With less room, the array is realloc'd
 * to *cap doubled (first when *cap is 0) until want fits, and the pointer
 * and *cap updated.  Returns 0, or -1 when memory runs out or the size
 * would not fit a size_t (the array and *cap then as they were).  One
 * growth rule for our arrays, checked for overflow in one place.
 */
int mem_grow(void *arrayp, size_t *cap, size_t want, size_t size,
    size_t first);

/*
 * mem_short_lived: tune the C library's allocator for a program that runs
 * for milliseconds and exits: large blocks come from the heap rather than
 * each from a mapping of its own, memory freed stays for the allocations
 * that follow rather than going back to the kernel (which takes all of it
 * at the exit anyway), and threads share one arena rather than each
 * mapping a 64 MiB heap.  Each block mapped on its own costs the mapping,
 * a fault or a prefault per page, and an munmap that, once threads run,
 * interrupts the other CPUs; memory reused costs none of that.  Call it
 * first thing in main.  glibc's mallopt; elsewhere (and under the
 * sanitizers, whose allocator is their own) nothing changes.
 */
void mem_short_lived(void);

/*
 * mem_give_back: after mem_short_lived, hand the memory freed so far back
 * to the kernel (glibc's malloc_trim), from a thread that has time while
 * another waits, so that the exit has less to take down.
 */
void mem_give_back(void);

#endif
