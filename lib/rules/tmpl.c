/*
 * tmpl.c - Go text/template syntax, as Prometheus parses alert templates
 * (see tmpl.h).  The lexer and parser follow Go 1.19's text/template/parse
 * (lex.go, parse.go) case by case, so the same texts are refused.
 */
#include "rules/tmpl.h"
#include "common/buf.h"
#include "common/hmap.h"
#include "promql/ast.h"
#include "promql/duration.h"
#include "promql/eval.h"
#include "promql/evalint.h"
#include "promql/fail.h"
#include "promql/numfmt.h"
#include "promql/parse.h"
#include "promql/print.h"
#include "promql/quote.h"
#include "promql/rematch.h"
#include "common/mem.h"

#include <ctype.h>
#include <errno.h>
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
	if (mem_grow(&l->items, &l->cap, l->n + 1, sizeof(l->items[0]),
	    64) != 0) {
		l->nomem = true;
		return false;
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

/*
 * --- execution ---
 *
 * A checked template is built into a tree (Go's parse nodes, for input the
 * checker passed) and executed as Go's text/template executes it with
 * Prometheus's data, functions and option missingkey=zero.
 */

enum tn_kind {
	TN_LIST, TN_TEXT, TN_ACTION, TN_IF, TN_RANGE, TN_WITH, TN_TEMPLATE,
	TN_BREAK, TN_CONTINUE, TN_PIPE, TN_CMD, TN_FIELD, TN_VAR, TN_CHAIN,
	TN_IDENT, TN_DOT, TN_NIL, TN_BOOL, TN_NUMBER, TN_STRING,
};

struct tnode {
	enum tn_kind kind;
	size_t pos, end;		/* source range, for messages */
	const char *s;			/* text, name, string value */
	size_t len;
	struct tnode **kids;		/* list items, commands, arguments */
	size_t nkids;
	struct tnode *pipe, *list, *elist, *term;
	struct pq_str *fields;		/* field names, no dots */
	size_t nfields;
	struct pq_str *decl;		/* pipe: declared variables */
	size_t ndecl;
	bool assign;			/* "=" rather than ":=" */
	bool is_int;			/* number: an integer constant */
	int64_t ival;
	double num;
	bool bval;
};

struct defn {
	const char *name;
	size_t len;
	struct tnode *body;
};

struct builder {
	const struct lexer *l;
	size_t i;
	struct pq_arena *a;
	struct defn *defs;
	size_t ndefs;
	bool nomem;
};

static struct tnode *
tn_new(struct builder *b, enum tn_kind k, size_t pos)
{
	struct tnode *n = pq_arena_alloc(b->a, sizeof(*n));

	if (n == NULL) {
		b->nomem = true;
		return NULL;
	}
	n->kind = k;
	n->pos = n->end = pos;
	return n;
}

static bool
tn_add(struct builder *b, struct tnode *to, struct tnode *kid)
{
	struct tnode **k;

	if (kid == NULL)
		return false;
	/* Grow by doubling inside the arena: old arrays are left behind. */
	if ((to->nkids & (to->nkids - 1)) == 0) {
		k = pq_arena_alloc(b->a, (to->nkids ? to->nkids * 2 : 1) *
		    sizeof(*k));
		if (k == NULL) {
			b->nomem = true;
			return false;
		}
		if (to->nkids > 0)
			memcpy(k, to->kids, to->nkids * sizeof(*k));
		to->kids = k;
	}
	to->kids[to->nkids++] = kid;
	return true;
}

static struct item
b_peek(struct builder *b)
{
	return b->l->items[b->i];
}

static struct item
b_next(struct builder *b)
{
	struct item it = b->l->items[b->i];

	if (it.type != IT_EOF)
		b->i++;
	return it;
}

static struct item
b_next_ns(struct builder *b)
{
	struct item it;

	do
		it = b_next(b);
	while (it.type == IT_SPACE);
	return it;
}

static struct item
b_peek_ns(struct builder *b)
{
	while (b_peek(b).type == IT_SPACE)
		b->i++;
	return b_peek(b);
}

/* The value of a quoted string item, in the arena. */
static bool
b_unquote(struct builder *b, struct item it, const char **s, size_t *len)
{
	struct buf v = BUF_INIT(1 << 24);

	if (pq_unquote(b->l->s + it.pos, it.len, false, &v) != 0) {
		buf_free(&v);
		return false;
	}
	*len = v.len;
	*s = pq_arena_strdup(b->a, buf_str(&v), v.len);
	buf_free(&v);
	if (*s == NULL)
		b->nomem = true;
	return *s != NULL;
}

static struct tnode *b_pipeline(struct builder *b, enum it end, bool decls);

static bool
add_field(struct builder *b, struct tnode *n, const char *s, size_t len)
{
	struct pq_str *f = pq_arena_alloc(b->a, (n->nfields + 1) * sizeof(*f));

	if (f == NULL) {
		b->nomem = true;
		return false;
	}
	if (n->nfields > 0)
		memcpy(f, n->fields, n->nfields * sizeof(*f));
	f[n->nfields].p = s;
	f[n->nfields].len = len;
	n->fields = f;
	n->nfields++;
	return true;
}

static bool
number_value(struct builder *b, struct item it, struct tnode *n)
{
	char clean[128], *end;
	const char *s = b->l->s + it.pos;
	size_t k, m = 0;

	if (it.type == IT_CHAR_CONST) {
		struct buf v = BUF_INIT(16);
		size_t i = 0;
		uint32_t r = 0;

		if (pq_unquote(s, it.len, false, &v) != 0 || v.len == 0) {
			buf_free(&v);
			return false;
		}
		r = (unsigned char)v.p[0];
		if (r >= 0x80) {
			size_t nb = r < 0xe0 ? 2 : r < 0xf0 ? 3 : 4;

			r &= nb == 2 ? 0x1f : nb == 3 ? 0x0f : 0x07;
			for (i = 1; i < nb && i < v.len; i++)
				r = r << 6 | ((unsigned char)v.p[i] & 0x3f);
		}
		buf_free(&v);
		n->is_int = true;
		n->ival = r;
		n->num = r;
		return true;
	}
	for (k = 0; k < it.len && m + 1 < sizeof(clean); k++)
		if (s[k] != '_')
			clean[m++] = s[k];
	clean[m] = '\0';
	n->is_int = strpbrk(clean, ".eEpP") == NULL || (m > 2 &&
	    clean[0] == '0' && (clean[1] == 'x' || clean[1] == 'X') &&
	    strpbrk(clean, ".pP") == NULL);
	if (n->is_int) {
		errno = 0;
		n->ival = strtoll(clean, &end, 0);
		if (clean[0] == '0' && (clean[1] == 'o' || clean[1] == 'O'))
			n->ival = strtoll(clean + 2, &end, 8);
		else if (clean[0] == '0' && (clean[1] == 'b' || clean[1] == 'B'))
			n->ival = strtoll(clean + 2, &end, 2);
		n->num = (double)n->ival;
		return true;
	}
	n->num = strtod(clean, &end);
	return true;
}

/* A term and the fields chained to it. */
static struct tnode *
b_operand(struct builder *b)
{
	struct item it = b_next_ns(b);
	struct tnode *n = NULL, *c;

	switch (it.type) {
	case IT_IDENT:
		n = tn_new(b, TN_IDENT, it.pos);
		if (n != NULL) {
			n->s = b->l->s + it.pos;
			n->len = it.len;
		}
		break;
	case IT_DOT:
		n = tn_new(b, TN_DOT, it.pos);
		break;
	case IT_NIL:
		n = tn_new(b, TN_NIL, it.pos);
		break;
	case IT_BOOL:
		if ((n = tn_new(b, TN_BOOL, it.pos)) != NULL)
			n->bval = it.len == 4;
		break;
	case IT_VARIABLE:
		if ((n = tn_new(b, TN_VAR, it.pos)) != NULL) {
			n->s = b->l->s + it.pos;
			n->len = it.len;
		}
		break;
	case IT_FIELD:
		if ((n = tn_new(b, TN_FIELD, it.pos)) != NULL &&
		    !add_field(b, n, b->l->s + it.pos + 1, it.len - 1))
			return NULL;
		break;
	case IT_NUMBER: case IT_CHAR_CONST: case IT_COMPLEX:
		if ((n = tn_new(b, TN_NUMBER, it.pos)) != NULL &&
		    !number_value(b, it, n))
			return NULL;
		break;
	case IT_STRING: case IT_RAW_STRING:
		if ((n = tn_new(b, TN_STRING, it.pos)) != NULL &&
		    !b_unquote(b, it, &n->s, &n->len))
			return NULL;
		break;
	case IT_LPAREN:
		n = b_pipeline(b, IT_RPAREN, false);
		break;
	default:
		return NULL;
	}
	if (n == NULL)
		return NULL;
	n->end = it.pos + it.len;
	if (b_peek(b).type != IT_FIELD)
		return n;
	if (n->kind != TN_FIELD && n->kind != TN_VAR) {
		if ((c = tn_new(b, TN_CHAIN, n->pos)) == NULL)
			return NULL;
		c->term = n;
		n = c;
	}
	while (b_peek(b).type == IT_FIELD) {
		it = b_next(b);
		if (!add_field(b, n, b->l->s + it.pos + 1, it.len - 1))
			return NULL;
		n->end = it.pos + it.len;
	}
	return n;
}

static struct tnode *
b_command(struct builder *b)
{
	struct tnode *c = tn_new(b, TN_CMD, b_peek_ns(b).pos);
	struct item it;

	if (c == NULL)
		return NULL;
	for (;;) {
		it = b_peek_ns(b);
		if (it.type == IT_PIPE || it.type == IT_RIGHT_DELIM ||
		    it.type == IT_RPAREN)
			break;
		if (!tn_add(b, c, b_operand(b)))
			return NULL;
		c->end = c->kids[c->nkids - 1]->end;
	}
	return c;
}

static struct tnode *
b_pipeline(struct builder *b, enum it end, bool decls)
{
	struct tnode *p = tn_new(b, TN_PIPE, b_peek_ns(b).pos);
	struct item it;
	size_t save;

	if (p == NULL)
		return NULL;
	while (decls && b_peek_ns(b).type == IT_VARIABLE) {
		save = b->i;
		it = b_next(b);
		struct item nx = b_peek_ns(b);

		if (nx.type == IT_DECLARE || nx.type == IT_ASSIGN ||
		    (nx.type == IT_CHAR && b->l->s[nx.pos] == ',')) {
			struct pq_str *d = pq_arena_alloc(b->a, (p->ndecl + 1) *
			    sizeof(*d));

			if (d == NULL)
				return b->nomem = true, NULL;
			if (p->ndecl > 0)
				memcpy(d, p->decl, p->ndecl * sizeof(*d));
			d[p->ndecl].p = b->l->s + it.pos;
			d[p->ndecl].len = it.len;
			p->decl = d;
			p->ndecl++;
			b_next_ns(b);
			if (nx.type != IT_CHAR) {
				p->assign = nx.type == IT_ASSIGN;
				break;
			}
			continue;
		}
		b->i = save;
		break;
	}
	for (;;) {
		it = b_peek_ns(b);
		if (it.type == end) {
			b_next(b);
			p->end = it.pos + it.len;
			return p;
		}
		if (it.type == IT_PIPE) {
			b_next(b);
			continue;
		}
		if (it.type == IT_EOF)
			return NULL;
		if (!tn_add(b, p, b_command(b)))
			return NULL;
	}
}

static struct tnode *b_list(struct builder *b, enum it *ended);

static struct tnode *
b_control(struct builder *b, enum tn_kind kind, size_t pos)
{
	struct tnode *n = tn_new(b, kind, pos), *inner;
	enum it ended;

	if (n == NULL || (n->pipe = b_pipeline(b, IT_RIGHT_DELIM, true)) == NULL)
		return NULL;
	n->end = n->pipe->end;
	if ((n->list = b_list(b, &ended)) == NULL)
		return NULL;
	if (ended == IT_ELSE) {
		if (kind == TN_IF && b_peek_ns(b).type == IT_IF) {
			/* {{else if}}: a nested if as the else branch. */
			struct item it = b_next_ns(b);

			if ((n->elist = tn_new(b, TN_LIST, it.pos)) == NULL ||
			    (inner = b_control(b, TN_IF, it.pos)) == NULL ||
			    !tn_add(b, n->elist, inner))
				return NULL;
			return n;
		}
		if ((n->elist = b_list(b, &ended)) == NULL)
			return NULL;
	}
	return n;
}

static bool
b_define(struct builder *b, struct item name, struct tnode *body)
{
	struct defn *d;
	const char *s;
	size_t len;

	if (!b_unquote(b, name, &s, &len))
		return false;
	for (size_t i = 0; i < b->ndefs; i++)
		if (b->defs[i].len == len && memcmp(b->defs[i].name, s, len) == 0) {
			/* Go keeps a non-empty definition over an empty one. */
			if (body->nkids > 0)
				b->defs[i].body = body;
			return true;
		}
	d = pq_arena_alloc(b->a, (b->ndefs + 1) * sizeof(*d));
	if (d == NULL)
		return b->nomem = true, false;
	if (b->ndefs > 0)
		memcpy(d, b->defs, b->ndefs * sizeof(*d));
	d[b->ndefs].name = s;
	d[b->ndefs].len = len;
	d[b->ndefs].body = body;
	b->defs = d;
	b->ndefs++;
	return true;
}

/* After "{{": an action; *ended is IT_END or IT_ELSE for those. */
static struct tnode *
b_action(struct builder *b, enum it *ended)
{
	struct item it = b_next_ns(b), name;
	struct tnode *n, *body;
	enum it e2;

	*ended = IT_EOF;
	switch (it.type) {
	case IT_END:
	case IT_ELSE:
		*ended = it.type;
		if (it.type == IT_ELSE && b_peek_ns(b).type == IT_IF)
			return tn_new(b, TN_TEXT, it.pos);	/* "else if" */
		b_next_ns(b);	/* }} */
		return tn_new(b, TN_TEXT, it.pos);
	case IT_IF:
		return b_control(b, TN_IF, it.pos);
	case IT_RANGE:
		return b_control(b, TN_RANGE, it.pos);
	case IT_WITH:
		return b_control(b, TN_WITH, it.pos);
	case IT_BREAK:
	case IT_CONTINUE:
		b_next_ns(b);
		return tn_new(b, it.type == IT_BREAK ? TN_BREAK : TN_CONTINUE,
		    it.pos);
	case IT_DEFINE:
	case IT_BLOCK:
	case IT_TEMPLATE:
		name = b_next_ns(b);
		if ((n = tn_new(b, TN_TEMPLATE, it.pos)) == NULL ||
		    !b_unquote(b, name, &n->s, &n->len))
			return NULL;
		if (it.type == IT_DEFINE) {
			b_next_ns(b);	/* }} */
			if ((body = b_list(b, &e2)) == NULL ||
			    !b_define(b, name, body))
				return NULL;
			n->kind = TN_TEXT;	/* nothing is output here */
			n->s = "";
			n->len = 0;
			return n;
		}
		if (b_peek_ns(b).type == IT_RIGHT_DELIM) {
			b_next(b);
		} else if ((n->pipe = b_pipeline(b, IT_RIGHT_DELIM, false)) ==
		    NULL) {
			return NULL;
		}
		if (it.type == IT_BLOCK && ((body = b_list(b, &e2)) == NULL ||
		    !b_define(b, name, body)))
			return NULL;
		return n;
	default:
		b->i--;
		if ((n = tn_new(b, TN_ACTION, it.pos)) == NULL ||
		    (n->pipe = b_pipeline(b, IT_RIGHT_DELIM, true)) == NULL)
			return NULL;
		n->end = n->pipe->end;
		return n;
	}
}

static struct tnode *
b_list(struct builder *b, enum it *ended)
{
	struct tnode *list = tn_new(b, TN_LIST, b_peek(b).pos), *n;
	struct item it;
	enum it e;

	*ended = IT_EOF;
	if (list == NULL)
		return NULL;
	for (;;) {
		it = b_next(b);
		switch (it.type) {
		case IT_EOF:
			return list;
		case IT_TEXT:
			if ((n = tn_new(b, TN_TEXT, it.pos)) == NULL)
				return NULL;
			n->s = b->l->s + it.pos;
			n->len = it.len;
			if (!tn_add(b, list, n))
				return NULL;
			break;
		case IT_LEFT_DELIM:
			if ((n = b_action(b, &e)) == NULL)
				return NULL;
			if (e == IT_END || e == IT_ELSE) {
				*ended = e;
				return list;
			}
			if (!tn_add(b, list, n))
				return NULL;
			break;
		default:
			break;
		}
	}
}

/* --- values --- */

enum tv_kind {
	V_NIL, V_BOOL, V_INT, V_FLOAT, V_STRING, V_LABELS, V_DATA, V_SAMPLES,
	V_SAMPLE, V_TIME, V_ARGS,
};

struct tsample {
	const struct pq_lset *ls;
	double v;
};

struct targ;

struct tval {
	enum tv_kind k;
	bool b;
	int64_t i;
	double f;
	const char *s;
	size_t len;
	const struct pq_lset *ls;	/* V_LABELS: may hold empty values */
	struct tsample *smp;		/* V_SAMPLES (n of them), V_SAMPLE */
	size_t n;
	int64_t ms;			/* V_TIME: Unix milliseconds */
	struct targ *args;		/* V_ARGS */
	bool untyped;			/* a number constant not yet typed */
};

struct targ {
	char name[24];
	struct tval v;
};

struct tvar {
	const char *name;
	size_t len;
	struct tval v;
};

enum flow { F_NORMAL, F_BREAK, F_CONTINUE };

struct exec {
	const struct tmpl_data *d;
	const char *src;
	struct pq_arena *a;
	struct buf *out;
	struct tvar *vars;
	size_t nvars, capvars;
	struct defn *defs;
	size_t ndefs;
	int depth;
	struct perr *e;
	bool failed;
};

/* Go allows 100000 (its stacks grow); ours are fixed, so the bound on
 * nesting is the one the PromQL parser uses. */
#define EXEC_DEPTH_MAX PQ_DEPTH_MAX

static int x_fail(struct exec *x, const struct tnode *at, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* "template: NAME:LINE:COL: executing "NAME" at <NODE>: MSG", as Go. */
static int
x_fail(struct exec *x, const struct tnode *at, const char *fmt, ...)
{
	char msg[PERR_MSG_MAX];
	size_t line = 1, col, last_nl = 0, i;
	bool nl = false;
	va_list ap;

	if (x->failed)
		return PERR_INVALID;
	x->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (i = 0; at != NULL && i < at->pos; i++)
		if (x->src[i] == '\n') {
			line++;
			last_nl = i;
			nl = true;
		}
	col = at == NULL ? 0 : nl ? at->pos - last_nl - 1 : at->pos;
	return perr_set(x->e, PERR_INVALID, "error executing template %s: "
	    "template: %s:%zu:%zu: executing \"%s\" at <%.*s>: %s", x->d->name,
	    x->d->name, line, col, x->d->name, at != NULL ?
	    (int)(at->end - at->pos) : 0, at != NULL ? x->src + at->pos : "",
	    msg);
}

static const char *
type_name(const struct tval *v)
{
	switch (v->k) {
	case V_NIL: return "nil";
	case V_BOOL: return "bool";
	case V_INT: return "int";
	case V_FLOAT: return "float64";
	case V_STRING: return "string";
	case V_LABELS: return "map[string]string";
	case V_DATA: return "*template.tmplQueryData";
	case V_SAMPLES: return "template.queryResult";
	case V_SAMPLE: return "*template.sample";
	case V_TIME: return "*time.Time";
	default: return "map[string]interface {}";
	}
}

/* Go's truth: false, 0, nil, and empty strings, maps and lists are false. */
static bool
truth(const struct tval *v)
{
	switch (v->k) {
	case V_NIL: return false;
	case V_BOOL: return v->b;
	case V_INT: return v->i != 0;
	case V_FLOAT: return v->f != 0;
	case V_STRING: return v->len > 0;
	case V_LABELS: return v->ls->n > 0;
	case V_SAMPLES: return v->n > 0;
	case V_SAMPLE: return v->smp != NULL;
	case V_ARGS: return v->n > 0;
	default: return true;
	}
}

static struct tval
v_string(const char *s, size_t len)
{
	struct tval v;

	memset(&v, 0, sizeof(v));
	v.k = V_STRING;
	v.s = s;
	v.len = len;
	return v;
}

static struct tval
v_float(double f)
{
	struct tval v;

	memset(&v, 0, sizeof(v));
	v.k = V_FLOAT;
	v.f = f;
	return v;
}

/* A string value built in buf b, copied into the arena. */
static int
v_from_buf(struct exec *x, struct buf *b, struct tval *out)
{
	const char *s = pq_arena_strdup(x->a, buf_str(b), b->len);

	if (s == NULL)
		return perr_set(x->e, PERR_NOMEM, "out of memory");
	*out = v_string(s, b->len);
	return 0;
}

/* Go's time.Time.String() in UTC for Unix milliseconds. */
static int
format_time(struct buf *b, int64_t ms)
{
	int64_t sec = ms / 1000, frac = ms % 1000, days, rem;
	int64_t y, m, d, era, doe, yoe, doy, mp;
	char f[8];
	int rc;

	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	days = sec / 86400;
	rem = sec % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	/* Days to civil date (proleptic Gregorian). */
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if ((rc = buf_addf(b, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld",
	    (long long)y, (long long)m, (long long)d, (long long)(rem / 3600),
	    (long long)(rem / 60 % 60), (long long)(rem % 60))) != 0)
		return rc;
	if (frac != 0) {
		snprintf(f, sizeof(f), ".%03lld", (long long)frac);
		for (size_t n = strlen(f); n > 1 && f[n - 1] == '0'; n--)
			f[n - 1] = '\0';
		if ((rc = buf_adds(b, f)) != 0)
			return rc;
	}
	return buf_adds(b, " +0000 UTC");
}

/* fmt.Sprint of one value (print's operands and action output). */
static int
print_value(struct buf *b, const struct tval *v)
{
	int rc = 0;

	switch (v->k) {
	case V_NIL: return buf_adds(b, "<nil>");
	case V_BOOL: return buf_adds(b, v->b ? "true" : "false");
	case V_INT: return buf_addf(b, "%lld", (long long)v->i);
	case V_FLOAT: return pq_print_number(b, v->f);
	case V_STRING: return buf_add(b, v->s, v->len);
	case V_TIME: return format_time(b, v->ms);
	case V_LABELS:
		rc = buf_adds(b, "map[");
		for (size_t i = 0; i < v->ls->n && rc == 0; i++) {
			const struct pq_lpair *l = &v->ls->l[i];

			rc = buf_addf(b, "%s%.*s:%.*s", i > 0 ? " " : "",
			    (int)l->nlen, l->name, (int)l->vlen, l->value);
		}
		return rc != 0 ? rc : buf_addc(b, ']');
	case V_SAMPLE:
		if (v->smp == NULL)
			return buf_adds(b, "<nil>");
		/* FALLTHROUGH */
	default:
		return buf_addf(b, "<%s>", type_name(v));
	}
}

/* --- the functions --- */

static int
to_float(struct exec *x, const struct tnode *at, const struct tval *v,
    double *f)
{
	switch (v->k) {
	case V_FLOAT: *f = v->f; return 0;
	case V_INT: *f = (double)v->i; return 0;
	case V_STRING:
		if (pq_parse_float(v->s, v->len, f))
			return 0;
		return x_fail(x, at, "strconv.ParseFloat: parsing \"%.*s\": "
		    "invalid syntax", (int)v->len, v->s);
	default:
		return x_fail(x, at, "can't convert %s to float",
		    type_name(v));
	}
}

static int
want_string(struct exec *x, const struct tnode *at, const char *fn,
    const struct tval *v)
{
	(void)fn;
	if (v->k == V_STRING)
		return 0;
	return x_fail(x, at, "wrong type for value; expected string; got %s",
	    type_name(v));
}

/* Go's %.4g, with Go's spelling of the special values. */
static int
add_g4(struct buf *b, double v)
{
	if (isnan(v))
		return buf_adds(b, "NaN");
	if (isinf(v))
		return buf_adds(b, v > 0 ? "+Inf" : "-Inf");
	return buf_addf(b, "%.4g", v);
}

static int
fn_humanize(struct exec *x, const struct tnode *at, double v, struct buf *b)
{
	static const char *const big[] = {"k", "M", "G", "T", "P", "E", "Z", "Y"};
	static const char *const small[] = {"m", "u", "n", "p", "f", "a", "z",
	    "y"};
	const char *prefix = "";

	(void)x;
	(void)at;
	if (v == 0 || isnan(v) || isinf(v))
		return add_g4(b, v);
	if (fabs(v) >= 1) {
		for (size_t i = 0; i < 8 && fabs(v) >= 1000; i++) {
			prefix = big[i];
			v /= 1000;
		}
	} else {
		for (size_t i = 0; i < 8 && fabs(v) < 1; i++) {
			prefix = small[i];
			v *= 1000;
		}
	}
	if (add_g4(b, v) != 0)
		return PERR_NOMEM;
	return buf_adds(b, prefix);
}

static int
fn_humanize1024(double v, struct buf *b)
{
	static const char *const p[] = {"ki", "Mi", "Gi", "Ti", "Pi", "Ei",
	    "Zi", "Yi"};
	const char *prefix = "";

	if (fabs(v) <= 1 || isnan(v) || isinf(v))
		return add_g4(b, v);
	for (size_t i = 0; i < 8 && fabs(v) >= 1024; i++) {
		prefix = p[i];
		v /= 1024;
	}
	if (add_g4(b, v) != 0)
		return PERR_NOMEM;
	return buf_adds(b, prefix);
}

static int
fn_humanize_duration(double v, struct buf *b)
{
	static const char *const small[] = {"m", "u", "n", "p", "f", "a", "z",
	    "y"};
	const char *prefix = "", *sign = "";
	long long d, s, m, h, days;

	if (isnan(v) || isinf(v))
		return add_g4(b, v);
	if (v == 0)
		return buf_adds(b, "0s");
	if (fabs(v) >= 1) {
		if (v < 0) {
			sign = "-";
			v = -v;
		}
		d = (long long)pq_go_int64(v);
		s = d % 60;
		m = (d / 60) % 60;
		h = (d / 60 / 60) % 24;
		days = d / 60 / 60 / 24;
		if (days != 0)
			return buf_addf(b, "%s%lldd %lldh %lldm %llds", sign, days,
			    h, m, s);
		if (h != 0)
			return buf_addf(b, "%s%lldh %lldm %llds", sign, h, m, s);
		if (m != 0)
			return buf_addf(b, "%s%lldm %llds", sign, m, s);
		if (buf_adds(b, sign) != 0 || add_g4(b, v) != 0)
			return PERR_NOMEM;
		return buf_addc(b, 's');
	}
	for (size_t i = 0; i < 8 && fabs(v) < 1; i++) {
		prefix = small[i];
		v *= 1000;
	}
	if (add_g4(b, v) != 0 || buf_adds(b, prefix) != 0)
		return PERR_NOMEM;
	return buf_addc(b, 's');
}

/* floatToTime: Unix seconds to a time, or an error. */
static int
float_to_time(struct exec *x, const struct tnode *at, double v, int64_t *ms,
    bool *nan_inf)
{
	double ns = v * 1e9;

	*nan_inf = isnan(v) || isinf(v);
	if (*nan_inf)
		return 0;
	if (ns > 9223372036854775807.0 || ns < -9223372036854775808.0) {
		struct buf m = BUF_INIT(64);

		(void)pq_print_number(&m, v);
		x_fail(x, at, "%s cannot be represented as a nanoseconds "
		    "timestamp since it overflows int64", buf_str(&m));
		buf_free(&m);
		return PERR_INVALID;
	}
	*ms = pq_go_int64(ns) / 1000000;
	return 0;
}

/* Go's strings.Title: the first letter of each word upper-cased. */
static int
fn_title(const struct tval *v, struct buf *b)
{
	bool prev_letter = false;
	int rc = 0;

	for (size_t i = 0; i < v->len && rc == 0; i++) {
		unsigned char c = (unsigned char)v->s[i];
		bool letter = isalnum(c) || c == '_' || c == '\'' || c >= 0x80;

		if (!prev_letter && c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		rc = buf_addc(b, (char)c);
		prev_letter = letter;
	}
	return rc;
}

static int
fn_case(const struct tval *v, struct buf *b, bool upper)
{
	int rc = 0;

	for (size_t i = 0; i < v->len && rc == 0; i++) {
		unsigned char c = (unsigned char)v->s[i];

		if (upper && c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 32);
		else if (!upper && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		rc = buf_addc(b, (char)c);
	}
	return rc;
}

/* Run a query for the template's query function. */
static int
fn_query(struct exec *x, const struct tnode *at, const struct tval *q,
    struct tval *out)
{
	const struct tmpl_data *d = x->d;
	struct pq_node *root;
	struct pq_query *pq = NULL;
	struct pq_value val;
	struct perr e;
	size_t pos;
	int rc;

	if (d->store == NULL)
		return x_fail(x, at, "error calling query: no data to query");
	rc = pq_parse_into(x->a, q->s, q->len, &root, &pos, &e);
	if (rc == 0)
		rc = pq_query_new(root, &pq, &e);
	if (rc == 0)
		rc = pq_query_exec(pq, d->store, d->opts, d->t, d->t, d->t, x->a,
		    &val, &e);
	pq_query_free(pq);
	if (rc != 0)
		return x_fail(x, at, "error calling query: %s", e.msg);
	memset(out, 0, sizeof(*out));
	out->k = V_SAMPLES;
	if (val.type == PQ_TYPE_SCALAR) {
		out->smp = pq_arena_alloc(x->a, sizeof(*out->smp));
		if (out->smp == NULL)
			return perr_set(x->e, PERR_NOMEM, "out of memory");
		out->smp[0].ls = &pq_lset_empty;
		out->smp[0].v = val.scalar;
		out->n = 1;
		return 0;
	}
	if (val.type != PQ_TYPE_VECTOR)
		return x_fail(x, at, "error calling query: rule result is not a "
		    "vector or scalar");
	out->smp = pq_arena_alloc(x->a, (val.vec.n + 1) * sizeof(*out->smp));
	if (out->smp == NULL)
		return perr_set(x->e, PERR_NOMEM, "out of memory");
	for (size_t i = 0; i < val.vec.n; i++) {
		out->smp[i].ls = val.vec.v[i].ls;
		out->smp[i].v = val.vec.v[i].v;
	}
	out->n = val.vec.n;
	return 0;
}

static const char *
label_of(const struct pq_lset *ls, const char *name, size_t nlen,
    size_t *vlen)
{
	const char *v = pq_lset_get(ls, name, nlen, vlen);

	if (v == NULL) {
		*vlen = 0;
		return "";
	}
	return v;
}

/* Go's comparison of basic values for eq/ne/lt/le/gt/ge. */
static int
compare(struct exec *x, const struct tnode *at, const struct tval *a,
    const struct tval *b, int *cmp)
{
	double fa, fb;

	if (a->k != b->k)
		return x_fail(x, at, "incompatible types for comparison");
	switch (a->k) {
	case V_BOOL:
		*cmp = a->b == b->b ? 0 : 2;
		return 0;
	case V_INT:
		*cmp = a->i < b->i ? -1 : a->i > b->i ? 1 : 0;
		return 0;
	case V_FLOAT:
		fa = a->f;
		fb = b->f;
		*cmp = fa < fb ? -1 : fa > fb ? 1 : fa == fb ? 0 : 2;
		return 0;
	case V_STRING: {
		int c = memcmp(a->s, b->s, a->len < b->len ? a->len : b->len);

		if (c == 0)
			c = a->len < b->len ? -1 : a->len > b->len;
		*cmp = c < 0 ? -1 : c > 0;
		return 0;
	}
	default:
		return x_fail(x, at, "invalid type for comparison");
	}
}

/* Give an untyped number constant its Go type for an interface{} use. */
static void
settle(struct tval *v)
{
	if (v->untyped)
		v->untyped = false;
}

static int printf_go(struct exec *x, const struct tnode *at,
    const struct tval *args, size_t n, struct buf *b);

/* print/println: fmt.Sprint's spacing (between operands when neither
 * is a string) or Sprintln's (always, and a newline). */
static int
fn_print(const struct tval *args, size_t n, bool ln, struct buf *b)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i > 0 && (ln || (args[i - 1].k != V_STRING &&
		    args[i].k != V_STRING)))
			rc = buf_addc(b, ' ');
		if (rc == 0)
			rc = print_value(b, &args[i]);
	}
	if (rc == 0 && ln)
		rc = buf_addc(b, '\n');
	return rc;
}

static int
escape_html(const char *s, size_t n, struct buf *b)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		switch (s[i]) {
		case '<': rc = buf_adds(b, "&lt;"); break;
		case '>': rc = buf_adds(b, "&gt;"); break;
		case '&': rc = buf_adds(b, "&amp;"); break;
		case '\'': rc = buf_adds(b, "&#39;"); break;
		case '"': rc = buf_adds(b, "&#34;"); break;
		case '\0': rc = buf_adds(b, "\xef\xbf\xbd"); break;
		default: rc = buf_addc(b, s[i]);
		}
	}
	return rc;
}

