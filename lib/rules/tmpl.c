/*
 * tmpl.c - Go text/template syntax, as Prometheus parses alert templates
 * (see tmpl.h).  The lexer and parser follow Go 1.19's text/template/parse
 * (lex.go, parse.go) case by case, so the same texts are refused.
 */
#include "rules/tmpl.h"
#include "common/buf.h"
#include "common/hmap.h"
#include "promql/ast.h"
#include "promql/fail.h"
#include "promql/quote.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum it {
	IT_ERROR, IT_EOF, IT_TEXT, IT_LEFT_DELIM, IT_RIGHT_DELIM, IT_SPACE,
	IT_IDENT, IT_FIELD, IT_VARIABLE, IT_DOT, IT_NUMBER, IT_COMPLEX,
	IT_CHAR_CONST, IT_STRING, IT_RAW_STRING, IT_BOOL, IT_NIL, IT_PIPE,
	IT_LPAREN, IT_RPAREN, IT_ASSIGN, IT_DECLARE, IT_CHAR,
	/* Keywords. */
	IT_BLOCK, IT_BREAK, IT_CONTINUE, IT_DEFINE, IT_ELSE, IT_END, IT_IF,
	IT_RANGE, IT_TEMPLATE, IT_WITH,
};

struct item {
	enum it type;
	size_t pos, len;
};

#define MSG_MAX 160

struct lexer {
	const char *s;
	size_t len, pos, start;
	int paren_depth;
	struct item *items;
	size_t n, cap;
	char msg[MSG_MAX];	/* the error item's message */
	bool nomem;
};

/* --- lexer --- */

static bool
emit(struct lexer *l, enum it type)
{
	struct item *v;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;

		if ((v = realloc(l->items, cap * sizeof(*v))) == NULL) {
			l->nomem = true;
			return false;
		}
		l->items = v;
		l->cap = cap;
	}
	l->items[l->n].type = type;
	l->items[l->n].pos = l->start;
	l->items[l->n].len = l->pos - l->start;
	l->n++;
	l->start = l->pos;
	return true;
}

static bool lex_error(struct lexer *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Emit an error item; returns false so the lexer stops. */
static bool
lex_error(struct lexer *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->msg, sizeof(l->msg), fmt, ap);
	va_end(ap);
	emit(l, IT_ERROR);
	return false;
}

static bool
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Go's unicode.IsLetter/IsDigit, taking every non-ASCII byte as a letter. */
static bool
is_alnum(int c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (unsigned char)c >= 0x80;
}

static int
peekc(const struct lexer *l)
{
	return l->pos < l->len ? (unsigned char)l->s[l->pos] : -1;
}

static bool
starts(const struct lexer *l, size_t at, const char *p)
{
	size_t n = strlen(p);

	return at <= l->len && l->len - at >= n && memcmp(l->s + at, p, n) == 0;
}

/* At "}}" or " -}}"; *trim tells which. */
static bool
at_right_delim(const struct lexer *l, bool *trim)
{
	*trim = l->len - l->pos >= 2 && is_space(l->s[l->pos]) &&
	    l->s[l->pos + 1] == '-' && starts(l, l->pos + 2, "}}");
	return *trim || starts(l, l->pos, "}}");
}

static bool
at_terminator(const struct lexer *l)
{
	int c = peekc(l);

	return c < 0 || is_space(c) || strchr(".,|:)(}", c) != NULL;
}

/* Go's %#U of the rune at p, for messages. */
static void
describe_rune(const struct lexer *l, size_t p, char *out, size_t size)
{
	unsigned char c = p < l->len ? (unsigned char)l->s[p] : 0;

	if (c >= 0x20 && c < 0x7f)
		snprintf(out, size, "U+%04X '%c'", c, c);
	else
		snprintf(out, size, "U+%04X", c);
}

static bool
scan_number(struct lexer *l)
{
	const char *digits = "0123456789_";

	if (peekc(l) == '+' || peekc(l) == '-')
		l->pos++;
	if (peekc(l) == '0') {
		l->pos++;
		if (peekc(l) == 'x' || peekc(l) == 'X') {
			l->pos++;
			digits = "0123456789abcdefABCDEF_";
		} else if (peekc(l) == 'o' || peekc(l) == 'O') {
			l->pos++;
			digits = "01234567_";
		} else if (peekc(l) == 'b' || peekc(l) == 'B') {
			l->pos++;
			digits = "01_";
		}
	}
	while (peekc(l) > 0 && strchr(digits, peekc(l)) != NULL)
		l->pos++;
	if (peekc(l) == '.') {
		l->pos++;
		while (peekc(l) > 0 && strchr(digits, peekc(l)) != NULL)
			l->pos++;
	}
	if (strlen(digits) == 11 && (peekc(l) == 'e' || peekc(l) == 'E')) {
		l->pos++;
		if (peekc(l) == '+' || peekc(l) == '-')
			l->pos++;
		while (peekc(l) > 0 && strchr("0123456789_", peekc(l)) != NULL)
			l->pos++;
	}
	if (strlen(digits) == 23 && (peekc(l) == 'p' || peekc(l) == 'P')) {
		l->pos++;
		if (peekc(l) == '+' || peekc(l) == '-')
			l->pos++;
		while (peekc(l) > 0 && strchr("0123456789_", peekc(l)) != NULL)
			l->pos++;
	}
	if (peekc(l) == 'i')
		l->pos++;
	if (peekc(l) >= 0 && is_alnum(peekc(l))) {
		l->pos++;
		return false;
	}
	return true;
}

