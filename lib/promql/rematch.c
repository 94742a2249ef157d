/* rematch.c - Go regular expressions matched by PCRE2 (see rematch.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "promql/rematch.h"
#include "promql/regex.h"

#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Steps of backtracking before the DFA matcher answers instead. */
#define MATCH_LIMIT 1000000

struct pq_regex {
	pcre2_code *code;
	pcre2_match_data *md;
	pcre2_match_context *mctx;	/* the limit above */
	char *names;			/* group i's name at names_at[i] */
	size_t *names_at;
	size_t ngroups;
	bool anchored;
};

void
pq_regex_free(struct pq_regex *r)
{
	if (r == NULL)
		return;
	pcre2_match_data_free(r->md);
	pcre2_match_context_free(r->mctx);
	pcre2_code_free(r->code);
	free(r->names);
	free(r->names_at);
	free(r);
}

static int
keep_names(struct pq_regex *r, struct buf *names)
{
	size_t i, k = 0;

	for (i = 0; i < names->len; i++)
		if (names->p[i] == '\0')
			r->ngroups++;
	r->names_at = calloc(r->ngroups + 1, sizeof(*r->names_at));
	if (r->names_at == NULL)
		return PERR_NOMEM;
	if (names->len > 0) {
		r->names = buf_take(names);
		r->names_at[0] = SIZE_MAX;	/* group 0: the whole match */
		for (i = 0; k < r->ngroups; k++) {
			r->names_at[k + 1] = i;
			i += strlen(r->names + i) + 1;
		}
	}
	return 0;
}

int
pq_regex_compile(const char *re, size_t len, bool anchored,
    struct pq_regex **out, struct perr *e)
{
	struct buf pat = BUF_INIT(1 << 24), names = BUF_INIT(1 << 20);
	pcre2_compile_context *cctx = NULL;
	struct pq_regex *r;
	PCRE2_SIZE erroff;
	int rc, err;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	r->anchored = anchored;
	if (anchored && (rc = buf_adds(&pat, "\\A(?:")) != 0)
		goto buferr;
	if ((rc = pq_regex_translate(re, len, &pat, &names, e)) != 0)
		goto fail;
	if (anchored && (rc = buf_adds(&pat, ")\\z")) != 0)
		goto buferr;
	if ((rc = keep_names(r, &names)) != 0)
		goto buferr;
	if ((cctx = pcre2_compile_context_create(NULL)) == NULL) {
		rc = PERR_NOMEM;
		goto buferr;
	}
	pcre2_set_newline(cctx, PCRE2_NEWLINE_LF);
	r->code = pcre2_compile((PCRE2_SPTR)buf_str(&pat), pat.len,
	    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY |
	    PCRE2_ALT_CIRCUMFLEX | PCRE2_NEVER_BACKSLASH_C, &err, &erroff,
	    cctx);
	pcre2_compile_context_free(cctx);
	if (r->code == NULL) {
		PCRE2_UCHAR msg[120];

		pcre2_get_error_message(err, msg, sizeof(msg));
		rc = perr_set(e, PERR_INVALID, "error parsing regexp: %s: `%.*s`",
		    (const char *)msg, (int)(len > 200 ? 200 : len), re);
		goto fail;
	}
	(void)pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);
	r->md = pcre2_match_data_create_from_pattern(r->code, NULL);
	r->mctx = pcre2_match_context_create(NULL);
	if (r->md == NULL || r->mctx == NULL) {
		rc = PERR_NOMEM;
		goto buferr;
	}
	pcre2_set_match_limit(r->mctx, MATCH_LIMIT);
	buf_free(&pat);
	buf_free(&names);
	*out = r;
	return 0;
buferr:
	rc = perr_set(e, rc == PERR_LIMIT ? PERR_LIMIT : PERR_NOMEM,
	    "regexp: %s", rc == PERR_LIMIT ? "too long" : "out of memory");
fail:
	buf_free(&pat);
	buf_free(&names);
	pq_regex_free(r);
	return rc;
}

/* Run the backtracking matcher at start; its return code. */
static int
run(const struct pq_regex *r, const char *s, size_t len, size_t start)
{
	return pcre2_match(r->code, (PCRE2_SPTR)s, len, start, 0, r->md,
	    r->mctx);
}

static bool
over_limit(int rc)
{
	return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_HEAPLIMIT;
}

/* The DFA matcher's yes or no, for a match the backtracker gave up on. */
static bool
dfa_match(const struct pq_regex *r, const char *s, size_t len)
{
	size_t wsize = 1000;
	int *ws, rc;

	for (;;) {
		if ((ws = malloc(wsize * sizeof(int))) == NULL)
			return false;
		rc = pcre2_dfa_match(r->code, (PCRE2_SPTR)s, len, 0,
		    PCRE2_DFA_SHORTEST, r->md, NULL, ws, wsize);
		free(ws);
		if (rc != PCRE2_ERROR_DFA_WSSIZE || wsize > (1u << 24))
			return rc >= 0;
		wsize *= 4;
	}
}

bool
pq_regex_match(const struct pq_regex *r, const char *s, size_t len)
{
	int rc = run(r, s, len, 0);

	if (over_limit(rc))
		return dfa_match(r, s, len);
	return rc >= 0;
}