static int
escape_query(const char *s, size_t n, struct buf *b)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
			rc = buf_addc(b, (char)c);
		else if (c == ' ')
			rc = buf_addc(b, '+');
		else
			rc = buf_addf(b, "%%%02X", c);
	}
	return rc;
}

static int
escape_js(const char *s, size_t n, struct buf *b)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '\\': rc = buf_adds(b, "\\\\"); break;
		case '\'': rc = buf_adds(b, "\\'"); break;
		case '"': rc = buf_adds(b, "\\\""); break;
		case '<': rc = buf_adds(b, "\\u003C"); break;
		case '>': rc = buf_adds(b, "\\u003E"); break;
		case '&': rc = buf_adds(b, "\\u0026"); break;
		case '=': rc = buf_adds(b, "\\u003D"); break;
		default:
			rc = c < ' ' ? buf_addf(b, "\\u%04X", c) :
			    buf_addc(b, (char)c);
		}
	}
	return rc;
}

static int
args_want(struct exec *x, const struct tnode *at, const char *fn, size_t got,
    size_t want)
{
	if (got == want)
		return 0;
	return x_fail(x, at, "wrong number of args for %s: want %zu got %zu", fn,
	    want, got);
}

/*
 * Call function name with n evaluated arguments.  "and" and "or" are
 * handled by the caller (they evaluate lazily).
 */
