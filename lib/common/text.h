/*
 * text.h - checks on text that every module shares: UTF-8 and the names
 * Prometheus accepts; and the lines of a text.
 */
#ifndef PROMRUN_TEXT_H
#define PROMRUN_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * utf8_valid: true when the len bytes at s are well-formed UTF-8 (no
 * overlong forms, no surrogates, nothing above U+10FFFF).  NUL bytes are
 * well-formed UTF-8; callers that cannot store them check separately.
 * When invalid and bad_at is not NULL, *bad_at is the offset of the first
 * byte of the first ill-formed sequence.
 */
bool utf8_valid(const char *s, size_t len, size_t *bad_at);

/* label_name_valid: s matches [a-zA-Z_][a-zA-Z0-9_]* (the empty name does not). */
bool label_name_valid(const char *s);

/* metric_name_valid: s matches [a-zA-Z_:][a-zA-Z0-9_:]*. */
bool metric_name_valid(const char *s);

/*
 * name_list_next: split a list such as "org, repo branch" (commas and/or
 * blanks separate items).  *pos starts at 0; each call copies the next item
 * into item (at most size-1 bytes, truncated items are reported by a return
 * value >= size) and returns its length, or 0 when the list is exhausted.
 */
size_t name_list_next(const char *list, size_t *pos, char *item, size_t size);

/*
 * text_parse_double: strtod for the numbers promrun writes itself, with a
 * fast exact path for plain decimals of up to 15 digits (an integer divided
 * by a power of ten, both exact, is one correctly rounded division, which
 * is what strtod returns), and of up to 19 where long double has 64 bits
 * (the division made there, then rounded to a double: strtod's result
 * unless the quotient lies halfway between two doubles, left to strtod).
 * *end is set as strtod sets it.  Returns false when no number was read.
 */
bool text_parse_double(const char *s, char **end, double *out);

/*
 * text_count_lines: the newlines in s[0..len), to size what holds a thing
 * per line before reading them.
 */
size_t text_count_lines(const char *s, size_t len);

#endif
