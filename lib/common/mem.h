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

#endif
