/* grouping.c - the Pushgateway grouping key (see grouping.h). */
#include "push/grouping.h"
#include "metrics/expfmt.h"
#include "common/text.h"

#include <stdio.h>
#include <string.h>

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
base64url_encode(struct buf *b, const void *data, size_t len)
{
	const unsigned char *p = data;
	unsigned long v;
	char out[4];
	size_t i;
	int rc;

	if (len == 0)
		return buf_addc(b, '=');
	for (i = 0; i < len; i += 3) {
		v = (unsigned long)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		out[0] = alphabet[v >> 18 & 0x3f];
		out[1] = alphabet[v >> 12 & 0x3f];
		out[2] = i + 1 < len ? alphabet[v >> 6 & 0x3f] : '=';
		out[3] = i + 2 < len ? alphabet[v & 0x3f] : '=';
		if ((rc = buf_add(b, out, 4)) != 0)
			return rc;
	}
	return 0;
}

void
push_group_init(struct push_group *g, const char *job)
{
	memset(g, 0, sizeof(*g));
	g->job = job;
}

const char *
push_group_value(const struct push_group *g, const char *name)
{
	size_t i;

	if (strcmp(name, "job") == 0)
		return g->job;
	for (i = 0; i < g->nlabels; i++)
		if (strcmp(g->labels[i].name, name) == 0)
			return g->labels[i].value;
	return NULL;
}

/* A UTF-8 problem in what, with the first bad byte and where it is. */
static int
not_utf8(const char *what, const char *s, struct perr *e)
{
	size_t bad = 0;

	if (utf8_valid(s, strlen(s), &bad))
		return 0;
	return perr_set(e, PERR_INVALID, "%s is not valid UTF-8 (byte 0x%02x "
	    "at offset %zu)", what, (unsigned char)s[bad], bad);
}

int
push_group_add(struct push_group *g, const char *name, const char *value,
    struct perr *e)
{
	char q[PERR_QUOTE_MAX], what[PERR_QUOTE_MAX + 32];
	int rc;

	if (!label_name_valid(name) || strncmp(name, "__", 2) == 0)
		return perr_set(e, PERR_INVALID, "invalid grouping label name "
		    "%s: names match [a-zA-Z_][a-zA-Z0-9_]* and do not start "
		    "with __", perr_quote(name, q));
	if (strcmp(name, "job") == 0)
		return perr_set(e, PERR_INVALID, "grouping label \"job\": give "
		    "the job with --job (or [push] job)");
	if (push_group_value(g, name) != NULL)
		return perr_set(e, PERR_INVALID, "grouping label %s given twice",
		    perr_quote(name, q));
	snprintf(what, sizeof(what), "grouping label %s", perr_quote(name, q));
	if ((rc = not_utf8(what, value, e)) != 0)
		return rc;
	if (g->nlabels == PUSH_MAX_GROUPING)
		return perr_set(e, PERR_LIMIT, "more than %d grouping labels",
		    PUSH_MAX_GROUPING);
	g->labels[g->nlabels].name = name;
	g->labels[g->nlabels].value = value;
	g->nlabels++;
	return 0;
}

int
push_group_add_arg(struct push_group *g, char *arg, struct perr *e)
{
	char q[PERR_QUOTE_MAX], *eq = strchr(arg, '=');

	if (eq == NULL)
		return perr_set(e, PERR_INVALID, "grouping label %s has no value: "
		    "use NAME=VALUE (NAME= for an empty value)",
		    perr_quote(arg, q));
	*eq = '\0';
	return push_group_add(g, arg, eq + 1, e);
}

int
push_group_merge(struct push_group *g, const struct push_group *defaults,
    struct perr *e)
{
	const struct push_label *l;
	size_t i;
	int rc;

	for (i = 0; i < defaults->nlabels; i++) {
		l = &defaults->labels[i];
		if (push_group_value(g, l->name) == NULL &&
		    (rc = push_group_add(g, l->name, l->value, e)) != 0)
			return rc;
	}
	return 0;
}

int
push_group_check(const struct push_group *g, struct perr *e)
{
	if (g->job == NULL || g->job[0] == '\0')
		return perr_set(e, PERR_INVALID, "the job is empty: give a job "
		    "name with --job (or [push] job)");
	return not_utf8("the job", g->job, e);
}

static int
add_segment(struct buf *out, const char *name, const char *value)
{
	int rc;

	if ((rc = buf_addc(out, '/')) != 0 || (rc = buf_adds(out, name)) != 0 ||
	    (rc = buf_adds(out, "@base64/")) != 0)
		return rc;
	return base64url_encode(out, value, strlen(value));
}

int
push_group_path(const struct push_group *g, struct buf *out)
{
	size_t i;
	int rc;

	if ((rc = buf_adds(out, "/metrics")) != 0 ||
	    (rc = add_segment(out, "job", g->job)) != 0)
		return rc;
	for (i = 0; i < g->nlabels; i++)
		if ((rc = add_segment(out, g->labels[i].name,
		    g->labels[i].value)) != 0)
			return rc;
	return 0;
}

static int
describe_label(struct buf *out, char sep, const char *name, const char *value)
{
	int rc;

	if ((rc = buf_addc(out, sep)) != 0 || (rc = buf_adds(out, name)) != 0 ||
	    (rc = buf_add(out, "=\"", 2)) != 0 ||
	    (rc = expfmt_write_label_value(out, value)) != 0)
		return rc;
	return buf_addc(out, '"');
}

int
push_group_describe(const struct push_group *g, struct buf *out)
{
	size_t i;
	int rc;

	if ((rc = describe_label(out, '{', "job", g->job)) != 0)
		return rc;
	for (i = 0; i < g->nlabels; i++)
		if ((rc = describe_label(out, ',', g->labels[i].name,
		    g->labels[i].value)) != 0)
			return rc;
	return buf_addc(out, '}');
}

int
push_tenant_check(const char *tenant, struct perr *e)
{
	char q[PERR_QUOTE_MAX];
	size_t len = strlen(tenant);

	if (len == 0 || len > PUSH_MAX_TENANT ||
	    strspn(tenant, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789!-_.*'()") != len || strcmp(tenant, ".") == 0 ||
	    strcmp(tenant, "..") == 0)
		return perr_set(e, PERR_INVALID, "invalid tenant %s: use 1 to "
		    "%d of A-Z a-z 0-9 ! - _ . * ' ( ), not . or ..",
		    perr_quote(tenant, q), PUSH_MAX_TENANT);
	return 0;
}
