/* hmap.c - string-keyed open-addressing hash map (see hmap.h). */
#include "common/hmap.h"
#include "common/err.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN 65536

struct hmap_chunk {
	struct hmap_chunk *next;
	size_t used;
	size_t size;
	char data[];
};

uint64_t
hmap_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0xcbf29ce484222325ull;

	while (len-- > 0) {
		h ^= *p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The slot holding key, or the empty slot where it would go. */
static struct hmap_slot *
probe(const struct hmap *m, uint64_t hash, const void *key, size_t len)
{
	size_t i = (size_t)hash & (m->cap - 1);
	struct hmap_slot *s;

	for (;;) {
		s = &m->slots[i];
		if (s->key == NULL || (s->hash == hash && s->len == len &&
		    memcmp(s->key, key, len) == 0))
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

bool
hmap_find(const struct hmap *m, const void *key, size_t len, size_t *value)
{
	struct hmap_slot *s;

	if (m->cap == 0)
		return false;
	s = probe(m, hmap_hash(key, len), key, len);
	if (s->key == NULL)
		return false;
	if (value != NULL)
		*value = s->value;
	return true;
}

const char *
hmap_key_of(const struct hmap *m, const void *key, size_t len)
{
	struct hmap_slot *s;

	if (m->cap == 0)
		return NULL;
	s = probe(m, hmap_hash(key, len), key, len);
	return s->key;
}

static int
grow(struct hmap *m)
{
	struct hmap_slot *old = m->slots, *s;
	size_t oldcap = m->cap, i;

	m->cap = oldcap ? oldcap * 2 : 64;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	if (m->slots == NULL) {
		m->slots = old;
		m->cap = oldcap;
		return PERR_NOMEM;
	}
	for (i = 0; i < oldcap; i++) {
		if (old[i].key == NULL)
			continue;
		s = probe(m, old[i].hash, old[i].key, old[i].len);
		*s = old[i];
	}
	free(old);
	return 0;
}

/* Copy key into chunk storage that never moves. */
static const char *
store_key(struct hmap *m, const void *key, size_t len)
{
	struct hmap_chunk *c = m->chunks;
	size_t size;
	char *p;

	if (c == NULL || c->size - c->used < len + 1) {
		size = len + 1 > CHUNK_MIN ? len + 1 : CHUNK_MIN;
		c = malloc(sizeof(*c) + size);
		if (c == NULL)
			return NULL;
		c->next = m->chunks;
		c->used = 0;
		c->size = size;
		m->chunks = c;
	}
	p = c->data + c->used;
	memcpy(p, key, len);
	p[len] = '\0';
	c->used += len + 1;
	return p;
}

int
hmap_upsert(struct hmap *m, const void *key, size_t len, size_t **slot,
    bool *found)
{
	uint64_t hash = hmap_hash(key, len);
	struct hmap_slot *s;
	const char *copy;

	if ((m->count + 1) * 10 > m->cap * 7 && grow(m) != 0)
		return PERR_NOMEM;
	s = probe(m, hash, key, len);
	if (s->key != NULL) {
		*found = true;
		*slot = &s->value;
		return 0;
	}
	if ((copy = store_key(m, key, len)) == NULL)
		return PERR_NOMEM;
	s->hash = hash;
	s->key = copy;
	s->len = len;
	s->value = 0;
	m->count++;
	*found = false;
	*slot = &s->value;
	return 0;
}

void
hmap_free(struct hmap *m)
{
	struct hmap_chunk *c, *next;

	for (c = m->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(m->slots);
	m->slots = NULL;
	m->cap = 0;
	m->count = 0;
	m->chunks = NULL;
}
