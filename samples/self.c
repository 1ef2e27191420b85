// SPDX-License-Identifier: GPL-2.0
/*
 * self: a program that checkpoints itself.
 *
 * It writes a greeting and then a counter with some floating-point work
 * to an output file, one line per interval, and at one iteration
 * checkpoints itself to its standard output.  After a restart from that
 * image the same process continues counting: checkpoint() returns 0 in the
 * restarted process.
 *
 *   self [-o OUTFILE] [-n COUNT] [-c AT] [-i MILLISECONDS] > self.img
 *
 * Defaults: /tmp/cr-test.out, 10 lines, checkpoint after line 2, 1000 ms.
 * stdin and stderr are closed (a terminal cannot be saved yet); the
 * output file and stdout (the image) are saved and reopened at restart.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/checkpoint.h>

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int main(int argc, char *argv[])
{
	const char *outfile = "/tmp/cr-test.out";
	long count = 10, at = 2, interval = 1000;
	FILE *out;
	double a;
	long i, ret;
	int opt;

	while ((opt = getopt(argc, argv, "o:n:c:i:")) != -1) {
		switch (opt) {
		case 'o':
			outfile = optarg;
			break;
		case 'n':
			count = atol(optarg);
			break;
		case 'c':
			at = atol(optarg);
			break;
		case 'i':
			interval = atol(optarg);
			break;
		default:
			fprintf(stderr,
				"usage: %s [-o OUTFILE] [-n COUNT] [-c AT] [-i MS] > IMAGE\n",
				argv[0]);
			return 1;
		}
	}

	close(STDIN_FILENO);
	out = fopen(outfile, "w");
	if (!out) {
		perror(outfile);
		return 1;
	}
	close(STDERR_FILENO);

	a = sqrt(2.53 * (getpid() / 1.21));
	fprintf(out, "hello, world (%.2f)!\n", a);
	fflush(out);

	for (i = 0; i < count; i++) {
		sleep_ms(interval);
		/* Floating-point work whose exact bits we can compare: a += i/10. */
		a = sqrt(a * a + 2 * a * (i / 10.0) + i * i / 100.0);
		fprintf(out, "count %ld (%.2f) [%a]\n", i, a, a);
		fflush(out);

		if (i == at) {
			ret = syscall(__NR_checkpoint, 0, STDOUT_FILENO, 0);
			if (ret < 0) {
				fprintf(out, "checkpoint: %s\n", strerror(errno));
				fclose(out);
				return 2;
			}
			/* 0 after a restart, the checkpoint id otherwise. */
			fprintf(out, "checkpoint returned %ld\n", ret);
			fflush(out);
		}
	}
	fclose(out);
	return 0;
}