static bool
lex_number(struct lexer *l)
{
	if (!scan_number(l))
		return lex_error(l, "bad number syntax: \"%.*s\"",
		    (int)(l->pos - l->start), l->s + l->start);
	if (peekc(l) == '+' || peekc(l) == '-') {
		if (!scan_number(l) || l->s[l->pos - 1] != 'i')
			return lex_error(l, "bad number syntax: \"%.*s\"",
			    (int)(l->pos - l->start), l->s + l->start);
		return emit(l, IT_COMPLEX);
	}
	return emit(l, IT_NUMBER);
}

static bool
lex_quote(struct lexer *l, char q, enum it type, const char *unterminated)
{
	int c;

	for (;;) {
		c = peekc(l);
		l->pos++;
		if (c == '\\' && q != '`') {
			c = peekc(l);
			l->pos++;
			if (c >= 0 && c != '\n')
				continue;
		} else if (c == q) {
			return emit(l, type);
		}
		if (c < 0 || (c == '\n' && q != '`')) {
			if (c < 0)
				l->pos = l->len;
			return lex_error(l, "%s", unterminated);
		}
	}
}

static const struct {
	const char *word;
	enum it type;
} keywords[] = {
	{"block", IT_BLOCK}, {"break", IT_BREAK}, {"continue", IT_CONTINUE},
	{"define", IT_DEFINE}, {"else", IT_ELSE}, {"end", IT_END},
	{"if", IT_IF}, {"range", IT_RANGE}, {"nil", IT_NIL},
	{"template", IT_TEMPLATE}, {"with", IT_WITH},
};

static bool
lex_identifier(struct lexer *l)
{
	char what[32];
	size_t n, i;

	while (peekc(l) >= 0 && is_alnum(peekc(l)))
		l->pos++;
	if (!at_terminator(l)) {
		describe_rune(l, l->pos, what, sizeof(what));
		return lex_error(l, "bad character %s", what);
	}
	n = l->pos - l->start;
	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strlen(keywords[i].word) == n &&
		    memcmp(keywords[i].word, l->s + l->start, n) == 0)
			return emit(l, keywords[i].type);
	if ((n == 4 && memcmp(l->s + l->start, "true", 4) == 0) ||
	    (n == 5 && memcmp(l->s + l->start, "false", 5) == 0))
		return emit(l, IT_BOOL);
	return emit(l, IT_IDENT);
}

/* After '$' or '.': a variable or field name, or "$" / "." alone. */
static bool
lex_field_or_variable(struct lexer *l, enum it type)
{
	char what[32];

	if (at_terminator(l))
		return emit(l, type == IT_VARIABLE ? IT_VARIABLE : IT_DOT);
	while (peekc(l) >= 0 && is_alnum(peekc(l)))
		l->pos++;
	if (!at_terminator(l)) {
		describe_rune(l, l->pos, what, sizeof(what));
		return lex_error(l, "bad character %s", what);
	}
	return emit(l, type);
}

static bool
lex_space(struct lexer *l)
{
	size_t n = 0;

	while (peekc(l) >= 0 && is_space(peekc(l))) {
		l->pos++;
		n++;
	}
	/* The last blank may begin a trim-marked " -}}". */
	if (starts(l, l->pos, "-}}")) {
		l->pos--;
		if (n == 1)
			return true;
	}
	return emit(l, IT_SPACE);
}

/* One token inside an action; false when the action or input ends. */
static bool
lex_action_token(struct lexer *l, bool *in_action)
{
	char what[32];
	bool trim;
	int c;

	if (at_right_delim(l, &trim)) {
		if (l->paren_depth != 0)
			return lex_error(l, "unclosed left paren");
		if (trim)
			l->pos += 2;
		l->start = l->pos;
		l->pos += 2;
		*in_action = false;
		if (!emit(l, IT_RIGHT_DELIM))
			return false;
		if (trim)
			while (peekc(l) >= 0 && is_space(peekc(l)))
				l->pos++;
		l->start = l->pos;
		return true;
	}
	c = peekc(l);
	if (c < 0)
		return lex_error(l, "unclosed action");
	if (is_space(c))
		return lex_space(l);
	l->pos++;
	switch (c) {
	case '=':
		return emit(l, IT_ASSIGN);
	case ':':
		if (peekc(l) != '=')
			return lex_error(l, "expected :=");
		l->pos++;
		return emit(l, IT_DECLARE);
	case '|':
		return emit(l, IT_PIPE);
	case '"':
		return lex_quote(l, '"', IT_STRING, "unterminated quoted string");
	case '`':
		return lex_quote(l, '`', IT_RAW_STRING,
		    "unterminated raw quoted string");
	case '\'':
		return lex_quote(l, '\'', IT_CHAR_CONST,
		    "unterminated character constant");
	case '$':
		return lex_field_or_variable(l, IT_VARIABLE);
	case '(':
		l->paren_depth++;
		return emit(l, IT_LPAREN);
	case ')':
		if (!emit(l, IT_RPAREN))
			return false;
		if (--l->paren_depth < 0)
			return lex_error(l, "unexpected right paren U+0029 ')'");
		return true;
	case '.':
		if (peekc(l) < '0' || peekc(l) > '9')
			return lex_field_or_variable(l, IT_FIELD);
		/* FALLTHROUGH: '.' starts a number. */
	default:
		break;
	}
	if (c == '.' || c == '+' || c == '-' || (c >= '0' && c <= '9')) {
		l->pos--;
		return lex_number(l);
	}
	if (is_alnum(c)) {
		l->pos--;
		return lex_identifier(l);
	}
	if (c >= 0x20 && c < 0x7f)
		return emit(l, IT_CHAR);
	describe_rune(l, l->pos - 1, what, sizeof(what));
	return lex_error(l, "unrecognized character in action: %s", what);
}

