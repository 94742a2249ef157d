/*
 * fuzz-config - libFuzzer target: promrun.ini through inih and our keys.
 *
 * The input is a configuration file.  It loads or is refused with a
 * message, never crashes; a configuration that loads holds only values the
 * programs accept (increasing finite buckets, valid label names, a mode
 * within 0777, a known preset, no empty file name) and came from a file
 * with no NUL byte (a NUL would cut a value short).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "journal/run.h"
#include "metrics/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
	if (!ok)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct perr e;
	char path[64];
	size_t i;
	int fd, rc;

	fd = memfd_create("config", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	setenv("HOME", "/nonexistent", 1);
	perr_clear(&e);
	rc = config_load(&c, path, &e);
	check(rc == 0 || (rc == PERR_INVALID && e.msg[0] != '\0' &&
	    strchr(e.msg, '\n') == NULL));
	if (rc == 0) {
		check(c.journal.path != NULL && c.journal.path[0] != '\0');
		for (i = 0; i < c.render.nbuckets; i++)
			check(isfinite(c.render.buckets[i]) &&
			    (i == 0 || c.render.buckets[i] >
			    c.render.buckets[i - 1]));
		for (i = 0; i < c.journal.nlabels; i++)
			check(run_label_name_check(c.journal.labels[i], NULL) == 0);
		check(c.render.mode <= 0777 && c.render.max_series >= 1);
		check(c.render.preset == NULL ||
		    schema_preset_find(c.render.preset, NULL) != NULL);
		check(memchr(data, '\0', size) == NULL);
		check(c.render.checkpoint == NULL ||
		    c.render.checkpoint[0] != '\0');
	}
	config_free(&c);
	close(fd);
	return 0;
}
