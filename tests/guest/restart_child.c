// SPDX-License-Identifier: GPL-2.0
/*
 * restart(0, fd, RESTART_CHILD): the caller stays as it is, and the saved
 * process comes back as a new child of the caller, with its saved pid,
 * which restart returns (as "criu restore" with a detached tree does).
 * Checked with the image of a task that checkpointed itself and with
 * that of a task stopped and checkpointed from outside: the caller gets
 * a pid, waits for it, and the restored child's checks all hold (its
 * memory, its descriptors, its parent being the caller, its pid being
 * the saved one); the caller's own descriptors and working directory are
 * untouched.  While the saved process still lives, its pid is taken:
 * EBUSY, and with RESTART_NEW_PID a restored child with a new pid.  A
 * restart that fails before its point of no return (a file of the image
 * is gone) returns its errno and leaves no child behind; so does an
 * image that is not one (EINVAL).  The child takes the saved task's
 * place in its session: one that led its process group leads a new
 * group in the caller's session, one that led its session leads a new
 * session, and any other stays in the caller's group.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define IMG "/tmp/restart-child.img"
#define KEPT "/tmp/restart-child.kept"
#define GO "/tmp/restart-child.go"

enum { KEPT_FD = 5 };

/* The caller of restart, as the restored task should see its parent. */
static volatile pid_t expected_parent;
/* The pid of the saved task. */
static volatile pid_t saved_pid;
/* Exit code of a restored child whose only difference is a new pid. */
#define ONLY_PID_DIFFERS 4
static char pattern[8192];

/* The saved task's place: a member of its parent's group, or a leader. */
enum role { MEMBER, GROUP_LEADER, SESSION_LEADER };
static volatile enum role role;

static int set_up(void)
{
	if ((role == GROUP_LEADER && setpgid(0, 0)) ||
	    (role == SESSION_LEADER && setsid() < 0))
		return -1;
	saved_pid = getpid();
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (char)(i * 13 + 5);
	return place_fd(open(KEPT, O_RDWR | O_CREAT | O_TRUNC, 0644),
			KEPT_FD) ||
	       write(KEPT_FD, "kept", 4) != 4;
}

/* In the restored child: 0, or the number of the first failed check. */
static int check(void)
{
	char buf[4];

	for (size_t i = 0; i < sizeof(pattern); i++)
		if (pattern[i] != (char)(i * 13 + 5))
			return 1;
	if (pread(KEPT_FD, buf, 4, 0) != 4 || memcmp(buf, "kept", 4) ||
	    lseek(KEPT_FD, 0, SEEK_CUR) != 4)
		return 2;
	if (getppid() != expected_parent)
		return 3;
	switch (role) {
	case MEMBER:
		if (getpgrp() != getpgid(getppid()))
			return 5;
		break;
	case GROUP_LEADER:
		if (getpgrp() != getpid() || getsid(0) != getsid(getppid()))
			return 6;
		break;
	case SESSION_LEADER:
		if (getsid(0) != getpid() || getpgrp() != getpid())
			return 7;
		break;
	}
	if (getpid() != saved_pid)
		return ONLY_PID_DIFFERS;
	return 0;
}

/*
 * Starts a target that runs set_up() and then waits until the file GO
 * exists (the restored copy has the same pid, so it cannot tell itself
 * from the original by its pid), then exits with what check() returns;
 * stops it, checkpoints it to IMG and returns its pid, leaving it
 * stopped, or -1.
 */