/* "{{" at l->pos: a comment (skipped) or the start of an action. */
static bool
lex_left_delim(struct lexer *l, bool *in_action)
{
	size_t after = 2;
	bool trim;

	if (l->len - l->pos >= 4 && l->s[l->pos + 2] == '-' &&
	    is_space(l->s[l->pos + 3]))
		after = 4;
	if (starts(l, l->pos + after, "/*")) {
		const char *end;

		l->pos += after + 2;
		end = NULL;
		for (size_t k = l->pos; k + 1 < l->len; k++)
			if (l->s[k] == '*' && l->s[k + 1] == '/') {
				end = l->s + k;
				break;
			}
		if (end == NULL)
			return lex_error(l, "unclosed comment");
		l->pos = (size_t)(end - l->s) + 2;
		if (!at_right_delim(l, &trim))
			return lex_error(l, "comment ends before closing "
			    "delimiter");
		l->pos += trim ? 4 : 2;
		l->start = l->pos;
		return true;
	}
	l->pos += 2;
	if (!emit(l, IT_LEFT_DELIM))
		return false;
	l->pos += after - 2;
	l->start = l->pos;
	l->paren_depth = 0;
	*in_action = true;
	return true;
}

static bool
lex_all(struct lexer *l)
{
	bool in_action = false;
	const char *open;

	for (;;) {
		if (in_action) {
			if (!lex_action_token(l, &in_action))
				return false;
			continue;
		}
		open = NULL;
		for (size_t k = l->pos; k + 1 < l->len; k++)
			if (l->s[k] == '{' && l->s[k + 1] == '{') {
				open = l->s + k;
				break;
			}
		if (open == NULL) {
			l->pos = l->len;
			if (l->pos > l->start && !emit(l, IT_TEXT))
				return false;
			return emit(l, IT_EOF);
		}
		l->pos = (size_t)(open - l->s);
		if (l->pos > l->start && !emit(l, IT_TEXT))
			return false;
		if (!lex_left_delim(l, &in_action))
			return false;
	}
}

/* --- parser --- */

struct var {
	const char *p;
	size_t len;
	size_t prev;		/* the variable it hides, or NO_VAR */
};

#define NO_VAR ((size_t)-1)
#define VAR_INDEX_MIN 32

struct defined {
	char *name;
	bool nonempty;
};

struct parser {
	struct lexer *l;
	size_t i;		/* next item */
	struct var *vars;
	size_t nvars, capvars;
	struct hmap var_index;	/* name -> its newest variable, once
				   there are VAR_INDEX_MIN (else a scan) */
	bool indexed;
	size_t scope;		/* first variable of the current template */
	int range_depth;
	int depth;		/* actions and parentheses open, at most
				   PQ_DEPTH_MAX (promql/ast.h) */
	struct defined *defs;
	size_t ndefs;
	struct hmap def_index;	/* name -> position in defs */
	tmpl_label_fn on_label;
	void *ctx;
	struct pq_fail f;	/* the first error */
};

