/*
 * journal-frame - test helper: frame arbitrary bytes as one journal record,
 * checksum and all, so tests can hand the renderer records no recorder
 * would write (NUL bytes, invalid UTF-8, forged fields, oversize payloads).
 *
 * usage: journal-frame < PAYLOAD >> JOURNAL
 *
 * Reads the payload (any bytes) from standard input and writes
 * "pr1 CRC payload\n" to standard output.  Unlike journal_frame() it does
 * not refuse a payload over the record bound or holding a newline: those
 * are exactly the records the reader must survive.  Exit 0, or 1 on an I/O
 * error.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "common/buf.h"
#include "common/crc32c.h"
#include "journal/journal.h"

int
main(void)
{
	struct buf in = BUF_INIT(64 << 20);
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		if (buf_add(&in, chunk, n) != 0) {
			fprintf(stderr, "journal-frame: out of memory\n");
			return 1;
		}
	if (ferror(stdin) ||
	    printf("%s%08x ", JOURNAL_MAGIC, crc32c(0, in.p ? in.p : "", in.len)) < 0 ||
	    (in.len > 0 && fwrite(in.p, 1, in.len, stdout) != in.len) || putchar('\n') == EOF ||
	    fflush(stdout) != 0) {
		perror("journal-frame");
		return 1;
	}
	buf_free(&in);
	return 0;
}
