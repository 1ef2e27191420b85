// SPDX-License-Identifier: GPL-2.0
/*
 * Open files, working directory and umask across checkpoint and restart,
 * and the permission rule of checkpoint.
 *
 * A child opens a data file twice through dup (one shared offset), a
 * directory, moves into a subdirectory with its own umask and checkpoints
 * itself.  Restarted in a child with another cwd, umask and descriptors,
 * it finds exactly its own again.  A mapped or open file missing at restart
 * fails it with ENOENT before the point of no return.
 */
#include "ktap.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define DIR_ "/tmp/files"
#define IMG DIR_ "/files.img"
#define DATA DIR_ "/data"
#define SUB DIR_ "/sub"
#define RESTARTED 42

enum { CHK_DUP_OFFSET, CHK_SHARED, CHK_DIR, CHK_CWD, CHK_UMASK, CHK_TABLE,
       CHK_COUNT };
static const char *const names[CHK_COUNT] = {
	"dup_offset_restored", "dup_fds_share_offset",
	"directory_fd_lists_directory", "cwd_restored", "umask_restored",
	"fd_table_is_exactly_the_saved_one",
};

/* After the restart: checks; bit n set when check n fails. */
static int verify(void)
{
	char cwd[256], buf[4];
	struct dirent *de;
	int fail = 0, found = 0;
	DIR *d;

	if (lseek(5, 0, SEEK_CUR) != 10)
		fail |= 1 << CHK_DUP_OFFSET;
	if (read(5, buf, 3) != 3 || lseek(6, 0, SEEK_CUR) != 13 ||
	    memcmp(buf, "klm", 3))
		fail |= 1 << CHK_SHARED;
	d = fdopendir(dup(7));
	while (d && (de = readdir(d)))
		found += !strcmp(de->d_name, "sub") || !strcmp(de->d_name, "data");
	if (found != 2)
		fail |= 1 << CHK_DIR;
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, SUB))
		fail |= 1 << CHK_CWD;
	if (umask(0) != 027)
		fail |= 1 << CHK_UMASK;
	/* Descriptor 9 was the restarting process's only; 8 was closed. */
	if (fcntl(9, F_GETFD) != -1 || fcntl(8, F_GETFD) != -1 ||
	    !(fcntl(6, F_GETFD) & FD_CLOEXEC) || (fcntl(5, F_GETFD) & FD_CLOEXEC))
		fail |= 1 << CHK_TABLE;
	return fail;
}

static int checkpointed_child(void)
{
	int fd = open(DATA, O_RDWR);
	int img;
	long ret;

	if (fd < 0 || dup2(fd, 5) != 5 || fcntl(5, F_DUPFD_CLOEXEC, 6) != 6)
		return 100;
	close(fd);
	if (lseek(5, 10, SEEK_SET) != 10)
		return 101;
	fd = open(DIR_, O_RDONLY | O_DIRECTORY);
	if (fd < 0 || dup2(fd, 7) != 7)
		return 102;
	close(fd);
	if (chdir(SUB))
		return 103;
	umask(027);
	img = open(IMG, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ret = sys_checkpoint(0, img, 0);
	if (ret == 0)
		_exit(RESTARTED + verify());
	return ret > 0 ? 0 : 104;
}

/* Restarts IMG in a child with other state; returns the wait status. */
static int restart_child(int *err)
{
	int p[2], status = -1;
	pid_t pid;

	*err = 0;
	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd = open(IMG, O_RDONLY);

		close(p[0]);
		/* Other state than the saved task's. */
		if (chdir("/") || dup2(fd, 9) != 9)
			_exit(1);
		umask(0);
		sys_restart(0, fd, 0);
		if (write(p[1], &errno, sizeof(errno)) < 0)
			_exit(2);
		_exit(3);
	}
	close(p[1]);
	if (read(p[0], err, sizeof(*err)) != sizeof(*err))
		*err = 0;
	close(p[0]);
	waitpid(pid, &status, 0);
	return status;
}

static void test_permission(void)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int fd;
		pid_t own;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		/* setuid made us undumpable, as exec would undo: ptrace (and so
		 * checkpoint) refuses undumpable tasks to their own user. */
		prctl(PR_SET_DUMPABLE, 1);
		fd = open("/tmp/nobody.img", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		/* Root's init: not ours to read. */
		if (sys_checkpoint(1, fd, 0) != -1 || errno != EPERM)
			_exit(11);
		/* Our own stopped child: fine. */
		own = fork();
		if (own == 0) {
			raise(SIGSTOP);
			_exit(0);
		}
		waitpid(own, NULL, WUNTRACED);
		if (sys_checkpoint(own, fd, 0) <= 0)
			_exit(12);
		kill(own, SIGKILL);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	ktap_case(status == 0, "unprivileged_user_checkpoints_own_not_root",
		  "child status %#x (10 setuid, 11 root allowed, 12 own refused)",
		  status);
}

int main(void)
{
	int status = -1, err;
	pid_t pid;

	ktap_begin("files_restart", CHK_COUNT + 4);
	fflush(stdout);
	mkdir(DIR_, 0755);
	mkdir(SUB, 0755);
	pid = open(DATA, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (pid < 0 || write(pid, "abcdefghijklmnopqrstuvwxyz", 26) != 26)
		return 1;
	close(pid);

	pid = fork();
	if (pid == 0)
		_exit(checkpointed_child());
	waitpid(pid, &status, 0);
	ktap_case(status == 0, "self_checkpoint_with_files", "status %#x",
		  status);

	status = restart_child(&err);
	for (int c = 0; c < CHK_COUNT; c++) {
		int code = WIFEXITED(status) ? WEXITSTATUS(status) - RESTARTED : -1;

		ktap_case(code >= 0 && !(code & (1 << c)), names[c],
			  "restarted child status %#x, restart errno %d", status,
			  err);
	}

	/* The open file is gone: ENOENT, and the caller runs on. */
	rename(DATA, DATA ".away");
	status = restart_child(&err);
	rename(DATA ".away", DATA);
	ktap_case(err == ENOENT && WIFEXITED(status) && WEXITSTATUS(status) == 3,
		  "missing_file_enoent_caller_intact", "errno %d, status %#x",
		  err, status);
	/* So is the working directory. */
	rename(SUB, SUB ".away");
	status = restart_child(&err);
	rename(SUB ".away", SUB);
	ktap_case(err == ENOENT && WIFEXITED(status) && WEXITSTATUS(status) == 3,
		  "missing_cwd_enoent_caller_intact", "errno %d, status %#x",
		  err, status);
	test_permission();
	return ktap_end();
}