static bool fail(struct parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record the first error; false, so callers can "return fail(...)". */
static bool
fail(struct parser *p, size_t off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pq_fail_vat(&p->f, off, fmt, ap);
	va_end(ap);
	return false;
}

static struct item
next(struct parser *p)
{
	struct item it = p->l->items[p->i];

	if (it.type != IT_EOF && it.type != IT_ERROR)
		p->i++;
	return it;
}

static struct item
peek(struct parser *p)
{
	return p->l->items[p->i];
}

/* Give back an item returned by next(); EOF and errors were never taken. */
static void
backup(struct parser *p, struct item it)
{
	if (it.type != IT_EOF && it.type != IT_ERROR)
		p->i--;
}

static struct item
next_non_space(struct parser *p)
{
	struct item it;

	do
		it = next(p);
	while (it.type == IT_SPACE);
	return it;
}

static struct item
peek_non_space(struct parser *p)
{
	while (peek(p).type == IT_SPACE)
		p->i++;
	return peek(p);
}

static const char *
item_desc(struct parser *p, struct item it, char *buf, size_t size)
{
	switch (it.type) {
	case IT_EOF:
		return "EOF";
	case IT_RIGHT_DELIM:
		return "}}";
	case IT_LEFT_DELIM:
		return "{{";
	default:
		break;
	}
	if (it.type >= IT_BLOCK)
		snprintf(buf, size, "<%.*s>", (int)it.len, p->l->s + it.pos);
	else
		snprintf(buf, size, "\"%.*s\"", (int)(it.len > 40 ? 40 :
		    it.len), p->l->s + it.pos);
	return buf;
}

static bool
unexpected(struct parser *p, struct item it, const char *context)
{
	char d[64];

	if (it.type == IT_ERROR)
		return fail(p, it.pos, "%s", p->l->msg);
	return fail(p, it.pos, "unexpected %s in %s",
	    item_desc(p, it, d, sizeof(d)), context);
}

static bool
expect(struct parser *p, enum it type, const char *context)
{
	struct item it = next_non_space(p);

	if (it.type != type)
		return unexpected(p, it, context);
	return true;
}

/*
 * Variables are a stack.  Past VAR_INDEX_MIN of them, each name maps to
 * its newest, which keeps the one it hides, so finding one takes no scan
 * (a template of n variables used n times took time growing with n
 * squared); below, a scan is cheaper than the map.
 */
static int
index_var(struct parser *p, size_t i)
{
	size_t *slot;
	bool found;

	if (hmap_upsert(&p->var_index, p->vars[i].p, p->vars[i].len, &slot,
	    &found) != 0)
		return PERR_NOMEM;
	p->vars[i].prev = found ? *slot : NO_VAR;
	*slot = i;
	return 0;
}

static bool
push_var(struct parser *p, const char *s, size_t len)
{
	struct var *v;
	size_t i;
	int rc = 0;

	if (p->nvars == p->capvars) {
		size_t cap = p->capvars ? p->capvars * 2 : 16;

		if ((v = realloc(p->vars, cap * sizeof(*v))) == NULL) {
			pq_fail_code(&p->f, PERR_NOMEM, "out of memory");
			return false;
		}
		p->vars = v;
		p->capvars = cap;
	}
	p->vars[p->nvars].p = s;
	p->vars[p->nvars].len = len;
	p->vars[p->nvars].prev = NO_VAR;
	p->nvars++;
	if (p->indexed)
		rc = index_var(p, p->nvars - 1);
	else if (p->nvars == VAR_INDEX_MIN)
		for (i = 0, p->indexed = true; rc == 0 && i < p->nvars; i++)
			rc = index_var(p, i);
	if (rc != 0) {
		pq_fail_code(&p->f, PERR_NOMEM, "out of memory");
		return false;
	}
	return true;
}

/* Forget the variables from the n-th on, newest first. */
static void
pop_vars(struct parser *p, size_t n)
{
	struct var *v;
	size_t *slot;
	bool found;

	while (p->nvars > n) {
		v = &p->vars[--p->nvars];
		/* Present: no memory is needed. */
		if (p->indexed && hmap_upsert(&p->var_index, v->p, v->len,
		    &slot, &found) == 0)
			*slot = v->prev;
	}
}

static const char *const funcs[] = {
	/* Go's builtins. */
	"and", "call", "html", "index", "slice", "js", "len", "not", "or",
	"print", "printf", "println", "urlquery", "eq", "ge", "gt", "le",
	"lt", "ne",
	/* Prometheus 2.42's template functions. */
	"query", "first", "label", "value", "strvalue", "args",
	"reReplaceAll", "safeHtml", "match", "title", "toUpper", "toLower",
	"graphLink", "tableLink", "sortByLabel", "humanize", "humanize1024",
	"humanizeDuration", "humanizePercentage", "humanizeTimestamp",
	"toTime", "pathPrefix", "externalURL", "parseDuration", "stripPort",
	"stripDomain",
};

static bool
has_function(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		if (strlen(funcs[i]) == n && memcmp(funcs[i], s, n) == 0)
			return true;
	return false;
}

/* --- literals --- */

static bool
underscore_ok(const char *s, size_t n)
{
	char saw = '^';
	bool hex = false;
	size_t i = 0;

	if (n >= 1 && (s[0] == '-' || s[0] == '+')) {
		s++;
		n--;
	}
	if (n >= 2 && s[0] == '0' && strchr("bBoOxX", s[1]) != NULL) {
		i = 2;
		saw = '0';
		hex = s[1] == 'x' || s[1] == 'X';
	}
	for (; i < n; i++) {
		char c = s[i];

		if ((c >= '0' && c <= '9') || (hex && strchr("abcdefABCDEF",
		    c) != NULL && c != '\0')) {
			saw = '0';
		} else if (c == '_') {
			if (saw != '0')
				return false;
			saw = '_';
		} else {
			if (saw == '_')
				return false;
			saw = '!';
		}
	}
	return saw != '_';
}

static bool
all_of(const char *s, size_t n, const char *set)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return false;
	return true;
}

