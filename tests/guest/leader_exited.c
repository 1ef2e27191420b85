// SPDX-License-Identifier: GPL-2.0
/*
 * A process whose leader thread has exited while its other threads run
 * on, in the style of zdtm pthread02.  The leader of the target exits
 * with exit(2) status 7 (not exit_group) once its three workers run; the
 * process is then stopped, checkpointed and killed, and restarted as a
 * child with its saved ids and in place in another process.
 *
 * Restored, the leader must be a zombie again, with its exit status (as
 * /proc shows it), and each worker must have its TLS, its own signal mask
 * and, as a child, its saved id; a signal sent to the process must reach
 * the one worker that does not block it.  The workers then leave with
 * exit(2), one by one, so that the last to go gives the process its wait
 * status, 0.  A failed check ends the process with exit_group(20 + the
 * check's number).
 *
 * The checkpoint may name the process by a worker's id as well.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"
#include "image.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>

#define IMG "/tmp/leader_exited.img"
#define READY "/tmp/leader_exited.ready"
#define GO "/tmp/leader_exited.go"
#define WORKERS 3
#define LEADER_STATUS 7
/* In the task record's payload: its flags, and the leader's exit status. */
#define TASK_FLAGS_OFFSET 120
#define TASK_EXIT_STATUS_OFFSET 132
#define TASK_FLAG_LEADER_EXITED 16

static pid_t saved_tgid;
static pid_t saved_tids[WORKERS];
static atomic_int started, arrived, checked;
/* Each worker's id once restored (0 before). */
static atomic_int restored_tids[WORKERS];
static atomic_int usr1_tid;
static __thread int my_index = -1;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_store(&usr1_tid, (int)gettid());
}

static void fail(int check)
{
	syscall(SYS_exit_group, 20 + check);
}

/* The mask of worker @i: all but worker 0 block SIGUSR1; each SIGRTMIN + i. */
static void worker_mask(int i, sigset_t *set)
{
	sigemptyset(set);
	if (i != 0)
		sigaddset(set, SIGUSR1);
	sigaddset(set, SIGRTMIN + i);
}

/* The exit code /proc shows for @pid's leader (field 52 of stat), or -1. */
static long leader_exit_code(pid_t pid)
{
	char path[64], buf[1024];
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	p = read_stat(path, buf, sizeof(buf), NULL);
	/* @p is the space before field 3; field 52 is 49 fields further. */
	for (int field = 3; p && field < 52; field++)
		p = strchr(p + 1, ' ');
	return p ? strtol(p + 1, NULL, 10) : -1;
}

/* Whether the GO file exists; its first byte says how restart ran. */
static int go_mode(void)
{
	char mode = 0;
	int fd = open(GO, O_RDONLY);

	if (fd < 0)
		return 0;
	if (read(fd, &mode, 1) != 1)
		mode = '?';
	close(fd);
	return mode;
}

static void *worker(void *arg)
{
	int i = (int)(long)arg, mode;
	sigset_t want, have;

	my_index = i;
	saved_tids[i] = gettid();
	worker_mask(i, &want);
	pthread_sigmask(SIG_SETMASK, &want, NULL);
	atomic_fetch_add(&started, 1);
	while (!(mode = go_mode()))
		usleep(2000);
	/* Restored: the process lives on without its leader. */
	atomic_store(&restored_tids[i], (int)gettid());
	atomic_fetch_add(&arrived, 1);
	if (my_index != i)
		fail(1);
	pthread_sigmask(SIG_SETMASK, NULL, &have);
	for (int s = 1; s < SIGRTMAX; s++)
		if (sigismember(&want, s) != sigismember(&have, s))
			fail(2);
	if (mode == 'c' && (getpid() != saved_tgid || gettid() != saved_tids[i]))
		fail(3);
	/* The leader exits again once the restart is over. */
	for (int tries = 0; tries < 2500 && proc_state(getpid()) != 'Z'; tries++)
		usleep(2000);
	if (proc_state(getpid()) != 'Z')
		fail(4);
	if (leader_exit_code(getpid()) != LEADER_STATUS << 8)
		fail(6);
	if (i == 1) {
		while (atomic_load(&arrived) < WORKERS)
			usleep(1000);
		kill(getpid(), SIGUSR1);
		for (int tries = 0; tries < 2500 && !atomic_load(&usr1_tid); tries++)
			usleep(2000);
		if (atomic_load(&usr1_tid) != atomic_load(&restored_tids[0]))
			fail(5);
	}
	atomic_fetch_add(&checked, 1);
	/* Leave once all are checked, the last leaving the leader's status. */
	while (atomic_load(&checked) < WORKERS)
		usleep(1000);
	syscall(SYS_exit, 0);
	return NULL;
}

