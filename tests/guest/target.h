/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest test helpers for external checkpoints: start a target that checks
 * its state once restarted, stop it, checkpoint it to an image and kill
 * it, restart the image in a new child.
 */
#ifndef CKPT_GUEST_TARGET_H
#define CKPT_GUEST_TARGET_H

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "ktap.h"

/*
 * Reads the stat file @path (/proc/PID/stat, /proc/PID/task/TID/stat)
 * into @buf of @size bytes.  Returns its fields after the name, from
 * the space before the state letter on, or NULL; the name goes to @comm
 * unless it is NULL (names are at most 15 bytes).
 */
static inline const char *read_stat(const char *path, char *buf, size_t size,
				    char comm[32])
{
	char *open_paren, *close_paren;
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = 0;
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren - open_paren > 31 ||
	    close_paren[1] != ' ')
		return NULL;
	if (comm) {
		memcpy(comm, open_paren + 1, close_paren - open_paren - 1);
		comm[close_paren - open_paren - 1] = 0;
	}
	return close_paren + 1;
}

/*
 * The state letter of @pid in /proc ('R', 'S', 'T'...), or 0: for a
 * process that is not the caller's child, which waitpid() cannot watch.
 */
static inline char proc_state(pid_t pid)
{
	char path[64], buf[512];
	const char *fields;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fields = read_stat(path, buf, sizeof(buf), NULL);
	return fields ? fields[1] : 0;
}

/*
 * Stops @pid (not necessarily a child: waitpid() cannot watch it) and
 * waits until /proc shows it stopped; 0, or -1 after 5 s.
 */
static inline int stop_pid(pid_t pid)
{
	kill(pid, SIGSTOP);
	for (int tries = 0; tries < 5000; tries++) {
		char s = proc_state(pid);

		if (s == 'T' || s == 't')
			return 0;
		usleep(1000);
	}
	return -1;
}

/* Checkpoints @pid to @img: what checkpoint(2) returned, with its errno. */
static inline long checkpoint_to(pid_t pid, const char *img)
{
	int fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	long r = sys_checkpoint(pid, fd, 0);
	int err = errno;

	close(fd);
	errno = err;
	return r;
}

/* Stops @pid and waits until it is stopped. */
static inline void stop_target(pid_t pid)
{
	int status;

	kill(pid, SIGSTOP);
	waitpid(pid, &status, WUNTRACED);
}

/*
 * Checkpoints the stopped @pid to @img, then kills it (and its process
 * group, if it leads one) and reaps it.  Returns what checkpoint(2)
 * returned, with its errno.
 */
static inline long checkpoint_and_kill(pid_t pid, const char *img)
{
	int status, err, fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	long r = sys_checkpoint(pid, fd, 0);

	err = errno;
	close(fd);
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	errno = err;
	return r;
}

/*
 * Forks a child, in a process group of its own, that restarts @img; it
 * exits 150 if restart returns.
 */
static inline pid_t restart_in_child(const char *img)
{
	pid_t pid = fork();

	if (pid == 0) {
		setpgid(0, 0);
		sys_restart(0, open(img, O_RDONLY), 0);
		_exit(150);
	}
	return pid;
}

/*
 * Restarts @img as a new child of the caller (RESTART_CHILD | @flags) and
 * waits for it; if @go is not NULL, that file is removed before and
 * created once restart has returned, for a restored tree that waits for
 * it.  Returns the child's wait status, or -1; *@ret is what restart
 * returned, and errno its errno.
 */
static inline int restart_child_and_wait(const char *img, unsigned long flags,
					 const char *go, long *ret)
{
	int status = -1, fd = open(img, O_RDONLY), err;

	if (go)
		unlink(go);
	*ret = sys_restart(0, fd, RESTART_CHILD | flags);
	err = errno;
	close(fd);
	if (go)
		close(open(go, O_WRONLY | O_CREAT, 0644));
	if (*ret > 0 && waitpid(*ret, &status, 0) != *ret)
		status = -1;
	errno = err;
	return status;
}

/* Reaps every child left, waiting for those still running. */
static inline void reap_children(void)
{
	while (waitpid(-1, NULL, __WALL) > 0)
		;
}

/*
 * Restarts the image @img of a tree that runs to its end once restored,
 * whose root (saved with pid @root, or -1 if there is no image) exits 0
 * when all went well, else with the number of its first failed check:
 * as a child of the caller with the saved pids (test case @as_child),
 * then in place in a new child (test case @in_place).  If @go is not
 * NULL, the restored tree waits for that file: it is created once the
 * restart as a child has returned, and before the restart in place.
 */
