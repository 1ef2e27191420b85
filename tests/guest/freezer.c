// SPDX-License-Identifier: GPL-2.0
/*
 * A tree frozen by the cgroup v2 freezer instead of stopped: the root P
 * spins (it is running when the cgroup is frozen), its second thread
 * waits on a condition variable, its child C sleeps in nanosleep.  Once
 * cgroup.events says the cgroup is frozen, the tree is checkpointed
 * without a stop signal, killed, and restarted as a child with the saved
 * pids and in place.  Restored, P's spinning goes on, its thread wakes
 * when signalled, and C's sleep ends in its time; P exits with the number
 * of the first failed check (0: all passed).
 *
 * P's second child J stopped itself with SIGTSTP before the freeze (a
 * job stopped by ^Z): restored, it is stopped again, and runs on only
 * when P continues it.
 *
 * A running task that is neither stopped nor frozen is refused (EBUSY).
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/mount.h>
#include <sys/prctl.h>

#define IMG "/tmp/freezer.img"
#define READY "/tmp/freezer.ready"
#define GO "/tmp/freezer.go"
#define CGROOT "/sys/fs/cgroup"
#define CG CGROOT "/ckpt-freezer"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int woken;
static volatile unsigned long spins;

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Whether cgroup.events of CG says "frozen @want". */
static int cgroup_frozen(int want)
{
	char buf[256], line[32];
	int fd = open(CG "/cgroup.events", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	snprintf(line, sizeof(line), "frozen %d", want);
	return strstr(buf, line) != NULL;
}

static void *waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!woken)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* C: sleeps 1.5 s in all, across the checkpoint; exits 0 if it did. */
static int sleeper(void)
{
	struct timespec start, end;

	clock_gettime(CLOCK_MONOTONIC, &start);
	if (nanosleep(&(struct timespec){ .tv_sec = 1, .tv_nsec = 500000000 },
		      NULL))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &end);
	return end.tv_sec - start.tv_sec >= 1 ? 0 : 2;
}

/* J: stops as ^Z would stop it; exits 0 once continued. */
static int stopped_job(void)
{
	raise(SIGTSTP);
	return 0;
}

/* Waits for J to be stopped, continues it; 0 if it then exits 0. */
static int continue_job(pid_t j)
{
	int status;

	if (waitpid(j, &status, WUNTRACED) != j || !WIFSTOPPED(status))
		return 20;
	kill(j, SIGCONT);
	if (waitpid(j, &status, 0) != j || !WIFEXITED(status))
		return 21;
	return WEXITSTATUS(status) ? 22 : 0;
}

static int root(void)
{
	unsigned long before;
	pthread_t t;
	int status, r;
	pid_t c, j;

	/* Into the cgroup, with what it creates from now on. */
	if (write_file(CG "/cgroup.procs", "0"))
		return 30;
	if (pthread_create(&t, NULL, waiter, NULL))
		return 31;
	c = fork();
	if (c == 0)
		_exit(sleeper());
	j = fork();
	if (j == 0)
		_exit(stopped_job());
	/* Seen stopped before the freeze (the report is taken). */
	if (waitpid(j, &status, WUNTRACED) != j || !WIFSTOPPED(status))
		return 32;
	close(open(READY, O_WRONLY | O_CREAT, 0644));
	while (access(GO, F_OK))
		for (int i = 0; i < 1 << 16; i++)
			spins++;
	before = spins;
	for (int i = 0; i < 1 << 16; i++)
		spins++;
	if (spins != before + (1 << 16))
		return 1;
	pthread_mutex_lock(&lock);
	woken = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	if (pthread_join(t, NULL))
		return 2;
	if (waitpid(c, &status, 0) != c || !WIFEXITED(status))
		return 3;
	if (WEXITSTATUS(status))
		return 10 + WEXITSTATUS(status);
	/* J is stopped again (a new report), and continues when told. */
	r = continue_job(j);
	return r;
}

/* Starts the tree in CG and freezes it; P's pid, or -1. */
static pid_t start_frozen(void)
{
	pid_t p;

	unlink(READY);
	unlink(GO);
	p = fork();
	if (p == 0) {
		setpgid(0, 0);
		_exit(root());
	}
	for (int tries = 0; tries < 5000 && access(READY, F_OK); tries++)
		usleep(1000);
	if (access(READY, F_OK) || write_file(CG "/cgroup.freeze", "1"))
		return -1;
	for (int tries = 0; tries < 5000 && !cgroup_frozen(1); tries++)
		usleep(1000);
	return cgroup_frozen(1) ? p : -1;
}

/* Kills the tree (frozen or not), thaws the cgroup, reaps everything. */
static void kill_tree(pid_t p)
{
	if (p > 0)
		kill(-p, SIGKILL);
	write_file(CG "/cgroup.freeze", "0");
	reap_children();
}

int main(void)
{
	int err = 0;
	long r = -1;
	pid_t p;

	ktap_begin("freezer", 4);
	fflush(stdout);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	mkdir(CGROOT, 0755);
	mount("none", CGROOT, "cgroup2", 0, NULL);
	mkdir(CG, 0755);

	p = start_frozen();
	if (p > 0)
		r = checkpoint_to(p, IMG);
	ktap_case(r > 0, "frozen_tree_checkpointed",
		  "tree %d, checkpoint %ld errno %d", p, r, r > 0 ? 0 : errno);
	kill_tree(p);
	restart_tree_both_ways(IMG, r > 0 ? p : -1, GO,
			       "frozen_tree_restarted_as_child",
			       "frozen_tree_restarted_in_place");

	/* Running, neither stopped nor frozen: refused. */
	r = -1;
	unlink(GO);
	p = fork();
	if (p == 0) {
		while (access(GO, F_OK))
			spins++;
		_exit(0);
	}
	if (p > 0) {
		r = checkpoint_to(p, IMG);
		err = errno;
	}
	ktap_case(r == -1 && err == EBUSY, "running_task_ebusy",
		  "checkpoint %ld errno %d", r, err);
	close(open(GO, O_WRONLY | O_CREAT, 0644));
	reap_children();
	rmdir(CG);
	return ktap_end();
}