static pid_t stopped_checkpointed_target(void)
{
	int fd, ready;
	pid_t pid;

	unlink(GO);
	pid = fork_when_ready(&ready);
	if (pid == 0) {
		if (set_up())
			_exit(101);
		signal_ready(ready);
		while (access(GO, F_OK))
			usleep(1000);
		_exit(check());
	}
	if (pid < 0)
		return -1;
	stop_target(pid);
	fd = open(IMG, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (sys_checkpoint(pid, fd, 0) <= 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(fd);
	return pid;
}

/*
 * Restarts @img as a child of this process, which checks that its own
 * descriptor 5 (a file of its own) and working directory are unchanged;
 * returns the child's wait status, or -1 with the errno of restart(2).
 */
static int restart_as_child(const char *img, unsigned long flags, long *ret)
{
	char cwd_before[256], cwd_after[256];
	struct stat st;
	int status = -1, fd = open(img, O_RDONLY);
	int mine = open("/", O_RDONLY | O_DIRECTORY);

	if (fd < 0 || place_fd(mine, KEPT_FD) ||
	    !getcwd(cwd_before, sizeof(cwd_before)))
		return -1;
	*ret = sys_restart(0, fd, RESTART_CHILD | flags);
	if (*ret > 0 && waitpid(*ret, &status, 0) != *ret)
		status = -1;
	/* Our own descriptor 5 and working directory: not the image's. */
	if (!getcwd(cwd_after, sizeof(cwd_after)) ||
	    strcmp(cwd_before, cwd_after) ||
	    fstat(KEPT_FD, &st) || !S_ISDIR(st.st_mode))
		status = -2;
	close(fd);
	close(KEPT_FD);
	return status;
}

static void image_case(const char *name, int external)
{
	long ret = -1, ckpt = 0;
	int status = -1, saver = 0;

	expected_parent = getpid();
	if (external) {
		ckpt = stopped_checkpointed_target();
		if (ckpt > 0) {
			kill(ckpt, SIGKILL);
			waitpid(ckpt, NULL, 0);
			close(open(GO, O_WRONLY | O_CREAT, 0644));
		}
	} else {
		saver = make_self_image(IMG, set_up, check);
	}
	if ((external && ckpt > 0) || (!external && saver == 0))
		status = restart_as_child(IMG, 0, &ret);
	ktap_case(ret > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  name,
		  "checkpoint %ld, saver status %#x; restart returned %ld (errno %d); child status %#x (exit code = first failed check, -2: caller changed)",
		  ckpt, saver, ret, ret > 0 ? 0 : errno, status);
}

/*
 * The saved task still lives: restart as its child is EBUSY, and with
 * RESTART_NEW_PID gives a child whose only difference is its pid.
 */
static void taken_pid_case(void)
{
	long busy = 0, ret = -1;
	int status = -1, busy_err = 0;
	pid_t target;

	expected_parent = getpid();
	target = stopped_checkpointed_target();
	if (target > 0) {
		close(open(GO, O_WRONLY | O_CREAT, 0644));
		restart_as_child(IMG, 0, &ret);
		busy_err = errno;
		busy = ret;
		status = restart_as_child(IMG, RESTART_NEW_PID, &ret);
		kill(target, SIGKILL);
		waitpid(target, NULL, 0);
	}
	ktap_case(busy == -1 && busy_err == EBUSY && ret > 0 && ret != target &&
			  WIFEXITED(status) &&
			  WEXITSTATUS(status) == ONLY_PID_DIFFERS,
		  "taken_pid_ebusy_new_pid_flag_gives_new_pid",
		  "restart with the pid taken returned %ld (errno %d); with RESTART_NEW_PID %ld (target %d), child status %#x",
		  busy, busy_err, ret, target, status);
}

/* Restart fails with @want before its point of no return; no child. */
static void failure_case(const char *name, int want)
{
	long ret = -1;
	int status, err, left;

	status = restart_as_child(IMG, 0, &ret);
	err = errno;
	left = waitpid(-1, NULL, WNOHANG);
	ktap_case(ret == -1 && err == want && status == -1 && left == -1 &&
			  errno == ECHILD,
		  name,
		  "restart returned %ld (errno %d, want %d); caller status %d; waitpid found %d",
		  ret, err, want, status, left);
}

int main(void)
{
	int fd;

	ktap_begin("restart_child", 7);
	fflush(stdout);
	image_case("self_image_restored_as_child", 0);
	image_case("external_image_restored_as_child", 1);
	role = GROUP_LEADER;
	image_case("external_group_leader_leads_a_new_group", 1);
	role = SESSION_LEADER;
	image_case("self_session_leader_leads_a_new_session", 0);
	role = MEMBER;
	taken_pid_case();
	/* The file the image has open is gone. */
	expected_parent = getpid();
	if (make_self_image(IMG, set_up, check) == 0)
		unlink(KEPT);
	failure_case("missing_file_enoent_no_child_left", ENOENT);
	/* Not an image. */
	fd = open(IMG, O_WRONLY | O_TRUNC);
	if (fd >= 0)
		write(fd, "not an image, but long enough to be read..", 42);
	close(fd);
	failure_case("not_an_image_einval_no_child_left", EINVAL);
	return ktap_end();
}