static int
call_fn(struct exec *x, const struct tnode *at, const char *name,
    struct tval *a, size_t n, struct tval *out)
{
	struct buf b = BUF_INIT(1 << 24);
	double f;
	int rc = 0, c;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		settle(&a[i]);
#define IS(s) (strcmp(name, s) == 0)
#define WANT(k) do { if ((rc = args_want(x, at, name, n, k)) != 0) goto out; } \
	while (0)
#define STR(i) do { if ((rc = want_string(x, at, name, &a[i])) != 0) \
	goto out; } while (0)
	if (IS("humanize") || IS("humanize1024") || IS("humanizeDuration") ||
	    IS("humanizePercentage") || IS("humanizeTimestamp") ||
	    IS("toTime")) {
		WANT(1);
		if ((rc = to_float(x, at, &a[0], &f)) != 0)
			goto out;
		if (IS("humanize"))
			rc = fn_humanize(x, at, f, &b);
		else if (IS("humanize1024"))
			rc = fn_humanize1024(f, &b);
		else if (IS("humanizeDuration"))
			rc = fn_humanize_duration(f, &b);
		else if (IS("humanizePercentage") &&
		    (rc = add_g4(&b, f * 100)) == 0)
			rc = buf_addc(&b, '%');
		else {
			int64_t ms = 0;
			bool special;

			if ((rc = float_to_time(x, at, f, &ms, &special)) != 0)
				goto out;
			if (IS("toTime")) {
				if (special) {
					rc = x_fail(x, at, "error calling toTime: "
					    "value is NaN or Inf");
					goto out;
				}
				out->k = V_TIME;
				out->ms = ms;
				goto out;
			}
			rc = special ? add_g4(&b, f) : format_time(&b, ms);
		}
	} else if (IS("title") || IS("toUpper") || IS("toLower") ||
	    IS("safeHtml") || IS("stripPort") || IS("stripDomain") ||
	    IS("graphLink") || IS("tableLink")) {
		WANT(1);
		STR(0);
		if (IS("title"))
			rc = fn_title(&a[0], &b);
		else if (IS("toUpper") || IS("toLower"))
			rc = fn_case(&a[0], &b, IS("toUpper"));
		else if (IS("graphLink") || IS("tableLink")) {
			if ((rc = buf_adds(&b, "/graph?g0.expr=")) == 0 &&
			    (rc = escape_query(a[0].s, a[0].len, &b)) == 0)
				rc = buf_adds(&b, IS("graphLink") ? "&g0.tab=0" :
				    "&g0.tab=1");
		}
		else if (IS("stripPort")) {
			/* net.SplitHostPort's host, or the text unchanged. */
			size_t k = a[0].len;

			while (k > 0 && a[0].s[k - 1] != ':')
				k--;
			if (k > 0 && a[0].len > 0 && a[0].s[0] == '[' && k >= 2 &&
			    a[0].s[k - 2] == ']')
				rc = buf_add(&b, a[0].s + 1, k - 3);
			else if (k > 0 && memchr(a[0].s, ':', k - 1) == NULL)
				rc = buf_add(&b, a[0].s, k - 1);
			else
				rc = buf_add(&b, a[0].s, a[0].len);
		} else if (IS("stripDomain")) {
			const char *dot = memchr(a[0].s, '.', a[0].len);

			rc = buf_add(&b, a[0].s, dot != NULL ? (size_t)(dot -
			    a[0].s) : a[0].len);
		} else
			rc = buf_add(&b, a[0].s, a[0].len);
	} else if (IS("match") || IS("reReplaceAll")) {
		struct pq_regex *re;

		WANT(IS("match") ? 2 : 3);
		for (size_t i = 0; i < n; i++)
			STR(i);
		if ((rc = pq_regex_compile(a[0].s, a[0].len, false, &re,
		    x->e)) != 0) {
			rc = x_fail(x, at, "error calling %s: %s", name, x->e->msg);
			goto out;
		}
		if (IS("match")) {
			out->k = V_BOOL;
			out->b = pq_regex_match(re, a[1].s, a[1].len);
		} else {
			rc = pq_regex_replace_all(re, a[2].s, a[2].len, a[1].s,
			    a[1].len, &b, x->e);
		}
		pq_regex_free(re);
		if (IS("match"))
			goto out;
	} else if (IS("query")) {
		WANT(1);
		STR(0);
		rc = fn_query(x, at, &a[0], out);
		goto out;
	} else if (IS("first")) {
		WANT(1);
		if (a[0].k != V_SAMPLES) {
			rc = x_fail(x, at, "wrong type for value; expected "
			    "template.queryResult; got %s", type_name(&a[0]));
			goto out;
		}
		if (a[0].n == 0) {
			rc = x_fail(x, at, "error calling first: first() called "
			    "on vector with no elements");
			goto out;
		}
		out->k = V_SAMPLE;
		out->smp = a[0].smp;
		goto out;
	} else if (IS("label") || IS("value") || IS("strvalue")) {
		struct tval *s = &a[n > 0 ? n - 1 : 0];
		size_t vl;
		const char *v;

		WANT(IS("label") ? 2 : 1);
		if (s->k != V_SAMPLE && s->k != V_NIL) {
			rc = x_fail(x, at, "wrong type for value; expected "
			    "*template.sample; got %s", type_name(s));
			goto out;
		}
		if (IS("value")) {
			*out = v_float(s->smp != NULL ? s->smp->v : 0);
			goto out;
		}
		if (IS("label"))
			STR(0);
		if (s->smp == NULL) {
			*out = v_string("", 0);
			goto out;
		}
		v = IS("label") ? label_of(s->smp->ls, a[0].s, a[0].len, &vl) :
		    label_of(s->smp->ls, "__value__", 9, &vl);
		*out = v_string(v, vl);
		goto out;
	} else if (IS("sortByLabel")) {
		WANT(2);
		STR(0);
		*out = a[1];
		/* A stable insertion sort, as sort.Stable keeps ties. */
		for (size_t i = 1; out->k == V_SAMPLES && i < out->n; i++)
			for (size_t j = i; j > 0; j--) {
				size_t l1, l2;
				const char *v1 = label_of(out->smp[j].ls, a[0].s,
				    a[0].len, &l1), *v2 = label_of(out->smp[j -
				    1].ls, a[0].s, a[0].len, &l2);
				int cc = memcmp(v1, v2, l1 < l2 ? l1 : l2);

				if (cc > 0 || (cc == 0 && l1 >= l2))
					break;
				struct tsample t = out->smp[j];

				out->smp[j] = out->smp[j - 1];
				out->smp[j - 1] = t;
			}
		goto out;
	} else if (IS("parseDuration")) {
		int64_t ms;
		struct perr e;

		WANT(1);
		STR(0);
		if (pq_duration_parse(a[0].s, a[0].len, &ms, &e) != 0) {
			rc = x_fail(x, at, "error calling parseDuration: %s",
			    e.msg);
			goto out;
		}
		*out = v_float((double)ms / 1000);
		goto out;
	} else if (IS("pathPrefix") || IS("externalURL")) {
		const char *u = x->d->external_url != NULL ?
		    x->d->external_url : "";

		WANT(0);
		if (IS("pathPrefix")) {
			const char *p = strstr(u, "://");

			p = p != NULL ? strchr(p + 3, '/') : NULL;
			rc = buf_adds(&b, p != NULL ? p : "");
		} else {
			rc = buf_adds(&b, u);
		}
	} else if (IS("args")) {
		out->k = V_ARGS;
		out->args = pq_arena_alloc(x->a, (n + 1) * sizeof(*out->args));
		if (out->args == NULL) {
			rc = perr_set(x->e, PERR_NOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			snprintf(out->args[i].name, sizeof(out->args[i].name),
			    "arg%zu", i);
			out->args[i].v = a[i];
		}
		out->n = n;
		goto out;
	} else if (IS("not")) {
		WANT(1);
		out->k = V_BOOL;
		out->b = !truth(&a[0]);
		goto out;
	} else if (IS("len")) {
		WANT(1);
		out->k = V_INT;
		switch (a[0].k) {
		case V_STRING: out->i = (int64_t)a[0].len; break;
		case V_LABELS: out->i = a[0].ls->n; break;
		case V_SAMPLES: case V_ARGS: out->i = (int64_t)a[0].n; break;
		default:
			rc = x_fail(x, at, "error calling len: len of type %s",
			    type_name(&a[0]));
		}
		goto out;
	} else if (IS("index")) {
		if (n < 1) {
			rc = args_want(x, at, name, n, 1);
			goto out;
		}
		*out = a[0];
		for (size_t i = 1; i < n && rc == 0; i++) {
			if (out->k == V_LABELS && a[i].k == V_STRING) {
				size_t vl;
				const char *v = label_of(out->ls, a[i].s,
				    a[i].len, &vl);

				*out = v_string(v, vl);
			} else if (out->k == V_SAMPLES && a[i].k == V_INT) {
				if (a[i].i < 0 || (size_t)a[i].i >= out->n) {
					rc = x_fail(x, at, "error calling index: "
					    "index out of range: %lld",
					    (long long)a[i].i);
					break;
				}
				struct tsample *sm = &out->smp[a[i].i];

				memset(out, 0, sizeof(*out));
				out->k = V_SAMPLE;
				out->smp = sm;
			} else {
				rc = x_fail(x, at, "error calling index: cannot "
				    "index %s with %s", type_name(out),
				    type_name(&a[i]));
			}
		}
		goto out;
	} else if (IS("eq") || IS("ne") || IS("lt") || IS("le") || IS("gt") ||
	    IS("ge")) {
		if (n < 2) {
			rc = x_fail(x, at, "missing argument for comparison");
			goto out;
		}
		out->k = V_BOOL;
		if (IS("eq")) {
			out->b = false;
			for (size_t i = 1; i < n; i++) {
				if ((rc = compare(x, at, &a[0], &a[i], &c)) != 0)
					goto out;
				if (c == 0) {
					out->b = true;
					break;
				}
			}
			goto out;
		}
		if ((rc = args_want(x, at, name, n, 2)) != 0 ||
		    (rc = compare(x, at, &a[0], &a[1], &c)) != 0)
			goto out;
		out->b = IS("ne") ? c != 0 : IS("lt") ? c == -1 : IS("le") ?
		    (c == -1 || c == 0) : IS("gt") ? c == 1 : (c == 1 || c == 0);
		goto out;
	} else if (IS("print") || IS("println")) {
		rc = fn_print(a, n, IS("println"), &b);
	} else if (IS("printf")) {
		if (n < 1 || a[0].k != V_STRING) {
			rc = x_fail(x, at, "wrong type for value; expected "
			    "string; got %s", n < 1 ? "nothing" :
			    type_name(&a[0]));
			goto out;
		}
		rc = printf_go(x, at, a + 1, n - 1, &b);
		if (rc == 0)
			rc = 0;
	} else if (IS("html") || IS("js") || IS("urlquery")) {
		struct buf s = BUF_INIT(1 << 24);

		if (n == 1 && a[0].k == V_STRING)
			rc = buf_add(&s, a[0].s, a[0].len);
		else
			rc = fn_print(a, n, false, &s);
		if (rc == 0)
			rc = IS("html") ? escape_html(buf_str(&s), s.len, &b) :
			    IS("js") ? escape_js(buf_str(&s), s.len, &b) :
			    escape_query(buf_str(&s), s.len, &b);
		buf_free(&s);
	} else {
		rc = x_fail(x, at, "can't call %s here", name);
		goto out;
	}
	if (rc == 0 && !x->failed)
		rc = v_from_buf(x, &b, out);
	else if (rc != 0 && !x->failed)
		rc = perr_set(x->e, PERR_NOMEM, "template output too long");
out:
#undef IS
#undef WANT
#undef STR
	buf_free(&b);
	return x->failed ? PERR_INVALID : rc;
}

