// SPDX-License-Identifier: GPL-2.0
/*
 * The edges of checkpoint(2) and restart(2) seen from a real process:
 * argument errors, the image a self checkpoint writes, and the images
 * restart must reject.
 */
#include "ktap.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <signal.h>
#include <sys/wait.h>

#define IMG "/tmp/edges.img"
#define MAX_IMG (64 * 1024 * 1024)
/* Exit status of this program when it runs again from one of its images. */
#define RESTARTED 42

/* Record header and the offsets into an image of today's layout. */
struct rec_hdr {
	uint32_t type;
	uint32_t len;
};

#define REC_HEADER 1
#define REC_TAIL 2
#define HEADER_PAYLOAD_LEN 272
#define TAIL_PAYLOAD_LEN 24
/* Offset of the "release" string inside the header payload. */
#define HEADER_RELEASE_OFF 56
/* Offset of the time stamp's seconds. */
#define HEADER_TIME_OFF 24

static unsigned char *img;
static size_t img_len;

static int open_image(int flags)
{
	return open(IMG, flags | O_CLOEXEC, 0600);
}

/* Writes @len bytes of @buf as the image file. */
static int write_image(const void *buf, size_t len)
{
	int fd = open_image(O_WRONLY | O_CREAT | O_TRUNC);

	if (fd < 0)
		return -1;
	if (write(fd, buf, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* restart(2) from the image file; returns the raw result. */
static long restart_from_file(void)
{
	int fd = open_image(O_RDONLY);
	long ret;
	int err;

	if (fd < 0)
		return -2;
	ret = sys_restart(0, fd, 0);
	err = errno;
	close(fd);
	errno = err;
	return ret;
}

/* restart(2) from @len bytes of @buf. */
static long restart_from(const void *buf, size_t len)
{
	if (write_image(buf, len))
		return -2;
	return restart_from_file();
}

/*
 * Restarts from @len bytes of @buf in a child; returns its wait status.
 * A successful restart turns the child into this program at one of its
 * checkpoints, where it exits with RESTARTED.
 */
static int restart_in_child(const void *buf, size_t len)
{
	int status = -1;
	pid_t pid;

	if (write_image(buf, len))
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd = open_image(O_RDONLY);

		sys_restart(0, fd, 0);
		_exit(1); /* restart returned */
	}
	waitpid(pid, &status, 0);
	return status;
}

#define EXPECT_KILLED(name, status)                                           \
	do {                                                                  \
		int s__ = (status);                                           \
		ktap_case(WIFSIGNALED(s__) && WTERMSIG(s__) == SIGKILL, (name), \
			  "child status %#x, expected death by SIGKILL", s__); \
	} while (0)

static pid_t reaped_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return pid;
}

static void test_arguments(void)
{
	int fd = open_image(O_RDWR | O_CREAT | O_TRUNC);
	int rd = open("/proc/self/comm", O_RDONLY);
	int wr = open("/dev/null", O_WRONLY);

	EXPECT_ERRNO("checkpoint_flags_einval", sys_checkpoint(0, fd, 1),
		     EINVAL);
	EXPECT_ERRNO("checkpoint_high_flag_einval",
		     sys_checkpoint(0, fd, 1UL << 63), EINVAL);
	EXPECT_ERRNO("restart_unknown_flag_einval", sys_restart(0, fd, 4),
		     EINVAL);
	EXPECT_ERRNO("restart_new_pid_without_child_einval",
		     sys_restart(0, fd, RESTART_NEW_PID), EINVAL);
	EXPECT_ERRNO("checkpoint_negative_fd_ebadf", sys_checkpoint(0, -1, 0),
		     EBADF);
	EXPECT_ERRNO("checkpoint_closed_fd_ebadf", sys_checkpoint(0, 999, 0),
		     EBADF);
	EXPECT_ERRNO("restart_closed_fd_ebadf", sys_restart(0, 999, 0), EBADF);
	EXPECT_ERRNO("checkpoint_readonly_fd_ebadf", sys_checkpoint(0, rd, 0),
		     EBADF);
	EXPECT_ERRNO("restart_writeonly_fd_ebadf", sys_restart(0, wr, 0),
		     EBADF);
	EXPECT_ERRNO("checkpoint_unknown_pid_esrch",
		     sys_checkpoint(reaped_pid(), fd, 0), ESRCH);
	EXPECT_ERRNO("checkpoint_negative_pid_esrch",
		     sys_checkpoint(-5, fd, 0), ESRCH);
	EXPECT_ERRNO("restart_crid_einval", sys_restart(7, fd, 0), EINVAL);
	close(fd);
	close(rd);
	close(wr);
}

/* Checkpoints itself into the image file and reads it back into img. */
static long checkpoint_to_file(void)
{
	int fd = open_image(O_RDWR | O_CREAT | O_TRUNC);
	long crid;
	ssize_t n;

	if (fd < 0)
		return -2;
	crid = sys_checkpoint(0, fd, 0);
	if (crid == 0)
		_exit(RESTARTED); /* a restart from this image got here */
	if (crid > 0) {
		n = pread(fd, img, MAX_IMG, 0);
		img_len = n > 0 ? (size_t)n : 0;
	}
	close(fd);
	return crid;
}

static void test_self_image(void)
{
	struct rec_hdr h, t;
	uint64_t magic, tail_magic, tail_len;
	long first, second, third;
	struct utsname uts;

	first = checkpoint_to_file();
	second = checkpoint_to_file();
	third = sys_checkpoint(getpid(), open_image(O_WRONLY), 0);
	if (third == 0)
		_exit(RESTARTED);
	ktap_case(first > 0, "checkpoint_returns_positive_id", "got %ld",
		  first);
	ktap_case(second > first && third > second, "checkpoint_ids_increase",
		  "got %ld then %ld then %ld", first, second, third);

	memcpy(&h, img, sizeof(h));
	memcpy(&magic, img + sizeof(h), sizeof(magic));
	ktap_case(img_len >= sizeof(h) + HEADER_PAYLOAD_LEN &&
			  h.type == REC_HEADER &&
			  h.len == sizeof(h) + HEADER_PAYLOAD_LEN &&
			  magic == CHECKPOINT_IMAGE_MAGIC,
		  "image_starts_with_header_record",
		  "len %zu type %u reclen %u magic %#llx", img_len, h.type,
		  h.len, (unsigned long long)magic);
	uname(&uts);
	ktap_case(img_len >= h.len &&
			  !strcmp((char *)img + sizeof(h) + HEADER_RELEASE_OFF,
				  uts.release),
		  "image_header_names_kernel_release",
		  "release '%.20s', uname says '%s'",
		  (char *)img + sizeof(h) + HEADER_RELEASE_OFF, uts.release);

	memset(&t, 0, sizeof(t));
	tail_magic = tail_len = 0;
	if (img_len >= sizeof(t) + TAIL_PAYLOAD_LEN) {
		size_t at = img_len - sizeof(t) - TAIL_PAYLOAD_LEN;

		memcpy(&t, img + at, sizeof(t));
		memcpy(&tail_magic, img + at + sizeof(t), 8);
		memcpy(&tail_len, img + at + sizeof(t) + 8, 8);
	}
	ktap_case(t.type == REC_TAIL && t.len == sizeof(t) + TAIL_PAYLOAD_LEN &&
			  tail_magic == CHECKPOINT_TAIL_MAGIC &&
			  tail_len == img_len - t.len,
		  "image_ends_with_tail_record",
		  "type %u len %u magic %#llx counted %llu of %zu", t.type,
		  t.len, (unsigned long long)tail_magic,
		  (unsigned long long)tail_len, img_len);

	ktap_case(restart_in_child(img, img_len) == RESTARTED << 8,
		  "restart_resumes_checkpointed_task", "child status %#x",
		  restart_in_child(img, img_len));
}

/*
 * An image written to a pipe (a stream without a position) is the same
 * kind of image, and restart can read one from a pipe.  The checkpointed
 * task is another, stopped, process: a task checkpointing itself into a
 * pipe would have the pipe among its own descriptors, which cannot be
 * saved yet.
 */
static void test_pipe_stream(void)
{
	static unsigned char piped[MAX_IMG];
	size_t got = 0;
	ssize_t n;
	int p[2], status = -1;
	long crid = -1;
	pid_t target, pid;

	target = fork();
	if (target == 0) {
		raise(SIGSTOP);
		/* Here after SIGCONT, or in a process restarted from the image. */
		_exit(RESTARTED);
	}
	waitpid(target, &status, WUNTRACED);
	if (pipe(p)) {
		ktap_case(0, "checkpoint_to_pipe", "pipe");
		ktap_case(0, "restart_from_pipe", "pipe");
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(sys_checkpoint(target, p[1], 0) > 0 ? 0 : errno);
	}
	close(p[1]);
	while ((n = read(p[0], piped + got, sizeof(piped) - got)) > 0)
		got += n;
	close(p[0]);
	waitpid(pid, &status, 0);
	crid = status;
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);
	ktap_case(crid == 0 && got > 1000 && !memcmp(piped, img, 8),
		  "checkpoint_to_pipe", "checkpointer status %#lx, %zu bytes",
		  crid, got);

	if (pipe(p))
		return;
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		sys_restart(0, p[0], 0);
		_exit(1);
	}
	close(p[0]);
	n = write(p[1], piped, got);
	close(p[1]);
	waitpid(pid, &status, 0);
	ktap_case(n == (ssize_t)got && status == RESTARTED << 8,
		  "restart_from_pipe", "wrote %zd, child status %#x", n, status);
}

