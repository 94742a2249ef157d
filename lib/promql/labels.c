/* labels.c - label sets and their builder (see labels.h). */
#include "promql/labels.h"
#include "promql/quote.h"
#include "common/mem.h"

#include <stdlib.h>
#include <string.h>

const struct pq_lset pq_lset_empty = {0, 1};

/* Byte-wise comparison of two strings with lengths, as Go compares strings. */
static int
str_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

const char *
pq_lset_get(const struct pq_lset *ls, const char *name, size_t nlen,
    size_t *vlen)
{
	size_t lo = 0, hi = ls->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = str_cmp(name, nlen, ls->l[mid].name, ls->l[mid].nlen);
		if (c == 0) {
			if (vlen != NULL)
				*vlen = ls->l[mid].vlen;
			return ls->l[mid].value;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int
pq_lset_cmp(const struct pq_lset *a, const struct pq_lset *b)
{
	size_t n = a->n < b->n ? a->n : b->n, i;
	int c;

	for (i = 0; i < n; i++) {
		c = str_cmp(a->l[i].name, a->l[i].nlen, b->l[i].name,
		    b->l[i].nlen);
		if (c != 0)
			return c;
		c = str_cmp(a->l[i].value, a->l[i].vlen, b->l[i].value,
		    b->l[i].vlen);
		if (c != 0)
			return c;
	}
	return a->n < b->n ? -1 : a->n > b->n ? 1 : 0;
}

bool
pq_lset_equal(const struct pq_lset *a, const struct pq_lset *b)
{
	return a == b || pq_lset_cmp(a, b) == 0;
}

static bool
named(const struct pq_lpair *l, const struct pq_label_name *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i].len == l->nlen &&
		    memcmp(names[i].p, l->name, l->nlen) == 0)
			return true;
	return false;
}

/* One pair, framed so that no two different sets give the same bytes. */
static int
key_pair(struct buf *b, const struct pq_lpair *l)
{
	int rc;

	if ((rc = buf_add(b, &l->nlen, sizeof(l->nlen))) != 0 ||
	    (rc = buf_add(b, l->name, l->nlen)) != 0 ||
	    (rc = buf_add(b, &l->vlen, sizeof(l->vlen))) != 0)
		return rc;
	return buf_add(b, l->value, l->vlen);
}

int
pq_lset_key(struct buf *b, const struct pq_lset *ls, bool on,
    const struct pq_label_name *names, size_t n)
{
	const struct pq_lpair *l;
	int rc;

	for (size_t i = 0; i < ls->n; i++) {
		l = &ls->l[i];
		if (on != named(l, names, n))
			continue;
		if (!on && l->nlen == 8 && memcmp(l->name, PQ_NAME_LABEL, 8) == 0)
			continue;
		if ((rc = key_pair(b, l)) != 0)
			return rc;
	}
	return buf_addc(b, '\0');
}

int
pq_lset_key_all(struct buf *b, const struct pq_lset *ls)
{
	int rc;

	for (size_t i = 0; i < ls->n; i++)
		if ((rc = key_pair(b, &ls->l[i])) != 0)
			return rc;
	return buf_addc(b, '\0');
}

int
pq_lset_format(struct buf *b, const struct pq_lset *ls)
{
	int rc;

	if ((rc = buf_addc(b, '{')) != 0)
		return rc;
	for (size_t i = 0; i < ls->n; i++) {
		if ((i > 0 && (rc = buf_adds(b, ", ")) != 0) ||
		    (rc = buf_add(b, ls->l[i].name, ls->l[i].nlen)) != 0 ||
		    (rc = buf_addc(b, '=')) != 0 ||
		    (rc = pq_quote_go(b, ls->l[i].value, ls->l[i].vlen)) != 0)
			return rc;
	}
	return buf_addc(b, '}');
}

/* --- builder --- */

void
pq_lb_init(struct pq_lbuilder *lb, struct pq_arena *a)
{
	memset(lb, 0, sizeof(*lb));
	lb->arena = a;
}

static bool
grow(struct pq_lbuilder *lb, size_t want)
{
	if (mem_grow(&lb->v, &lb->cap, want, sizeof(lb->v[0]), 16) != 0) {
		lb->nomem = true;
		return false;
	}
	return true;
}

void
pq_lb_reset(struct pq_lbuilder *lb, const struct pq_lset *ls)
{
	lb->n = 0;
	lb->nomem = false;
	if (ls == NULL || ls->n == 0 || !grow(lb, ls->n))
		return;
	memcpy(lb->v, ls->l, ls->n * sizeof(ls->l[0]));
	lb->n = ls->n;
}