/* --- printf --- */

struct verb {
	bool minus, plus, sharp, zero, space;
	int width, prec;	/* -1: not given */
	char c;
};

static int
pad(struct buf *b, const char *s, size_t n, const struct verb *v)
{
	int rc = 0;
	size_t w = v->width > 0 ? (size_t)v->width : 0;

	if (!v->minus && n < w)
		for (size_t i = n; i < w && rc == 0; i++)
			rc = buf_addc(b, v->zero ? '0' : ' ');
	if (rc == 0)
		rc = buf_add(b, s, n);
	if (v->minus && n < w)
		for (size_t i = n; i < w && rc == 0; i++)
			rc = buf_addc(b, ' ');
	return rc;
}

static int
bad_verb(struct buf *b, const struct verb *v, const struct tval *a)
{
	int rc = buf_addf(b, "%%!%c(%s=", v->c, type_name(a));

	return rc != 0 ? rc : print_value(b, a) != 0 ? PERR_NOMEM :
	    buf_addc(b, ')');
}

static int
fmt_float(struct buf *b, const struct verb *v, double f)
{
	char spec[32], tmp[512];
	int n;

	if (isnan(f) || isinf(f)) {
		const char *s = isnan(f) ? "NaN" : f > 0 ? (v->plus ? "+Inf" :
		    v->space ? " Inf" : "+Inf") : "-Inf";
		struct verb nv = *v;

		nv.zero = false;
		if (!isnan(f) && f > 0 && !v->plus && !v->space)
			s = "+Inf";
		return pad(b, s, strlen(s), &nv);
	}
	n = snprintf(spec, sizeof(spec), "%%%s%s%s%s%s", v->minus ? "-" : "",
	    v->plus ? "+" : "", v->sharp ? "#" : "", v->zero ? "0" : "",
	    v->space ? " " : "");
	if (v->width >= 0)
		n += snprintf(spec + n, sizeof(spec) - (size_t)n, "%d",
		    v->width > 200 ? 200 : v->width);
	n += snprintf(spec + n, sizeof(spec) - (size_t)n, ".%d%c",
	    v->prec >= 0 ? (v->prec > 200 ? 200 : v->prec) : 6,
	    v->c == 'v' ? 'g' : v->c);
	if ((v->c == 'g' || v->c == 'G' || v->c == 'v') && v->prec < 0) {
		struct buf s = BUF_INIT(64);
		int rc = v->c == 'v' ? pq_print_number(&s, f) :
		    pq_format_float(&s, f, v->c, -1);

		if (rc == 0 && v->plus && f >= 0)
			rc = buf_addc(b, '+');
		if (rc == 0)
			rc = pad(b, buf_str(&s), s.len, v);
		buf_free(&s);
		return rc;
	}
	/* spec is made above from a fixed set of flags and one verb. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(tmp, sizeof(tmp), spec, f);
#pragma GCC diagnostic pop
	return buf_adds(b, tmp);
}

static int
printf_go(struct exec *x, const struct tnode *at, const struct tval *args,
    size_t n, struct buf *b)
{
	const struct tval *f = args - 1;	/* the format */
	size_t used = 0, i = 0;
	int rc = 0;

	(void)x;
	(void)at;
	while (i < f->len && rc == 0) {
		struct verb v = {false, false, false, false, false, -1, -1, 0};
		const struct tval *a;
		char num[64];

		if (f->s[i] != '%') {
			rc = buf_addc(b, f->s[i++]);
			continue;
		}
		i++;
		for (; i < f->len && strchr("-+# 0", f->s[i]) != NULL && f->s[i];
		    i++) {
			switch (f->s[i]) {
			case '-': v.minus = true; break;
			case '+': v.plus = true; break;
			case '#': v.sharp = true; break;
			case '0': v.zero = !v.minus; break;
			default: v.space = true;
			}
		}
		if (i < f->len && isdigit((unsigned char)f->s[i]))
			for (v.width = 0; i < f->len &&
			    isdigit((unsigned char)f->s[i]); i++)
				v.width = v.width * 10 + (f->s[i] - '0');
		if (i < f->len && f->s[i] == '.') {
			for (i++, v.prec = 0; i < f->len &&
			    isdigit((unsigned char)f->s[i]); i++)
				v.prec = v.prec * 10 + (f->s[i] - '0');
		}
		if (i >= f->len) {
			rc = buf_adds(b, "%!(NOVERB)");
			break;
		}
		v.c = f->s[i++];
		if (v.c == '%') {
			rc = buf_addc(b, '%');
			continue;
		}
		if (used >= n) {
			rc = buf_addf(b, "%%!%c(MISSING)", v.c);
			continue;
		}
		a = &args[used++];
		switch (a->k) {
		case V_FLOAT:
			if (strchr("eEfFgGv", v.c) != NULL)
				rc = fmt_float(b, &v, a->f);
			else
				rc = bad_verb(b, &v, a);
			break;
		case V_INT:
			if (v.c == 'd' || v.c == 'v') {
				snprintf(num, sizeof(num), "%s%lld", v.plus &&
				    a->i >= 0 ? "+" : "", (long long)a->i);
				rc = pad(b, num, strlen(num), &v);
			} else if (v.c == 'x' || v.c == 'X') {
				snprintf(num, sizeof(num), v.c == 'x' ? "%llx" :
				    "%llX", (unsigned long long)a->i);
				rc = pad(b, num, strlen(num), &v);
			} else if (strchr("eEfFgG", v.c) != NULL) {
				rc = bad_verb(b, &v, a);
			} else {
				rc = bad_verb(b, &v, a);
			}
			break;
		case V_STRING:
			if (v.c == 's' || v.c == 'v') {
				size_t len = a->len;

				if (v.prec >= 0 && (size_t)v.prec < len)
					len = (size_t)v.prec;
				rc = pad(b, a->s, len, &v);
			} else if (v.c == 'q') {
				struct buf q = BUF_INIT(1 << 24);

				rc = pq_quote_go(&q, a->s, a->len);
				if (rc == 0)
					rc = pad(b, buf_str(&q), q.len, &v);
				buf_free(&q);
			} else {
				rc = bad_verb(b, &v, a);
			}
			break;
		case V_BOOL:
			if (v.c == 't' || v.c == 'v')
				rc = pad(b, a->b ? "true" : "false", a->b ? 4 : 5,
				    &v);
			else
				rc = bad_verb(b, &v, a);
			break;
		default:
			if (v.c == 'v' || v.c == 's') {
				struct buf s = BUF_INIT(1 << 24);

				rc = print_value(&s, a);
				if (rc == 0)
					rc = pad(b, buf_str(&s), s.len, &v);
				buf_free(&s);
			} else {
				rc = bad_verb(b, &v, a);
			}
		}
	}
	if (rc == 0 && used < n) {
		rc = buf_adds(b, "%!(EXTRA ");
		for (size_t k = used; k < n && rc == 0; k++) {
			rc = buf_addf(b, "%s%s=", k > used ? ", " : "",
			    type_name(&args[k]));
			if (rc == 0)
				rc = print_value(b, &args[k]);
		}
		if (rc == 0)
			rc = buf_addc(b, ')');
	}
	return rc;
}