/* Go's ParseInt/ParseUint(s, 0, 64) syntax and range (sign stripped). */
static bool
int_ok(const char *s, size_t n, bool negative)
{
	unsigned long long v = 0, base = 10, d, limit;
	const char *digits = "0123456789";
	size_t i = 0;

	if (n >= 2 && s[0] == '0' && strchr("xXoObB", s[1]) != NULL &&
	    s[1] != '\0') {
		base = s[1] == 'x' || s[1] == 'X' ? 16 : s[1] == 'o' ||
		    s[1] == 'O' ? 8 : 2;
		digits = base == 16 ? "0123456789abcdefABCDEF" : base == 8 ?
		    "01234567" : "01";
		i = 2;
	} else if (n >= 2 && s[0] == '0') {
		base = 8;
		digits = "01234567";
		i = 1;
	}
	if (!all_of(s + i, n - i, digits))
		return false;
	limit = negative ? 9223372036854775808ULL : ~0ULL;
	for (; i < n; i++) {
		d = (unsigned long long)(s[i] <= '9' ? s[i] - '0' :
		    (s[i] | 0x20) - 'a' + 10);
		if (v > (limit - d) / base)
			return false;
		v = v * base + d;
	}
	return true;
}

/* Go's ParseFloat syntax (decimal, or hex with a 'p' exponent) and range. */
static bool
float_ok(const char *s, size_t n)
{
	char tmp[128], *end;
	size_t i = 0, digits = 0;
	bool hex = n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *set = hex ? "0123456789abcdefABCDEF" : "0123456789";

	if (hex)
		i = 2;
	for (; i < n && s[i] != '\0' && strchr(set, s[i]) != NULL; i++)
		digits++;
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] != '\0' && strchr(set, s[i]) != NULL;
		    i++)
			digits++;
	if (digits == 0)
		return false;
	if (i < n && (hex ? (s[i] == 'p' || s[i] == 'P') :
	    (s[i] == 'e' || s[i] == 'E'))) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!all_of(s + i, n - i, "0123456789"))
			return false;
		i = n;
	} else if (hex) {
		return false;
	}
	if (i != n || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return !isinf(strtod(tmp, &end));
}

static bool
check_number(struct parser *p, struct item it)
{
	char clean[128];
	const char *s = p->l->s + it.pos;
	size_t n = 0, k;
	bool negative = false;
	struct buf b = BUF_INIT(64);
	int rc;

	if (it.type == IT_CHAR_CONST) {
		rc = pq_unquote(s, it.len, false, &b);
		buf_free(&b);
		if (rc != 0)
			return fail(p, it.pos, "malformed character constant: "
			    "%.*s", (int)it.len, s);
		return true;
	}
	if (it.type == IT_COMPLEX)
		return true;
	if (it.len >= sizeof(clean) || !underscore_ok(s, it.len))
		goto illegal;
	for (k = 0; k < it.len; k++)
		if (s[k] != '_')
			clean[n++] = s[k];
	s = clean;
	if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		negative = s[0] == '-';
		s++;
		n--;
	}
	if (n > 0 && s[n - 1] == 'i' && float_ok(s, n - 1))
		return true;
	if (int_ok(s, n, negative))
		return true;
	if (float_ok(s, n)) {
		for (k = 0; k < n; k++)
			if (strchr(".eEpP", s[k]) != NULL)
				return true;
		return fail(p, it.pos, "integer overflow: \"%.*s\"",
		    (int)it.len, p->l->s + it.pos);
	}
illegal:
	return fail(p, it.pos, "illegal number syntax: \"%.*s\"", (int)it.len,
	    p->l->s + it.pos);
}

static bool
check_string(struct parser *p, struct item it)
{
	struct buf b = BUF_INIT(1 << 20);
	int rc = pq_unquote(p->l->s + it.pos, it.len, false, &b);

	buf_free(&b);
	if (rc != 0)
		return fail(p, it.pos, "invalid syntax");
	return true;
}

/* --- grammar --- */

static bool pipeline(struct parser *p, const char *context, enum it end);
static bool item_list(struct parser *p, enum it *end, size_t *end_pos,
    bool *nonempty);

static bool
use_var(struct parser *p, struct item it)
{
	size_t i;

	/* The newest of that name, unless of an enclosing template. */
	if (p->indexed) {
		if (hmap_find(&p->var_index, p->l->s + it.pos, it.len, &i) &&
		    i != NO_VAR && i >= p->scope)
			return true;
	} else {
		for (i = p->nvars; i-- > p->scope;)
			if (p->vars[i].len == it.len && memcmp(p->vars[i].p,
			    p->l->s + it.pos, it.len) == 0)
				return true;
	}
	return fail(p, it.pos, "undefined variable \"%.*s\"", (int)it.len,
	    p->l->s + it.pos);
}

/*
 * One level deeper, for what starts at off: false past PQ_DEPTH_MAX.  The
 * parser recurses into parentheses and the bodies of if, range, with and
 * block, so this bounds its stack.
 */
static bool
deeper(struct parser *p, size_t off)
{
	if (++p->depth <= PQ_DEPTH_MAX)
		return true;
	pq_fail_depth(&p->f, off, "template");
	return false;
}

