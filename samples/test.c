// SPDX-License-Identifier: GPL-2.0
/*
 * test: a program to checkpoint from outside.
 *
 * It closes standard input, output and error (a terminal cannot be saved
 * yet) and writes a greeting and then a counter with floating-point work
 * to an output file, one line per interval, sleeping in between.
 *
 *   test [-o OUTFILE] [-n COUNT] [-i MILLISECONDS] [-m KIB] &
 *   kill -STOP $!; ckpt $! > test.img; kill -CONT $!
 *   rstr < test.img
 *
 * -m touches that much more memory (so that an image is larger than a
 * pipe's buffer), and each line then also carries its checksum.
 *
 * Defaults: /tmp/cr-test.out, 1000 lines, 1000 ms, no extra memory.  The floating-point
 * values start from a fixed number (not from the pid, unlike the seed
 * sample), so two runs print the same lines and can be compared.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
	const char *outfile = "/tmp/cr-test.out";
	long count = 1000, interval = 1000, extra_kib = 0;
	unsigned char *extra = NULL;
	struct timespec ts;
	FILE *out;
	double a;
	int opt;

	while ((opt = getopt(argc, argv, "o:n:i:m:")) != -1) {
		switch (opt) {
		case 'o':
			outfile = optarg;
			break;
		case 'n':
			count = atol(optarg);
			break;
		case 'i':
			interval = atol(optarg);
			break;
		case 'm':
			extra_kib = atol(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-o OUTFILE] [-n COUNT] [-i MS] [-m KIB]\n",
				argv[0]);
			return 1;
		}
	}
	close(STDIN_FILENO);
	close(STDOUT_FILENO);
	close(STDERR_FILENO);
	out = fopen(outfile, "w");
	if (!out)
		return 1;

	if (extra_kib > 0) {
		extra = malloc(extra_kib * 1024);
		if (!extra)
			return 1;
		for (long i = 0; i < extra_kib * 1024; i++)
			extra[i] = (unsigned char)(i * 7 + 3);
	}
	a = sqrt(2.53 * (4242 / 1.21));
	fprintf(out, "hello, world (%.2f)!\n", a);
	fflush(out);
	for (long i = 0; i < count; i++) {
		/* One nanosleep per line: a stop usually lands inside it. */
		ts.tv_sec = interval / 1000;
		ts.tv_nsec = interval % 1000 * 1000000L;
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
		a = sqrt(a * a + 2 * a * (i / 10.0) + i * i / 100.0);
		fprintf(out, "count %ld (%.2f) [%a]", i, a, a);
		if (extra) {
			unsigned long sum = 0;

			for (long j = 0; j < extra_kib * 1024; j++)
				sum = sum * 31 + extra[j];
			fprintf(out, " memory %lx", sum);
		}
		fprintf(out, "\n");
		fflush(out);
	}
	fclose(out);
	return 0;
}
