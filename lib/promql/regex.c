/*
 * regex.c - a parser of Go's regexp syntax that keeps only what we need
 * (see regex.h): validity, and for each piece whether it can match the
 * empty string and how many copies its repetitions make.
 *
 * It follows Go's regexp/syntax/parse.go case by case, so it accepts and
 * refuses the same texts: \Q...\E, (?flags), (?P<name>...), POSIX and
 * Unicode classes, {n,m} with its literal fallback, nested repetition.
 */
#include "promql/regex.h"
#include "promql/quote.h"
#include "common/text.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define REPEAT_MAX 1000
#define DEPTH_MAX 1000

/* What we know of a parsed piece. */
struct piece {
	bool nullable;		/* matches "" (at the start of an empty text) */
	unsigned copies;	/* worst product of nested {n,m} counts, capped */
};

struct rx {
	const char *s;		/* the whole expression */
	size_t len;
	size_t pos;
	int depth;
	struct perr *e;
	bool failed;
	bool open_quote;	/* a \Q ran to the end without \E */
	/* The PCRE2 translation (pq_regex_translate), when wanted. */
	struct buf *out;	/* NULL: only check */
	struct buf *cls;	/* the class being translated, or NULL */
	bool cls_nonspace;	/* it holds \S */
	struct buf *names;	/* each capture's name (or ""), NUL after */
	int out_rc;		/* the first buffer error */
};

/* Go's \s: PCRE2's also holds \v. */
#define SPACES "\\x{9}\\x{A}\\x{C}\\x{D}\\x{20}"

static void
emit(struct rx *x, const char *s, size_t n)
{
	struct buf *b = x->cls != NULL ? x->cls : x->out;

	if (b != NULL && x->out_rc == 0)
		x->out_rc = buf_add(b, s, n);
}

static void
emits(struct rx *x, const char *s)
{
	emit(x, s, strlen(s));
}

/* A literal rune, as an escape that means the same in PCRE2 everywhere. */
static void
emit_rune(struct rx *x, uint32_t r)
{
	char t[16];
	int n = snprintf(t, sizeof(t), "\\x{%X}", (unsigned)r);

	emit(x, t, (size_t)n);
}

static int
fail(struct rx *x, const char *code, size_t from, size_t to)
{
	if (!x->failed) {
		x->failed = true;
		if (to > x->len)
			to = x->len;
		perr_set(x->e, PERR_INVALID, "error parsing regexp: %s: `%.*s`",
		    code, (int)(to - from > 200 ? 200 : to - from), x->s + from);
	}
	return -1;
}

static bool
at_end(const struct rx *x)
{
	return x->pos >= x->len;
}

static char
cur(const struct rx *x)
{
	return at_end(x) ? '\0' : x->s[x->pos];
}

