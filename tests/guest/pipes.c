// SPDX-License-Identifier: GPL-2.0
/*
 * Pipes and FIFOs are saved and created again (after zdtm's pipe00-03,
 * fifo and fifo_ro).  The restored task holds both ends of a pipe with
 * 40 KiB of unread data, the write end dup'd, the read end non-blocking;
 * a pipe of 128 KiB holding 70,000 bytes; the read end of a pipe whose
 * writer is gone (data, then end of file); the write end of one whose
 * reader is gone (EPIPE); and both ends of a named FIFO, reopened by
 * path.  It reads exactly the old data, then writes and reads new data.
 * Checked for a task that checkpoints itself and for one stopped and
 * checkpointed from outside, restarted by a caller with other files on
 * those descriptors; and in the task that checkpointed itself, which
 * must find its data still there.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define IMG "/tmp/pipes.img"
#define FIFO_PATH "/tmp/pipes.fifo"

enum { READ_FD = 5, WRITE_FD, DUP_FD, BIG_READ_FD, BIG_WRITE_FD,
       WIDOW_READ_FD, ORPHAN_WRITE_FD, FIFO_READ_FD, FIFO_WRITE_FD,
       LAST_FD = FIFO_WRITE_FD };

#define DATA_LEN (40 * 1024)
#define BIG_SIZE (128 * 1024)
#define BIG_LEN 70000
#define MAX_LEN BIG_LEN

static unsigned char pattern(int seed, int i)
{
	return (unsigned char)(i * 7 + seed + i / 251);
}

static int write_pattern(int fd, int seed, int len)
{
	unsigned char buf[4096];

	for (int done = 0; done < len;) {
		int n = len - done < (int)sizeof(buf) ? len - done : (int)sizeof(buf);

		for (int i = 0; i < n; i++)
			buf[i] = pattern(seed, done + i);
		if (write(fd, buf, n) != n)
			return -1;
		done += n;
	}
	return 0;
}

/*
 * A pipe, its ends moved above the descriptors place_fd() fills, so that
 * placing one end never closes another.
 */
static int high_pipe(int p[2])
{
	if (pipe(p))
		return -1;
	for (int i = 0; i < 2; i++) {
		int fd = fcntl(p[i], F_DUPFD, 64);

		if (fd < 0)
			return -1;
		close(p[i]);
		p[i] = fd;
	}
	return 0;
}

static int open_pipes(void)
{
	int a[2], b[2], c[2], d[2];

	/* Writing to a pipe without reader must give EPIPE, not kill. */
	signal(SIGPIPE, SIG_IGN);
	if (high_pipe(a) || high_pipe(b) || high_pipe(c) || high_pipe(d))
		return 1;
	if (place_fd(a[0], READ_FD) || place_fd(a[1], WRITE_FD) ||
	    dup2(WRITE_FD, DUP_FD) != DUP_FD ||
	    fcntl(READ_FD, F_SETFL, O_NONBLOCK) ||
	    write_pattern(WRITE_FD, 1, DATA_LEN))
		return 2;
	if (place_fd(b[0], BIG_READ_FD) || place_fd(b[1], BIG_WRITE_FD) ||
	    fcntl(BIG_WRITE_FD, F_SETPIPE_SZ, BIG_SIZE) != BIG_SIZE ||
	    write_pattern(BIG_WRITE_FD, 2, BIG_LEN))
		return 3;
	/* The writer writes and goes; the reader will see the end. */
	if (write(c[1], "tail", 4) != 4 || close(c[1]) ||
	    place_fd(c[0], WIDOW_READ_FD))
		return 4;
	if (close(d[0]) || place_fd(d[1], ORPHAN_WRITE_FD))
		return 5;
	unlink(FIFO_PATH);
	if (mkfifo(FIFO_PATH, 0600) ||
	    place_fd(open(FIFO_PATH, O_RDONLY | O_NONBLOCK), FIFO_READ_FD) ||
	    place_fd(open(FIFO_PATH, O_WRONLY), FIFO_WRITE_FD) ||
	    write(FIFO_WRITE_FD, "fifo data", 9) != 9)
		return 6;
	return 0;
}

