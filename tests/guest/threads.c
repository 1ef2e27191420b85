// SPDX-License-Identifier: GPL-2.0
/*
 * A multi-threaded process (pthreads) checkpointed from outside while its
 * threads wait on a mutex and a condition variable, in the style of zdtm
 * pthread00: the threads take turns, each folding its round and its own
 * TLS accumulator into a shared checksum.  Halfway, thread 0 waits for a
 * file; the process is stopped there, checkpointed, killed, and
 * restarted.  The restored process must finish with the checksum of an
 * uninterrupted run, and every thread must still have its TLS, its
 * signal mask, its signal stack and the signal pending on its own queue
 * only.  Restarted as a child with the saved pid (RESTART_CHILD), the
 * threads get their saved ids; restarted in place in another process,
 * they get new ones.  8 and 64 threads.
 *
 * Threads with scheduling settings of their own (a nice value, SCHED_IDLE
 * with an affinity, SCHED_BATCH) in a process whose leader has another
 * nice value and SCHED_RESET_ON_FORK (which the threads restart creates
 * would lose) each get their own back.  (A process whose leader has
 * exited: leader_exited.c.)
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"
#include "image.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define IMG "/tmp/threads.img"
#define HALF "/tmp/threads.half"
#define GO "/tmp/threads.go"
#define MAX_THREADS 64
#define ROUNDS 40

static int nthreads;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int turn;
static uint64_t checksum;
/* Per thread: its tid before the checkpoint, and what it found wrong. */
static pid_t tids[MAX_THREADS];
static int failed[MAX_THREADS];
static char altstacks[MAX_THREADS][16384];

static __thread int my_index = -1;
static __thread uint64_t tls_acc;

static uint64_t fold(uint64_t sum, int round, int i, uint64_t acc)
{
	return sum * 1000003 + ((uint64_t)round * 131 + i) * 7 + acc;
}

/* The checksum of an uninterrupted run, computed by one thread. */
static uint64_t expected_checksum(void)
{
	uint64_t sum = 0, acc[MAX_THREADS] = { 0 };

	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < nthreads; i++) {
			sum = fold(sum, r, i, acc[i]);
			acc[i] += (uint64_t)r * i + 1;
		}
	return sum;
}

/* The mask thread @i runs with: SIGUSR1, and SIGRTMIN + @i % 16. */
static void thread_mask(int i, sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGRTMIN + i % 16);
}

static void *worker(void *arg)
{
	int i = (int)(long)arg;
	sigset_t mask, now, pending;
	stack_t ss = { .ss_sp = altstacks[i], .ss_size = sizeof(altstacks[i]) };

	my_index = i;
	tids[i] = gettid();
	thread_mask(i, &mask);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	sigaltstack(&ss, NULL);
	/* Pending on this thread's own queue, and blocked. */
	if (i < 16)
		pthread_kill(pthread_self(), SIGRTMIN + i);
	for (int r = 0; r < ROUNDS; r++) {
		if (i == 0 && r == ROUNDS / 2) {
			/* Halfway: the others wait on the condition. */
			close(open(HALF, O_WRONLY | O_CREAT, 0644));
			while (access(GO, F_OK))
				usleep(1000);
		}
		pthread_mutex_lock(&lock);
		while (turn != i)
			pthread_cond_wait(&cond, &lock);
		checksum = fold(checksum, r, i, tls_acc);
		tls_acc += (uint64_t)r * i + 1;
		turn = (turn + 1) % nthreads;
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
	}
	pthread_sigmask(SIG_SETMASK, NULL, &now);
	sigpending(&pending);
	sigaltstack(NULL, &ss);
	if (my_index != i)
		failed[i] |= 1;
	if (!sigismember(&now, SIGUSR1) ||
	    !sigismember(&now, SIGRTMIN + i % 16) ||
	    sigismember(&now, SIGUSR2))
		failed[i] |= 2;
	for (int j = 0; j < 16 && j < nthreads; j++)
		if (sigismember(&pending, SIGRTMIN + j) != (j == i))
			failed[i] |= 4;
	if (ss.ss_sp != altstacks[i] || ss.ss_size != sizeof(altstacks[i]))
		failed[i] |= 8;
	return NULL;
}