/* Go's regexp extract(): a group name or number after '$'. */
static bool
extract(const char *t, size_t n, size_t *used, const char **name,
    size_t *nlen, long *num)
{
	size_t i = 0, start;
	bool brace = false;

	if (n == 0)
		return false;
	if (t[0] == '{') {
		brace = true;
		i = 1;
	}
	start = i;
	while (i < n && (t[i] == '_' || (t[i] >= '0' && t[i] <= '9') ||
	    (t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
	    (unsigned char)t[i] >= 0x80))
		i++;
	if (i == start)
		return false;
	*name = t + start;
	*nlen = i - start;
	if (brace) {
		if (i >= n || t[i] != '}')
			return false;
		i++;
	}
	*num = 0;
	for (size_t k = 0; k < *nlen; k++) {
		if ((*name)[k] < '0' || (*name)[k] > '9' || *num >= 100000000) {
			*num = -1;
			break;
		}
		*num = *num * 10 + ((*name)[k] - '0');
	}
	if ((*name)[0] == '0' && *nlen > 1)
		*num = -1;
	*used = i;
	return true;
}

/* Append group g of the current match, when it took part. */
static int
add_group(const struct pq_regex *r, const char *s, long g, struct buf *out)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
	uint32_t n = pcre2_get_ovector_count(r->md);

	if (g < 0 || (uint32_t)g >= n || ov[2 * g] == PCRE2_UNSET)
		return 0;
	return buf_add(out, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
}

/* Go's Regexp.expand over the current match. */
static int
expand(const struct pq_regex *r, const char *s, const char *t, size_t tn,
    struct buf *out)
{
	const char *dollar, *name;
	size_t used, nlen;
	long num;
	int rc;

	while ((dollar = memchr(t, '$', tn)) != NULL) {
		if ((rc = buf_add(out, t, (size_t)(dollar - t))) != 0)
			return rc;
		tn -= (size_t)(dollar - t) + 1;
		t = dollar + 1;
		if (tn > 0 && t[0] == '$') {
			if ((rc = buf_addc(out, '$')) != 0)
				return rc;
			t++;
			tn--;
			continue;
		}
		if (!extract(t, tn, &used, &name, &nlen, &num)) {
			if ((rc = buf_addc(out, '$')) != 0)
				return rc;
			continue;
		}
		t += used;
		tn -= used;
		if (num < 0) {
			/* The first group of that name. */
			for (size_t g = 1; g <= r->ngroups; g++) {
				const char *gn = r->names != NULL ?
				    r->names + r->names_at[g] : "";

				if (strlen(gn) == nlen && nlen > 0 &&
				    memcmp(gn, name, nlen) == 0) {
					num = (long)g;
					break;
				}
			}
		}
		if ((rc = add_group(r, s, num, out)) != 0)
			return rc;
	}
	return buf_add(out, t, tn);
}

static int
too_costly(struct perr *e)
{
	return perr_set(e, PERR_LIMIT, "regular expression match too costly "
	    "(more than %d steps)", MATCH_LIMIT);
}

int
pq_regex_expand(const struct pq_regex *r, const char *s, size_t len,
    const char *tmpl, size_t tlen, struct buf *out, bool *matched,
    struct perr *e)
{
	int rc = run(r, s, len, 0);

	*matched = false;
	if (over_limit(rc))
		return too_costly(e);
	if (rc < 0)
		return 0;
	*matched = true;
	if ((rc = expand(r, s, tmpl, tlen, out)) != 0)
		return perr_set(e, rc, "label value too long");
	return 0;
}

/* The length of the UTF-8 sequence at s[i] (1 for a bad byte), 0 at the end. */
static size_t
rune_width(const char *s, size_t len, size_t i)
{
	unsigned char c;
	size_t n;

	if (i >= len)
		return 0;
	c = (unsigned char)s[i];
	n = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ?
	    3 : c >= 0xf0 && c < 0xf5 ? 4 : 1;
	if (n > len - i)
		return 1;
	for (size_t k = 1; k < n; k++)
		if (((unsigned char)s[i + k] & 0xc0) != 0x80)
			return 1;
	return n;
}

int
pq_regex_replace_all(const struct pq_regex *r, const char *s, size_t len,
    const char *repl, size_t rlen, struct buf *out, struct perr *e)
{
	size_t last_end = 0, pos = 0, a0, a1, w;
	PCRE2_SIZE *ov;
	int rc;

	while (pos <= len) {
		rc = run(r, s, len, pos);
		if (over_limit(rc))
			return too_costly(e);
		if (rc < 0)
			break;
		ov = pcre2_get_ovector_pointer(r->md);
		a0 = ov[0];
		a1 = ov[1];
		if ((rc = buf_add(out, s + last_end, a0 - last_end)) != 0)
			return perr_set(e, rc, "text too long");
		/* No replacement for an empty match right after a match. */
		if ((a1 > last_end || a0 == 0) &&
		    (rc = expand(r, s, repl, rlen, out)) != 0)
			return perr_set(e, rc, "text too long");
		last_end = a1;
		w = rune_width(s, len, pos);
		if (pos + w > a1)
			pos += w;
		else if (pos + 1 > a1)
			pos++;
		else
			pos = a1;
	}
	if ((rc = buf_add(out, s + last_end, len - last_end)) != 0)
		return perr_set(e, rc, "text too long");
	return 0;
}
