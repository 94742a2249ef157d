/*
 * journal-dump - test helper: scan a journal the way the renderer does and
 * print what it finds.
 *
 * usage: journal-dump [-d] [-o OFFSET] JOURNAL
 *
 * Prints each intact record's payload on its own line, then one summary
 * line "# records=N damaged=N damaged_bytes=N tail=N end=N undecodable=N".
 * -d also prints "# damage offset=N length=N" for each damaged piece.
 * "undecodable" counts intact records that are not valid records of any
 * kind (run, start, finish, or the renderer's snapshot, meta and open).
 * Exit 0 after a scan, 1 when the file cannot be read.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics/aggregate.h"
#include "journal/journal.h"

struct dump {
	int show_damage;
	uint64_t undecodable;
	struct agg *agg;
};

static int
on_record(void *ctx, char *payload, size_t len, uint64_t offset)
{
	struct dump *d = ctx;

	(void)offset;
	fwrite(payload, 1, len, stdout);
	putchar('\n');
	if (agg_fold(d->agg, payload, len, NULL) != 0)
		d->undecodable++;
	return 0;
}

static void
on_damage(void *ctx, uint64_t offset, uint64_t len)
{
	struct dump *d = ctx;

	if (d->show_damage)
		printf("# damage offset=%" PRIu64 " length=%" PRIu64 "\n",
		    offset, len);
}

int
main(int argc, char **argv)
{
	static const double bucket[] = {1};
	struct agg_config cfg = {bucket, 1, NULL, 0, 86400, 0};
	struct dump d = {0, 0, NULL};
	struct journal_scan_cb cb = {on_record, on_damage, &d};
	struct journal_stats st;
	struct perr e;
	uint64_t start = 0;
	int opt;

	while ((opt = getopt(argc, argv, "do:")) != -1) {
		switch (opt) {
		case 'd':
			d.show_damage = 1;
			break;
		case 'o':
			start = strtoull(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: journal-dump [-d] [-o OFFSET] "
			    "JOURNAL\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: journal-dump [-d] [-o OFFSET] JOURNAL\n");
		return 2;
	}
	if (agg_new(&d.agg, &cfg, &e) != 0 ||
	    journal_scan(argv[optind], start, &cb, &st, &e) != 0) {
		fprintf(stderr, "journal-dump: %s\n", e.msg);
		return 1;
	}
	printf("# records=%" PRIu64 " damaged=%" PRIu64 " damaged_bytes=%"
	    PRIu64 " tail=%" PRIu64 " end=%" PRIu64 " undecodable=%" PRIu64
	    "\n", st.records, st.damaged, st.damaged_bytes, st.tail, st.end,
	    d.undecodable);
	agg_free(d.agg);
	return 0;
}
