// SPDX-License-Identifier: GPL-2.0
/*
 * An fd table and a working directory shared between two processes that
 * are not threads of one another (clone(CLONE_FILES | CLONE_FS)), across
 * a restart of their tree.
 *
 * The root P creates S with CLONE_FILES | CLONE_FS and F with a plain
 * fork, then is stopped with them, checkpointed, killed, and restarted
 * as a child with the saved pids and in place.  Restored, S opens a file
 * at descriptor 77, closes descriptor 40 and changes directory; P must
 * then see descriptor 77, no descriptor 40 and the new directory, and F,
 * whose table and directory are its own, none of it.  P exits with the
 * number of the first failed check (0: all passed).
 *
 * A process whose table, or whose working directory, it shares with a
 * process outside the tree (its parent) is refused with EOPNOTSUPP and
 * an error record.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"
#include "image.h"

#include <sched.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/syscall.h>

#define IMG "/tmp/shared_tables.img"
#define READY "/tmp/shared_tables.ready"
#define GO "/tmp/shared_tables.go"
#define P_DONE "/tmp/shared_tables.p-done"
#define DIR_BEFORE "/tmp"
#define DIR_AFTER "/tmp/shared_tables.dir"
#define DATA "/tmp/shared_tables.data"
#define KEPT_FD 40
#define NEW_FD 77

static void wait_for(const char *path)
{
	while (access(path, F_OK))
		usleep(2000);
}

static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static int in_dir(const char *dir)
{
	char cwd[256];

	return getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, dir);
}

/* S: changes the shared table and directory once restored. */
static int sharer(void)
{
	int fd;

	wait_for(GO);
	fd = open(DATA, O_RDONLY);
	if (fd < 0 || dup2(fd, NEW_FD) != NEW_FD)
		return 1;
	close(fd);
	if (!fd_open(KEPT_FD) || close(KEPT_FD) || chdir(DIR_AFTER))
		return 2;
	return 0;
}

/* F: its own table and directory see none of it. */
static int forked(void)
{
	wait_for(P_DONE);
	/* Taken, so that the next restart's F waits for its own P. */
	unlink(P_DONE);
	if (fd_open(NEW_FD))
		return 1;
	if (!fd_open(KEPT_FD))
		return 2;
	if (!in_dir(DIR_BEFORE))
		return 3;
	return 0;
}

/* Waits for @pid; 0 if it exited 0, else @failed plus its code. */
static int child_result(pid_t pid, int failed)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return failed;
	return WEXITSTATUS(status) ? failed + WEXITSTATUS(status) : 0;
}

static int root(void)
{
	int r;
	pid_t s, f;

	if (chdir(DIR_BEFORE) ||
	    dup2(open(DATA, O_RDWR | O_CREAT, 0644), KEPT_FD) != KEPT_FD)
		return 30;
	s = syscall(SYS_clone, CLONE_FILES | CLONE_FS | SIGCHLD, NULL, NULL,
		    NULL, 0);
	if (s == 0)
		_exit(sharer());
	f = fork();
	if (f == 0)
		_exit(forked());
	if (s < 0 || f < 0)
		return 31;
	close(open(READY, O_WRONLY | O_CREAT, 0644));
	wait_for(GO);
	r = child_result(s, 10);
	if (r)
		return r;
	if (!fd_open(NEW_FD))
		return 1;
	if (fd_open(KEPT_FD))
		return 2;
	if (!in_dir(DIR_AFTER))
		return 3;
	close(open(P_DONE, O_WRONLY | O_CREAT, 0644));
	return child_result(f, 20);
}

/* Whether every live thread of @pid's process group is stopped. */
static int group_stopped(pid_t pids[], int n)
{
	for (int i = 0; i < n; i++) {
		char st = proc_state(pids[i]);

		if (st != 'T' && st != 't')
			return 0;
	}
	return 1;
}

/* Starts the tree, stops it and checkpoints it; P's pid, or -1. */
static pid_t make_image(long *r)
{
	pid_t p, pids[3];
	char path[64];
	FILE *f;
	int n = 0;

	*r = -1;
	unlink(READY);
	unlink(GO);
	unlink(P_DONE);
	p = fork();
	if (p == 0) {
		setpgid(0, 0);
		_exit(root());
	}
	for (int tries = 0; tries < 5000 && access(READY, F_OK); tries++)
		usleep(1000);
	if (access(READY, F_OK))
		return -1;
	/* P and its two children, as /proc lists them. */
	pids[n++] = p;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", p, p);
	f = fopen(path, "r");
	while (f && n < 3 && fscanf(f, "%d", &pids[n]) == 1)
		n++;
	if (f)
		fclose(f);
	kill(-p, SIGSTOP);
	for (int tries = 0; tries < 5000 && !group_stopped(pids, n); tries++)
		usleep(1000);
	if (n == 3 && group_stopped(pids, n))
		*r = checkpoint_to(p, IMG);
	kill(-p, SIGKILL);
	/* S and F too (the test is their subreaper): their pids are free. */
	reap_children();
	return p;
}

/* A child sharing the test's @flags is refused, naming @word. */
static void refused(unsigned long flags, const char *word, const char *name)
{
	long r = -1;
	int err = 0, rec_err = 0;
	const char *msg = "";
	struct image img;
	pid_t x = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);

	if (x == 0) {
		for (;;)
			pause();
	}
	if (x > 0 && !stop_pid(x)) {
		r = checkpoint_to(x, IMG);
		err = errno;
		if (!image_load(&img, IMG))
			msg = image_error_message(&img, &rec_err);
	}
	ktap_case(r == -1 && err == EOPNOTSUPP && rec_err == EOPNOTSUPP &&
			  strstr(msg, word),
		  name, "checkpoint %ld errno %d, error record %d '%s'", r, err,
		  rec_err, msg);
	if (x > 0) {
		kill(x, SIGKILL);
		waitpid(x, NULL, 0);
	}
}

int main(void)
{
	long r;
	pid_t p;

	ktap_begin("shared_tables", 5);
	fflush(stdout);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	mkdir(DIR_AFTER, 0755);
	p = make_image(&r);
	ktap_case(r > 0, "shared_table_and_fs_checkpointed",
		  "checkpoint %ld errno %d", r, r > 0 ? 0 : errno);
	restart_tree_both_ways(IMG, r > 0 ? p : -1, GO,
			       "shared_table_and_fs_restarted_as_child",
			       "shared_table_and_fs_restarted_in_place");
	refused(CLONE_FILES, "descriptor table",
		"table_shared_outside_tree_refused");
	refused(CLONE_FS, "working directory",
		"fs_shared_outside_tree_refused");
	return ktap_end();
}
