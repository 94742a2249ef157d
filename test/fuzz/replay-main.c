/*
 * replay-main.c - run a fuzz target over saved inputs without libFuzzer, so
 * "make check" replays every corpus under gcc (and under ASan and UBSan
 * with SANITIZE=1).  A broken property aborts inside the target.
 *
 * usage: fuzz-replay-TARGET FILE...
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	unsigned char *data;
	long size;
	FILE *fp;
	int i;

	for (i = 1; i < argc; i++) {
		if ((fp = fopen(argv[i], "rb")) == NULL ||
		    fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 ||
		    fseek(fp, 0, SEEK_SET) != 0) {
			perror(argv[i]);
			return 2;
		}
		data = malloc((size_t)size + 1);
		if (data == NULL ||
		    fread(data, 1, (size_t)size, fp) != (size_t)size) {
			perror(argv[i]);
			return 2;
		}
		fclose(fp);
		LLVMFuzzerTestOneInput(data, (size_t)size);
		free(data);
	}
	printf("%d inputs replayed\n", argc - 1);
	return 0;
}