/* A term: 1 parsed (*kind set), 0 none here, -1 error. */
static int
term(struct parser *p, enum it *kind)
{
	struct item it = next_non_space(p);
	bool rc;

	*kind = it.type;
	switch (it.type) {
	case IT_IDENT:
		if (!has_function(p->l->s + it.pos, it.len))
			return fail(p, it.pos, "function \"%.*s\" not defined",
			    (int)it.len, p->l->s + it.pos), -1;
		return 1;
	case IT_DOT: case IT_NIL: case IT_FIELD: case IT_BOOL:
		return 1;
	case IT_VARIABLE:
		return use_var(p, it) ? 1 : -1;
	case IT_CHAR_CONST: case IT_COMPLEX: case IT_NUMBER:
		return check_number(p, it) ? 1 : -1;
	case IT_LPAREN:
		if (!deeper(p, it.pos))
			return -1;
		rc = pipeline(p, "parenthesized pipeline", IT_RPAREN);
		p->depth--;
		return rc ? 1 : -1;
	case IT_STRING: case IT_RAW_STRING:
		return check_string(p, it) ? 1 : -1;
	default:
		backup(p, it);
		return 0;
	}
}

static bool
is_labels_ref(struct parser *p, struct item first)
{
	const char *s = p->l->s + first.pos;

	return (first.type == IT_VARIABLE && first.len == 7 &&
	    memcmp(s, "$labels", 7) == 0) || (first.type == IT_FIELD &&
	    first.len == 7 && memcmp(s, ".Labels", 7) == 0);
}

/* An operand: a term and the fields chained to it.  *kind is the term's. */
static int
operand(struct parser *p, enum it *kind)
{
	struct item first = peek_non_space(p), f;
	int rc = term(p, kind);
	bool chained = false;

	if (rc <= 0)
		return rc;
	while (peek(p).type == IT_FIELD) {
		f = next(p);
		if (!chained && p->on_label != NULL && is_labels_ref(p, first))
			p->on_label(p->ctx, p->l->s + f.pos + 1, f.len - 1,
			    first.pos);
		chained = true;
	}
	if (chained && (*kind == IT_BOOL || *kind == IT_STRING ||
	    *kind == IT_RAW_STRING || *kind == IT_NUMBER ||
	    *kind == IT_CHAR_CONST || *kind == IT_COMPLEX || *kind == IT_NIL ||
	    *kind == IT_DOT))
		return fail(p, first.pos, "unexpected . after term \"%.*s\"",
		    (int)first.len, p->l->s + first.pos), -1;
	return 1;
}

/* A command; *first is the kind of its first operand. */
static bool
command(struct parser *p, enum it *first)
{
	size_t nargs = 0;
	struct item it;
	enum it kind;
	int rc;

	for (;;) {
		peek_non_space(p);
		if ((rc = operand(p, &kind)) < 0)
			return false;
		if (rc > 0 && nargs++ == 0)
			*first = kind;
		it = next(p);
		if (it.type == IT_SPACE)
			continue;
		if (it.type == IT_RIGHT_DELIM || it.type == IT_RPAREN) {
			backup(p, it);
		} else if (it.type != IT_PIPE) {
			return unexpected(p, it, "operand");
		}
		break;
	}
	if (nargs == 0)
		return fail(p, it.pos, "empty command");
	return true;
}

/* Declarations at the start of a pipeline ($x := / $x = / $i, $e :=). */
static bool
declarations(struct parser *p, const char *context, size_t *ndecl)
{
	struct item v, nx;
	size_t save;

	*ndecl = 0;
	for (;;) {
		v = peek_non_space(p);
		if (v.type != IT_VARIABLE)
			return true;
		save = p->i;
		next(p);
		nx = peek_non_space(p);
		if (nx.type == IT_ASSIGN || nx.type == IT_DECLARE) {
			next_non_space(p);
			(*ndecl)++;
			return push_var(p, p->l->s + v.pos, v.len);
		}
		if (nx.type == IT_CHAR && p->l->s[nx.pos] == ',') {
			next_non_space(p);
			(*ndecl)++;
			if (!push_var(p, p->l->s + v.pos, v.len))
				return false;
			if (strcmp(context, "range") == 0 && *ndecl < 2) {
				nx = peek_non_space(p);
				if (nx.type == IT_VARIABLE ||
				    nx.type == IT_RIGHT_DELIM ||
				    nx.type == IT_RPAREN)
					continue;
				return fail(p, nx.pos, "range can only "
				    "initialize variables");
			}
			return fail(p, v.pos, "too many declarations in %s",
			    context);
		}
		p->i = save;	/* the variable is an operand */
		return true;
	}
}

