/*
 * journal-gen - benchmark helper: write a synthetic journal fast.
 *
 * usage: journal-gen -n RECORDS -w WORKFLOWS -b BRANCHES [-s SEED] [-t T0]
 *                    [-i STEP]
 *
 * Writes RECORDS records to standard output in journal framing: runs of
 * WORKFLOWS workflows x BRANCHES branch label values (label repo fixed),
 * 80% complete "run" records and 20% start/finish pairs (a pair counts as
 * two records), success 90% / failure 10%, durations 1 to 3600 s, times
 * increasing from T0 (default 1700000000) by STEP seconds (default 1; a
 * month of 1,000,000 records is -i 2.592).  The same seed gives the
 * same journal.  Exit 0, or 1 on a write error.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/buf.h"
#include "journal/journal.h"
#include "journal/run.h"

static uint64_t state = 88172645463325252ull;

static uint64_t
next(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static int
emit(const struct run *r, struct buf *payload, struct buf *frame)
{
	buf_reset(payload);
	buf_reset(frame);
	if (run_encode(r, payload) != 0 ||
	    journal_frame(payload->p, payload->len, frame, NULL) != 0)
		return -1;
	return fwrite(frame->p, 1, frame->len, stdout) == frame->len ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct buf payload = BUF_INIT(JOURNAL_RECORD_MAX);
	struct buf frame = BUF_INIT(JOURNAL_RECORD_MAX);
	long n = 0, workflows = 1, branches = 1, i;
	double t = 1700000000, step = 1;
	char wf[32], br[32], id[32];
	struct run r;
	int opt;

	while ((opt = getopt(argc, argv, "n:w:b:s:t:i:")) != -1) {
		switch (opt) {
		case 'n': n = atol(optarg); break;
		case 'w': workflows = atol(optarg); break;
		case 'b': branches = atol(optarg); break;
		case 's': state ^= strtoull(optarg, NULL, 10) * 2654435761u; break;
		case 't': t = atof(optarg); break;
		case 'i': step = atof(optarg); break;
		default:
			fprintf(stderr, "usage: journal-gen -n RECORDS -w "
			    "WORKFLOWS -b BRANCHES [-s SEED] [-t T0] [-i STEP]\n");
			return 2;
		}
	}
	for (i = 0; i < n; t += step) {
		uint64_t x = next();
		bool pair = x % 10 < 2 && i + 1 < n;

		snprintf(wf, sizeof(wf), "workflow-%03" PRIu64,
		    (x >> 8) % (uint64_t)workflows);
		snprintf(br, sizeof(br), "branch-%02" PRIu64,
		    (x >> 24) % (uint64_t)branches);
		run_init(&r, pair ? RUN_EVENT_START : RUN_EVENT_RUN);
		r.workflow = wf;
		r.time = t;
		run_add_label(&r, "branch", br, NULL);
		run_add_label(&r, "repo", "promrun", NULL);
		if (pair) {
			snprintf(id, sizeof(id), "%ld", i);
			r.run_id = id;
			if (emit(&r, &payload, &frame) != 0)
				return 1;
			r.event = RUN_EVENT_FINISH;
			r.time = t + (double)((x >> 40) % 3600 + 1);
			i++;
		} else {
			r.has_duration = true;
			r.duration = (double)((x >> 40) % 3600 + 1);
		}
		r.status = (x >> 32) % 10 == 0 ? RUN_FAILURE : RUN_SUCCESS;
		if (emit(&r, &payload, &frame) != 0)
			return 1;
		i++;
	}
	buf_free(&payload);
	buf_free(&frame);
	return fflush(stdout) == 0 ? 0 : 1;
}