/* Length of the UTF-8 sequence at p (the text was checked to be valid). */
static size_t
rune_len(const struct rx *x, size_t p)
{
	unsigned char c = (unsigned char)x->s[p];

	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

static uint32_t
rune_at(const struct rx *x, size_t p, size_t *n)
{
	const unsigned char *u = (const unsigned char *)x->s + p;
	uint32_t r;

	*n = rune_len(x, p);
	switch (*n) {
	case 1:
		return u[0];
	case 2:
		r = u[0] & 0x1f;
		break;
	case 3:
		r = u[0] & 0x0f;
		break;
	default:
		r = u[0] & 0x07;
		break;
	}
	for (size_t k = 1; k < *n; k++)
		r = r << 6 | (u[k] & 0x3f);
	return r;
}

static bool
is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/* A hex digit's value, or -1 (also for any non-ASCII rune). */
static int
unhex(uint32_t c)
{
	return c < 0x80 ? pq_hexval((int)c) : -1;
}

/* --- escapes and classes --- */

/* An ordinary escape at x->pos ('\\'); its rune in *r. */
static int
parse_escape(struct rx *x, uint32_t *r)
{
	size_t start = x->pos, n;
	uint32_t c, v;
	int nhex, d1, d2;

	x->pos++;
	if (at_end(x))
		return fail(x, "trailing backslash at end of expression", 0, 0);
	c = rune_at(x, x->pos, &n);
	x->pos += n;
	if (c < 0x80 && !is_alnum((int)c)) {
		*r = c;
		return 0;
	}
	switch (c) {
	case '1': case '2': case '3': case '4': case '5': case '6': case '7':
		/* A lone digit would be a backreference: unsupported. */
		if (at_end(x) || cur(x) < '0' || cur(x) > '7')
			break;
		/* FALLTHROUGH */
	case '0':
		v = c - '0';
		for (int i = 1; i < 3 && !at_end(x) && cur(x) >= '0' &&
		    cur(x) <= '7'; i++)
			v = v * 8 + (uint32_t)(x->s[x->pos++] - '0');
		*r = v;
		return 0;
	case 'x':
		if (at_end(x))
			break;
		c = rune_at(x, x->pos, &n);
		x->pos += n;
		if (c == '{') {
			nhex = 0;
			v = 0;
			for (;;) {
				if (at_end(x))
					goto bad;
				c = rune_at(x, x->pos, &n);
				x->pos += n;
				if (c == '}')
					break;
				if (unhex(c) < 0)
					goto bad;
				v = v * 16 + (uint32_t)unhex(c);
				if (v > 0x10ffff)
					goto bad;
				nhex++;
			}
			if (nhex == 0)
				break;
			*r = v;
			return 0;
		}
		d1 = unhex(c);
		d2 = -1;
		if (!at_end(x)) {
			c = rune_at(x, x->pos, &n);
			x->pos += n;
			d2 = unhex(c);
		}
		if (d1 < 0 || d2 < 0)
			break;
		*r = (uint32_t)(d1 * 16 + d2);
		return 0;
	case 'a': case 'f': case 'n': case 'r': case 't': case 'v':
		*r = c == 'a' ? 7 : c == 'f' ? 12 : c == 'n' ? 10 : c == 'r' ? 13 :
		    c == 't' ? 9 : 11;
		return 0;
	}
bad:
	return fail(x, "invalid escape sequence", start, x->pos);
}

static const char *const posix_groups[] = {
	"alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph",
	"lower", "print", "punct", "space", "upper", "word", "xdigit",
};

static const char *const unicode_tables[] = {
	"Any",
	/* Categories. */
	"C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M",
	"Mc", "Me", "Mn", "N", "Nd", "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf",
	"Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm", "So", "Z", "Zl", "Zp", "Zs",
	/* Scripts of Unicode 13.0, Go 1.19's tables. */
	"Adlam", "Ahom", "Anatolian_Hieroglyphs", "Arabic", "Armenian",
	"Avestan", "Balinese", "Bamum", "Bassa_Vah", "Batak", "Bengali",
	"Bhaiksuki", "Bopomofo", "Brahmi", "Braille", "Buginese", "Buhid",
	"Canadian_Aboriginal", "Carian", "Caucasian_Albanian", "Chakma",
	"Cham", "Cherokee", "Chorasmian", "Common", "Coptic", "Cuneiform",
	"Cypriot", "Cyrillic", "Deseret", "Devanagari", "Dives_Akuru",
	"Dogra", "Duployan", "Egyptian_Hieroglyphs", "Elbasan", "Elymaic",
	"Ethiopic", "Georgian", "Glagolitic", "Gothic", "Grantha", "Greek",
	"Gujarati", "Gunjala_Gondi", "Gurmukhi", "Han", "Hangul",
	"Hanifi_Rohingya", "Hanunoo", "Hatran", "Hebrew", "Hiragana",
	"Imperial_Aramaic", "Inherited", "Inscriptional_Pahlavi",
	"Inscriptional_Parthian", "Javanese", "Kaithi", "Kannada",
	"Katakana", "Kayah_Li", "Kharoshthi", "Khitan_Small_Script", "Khmer",
	"Khojki", "Khudawadi", "Lao", "Latin", "Lepcha", "Limbu", "Linear_A",
	"Linear_B", "Lisu", "Lycian", "Lydian", "Mahajani", "Makasar",
	"Malayalam", "Mandaic", "Manichaean", "Marchen", "Masaram_Gondi",
	"Medefaidrin", "Meetei_Mayek", "Mende_Kikakui", "Meroitic_Cursive",
	"Meroitic_Hieroglyphs", "Miao", "Modi", "Mongolian", "Mro",
	"Multani", "Myanmar", "Nabataean", "Nandinagari", "New_Tai_Lue",
	"Newa", "Nko", "Nushu", "Nyiakeng_Puachue_Hmong", "Ogham", "Ol_Chiki",
	"Old_Hungarian", "Old_Italic", "Old_North_Arabian", "Old_Permic",
	"Old_Persian", "Old_Sogdian", "Old_South_Arabian", "Old_Turkic",
	"Oriya", "Osage", "Osmanya", "Pahawh_Hmong", "Palmyrene",
	"Pau_Cin_Hau", "Phags_Pa", "Phoenician", "Psalter_Pahlavi", "Rejang",
	"Runic", "Samaritan", "Saurashtra", "Sharada", "Shavian", "Siddham",
	"SignWriting", "Sinhala", "Sogdian", "Sora_Sompeng", "Soyombo",
	"Sundanese", "Syloti_Nagri", "Syriac", "Tagalog", "Tagbanwa",
	"Tai_Le", "Tai_Tham", "Tai_Viet", "Takri", "Tamil", "Tangut",
	"Telugu", "Thaana", "Thai", "Tibetan", "Tifinagh", "Tirhuta",
	"Ugaritic", "Vai", "Wancho", "Warang_Citi", "Yezidi", "Yi",
	"Zanabazar_Square",
};

static bool
name_in(const char *const *list, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && memcmp(list[i], s, len) == 0)
			return true;
	return false;
}

