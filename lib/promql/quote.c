/* quote.c - Go's quoting rules for PromQL and template strings (see quote.h). */
#include "promql/quote.h"
#include "common/err.h"
#include "common/text.h"

#include <stdint.h>
#include <string.h>

int
pq_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
add_rune(struct buf *out, uint32_t r)
{
	char u[4];
	size_t n;

	if (r < 0x80) {
		u[0] = (char)r;
		n = 1;
	} else if (r < 0x800) {
		u[0] = (char)(0xc0 | r >> 6);
		u[1] = (char)(0x80 | (r & 0x3f));
		n = 2;
	} else if (r < 0x10000) {
		u[0] = (char)(0xe0 | r >> 12);
		u[1] = (char)(0x80 | ((r >> 6) & 0x3f));
		u[2] = (char)(0x80 | (r & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | r >> 18);
		u[1] = (char)(0x80 | ((r >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((r >> 6) & 0x3f));
		u[3] = (char)(0x80 | (r & 0x3f));
		n = 4;
	}
	return buf_add(out, u, n);
}

/*
 * One escape at s[*i] (just after the backslash).  Appends its value.
 * Returns 0, PERR_INVALID, or a buffer error.
 */
static int
unescape(const char *s, size_t len, size_t *i, char quote, struct buf *out)
{
	static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\";
	const char *p;
	uint32_t v = 0;
	size_t n, k;
	int d;
	char c;

	if (*i >= len)
		return PERR_INVALID;
	c = s[(*i)++];
	if (c != '\0' && (p = strchr(simple, c)) != NULL &&
	    (p - simple) % 2 == 0)
		return buf_addc(out, p[1]);
	if (c == '\'' || c == '"')
		return c == quote ? buf_addc(out, c) : PERR_INVALID;
	if (c >= '0' && c <= '7') {
		v = (uint32_t)(c - '0');
		for (k = 0; k < 2; k++) {
			if (*i >= len || s[*i] < '0' || s[*i] > '7')
				return PERR_INVALID;
			v = v * 8 + (uint32_t)(s[(*i)++] - '0');
		}
		return v > 255 ? PERR_INVALID : buf_addc(out, (char)v);
	}
	n = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
	if (n == 0)
		return PERR_INVALID;
	for (k = 0; k < n; k++) {
		if (*i >= len || (d = pq_hexval(s[*i])) < 0)
			return PERR_INVALID;
		v = v << 4 | (uint32_t)d;
		(*i)++;
	}
	if (c == 'x')
		return buf_addc(out, (char)v);
	if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000))
		return PERR_INVALID;
	return add_rune(out, v);
}

int
pq_unquote(const char *s, size_t len, bool multi_single, struct buf *out)
{
	size_t i, start = out->len;
	char quote;
	int rc;

	if (len < 2 || s[0] != s[len - 1])
		return PERR_INVALID;
	quote = s[0];
	if (quote == '`') {
		if (memchr(s + 1, '`', len - 2) != NULL)
			return PERR_INVALID;
		return buf_add(out, s + 1, len - 2);
	}
	if (quote != '"' && quote != '\'')
		return PERR_INVALID;
	for (i = 1; i < len - 1;) {
		if (s[i] == '\n' || s[i] == quote)
			return PERR_INVALID;
		if (s[i] == '\\') {
			i++;
			if ((rc = unescape(s, len - 1, &i, quote, out)) != 0)
				return rc;
		} else if ((rc = buf_addc(out, s[i++])) != 0) {
			return rc;
		}
	}
	if (quote == '\'' && !multi_single) {
		/* A rune literal: exactly one character. */
		size_t n = out->len - start;
		unsigned char c0 = n > 0 ? (unsigned char)out->p[start] : 0;
		size_t want = c0 < 0x80 ? 1 : c0 < 0xe0 ? 2 : c0 < 0xf0 ? 3 : 4;

		if (n == 0 || (n != want && n != 1))
			return PERR_INVALID;
	}
	return 0;
}

/*
 * Whether Go's unicode.IsPrint would refuse rune r (above ASCII): the
 * controls, spaces other than U+0020, format characters and private use
 * areas.  Unassigned code points, which Go also refuses, are kept: that
 * takes Unicode's tables, and label values seldom hold them.
 */
static bool
go_unprintable(uint32_t r)
{
	return (r >= 0x80 && r <= 0xa0) || r == 0xad || r == 0x1680 ||
	    (r >= 0x2000 && r <= 0x200f) || (r >= 0x2028 && r <= 0x202f) ||
	    (r >= 0x205f && r <= 0x206f) || r == 0x3000 || r == 0xfeff ||
	    (r >= 0xfff9 && r <= 0xfffb) || (r >= 0xe000 && r <= 0xf8ff) ||
	    r >= 0xf0000 || r == 0xe0001 || (r >= 0xe0020 && r <= 0xe007f);
}

/*
 * pq_quote (go false) and pq_quote_go (go true): they differ above ASCII
 * only.  PromQL's printer writes U+FFFD as \ufffd, which its lexer would
 * refuse literally; Go's strconv.Quote keeps it and escapes what
 * unicode.IsPrint refuses.
 */
static int
quote(struct buf *b, const char *s, size_t len, bool go)
{
	static const char esc[] = "\aa\bb\ff\nn\rr\tt\vv";
	const char *p;
	size_t i = 0, n, bad;
	unsigned char c;
	uint32_t r;
	int rc;

	if ((rc = buf_addc(b, '"')) != 0)
		return rc;
	while (i < len) {
		c = (unsigned char)s[i];
		n = 1;
		if (c == '"' || c == '\\') {
			rc = buf_addf(b, "\\%c", c);
		} else if (c != 0 && (p = memchr(esc, c, sizeof(esc) - 1))
		    != NULL && (p - esc) % 2 == 0) {
			rc = buf_addf(b, "\\%c", p[1]);
		} else if (c < 0x20 || c == 0x7f) {
			rc = buf_addf(b, "\\x%02x", c);
		} else if (c < 0x80) {
			rc = buf_addc(b, (char)c);
		} else if (!go && len - i >= 3 &&
		    memcmp(s + i, "\xef\xbf\xbd", 3) == 0) {
			rc = buf_adds(b, "\\ufffd");
			n = 3;
		} else {
			/* A valid sequence is kept whole, a bad byte escaped. */
			n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
			if (n > len - i || !utf8_valid(s + i, n, &bad)) {
				n = 1;
				rc = buf_addf(b, "\\x%02x", c);
			} else {
				r = c & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
				for (size_t k = 1; k < n; k++)
					r = r << 6 | ((unsigned char)s[i + k] & 0x3f);
				if (!go || !go_unprintable(r))
					rc = buf_add(b, s + i, n);
				else if (r < 0x10000)
					rc = buf_addf(b, "\\u%04x", (unsigned)r);
				else
					rc = buf_addf(b, "\\U%08x", (unsigned)r);
			}
		}
		if (rc != 0)
			return rc;
		i += n;
	}
	return buf_addc(b, '"');
}

int
pq_quote(struct buf *b, const char *s, size_t len)
{
	return quote(b, s, len, false);
}

int
pq_quote_go(struct buf *b, const char *s, size_t len)
{
	return quote(b, s, len, true);
}