/* The index of name in the builder, or where it would be inserted. */
static size_t
find(const struct pq_lbuilder *lb, const char *name, size_t nlen, bool *found)
{
	size_t lo = 0, hi = lb->n, mid;
	int c;

	*found = false;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = str_cmp(name, nlen, lb->v[mid].name, lb->v[mid].nlen);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

void
pq_lb_del(struct pq_lbuilder *lb, const char *name, size_t nlen)
{
	bool found;
	size_t i = find(lb, name, nlen, &found);

	if (!found)
		return;
	memmove(lb->v + i, lb->v + i + 1, (lb->n - i - 1) * sizeof(lb->v[0]));
	lb->n--;
}

void
pq_lb_set(struct pq_lbuilder *lb, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	bool found;
	size_t i;

	if (vlen == 0 && !lb->keep_empty) {
		if (!lb->keep_dups)
			pq_lb_del(lb, name, nlen);
		return;
	}
	i = find(lb, name, nlen, &found);
	if (found && lb->keep_dups) {
		/* After the last of that name. */
		while (i < lb->n && str_cmp(name, nlen, lb->v[i].name,
		    lb->v[i].nlen) == 0)
			i++;
		found = false;
	}
	if (!found) {
		if (!grow(lb, lb->n + 1))
			return;
		memmove(lb->v + i + 1, lb->v + i, (lb->n - i) *
		    sizeof(lb->v[0]));
		lb->n++;
	}
	lb->v[i].name = name;
	lb->v[i].nlen = (uint32_t)nlen;
	lb->v[i].value = value;
	lb->v[i].vlen = (uint32_t)vlen;
}

void
pq_lb_set_copy(struct pq_lbuilder *lb, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	const char *n, *v;

	if (vlen == 0 && !lb->keep_empty) {
		if (!lb->keep_dups)
			pq_lb_del(lb, name, nlen);
		return;
	}
	n = pq_arena_strdup(lb->arena, name, nlen);
	v = pq_arena_strdup(lb->arena, value, vlen);
	if (n == NULL || v == NULL) {
		lb->nomem = true;
		return;
	}
	pq_lb_set(lb, n, nlen, v, vlen);
}

void
pq_lb_keep(struct pq_lbuilder *lb, const struct pq_label_name *names,
    size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < lb->n; i++)
		if (named(&lb->v[i], names, n))
			lb->v[j++] = lb->v[i];
	lb->n = j;
}

const struct pq_lset *
pq_lb_finish(struct pq_lbuilder *lb)
{
	struct pq_lset *ls;

	if (lb->nomem)
		return NULL;
	if (lb->n == 0)
		return &pq_lset_empty;
	ls = pq_arena_alloc(lb->arena, sizeof(*ls) + lb->n * sizeof(ls->l[0]));
	if (ls == NULL)
		return NULL;
	ls->n = (uint32_t)lb->n;
	memcpy(ls->l, lb->v, lb->n * sizeof(ls->l[0]));
	return ls;
}

void
pq_lb_free(struct pq_lbuilder *lb)
{
	free(lb->v);
	lb->v = NULL;
	lb->n = lb->cap = 0;
}

const struct pq_lset *
pq_lset_copy(struct pq_arena *a, const struct pq_lset *ls)
{
	struct pq_lset *c;

	if (ls->n == 0)
		return &pq_lset_empty;
	c = pq_arena_alloc(a, sizeof(*c) + ls->n * sizeof(c->l[0]));
	if (c == NULL)
		return NULL;
	c->n = ls->n;
	for (size_t i = 0; i < ls->n; i++) {
		c->l[i] = ls->l[i];
		c->l[i].name = pq_arena_strdup(a, ls->l[i].name, ls->l[i].nlen);
		c->l[i].value = pq_arena_strdup(a, ls->l[i].value,
		    ls->l[i].vlen);
		if (c->l[i].name == NULL || c->l[i].value == NULL)
			return NULL;
	}
	return c;
}

const struct pq_lset *
pq_lset_copy_stable(struct pq_arena *a, const struct pq_lset *ls)
{
	const struct pq_lset *c = pq_lset_copy(a, ls);

	/* The empty set is static, and stable already. */
	if (c != NULL && c != &pq_lset_empty)
		((struct pq_lset *)c)->stable = 1;
	return c;
}

bool
pq_label_name_valid(const char *s, size_t len)
{
	if (len == 0 || !pq_is_alpha((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!pq_is_alnum((unsigned char)s[i]))
			return false;
	return true;
}

int
pq_lset_json(struct buf *b, const struct pq_lset *ls)
{
	int rc = buf_addc(b, '{');

	for (size_t i = 0; i < ls->n && rc == 0; i++) {
		if (i > 0)
			rc = buf_addc(b, ',');
		if (rc == 0)
			rc = buf_add_json(b, ls->l[i].name, ls->l[i].nlen);
		if (rc == 0)
			rc = buf_addc(b, ':');
		if (rc == 0)
			rc = buf_add_json(b, ls->l[i].value, ls->l[i].vlen);
	}
	return rc != 0 ? rc : buf_addc(b, '}');
}