static inline void restart_tree_both_ways(const char *img, pid_t root,
					  const char *go,
					  const char *as_child,
					  const char *in_place)
{
	int status = -1;
	long ret = -1;

	if (root > 0)
		status = restart_child_and_wait(img, 0, go, &ret);
	ktap_case(ret == root && WIFEXITED(status) && !WEXITSTATUS(status),
		  as_child,
		  "restart %ld (errno %d), root status %#x (exit code: first failed check)",
		  ret, ret > 0 ? 0 : errno, status);
	reap_children();
	status = -1;
	if (root > 0) {
		if (go)
			close(open(go, O_WRONLY | O_CREAT, 0644));
		waitpid(restart_in_child(img), &status, 0);
	}
	ktap_case(WIFEXITED(status) && !WEXITSTATUS(status), in_place,
		  "root status %#x (exit code: first failed check; 150: restart failed)",
		  status);
	reap_children();
}

/*
 * Restarts @img in a child (restart_in_child()) and waits for it at most
 * @limit_ms, killing its process group if it runs longer.  Returns its
 * wait status; *@waited_ms is how long it ran, @limit_ms or more if it
 * was killed.
 */
static inline int restart_and_wait(const char *img, long long limit_ms,
				   long long *waited_ms)
{
	struct timespec start, now;
	int status = -1;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &start);
	pid = restart_in_child(img);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		*waited_ms = (now.tv_sec - start.tv_sec) * 1000LL +
			     (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waitpid(pid, &status, WNOHANG) != 0)
			return status;
		if (*waited_ms >= limit_ms)
			break;
		usleep(20000);
	}
	kill(-pid, SIGKILL);
	waitpid(pid, &status, 0);
	return status;
}

/*
 * Reads from @fd until @buf holds @want (within 5 s); 0 if it does, with
 * what was read in @buf.
 */
static inline int read_until(int fd, char *buf, size_t size, const char *want)
{
	size_t len = 0;

	buf[0] = 0;
	while (!strstr(buf, want) && len + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 5000) != 1)
			return -1;
		n = read(fd, buf + len, size - 1 - len);
		if (n <= 0)
			return -1;
		len += n;
		buf[len] = 0;
	}
	return strstr(buf, want) ? 0 : -1;
}

/*
 * Forks a child that says when it is ready by closing a pipe, so that it
 * holds no pipe afterwards (when it is checkpointed, say).  In the child:
 * returns 0, with *@ready the end to close with signal_ready().  In the
 * caller: returns the child's pid once it is ready (or has exited), or -1.
 */
static inline pid_t fork_when_ready(int *ready)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p))
		return -1;
	/*
	 * Above the descriptors tests place at fixed numbers, which would
	 * otherwise close an end that pipe() gave a low number, and say
	 * "ready" too early.
	 */
	for (int i = 0; i < 2; i++) {
		int high = fcntl(p[i], F_DUPFD, 100);

		close(p[i]);
		p[i] = high;
	}
	if (p[0] < 0 || p[1] < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		*ready = p[1];
		return 0;
	}
	close(p[1]);
	while (pid > 0 && read(p[0], &c, 1) > 0)
		;
	close(p[0]);
	return pid;
}

/* In a child of fork_when_ready(): it is ready. */
static inline void signal_ready(int ready)
{
	close(ready);
}

/*
 * Forks a target that runs @setup (if any; a non-zero result makes it
 * exit 101), then sleeps until its pid changes, which happens only when
 * restart turned another process into it, and exits with what @check
 * returns.  Returns its pid, once it is ready.
 */
static inline pid_t start_restartable_target(int (*setup)(void),
					     int (*check)(void))
{
	int ready;
	pid_t pid = fork_when_ready(&ready);

	if (pid == 0) {
		pid_t me = getpid();

		if (setup && setup())
			_exit(101);
		signal_ready(ready);
		while (getpid() == me)
			usleep(1000);
		_exit(check());
	}
	return pid;
}

/*
 * Forks a child that opens @img (mode 0666: users restarting it reopen it
 * among the saved descriptors), runs @setup (if any; a non-zero result
 * makes it exit 101) and checkpoints itself; its restored copy exits with
 * what @check returns.  Returns the saver's wait status, 0 once the image
 * is made.
 */
static inline int make_self_image(const char *img, int (*setup)(void),
				  int (*check)(void))
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		long r;

		if (fd < 0 || fchmod(fd, 0666) || (setup && setup()))
			_exit(101);
		r = sys_checkpoint(0, fd, 0);
		_exit(r > 0 ? 0 : r == 0 ? check() : 100);
	}
	waitpid(pid, &status, 0);
	return status;
}

/*
 * Starts a target (start_restartable_target()), stops it, checkpoints it
 * from outside to @img and kills it.  Returns what checkpoint(2)
 * returned, or -1 if the target did not start.
 */
static inline long checkpoint_external_target(const char *img,
					      int (*setup)(void),
					      int (*check)(void))
{
	pid_t pid = start_restartable_target(setup, check);

	if (pid <= 0)
		return -1;
	stop_target(pid);
	return checkpoint_and_kill(pid, img);
}

/*
 * The same, and makes the image readable by every user.  Returns 0 once
 * the image is made, -1 otherwise.
 */
static inline int make_external_image(const char *img, int (*setup)(void),
				      int (*check)(void))
{
	return checkpoint_external_target(img, setup, check) > 0 &&
	       !chmod(img, 0644) ? 0 : -1;
}