/*
 * \pN, \p{Name}, \PN, \p{^Name} at x->pos.  Returns 1 when one was
 * parsed, 0 when the text is no such group, -1 on error.
 */
static int
parse_unicode_class(struct rx *x)
{
	size_t start = x->pos, name, nlen, n, end;

	if (x->len - x->pos < 2 || x->s[x->pos] != '\\' ||
	    (x->s[x->pos + 1] != 'p' && x->s[x->pos + 1] != 'P'))
		return 0;
	x->pos += 2;
	if (at_end(x) || cur(x) != '{') {
		name = x->pos;
		n = at_end(x) ? 0 : rune_len(x, x->pos);
		x->pos += n;
		nlen = n;
	} else {
		const char *close = memchr(x->s + start, '}', x->len - start);

		if (close == NULL)
			return fail(x, "invalid character class range", start,
			    x->len);
		end = (size_t)(close - x->s);
		name = start + 3;
		nlen = end - name;
		x->pos = end + 1;
	}
	if (nlen > 0 && x->s[name] == '^') {
		name++;
		nlen--;
	}
	if (!name_in(unicode_tables, sizeof(unicode_tables) /
	    sizeof(unicode_tables[0]), x->s + name, nlen))
		return fail(x, "invalid character class range", start, x->pos);
	emit(x, x->s + start, x->pos - start);
	return 1;
}

/* \d \D \s \S \w \W at x->pos: 1 when parsed, else 0. */
static int
parse_perl_class(struct rx *x)
{
	if (x->len - x->pos < 2 || x->s[x->pos] != '\\' ||
	    strchr("dDsSwW", x->s[x->pos + 1]) == NULL ||
	    x->s[x->pos + 1] == '\0')
		return 0;
	switch (x->s[x->pos + 1]) {
	case 's':
		emits(x, x->cls != NULL ? SPACES : "[" SPACES "]");
		break;
	case 'S':
		if (x->cls != NULL)
			x->cls_nonspace = true;
		else
			emits(x, "[^" SPACES "]");
		break;
	default:
		emit(x, x->s + x->pos, 2);
	}
	x->pos += 2;
	return 1;
}

