/*
 * lex.c - the PromQL lexer (see lex.h).
 *
 * The structure follows Prometheus 2.42's lex.go closely on purpose: its
 * quirks decide which expressions promtool accepts, and we must accept
 * exactly the same ones.  Positions and the rune-at-a-time next/backup
 * discipline are kept so error messages quote the same text.
 */
#include "promql/lex.h"
#include "common/buf.h"
#include "promql/quote.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define RUNE_EOF (-1)
#define RUNE_ERROR 0xfffd

struct keyword {
	const char *word;
	enum pq_tok tok;
};

static const struct keyword keywords[] = {
	{"and", PQ_T_LAND}, {"or", PQ_T_LOR}, {"unless", PQ_T_LUNLESS},
	{"atan2", PQ_T_ATAN2},
	{"sum", PQ_T_SUM}, {"avg", PQ_T_AVG}, {"count", PQ_T_COUNT},
	{"min", PQ_T_MIN}, {"max", PQ_T_MAX}, {"group", PQ_T_GROUP},
	{"stddev", PQ_T_STDDEV}, {"stdvar", PQ_T_STDVAR},
	{"topk", PQ_T_TOPK}, {"bottomk", PQ_T_BOTTOMK},
	{"count_values", PQ_T_COUNT_VALUES}, {"quantile", PQ_T_QUANTILE},
	{"offset", PQ_T_OFFSET}, {"by", PQ_T_BY}, {"without", PQ_T_WITHOUT},
	{"on", PQ_T_ON}, {"ignoring", PQ_T_IGNORING},
	{"group_left", PQ_T_GROUP_LEFT}, {"group_right", PQ_T_GROUP_RIGHT},
	{"bool", PQ_T_BOOL}, {"start", PQ_T_START}, {"end", PQ_T_END},
	/* Special numbers. */
	{"inf", PQ_T_NUMBER}, {"nan", PQ_T_NUMBER},
};