/* --- evaluation --- */

static int x_pipe(struct exec *x, const struct tnode *p, const struct tval *dot,
    struct tval *out);

static struct tvar *
x_var(struct exec *x, const char *name, size_t len)
{
	for (size_t i = x->nvars; i-- > 0;)
		if (x->vars[i].len == len && memcmp(x->vars[i].name, name, len)
		    == 0)
			return &x->vars[i];
	return NULL;
}

static int
x_push_var(struct exec *x, const char *name, size_t len, const struct tval *v)
{
	if (x->nvars == x->capvars) {
		size_t cap = x->capvars ? x->capvars * 2 : 16;
		struct tvar *nv = realloc(x->vars, cap * sizeof(*nv));

		if (nv == NULL)
			return perr_set(x->e, PERR_NOMEM, "out of memory");
		x->vars = nv;
		x->capvars = cap;
	}
	x->vars[x->nvars].name = name;
	x->vars[x->nvars].len = len;
	x->vars[x->nvars].v = *v;
	x->nvars++;
	return 0;
}

/* One field of a value: a map's entry, the data's and samples' fields. */
static int
x_field(struct exec *x, const struct tnode *at, const struct tval *in,
    const struct pq_str *f, bool has_args, struct tval *out)
{
	const struct tmpl_data *d = x->d;
	size_t vl;
	const char *v;

	memset(out, 0, sizeof(*out));
	if (in->k == V_LABELS) {
		if (has_args)
			return x_fail(x, at, "%.*s is not a method but has "
			    "arguments", (int)f->len, f->p);
		v = label_of(in->ls, f->p, f->len, &vl);
		*out = v_string(v, vl);
		return 0;
	}
	if (in->k == V_ARGS) {
		for (size_t i = 0; i < in->n; i++)
			if (strlen(in->args[i].name) == f->len &&
			    memcmp(in->args[i].name, f->p, f->len) == 0) {
				*out = in->args[i].v;
				return 0;
			}
		return 0;	/* missingkey=zero: nil */
	}
	if (in->k == V_DATA) {
		if (f->len == 6 && memcmp(f->p, "Labels", 6) == 0) {
			out->k = V_LABELS;
			out->ls = d->labels != NULL ? d->labels : &pq_lset_empty;
		} else if (f->len == 14 && memcmp(f->p, "ExternalLabels", 14)
		    == 0) {
			out->k = V_LABELS;
			out->ls = d->external_labels != NULL ?
			    d->external_labels : &pq_lset_empty;
		} else if (f->len == 11 && memcmp(f->p, "ExternalURL", 11) == 0) {
			v = d->external_url != NULL ? d->external_url : "";
			*out = v_string(v, strlen(v));
		} else if (f->len == 5 && memcmp(f->p, "Value", 5) == 0) {
			*out = v_float(d->value);
		} else {
			return x_fail(x, at, "can't evaluate field %.*s in type "
			    "%s", (int)f->len, f->p, type_name(in));
		}
		return 0;
	}
	if (in->k == V_SAMPLE && in->smp != NULL) {
		if (f->len == 6 && memcmp(f->p, "Labels", 6) == 0) {
			out->k = V_LABELS;
			out->ls = in->smp->ls;
			return 0;
		}
		if (f->len == 5 && memcmp(f->p, "Value", 5) == 0) {
			*out = v_float(in->smp->v);
			return 0;
		}
	}
	if (in->k == V_NIL || (in->k == V_SAMPLE && in->smp == NULL))
		return x_fail(x, at, "nil pointer evaluating %s.%.*s",
		    type_name(in), (int)f->len, f->p);
	return x_fail(x, at, "can't evaluate field %.*s in type %s",
	    (int)f->len, f->p, type_name(in));
}