static bool
pipeline(struct parser *p, const char *context, enum it end)
{
	enum it first;
	size_t ndecl, ncmds = 0, stage = 0;
	struct item it;

	if (!declarations(p, context, &ndecl))
		return false;
	for (;;) {
		it = next_non_space(p);
		if (it.type == end) {
			if (ncmds == 0)
				return fail(p, it.pos, "missing value for %s",
				    context);
			return true;
		}
		switch (it.type) {
		case IT_BOOL: case IT_CHAR_CONST: case IT_COMPLEX: case IT_DOT:
		case IT_FIELD: case IT_IDENT: case IT_NUMBER: case IT_NIL:
		case IT_RAW_STRING: case IT_STRING: case IT_VARIABLE:
		case IT_LPAREN:
			backup(p, it);
			first = IT_EOF;
			if (!command(p, &first))
				return false;
			ncmds++;
			stage++;
			/* Only the first stage may start with a plain value. */
			if (stage > 1 && (first == IT_BOOL || first == IT_DOT ||
			    first == IT_NIL || first == IT_NUMBER ||
			    first == IT_CHAR_CONST || first == IT_COMPLEX ||
			    first == IT_STRING || first == IT_RAW_STRING))
				return fail(p, it.pos, "non executable command "
				    "in pipeline stage %zu", stage);
			break;
		default:
			return unexpected(p, it, context);
		}
	}
}

/* The quoted name of define/template/block. */
static bool
template_name(struct parser *p, const char *context, struct item *name)
{
	*name = next_non_space(p);
	if (name->type != IT_STRING && name->type != IT_RAW_STRING)
		return unexpected(p, *name, context);
	return check_string(p, *name);
}

/* Record a define or block; Go refuses two non-empty ones of one name. */
static bool
add_definition(struct parser *p, struct item name, bool nonempty)
{
	struct buf b = BUF_INIT(1 << 16);
	struct defined *d;
	size_t *slot;
	bool found;

	if (pq_unquote(p->l->s + name.pos, name.len, false, &b) != 0 ||
	    buf_add(&b, "", 0) != 0) {
		buf_free(&b);
		return fail(p, name.pos, "invalid syntax");
	}
	/* Names are looked up, not scanned: thousands of defines. */
	if (hmap_upsert(&p->def_index, b.p, b.len, &slot, &found) != 0) {
		buf_free(&b);
		pq_fail_code(&p->f, PERR_NOMEM, "out of memory");
		return false;
	}
	if (found) {
		d = &p->defs[*slot];
		if (d->nonempty && nonempty) {
			fail(p, name.pos, "template: multiple definition of "
			    "template \"%s\"", b.p);
			buf_free(&b);
			return false;
		}
		d->nonempty |= nonempty;
		buf_free(&b);
		return true;
	}
	*slot = p->ndefs;
	/* Room for 16, 32, 64...: reallocate when ndefs reaches one. */
	if (p->ndefs != 0 && (p->ndefs < 16 || (p->ndefs & (p->ndefs - 1))))
		d = p->defs;
	else if ((d = realloc(p->defs, (p->ndefs < 16 ? 16 : 2 * p->ndefs) *
	    sizeof(*d))) == NULL) {
		buf_free(&b);
		pq_fail_code(&p->f, PERR_NOMEM, "out of memory");
		return false;
	}
	p->defs = d;
	d[p->ndefs].name = buf_take(&b);
	d[p->ndefs].nonempty = nonempty;
	p->ndefs++;
	return true;
}

/* A new template body (define, block): its own variables and ranges. */
static bool
sub_template(struct parser *p, const char *context, struct item name)
{
	size_t saved_vars = p->nvars, saved_scope = p->scope, end_pos;
	int saved_range = p->range_depth;
	bool nonempty, ok;
	enum it end;

	if (!deeper(p, name.pos))
		return false;
	/* Only "$" is defined in a new template. */
	p->scope = p->nvars;
	p->range_depth = 0;
	ok = push_var(p, "$", 1) && item_list(p, &end, &end_pos, &nonempty);
	p->depth--;
	pop_vars(p, saved_vars);
	p->scope = saved_scope;
	p->range_depth = saved_range;
	if (!ok)
		return false;
	if (end != IT_END)
		return fail(p, end_pos, "unexpected {{else}} in %s", context);
	return add_definition(p, name, nonempty);
}

static bool
define_clause(struct parser *p)
{
	struct item name;

	if (!template_name(p, "define clause", &name) ||
	    !expect(p, IT_RIGHT_DELIM, "define clause"))
		return false;
	return sub_template(p, "define clause", name);
}

/*
 * if/range/with at off: pipeline, body, optional else (and "else if" for
 * if).  Variables declared in the pipeline live until the matching end.
 * Go reads "{{else if}}" as an "{{if}}" inside the else; here a chain of
 * them is a loop, so its length is not nesting.
 */
static bool
control(struct parser *p, const char *context, size_t off)
{
	size_t saved = p->nvars, end_pos;
	bool nonempty, ok = false, range = strcmp(context, "range") == 0;
	enum it end;

	if (!deeper(p, off))
		return false;
	for (;;) {
		ok = false;
		if (!pipeline(p, context, IT_RIGHT_DELIM))
			break;
		p->range_depth += range;
		ok = item_list(p, &end, &end_pos, &nonempty);
		p->range_depth -= range;
		if (!ok || end != IT_ELSE)
			break;
		if (strcmp(context, "if") == 0 &&
		    peek_non_space(p).type == IT_IF) {
			next_non_space(p);
			continue;
		}
		ok = item_list(p, &end, &end_pos, &nonempty);
		if (ok && end != IT_END)
			ok = fail(p, end_pos, "expected end; found {{else}}");
		break;
	}
	p->depth--;
	pop_vars(p, saved);
	return ok;
}

