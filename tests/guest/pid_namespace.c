// SPDX-License-Identifier: GPL-2.0
/*
 * A tree restarted in a new pid namespace keeps its pids (zdtm's pid00,
 * as `unshare --pid --fork rstr` does).
 *
 * The tree: R leads its group; its child X leads its own, with a child Y
 * in it; Z, another child of R, exited 5 and was not waited for.  It is
 * checkpointed in this namespace, killed, and restarted twice by the
 * first process (pid 1) of a new pid namespace, where every saved pid is
 * free:
 * - as its child (RESTART_CHILD): R, X, Y and Z get their saved pids
 *   there;
 * - in place: the caller stays pid 1 and becomes R; X, Y and Z get their
 *   saved pids.
 * Once restored, each process checks its pid, its parent's and its
 * group; R reaps Z with its status and X, which reaps Y; each exits with
 * the number of its first failed check (0: all passed).
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <sched.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define IMG "pidns.img"
#define GO "go"
#define PIDS "pids"
#define IN_PLACE "in-place"

static pid_t saved_r, saved_x, saved_y, saved_z;

/* Appends this process's pid to PIDS, for the test to stop it. */
static void record(void)
{
	FILE *f = fopen(PIDS, "a");

	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f))
		_exit(100);
}

static void wait_go(void)
{
	while (access(GO, F_OK))
		usleep(2000);
}

/* The exit code of the child @pid: its status's, or @failed. */
static int child_code(pid_t pid, int failed)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return failed;
	return WEXITSTATUS(status);
}

/* The pid R has once restored: its saved one, or the caller's, 1. */
static pid_t restored_r(void)
{
	return access(IN_PLACE, F_OK) ? saved_r : 1;
}

static void y_main(void)
{
	record();
	wait_go();
	if (getpid() != saved_y)
		_exit(30);
	if (getppid() != saved_x || getpgrp() != saved_x)
		_exit(31);
	_exit(0);
}

static void x_main(void)
{
	pid_t y;
	int code;

	setpgid(0, 0);
	saved_x = getpid();
	y = fork();
	if (y == 0) {
		saved_y = getpid();
		y_main();
	}
	if (y < 0)
		_exit(20);
	record();
	wait_go();
	if (getpid() != saved_x)
		_exit(21);
	if (getppid() != restored_r() || getpgrp() != saved_x)
		_exit(22);
	code = child_code(y, 23);
	_exit(code);
}

static void r_main(int ready)
{
	int status, code, lines = 0;
	char line[16];
	FILE *f;
	pid_t x;

	saved_r = getpid();
	saved_z = fork();
	if (saved_z == 0)
		_exit(5);
	while (saved_z > 0 && proc_state(saved_z) != 'Z')
		usleep(1000);
	x = fork();
	if (x == 0) {
		close(ready);
		x_main();
	}
	if (x < 0 || saved_z < 0)
		_exit(2);
	/* Until X and Y are in PIDS. */
	for (int tries = 0; tries < 5000 && lines < 2; tries++) {
		f = fopen(PIDS, "r");
		for (lines = 0; f && fgets(line, sizeof(line), f);)
			lines++;
		if (f)
			fclose(f);
		usleep(1000);
	}
	record();
	signal_ready(ready);
	wait_go();
	if (getpid() != restored_r())
		_exit(10);
	if (waitpid(saved_z, &status, 0) != saved_z || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 5)
		_exit(11);
	code = child_code(x, 12);
	_exit(code);
}

/* Makes the tree and checkpoints it to IMG; R's pid or -1. */
static pid_t make_image(void)
{
	pid_t r, pid;
	int ready, err = 0, stopped = 0;
	long ret = -1;
	FILE *f;

	unlink(GO);
	unlink(PIDS);
	r = fork_when_ready(&ready);
	if (r == 0) {
		setpgid(0, 0);
		r_main(ready);
	}
	f = fopen(PIDS, "r");
	while (f && fscanf(f, "%d", &pid) == 1)
		stopped += !stop_pid(pid);
	if (f)
		fclose(f);
	if (r > 0 && stopped == 3) {
		ret = checkpoint_to(r, IMG);
		err = errno;
	}
	ktap_case(ret > 0, "tree_checkpointed",
		  "root %d, %d of 3 stopped, checkpoint %ld (errno %d)", r,
		  stopped, ret, err);
	if (r > 0)
		kill(-r, SIGKILL);
	/* X and Y, in X's group, once orphaned to us. */
	f = fopen(PIDS, "r");
	while (f && fscanf(f, "%d", &pid) == 1)
		kill(pid, SIGKILL);
	if (f)
		fclose(f);
	while (waitpid(-1, NULL, __WALL) > 0)
		;
	return ret > 0 ? r : -1;
}

/*
 * In a child: the first process of a new pid namespace restarts IMG, as
 * a child or in place.  Returns the wait status of that child of ours:
 * it exits with what the restored R exits with, 150 + errno if restart
 * failed.
 */
static int restart_in_new_namespace(int in_place)
{
	int status = -1;
	pid_t c = fork();

	if (c == 0) {
		pid_t first;

		if (unshare(CLONE_NEWPID))
			_exit(140);
		first = fork();
		if (first == 0) {
			int fd = open(IMG, O_RDONLY);
			long ret;

			if (getpid() != 1)
				_exit(141);
			ret = sys_restart(0, fd, in_place ? 0 : RESTART_CHILD);
			if (ret < 0)
				_exit(150 + errno);
			_exit(child_code(ret, 142));
		}
		_exit(first > 0 ? child_code(first, 143) : 144);
	}
	if (c > 0 && waitpid(c, &status, 0) != c)
		status = -1;
	return status;
}

int main(void)
{
	int status;
	pid_t r;

	ktap_begin("pid_namespace", 3);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	r = make_image();
	/* The restored processes check themselves at once. */
	close(open(GO, O_WRONLY | O_CREAT, 0644));

	unlink(IN_PLACE);
	status = r > 0 ? restart_in_new_namespace(0) : -1;
	ktap_case(WIFEXITED(status) && !WEXITSTATUS(status),
		  "tree_restarted_with_saved_pids_in_new_pid_namespace",
		  "status %#x (exit code: first failed check; 150 + errno: restart failed)",
		  status);

	close(open(IN_PLACE, O_WRONLY | O_CREAT, 0644));
	status = r > 0 ? restart_in_new_namespace(1) : -1;
	ktap_case(WIFEXITED(status) && !WEXITSTATUS(status),
		  "tree_restarted_in_place_as_pid_1_of_new_namespace",
		  "status %#x", status);
	while (waitpid(-1, NULL, __WALL) > 0)
		;
	return ktap_end();
}