/* [:alpha:] at x->pos: 1 parsed, 0 not one, -1 error. */
static int
parse_named_class(struct rx *x)
{
	const char *s = x->s + x->pos, *end;
	size_t avail = x->len - x->pos, nlen;

	if (avail <= 2 || s[0] != '[' || s[1] != ':')
		return 0;
	for (end = s + 2; end + 1 < s + avail; end++)
		if (end[0] == ':' && end[1] == ']')
			break;
	if (end + 1 >= s + avail)
		return 0;
	nlen = (size_t)(end - (s + 2));
	s += 2;
	if (nlen > 0 && s[0] == '^') {
		s++;
		nlen--;
	}
	if (!name_in(posix_groups, sizeof(posix_groups) /
	    sizeof(posix_groups[0]), s, nlen))
		return fail(x, "invalid character class range", x->pos,
		    (size_t)(end + 2 - x->s));
	emit(x, x->s + x->pos, (size_t)(end + 2 - x->s) - x->pos);
	x->pos = (size_t)(end + 2 - x->s);
	return 1;
}

static int
parse_class_char(struct rx *x, size_t class_start, uint32_t *r)
{
	size_t n;

	if (at_end(x))
		return fail(x, "missing closing ]", class_start, x->len);
	if (cur(x) == '\\') {
		if (parse_escape(x, r) != 0)
			return -1;
	} else {
		*r = rune_at(x, x->pos, &n);
		x->pos += n;
	}
	emit_rune(x, *r);
	return 0;
}

static int finish_class(struct rx *x, bool negated, struct buf *cls);

static int
parse_class(struct rx *x)
{
	struct buf cls = BUF_INIT(1 << 20);
	size_t start = x->pos, rng;
	uint32_t lo, hi;
	bool first = true, negated = false;
	int rc;

	x->pos++;
	if (cur(x) == '^') {
		x->pos++;
		negated = true;
	}
	if (x->out != NULL) {
		x->cls = &cls;
		x->cls_nonspace = false;
	}
	while (at_end(x) || cur(x) != ']' || first) {
		first = false;
		if ((rc = parse_named_class(x)) != 0) {
			if (rc < 0)
				goto out;
			continue;
		}
		if ((rc = parse_unicode_class(x)) != 0) {
			if (rc < 0)
				goto out;
			continue;
		}
		if (parse_perl_class(x))
			continue;
		rng = x->pos;
		if ((rc = parse_class_char(x, start, &lo)) != 0)
			goto out;
		hi = lo;
		if (x->len - x->pos >= 2 && cur(x) == '-' &&
		    x->s[x->pos + 1] != ']') {
			x->pos++;
			emit(x, "-", 1);
			if ((rc = parse_class_char(x, start, &hi)) != 0)
				goto out;
			if (hi < lo) {
				rc = fail(x, "invalid character class range",
				    rng, x->pos);
				goto out;
			}
		}
	}
	x->pos++;
	rc = 0;
	if (x->out != NULL) {
		x->cls = NULL;
		rc = finish_class(x, negated, &cls);
	}
out:
	x->cls = NULL;
	buf_free(&cls);
	return rc;
}

/*
 * Write a class translated into cls.  A \S in it has no PCRE2 spelling
 * inside brackets (PCRE2's \S leaves out \v, Go's does not), so such a
 * class becomes an alternation (or, negated, a lookahead and the spaces).
 */
static int
finish_class(struct rx *x, bool negated, struct buf *cls)
{
	const char *rest = buf_str(cls);

	if (!x->cls_nonspace) {
		emits(x, negated ? "[^" : "[");
		emit(x, rest, cls->len);
		emits(x, "]");
	} else if (cls->len == 0) {
		emits(x, negated ? "[" SPACES "]" : "[^" SPACES "]");
	} else if (negated) {
		emits(x, "(?![");
		emit(x, rest, cls->len);
		emits(x, "])[" SPACES "]");
	} else {
		emits(x, "(?:[");
		emit(x, rest, cls->len);
		emits(x, "]|[^" SPACES "])");
	}
	return 0;
}

/* --- structure --- */

static int parse_alternation(struct rx *x, struct piece *out);

