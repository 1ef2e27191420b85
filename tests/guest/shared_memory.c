// SPDX-License-Identifier: GPL-2.0
/*
 * Shared mappings come back shared (after zdtm's maps01, shm and
 * shmemfd).  The task holds:
 * - 16 pages of shared anonymous memory with data in three pages (the
 *   rest never touched), split in three areas by mprotect, and its first
 *   page mapped a second time elsewhere by mremap;
 * - a shared mapping of /dev/zero;
 * - a shared writable mapping of a file in /tmp, and a shared read-only
 *   mapping of another file opened read-only;
 * - a shared writable mapping of a memfd it also holds at fd 5;
 * - a shared writable mapping of a file unlinked since, with no
 *   descriptor left;
 * - a SysV segment with a key, given to another owner, with data in two
 *   of its three pages; and a private one attached twice (once
 *   read-only) and removed (IPC_RMID) while attached.
 * After restart each area has its data, protection and sharing: a write
 * through one mapping of the anonymous memory shows in the other; the
 * untouched pages are still holes; writes through the file and memfd
 * mappings reach the files, and the other way round; the SysV segments
 * have their ids, keys, modes, owners and attach counts, the removed one
 * is still marked so, and its two attaches share their memory.  Checked
 * for a task that checkpoints itself and for one stopped and
 * checkpointed from outside; the caller of restart removes the keyed
 * segment first, or restart fails with EEXIST, or with EBUSY if another
 * segment has its id, and leaves no segment behind.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define IMG "/tmp/shared_memory.img"
#define FILE_RW "/tmp/shared-rw"
#define FILE_RO "/tmp/shared-ro"
#define FILE_GONE "/tmp/shared-gone"
#define PAGE 4096
#define ANON_PAGES 16
#define MEMFD_FD 5

#define SHM_KEY 0x43505431
#define SHM_PAGES 3

static unsigned char *anon, *alias, *zero, *file_rw, *file_ro, *memfd_map,
	*gone, *keyed, *removed, *removed_ro;
static int keyed_id, removed_id;
static const int touched[] = { 0, 5, 15 };

static unsigned char pattern(int page, int i)
{
	return (unsigned char)(page * 37 + i * 11 + 1);
}

static int write_file(const char *path, const char *text, int pages)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || ftruncate(fd, pages * PAGE) ||
	    pwrite(fd, text, strlen(text), 0) != (ssize_t)strlen(text))
		return -1;
	return fd;
}

static unsigned char *map_file(int fd, int pages, int prot)
{
	unsigned char *p = mmap(NULL, pages * PAGE, prot, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* The line of /proc/self/maps for @addr, or "" (static buffer). */
static const char *maps_line(const void *addr)
{
	static char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi, a = (unsigned long)addr;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo <= a && a < hi) {
			fclose(f);
			return line;
		}
	if (f)
		fclose(f);
	line[0] = 0;
	return line;
}

/* Whether the page at @addr is resident (mincore). */
static int resident(const void *addr)
{
	unsigned char v = 0;

	return !mincore((void *)addr, PAGE, &v) && (v & 1);
}

/* The SysV segments; 0, or the number of the step that failed. */
static int set_up_sysv(void)
{
	struct shmid_ds ds;

	keyed_id = shmget(SHM_KEY, SHM_PAGES * PAGE, IPC_CREAT | IPC_EXCL | 0600);
	keyed = keyed_id < 0 ? (void *)-1 : shmat(keyed_id, NULL, 0);
	if (keyed == (void *)-1 || shmctl(keyed_id, IPC_STAT, &ds))
		return 20;
	ds.shm_perm.uid = 1000;
	ds.shm_perm.gid = 100;
	ds.shm_perm.mode = 0640;
	if (shmctl(keyed_id, IPC_SET, &ds))
		return 21;
	memcpy(keyed, "keyed segment", 13);
	memcpy(keyed + 2 * PAGE, "third page", 10);

	removed_id = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
	removed = removed_id < 0 ? (void *)-1 : shmat(removed_id, NULL, 0);
	removed_ro = removed_id < 0 ? (void *)-1 :
				      shmat(removed_id, NULL, SHM_RDONLY);
	if (removed == (void *)-1 || removed_ro == (void *)-1 ||
	    shmctl(removed_id, IPC_RMID, NULL))
		return 22;
	memcpy(removed, "removed segment", 15);
	return 0;
}

/* Removes the segment of SHM_KEY, if any: the saved task's, which would
 * keep restart from creating it again. */
static int remove_keyed_segment(void)
{
	int id = shmget(SHM_KEY, 0, 0);

	return id >= 0 && shmctl(id, IPC_RMID, NULL) ? -1 : 0;
}

