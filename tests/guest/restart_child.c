// SPDX-License-Identifier: GPL-2.0
/*
 * restart(0, fd, RESTART_CHILD): the caller stays as it is, and the saved
 * process comes back as a new child of the caller, whose pid restart
 * returns (as "criu restore" with a detached tree does).  Checked with
 * the image of a task that checkpointed itself and with that of a task
 * stopped and checkpointed from outside: the caller gets a pid, waits
 * for it, and the restored child's checks all hold (its memory, its
 * descriptors, its return value from checkpoint, its parent being the
 * caller); the caller's own descriptors, working directory and memory
 * are untouched.  A restart that fails before its point of no return
 * (a file of the image is gone) returns its errno and leaves no child
 * behind; so does an image that is not one (EINVAL).
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

enum { KEPT_FD = 5 };

/* The caller of checkpoint, as the restored task should see its parent. */
static volatile pid_t expected_parent;
static char pattern[8192];

static int set_up(void)
{
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
	return 0;
}

/*
 * Restarts @img as a child of this process, which checks that its own
 * descriptor 5 (a file of its own) and working directory are unchanged;
 * returns the child's wait status, or -1 with the errno of restart(2).
 */
static int restart_as_child(const char *img, long *ret)
{
	char cwd_before[256], cwd_after[256];
	struct stat st;
	int status = -1, fd = open(img, O_RDONLY);
	int mine = open("/", O_RDONLY | O_DIRECTORY);

	if (fd < 0 || place_fd(mine, KEPT_FD) ||
	    !getcwd(cwd_before, sizeof(cwd_before)))
		return -1;
	*ret = sys_restart(0, fd, RESTART_CHILD);
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
	if (external)
		ckpt = checkpoint_external_target(IMG, set_up, check);
	else
		saver = make_self_image(IMG, set_up, check);
	if ((external && ckpt > 0) || (!external && saver == 0))
		status = restart_as_child(IMG, &ret);
	ktap_case(ret > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  name,
		  "checkpoint %ld, saver status %#x; restart returned %ld (errno %d); child status %#x (exit code = first failed check, -2: caller changed)",
		  ckpt, saver, ret, ret > 0 ? 0 : errno, status);
}

/* Restart fails with @want before its point of no return; no child. */
static void failure_case(const char *name, int want)
{
	long ret = -1;
	int status, err, left;

	status = restart_as_child(IMG, &ret);
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

	ktap_begin("restart_child", 4);
	fflush(stdout);
	image_case("self_image_restored_as_child", 0);
	image_case("external_image_restored_as_child", 1);
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
