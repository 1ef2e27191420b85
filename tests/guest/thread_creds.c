// SPDX-License-Identifier: GPL-2.0
/*
 * Threads with credentials of their own: each changed them with a raw
 * setresuid(2) or setresgid(2) system call, which (unlike the C
 * library's wrappers) changes the calling thread's only.  The process is
 * stopped, checkpointed, killed, and restarted as a child and in place.
 *
 * The image must hold the credentials of the two threads besides the
 * leader's.  Restored, each thread must have its own ids back, the leader
 * its own, and the process the dumpable attribute it had.  The process
 * exits with the number of the first failed check (0: all passed).
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"
#include "image.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define IMG "/tmp/thread_creds.img"
#define READY "/tmp/thread_creds.ready"
#define GO "/tmp/thread_creds.go"
#define REC_CREDS 22
#define THREAD_UID 1000
#define THREAD_EGID 2000

static atomic_int changed;
static int dumpable_before;

struct ids {
	uid_t r, e, s;
};

static struct ids uids(void)
{
	struct ids i = { 0 };

	syscall(SYS_getresuid, &i.r, &i.e, &i.s);
	return i;
}

static struct ids gids(void)
{
	struct ids i = { 0 };

	syscall(SYS_getresgid, &i.r, &i.e, &i.s);
	return i;
}

static void wait_go(void)
{
	while (access(GO, F_OK))
		usleep(2000);
}

/* Drops to THREAD_UID alone; once restored, checks it has it still. */
static void *uid_thread(void *arg)
{
	struct ids u;

	(void)arg;
	if (syscall(SYS_setresuid, THREAD_UID, THREAD_UID, THREAD_UID))
		return (void *)1L;
	atomic_fetch_add(&changed, 1);
	wait_go();
	u = uids();
	if (u.r != THREAD_UID || u.e != THREAD_UID || u.s != THREAD_UID)
		return (void *)2L;
	return NULL;
}

/* Takes effective gid THREAD_EGID alone; checks it once restored. */
static void *gid_thread(void *arg)
{
	struct ids g;

	(void)arg;
	if (syscall(SYS_setresgid, 0, THREAD_EGID, 0))
		return (void *)3L;
	atomic_fetch_add(&changed, 1);
	wait_go();
	g = gids();
	if (g.r != 0 || g.e != THREAD_EGID || g.s != 0 || uids().e != 0)
		return (void *)4L;
	return NULL;
}

static int target(void)
{
	pthread_t a, b;
	void *ra, *rb;
	struct ids u, g;

	if (pthread_create(&a, NULL, uid_thread, NULL) ||
	    pthread_create(&b, NULL, gid_thread, NULL))
		return 10;
	while (atomic_load(&changed) < 2)
		usleep(1000);
	dumpable_before = prctl(PR_GET_DUMPABLE);
	close(open(READY, O_WRONLY | O_CREAT, 0644));
	wait_go();
	u = uids();
	g = gids();
	if (u.r || u.e || u.s || g.r || g.e || g.s)
		return 5;
	if (prctl(PR_GET_DUMPABLE) != dumpable_before)
		return 6;
	pthread_join(a, &ra);
	pthread_join(b, &rb);
	return ra ? (int)(long)ra : (int)(long)rb;
}

/* The number of Creds records in IMG. */
static int creds_records(void)
{
	struct image img;
	int n = 0;

	if (image_load(&img, IMG))
		return -1;
	while (image_find(&img, REC_CREDS, n) >= 0)
		n++;
	return n;
}

int main(void)
{
	int creds = -1;
	long r = -1;
	pid_t pid;

	ktap_begin("thread_creds", 3);
	fflush(stdout);
	unlink(READY);
	unlink(GO);
	pid = fork();
	if (pid == 0)
		_exit(target());
	for (int tries = 0; tries < 5000 && access(READY, F_OK); tries++)
		usleep(1000);
	if (pid > 0 && !access(READY, F_OK)) {
		stop_target(pid);
		r = checkpoint_and_kill(pid, IMG);
		creds = creds_records();
	}
	ktap_case(r > 0 && creds == 3, "thread_creds_checkpointed",
		  "checkpoint %ld errno %d, %d Creds records (3: the leader's and two threads')",
		  r, r > 0 ? 0 : errno, creds);
	restart_tree_both_ways(IMG, r > 0 ? pid : -1, GO,
			       "thread_creds_restarted_as_child",
			       "thread_creds_restarted_in_place");
	return ktap_end();
}