bool
pq_is_alpha(int c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

bool
pq_is_alnum(int c)
{
	return pq_is_alpha(c) || is_digit(c);
}

static bool
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool
pq_tok_is_operator(enum pq_tok t)
{
	return t >= PQ_T_ADD && t <= PQ_T_ATAN2;
}

bool
pq_tok_is_aggregator(enum pq_tok t)
{
	return t >= PQ_T_SUM && t <= PQ_T_QUANTILE;
}

bool
pq_tok_is_keyword(enum pq_tok t)
{
	return t >= PQ_T_OFFSET && t <= PQ_T_END;
}

const char *
pq_tok_text(enum pq_tok t)
{
	static const char *fixed[] = {
		[PQ_T_EOF] = "end of input", [PQ_T_ERROR] = "error",
		[PQ_T_IDENT] = "identifier",
		[PQ_T_METRIC_IDENT] = "metric identifier",
		[PQ_T_NUMBER] = "number", [PQ_T_STRING] = "string",
		[PQ_T_DURATION] = "duration",
		[PQ_T_LPAREN] = "(", [PQ_T_RPAREN] = ")", [PQ_T_LBRACE] = "{",
		[PQ_T_RBRACE] = "}", [PQ_T_LBRACKET] = "[",
		[PQ_T_RBRACKET] = "]", [PQ_T_COMMA] = ",", [PQ_T_EQL] = "=",
		[PQ_T_COLON] = ":", [PQ_T_AT] = "@",
		[PQ_T_ADD] = "+", [PQ_T_SUB] = "-", [PQ_T_MUL] = "*",
		[PQ_T_DIV] = "/", [PQ_T_MOD] = "%", [PQ_T_POW] = "^",
		[PQ_T_EQLC] = "==", [PQ_T_NEQ] = "!=", [PQ_T_LSS] = "<",
		[PQ_T_LTE] = "<=", [PQ_T_GTR] = ">", [PQ_T_GTE] = ">=",
		[PQ_T_EQL_REGEX] = "=~", [PQ_T_NEQ_REGEX] = "!~",
	};
	size_t i;

	if ((size_t)t < NELEM(fixed) && fixed[t] != NULL)
		return fixed[t];
	for (i = 0; i < NELEM(keywords); i++)
		if (keywords[i].tok == t)
			return keywords[i].word;
	return "token";
}

static int32_t decode_rune(const unsigned char *p, size_t n, size_t *width);

int
pq_tok_desc(struct buf *b, const char *src, struct pq_token t)
{
	const char *s = src + t.start;
	size_t len = t.end - t.start, cut = 0, w;
	int runes = 0, rc;

	switch (t.type) {
	case PQ_T_EOF:
		return buf_adds(b, "end of input");
	case PQ_T_IDENT: case PQ_T_METRIC_IDENT:
		/* Item.String: identifiers whole, %q. */
		if ((rc = buf_addf(b, "%s ", pq_tok_text(t.type))) != 0)
			return rc;
		return pq_quote_go(b, s, len);
	case PQ_T_NUMBER: case PQ_T_STRING: case PQ_T_DURATION:
		if ((rc = buf_addf(b, "%s ", pq_tok_text(t.type))) != 0)
			return rc;
		if (len <= 10)
			return pq_quote_go(b, s, len);
		/* %.10q...: the first ten runes, quoted. */
		while (cut < len && runes < 10) {
			decode_rune((const unsigned char *)s + cut, len - cut,
			    &w);
			cut += w;
			runes++;
		}
		if ((rc = pq_quote_go(b, s, cut)) != 0)
			return rc;
		return buf_adds(b, "...");
	default:
		if (pq_tok_is_operator(t.type))
			return buf_addf(b, "<op:%s>", pq_tok_text(t.type));
		if (pq_tok_is_aggregator(t.type))
			return buf_addf(b, "<aggr:%s>", pq_tok_text(t.type));
		if (pq_tok_is_keyword(t.type))
			return buf_addf(b, "<%s>", pq_tok_text(t.type));
		return buf_addf(b, "\"%s\"", pq_tok_text(t.type));
	}
}

void
pq_lex_init(struct pq_lexer *l, const char *src, size_t len)
{
	memset(l, 0, sizeof(*l));
	l->src = src;
	l->len = len;
}

/* --- runes, the way Go's lexer reads them --- */

struct cursor {
	struct pq_lexer *l;
	size_t start;		/* start of the current token */
	size_t width;		/* width of the last rune read, for backup */
};

/* Decode one UTF-8 rune; invalid sequences are RUNE_ERROR of width 1. */
static int32_t
decode_rune(const unsigned char *p, size_t n, size_t *width)
{
	int32_t r;
	size_t k, need;

	if (p[0] < 0x80) {
		*width = 1;
		return p[0];
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		need = 1;
		r = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 2;
		r = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 3;
		r = p[0] & 0x07;
	} else {
		*width = 1;
		return RUNE_ERROR;
	}
	if (n <= need)
		goto bad;
	for (k = 1; k <= need; k++) {
		if ((p[k] & 0xc0) != 0x80)
			goto bad;
		r = r << 6 | (p[k] & 0x3f);
	}
	if ((need == 2 && r < 0x800) || (need == 3 && r < 0x10000) ||
	    r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff))
		goto bad;
	*width = need + 1;
	return r;
bad:
	*width = 1;
	return RUNE_ERROR;
}

static int32_t
next(struct cursor *c)
{
	struct pq_lexer *l = c->l;
	int32_t r;

	if (l->pos >= l->len) {
		c->width = 0;
		return RUNE_EOF;
	}
	r = decode_rune((const unsigned char *)l->src + l->pos,
	    l->len - l->pos, &c->width);
	l->pos += c->width;
	return r;
}

static void
backup(struct cursor *c)
{
	c->l->pos -= c->width;
	c->width = 0;
}

static int32_t
peek(struct cursor *c)
{
	int32_t r = next(c);

	backup(c);
	return r;
}

static bool
accept(struct cursor *c, const char *valid)
{
	int32_t r = next(c);

	if (r > 0 && r < 0x80 && strchr(valid, (int)r) != NULL)
		return true;
	backup(c);
	return false;
}

static void
accept_run(struct cursor *c, const char *valid)
{
	while (accept(c, valid))
		continue;
}

/* Go's %q of a rune, for messages: 'x', '\n', '\x00', 'é'. */
static void
quote_rune(char *out, size_t size, int32_t r)
{
	if (r == RUNE_EOF)
		snprintf(out, size, "EOF");
	else if (r == '\'' || r == '\\')
		snprintf(out, size, "'\\%c'", (char)r);
	else if (r == '\n')
		snprintf(out, size, "'\\n'");
	else if (r == '\t')
		snprintf(out, size, "'\\t'");
	else if (r < 0x20 || r == 0x7f)
		snprintf(out, size, "'\\x%02x'", (unsigned)r);
	else if (r < 0x80)
		snprintf(out, size, "'%c'", (char)r);
	else
		snprintf(out, size, "'\\u%04x'", (unsigned)r);
}

