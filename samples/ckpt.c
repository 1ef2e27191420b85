// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt: checkpoint another process to standard output.
 *
 *   kill -STOP PID; ckpt PID > IMAGE
 *
 * The process must be stopped (SIGSTOP, a ptrace stop) or frozen, and the
 * caller must be allowed to ptrace it.  It stays stopped; SIGCONT lets it
 * run on.  Prints the checkpoint id on standard error.
 *
 * kill(1) returns before the SIGSTOP it sent has stopped the process;
 * ckpt waits (up to 5 s) until a stop it finds pending has happened, so
 * that "kill -STOP PID; ckpt PID" does not race with it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/checkpoint.h>

enum stop_state { RUNNING, STOPPING, STOPPED };

/* Where process @pid is in stopping, from /proc/PID/status. */
static enum stop_state stop_state(long pid)
{
	unsigned long long mask, stop = 1ULL << (SIGSTOP - 1);
	enum stop_state state = RUNNING;
	char path[64], line[256], c;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (!f)
		return RUNNING;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "State: %c", &c) == 1 && (c == 'T' || c == 't'))
			state = STOPPED;
		if ((sscanf(line, "SigPnd: %llx", &mask) == 1 ||
		     sscanf(line, "ShdPnd: %llx", &mask) == 1) &&
		    (mask & stop) && state != STOPPED)
			state = STOPPING;
	}
	fclose(f);
	return state;
}

/*
 * Waits while a SIGSTOP is pending for @pid or, once one was, until the
 * process is stopped; returns at once for a process that is stopped, or
 * that nothing is stopping (frozen, or not stopped at all: checkpoint
 * then says EBUSY).
 */
static void wait_for_stop(long pid)
{
	int was_stopping = 0;

	for (int i = 0; i < 500; i++) {
		enum stop_state state = stop_state(pid);

		if (state == STOPPED || (state == RUNNING && !was_stopping))
			return;
		was_stopping = 1;
		usleep(10000);
	}
}

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
	wait_for_stop(pid);
	ret = syscall(__NR_checkpoint, pid, STDOUT_FILENO, 0);
	if (ret < 0) {
		fprintf(stderr, "ckpt: checkpoint %ld: %s\n", pid, strerror(errno));
		return 1;
	}
	fprintf(stderr, "ckpt: checkpoint id %ld\n", ret);
	return 0;
}
