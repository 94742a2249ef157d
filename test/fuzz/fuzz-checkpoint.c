/*
 * fuzz-checkpoint - libFuzzer target: the checkpoint loader.
 *
 * The input is a checkpoint file.  It must load or be refused, never crash;
 * one that loads must save and load back to the same state, written byte
 * for byte the same.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "metrics/aggregate.h"
#include "common/buf.h"
#include "metrics/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const double bounds[] = {1, 5, 60, 3600};
static const struct agg_config cfg = {bounds, 4, NULL, 0, 3600, 100000};

static void
check(int ok)
{
	if (!ok)
		abort();
}

static int
collect(void *ctx, const char *payload, size_t len)
{
	struct buf *b = ctx;

	return buf_add(b, payload, len) || buf_addc(b, '\n');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char saved[64];
	struct buf settings = BUF_INIT(4096), s1 = BUF_INIT((size_t)1 << 30);
	struct buf s2 = BUF_INIT((size_t)1 << 30);
	struct checkpoint_id id, id2;
	char path[64];
	struct agg *a, *b;
	int fd, rc;

	if (saved[0] == '\0')
		snprintf(saved, sizeof(saved), "/dev/shm/fuzz-checkpoint.%d",
		    (int)getpid());
	fd = memfd_create("checkpoint", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	check(agg_config_fingerprint(&cfg, &settings) == 0);
	check(agg_new(&a, &cfg, NULL) == 0);
	rc = checkpoint_load(path, buf_str(&settings), a, &id, NULL);
	check(rc == 0 || rc == PERR_CORRUPT);
	if (rc == 0) {
		check(checkpoint_save(saved, &id, buf_str(&settings), a,
		    NULL) == 0);
		check(agg_new(&b, &cfg, NULL) == 0);
		check(checkpoint_load(saved, buf_str(&settings), b, &id2,
		    NULL) == 0);
		check(id.dev == id2.dev && id.ino == id2.ino &&
		    id.offset == id2.offset && id.tail_crc == id2.tail_crc);
		check(agg_write_state(a, collect, &s1, NULL) == 0);
		check(agg_write_state(b, collect, &s2, NULL) == 0);
		check(s1.len == s2.len &&
		    memcmp(buf_str(&s1), buf_str(&s2), s1.len) == 0);
		agg_free(b);
		unlink(saved);
	}
	close(fd);
	agg_free(a);
	buf_free(&settings);
	buf_free(&s1);
	buf_free(&s2);
	return 0;
}
