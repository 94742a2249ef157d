/* config.c - promrun.ini via inih (see config.h). */
#define _POSIX_C_SOURCE 200809L
#include "config.h"
#include "buf.h"
#include "run.h"
#include "text.h"

#include <errno.h>
#include <ini.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A setter checks value and stores it; on error it explains with key and value. */
typedef int (*setter_fn)(struct config *c, const char *value, struct perr *e);

struct key {
	const char *section;
	const char *name;
	setter_fn set;
};

static int
replace_string(char **slot, const char *value, struct perr *e)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	free(*slot);
	*slot = copy;
	return 0;
}

static int
set_journal_path(struct config *c, const char *value, struct perr *e)
{
	if (value[0] == '\0')
		return perr_set(e, PERR_INVALID, "[journal] path is empty: give "
		    "the journal's file name");
	return replace_string(&c->journal.path, value, e);
}

static int
set_journal_fsync(struct config *c, const char *value, struct perr *e)
{
	char q[PERR_QUOTE_MAX];

	if (strcmp(value, "always") == 0)
		c->journal.fsync = JOURNAL_FSYNC_ALWAYS;
	else if (strcmp(value, "never") == 0)
		c->journal.fsync = JOURNAL_FSYNC_NEVER;
	else
		return perr_set(e, PERR_INVALID, "[journal] fsync = %s: use "
		    "always or never", perr_quote(value, q));
	return 0;
}

static void
free_labels(struct config *c)
{
	size_t i;

	for (i = 0; i < c->journal.nlabels; i++)
		free(c->journal.labels[i]);
	c->journal.nlabels = 0;
}

static int
set_journal_labels(struct config *c, const char *value, struct perr *e)
{
	char name[128];
	size_t pos = 0, len;
	int rc;

	free_labels(c);
	while ((len = name_list_next(value, &pos, name, sizeof(name))) > 0) {
		if (len >= sizeof(name))
			return perr_set(e, PERR_INVALID, "[journal] labels: a "
			    "label name is longer than %zu bytes",
			    sizeof(name) - 1);
		if ((rc = run_label_name_check(name, e)) != 0)
			return rc;
		if (c->journal.nlabels == CONFIG_MAX_LABELS)
			return perr_set(e, PERR_INVALID, "[journal] labels: at "
			    "most %d names", CONFIG_MAX_LABELS);
		if ((c->journal.labels[c->journal.nlabels] = strdup(name)) ==
		    NULL)
			return perr_set(e, PERR_NOMEM, "out of memory");
		c->journal.nlabels++;
	}
	return 0;
}

static const struct key keys[] = {
	{"journal", "path", set_journal_path},
	{"journal", "fsync", set_journal_fsync},
	{"journal", "labels", set_journal_labels},
};

/* --- reading the file --- */

struct loader {
	struct config *c;
	FILE *fp;
	unsigned line;		/* physical lines read so far */
	unsigned error_line;	/* first line our handler refused, or 0 */
	unsigned long_line;	/* first line too long for inih, or 0 */
	struct perr first;	/* the handler's first error */
};

/*
 * inih reads through this so we know the line number in the handler (the
 * distro build fixes INI_HANDLER_LINENO off) and can spot lines longer than
 * inih's fixed buffer, which it would otherwise split into two lines.
 */
static char *
read_line(char *str, int num, void *stream)
{
	struct loader *l = stream;
	size_t len;
	int ch;

	if (fgets(str, num, l->fp) == NULL)
		return NULL;
	l->line++;
	len = strlen(str);
	if (len == 0 || str[len - 1] == '\n' || feof(l->fp))
		return str;
	/* The buffer filled before the newline: is there more of the line? */
	ch = fgetc(l->fp);
	if (ch == '\n' || ch == EOF)
		return str;
	if (l->long_line == 0)
		l->long_line = l->line;
	while ((ch = fgetc(l->fp)) != EOF && ch != '\n')
		;
	return str;
}

static int
handle(void *user, const char *section, const char *name, const char *value)
{
	struct loader *l = user;
	struct perr e;
	char qs[PERR_QUOTE_MAX], qn[PERR_QUOTE_MAX];
	size_t i;
	bool section_known = false;

	if (l->error_line != 0)
		return 1;	/* keep the first error only */
	perr_clear(&e);
	for (i = 0; i < NELEM(keys); i++) {
		if (strcmp(section, keys[i].section) != 0)
			continue;
		section_known = true;
		if (strcmp(name, keys[i].name) == 0) {
			if (keys[i].set(l->c, value, &e) == 0)
				return 1;
			goto refuse;
		}
	}
	if (section[0] == '\0')
		perr_set(&e, PERR_INVALID, "setting %s outside any section: "
		    "put it under [journal]", perr_quote(name, qn));
	else if (!section_known)
		perr_set(&e, PERR_INVALID, "unknown section [%s]: known is "
		    "[journal]", perr_quote(section, qs));
	else
		perr_set(&e, PERR_INVALID, "unknown key %s in [%s]",
		    perr_quote(name, qn), section);
refuse:
	l->error_line = l->line;
	l->first = e;
	return 0;
}

