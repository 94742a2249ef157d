/*
 * ydoc.h - YAML documents as compact trees, read with libyaml's event API.
 *
 * The tree is the one libyaml's document API (yaml_parser_load) builds,
 * with the same errors, but every node, string and list of a document
 * lives in one arena, and a node takes 24 bytes: a few large allocations
 * per document instead of several per node, and a third of the memory,
 * which made loading a big rule file slow.
 *
 * As in yaml_parser_load: an alias is the anchored node itself, so a node
 * may appear in several places and a tree may hold cycles (an alias inside
 * the collection it names); an anchor is known from where its node starts
 * to the end of the document; tags are not kept.  Errors read like
 * libyaml's: its parser's own, "found undefined alias", and "second
 * occurrence" / "found duplicate anchor; first occurrence".
 *
 * Collections may nest PQ_DEPTH_MAX deep (promql/ast.h), the root being
 * the first level; a deeper one is refused, "YAML nests deeper than 500
 * levels", at its start.  (promtool's YAML reader stops at 10,000.)
 */
#ifndef PROMRUN_YDOC_H
#define PROMRUN_YDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "promql/ast.h"

enum ydoc_kind { YDOC_SCALAR, YDOC_SEQUENCE, YDOC_MAPPING };

struct ydoc_node;

struct ydoc_pair {
	struct ydoc_node *k, *v;
};

struct ydoc_node {
	unsigned line, col;		/* where the node starts, 0-based */
	unsigned char kind;		/* an enum ydoc_kind */
	unsigned char style;		/* scalars: a yaml_scalar_style_t */
	uint32_t n;			/* a scalar's bytes, a sequence's items,
					   a mapping's pairs */
	union {
		const char *s;		/* NUL-terminated; may hold NULs */
		struct ydoc_node **items;
		struct ydoc_pair *pairs;	/* in document order */
	} u;
};

struct ydoc {
	struct pq_arena arena;		/* every node, string and list */
	struct ydoc_node *root;		/* NULL: the stream has ended */
	bool has_version;		/* a %YAML directive was given */
	int major, minor;		/* its version */
	unsigned line, col;		/* where the document starts, 0-based */
};

/* What went wrong, for a message; the strings are static. */
struct ydoc_error {
	const char *problem;		/* NULL when libyaml gave none */
	const char *context;		/* or NULL */
	unsigned line, col;		/* of the problem, 0-based */
	unsigned context_line;		/* of the context, 0-based */
	bool scanner;			/* libyaml's scanner found it */
	char alias[128];		/* "found undefined alias": its name
					   (cut to 127 bytes), else "" */
};

/* A stream of documents being read. */
struct ydoc_reader {
	yaml_parser_t parser;
	bool started, ended;		/* STREAM-START, STREAM-END read */
};

#define YDOC_TEXT_MAX UINT32_MAX	/* bytes: lengths are 32-bit */

/*
 * ydoc_reader_init: read text[0..len), which must outlive the reader.
 * Returns 0; PERR_LIMIT when len > YDOC_TEXT_MAX, or PERR_NOMEM (nothing
 * to free either way).
 */
int ydoc_reader_init(struct ydoc_reader *r, const char *text, size_t len);

/*
 * ydoc_next: the next document of the stream into d (root NULL when the
 * stream has ended, then on every later call).  Returns 0, to be followed
 * by ydoc_free(d); or PERR_INVALID with e filled in (bad YAML; stop
 * reading) or PERR_NOMEM, d then being empty.
 */
int ydoc_next(struct ydoc_reader *r, struct ydoc *d, struct ydoc_error *e);

/* ydoc_free: release a document's tree; d is empty after. */
void ydoc_free(struct ydoc *d);

/* ydoc_reader_free: release the reader. */
void ydoc_reader_free(struct ydoc_reader *r);

#endif