/*
 * The target: runs the threads (the main thread is thread 0) and exits
 * 0 if the checksum and every thread's checks hold; 10 + the thread of
 * the first failure, or 9 for a wrong checksum.
 */
static int run_target(int want_saved_tids)
{
	pthread_t t[MAX_THREADS];
	uint64_t want = expected_checksum();

	for (int i = 1; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(long)i))
			return 100;
	worker(0);
	for (int i = 1; i < nthreads; i++)
		pthread_join(t[i], NULL);
	if (checksum != want)
		return 9;
	for (int i = 0; i < nthreads; i++)
		if (failed[i])
			return 10 + (i < 40 ? i : 40);
	/* Only thread 0 could have read its tid again: the others are gone. */
	if (want_saved_tids && gettid() != tids[0])
		return 60;
	return 0;
}

/* Starts the target, waits until it is halfway, stops it. */
static pid_t start_target(int want_saved_tids)
{
	pid_t pid;

	unlink(HALF);
	unlink(GO);
	pid = fork();
	if (pid == 0)
		_exit(run_target(want_saved_tids));
	for (int i = 0; i < 30000 && access(HALF, F_OK); i++)
		usleep(1000);
	/* Let the other threads reach the condition variable. */
	usleep(200000);
	stop_target(pid);
	return pid;
}

/* The number of thread records in @img. */
static int thread_records(const struct image *img)
{
	int n = 0;

	while (image_find(img, REC_THREAD, n) >= 0)
		n++;
	return n;
}

static int wait_status(pid_t pid)
{
	int status = -1;

	return waitpid(pid, &status, 0) == pid ? status : -1;
}

/* Saves @n threads, restarts with RESTART_CHILD: saved pid and tids. */
static void restart_as_child(int n, const char *name)
{
	long r, ret;
	int fd, status;
	pid_t pid, child;
	struct image img;
	int threads_in_image = 0;

	nthreads = n;
	pid = start_target(1);
	r = checkpoint_and_kill(pid, IMG);
	if (image_load(&img, IMG) == 0)
		threads_in_image = thread_records(&img);
	close(open(GO, O_WRONLY | O_CREAT, 0644));
	fd = open(IMG, O_RDONLY);
	ret = sys_restart(0, fd, RESTART_CHILD);
	child = ret;
	close(fd);
	status = ret > 0 ? wait_status(child) : -1;
	ktap_case(r >= 0 && threads_in_image == n - 1 && ret == pid &&
		  WIFEXITED(status) && WEXITSTATUS(status) == 0, name,
		  "checkpoint %ld (errno %d), %d thread records, restart %ld (errno %d), pid %d, status %#x",
		  r, r < 0 ? errno : 0, threads_in_image, ret,
		  ret < 0 ? errno : 0, pid, status);
}

/* Saves 8 threads, restarts in place in a forked child: new tids. */
static void restart_in_place(void)
{
	long r;
	pid_t pid, child;
	int status;

	nthreads = 8;
	pid = start_target(0);
	r = checkpoint_and_kill(pid, IMG);
	close(open(GO, O_WRONLY | O_CREAT, 0644));
	child = restart_in_child(IMG);
	status = wait_status(child);
	ktap_case(r >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "threads_restart_in_place_with_new_tids",
		  "checkpoint %ld, restored status %#x", r, status);
}

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* What a refused target does before it stops. */
#define SCHED_READY "/tmp/threads.sched-ready"
#define SCHED_GO "/tmp/threads.sched-go"
#define SCHED_THREADS 3
#define LEADER_NICE (-3)

