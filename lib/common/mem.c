/* mem.c - memory hints (see mem.h). */
#define _DEFAULT_SOURCE		/* madvise */
#include "common/mem.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

void
mem_prefault(void *p, size_t size)
{
#ifdef MADV_POPULATE_WRITE
	uintptr_t page, lo, hi;
	long ps;

	if (size < MEM_PREFAULT_MIN || (ps = sysconf(_SC_PAGESIZE)) <= 0)
		return;
	page = (uintptr_t)ps;
	lo = ((uintptr_t)p + page - 1) & ~(page - 1);
	hi = ((uintptr_t)p + size) & ~(page - 1);
	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#else
	(void)p;
	(void)size;
#endif
}