static struct pq_token fail(struct cursor *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static struct pq_token
fail(struct cursor *c, const char *fmt, ...)
{
	struct pq_token t = {PQ_T_ERROR, c->start, c->l->pos};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->l->msg, sizeof(c->l->msg), fmt, ap);
	va_end(ap);
	c->l->failed = true;
	c->l->err_pos = c->start;
	return t;
}

static struct pq_token
emit(struct cursor *c, enum pq_tok type)
{
	struct pq_token t = {type, c->start, c->l->pos};

	c->start = c->l->pos;
	return t;
}

/* Skip blanks and '#' comments; true when something was skipped. */
static void
skip_blanks(struct cursor *c)
{
	struct pq_lexer *l = c->l;

	for (;;) {
		if (l->pos < l->len && l->src[l->pos] == '#') {
			while (l->pos < l->len && l->src[l->pos] != '\n')
				l->pos++;
		} else if (l->pos < l->len && is_space(l->src[l->pos])) {
			l->pos++;
		} else {
			break;
		}
	}
	c->start = l->pos;
}

/* --- numbers and durations --- */

static bool
scan_number(struct cursor *c)
{
	const char *digits = "0123456789";

	if (accept(c, "0") && accept(c, "xX"))
		digits = "0123456789abcdefABCDEF";
	accept_run(c, digits);
	if (accept(c, "."))
		accept_run(c, digits);
	if (accept(c, "eE")) {
		accept(c, "+-");
		accept_run(c, "0123456789");
	}
	return !pq_is_alnum(peek(c));
}

static bool
accept_remaining_duration(struct cursor *c)
{
	int32_t r;

	if (!accept(c, "smhdwy"))
		return false;
	/* "ms"; bad units like "hs" are caught when the duration is parsed. */
	accept(c, "s");
	while (accept(c, "0123456789")) {
		accept_run(c, "0123456789");
		/* 'y' must come first, so it is not accepted here. */
		if (!accept(c, "smhdw"))
			return false;
		accept(c, "s");
	}
	r = next(c);
	return r < 0 || !pq_is_alnum(r);
}

static struct pq_token
lex_number_or_duration(struct cursor *c)
{
	if (scan_number(c))
		return emit(c, PQ_T_NUMBER);
	if (accept_remaining_duration(c)) {
		backup(c);
		return emit(c, PQ_T_DURATION);
	}
	return fail(c, "bad number or duration syntax: \"%.*s\"",
	    (int)(c->l->pos - c->start), c->l->src + c->start);
}

static struct pq_token
lex_duration(struct cursor *c)
{
	c->l->want_duration = false;
	if (scan_number(c))
		return fail(c, "missing unit character in duration");
	if (!accept_remaining_duration(c))
		return fail(c, "bad duration syntax: \"%.*s\"",
		    (int)(c->l->pos - c->start), c->l->src + c->start);
	backup(c);
	return emit(c, PQ_T_DURATION);
}

/* --- strings --- */

/* Check one escape after a backslash; 0 or -1 with the error set. */
static int
lex_escape(struct cursor *c, int32_t quote, struct pq_token *err)
{
	uint32_t x = 0, base, max;
	int n;
	int32_t r = next(c);
	char q[16];

	switch (r) {
	case 'a': case 'b': case 'f': case 'n': case 'r': case 't': case 'v':
	case '\\':
		return 0;
	case '0': case '1': case '2': case '3': case '4': case '5': case '6':
	case '7':
		n = 3, base = 8, max = 255;
		break;
	case 'x':
		r = next(c);
		n = 2, base = 16, max = 255;
		break;
	case 'u':
		r = next(c);
		n = 4, base = 16, max = 0x10ffff;
		break;
	case 'U':
		r = next(c);
		n = 8, base = 16, max = 0x10ffff;
		break;
	case RUNE_EOF:
		*err = fail(c, "escape sequence not terminated");
		return -1;
	default:
		if (r == quote)
			return 0;
		*err = fail(c, "unknown escape sequence U+%04X '%s'",
		    (unsigned)r, r == '\n' ? "\\n" : (snprintf(q, sizeof(q),
		    "%c", r < 0x80 && r >= 0x20 ? (char)r : '?'), q));
		return -1;
	}
	while (n > 0) {
		uint32_t d = (uint32_t)(r < 0x80 ? pq_hexval(r) : -1);

		if (d >= base) {
			if (r == RUNE_EOF)
				*err = fail(c, "escape sequence not terminated");
			else {
				quote_rune(q, sizeof(q), r);
				*err = fail(c, "illegal character U+%04X %s in "
				    "escape sequence", (unsigned)r, q);
			}
			return -1;
		}
		x = x * base + d;
		if (--n > 0)
			r = next(c);
	}
	if (x > max || (x >= 0xd800 && x < 0xe000)) {
		*err = fail(c, "escape sequence is an invalid Unicode code point");
		return -1;
	}
	return 0;
}