/* {min}, {min,}, {min,max}: true with the counts, false when not a repeat. */
static bool
parse_repeat(struct rx *x, size_t at, int *min, int *max, size_t *end)
{
	size_t p = at + 1;
	int *slot;
	int v;

	*max = 0;
	for (int k = 0; k < 2; k++) {
		slot = k == 0 ? min : max;
		if (k == 1) {
			if (p >= x->len)
				return false;
			if (x->s[p] != ',') {
				*max = *min;
				break;
			}
			p++;
			if (p >= x->len)
				return false;
			if (x->s[p] == '}') {
				*max = -1;
				break;
			}
		}
		if (p >= x->len || x->s[p] < '0' || x->s[p] > '9')
			return false;
		if (p + 1 < x->len && x->s[p] == '0' && x->s[p + 1] >= '0' &&
		    x->s[p + 1] <= '9')
			return false;	/* no leading zeros */
		v = 0;
		for (; p < x->len && x->s[p] >= '0' && x->s[p] <= '9'; p++)
			if (v >= 0)
				v = v >= 100000000 ? -1 : v * 10 + (x->s[p] - '0');
		*slot = v;
		if (k == 1 && v < 0)
			*min = -1;
	}
	if (p >= x->len || x->s[p] != '}')
		return false;
	*end = p + 1;
	return true;
}

static unsigned
mul_cap(unsigned a, unsigned b)
{
	unsigned long long p = (unsigned long long)a * b;

	return p > REPEAT_MAX + 1 ? REPEAT_MAX + 1 : (unsigned)p;
}

/*
 * A repetition operator at x->pos applied to *last.  last_repeat is where
 * the previous item's repetition began, or SIZE_MAX.
 */
static int
parse_repetition(struct rx *x, struct piece *last, bool have_last,
    size_t last_repeat)
{
	size_t before = x->pos, after;
	int min = 0, max = 0;
	char op = cur(x);

	if (op == '{') {
		if (!parse_repeat(x, x->pos, &min, &max, &after))
			return 1;	/* a literal '{' */
		if (min < 0 || min > REPEAT_MAX || max > REPEAT_MAX ||
		    (max >= 0 && min > max))
			return fail(x, "invalid repeat count", before, after);
	} else {
		after = x->pos + 1;
	}
	if (after < x->len && x->s[after] == '?')
		after++;		/* non-greedy */
	if (last_repeat != SIZE_MAX)
		return fail(x, "invalid nested repetition operator",
		    last_repeat, after);
	if (!have_last)
		return fail(x, "missing argument to repetition operator",
		    before, after);
	emit(x, x->s + before, after - before);
	x->pos = after;
	switch (op) {
	case '*':
	case '?':
		last->nullable = true;
		break;
	case '+':
		break;
	default: {
		int m = max == 0 ? 0 : max < 0 ? min : max;

		if (min == 0)
			last->nullable = true;
		last->copies = m == 0 ? 1 : mul_cap((unsigned)m, last->copies);
		if ((min >= 2 || max >= 2) && last->copies > REPEAT_MAX)
			return fail(x, "invalid repeat count", before, after);
	}
	}
	return 0;
}

/*
 * (?flags), (?flags:...), (?P<name>...), (...): x->pos is at '('.
 * Sets *transparent for a flags-only group, which matches nothing itself.
 */
