/* org.c - one organization: journal, aggregate, index, tokens (see org.h). */
#define _GNU_SOURCE
#include "serve/org.h"
#include "common/buf.h"
#include "common/fsutil.h"
#include "journal/run.h"
#include "serve/serve.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#define WHAT_MAX (SERVE_ORG_NAME_MAX + 32)

int
org_init(struct org *o, const char *name, bool named, const char *data_dir,
    const struct journal_settings *js, const struct render_settings *rs,
    const struct schema_preset *p, const char *ns, struct perr *e)
{
	struct buf path = BUF_INIT(PATH_MAX);

	memset(o, 0, sizeof(*o));
	if ((o->name = strdup(name)) == NULL ||
	    buf_addf(&path, "%s/%s/journal", data_dir, name) != 0 ||
	    (o->journal = buf_take(&path)) == NULL) {
		buf_free(&path);
		return perr_set(e, PERR_NOMEM, "out of memory, or data_dir too "
		    "long: %s", data_dir);
	}
	o->named = named;
	buf_init(&o->cache.text, (size_t)1 << 31);
	buf_init(&o->cache.scratch, (size_t)1 << 31);
	o->js = *js;
	o->js.path = o->journal;
	o->preset = p;
	o->ns = ns;
	textfile_agg_config(&o->js, rs, p, &o->acfg);
	o->cj.js = &o->js;
	o->cj.rs = rs;
	o->cj.preset = p->name;
	return 0;
}

struct loader {
	struct org *o;
	double since;
	struct buf key;
	struct perr *e;
};

static bool
user_record(const char *payload)
{
	return strncmp(payload, "run ", 4) == 0 ||
	    strncmp(payload, "start ", 6) == 0 ||
	    strncmp(payload, "finish ", 7) == 0;
}

/* Fold one record; runs with a run id in the window go into the index. */
static int
load_record(void *ctx, char *payload, size_t len, uint64_t offset)
{
	struct loader *l = ctx;
	struct run r;
	struct perr why;
	int rc;

	(void)offset;
	payload[len] = '\0';
	if (!user_record(payload)) {
		rc = agg_fold(l->o->agg, payload, len, l->e);
		return rc == PERR_CORRUPT ? 0 : rc;
	}
	if (run_decode(payload, len, &r, &why) != 0) {
		/* Counted as corrupt, exactly as agg_fold counts it. */
		agg_add_damage(l->o->agg, 1);
		return 0;
	}
	if ((rc = agg_fold_run(l->o->agg, &r, l->e)) != 0)
		return rc;
	if (r.time < l->since || dedupe_key(&r, &l->key) != 0)
		return 0;
	if (dedupe_add(&l->o->dedupe, &l->key, r.time, 0) != 0)
		return perr_set(l->e, PERR_NOMEM, "out of memory");
	return 0;
}

int
org_load(struct org *o, double since, struct perr *e)
{
	struct loader l = {o, since, BUF_INIT(1 << 20), e};
	struct journal_scan_cb cb = {load_record, NULL, &l};
	struct journal_stats st;
	struct stat sb;
	int rc;

	if ((rc = agg_new(&o->agg, &o->acfg, e)) != 0)
		return rc;
	rc = journal_scan(o->journal, 0, &cb, &st, e);
	buf_free(&l.key);
	if (rc != 0)
		return rc;
	agg_add_damage(o->agg, st.damaged);
	o->journal_bytes = stat(o->journal, &sb) == 0 ?
	    (unsigned long long)sb.st_size : 0;
	return 0;
}

int
org_load_tokens(struct org *o, struct perr *e)
{
	struct token w = {NULL, 0}, r = {NULL, 0};
	char what[WHAT_MAX];
	int rc = 0;

	snprintf(what, sizeof(what), o->named ? "[org %s] write_token_file" :
	    "[serve] write_token_file", o->name);
	if (o->write_file != NULL)
		rc = token_load(o->write_file, what, &w, e);
	snprintf(what, sizeof(what), o->named ? "[org %s] read_token_file" :
	    "[serve] read_token_file", o->name);
	if (rc == 0 && o->read_file != NULL)
		rc = token_load(o->read_file, what, &r, e);
	if (rc != 0) {
		token_free(&w);
		token_free(&r);
		return rc;
	}
	token_free(&o->write);
	token_free(&o->read);
	o->write = w;
	o->read = r;
	return 0;
}

bool
org_check_health(struct org *o)
{
	char dir[PATH_MAX];
	struct statvfs vfs;

	if (!o->failing)
		return true;
	if (fs_dirname(o->journal, dir, sizeof(dir)) == 0 &&
	    statvfs(dir, &vfs) == 0 && vfs.f_bavail > 0 &&
	    !(vfs.f_flag & ST_RDONLY)) {
		o->failing = false;
		o->failure_errno = 0;
		o->failure[0] = '\0';
	}
	return !o->failing;
}

void
org_free(struct org *o)
{
	commit_journal_close(&o->cj);
	buf_free(&o->cache.text);
	buf_free(&o->cache.scratch);
	agg_free(o->agg);
	dedupe_free(&o->dedupe);
	token_free(&o->write);
	token_free(&o->read);
	free(o->name);
	free(o->journal);
	memset(o, 0, sizeof(*o));
}
