// SPDX-License-Identifier: GPL-2.0
/*
 * Memfds are created again with their name, contents, seals and mode
 * (after zdtm's memfd00 and memfd01).  The task holds a sealable memfd
 * of 20000 bytes with data at two offsets, sealed against shrinking and
 * growing, mode 0640, at a position, and mapped privately; and one made
 * without sealing (so sealed against seals).  After restart both have
 * their names, seals, size, data and position; the seals still hold;
 * the mapping shows the data.  Checked for a task that checkpoints
 * itself and for one stopped and checkpointed from outside.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define IMG "/tmp/memfd.img"
#define SIZE 20000
#define DATA_AT 10000
#define DATA_LEN 3000

enum { SEALED_FD = 5, PLAIN_FD };

static unsigned char *map;

static unsigned char pattern(int i)
{
	return (unsigned char)(i * 7 + 3);
}

static int open_memfds(void)
{
	unsigned char data[DATA_LEN];

	for (int i = 0; i < DATA_LEN; i++)
		data[i] = pattern(i);
	if (place_fd(memfd_create("ckpt-buffer", MFD_ALLOW_SEALING), SEALED_FD) ||
	    pwrite(SEALED_FD, "memfd data", 10, 0) != 10 ||
	    pwrite(SEALED_FD, data, DATA_LEN, DATA_AT) != DATA_LEN ||
	    ftruncate(SEALED_FD, SIZE) || fchmod(SEALED_FD, 0640) ||
	    fcntl(SEALED_FD, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) ||
	    lseek(SEALED_FD, 3, SEEK_SET) != 3)
		return 1;
	map = mmap(NULL, SIZE, PROT_READ, MAP_PRIVATE, SEALED_FD, 0);
	if (map == MAP_FAILED)
		return 2;
	if (place_fd(memfd_create("plain", 0), PLAIN_FD) ||
	    write(PLAIN_FD, "x", 1) != 1)
		return 3;
	return 0;
}

/* In the restored task: 0, or the number of the first check that failed. */
static int check_memfds(void)
{
	char link[64] = "";
	unsigned char buf[DATA_LEN];
	struct stat st;

	if (readlink("/proc/self/fd/5", link, sizeof(link) - 1) < 0 ||
	    strcmp(link, "/memfd:ckpt-buffer (deleted)"))
		return 1;
	if (fcntl(SEALED_FD, F_GET_SEALS) != (F_SEAL_SHRINK | F_SEAL_GROW) ||
	    fcntl(PLAIN_FD, F_GET_SEALS) != F_SEAL_SEAL)
		return 2;
	if (fstat(SEALED_FD, &st) || st.st_size != SIZE ||
	    (st.st_mode & 07777) != 0640)
		return 3;
	if (lseek(SEALED_FD, 0, SEEK_CUR) != 3 ||
	    read(SEALED_FD, buf, 7) != 7 || memcmp(buf, "fd data", 7))
		return 4;
	if (pread(SEALED_FD, buf, DATA_LEN, DATA_AT) != DATA_LEN)
		return 5;
	for (int i = 0; i < DATA_LEN; i++)
		if (buf[i] != pattern(i))
			return 6;
	/* The seals hold. */
	if (ftruncate(SEALED_FD, 100) != -1 || errno != EPERM ||
	    pwrite(SEALED_FD, "x", 1, SIZE) != -1 || errno != EPERM ||
	    fcntl(PLAIN_FD, F_ADD_SEALS, F_SEAL_WRITE) != -1 || errno != EPERM)
		return 7;
	if (memcmp(map, "memf", 4) || map[DATA_AT] != pattern(0))
		return 8;
	if (pread(PLAIN_FD, buf, 4, 0) != 1 || buf[0] != 'x')
		return 9;
	return 0;
}

int main(void)
{
	ktap_begin("memfd", 2);
	fflush(stdout);
	self_and_external_cases(IMG, "self_memfds_restored",
				"external_memfds_restored", open_memfds,
				check_memfds, NULL);
	return ktap_end();
}
