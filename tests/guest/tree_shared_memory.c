// SPDX-License-Identifier: GPL-2.0
/*
 * Memory a parent and its child share stays shared across a restart of
 * their tree (zdtm's shm and maps00 with a child).
 *
 * R maps two pages of shared anonymous memory, a memfd (whose descriptor
 * it closes) and a SysV segment (removed while attached), then forks C,
 * which inherits the three mappings and writes into the second page of
 * each.  The tree is checkpointed, killed, and restarted as a child with
 * the saved pids and in place.  Then, through each mapping in turn, R
 * checks C's write, writes into the first page, C sees it and answers in
 * the second, and R sees the answer: the memory is shared again.  R and
 * C exit with the number of their first failed check (0: all passed).
 * Memory shared with a process outside the tree is refused
 * (checkpoint_unsupported).
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>

#define IMG "tree-shm.img"
#define GO "go"
#define PIDS "pids"
#define PAGE 4096
#define NMAPS 3

static volatile unsigned char *maps[NMAPS];

/* Waits until @p holds @want; 0, or -1 after 5 s. */
static int wait_for(volatile unsigned char *p, unsigned char want)
{
	for (int tries = 0; tries < 5000; tries++) {
		if (*p == want)
			return 0;
		usleep(1000);
	}
	return -1;
}

static void wait_go(void)
{
	while (access(GO, F_OK))
		usleep(2000);
}

static int map_all(void)
{
	int fd = memfd_create("tree-shm", 0);
	int id = shmget(IPC_PRIVATE, 2 * PAGE, IPC_CREAT | 0600);
	void *p;

	maps[0] = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fd < 0 || ftruncate(fd, 2 * PAGE))
		return -1;
	p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (id < 0 || p == MAP_FAILED || maps[0] == MAP_FAILED)
		return -1;
	maps[1] = p;
	p = shmat(id, NULL, 0);
	/* Gone once its last attach is. */
	shmctl(id, IPC_RMID, NULL);
	if (p == (void *)-1)
		return -1;
	maps[2] = p;
	return 0;
}

/* C: its writes before the checkpoint, its answers after. */
static void child(void)
{
	FILE *f = fopen(PIDS, "a");

	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f))
		_exit(20);
	for (int i = 0; i < NMAPS; i++)
		maps[i][PAGE] = 'c';
	wait_go();
	for (int i = 0; i < NMAPS; i++) {
		if (wait_for(&maps[i][0], 'R'))
			_exit(21 + i);
		maps[i][PAGE + 1] = 'C';
	}
	_exit(0);
}

/* R: the tree, then the exchange once restored. */
static void root(int ready)
{
	int status;
	pid_t c;

	if (map_all())
		_exit(2);
	c = fork();
	if (c == 0) {
		close(ready);
		child();
	}
	for (int i = 0; i < NMAPS; i++)
		if (c < 0 || wait_for(&maps[i][PAGE], 'c'))
			_exit(3);
	signal_ready(ready);
	wait_go();
	for (int i = 0; i < NMAPS; i++) {
		if (maps[i][PAGE] != 'c')
			_exit(10 + i);
		maps[i][0] = 'R';
		if (wait_for(&maps[i][PAGE + 1], 'C'))
			_exit(13 + i);
	}
	if (waitpid(c, &status, 0) != c || !WIFEXITED(status))
		_exit(16);
	_exit(WEXITSTATUS(status));
}

/* Makes the tree and checkpoints it to IMG; R's pid or -1. */
static pid_t make_image(void)
{
	int ready, err = 0;
	pid_t r, c = -1;
	long ret = -1;
	FILE *f;

	unlink(GO);
	unlink(PIDS);
	r = fork_when_ready(&ready);
	if (r == 0) {
		setpgid(0, 0);
		root(ready);
	}
	f = fopen(PIDS, "r");
	if (!f || fscanf(f, "%d", &c) != 1)
		c = -1;
	if (f)
		fclose(f);
	if (r > 0 && c > 0 && !stop_pid(c) && !stop_pid(r)) {
		ret = checkpoint_to(r, IMG);
		err = errno;
	}
	ktap_case(ret > 0, "tree_sharing_memory_checkpointed",
		  "root %d, child %d, checkpoint %ld (errno %d)", r, c, ret,
		  err);
	if (r > 0)
		kill(-r, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
	return ret > 0 ? r : -1;
}

int main(void)
{
	pid_t r;

	ktap_begin("tree_shared_memory", 3);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	r = make_image();
	/* The restored processes go on at once. */
	close(open(GO, O_WRONLY | O_CREAT, 0644));

	restart_tree_both_ways(IMG, r, NULL,
			       "memory_shared_again_restarted_as_child",
			       "memory_shared_again_restarted_in_place");
	return ktap_end();
}
