// SPDX-License-Identifier: GPL-2.0
/*
 * The advice and locking of memory areas come back (after zdtm's
 * madvise00 and mlock tests).  The task has anonymous areas advised
 * MADV_DONTFORK, MADV_DONTDUMP, MADV_WIPEONFORK, MADV_SEQUENTIAL and
 * MADV_RANDOM, one locked with mlock and one with
 * mlock2(MLOCK_ONFAULT), each holding data.  After restart each area has
 * its flags again in /proc/self/smaps ("VmFlags"), and they act: a child
 * forked then does not have the DONTFORK area, sees the WIPEONFORK one
 * zeroed and the others with their data; the locked area is wholly
 * resident and counted as locked, the lock-on-fault one only in the
 * pages touched.  Checked for a task that checkpoints itself and for one
 * stopped and checkpointed from outside.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <sys/mman.h>
#include <sys/wait.h>

#define IMG "/tmp/area_advice.img"
#define PAGE 4096
#define PAGES 4

enum { DONTFORK, DONTDUMP, WIPEONFORK, SEQUENTIAL, RANDOM, LOCKED,
	LOCKED_ON_FAULT, AREAS };

static const int advice[] = { MADV_DONTFORK, MADV_DONTDUMP, MADV_WIPEONFORK,
			      MADV_SEQUENTIAL, MADV_RANDOM };
static const char *const vmflag[AREAS] = { "dc", "dd", "wf", "sr", "rr",
					   "lo", "lf" };
static unsigned char *area[AREAS];

static int set_up(void)
{
	for (int i = 0; i < AREAS; i++) {
		/* A guard page between areas, so that none merge. */
		unsigned char *p = mmap(NULL, (PAGES + 1) * PAGE,
					PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED || munmap(p + PAGES * PAGE, PAGE))
			return 1;
		area[i] = p;
		if (i < LOCKED && madvise(p, PAGES * PAGE, advice[i]))
			return 2;
		/* The lock-on-fault area gets data in its first page only. */
		memset(p, 'a' + i, i == LOCKED_ON_FAULT ? PAGE : PAGES * PAGE);
	}
	if (mlock(area[LOCKED], PAGES * PAGE) ||
	    mlock2(area[LOCKED_ON_FAULT], PAGES * PAGE, MLOCK_ONFAULT))
		return 3;
	return 0;
}

/* The smaps field @name ("VmFlags:", "Locked:") of the area at @addr
 * (static buffer), or "". */
static const char *smaps_field(const void *addr, const char *name)
{
	static char line[512];
	FILE *f = fopen("/proc/self/smaps", "r");
	unsigned long lo, hi, a = (unsigned long)addr;
	int in = 0;

	while (f && fgets(line, sizeof(line), f)) {
		/* A header line ("start-end perms ..."); fields start
		 * with a name and a colon. */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = lo <= a && a < hi;
		else if (in && !strncmp(line, name, strlen(name))) {
			fclose(f);
			return line;
		}
	}
	if (f)
		fclose(f);
	return "";
}

/* Whether the smaps "VmFlags" of @addr has the two-letter @flag. */
static int has_vmflag(const void *addr, const char *flag)
{
	const char *flags = smaps_field(addr, "VmFlags:");
	char word[8];

	snprintf(word, sizeof(word), " %s", flag);
	return strstr(flags, word) != NULL;
}

/* Resident pages of the area at @p. */
static int resident_pages(unsigned char *p)
{
	unsigned char v[PAGES];
	int n = 0;

	if (mincore(p, PAGES * PAGE, v))
		return -1;
	for (int i = 0; i < PAGES; i++)
		n += v[i] & 1;
	return n;
}

/* In a child after fork: 0, or the number of the check that failed. */
static int child_view(void)
{
	unsigned char v;

	/* Not mapped in the child at all. */
	if (mincore(area[DONTFORK], PAGE, &v) != -1 || errno != ENOMEM)
		return 1;
	if (area[WIPEONFORK][0] != 0 || area[WIPEONFORK][PAGES * PAGE - 1] != 0)
		return 2;
	if (area[DONTDUMP][0] != 'a' + DONTDUMP)
		return 3;
	return 0;
}

/* In the restored task: 0, or the number of the first check that failed. */
static int check_advice(void)
{
	int status = -1;
	pid_t child;
	long locked_kb;

	for (int i = 0; i < AREAS; i++) {
		if (!has_vmflag(area[i], vmflag[i]))
			return 10 + i;
		if (area[i][0] != 'a' + i)
			return 20 + i;
	}
	if (has_vmflag(area[LOCKED], "lf") || !has_vmflag(area[LOCKED_ON_FAULT], "lo"))
		return 30;
	if (resident_pages(area[LOCKED]) != PAGES ||
	    sscanf(smaps_field(area[LOCKED], "Locked:"), "Locked: %ld", &locked_kb) != 1 ||
	    locked_kb != PAGES * PAGE / 1024)
		return 31;
	/* Only the page that held data is in. */
	if (resident_pages(area[LOCKED_ON_FAULT]) != 1)
		return 32;
	child = fork();
	if (child == 0)
		_exit(child_view());
	waitpid(child, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return 40 + (WIFEXITED(status) ? WEXITSTATUS(status) : 9);
	return 0;
}

int main(void)
{
	ktap_begin("area_advice", 2);
	fflush(stdout);
	self_and_external_cases(IMG, "self_area_advice_and_locks_restored",
				"external_area_advice_and_locks_restored",
				set_up, check_advice, NULL);
	return ktap_end();
}