static struct pq_token
lex_string(struct cursor *c, int32_t quote)
{
	struct pq_token err;
	int32_t r;

	for (;;) {
		r = next(c);
		if (r == '\\') {
			if (lex_escape(c, quote, &err) != 0)
				return err;
		} else if (r == RUNE_ERROR) {
			return fail(c, "invalid UTF-8 rune");
		} else if (r == RUNE_EOF || r == '\n') {
			return fail(c, "unterminated quoted string");
		} else if (r == quote) {
			return emit(c, PQ_T_STRING);
		}
	}
}

static struct pq_token
lex_raw_string(struct cursor *c)
{
	int32_t r;

	for (;;) {
		r = next(c);
		if (r == RUNE_ERROR)
			return fail(c, "invalid UTF-8 rune");
		if (r == RUNE_EOF)
			return fail(c, "unterminated raw string");
		if (r == '`')
			return emit(c, PQ_T_STRING);
	}
}

/* --- identifiers --- */

static enum pq_tok
keyword(const char *s, size_t n)
{
	char low[16];
	size_t i;

	/* Keywords are 2 to 12 letters: most metric names end here. */
	if (n < 2 || n > 12)
		return PQ_T_EOF;
	for (i = 0; i < n; i++)
		low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	for (i = 0; i < NELEM(keywords); i++)
		if (keywords[i].word[0] == low[0] &&
		    strlen(keywords[i].word) == n &&
		    memcmp(keywords[i].word, low, n) == 0)
			return keywords[i].tok;
	return PQ_T_EOF;
}

static struct pq_token
lex_keyword_or_identifier(struct cursor *c)
{
	struct pq_lexer *l = c->l;
	enum pq_tok kw;

	while (l->pos < l->len && (pq_is_alnum(l->src[l->pos]) ||
	    l->src[l->pos] == ':'))
		l->pos++;
	kw = keyword(l->src + c->start, l->pos - c->start);
	if (kw != PQ_T_EOF)
		return emit(c, kw);
	if (memchr(l->src + c->start, ':', l->pos - c->start) != NULL)
		return emit(c, PQ_T_METRIC_IDENT);
	return emit(c, PQ_T_IDENT);
}

/* --- the modes --- */

static struct pq_token
lex_inside_braces(struct cursor *c)
{
	struct pq_lexer *l = c->l;
	char q[16];
	int32_t r;

	skip_blanks(c);
	r = next(c);
	if (r == RUNE_EOF)
		return fail(c, "unexpected end of input inside braces");
	if (pq_is_alpha(r)) {
		while (l->pos < l->len && pq_is_alnum(l->src[l->pos]))
			l->pos++;
		return emit(c, PQ_T_IDENT);
	}
	switch (r) {
	case ',':
		return emit(c, PQ_T_COMMA);
	case '"': case '\'':
		return lex_string(c, r);
	case '`':
		return lex_raw_string(c);
	case '=':
		if (next(c) == '~')
			return emit(c, PQ_T_EQL_REGEX);
		backup(c);
		return emit(c, PQ_T_EQL);
	case '!':
		r = next(c);
		if (r == '~')
			return emit(c, PQ_T_NEQ_REGEX);
		if (r == '=')
			return emit(c, PQ_T_NEQ);
		quote_rune(q, sizeof(q), r);
		return fail(c, "unexpected character after '!' inside "
		    "braces: %s", q);
	case '{':
		return fail(c, "unexpected left brace '{'");
	case '}':
		l->brace_open = false;
		return emit(c, PQ_T_RBRACE);
	}
	quote_rune(q, sizeof(q), r);
	return fail(c, "unexpected character inside braces: %s", q);
}

