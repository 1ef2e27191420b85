// SPDX-License-Identifier: GPL-2.0
/*
 * The point of no return of restart(2).
 *
 * A child maps a private file and checkpoints itself.  Images rejected
 * before the point of no return (bad magic, overlapping or unsorted
 * areas, a mapped file that is gone, a caller with a child, which the
 * restored task would inherit) fail with their errno, and the
 * calling process runs on with its memory intact.  Damage that can only be
 * found after it (an image cut in its page data, page data corrupted, so
 * that the tail's checksum disagrees) kills the caller with SIGKILL, and
 * the caller never runs another instruction of its own.
 */
#include "ktap.h"
#include "image.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define IMG "/tmp/rej.img"
#define BAD "/tmp/rej.bad"
#define DATA "/tmp/rej.data"
#define RESTARTED 42

/* Memory the caller checks after a rejected restart. */
static unsigned char canary[3 * 4096];

static void fill_canary(void)
{
	for (size_t i = 0; i < sizeof(canary); i++)
		canary[i] = (unsigned char)(i * 13 + 5);
}

static int canary_intact(void)
{
	for (size_t i = 0; i < sizeof(canary); i++)
		if (canary[i] != (unsigned char)(i * 13 + 5))
			return 0;
	return 1;
}

/* The checkpointed child: maps DATA privately and checkpoints itself. */
static int make_image(void)
{
	int fd = open(DATA, O_RDWR | O_CREAT | O_TRUNC, 0600);
	unsigned char *map;
	long crid;

	if (fd < 0 || ftruncate(fd, 8192))
		return 1;
	map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return 2;
	map[0] = 1; /* one copied-on-write page */
	fd = open(IMG, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	crid = sys_checkpoint(0, fd, 0);
	if (crid == 0)
		_exit(RESTARTED);
	return crid > 0 ? 0 : 3;
}

/*
 * In a child: restart from @path; if restart fails, report its errno and
 * whether the caller's memory is intact through the exit status
 * (errno | intact << 7).  Returns the wait status.
 */
static int try_restart_from(const char *path, int *pipe_said, int with_child)
{
	int p[2], status = -1;
	char c;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_RDONLY);

		close(p[0]);
		fill_canary();
		if (with_child && fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			pause();
			_exit(0);
		}
		sys_restart(0, fd, 0);
		/* Still the caller: say so, then report. */
		if (write(p[1], "r", 1) != 1)
			_exit(126);
		_exit((errno & 0x7f) | canary_intact() << 7);
	}
	close(p[1]);
	*pipe_said = read(p[0], &c, 1) == 1;
	close(p[0]);
	waitpid(pid, &status, 0);
	return status;
}

static int try_restart(const char *path, int *pipe_said)
{
	return try_restart_from(path, pipe_said, 0);
}

static void expect_rejected(const char *name, const char *path, int err)
{
	int said, status = try_restart(path, &said);
	int ok = said && WIFEXITED(status) &&
		 (WEXITSTATUS(status) & 0x7f) == err &&
		 (WEXITSTATUS(status) & 0x80);

	ktap_case(ok, name,
		  "status %#x (want exit with errno %d and intact memory)",
		  status, err);
}

static void expect_killed(const char *name, const char *path)
{
	int said, status = try_restart(path, &said);

	ktap_case(!said && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  name, "status %#x, caller %s after restart", status,
		  said ? "ran on" : "did not run");
}

/* Restarts the intact image in a child; returns its wait status. */
static int restart_intact(void)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(IMG, O_RDONLY);

		sys_restart(0, fd, 0);
		_exit(1);
	}
	waitpid(pid, &status, 0);
	return status;
}

