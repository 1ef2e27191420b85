// SPDX-License-Identifier: GPL-2.0
/*
 * Waiting on processes across a restart of their tree (zdtm's wait00,
 * pdeath_sig and child_subreaper):
 *
 * - wait00: a parent blocked in waitpid() for its live child at the
 *   checkpoint gets the child's exit status after the restart;
 * - pdeath_sig: a child with a parent-death signal gets it when its
 *   restored parent exits;
 * - child_subreaper: a restored child subreaper gets its orphaned
 *   grandchild when the grandchild's parent exits, and reaps it.
 *
 * Each tree is stopped, checkpointed, killed and restarted as a child of
 * this process (RESTART_CHILD, so with the saved pids); its root exits 0
 * when what it saw after the restart is right.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define IMG "tree.img"
#define GO "go"
#define PDEATH_SEEN "pdeath-seen"
#define PIDS "pids"

/* Appends this process's pid to PIDS, for the test to stop it. */
static void record(void)
{
	char line[16];
	int n = snprintf(line, sizeof(line), "%d\n", getpid());
	int fd = open(PIDS, O_WRONLY | O_APPEND | O_CREAT, 0644);

	if (fd < 0 || write(fd, line, n) != n)
		_exit(102);
	close(fd);
}

/* Waits until the file GO exists. */
static void wait_go(void)
{
	while (access(GO, F_OK))
		usleep(2000);
}

/* Waits until @pid is stopped (or, with @sleeping, asleep); 0 or -1. */
static int wait_state(pid_t pid, int sleeping)
{
	for (int tries = 0; tries < 5000; tries++) {
		char s = proc_state(pid);

		if (s == 'T' || s == 't' || (sleeping && s == 'S'))
			return 0;
		usleep(1000);
	}
	return -1;
}

/* wait00: blocked in waitpid() for the child, which exits 7 after GO. */
static void wait_root(void)
{
	int status;
	pid_t child;

	record();
	child = fork();
	if (child == 0) {
		record();
		wait_go();
		_exit(7);
	}
	if (waitpid(child, &status, 0) != child)
		_exit(2);
	_exit(WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : 3);
}

static void on_pdeath(int sig)
{
	(void)sig;
	close(open(PDEATH_SEEN, O_WRONLY | O_CREAT, 0644));
	_exit(0);
}

/* pdeath_sig: the child gets SIGUSR1 when this root exits after GO. */
static void pdeath_root(void)
{
	int ready;
	pid_t child;

	record();
	child = fork_when_ready(&ready);
	if (child == 0) {
		signal(SIGUSR1, on_pdeath);
		if (prctl(PR_SET_PDEATHSIG, SIGUSR1))
			_exit(2);
		record();
		signal_ready(ready);
		for (;;)
			pause();
	}
	wait_go();
	_exit(child > 0 ? 0 : 4);
}

/*
 * child_subreaper: the middle process exits after GO; its child, the
 * grandchild, comes to this root, which reaps it (it exits 5).
 */
static void subreaper_root(void)
{
	int status;
	pid_t middle, got;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		_exit(2);
	record();
	middle = fork();
	if (middle == 0) {
		record();
		if (fork() == 0) {
			pid_t parent = getppid();

			record();
			/* After GO, until its parent is gone. */
			while (access(GO, F_OK) || getppid() == parent)
				usleep(2000);
			_exit(5);
		}
		wait_go();
		_exit(0);
	}
	for (int found = 0; found < 2;) {
		got = wait(&status);
		if (got < 0)
			_exit(3);
		found++;
		if (got != middle && !(WIFEXITED(status) &&
				       WEXITSTATUS(status) == 5))
			_exit(4);
	}
	_exit(0);
}

/*
 * Runs @root in a child leading its own group, stops the tree (which
 * @count processes make), checkpoints and kills it, restarts it as a
 * child and reports its status as the case @name.
 */
static void tree_case(const char *name, void (*root)(void), int count)
{
	int status = -1, fd;
	long ckpt = -1, ret = -1;
	pid_t pid, pids[4] = { 0 };

	unlink(GO);
	unlink(PDEATH_SEEN);
	unlink(PIDS);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		root();
	}
	/* The processes of the tree, once they all said who they are. */
	for (int tries = 0; tries < 2000; tries++) {
		FILE *f = fopen(PIDS, "r");
		int n = 0;

		while (f && n < count && fscanf(f, "%d", &pids[n]) == 1)
			n++;
		if (f)
			fclose(f);
		if (n == count)
			break;
		usleep(2000);
	}
	for (int i = 0; i < count; i++) {
		wait_state(pids[i], 1);
		kill(pids[i], SIGSTOP);
		wait_state(pids[i], 0);
	}
	fd = open(IMG, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ckpt = sys_checkpoint(pid, fd, 0);
	close(fd);
	kill(-pid, SIGKILL);
	while (wait(NULL) > 0)
		;
	if (ckpt > 0) {
		fd = open(IMG, O_RDONLY);
		ret = sys_restart(0, fd, RESTART_CHILD);
		close(fd);
		close(open(GO, O_WRONLY | O_CREAT, 0644));
		if (ret > 0)
			waitpid(ret, &status, 0);
		/* The rest of the tree, reparented to us. */
		while (wait(NULL) > 0)
			;
	}
	if (root == pdeath_root && status == 0 && access(PDEATH_SEEN, F_OK))
		status = -2;
	ktap_case(ckpt > 0 && ret == pid && WIFEXITED(status) &&
		  !WEXITSTATUS(status), name,
		  "checkpoint %ld (errno %d), restart %ld, root status %#x (-2: no parent-death signal)",
		  ckpt, ckpt > 0 ? 0 : errno, ret, status);
}

int main(void)
{
	ktap_begin("process_tree_wait", 3);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	tree_case("wait_for_live_child_across_restart", wait_root, 2);
	tree_case("parent_death_signal_after_restart", pdeath_root, 2);
	tree_case("child_subreaper_reaps_orphan_after_restart",
		  subreaper_root, 3);
	return ktap_end();
}
