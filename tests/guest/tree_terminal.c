// SPDX-License-Identifier: GPL-2.0
/*
 * A pseudo-terminal pair split between a parent and its child comes back
 * whole (a terminal emulator, or `script`, with the shell it runs).
 *
 * R opens a pair's master and forks S, which leads a new session with the
 * slave as its controlling terminal and its standard input and output,
 * turns echo off, writes "hello" that R does not read yet, and forks a
 * job J, which has the terminal as its own controlling terminal.  The tree
 * is checkpointed, killed, and restarted as a child with the saved pids
 * and in place.  Then S checks that the slave is its controlling terminal
 * with its group in the foreground and echo still off, and answers each
 * line it reads; J opens /dev/tty, which is the terminal of its session; R reads "hello" (written before the checkpoint), writes
 * "ping" and reads S's answer.  R, S and J exit with the number of their
 * first failed check (0: all passed), a parent with its child's if it
 * failed.  A slave held by a process outside
 * the tree is refused (checkpoint_unsupported).
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>

#define IMG "tree-tty.img"
#define GO "go"
#define PIDS "pids"

static void wait_go(void)
{
	while (access(GO, F_OK))
		usleep(2000);
}

/* J: a job of S, created with the terminal as its own. */
static void job(void)
{
	int fd;

	wait_go();
	fd = open("/dev/tty", O_RDWR);
	if (fd < 0)
		_exit(40);
	if (tcgetsid(fd) != getsid(0))
		_exit(41);
	_exit(0);
}

/* S: the shell on the slave. */
static void shell(const char *slave_path)
{
	struct termios t;
	char line[64];
	int fd, status;
	pid_t j;
	FILE *f;

	setsid();
	/* Without O_NOCTTY: it becomes the session's terminal. */
	fd = open(slave_path, O_RDWR);
	if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(20);
	if (fd > 2)
		close(fd);
	if (tcgetattr(0, &t))
		_exit(21);
	t.c_lflag &= ~ECHO;
	if (tcsetattr(0, TCSANOW, &t) || write(1, "hello\n", 6) != 6)
		_exit(22);
	j = fork();
	if (j == 0)
		job();
	/* Renamed into place whole: R waits for it to exist. */
	f = fopen(PIDS ".new", "w");
	if (j < 0 || !f || fprintf(f, "%d\n%d\n", getpid(), j) < 0 ||
	    fclose(f) || rename(PIDS ".new", PIDS))
		_exit(23);
	wait_go();
	if (tcgetsid(0) != getpid() || tcgetpgrp(0) != getpgrp())
		_exit(24);
	if (tcgetattr(0, &t) || (t.c_lflag & ECHO))
		_exit(25);
	if (!fgets(line, sizeof(line), stdin) || strcmp(line, "ping\n"))
		_exit(26);
	if (dprintf(1, "pong:%s", line) < 0)
		_exit(27);
	if (waitpid(j, &status, 0) != j || !WIFEXITED(status))
		_exit(28);
	_exit(WEXITSTATUS(status));
}

/* R: the terminal's other side. */
static void root(int ready)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY), status;
	char buf[256], slave_path[64];
	pid_t s;

	if (master < 0 || grantpt(master) || unlockpt(master) ||
	    ptsname_r(master, slave_path, sizeof(slave_path)))
		_exit(2);
	s = fork();
	if (s == 0) {
		close(ready);
		close(master);
		shell(slave_path);
	}
	/* Until S has written, and so is ready. */
	for (int tries = 0; tries < 5000 && access(PIDS, F_OK); tries++)
		usleep(1000);
	if (s < 0 || access(PIDS, F_OK))
		_exit(3);
	signal_ready(ready);
	wait_go();
	if (read_until(master, buf, sizeof(buf), "hello\r\n"))
		_exit(10);
	if (write(master, "ping\n", 5) != 5)
		_exit(11);
	if (read_until(master, buf, sizeof(buf), "pong:ping\r\n"))
		_exit(12);
	if (waitpid(s, &status, 0) != s || !WIFEXITED(status))
		_exit(13);
	_exit(WEXITSTATUS(status));
}

/* Makes the tree and checkpoints it to IMG; R's pid or -1. */
static pid_t make_image(void)
{
	int ready, err = 0;
	pid_t r, s = -1, j = -1;
	long ret = -1;
	FILE *f;

	unlink(GO);
	unlink(PIDS);
	r = fork_when_ready(&ready);
	if (r == 0) {
		setpgid(0, 0);
		root(ready);
	}
	f = fopen(PIDS, "r");
	if (!f || fscanf(f, "%d %d", &s, &j) != 2)
		s = -1;
	if (f)
		fclose(f);
	if (r > 0 && s > 0 && !stop_pid(j) && !stop_pid(s) && !stop_pid(r)) {
		ret = checkpoint_to(r, IMG);
		err = errno;
	}
	ktap_case(ret > 0, "tree_with_terminal_pair_checkpointed",
		  "root %d, shell %d, checkpoint %ld (errno %d)", r, s, ret,
		  err);
	if (r > 0)
		kill(r, SIGKILL);
	if (s > 0) {
		kill(s, SIGKILL);
		kill(j, SIGKILL);
	}
	while (waitpid(-1, NULL, 0) > 0)
		;
	return ret > 0 ? r : -1;
}

int main(void)
{
	pid_t r;

	ktap_begin("tree_terminal", 3);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	r = make_image();
	/* The restored processes go on at once. */
	close(open(GO, O_WRONLY | O_CREAT, 0644));

	restart_tree_both_ways(IMG, r, NULL,
			       "terminal_pair_whole_restarted_as_child",
			       "terminal_pair_whole_restarted_in_place");
	return ktap_end();
}