static int
x_fields(struct exec *x, const struct tnode *at, struct tval v,
    const struct tnode *n, size_t from, bool has_args, struct tval *out)
{
	int rc;

	struct tval next;

	for (size_t i = from; i < n->nfields; i++) {
		if ((rc = x_field(x, at, &v, &n->fields[i], has_args &&
		    i + 1 == n->nfields, &next)) != 0)
			return rc;
		v = next;
	}
	*out = v;
	return 0;
}

/* The value of an argument node. */
static int
x_arg(struct exec *x, const struct tnode *n, const struct tval *dot,
    struct tval *out)
{
	struct tvar *var;
	struct tval t;
	int rc;

	memset(out, 0, sizeof(*out));
	switch (n->kind) {
	case TN_DOT:
		*out = *dot;
		return 0;
	case TN_NIL:
		return 0;
	case TN_BOOL:
		out->k = V_BOOL;
		out->b = n->bval;
		return 0;
	case TN_NUMBER:
		if (n->is_int) {
			out->k = V_INT;
			out->i = n->ival;
		} else {
			*out = v_float(n->num);
		}
		out->untyped = true;
		return 0;
	case TN_STRING:
		*out = v_string(n->s, n->len);
		return 0;
	case TN_VAR:
		if ((var = x_var(x, n->s, n->len)) == NULL)
			return x_fail(x, n, "undefined variable: %.*s",
			    (int)n->len, n->s);
		return x_fields(x, n, var->v, n, 0, false, out);
	case TN_FIELD:
		return x_fields(x, n, *dot, n, 0, false, out);
	case TN_CHAIN:
		if ((rc = x_arg(x, n->term, dot, &t)) != 0)
			return rc;
		return x_fields(x, n, t, n, 0, false, out);
	case TN_PIPE:
		return x_pipe(x, n, dot, out);
	case TN_IDENT: {
		char name[32];

		snprintf(name, sizeof(name), "%.*s", (int)n->len, n->s);
		return call_fn(x, n, name, NULL, 0, out);
	}
	default:
		return x_fail(x, n, "can't handle this argument");
	}
}

