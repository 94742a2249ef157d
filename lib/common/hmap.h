/*
 * hmap.h - a hash map from byte strings to size_t values, for the places
 * that look things up by name: families and series in the exposition parser,
 * series in the aggregate.
 *
 * Keys are copied into memory the map owns (chunks that never move), so a
 * key pointer handed out by the map stays valid until hmap_free.  Open
 * addressing with linear probing; the table doubles past 70% load.
 */
#ifndef PROMRUN_HMAP_H
#define PROMRUN_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hmap_slot {
	uint64_t hash;
	const char *key;	/* NULL for an empty slot */
	size_t len;
	size_t value;
};

struct hmap_chunk;

struct hmap {
	struct hmap_slot *slots;
	size_t cap;		/* a power of two, or 0 */
	size_t count;
	struct hmap_chunk *chunks;	/* key storage */
};

#define HMAP_INIT { NULL, 0, 0, NULL }

/*
 * hmap_hash: the map's hash of len bytes at key: 64 bits, eight bytes a
 * step, MurmurHash3's mix.  Not stable across versions: never store it.
 */
uint64_t hmap_hash(const void *key, size_t len);

/*
 * hmap_find: the value stored for key, via *value; false when absent.
 */
bool hmap_find(const struct hmap *m, const void *key, size_t len,
    size_t *value);

/*
 * hmap_upsert: find key, adding it when absent.  *found tells which; *slot
 * points at the stored value (set it when !found), valid until the next
 * upsert.  Returns 0, or PERR_NOMEM (nothing added).
 */
int hmap_upsert(struct hmap *m, const void *key, size_t len, size_t **slot,
    bool *found);

/*
 * hmap_find_hashed, hmap_upsert_hashed: hmap_find and hmap_upsert for a key
 * whose hmap_hash the caller computed once and kept (to look one key up in
 * several maps, or again later).  hash must be hmap_hash(key, len).
 * hmap_upsert_hashed also points *stored at the map's copy of the key
 * (when stored is not NULL), so it need not be looked up again.
 */
bool hmap_find_hashed(const struct hmap *m, uint64_t hash, const void *key,
    size_t len, size_t *value);
int hmap_upsert_hashed(struct hmap *m, uint64_t hash, const void *key,
    size_t len, size_t **slot, bool *found, const char **stored);

/*
 * hmap_prefetch: have the slot where a key of this hash would go fetched
 * into the cache, ahead of a lookup or upsert that the caller does after
 * some other work: a large table is read in no order, so most lookups
 * would otherwise wait for memory.  A hint; nothing changes.
 */
void hmap_prefetch(const struct hmap *m, uint64_t hash);

/*
 * hmap_reserve: make room for n keys in all, so that adding them does not
 * grow (rehash) the table on the way.  A hint: returns 0, or PERR_NOMEM
 * with the map as it was.
 */
int hmap_reserve(struct hmap *m, size_t n);

/*
 * hmap_key_of: the map's own copy of key (after an upsert added it), or
 * NULL when absent.
 */
const char *hmap_key_of(const struct hmap *m, const void *key, size_t len);

/* hmap_free: release everything; the map is empty and reusable after. */
void hmap_free(struct hmap *m);

#endif
