/* latch.c - a flag opened once, waited for (see latch.h). */
#include "common/latch.h"

int
latch_init(struct latch *l, bool open)
{
	l->open = open;
	if (mtx_init(&l->lock, mtx_plain) != thrd_success)
		return -1;
	if (cnd_init(&l->cond) != thrd_success) {
		mtx_destroy(&l->lock);
		return -1;
	}
	return 0;
}

void
latch_open(struct latch *l)
{
	mtx_lock(&l->lock);
	l->open = true;
	cnd_broadcast(&l->cond);
	mtx_unlock(&l->lock);
}

void
latch_wait(struct latch *l)
{
	mtx_lock(&l->lock);
	while (!l->open)
		cnd_wait(&l->cond, &l->lock);
	mtx_unlock(&l->lock);
}

void
latch_destroy(struct latch *l)
{
	cnd_destroy(&l->cond);
	mtx_destroy(&l->lock);
}