/* One command, with the previous command's value (final) or none. */
static int
x_cmd(struct exec *x, const struct tnode *c, const struct tval *dot,
    const struct tval *final, struct tval *out)
{
	const struct tnode *first = c->kids[0];
	struct tval *args;
	size_t n = 0;
	char name[32];
	int rc;

	if (first->kind != TN_IDENT) {
		if (c->nkids > 1 || final != NULL) {
			if (first->kind == TN_FIELD || first->kind == TN_CHAIN ||
			    first->kind == TN_VAR)
				return x_fail(x, first, "%.*s has arguments but "
				    "cannot be invoked as function",
				    (int)(first->end - first->pos), x->src +
				    first->pos);
			return x_fail(x, first, "can't give argument to "
			    "non-function %.*s", (int)(first->end - first->pos),
			    x->src + first->pos);
		}
		return x_arg(x, first, dot, out);
	}
	snprintf(name, sizeof(name), "%.*s", (int)first->len, first->s);
	/* and, or: evaluate only as far as needed (Go 1.18 and later). */
	if (strcmp(name, "and") == 0 || strcmp(name, "or") == 0) {
		bool is_and = name[0] == 'a';
		size_t total = c->nkids - 1 + (final != NULL);

		if (total < 1)
			return x_fail(x, first, "wrong number of args for %s: "
			    "want at least 1 got 0", name);
		for (size_t i = 1; i <= total; i++) {
			if (i < c->nkids) {
				if ((rc = x_arg(x, c->kids[i], dot, out)) != 0)
					return rc;
			} else {
				*out = *final;
			}
			settle(out);
			if (truth(out) != is_and)
				return 0;
		}
		return 0;
	}
	args = pq_arena_alloc(x->a, (c->nkids + 1) * sizeof(*args));
	if (args == NULL)
		return perr_set(x->e, PERR_NOMEM, "out of memory");
	for (size_t i = 1; i < c->nkids; i++)
		if ((rc = x_arg(x, c->kids[i], dot, &args[n++])) != 0)
			return rc;
	if (final != NULL)
		args[n++] = *final;
	return call_fn(x, c, name, args, n, out);
}

static int
x_pipe(struct exec *x, const struct tnode *p, const struct tval *dot,
    struct tval *out)
{
	struct tval v, prev;
	struct tvar *var;
	int rc;

