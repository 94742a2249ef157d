/* dedupe.c - the index of runs an organization already has (see dedupe.h). */
#include "serve/dedupe.h"
#include "common/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int
dedupe_key(const struct run *r, struct buf *key)
{
	const char *step = r->step != NULL ? r->step : "";

	buf_reset(key);
	if (r->run_id == NULL)
		return 1;
	/* NUL separates the parts: none of them can hold one. */
	if (buf_add(key, r->workflow, strlen(r->workflow) + 1) ||
	    buf_add(key, step, strlen(step) + 1) ||
	    buf_add(key, r->run_id, strlen(r->run_id) + 1) ||
	    buf_adds(key, run_event_name(r->event)))
		return PERR_NOMEM;
	return 0;
}

enum dedupe_state
dedupe_lookup(const struct dedupe *d, const struct buf *key, double since,
    uint64_t *batch)
{
	const struct dedupe_entry *en;
	size_t i;

	if (!hmap_find(&d->map, key->p, key->len, &i))
		return DEDUPE_NEW;
	en = &d->entries[i];
	if (en->pending != 0) {
		*batch = en->pending;
		return DEDUPE_PENDING;
	}
	return en->time >= since ? DEDUPE_STORED : DEDUPE_NEW;
}

int
dedupe_add(struct dedupe *d, const struct buf *key, double time,
    uint64_t batch)
{
	size_t *slot;
	bool found;

	if (mem_grow(&d->entries, &d->cap, d->n + 1, sizeof(d->entries[0]),
	    256) != 0)
		return PERR_NOMEM;
	if (hmap_upsert(&d->map, key->p, key->len, &slot, &found) != 0)
		return PERR_NOMEM;
	if (!found)
		*slot = d->n++;
	d->entries[*slot].time = time;
	d->entries[*slot].pending = batch;
	return 0;
}

void
dedupe_settle(struct dedupe *d, const struct buf *key, bool ok)
{
	struct dedupe_entry *en;
	size_t i;

	if (!hmap_find(&d->map, key->p, key->len, &i))
		return;
	en = &d->entries[i];
	en->pending = 0;
	if (!ok)
		en->time = -INFINITY;
}

static bool
live(const struct dedupe_entry *en, double since)
{
	return en->pending != 0 || en->time >= since;
}

int
dedupe_expire(struct dedupe *d, double since)
{
	struct hmap fresh = HMAP_INIT;
	struct dedupe_entry *kept;
	size_t i, dead = 0, n = 0, alloc, *slot;
	bool found;

	for (i = 0; i < d->n; i++)
		if (!live(&d->entries[i], since))
			dead++;
	if (dead == 0 || dead * 4 < d->n)
		return 0;
	alloc = d->n - dead + 1;
	if ((kept = malloc(alloc * sizeof(*kept))) == NULL)
		return PERR_NOMEM;
	for (i = 0; i < d->map.cap; i++) {
		const struct hmap_slot *s = &d->map.slots[i];

		if (s->key == NULL || !live(&d->entries[s->value], since))
			continue;
		if (hmap_upsert(&fresh, s->key, s->len, &slot, &found) != 0) {
			hmap_free(&fresh);
			free(kept);
			return PERR_NOMEM;
		}
		kept[n] = d->entries[s->value];
		*slot = n++;
	}
	hmap_free(&d->map);
	free(d->entries);
	d->map = fresh;
	d->entries = kept;
	d->n = n;
	d->cap = alloc;
	return 0;
}

size_t
dedupe_count(const struct dedupe *d)
{
	return d->n;
}

void
dedupe_free(struct dedupe *d)
{
	hmap_free(&d->map);
	free(d->entries);
	memset(d, 0, sizeof(*d));
}