/* In the restored task: 0, or the number of the first check that failed. */
static int check_sysv(void)
{
	struct shmid_ds ds;

	if (shmctl(keyed_id, IPC_STAT, &ds) || ds.shm_perm.__key != SHM_KEY ||
	    ds.shm_segsz != SHM_PAGES * PAGE || ds.shm_nattch != 1 ||
	    (ds.shm_perm.mode & 0777) != 0640 || ds.shm_perm.uid != 1000 ||
	    ds.shm_perm.gid != 100 || shmget(SHM_KEY, 0, 0) != keyed_id)
		return 20;
	if (memcmp(keyed, "keyed segment", 13) || keyed[PAGE] ||
	    memcmp(keyed + 2 * PAGE, "third page", 10))
		return 21;
	if (shmctl(removed_id, IPC_STAT, &ds) || ds.shm_perm.__key != IPC_PRIVATE ||
	    !(ds.shm_perm.mode & SHM_DEST) || ds.shm_nattch != 2)
		return 22;
	if (memcmp(removed_ro, "removed segment", 15) ||
	    !strstr(maps_line(removed_ro), "r--s"))
		return 23;
	removed[0] = 'R';
	if (removed_ro[0] != 'R')
		return 24;
	/* Its last detach removes it. */
	if (shmdt(removed) || shmdt(removed_ro) ||
	    shmctl(removed_id, IPC_STAT, &ds) != -1)
		return 25;
	return shmctl(keyed_id, IPC_RMID, NULL) ? 26 : 0;
}

static int set_up(void)
{
	int fd;

	anon = mmap(NULL, ANON_PAGES * PAGE, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED)
		return 1;
	for (size_t t = 0; t < sizeof(touched) / sizeof(touched[0]); t++)
		for (int i = 0; i < PAGE; i++)
			anon[touched[t] * PAGE + i] = pattern(touched[t], i);
	/* Three areas, one object. */
	if (mprotect(anon + 8 * PAGE, 2 * PAGE, PROT_READ))
		return 2;
	/* A second mapping of page 0 (old size 0: the same pages). */
	alias = mremap(anon, 0, PAGE, MREMAP_MAYMOVE);
	if (alias == MAP_FAILED)
		return 3;

	fd = open("/dev/zero", O_RDWR);
	zero = fd < 0 ? NULL : map_file(fd, 2, PROT_READ | PROT_WRITE);
	if (!zero)
		return 4;
	close(fd);
	memcpy(zero + PAGE, "zero page", 9);

	fd = write_file(FILE_RW, "file before", 3);
	file_rw = fd < 0 ? NULL : map_file(fd, 3, PROT_READ | PROT_WRITE);
	if (!file_rw)
		return 5;
	close(fd);
	memcpy(file_rw + 2 * PAGE, "written through the map", 23);

	fd = write_file(FILE_RO, "read-only file", 1);
	close(fd);
	fd = open(FILE_RO, O_RDONLY);
	file_ro = fd < 0 ? NULL : map_file(fd, 1, PROT_READ);
	if (!file_ro)
		return 6;
	close(fd);

	if (place_fd(memfd_create("shared", 0), MEMFD_FD) ||
	    ftruncate(MEMFD_FD, 2 * PAGE))
		return 7;
	memfd_map = map_file(MEMFD_FD, 2, PROT_READ | PROT_WRITE);
	if (!memfd_map)
		return 8;
	memcpy(memfd_map + PAGE, "memfd map", 9);

	fd = write_file(FILE_GONE, "unlinked", 2);
	gone = fd < 0 ? NULL : map_file(fd, 2, PROT_READ | PROT_WRITE);
	if (!gone || unlink(FILE_GONE))
		return 9;
	close(fd);
	memcpy(gone + PAGE, "still here", 10);
	return set_up_sysv();
}