/* The target: its leader exits once the workers run. */
static void target(void)
{
	pthread_t t;

	saved_tgid = getpid();
	signal(SIGUSR1, on_usr1);
	for (long i = 0; i < WORKERS; i++)
		if (pthread_create(&t, NULL, worker, (void *)i))
			_exit(30);
	while (atomic_load(&started) < WORKERS)
		usleep(1000);
	close(open(READY, O_WRONLY | O_CREAT, 0644));
	syscall(SYS_exit, LEADER_STATUS);
	_exit(31);
}

/* Creates the GO file, its first byte @mode. */
static void go(char mode)
{
	int fd = open(GO, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd >= 0) {
		if (write(fd, &mode, 1) != 1)
			perror("go");
		close(fd);
	}
}

/* The id of a worker of @pid (any thread but the leader), or 0. */
static pid_t a_worker(pid_t pid)
{
	char path[64];
	pid_t tid = 0;
	int fd;

	/* The workers' ids follow the leader's, barring wrap-around. */
	for (pid_t t = pid + 1; t < pid + 64 && !tid; t++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d", pid, t);
		fd = open(path, O_RDONLY | O_DIRECTORY);
		if (fd >= 0) {
			tid = t;
			close(fd);
		}
	}
	return tid;
}

/*
 * Starts a target, waits until its leader has exited, stops it and
 * checkpoints it by @by_worker ? a worker's id : its pid; returns what
 * checkpoint returned, and the target's pid in *@pid.
 */
static long make_image(int by_worker, pid_t *pid)
{
	long r = -1;

	unlink(READY);
	unlink(GO);
	*pid = fork();
	if (*pid == 0)
		target();
	for (int tries = 0; tries < 5000 && access(READY, F_OK); tries++)
		usleep(1000);
	for (int tries = 0; tries < 5000 && proc_state(*pid) != 'Z'; tries++)
		usleep(1000);
	if (*pid > 0 && proc_state(*pid) == 'Z') {
		pid_t named = by_worker ? a_worker(*pid) : *pid;

		stop_target(*pid);
		if (named > 0)
			r = checkpoint_to(named, IMG);
	}
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	return r;
}

/*
 * Whether IMG holds one process whose task record says its leader exited
 * with LEADER_STATUS, and a thread record for each worker.
 */
static int image_as_saved(void)
{
	struct image img;
	long task;
	int threads = 0;

	if (image_load(&img, IMG))
		return 0;
	task = image_find(&img, REC_TASK, 0);
	while (image_find(&img, REC_THREAD, threads) >= 0)
		threads++;
	return task >= 0 && image_find(&img, REC_TASK, 1) < 0 &&
	       threads == WORKERS &&
	       image_u32(&img, task + 8 + TASK_FLAGS_OFFSET) &
			TASK_FLAG_LEADER_EXITED &&
	       image_u32(&img, task + 8 + TASK_EXIT_STATUS_OFFSET) ==
			LEADER_STATUS << 8;
}

/* Restarts IMG as a child with the saved ids; its wait status, or -1. */
static int restart_as_child(pid_t pid, long *ret)
{
	int status = -1, fd = open(IMG, O_RDONLY);

	unlink(GO);
	*ret = sys_restart(0, fd, RESTART_CHILD);
	close(fd);
	go('c');
	if (*ret == pid && waitpid(pid, &status, 0) != pid)
		status = -1;
	return status;
}

static int exited_as_saved(int status)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(void)
{
	int status = -1;
	long r, ret = -1;
	pid_t pid;

	ktap_begin("leader_exited", 4);
	fflush(stdout);
	r = make_image(0, &pid);
	ktap_case(r > 0 && image_as_saved(), "leader_exited_checkpoint",
		  "checkpoint %ld errno %d (the image: one process, its leader exited with 7, %d threads)",
		  r, r > 0 ? 0 : errno, WORKERS);
	if (r > 0)
		status = restart_as_child(pid, &ret);
	ktap_case(ret == pid && exited_as_saved(status),
		  "leader_exited_restart_as_child",
		  "restart %ld (pid %d), status %#x (exit code 0, or 20 + failed check)",
		  ret, pid, status);
	reap_children();

	status = -1;
	if (r > 0) {
		go('p');
		waitpid(restart_in_child(IMG), &status, 0);
	}
	ktap_case(exited_as_saved(status),
		  "leader_exited_restart_in_place",
		  "status %#x (exit code 0, or 20 + failed check)", status);
	reap_children();

	status = -1;
	ret = -1;
	r = make_image(1, &pid);
	if (r > 0)
		status = restart_as_child(pid, &ret);
	ktap_case(r > 0 && ret == pid && exited_as_saved(status),
		  "leader_exited_named_by_a_thread",
		  "checkpoint %ld, restart %ld (pid %d), status %#x", r, ret,
		  pid, status);
	reap_children();
	return ktap_end();
}
