/*
 * lex.h - the PromQL lexer (Prometheus 2.42's lex.go, rewritten in C).
 *
 * The lexer turns an expression into tokens on demand.  It is modal like
 * Prometheus's: inside braces only label names, matching operators, strings
 * and commas exist; right after '[' a duration must follow; inside brackets
 * any letter or ':' is a colon token (so "foo[5m x]" lexes as "foo[5m:]",
 * as it does in Prometheus 2.42).  Comments ('#' to the end of the line) are
 * skipped.  Keywords are case-insensitive; "inf" and "nan" in any case are
 * numbers.
 *
 * A token is a byte range of the input; nothing is copied or allocated.
 * After the first error the lexer keeps returning PQ_T_ERROR.
 */
#ifndef PROMRUN_PROMQL_LEX_H
#define PROMRUN_PROMQL_LEX_H

#include <stdbool.h>
#include <stddef.h>

enum pq_tok {
	PQ_T_EOF,
	PQ_T_ERROR,
	PQ_T_IDENT,		/* [a-zA-Z_][a-zA-Z0-9_]* that is no keyword */
	PQ_T_METRIC_IDENT,	/* an identifier holding ':' */
	PQ_T_NUMBER,
	PQ_T_STRING,		/* quotes included; unquote with pq_unquote */
	PQ_T_DURATION,
	PQ_T_LPAREN, PQ_T_RPAREN, PQ_T_LBRACE, PQ_T_RBRACE,
	PQ_T_LBRACKET, PQ_T_RBRACKET, PQ_T_COMMA, PQ_T_EQL, PQ_T_COLON,
	PQ_T_AT,
	/* Operators. */
	PQ_T_ADD, PQ_T_SUB, PQ_T_MUL, PQ_T_DIV, PQ_T_MOD, PQ_T_POW,
	PQ_T_EQLC, PQ_T_NEQ, PQ_T_LSS, PQ_T_LTE, PQ_T_GTR, PQ_T_GTE,
	PQ_T_EQL_REGEX, PQ_T_NEQ_REGEX,
	PQ_T_LAND, PQ_T_LOR, PQ_T_LUNLESS, PQ_T_ATAN2,
	/* Aggregators. */
	PQ_T_SUM, PQ_T_AVG, PQ_T_COUNT, PQ_T_MIN, PQ_T_MAX, PQ_T_GROUP,
	PQ_T_STDDEV, PQ_T_STDVAR, PQ_T_TOPK, PQ_T_BOTTOMK,
	PQ_T_COUNT_VALUES, PQ_T_QUANTILE,
	/* Keywords. */
	PQ_T_OFFSET, PQ_T_BY, PQ_T_WITHOUT, PQ_T_ON, PQ_T_IGNORING,
	PQ_T_GROUP_LEFT, PQ_T_GROUP_RIGHT, PQ_T_BOOL, PQ_T_START, PQ_T_END,
};

struct pq_token {
	enum pq_tok type;
	size_t start, end;	/* byte range in the input */
};

#define PQ_LEX_MSG_MAX 160

struct pq_lexer {
	const char *src;
	size_t len;
	size_t pos;
	int paren_depth;
	bool brace_open;
	bool bracket_open;
	bool got_colon;
	bool want_duration;	/* just after '[' */
	bool failed;
	size_t err_pos;		/* where the error token starts */
	char msg[PQ_LEX_MSG_MAX]; /* the error, when failed */
};

/* pq_lex_init: lex src[0..len); src need not be NUL-terminated. */
void pq_lex_init(struct pq_lexer *l, const char *src, size_t len);

/*
 * pq_lex_next: the next token.  PQ_T_ERROR carries its message in l->msg
 * (Prometheus's wording, e.g. "unclosed left parenthesis") and its position
 * in l->err_pos; every later call returns PQ_T_ERROR again.
 */
struct pq_token pq_lex_next(struct pq_lexer *l);

/* pq_tok_is_operator: a binary operator token (+ ... atan2, and/or/unless). */
bool pq_tok_is_operator(enum pq_tok t);

/* pq_tok_is_aggregator: sum ... quantile. */
bool pq_tok_is_aggregator(enum pq_tok t);

/* pq_tok_is_keyword: offset, by, ... end. */
bool pq_tok_is_keyword(enum pq_tok t);

/* pq_tok_text: the canonical spelling of a fixed token ("+", "sum", "("),
 * or a description ("identifier", "end of input") for the others. */
const char *pq_tok_text(enum pq_tok t);

/*
 * pq_tok_desc: append token t of src as Prometheus's parser names it in
 * "unexpected ..." (its Item.desc): "end of input", `identifier "foo"`,
 * `number "1234567890"...` (values longer than 10 runes cut to 10, as Go's
 * %.10q), `string "\"x\""`, "<op:+>", "<aggr:sum>", "<by>", `"("`.
 * Returns 0 or the buffer's error.
 */
struct buf;
int pq_tok_desc(struct buf *b, const char *src, struct pq_token t);

/* Character classes of the lexer, shared with the printer. */
bool pq_is_alpha(int c);	/* [a-zA-Z_] */
bool pq_is_alnum(int c);	/* [a-zA-Z0-9_] */

#endif