static struct pq_token
lex_operator(struct cursor *c, int32_t r)
{
	char q[16];

	switch (r) {
	case ',': return emit(c, PQ_T_COMMA);
	case '*': return emit(c, PQ_T_MUL);
	case '/': return emit(c, PQ_T_DIV);
	case '%': return emit(c, PQ_T_MOD);
	case '+': return emit(c, PQ_T_ADD);
	case '-': return emit(c, PQ_T_SUB);
	case '^': return emit(c, PQ_T_POW);
	case '@': return emit(c, PQ_T_AT);
	case '=':
		r = peek(c);
		if (r == '=') {
			next(c);
			return emit(c, PQ_T_EQLC);
		}
		if (r == '~')
			return fail(c, "unexpected character after '=': '~'");
		return emit(c, PQ_T_EQL);
	case '!':
		r = next(c);
		if (r != '=') {
			quote_rune(q, sizeof(q), r);
			return fail(c, "unexpected character after '!': %s", q);
		}
		return emit(c, PQ_T_NEQ);
	case '<':
		if (peek(c) == '=') {
			next(c);
			return emit(c, PQ_T_LTE);
		}
		return emit(c, PQ_T_LSS);
	case '>':
		if (peek(c) == '=') {
			next(c);
			return emit(c, PQ_T_GTE);
		}
		return emit(c, PQ_T_GTR);
	}
	quote_rune(q, sizeof(q), r);
	return fail(c, "unexpected character: %s", q);
}

static struct pq_token
lex_bracket_colon(struct cursor *c, int32_t r)
{
	char q[16];

	if (c->l->got_colon) {
		quote_rune(q, sizeof(q), r);
		return fail(c, "unexpected colon %s", q);
	}
	c->l->got_colon = true;
	return emit(c, PQ_T_COLON);
}

static struct pq_token
lex_statements(struct cursor *c)
{
	struct pq_lexer *l = c->l;
	struct pq_token t;
	int32_t r;

	skip_blanks(c);
	r = next(c);
	if (r == RUNE_EOF) {
		if (l->paren_depth != 0)
			return fail(c, "unclosed left parenthesis");
		if (l->bracket_open)
			return fail(c, "unclosed left bracket");
		return emit(c, PQ_T_EOF);
	}
	if (is_digit(r) || (r == '.' && is_digit(peek(c)))) {
		backup(c);
		return lex_number_or_duration(c);
	}
	if (pq_is_alpha(r) || r == ':') {
		if (l->bracket_open)
			return lex_bracket_colon(c, r);
		backup(c);
		return lex_keyword_or_identifier(c);
	}
	switch (r) {
	case '"': case '\'':
		return lex_string(c, r);
	case '`':
		return lex_raw_string(c);
	case '(':
		l->paren_depth++;
		return emit(c, PQ_T_LPAREN);
	case ')':
		t = emit(c, PQ_T_RPAREN);
		if (--l->paren_depth < 0)
			return fail(c, "unexpected right parenthesis ')'");
		return t;
	case '{':
		l->brace_open = true;
		return emit(c, PQ_T_LBRACE);
	case '[':
		if (l->bracket_open)
			return fail(c, "unexpected left bracket '['");
		l->got_colon = false;
		t = emit(c, PQ_T_LBRACKET);
		while (l->pos < l->len && is_space(l->src[l->pos]))
			l->pos++;
		l->bracket_open = true;
		l->want_duration = true;
		return t;
	case ']':
		if (!l->bracket_open)
			return fail(c, "unexpected right bracket ']'");
		l->bracket_open = false;
		return emit(c, PQ_T_RBRACKET);
	}
	return lex_operator(c, r);
}

struct pq_token
pq_lex_next(struct pq_lexer *l)
{
	struct cursor c = {l, l->pos, 0};
	struct pq_token t = {PQ_T_ERROR, l->err_pos, l->len};

	if (l->failed)
		return t;
	if (l->brace_open)
		return lex_inside_braces(&c);
	if (l->want_duration)
		return lex_duration(&c);
	return lex_statements(&c);
}