static int
parse_group(struct rx *x, struct piece *out, bool *transparent)
{
	size_t start = x->pos, p;
	bool saw_flag = false;
	int sign = 1, rc;

	*transparent = false;
	x->pos++;
	if (cur(x) == '?') {
		if (x->len - start > 4 && x->s[start + 2] == 'P' &&
		    x->s[start + 3] == '<') {
			const char *gt = memchr(x->s + start, '>',
			    x->len - start);

			if (gt == NULL)
				return fail(x, "invalid named capture", start,
				    x->len);
			for (p = start + 4; p < (size_t)(gt - x->s); p++)
				if (x->s[p] != '_' && !is_alnum(x->s[p]))
					break;
			if (p == start + 4 || p != (size_t)(gt - x->s))
				return fail(x, "invalid named capture", start,
				    (size_t)(gt - x->s) + 1);
			x->pos = (size_t)(gt - x->s) + 1;
			/* Go takes names PCRE2 refuses ("1a"): the name is
			   kept aside and the group written unnamed. */
			emits(x, "(");
			if (x->names != NULL && x->out_rc == 0)
				x->out_rc = buf_add(x->names, x->s + start + 4,
				    (size_t)(gt - x->s) - start - 4);
			if (x->names != NULL && x->out_rc == 0)
				x->out_rc = buf_addc(x->names, '\0');
			goto body;
		}
		for (x->pos++; !at_end(x); x->pos += rune_len(x, x->pos)) {
			char c = cur(x);

			if (c == 'i' || c == 'm' || c == 's' || c == 'U') {
				saw_flag = true;
			} else if (c == '-') {
				if (sign < 0)
					break;
				sign = -1;
				saw_flag = false;
			} else if (c == ':' || c == ')') {
				if (sign < 0 && !saw_flag)
					break;
				x->pos++;
				emit(x, x->s + start, x->pos - start);
				if (c == ')') {
					*transparent = true;
					return 0;
				}
				goto body;
			} else {
				break;
			}
		}
		if (!at_end(x))
			x->pos += rune_len(x, x->pos);
		return fail(x, "invalid or unsupported Perl syntax", start,
		    x->pos);
	}
	emits(x, "(");
	if (x->names != NULL && x->out_rc == 0)
		x->out_rc = buf_addc(x->names, '\0');
body:
	if (++x->depth > DEPTH_MAX)
		return fail(x, "expression nests too deeply", start, x->len);
	if ((rc = parse_alternation(x, out)) != 0)
		return rc;
	x->depth--;
	if (at_end(x)) {
		/* Prometheus reports this from its anchored compile. */
		if (!x->failed) {
			x->failed = true;
			perr_set(x->e, PERR_INVALID, "error parsing regexp: "
			    "missing closing ): `^(?:%.*s)$`", (int)(x->len > 200 ?
			    200 : x->len), x->s);
		}
		return -1;
	}
	x->pos++;		/* ')' */
	emits(x, ")");
	return 0;
}

/* One atom at x->pos: 0 parsed (*p set, *none when it matches nothing
 * itself), 1 a repetition operator follows, -1 error. */
static int
parse_atom(struct rx *x, struct piece *p, bool *none)
{
	uint32_t r;
	char c = cur(x);
	int rc;

	*none = false;
	p->nullable = false;
	p->copies = 1;
	switch (c) {
	case '(':
		return parse_group(x, p, none);
	case '^':
	case '$':
		emit(x, x->s + x->pos, 1);
		x->pos++;
		p->nullable = true;	/* assertions hold in an empty text */
		return 0;
	case '.':
		emits(x, ".");
		x->pos++;
		return 0;
	case '[':
		return parse_class(x);
	case '\\':
		if (x->len - x->pos >= 2) {
			switch (x->s[x->pos + 1]) {
			case 'A': case 'B': case 'z':
				emit(x, x->s + x->pos, 2);
				x->pos += 2;
				p->nullable = true;
				return 0;
			case 'b':
				/* No word boundary in an empty text. */
				emits(x, "\\b");
				x->pos += 2;
				return 0;
			case 'C':
				return fail(x, "invalid escape sequence",
				    x->pos, x->pos + 2);
			case 'Q': {
				size_t q = x->pos + 2;
				const char *end = NULL;

				for (size_t k = q; k + 1 < x->len; k++)
					if (x->s[k] == '\\' && x->s[k + 1] == 'E') {
						end = x->s + k;
						break;
					}
				for (size_t k = q, n; k < (end != NULL ?
				    (size_t)(end - x->s) : x->len); k += n)
					emit_rune(x, rune_at(x, k, &n));
				x->pos = end != NULL ? (size_t)(end - x->s) + 2 :
				    x->len;
				x->open_quote |= end == NULL;
				/* \Q\E holds no literal: like a flags group. */
				*none = (end != NULL ? (size_t)(end - x->s) :
				    x->len) == q;
				return 0;
			}
			}
		}
		if ((rc = parse_unicode_class(x)) != 0)
			return rc < 0 ? rc : 0;
		if (parse_perl_class(x))
			return 0;
		if ((rc = parse_escape(x, &r)) == 0)
			emit_rune(x, r);
		return rc;
	default: {
		size_t n;

		emit_rune(x, rune_at(x, x->pos, &n));
		x->pos += n;
		return 0;
	}
	}
}