/* In the restored task: 0, or the number of the first check that failed. */
static int check_shared(void)
{
	char buf[64];
	int fd;

	for (size_t t = 0; t < sizeof(touched) / sizeof(touched[0]); t++)
		for (int i = 0; i < PAGE; i++)
			if (anon[touched[t] * PAGE + i] != pattern(touched[t], i))
				return 1;
	/* Never touched: still holes, read as zeros. */
	if (resident(anon + 3 * PAGE) || anon[3 * PAGE] || anon[12 * PAGE])
		return 2;
	if (!strstr(maps_line(anon), "rw-s") ||
	    !strstr(maps_line(anon + 8 * PAGE), "r--s") ||
	    !strstr(maps_line(anon + 10 * PAGE), "rw-s") ||
	    !strstr(maps_line(anon), "/dev/zero (deleted)"))
		return 3;
	/* One object: a write through either mapping shows in the other. */
	if (alias[7] != pattern(0, 7))
		return 4;
	alias[7] = 0xee;
	anon[9] = 0xdd;
	if (anon[7] != 0xee || alias[9] != 0xdd)
		return 5;
	if (memcmp(zero + PAGE, "zero page", 9) || zero[0])
		return 6;
	if (memcmp(file_rw, "file before", 11) ||
	    memcmp(file_rw + 2 * PAGE, "written through the map", 23))
		return 7;
	/* The file and its mapping are one: both ways. */
	fd = open(FILE_RW, O_RDWR);
	if (fd < 0 || pread(fd, buf, 23, 2 * PAGE) != 23 ||
	    memcmp(buf, "written through the map", 23))
		return 8;
	memcpy(file_rw + PAGE, "after", 5);
	if (pwrite(fd, "FILE", 4, 0) != 4 || memcmp(file_rw, "FILE", 4) ||
	    pread(fd, buf, 5, PAGE) != 5 || memcmp(buf, "after", 5))
		return 9;
	close(fd);
	if (memcmp(file_ro, "read-only file", 14) ||
	    !strstr(maps_line(file_ro), "r--s"))
		return 10;
	fd = open(FILE_RO, O_WRONLY);
	if (fd < 0 || pwrite(fd, "READ", 4, 0) != 4 ||
	    memcmp(file_ro, "READ", 4))
		return 11;
	close(fd);
	if (pread(MEMFD_FD, buf, 9, PAGE) != 9 || memcmp(buf, "memfd map", 9))
		return 12;
	memfd_map[0] = 'M';
	if (pwrite(MEMFD_FD, "fd", 2, PAGE) != 2 || memcmp(memfd_map + PAGE, "fd", 2) ||
	    pread(MEMFD_FD, buf, 1, 0) != 1 || buf[0] != 'M')
		return 13;
	if (memcmp(gone, "unlinked", 8) || memcmp(gone + PAGE, "still here", 10) ||
	    !strstr(maps_line(gone), "(deleted)"))
		return 14;
	return check_sysv();
}

/* Lines of /proc/sysvipc/shm: the number of segments, plus one. */
static int segment_lines(void)
{
	char line[512];
	FILE *f = fopen("/proc/sysvipc/shm", "r");
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n++;
	if (f)
		fclose(f);
	return n;
}

/*
 * With the keyed segment still there, restart fails with EEXIST before
 * its point of no return, and removes the segments it had created.
 */
static void key_taken_refused(void)
{
	int saver = make_self_image(IMG, set_up, check_shared);
	int before = segment_lines();
	int status = saver ? -1 : restart_after(IMG, NULL, EEXIST);
	int after = segment_lines();

	ktap_case(!saver && restart_outcome_ok(status, EEXIST) && before == after,
		  "sysv_key_taken_eexist_nothing_left",
		  "saver status %#x; restart caller status %#x; segments listed %d before, %d after",
		  saver, status, before - 1, after - 1);
	remove_keyed_segment();
}

/*
 * With the keyed segment's id taken by another segment, restart (by
 * root, who may choose ids) fails with EBUSY before its point of no
 * return, and leaves no segment of its own behind.
 */
static void id_taken_refused(void)
{
	int saver = make_self_image(IMG, set_up, check_shared);
	int id = shmget(SHM_KEY, 0, 0), occupant = -1, before, after, status;
	FILE *next = fopen("/proc/sys/kernel/shm_next_id", "w");

	/* The saved segment goes; another takes its id. */
	if (id >= 0 && !shmctl(id, IPC_RMID, NULL) && next &&
	    fprintf(next, "%d\n", id) > 0 && !fclose(next)) {
		next = NULL;
		occupant = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
	}
	if (next)
		fclose(next);
	before = segment_lines();
	status = saver || occupant != id ? -1 : restart_after(IMG, NULL, EBUSY);
	after = segment_lines();
	ktap_case(!saver && occupant == id && restart_outcome_ok(status, EBUSY) &&
			  before == after,
		  "sysv_id_taken_ebusy_nothing_left",
		  "saver status %#x; id %d, occupant %d; restart caller status %#x; segments listed %d before, %d after",
		  saver, id, occupant, status, before - 1, after - 1);
	if (occupant >= 0)
		shmctl(occupant, IPC_RMID, NULL);
}

int main(void)
{
	ktap_begin("shared_memory", 4);
	fflush(stdout);
	self_and_external_cases(IMG, "self_shared_mappings_restored",
				"external_shared_mappings_restored", set_up,
				check_shared, remove_keyed_segment);
	key_taken_refused();
	id_taken_refused();
	return ktap_end();
}