/* Reads exactly @len bytes of pattern @seed from @fd. */
static int read_pattern(int fd, int seed, int len)
{
	static unsigned char buf[MAX_LEN + 1];
	int got = 0, n;

	while (got < len && (n = read(fd, buf + got, len + 1 - got)) > 0)
		got += n;
	if (got != len) {
		printf("    # fd %d: %d bytes, not %d\n", fd, got, len);
		return -1;
	}
	for (int i = 0; i < len; i++)
		if (buf[i] != pattern(seed, i))
			return -1;
	return 0;
}

/* In the restored task (or the saver): 0, or the first failed check. */
static int check_pipes(void)
{
	struct stat by_fd, by_path;
	char buf[16];

	if (!(fcntl(READ_FD, F_GETFL) & O_NONBLOCK) ||
	    (fcntl(WRITE_FD, F_GETFL) & O_NONBLOCK) ||
	    (fcntl(BIG_READ_FD, F_GETFL) & O_ACCMODE) != O_RDONLY ||
	    (fcntl(BIG_WRITE_FD, F_GETFL) & O_ACCMODE) != O_WRONLY)
		return 1;
	if (fcntl(READ_FD, F_GETPIPE_SZ) != 65536 ||
	    fcntl(BIG_WRITE_FD, F_GETPIPE_SZ) != BIG_SIZE)
		return 2;
	/* Exactly the data, then nothing (the writer is still there). */
	if (read_pattern(READ_FD, 1, DATA_LEN))
		return 3;
	if (read(READ_FD, buf, 1) != -1 || errno != EAGAIN)
		return 4;
	/* The dup'd write end writes into the same pipe. */
	if (write(DUP_FD, "new", 3) != 3 || read(READ_FD, buf, 8) != 3 ||
	    memcmp(buf, "new", 3))
		return 5;
	if (read_pattern(BIG_READ_FD, 2, BIG_LEN))
		return 6;
	if (read(WIDOW_READ_FD, buf, 8) != 4 || memcmp(buf, "tail", 4) ||
	    read(WIDOW_READ_FD, buf, 8) != 0)
		return 7;
	if (write(ORPHAN_WRITE_FD, "x", 1) != -1 || errno != EPIPE)
		return 8;
	if (read(FIFO_READ_FD, buf, 16) != 9 || memcmp(buf, "fifo data", 9) ||
	    write(FIFO_WRITE_FD, "more", 4) != 4 ||
	    read(FIFO_READ_FD, buf, 16) != 4 || memcmp(buf, "more", 4))
		return 9;
	if (fstat(FIFO_READ_FD, &by_fd) || stat(FIFO_PATH, &by_path) ||
	    by_fd.st_ino != by_path.st_ino || !S_ISFIFO(by_fd.st_mode))
		return 10;
	return 0;
}

/* A caller with other files on the same descriptors. */
static int caller_files(void)
{
	return root_at_fds(READ_FD, LAST_FD);
}

/* The saver reads its pipes after checkpoint: nothing was consumed. */
static void data_kept_case(void)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(IMG, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || open_pipes())
			_exit(101);
		if (sys_checkpoint(0, fd, 0) <= 0)
			_exit(100);
		_exit(check_pipes());
	}
	waitpid(pid, &status, 0);
	ktap_case(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "checkpoint_leaves_pipe_data_in_place",
		  "saver status %#x (exit code = first failed check, 100: checkpoint failed)",
		  status);
}

int main(void)
{
	ktap_begin("pipes", 3);
	fflush(stdout);
	self_and_external_cases(IMG, "self_pipes_and_fifo_restored",
				"external_pipes_and_fifo_restored",
				open_pipes, check_pipes, caller_files);
	data_kept_case();
	unlink(FIFO_PATH);
	return ktap_end();
}