	memset(&v, 0, sizeof(v));
	for (size_t i = 0; i < p->nkids; i++) {
		prev = v;
		if ((rc = x_cmd(x, p->kids[i], dot, i > 0 ? &prev : NULL,
		    &v)) != 0)
			return rc;
	}
	settle(&v);
	for (size_t i = 0; i < p->ndecl; i++) {
		if (p->assign) {
			if ((var = x_var(x, p->decl[i].p, p->decl[i].len)) ==
			    NULL)
				return x_fail(x, p, "undefined variable: %.*s",
				    (int)p->decl[i].len, p->decl[i].p);
			var->v = v;
		} else if ((rc = x_push_var(x, p->decl[i].p, p->decl[i].len,
		    &v)) != 0) {
			return rc;
		}
	}
	*out = v;
	return 0;
}

static int x_list(struct exec *x, const struct tnode *l, const struct tval *dot,
    enum flow *flow);

static int
x_print(struct exec *x, const struct tnode *at, const struct tval *v)
{
	int rc;

	if (v->k == V_NIL)
		rc = buf_adds(x->out, "<no value>");
	else
		rc = print_value(x->out, v);
	if (rc != 0)
		return x_fail(x, at, "template output too long");
	return 0;
}

static int
x_range(struct exec *x, const struct tnode *n, const struct tval *dot,
    enum flow *flow)
{
	struct tval v, elem, key;
	size_t saved = x->nvars, count;
	enum flow f;
	int rc;

	if ((rc = x_pipe(x, n->pipe, dot, &v)) != 0)
		return rc;
	x->nvars = saved;
	count = v.k == V_SAMPLES || v.k == V_ARGS ? v.n : v.k == V_LABELS ?
	    v.ls->n : 0;
	if (v.k != V_SAMPLES && v.k != V_LABELS && v.k != V_ARGS &&
	    v.k != V_NIL)
		return x_fail(x, n, "range can't iterate over %s",
		    type_name(&v));
	for (size_t i = 0; i < count; i++) {
		memset(&elem, 0, sizeof(elem));
		memset(&key, 0, sizeof(key));
		if (v.k == V_SAMPLES) {
			elem.k = V_SAMPLE;
			elem.smp = &v.smp[i];
			key.k = V_INT;
			key.i = (int64_t)i;
		} else if (v.k == V_LABELS) {
			elem = v_string(v.ls->l[i].value, v.ls->l[i].vlen);
			key = v_string(v.ls->l[i].name, v.ls->l[i].nlen);
		} else {
			elem = v.args[i].v;
			key = v_string(v.args[i].name, strlen(v.args[i].name));
		}
		/* One variable: the element; two: the key and the element. */
		x->nvars = saved;
		if (n->pipe->ndecl > 0) {
			for (size_t k = 0; k < n->pipe->ndecl; k++)
				if ((rc = x_push_var(x, n->pipe->decl[k].p,
				    n->pipe->decl[k].len, n->pipe->ndecl == 1 ||
				    k == 1 ? &elem : &key)) != 0)
					return rc;
		}
		f = F_NORMAL;
		rc = x_list(x, n->list, &elem, &f);
		x->nvars = saved + n->pipe->ndecl;
		if (rc != 0)
			return rc;
		if (f == F_BREAK)
			break;
	}
	x->nvars = saved;
	if (count == 0 && n->elist != NULL)
		return x_list(x, n->elist, dot, flow);
	return 0;
}

static int
x_node(struct exec *x, const struct tnode *n, const struct tval *dot,
    enum flow *flow)
{
	struct tval v;
	size_t saved = x->nvars;
	int rc = 0;

	if (++x->depth > EXEC_DEPTH_MAX)
		return x_fail(x, n, "exceeded maximum template depth (%d)",
		    EXEC_DEPTH_MAX);
	switch (n->kind) {
	case TN_TEXT:
		if (buf_add(x->out, n->s, n->len) != 0)
			rc = x_fail(x, n, "template output too long");
		break;
	case TN_ACTION:
		if ((rc = x_pipe(x, n->pipe, dot, &v)) == 0 &&
		    n->pipe->ndecl == 0)
			rc = x_print(x, n, &v);
		/* Declarations live to the end of the enclosing list. */
		saved = x->nvars;
		break;
	case TN_IF:
	case TN_WITH:
		if ((rc = x_pipe(x, n->pipe, dot, &v)) != 0)
			break;
		if (truth(&v))
			rc = x_list(x, n->list, n->kind == TN_WITH ? &v : dot,
			    flow);
		else if (n->elist != NULL)
			rc = x_list(x, n->elist, dot, flow);
		break;
	case TN_RANGE:
		rc = x_range(x, n, dot, flow);
		break;
	case TN_BREAK:
		*flow = F_BREAK;
		break;
	case TN_CONTINUE:
		*flow = F_CONTINUE;
		break;
	case TN_TEMPLATE: {
		struct defn *d = NULL;
		struct tval arg;
		size_t outer = x->nvars;

		for (size_t i = 0; i < x->ndefs; i++)
			if (x->defs[i].len == n->len &&
			    memcmp(x->defs[i].name, n->s, n->len) == 0)
				d = &x->defs[i];
		if (d == NULL) {
			rc = x_fail(x, n, "template \"%.*s\" not defined",
			    (int)n->len, n->s);
			break;
		}
		memset(&arg, 0, sizeof(arg));
		if (n->pipe != NULL && (rc = x_pipe(x, n->pipe, dot, &arg)) != 0)
			break;
		/* A template sees only "$", set to its argument. */
		struct tvar *vars = x->vars;
		size_t nv = x->nvars, cap = x->capvars;
		enum flow f = F_NORMAL;

		x->vars = NULL;
		x->nvars = x->capvars = 0;
		if ((rc = x_push_var(x, "$", 1, &arg)) == 0)
			rc = x_list(x, d->body, &arg, &f);
		free(x->vars);
		x->vars = vars;
		x->nvars = nv;
		x->capvars = cap;
		x->nvars = outer;
		break;
	}
	default:
		break;
	}
	if (n->kind != TN_ACTION)
		x->nvars = saved;
	x->depth--;
	return rc;
}

static int
x_list(struct exec *x, const struct tnode *l, const struct tval *dot,
    enum flow *flow)
{
	size_t saved = x->nvars;
	int rc = 0;

	for (size_t i = 0; i < l->nkids && rc == 0; i++) {
		rc = x_node(x, l->kids[i], dot, flow);
		if (*flow != F_NORMAL)
			break;
	}
	x->nvars = saved;
	return rc;
}

/* A template parsed once (tmpl_compile): its tree, definitions and text,
 * all in its arena. */
struct tmpl {
	struct pq_arena a;
	const char *src;
	struct tnode *root;
	struct defn *defs;
	size_t ndefs;
};

int
tmpl_compile(const char *text, size_t len, const char *name,
    struct tmpl **out, struct perr *e)
{
	struct lexer l;
	struct builder b;
	struct tmpl *t;
	enum it ended;
	size_t off;
	int rc;

	*out = NULL;
	if ((rc = tmpl_check(text, len, NULL, NULL, &off, e)) != 0) {
		if (rc == PERR_INVALID) {
			char msg[PERR_MSG_MAX];
			unsigned line = 1;

			for (size_t i = 0; i < off && i < len; i++)
				line += text[i] == '\n';
			snprintf(msg, sizeof(msg), "%s", e->msg);
			perr_set(e, PERR_INVALID, "error parsing template %s: "
			    "template: %s:%u: %s", name, name, line, msg);
		}
		return rc;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	memset(&l, 0, sizeof(l));
	/* The tree points into the text: the template keeps its copy. */
	l.s = t->src = pq_arena_strdup(&t->a, text, len);
	l.len = len;
	if (l.s != NULL)
		lex_all(&l);
	memset(&b, 0, sizeof(b));
	b.l = &l;
	b.a = &t->a;
	t->root = l.s == NULL || l.nomem ? NULL : b_list(&b, &ended);
	free(l.items);
	if (t->root == NULL) {
		tmpl_free(t);
		return perr_set(e, PERR_NOMEM, "out of memory");
	}
	t->defs = b.defs;
	t->ndefs = b.ndefs;
	*out = t;
	return 0;
}

int
tmpl_run(const struct tmpl *t, const struct tmpl_data *d, struct buf *out,
    struct perr *e)
{
	struct pq_arena a = {NULL, 0};
	struct exec x;
	struct tval dot;
	enum flow f = F_NORMAL;
	int rc;

	memset(&x, 0, sizeof(x));
	x.d = d;
	x.src = t->src;
	x.a = &a;
	x.out = out;
	x.defs = t->defs;
	x.ndefs = t->ndefs;
	x.e = e;
	memset(&dot, 0, sizeof(dot));
	dot.k = V_DATA;
	rc = x_push_var(&x, "$", 1, &dot);
	if (rc == 0)
		rc = x_list(&x, t->root, &dot, &f);
	free(x.vars);
	pq_arena_free(&a);
	return rc;
}

void
tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	pq_arena_free(&t->a);
	free(t);
}