/* Turn inih's result into one error with file and line. */
static int
report(struct loader *l, const char *file, int result, struct perr *e)
{
	unsigned syntax_line = result > 0 ? (unsigned)result : 0;

	if (result == -2)
		return perr_set(e, PERR_NOMEM, "out of memory reading %s", file);
	if (l->long_line != 0 &&
	    (l->error_line == 0 || l->long_line <= l->error_line))
		return perr_set(e, PERR_INVALID, "%s:%u: line too long: at most "
		    "%d characters", file, l->long_line, INI_MAX_LINE - 2);
	if (l->error_line != 0 &&
	    (syntax_line == 0 || l->error_line <= syntax_line))
		return perr_set(e, l->first.code, "%s:%u: %s", file,
		    l->error_line, l->first.msg);
	if (syntax_line != 0)
		return perr_set(e, PERR_INVALID, "%s:%u: syntax error: expected "
		    "[section], name = value or a comment", file, syntax_line);
	return 0;
}

/*
 * A config that cannot be read is the user's configuration error, like a
 * syntax error: exit status 2, with the system's reason.
 */
static int
unreadable(struct perr *e, int errnum, const char *file)
{
	perr_sys(e, errnum, "cannot read config file %s", file);
	if (e != NULL)
		e->code = PERR_INVALID;
	return PERR_INVALID;
}

static int
load_file(struct config *c, const char *file, bool must_exist,
    struct perr *e)
{
	struct loader l;
	int result;

	memset(&l, 0, sizeof(l));
	l.c = c;
	l.fp = fopen(file, "re");
	if (l.fp == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		if (errno == ENOENT)
			return perr_set(e, PERR_INVALID, "config file %s does "
			    "not exist", file);
		return unreadable(e, errno, file);
	}
	if (replace_string(&c->file, file, e) != 0) {
		fclose(l.fp);
		return PERR_NOMEM;
	}
	result = ini_parse_stream(read_line, &l, handle, &l);
	if (ferror(l.fp)) {
		int errnum = errno != 0 ? errno : EIO;

		fclose(l.fp);
		return unreadable(e, errnum, file);
	}
	fclose(l.fp);
	return report(&l, file, result, e);
}

char *
config_default_journal_path(struct perr *e)
{
	struct buf b = BUF_INIT(4096);
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	struct passwd *pw;
	int rc;

	if (state != NULL && state[0] == '/') {
		rc = buf_addf(&b, "%s/promrun/journal", state);
	} else {
		if (home == NULL || home[0] == '\0') {
			pw = getpwuid(getuid());
			home = pw != NULL ? pw->pw_dir : NULL;
		}
		if (home == NULL) {
			perr_set(e, PERR_INVALID, "no journal path: HOME is not "
			    "set; set [journal] path or PROMRUN_JOURNAL");
			return NULL;
		}
		rc = buf_addf(&b, "%s/.local/state/promrun/journal", home);
	}
	if (rc != 0) {
		perr_set(e, PERR_INVALID, "journal path too long");
		return NULL;
	}
	return buf_take(&b);
}

int
config_set_journal_path(struct config *c, const char *path, struct perr *e)
{
	return set_journal_path(c, path, e);
}

static int
apply_environment(struct config *c, struct perr *e)
{
	const char *journal = getenv("PROMRUN_JOURNAL");

	if (journal != NULL && journal[0] != '\0')
		return replace_string(&c->journal.path, journal, e);
	return 0;
}

int
config_load(struct config *c, const char *explicit, struct perr *e)
{
	const char *env = getenv("PROMRUN_CONFIG");
	int rc;

	memset(c, 0, sizeof(*c));
	c->journal.fsync = JOURNAL_FSYNC_ALWAYS;
	if (explicit != NULL)
		rc = load_file(c, explicit, true, e);
	else if (env != NULL && env[0] != '\0')
		rc = load_file(c, env, true, e);
	else
		rc = load_file(c, CONFIG_DEFAULT_PATH, false, e);
	if (rc == 0)
		rc = apply_environment(c, e);
	if (rc == 0 && c->journal.path == NULL &&
	    (c->journal.path = config_default_journal_path(e)) == NULL)
		rc = e != NULL ? e->code : PERR_INVALID;
	return rc;
}

void
config_free(struct config *c)
{
	free(c->file);
	free(c->journal.path);
	free_labels(c);
	c->file = NULL;
	c->journal.path = NULL;
}