/* What each thread of the scheduling case sets, and finds again. */
static const struct {
	int policy, nice, cpu0_only;
} sched_wants[SCHED_THREADS] = {
	{ SCHED_OTHER, 5, 0 },
	{ SCHED_IDLE, 0, 1 },
	{ SCHED_BATCH, 3, 0 },
};
static atomic_int sched_ready, sched_results[SCHED_THREADS];

/* Whether the calling thread has the settings of @i. */
static int has_sched(int i)
{
	cpu_set_t set;

	errno = 0;
	if (sched_getscheduler(0) != sched_wants[i].policy ||
	    getpriority(PRIO_PROCESS, gettid()) != sched_wants[i].nice ||
	    errno || sched_getaffinity(0, sizeof(set), &set))
		return 0;
	return !sched_wants[i].cpu0_only ||
	       (CPU_COUNT(&set) == 1 && CPU_ISSET(0, &set));
}

static void *sched_thread(void *arg)
{
	int i = (int)(intptr_t)arg;
	struct sched_param sp = { 0 };

	if (sched_wants[i].cpu0_only) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(0, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	/* Pid 0: this thread alone. */
	sched_setscheduler(0, sched_wants[i].policy, &sp);
	setpriority(PRIO_PROCESS, gettid(), sched_wants[i].nice);
	sched_ready += has_sched(i);
	while (access(SCHED_GO, F_OK))
		usleep(2000);
	sched_results[i] = has_sched(i) ? 1 : 2;
	return idle(NULL);
}

/* The target of the scheduling case: exits 0 once restored right. */
static void sched_target(void)
{
	struct sched_param sp = { 0 };
	pthread_t t;

	for (int i = 0; i < SCHED_THREADS; i++)
		if (pthread_create(&t, NULL, sched_thread, (void *)(intptr_t)i))
			_exit(2);
	while (sched_ready < SCHED_THREADS)
		usleep(1000);
	if (sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &sp) ||
	    setpriority(PRIO_PROCESS, gettid(), LEADER_NICE))
		_exit(3);
	close(open(SCHED_READY, O_WRONLY | O_CREAT, 0644));
	while (access(SCHED_GO, F_OK))
		usleep(2000);
	if (sched_getscheduler(0) != (SCHED_OTHER | SCHED_RESET_ON_FORK) ||
	    getpriority(PRIO_PROCESS, gettid()) != LEADER_NICE)
		_exit(10);
	for (int i = 0; i < SCHED_THREADS; i++) {
		for (int tries = 0; tries < 5000 && !sched_results[i]; tries++)
			usleep(1000);
		if (sched_results[i] != 1)
			_exit(11 + i);
	}
	_exit(0);
}

/*
 * Threads with their own scheduling settings get them back, in a process
 * with SCHED_RESET_ON_FORK.
 */
static void thread_sched_restored(void)
{
	int status = -1;
	long r = -1, ret = -1;
	pid_t pid;

	unlink(SCHED_READY);
	unlink(SCHED_GO);
	pid = fork();
	if (pid == 0)
		sched_target();
	for (int tries = 0; tries < 5000 && access(SCHED_READY, F_OK); tries++)
		usleep(1000);
	if (pid > 0 && !access(SCHED_READY, F_OK)) {
		stop_target(pid);
		r = checkpoint_and_kill(pid, IMG);
	}
	close(open(SCHED_GO, O_WRONLY | O_CREAT, 0644));
	if (r > 0)
		status = restart_child_and_wait(IMG, 0, NULL, &ret);
	ktap_case(ret == pid && WIFEXITED(status) && !WEXITSTATUS(status),
		  "threads_own_scheduling_restored",
		  "checkpoint %ld, restart %ld, status %#x (exit code: first failed check)",
		  r, ret, status);
}

int main(void)
{
	ktap_begin("threads", 4);
	fflush(stdout);
	restart_as_child(8, "threads_8_restart_as_child_saved_tids");
	restart_as_child(64, "threads_64_restart_as_child_saved_tids");
	restart_in_place();
	thread_sched_restored();
	return ktap_end();
}
