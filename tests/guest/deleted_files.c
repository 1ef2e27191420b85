// SPDX-License-Identifier: GPL-2.0
/*
 * Files unlinked while open or mapped are saved with their contents
 * (after zdtm's unlink_regular00 and deleted mappings).  The task holds a
 * sparse 1 MiB file read-write at a position, with data at two offsets,
 * mode 0640, and maps it privately; and a read-only file of mode 0444;
 * both unlinked.  After restart they are unlinked files again, with
 * their size, mode, data, holes, flags and positions; the mapping shows
 * the data; the file can be written.  A deleted file above the size cap
 * gives EFBIG and an error record.  Checked for a task that checkpoints
 * itself and for one stopped and checkpointed from outside.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"
#include "image.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define IMG "/tmp/deleted_files.img"
#define SIZE (1 << 20)
#define DATA_AT 8192
#define DATA_LEN 5000

enum { RW_FD = 5, RO_FD };

static unsigned char *map;

static unsigned char pattern(int i)
{
	return (unsigned char)(i * 13 + 1);
}

static int open_deleted_files(void)
{
	unsigned char data[DATA_LEN];
	int ro;

	for (int i = 0; i < DATA_LEN; i++)
		data[i] = pattern(i);
	if (place_fd(open("victim", O_RDWR | O_CREAT | O_TRUNC, 0600), RW_FD) ||
	    fchmod(RW_FD, 0640) || pwrite(RW_FD, "head", 4, 0) != 4 ||
	    pwrite(RW_FD, data, DATA_LEN, DATA_AT) != DATA_LEN ||
	    ftruncate(RW_FD, SIZE) || lseek(RW_FD, 8200, SEEK_SET) != 8200)
		return 1;
	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, RW_FD, 0);
	if (map == MAP_FAILED || map[0] != 'h')
		return 2;
	ro = open("readonly", O_WRONLY | O_CREAT | O_TRUNC, 0444);
	if (ro < 0 || write(ro, "ro data", 7) != 7 || close(ro) ||
	    place_fd(open("readonly", O_RDONLY), RO_FD) ||
	    lseek(RO_FD, 3, SEEK_SET) != 3)
		return 3;
	return unlink("victim") || unlink("readonly") ? 4 : 0;
}

/* In the restored task: 0, or the number of the first check that failed. */
static int check_deleted_files(void)
{
	unsigned char buf[DATA_LEN];
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (fstat(RW_FD, &st) || st.st_size != SIZE ||
	    (st.st_mode & 07777) != 0640 || st.st_nlink != 0)
		return 1;
	if (lseek(RW_FD, 0, SEEK_CUR) != 8200 ||
	    (fcntl(RW_FD, F_GETFL) & O_ACCMODE) != O_RDWR)
		return 2;
	if (pread(RW_FD, buf, 4, 0) != 4 || memcmp(buf, "head", 4))
		return 3;
	if (pread(RW_FD, buf, DATA_LEN, DATA_AT) != DATA_LEN)
		return 4;
	for (int i = 0; i < DATA_LEN; i++)
		if (buf[i] != pattern(i))
			return 5;
	if (pread(RW_FD, buf, 100, 600000) != 100 || buf[0] || buf[99])
		return 6;
	/* The page read through the mapping at checkpoint, and one not. */
	if (memcmp(map, "head", 4) || map[DATA_AT] != pattern(0) ||
	    map[DATA_AT + 4999] != pattern(4999))
		return 7;
	if (fstat(RO_FD, &st) || st.st_size != 7 ||
	    (st.st_mode & 07777) != 0444 || st.st_nlink != 0 ||
	    (fcntl(RO_FD, F_GETFL) & O_ACCMODE) != O_RDONLY)
		return 8;
	if (read(RO_FD, buf, 16) != 4 || memcmp(buf, "data", 4))
		return 9;
	if (pwrite(RW_FD, "new", 3, 0) != 3 || pread(RW_FD, buf, 4, 0) != 4 ||
	    memcmp(buf, "newd", 4))
		return 10;
	/* The files restart made have no name in the directory. */
	d = opendir(".");
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			return 11;
	return d ? 0 : 12;
}

/* A deleted file above the cap: EFBIG, and an error record saying so. */
static void too_big_case(void)
{
	struct image img;
	int status = -1, err = 0;
	const char *msg = "";
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(IMG, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int big = open("big", O_RDWR | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || big < 0 || ftruncate(big, (65 << 20)) ||
		    unlink("big"))
			_exit(2);
		errno = 0;
		_exit(sys_checkpoint(0, fd, 0) == -1 && errno == EFBIG ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	if (image_load(&img, IMG) == 0)
		msg = image_error_message(&img, &err);
	ktap_case(WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
			  err == EFBIG && strstr(msg, "deleted file"),
		  "deleted_file_above_cap_efbig_with_error_record",
		  "child status %#x, error record errno %d message '%s'",
		  status, err, msg);
}

int main(void)
{
	ktap_begin("deleted_files", 3);
	fflush(stdout);
	self_and_external_cases(IMG, "self_deleted_files_restored",
				"external_deleted_files_restored",
				open_deleted_files, check_deleted_files, NULL);
	too_big_case();
	return ktap_end();
}