/*
 * An action after "{{".  *ends is IT_END or IT_ELSE when the action is
 * {{end}} or {{else}}, which close the list being parsed.
 */
static bool
action(struct parser *p, enum it *ends)
{
	struct item it = next_non_space(p), name;

	*ends = IT_EOF;
	switch (it.type) {
	case IT_BLOCK:
		if (!template_name(p, "block clause", &name) ||
		    !pipeline(p, "block clause", IT_RIGHT_DELIM))
			return false;
		return sub_template(p, "block clause", name);
	case IT_BREAK:
	case IT_CONTINUE: {
		const char *what = it.type == IT_BREAK ? "{{break}}" :
		    "{{continue}}";
		struct item t = next_non_space(p);

		if (t.type != IT_RIGHT_DELIM)
			return unexpected(p, t, what);
		if (p->range_depth == 0)
			return fail(p, it.pos, "%s outside {{range}}", what);
		return true;
	}
	case IT_ELSE:
		*ends = IT_ELSE;
		if (peek_non_space(p).type == IT_IF)
			return true;
		return expect(p, IT_RIGHT_DELIM, "else");
	case IT_END:
		*ends = IT_END;
		return expect(p, IT_RIGHT_DELIM, "end");
	case IT_IF:
		return control(p, "if", it.pos);
	case IT_RANGE:
		return control(p, "range", it.pos);
	case IT_WITH:
		return control(p, "with", it.pos);
	case IT_TEMPLATE:
		if (!template_name(p, "template clause", &name))
			return false;
		it = next_non_space(p);
		if (it.type == IT_RIGHT_DELIM)
			return true;
		backup(p, it);
		return pipeline(p, "template clause", IT_RIGHT_DELIM);
	default:
		backup(p, it);
		return pipeline(p, "command", IT_RIGHT_DELIM);
	}
}

/* Text or an action; *ends as for action(); *nonempty when it is not
 * blank text (Go's IsEmptyTree). */
static bool
text_or_action(struct parser *p, enum it *ends, size_t *pos, bool *nonempty)
{
	struct item it = next_non_space(p);
	size_t k;

	*ends = IT_EOF;
	*pos = it.pos;
	*nonempty = false;
	switch (it.type) {
	case IT_TEXT:
		for (k = 0; k < it.len; k++)
			if (!is_space(p->l->s[it.pos + k]))
				*nonempty = true;
		return true;
	case IT_LEFT_DELIM:
		*nonempty = true;
		return action(p, ends);
	default:
		return unexpected(p, it, "input");
	}
}

static bool
item_list(struct parser *p, enum it *end, size_t *end_pos, bool *nonempty)
{
	bool ne;

	*nonempty = false;
	while (peek_non_space(p).type != IT_EOF) {
		if (!text_or_action(p, end, end_pos, &ne))
			return false;
		if (*end == IT_END || *end == IT_ELSE)
			return true;
		*nonempty |= ne;
	}
	return fail(p, peek(p).pos, "unexpected EOF");
}

static bool
parse_top(struct parser *p)
{
	struct item it;
	size_t save, pos;
	enum it ends;
	bool nonempty;

	while (peek(p).type != IT_EOF) {
		it = peek(p);
		if (it.type == IT_LEFT_DELIM) {
			save = p->i;
			next(p);
			if (next_non_space(p).type == IT_DEFINE) {
				if (!define_clause(p))
					return false;
				continue;
			}
			p->i = save;
		}
		if (!text_or_action(p, &ends, &pos, &nonempty))
			return false;
		if (ends != IT_EOF)
			return fail(p, pos, "unexpected {{%s}}",
			    ends == IT_END ? "end" : "else");
	}
	return true;
}

int
tmpl_check(const char *text, size_t len, tmpl_label_fn on_label, void *ctx,
    size_t *err_off, struct perr *e)
{
	static const char *const predefined[] = {
		"$", "$labels", "$externalLabels", "$externalURL", "$value",
	};
	struct lexer l;
	struct parser p;
	size_t i;
	int rc = 0;

	*err_off = 0;
	memset(&l, 0, sizeof(l));
	l.s = text;
	l.len = len;
	lex_all(&l);
	if (l.nomem) {
		free(l.items);
		return perr_set(e, PERR_NOMEM, "out of memory");
	}
	memset(&p, 0, sizeof(p));
	p.l = &l;
	p.on_label = on_label;
	p.ctx = ctx;
	p.f.e = e;
	for (i = 0; i < sizeof(predefined) / sizeof(predefined[0]); i++)
		push_var(&p, predefined[i], strlen(predefined[i]));
	if (!p.f.failed && !parse_top(&p) && !p.f.failed)
		fail(&p, 0, "invalid template");
	if (p.f.failed) {
		rc = p.f.code;
		*err_off = p.f.pos;
	}
	for (i = 0; i < p.ndefs; i++)
		free(p.defs[i].name);
	free(p.defs);
	hmap_free(&p.def_index);
	hmap_free(&p.var_index);
	free(p.vars);
	free(l.items);
	return rc;
}