/*
 * Images rejected before the point of no return fail with their errno and
 * leave the caller running; damage found only after it (a cut or corrupted
 * image, noticed at the tail) kills the caller.
 */
static void test_rejections(void)
{
	unsigned char *bad = malloc(img_len + 4096);
	size_t tail_at = img_len - 32;

	if (!bad)
		return;
	EXPECT_ERRNO("restart_empty_image_einval", restart_from("", 0),
		     EINVAL);
	memcpy(bad, img, img_len);
	bad[sizeof(struct rec_hdr)] ^= 0x01;
	EXPECT_ERRNO("restart_bad_magic_einval", restart_from(bad, img_len),
		     EINVAL);
	memcpy(bad, img, img_len);
	bad[4] = 0xff; /* header record length */
	EXPECT_ERRNO("restart_bad_record_length_einval",
		     restart_from(bad, img_len), EINVAL);
	memset(bad, 0xa5, 4096);
	EXPECT_ERRNO("restart_garbage_einval", restart_from(bad, 4096),
		     EINVAL);
	EXPECT_KILLED("restart_truncated_tail_kills",
		      restart_in_child(img, img_len - 8));
	EXPECT_KILLED("restart_without_tail_kills",
		      restart_in_child(img, tail_at));
	memcpy(bad, img, img_len);
	/* The time stamp: covered by the checksum, not otherwise checked. */
	bad[sizeof(struct rec_hdr) + HEADER_TIME_OFF] ^= 0x40;
	EXPECT_KILLED("restart_checksum_mismatch_kills",
		      restart_in_child(bad, img_len));
	free(bad);
}

static void test_permission(void)
{
	int fd = open_image(O_RDWR | O_CREAT | O_TRUNC);
	pid_t pid = fork();
	int status = -1;

	if (pid == 0) {
		/* An unprivileged user may not checkpoint init (root). */
		if (setgid(65534) || setuid(65534))
			_exit(100);
		errno = 0;
		if (sys_checkpoint(1, fd, 0) != -1)
			_exit(101);
		_exit(errno == EPERM ? 0 : 102);
	}
	waitpid(pid, &status, 0);
	close(fd);
	ktap_case(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "unprivileged_checkpoint_of_root_eperm", "child status %#x",
		  status);
}

int main(void)
{
	img = malloc(MAX_IMG);
	if (!img)
		return 1;
	ktap_begin("syscall_edges", 12 + 6 + 2 + 7 + 1);
	test_arguments();
	test_self_image();
	test_pipe_stream();
	test_rejections();
	test_permission();
	return ktap_end();
}
