/* hmap.c - string-keyed open-addressing hash map (see hmap.h). */
#include "common/hmap.h"
#include "common/err.h"
#include "common/mem.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN 65536
#define CHUNK_MAX (1u << 20)

struct hmap_chunk {
	struct hmap_chunk *next;
	size_t used;
	size_t size;
	char data[];
};

static uint64_t
rotl(uint64_t x, unsigned r)
{
	return x << r | x >> (64 - r);
}

/* One 8-byte word into the state (MurmurHash3's 64-bit block step). */
static uint64_t
mix_word(uint64_t h, uint64_t w)
{
	w *= 0x87c37b91114253d5ull;
	w = rotl(w, 31);
	w *= 0x4cf5ad432745937full;
	h ^= w;
	return rotl(h, 27) * 5 + 0x52dce729;
}

/*
 * Keys are series and family names, tens to hundreds of bytes, and a push
 * or a render hashes one per sample: eight bytes per step, not one (FNV-1a
 * took a fifth of promrun-push's instructions), and MurmurHash3's final
 * mix so that every bit of the key reaches the low bits the table uses.
 */
uint64_t
hmap_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len, w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = mix_word(h, w);
	}
	if (len > 0) {
		w = 0;
		memcpy(&w, p, len);
		h = mix_word(h, w);
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
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
		    (len == 0 || memcmp(s->key, key, len) == 0)))
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

void
hmap_prefetch(const struct hmap *m, uint64_t hash)
{
#if defined(__GNUC__) || defined(__clang__)
	if (m->cap > 0)
		__builtin_prefetch(&m->slots[(size_t)hash & (m->cap - 1)]);
#else
	(void)m;
	(void)hash;
#endif
}

bool
hmap_find_hashed(const struct hmap *m, uint64_t hash, const void *key,
    size_t len, size_t *value)
{
	struct hmap_slot *s;

	if (m->cap == 0)
		return false;
	s = probe(m, hash, key, len);
	if (s->key == NULL)
		return false;
	if (value != NULL)
		*value = s->value;
	return true;
}

bool
hmap_find(const struct hmap *m, const void *key, size_t len, size_t *value)
{
	return m->cap > 0 && hmap_find_hashed(m, hmap_hash(key, len), key, len,
	    value);
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

/* The table at cap slots (a power of two above its count), rehashed. */
static int
resize(struct hmap *m, size_t cap)
{
	struct hmap_slot *old = m->slots, *s;
	size_t oldcap = m->cap, i;

	m->cap = cap;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	if (m->slots == NULL) {
		m->slots = old;
		m->cap = oldcap;
		return PERR_NOMEM;
	}
	/* Every page of a table is touched, in no order: all at once. */
	mem_prefault(m->slots, m->cap * sizeof(*m->slots));
	for (i = 0; i < oldcap; i++) {
		if (old[i].key == NULL)
			continue;
		s = probe(m, old[i].hash, old[i].key, old[i].len);
		*s = old[i];
	}
	free(old);
	return 0;
}

static int
grow(struct hmap *m)
{
	return resize(m, m->cap ? m->cap * 2 : 64);
}

int
hmap_reserve(struct hmap *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 64;

	/* The load upserts keep the table under: 70%. */
	while ((n + 1) * 10 > cap * 7 && cap < SIZE_MAX / 64)
		cap *= 2;
	return cap > m->cap ? resize(m, cap) : 0;
}

/* Copy key into chunk storage that never moves. */
static const char *
store_key(struct hmap *m, const void *key, size_t len)
{
	struct hmap_chunk *c = m->chunks;
	size_t size;
	char *p;

	if (c == NULL || c->size - c->used < len + 1) {
		/*
		 * A map that filled a chunk is a large one: each next chunk
		 * twice the last (up to CHUNK_MAX), mapped at once.
		 */
		size = c == NULL ? CHUNK_MIN : c->size < CHUNK_MAX / 2 ?
		    2 * c->size : CHUNK_MAX;
		if (size < len + 1)
			size = len + 1;
		if ((c = malloc(sizeof(*c) + size)) == NULL)
			return NULL;
		if (m->chunks != NULL)
			mem_prefault(c->data, size);
		c->next = m->chunks;
		c->used = 0;
		c->size = size;
		m->chunks = c;
	}
	p = c->data + c->used;
	/* An empty key may come as NULL (an unused buffer's): no memcpy. */
	if (len > 0)
		memcpy(p, key, len);
	p[len] = '\0';
	c->used += len + 1;
	return p;
}

int
hmap_upsert_hashed(struct hmap *m, uint64_t hash, const void *key,
    size_t len, size_t **slot, bool *found, const char **stored)
{
	struct hmap_slot *s;
	const char *copy;

	if ((m->count + 1) * 10 > m->cap * 7 && grow(m) != 0)
		return PERR_NOMEM;
	s = probe(m, hash, key, len);
	if (s->key != NULL) {
		*found = true;
		*slot = &s->value;
		if (stored != NULL)
			*stored = s->key;
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
	if (stored != NULL)
		*stored = copy;
	return 0;
}

int
hmap_upsert(struct hmap *m, const void *key, size_t len, size_t **slot,
    bool *found)
{
	return hmap_upsert_hashed(m, hmap_hash(key, len), key, len, slot,
	    found, NULL);
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
