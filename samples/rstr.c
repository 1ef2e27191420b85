// SPDX-License-Identifier: GPL-2.0
/*
 * rstr: restart from the checkpoint image on standard input.
 *
 *   rstr < IMAGE       this process becomes the saved one
 *   rstr -w < IMAGE    the saved process comes back as a child of this
 *                      one (RESTART_CHILD), with its saved pid; rstr
 *                      prints the pid on standard error, waits for it and
 *                      exits as it did (128 + the signal if a signal
 *                      killed it)
 *   rstr -w -n < IMAGE the same with a new pid (RESTART_NEW_PID)
 *
 * Without -w, restart(2) does not return here on success: the process
 * continues as the saved one, with exactly its saved descriptors.  An
 * image without a task is only validated: restart returns 0.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/checkpoint.h>

int main(int argc, char **argv)
{
	int as_child = argc >= 2 && !strcmp(argv[1], "-w");
	int new_pid = argc == 3 && !strcmp(argv[2], "-n");
	long ret;
	int status;

	if (argc != 1 + as_child + new_pid) {
		fprintf(stderr, "usage: rstr [-w [-n]] < IMAGE\n");
		return 2;
	}
	ret = syscall(__NR_restart, 0, STDIN_FILENO,
		      (as_child ? RESTART_CHILD : 0) |
		      (new_pid ? RESTART_NEW_PID : 0));
	if (ret < 0) {
		fprintf(stderr, "rstr: restart: %s\n", strerror(errno));
		return 1;
	}
	if (!as_child) {
		printf("rstr: restart returned %ld: the image holds no task\n",
		       ret);
		return 0;
	}
	fprintf(stderr, "rstr: restored as pid %ld\n", ret);
	if (waitpid(ret, &status, 0) != ret) {
		fprintf(stderr, "rstr: waitpid: %s\n", strerror(errno));
		return 1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) :
				   128 + WTERMSIG(status);
}