/*
 * make_self_image(), then restarts @img in another child, whose restored
 * copy exits with what @check returns.  Returns the restored task's wait
 * status; the saver's is in *@saver_status (0 when it checkpointed).
 */
static inline int self_checkpoint_and_restart(const char *img,
					      int (*setup)(void),
					      int (*check)(void),
					      int *saver_status)
{
	int status = -1;

	*saver_status = make_self_image(img, setup, check);
	waitpid(restart_in_child(img), &status, 0);
	return status;
}

/*
 * The same with a target checkpointed from outside
 * (checkpoint_external_target()).  Returns the restored task's wait
 * status, or -1 if the checkpoint failed; what checkpoint(2) returned is
 * in *@ckpt.
 */
static inline int external_checkpoint_and_restart(const char *img,
						  int (*setup)(void),
						  int (*check)(void),
						  long *ckpt)
{
	int status = -1;

	*ckpt = checkpoint_external_target(img, setup, check);
	if (*ckpt > 0)
		waitpid(restart_in_child(img), &status, 0);
	return status;
}

/*
 * Points stdout and stderr at "output" in the working directory, a file
 * every user may write: for a task saved to be restarted by another user,
 * who could not reopen the console (mode 0600).  Returns 0 or -1.
 */
static inline int output_for_every_user(void)
{
	int fd = open("output", O_WRONLY | O_CREAT | O_APPEND, 0666);
	int r = fd < 0 || fchmod(fd, 0666) || dup2(fd, 1) != 1 ||
		dup2(fd, 2) != 2;

	if (fd > 2)
		close(fd);
	return r ? -1 : 0;
}

/*
 * Moves the open descriptor @fd to @at (closing what @at held). Returns 0,
 * or -1 if @fd is not open.
 */
static inline int place_fd(int fd, int at)
{
	if (fd < 0)
		return -1;
	if (fd != at) {
		if (dup2(fd, at) != at)
			return -1;
		close(fd);
	}
	return 0;
}

/*
 * Opens the root directory at descriptors @first to @last: a restart
 * caller with other files where the image has its own.
 */
static inline int root_at_fds(int first, int last)
{
	for (int fd = first; fd <= last; fd++)
		if (place_fd(open("/", O_RDONLY | O_DIRECTORY), fd))
			return -1;
	return 0;
}

/* Exit code of a restart caller whose restart failed as expected. */
#define REFUSED_AS_EXPECTED 77

/*
 * Restarts @img in a child, in a process group of its own, that first
 * runs @before (NULL: nothing; non-zero: exit 151).  With @want_errno,
 * restart must fail with it and leave the caller's uid as it was: then
 * the child exits REFUSED_AS_EXPECTED, which no restored task's check
 * returns; otherwise (restart returned) 150.  Returns the wait status of
 * the restored task or of the caller.
 */
static inline int restart_after(const char *img, int (*before)(void),
				int want_errno)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		uid_t uid;
		int err;

		setpgid(0, 0);
		if (before && before())
			_exit(151);
		uid = getuid();
		sys_restart(0, open(img, O_RDONLY), 0);
		err = errno;
		_exit(want_errno && err == want_errno && getuid() == uid ?
			      REFUSED_AS_EXPECTED : 150);
	}
	waitpid(pid, &status, 0);
	return status;
}

/*
 * Whether @status is the outcome restart_after() was asked for: the
 * restored task's checks all held (exit 0), or with @want_errno the
 * caller was refused as expected.
 */
static inline int restart_outcome_ok(int status, int want_errno)
{
	return WIFEXITED(status) &&
	       WEXITSTATUS(status) == (want_errno ? REFUSED_AS_EXPECTED : 0);
}

/*
 * The two KTAP cases of one kind of state: a task that runs @setup and
 * checkpoints itself (@self_name), and one stopped and checkpointed from
 * outside (@external_name); each image is restarted by a caller that
 * first runs @before (NULL: nothing), and the restored copy exits with
 * what @check returns (0: every check held).
 */
static inline void self_and_external_cases(const char *img,
					   const char *self_name,
					   const char *external_name,
					   int (*setup)(void), int (*check)(void),
					   int (*before)(void))
{
	int saver = make_self_image(img, setup, check);
	int status = saver ? -1 : restart_after(img, before, 0);
	long r;
	int err;

	ktap_case(!saver && restart_outcome_ok(status, 0), self_name,
		  "saver status %#x; restarted task status %#x (exit code = first failed check, 150: restart returned)",
		  saver, status);
	r = checkpoint_external_target(img, setup, check);
	err = r > 0 ? 0 : errno;
	status = r > 0 ? restart_after(img, before, 0) : -1;
	ktap_case(r > 0 && restart_outcome_ok(status, 0), external_name,
		  "checkpoint %ld (errno %d); restarted task status %#x (exit code = first failed check, 150: restart returned)",
		  r, err, status);
}

#endif
