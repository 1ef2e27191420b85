// SPDX-License-Identifier: GPL-2.0
/*
 * test: a program to checkpoint from outside.
 *
 * It closes standard input, output and error (a terminal cannot be saved
 * yet) and writes a greeting and then a counter with floating-point work
 * to an output file, one line per interval, sleeping in between.
 *
 *   test [-o OUTFILE] [-n COUNT] [-i MILLISECONDS] &
 *   kill -STOP $!; ckpt $! > test.img; kill -CONT $!
 *   rstr < test.img
 *
 * Defaults: /tmp/cr-test.out, 1000 lines, 1000 ms.  The floating-point
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
	long count = 1000, interval = 1000;
	struct timespec ts;
	FILE *out;
	double a;
	int opt;

	while ((opt = getopt(argc, argv, "o:n:i:")) != -1) {
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
		default:
			fprintf(stderr, "usage: %s [-o OUTFILE] [-n COUNT] [-i MS]\n",
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
		fprintf(out, "count %ld (%.2f) [%a]\n", i, a, a);
		fflush(out);
	}
	fclose(out);
	return 0;
}
