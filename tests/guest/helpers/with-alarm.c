// SPDX-License-Identifier: GPL-2.0
/*
 * with-alarm SECONDS COMMAND [ARG]...: runs COMMAND with an alarm armed
 * (alarm(2) survives execve) and with SIGINT and SIGQUIT at their
 * defaults, so that a shell started in the background can trap them
 * (a background job of a non-interactive shell inherits them ignored, and
 * a shell cannot trap what was ignored when it started).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s SECONDS COMMAND [ARG]...\n", argv[0]);
		return 2;
	}
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	alarm(atoi(argv[1]));
	execvp(argv[2], argv + 2);
	perror(argv[2]);
	return 127;
}
