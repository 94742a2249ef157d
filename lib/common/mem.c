/* mem.c - memory hints (see mem.h). */
#define _DEFAULT_SOURCE		/* madvise */
#include "common/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

int
mem_grow(void *arrayp, size_t *cap, size_t want, size_t size, size_t first)
{
	size_t n = *cap ? *cap : first;
	void *p;

	if (want <= *cap)
		return 0;
	while (n < want) {
		if (n > SIZE_MAX / 2)
			return -1;
		n *= 2;
	}
	/* The pointer is read and written as bytes: arrayp is a T **. */
	memcpy(&p, arrayp, sizeof(p));
	if (size == 0 || n > SIZE_MAX / size || (p = realloc(p, n * size)) ==
	    NULL)
		return -1;
	memcpy(arrayp, &p, sizeof(p));
	*cap = n;
	return 0;
}

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

void
mem_short_lived(void)
{
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_ARENA_MAX)
	/* 32 MiB: the largest threshold glibc takes on 64-bit systems. */
	(void)mallopt(M_MMAP_THRESHOLD, 32 << 20);
	(void)mallopt(M_TRIM_THRESHOLD, 1 << 30);
	(void)mallopt(M_ARENA_MAX, 1);
#endif
}

void
mem_give_back(void)
{
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_ARENA_MAX)
	(void)malloc_trim(0);
#endif
}