int main(void)
{
	struct image img;
	long vma0, vma1, chunk;
	int status = -1;
	pid_t pid;

	ktap_begin("restart_reject", 10);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(make_image());
	waitpid(pid, &status, 0);
	if (status != 0 || image_load(&img, IMG)) {
		ktap_case(0, "image_made", "checkpointing child: %#x", status);
		return 1;
	}

	/* The intact image restarts (sanity for the cases below). */
	status = restart_intact();
	ktap_case(status == RESTARTED << 8, "intact_image_restarts",
		  "status %#x", status);

	/* A caller with a child: the restored task would inherit it. */
	{
		int said;

		status = try_restart_from(IMG, &said, 1);
		ktap_case(said && WIFEXITED(status) &&
				  (WEXITSTATUS(status) & 0x7f) == EBUSY &&
				  (WEXITSTATUS(status) & 0x80),
			  "caller_with_child_ebusy_caller_intact",
			  "status %#x (want exit with EBUSY and intact memory)",
			  status);
	}

	img.data[8] ^= 1; /* the header's magic */
	image_save(&img, img.len, BAD);
	img.data[8] ^= 1;
	expect_rejected("bad_magic_einval_caller_intact", BAD, EINVAL);

	vma0 = image_find(&img, REC_VMA, 0);
	vma1 = image_find(&img, REC_VMA, 1);
	if (vma0 > 0 && vma1 > 0) {
		uint64_t start1 = image_u64(&img, vma1 + 8);

		/* The second area starts inside the first. */
		image_put_u64(&img, vma1 + 8, image_u64(&img, vma0 + 8));
		image_save(&img, img.len, BAD);
		image_put_u64(&img, vma1 + 8, start1);
	}
	expect_rejected("overlapping_areas_einval_caller_intact", BAD, EINVAL);

	if (vma1 > 0) {
		uint64_t end0 = image_u64(&img, vma0 + 16);

		/* The first area ends below its start. */
		image_put_u64(&img, vma0 + 16, image_u64(&img, vma0 + 8) - 4096);
		image_save(&img, img.len, BAD);
		image_put_u64(&img, vma0 + 16, end0);
	}
	expect_rejected("inverted_area_einval_caller_intact", BAD, EINVAL);

	if (rename(DATA, DATA ".away") == 0) {
		expect_rejected("missing_mapped_file_enoent_caller_intact", IMG,
				ENOENT);
		rename(DATA ".away", DATA);
	} else {
		ktap_case(0, "missing_mapped_file_enoent_caller_intact",
			  "rename: %s", strerror(errno));
	}

	/* Cut in the middle of the first page chunk's page data. */
	chunk = image_find(&img, REC_PAGE_CHUNK, 0);
	while (chunk > 0 && image_u32(&img, chunk + 8) == 0)
		chunk += image_u32(&img, chunk + 4);
	if (chunk > 0) {
		size_t count = image_u32(&img, chunk + 8);
		size_t data = chunk + 16 + 8 * count;

		image_save(&img, data + 100, BAD);
		expect_killed("cut_in_page_data_kills_caller", BAD);
		img.data[data + 100] ^= 0x20;
		image_save(&img, img.len, BAD);
		img.data[data + 100] ^= 0x20;
		expect_killed("corrupted_page_data_kills_caller", BAD);
	} else {
		ktap_case(0, "cut_in_page_data_kills_caller", "no page chunk");
		ktap_case(0, "corrupted_page_data_kills_caller", "no page chunk");
	}

	/* The image of a failed checkpoint is rejected with EIO. */
	pid = fork();
	if (pid == 0) {
		/* A socket makes the checkpoint fail. */
		int sock = socket(AF_UNIX, SOCK_STREAM, 0);
		int fd = open(BAD, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		_exit(sock >= 0 && sys_checkpoint(0, fd, 0) < 0 &&
		      errno == EOPNOTSUPP ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	expect_rejected("image_with_error_record_eio_caller_intact", BAD, EIO);

	/* And the intact image still restarts after all this. */
	status = restart_intact();
	ktap_case(status == RESTARTED << 8, "intact_image_still_restarts",
		  "status %#x", status);
	return ktap_end();
}