/* Fold the previous item into a concatenation's summary. */
static void
fold(struct piece *out, const struct piece *item)
{
	out->nullable = out->nullable && item->nullable;
	if (item->copies > out->copies)
		out->copies = item->copies;
}

/* A concatenation up to '|', ')' or the end. */
static int
parse_concat(struct rx *x, struct piece *out)
{
	struct piece last = {true, 1}, item;
	bool have_last = false, none;
	size_t last_repeat = SIZE_MAX, at;
	int rc;

	out->nullable = true;
	out->copies = 1;
	while (!at_end(x) && cur(x) != '|' && cur(x) != ')') {
		at = x->pos;
		if (cur(x) != '\0' && strchr("*+?{", cur(x)) != NULL) {
			rc = parse_repetition(x, &last, have_last, last_repeat);
			if (rc < 0)
				return rc;
			if (rc == 0) {
				last_repeat = at;
				continue;
			}
			/* A '{' that starts no repetition is a literal. */
			emit_rune(x, '{');
			x->pos++;
			item.nullable = false;
			item.copies = 1;
			none = false;
		} else if ((rc = parse_atom(x, &item, &none)) != 0) {
			return rc;
		}
		last_repeat = SIZE_MAX;
		if (none)
			continue;
		if (have_last)
			fold(out, &last);
		last = item;
		have_last = true;
	}
	if (have_last)
		fold(out, &last);
	return 0;
}

static int
parse_alternation(struct rx *x, struct piece *out)
{
	struct piece branch;
	int rc;

	out->nullable = false;
	out->copies = 1;
	for (;;) {
		if ((rc = parse_concat(x, &branch)) != 0)
			return rc;
		out->nullable = out->nullable || branch.nullable;
		if (branch.copies > out->copies)
			out->copies = branch.copies;
		if (cur(x) != '|' || at_end(x))
			return 0;
		emits(x, "|");
		x->pos++;
	}
}

static int
check(struct rx *x, bool *matches_empty)
{
	const char *re = x->s;
	size_t len = x->len;
	struct perr *e = x->e;
	struct piece p;
	size_t bad;

	if (!utf8_valid(re, len, &bad))
		return perr_set(e, PERR_INVALID, "error parsing regexp: "
		    "invalid UTF-8: `%.*s`", (int)(len - bad > 40 ? 40 :
		    len - bad), re + bad);
	if (parse_alternation(x, &p) != 0)
		return PERR_INVALID;
	if (!at_end(x))	/* a ')' with no '(' */
		return fail(x, "unexpected )", 0, len), PERR_INVALID;
	/*
	 * Prometheus also compiles the anchored "^(?:RE)$", which fails where
	 * RE alone does not only when a \Q without \E swallows the ")$".
	 */
	if (x->open_quote)
		return perr_set(e, PERR_INVALID, "error parsing regexp: missing "
		    "closing ): `^(?:%.*s)$`", (int)(len > 200 ? 200 : len), re);
	*matches_empty = p.nullable;
	return 0;
}

int
pq_regex_check(const char *re, size_t len, bool *matches_empty,
    struct perr *e)
{
	struct rx x;

	memset(&x, 0, sizeof(x));
	x.s = re;
	x.len = len;
	x.e = e;
	return check(&x, matches_empty);
}

int
pq_regex_translate(const char *re, size_t len, struct buf *out,
    struct buf *names, struct perr *e)
{
	struct rx x;
	bool empty;
	int rc;

	memset(&x, 0, sizeof(x));
	x.s = re;
	x.len = len;
	x.e = e;
	x.out = out;
	x.names = names;
	if ((rc = check(&x, &empty)) != 0)
		return rc;
	if (x.out_rc != 0)
		return perr_set(e, x.out_rc, "regexp too long to translate");
	return 0;
}
