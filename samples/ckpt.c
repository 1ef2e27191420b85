// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt: checkpoint another process to standard output.
 *
 *   kill -STOP PID; ckpt PID > IMAGE
 *
 * The process must be stopped (SIGSTOP, a ptrace stop) or frozen, and the
 * caller must be allowed to ptrace it.  It stays stopped; SIGCONT lets it
 * run on.  Prints the checkpoint id on standard error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/checkpoint.h>

int main(int argc, char *argv[])
{
	long pid, ret;
	char *end;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PID > IMAGE\n", argv[0]);
		return 2;
	}
	pid = strtol(argv[1], &end, 10);
	if (*end || pid <= 0) {
		fprintf(stderr, "ckpt: bad pid '%s'\n", argv[1]);
		return 2;
	}
	ret = syscall(__NR_checkpoint, pid, STDOUT_FILENO, 0);
	if (ret < 0) {
		fprintf(stderr, "ckpt: checkpoint %ld: %s\n", pid, strerror(errno));
		return 1;
	}
	fprintf(stderr, "ckpt: checkpoint id %ld\n", ret);
	return 0;
}
