// SPDX-License-Identifier: GPL-2.0
/*
 * POSIX timers (timer_create) are saved and restored: the restored task
 * has its timers with their ids, clocks, notifications, intervals and
 * overrun counts, at most the time they had left, none of the caller's
 * timers, and its next timer_create() gives the id it would have given.
 * Its timers fire after restart with the siginfo they were created with.
 * A timer armed at an absolute CLOCK_REALTIME time still follows
 * clock_settime().  Checked for tasks that checkpoint themselves and for
 * one stopped in pause() and checkpointed from outside.
 *
 * The timers are driven with raw system calls, so that ids are the
 * kernel's and not the C library's handles.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"
#include "image.h"

#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define IMG "/tmp/posix_timers.img"
#define NS 1000000000LL

/* The kernel's struct sigevent, with the thread id glibc hides. */
struct kernel_sigevent {
	union sigval value;
	int signo;
	int notify;
	int tid;
	int pad[11];
};

static int timer_new(clockid_t clock, int notify, int signo, uint64_t value)
{
	struct kernel_sigevent ev = {
		.value.sival_ptr = (void *)(uintptr_t)value,
		.signo = signo,
		.notify = notify,
		.tid = gettid(),
	};
	int id;

	if (syscall(SYS_timer_create, clock, &ev, &id))
		return -1;
	return id;
}

/* A timer created with no sigevent: SIGALRM with its id as the value. */
static int timer_default(clockid_t clock)
{
	int id;

	return syscall(SYS_timer_create, clock, NULL, &id) ? -1 : id;
}

static int timer_arm(int id, int flags, int64_t value_ns, int64_t interval_ns)
{
	struct itimerspec its = {
		.it_value = { value_ns / NS, value_ns % NS },
		.it_interval = { interval_ns / NS, interval_ns % NS },
	};

	return syscall(SYS_timer_settime, id, flags, &its, NULL);
}

/* Time left and interval of timer @id, in ns; -1 if it does not exist. */
static int timer_get(int id, int64_t *value_ns, int64_t *interval_ns)
{
	struct itimerspec its;

	if (syscall(SYS_timer_gettime, id, &its))
		return -1;
	*value_ns = its.it_value.tv_sec * NS + its.it_value.tv_nsec;
	*interval_ns = its.it_interval.tv_sec * NS + its.it_interval.tv_nsec;
	return 0;
}

static int64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

/* Checkpoints itself to IMG: 1 in the saver, 0 in the restored task. */
static int checkpoint_self(void)
{
	int fd = open(IMG, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	long r = sys_checkpoint(0, fd, 0);

	if (r < 0) {
		struct image img;
		long last;

		printf("    # checkpoint: %s\n", strerror(errno));
		close(fd);
		if (!image_load(&img, IMG)) {
			last = image_last(&img);
			if (last >= 0 && image_u32(&img, last) == REC_ERROR)
				printf("    # error record: %s\n",
				       (const char *)img.data + last + 16);
		}
		fflush(stdout);
		_exit(100);
	}
	return r > 0;
}

/*
 * Restarts IMG in a child that first creates timers of its own: ids 0
 * to 7, one of them armed to send SIGUSR2 (which would kill the restored
 * task) in 1 s.
 */
static int restart_with_caller_timers(void)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(IMG, O_RDONLY);

		for (int i = 0; i < 8; i++)
			timer_new(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR2, i);
		timer_arm(3, 0, NS, 0);
		sys_restart(0, fd, 0);
		_exit(150);
	}
	waitpid(pid, &status, 0);
	return status;
}

static void self_case(const char *name, int (*saver)(void))
{
	int saver_status = -1, status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(saver());
	waitpid(pid, &saver_status, 0);
	status = restart_with_caller_timers();
	ktap_case(saver_status == 0 && WIFEXITED(status) && !WEXITSTATUS(status),
		  name,
		  "saver status %#x; restarted task status %#x (exit code = first failed check, 150: restart returned)",
		  saver_status, status);
}

/*
 * Ids, values, intervals and the next id.  Timers 0 to 4 are created and
 * 2 is deleted: 0 real-time with no sigevent, 1 monotonic that only
 * counts, 3 on the process's CPU-time clock, 4 to this thread and
 * disarmed (an interval without a time is not kept).  The caller's timers 2, 5, 6 and 7 must
 * be gone, and the next timer created gets id 5.
 */
static int saver_values(void)
{
	const int ids[4] = { 0, 1, 3, 4 };
	const int64_t value[4] = { 20 * NS, 30 * NS, 40 * NS, 0 };
	const int64_t interval[4] = { 1500000000, 250000000, 0, 2 * NS };
	/* The CPU-time clock is sampled at ticks: allow a few more. */
	const int64_t over[4] = { 0, 0, 20000000, 0 };
	int64_t saved_value[4], saved_interval[4], v, iv;

	if (timer_default(CLOCK_REALTIME) != 0 ||
	    timer_new(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0) != 1 ||
	    timer_new(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0) != 2 ||
	    timer_new(CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, SIGUSR1,
		      0x123456789aULL) != 3 ||
	    timer_new(CLOCK_MONOTONIC, SIGEV_SIGNAL | SIGEV_THREAD_ID,
		      SIGRTMIN + 2, 77) != 4 ||
	    syscall(SYS_timer_delete, 2))
		return 90;
	for (int i = 0; i < 4; i++) {
		timer_arm(ids[i], 0, value[i], interval[i]);
		timer_get(ids[i], &saved_value[i], &saved_interval[i]);
	}
	if (saved_value[3] != 0 || saved_interval[3] != 0)
		return 91;
	if (checkpoint_self())
		_exit(0);
	for (int i = 0; i < 4; i++) {
		if (timer_get(ids[i], &v, &iv))
			return 1 + i;
		if (iv != saved_interval[i])
			return 10 + i;
		if (v > saved_value[i] + over[i] ||
		    v < saved_value[i] - 10 * NS ||
		    (saved_value[i] && !v)) {
			printf("    # timer %d: %lld ns left, %lld ns saved\n",
			       ids[i], (long long)v, (long long)saved_value[i]);
			return 20 + i;
		}
	}
	for (int id = 2; id < 8; id += id == 2 ? 3 : 1)
		if (!timer_get(id, &v, &iv))
			return 30 + id;
	if (timer_default(CLOCK_MONOTONIC) != 5)
		return 40;
	return 0;
}

/* What each timer's signal delivered, by signal. */
struct delivery {
	int signo;
	volatile int count;
	volatile int code;
	volatile int timerid;
	volatile uintptr_t value;
};

static struct delivery deliveries[3];

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	for (int i = 0; i < 3; i++) {
		if (deliveries[i].signo != sig)
			continue;
		deliveries[i].count++;
		deliveries[i].code = si->si_code;
		deliveries[i].timerid = si->si_timerid;
		deliveries[i].value = (uintptr_t)si->si_value.sival_ptr;
	}
}

/*
 * Three one-shot timers fire once after restart, each with its siginfo:
 * a real-time one with no sigevent (SIGALRM, its id as the value), a
 * monotonic one to this thread and a CPU-time one with pointer values.
 */
static int saver_fires(void)
{
	const int signo[3] = { SIGALRM, SIGRTMIN + 1, SIGUSR1 };
	const uintptr_t value[3] = { 0, 4242, 0xabcdef01234ULL };
	struct sigaction sa = { .sa_sigaction = on_timer,
				.sa_flags = SA_SIGINFO };
	int64_t start;
	int ids[3];

	for (int i = 0; i < 3; i++) {
		deliveries[i].signo = signo[i];
		sigaction(signo[i], &sa, NULL);
	}
	ids[0] = timer_default(CLOCK_REALTIME);
	ids[1] = timer_new(CLOCK_MONOTONIC, SIGEV_SIGNAL | SIGEV_THREAD_ID,
			   signo[1], value[1]);
	ids[2] = timer_new(CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, signo[2],
			   value[2]);
	if (ids[0] != 0 || ids[1] != 1 || ids[2] != 2 ||
	    timer_arm(ids[0], 0, 500000000, 0) ||
	    timer_arm(ids[1], 0, 300000000, 0) ||
	    timer_arm(ids[2], 0, 200000000, 0))
		return 90;
	if (checkpoint_self())
		_exit(0);
	start = now_ns(CLOCK_MONOTONIC);
	/* Burn CPU time until all three fired, for at most 20 s. */
	while (!(deliveries[0].count && deliveries[1].count &&
		 deliveries[2].count) &&
	       now_ns(CLOCK_MONOTONIC) - start < 20 * NS)
		;
	/* Past the time the caller's timer would have killed us. */
	while (now_ns(CLOCK_MONOTONIC) - start < 1500000000)
		usleep(10000);
	for (int i = 0; i < 3; i++) {
		if (deliveries[i].count != 1)
			return 1 + i;
		if (deliveries[i].code != SI_TIMER)
			return 10 + i;
		if (deliveries[i].timerid != ids[i])
			return 20 + i;
		if (deliveries[i].value != value[i])
			return 30 + i;
	}
	return 0;
}

/*
 * The overrun count of a periodic timer: its signal stays blocked while
 * it expires several times, and timer_getoverrun() then reports the
 * expiries it missed.  Restart keeps that count.
 */
static int saver_overrun(void)
{
	sigset_t set;
	siginfo_t si;
	int id, overrun;
	long got;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	id = timer_new(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 5);
	/* Expiries at 1 ms, then every second: 4 by 3.05 s. */
	if (id < 0 || timer_arm(id, 0, 1000000, NS))
		return 90;
	usleep(3050000);
	if (sigwaitinfo(&set, &si) != SIGUSR1)
		return 91;
	overrun = syscall(SYS_timer_getoverrun, id);
	if (overrun < 1 || si.si_overrun != overrun)
		return 92;
	/* The next expiry is about 0.95 s away. */
	if (checkpoint_self())
		_exit(0);
	got = syscall(SYS_timer_getoverrun, id);
	if (got != overrun) {
		printf("    # overrun %ld after restart, %d saved\n", got,
		       overrun);
		return 1;
	}
	return 0;
}

/*
 * A real-time timer armed at an absolute time moves when the clock is
 * set; one armed with a relative time does not.  The clock is set 30 s
 * forward and back again.
 */
static int saver_abstime(void)
{
	int abs_id = timer_new(CLOCK_REALTIME, SIGEV_NONE, 0, 0);
	int rel_id = timer_new(CLOCK_REALTIME, SIGEV_NONE, 0, 0);
	int64_t abs_v = -1, rel_v = -1, iv;
	struct timespec ts;

	if (abs_id < 0 || rel_id < 0 ||
	    timer_arm(abs_id, TIMER_ABSTIME, now_ns(CLOCK_REALTIME) + 60 * NS,
		      0) ||
	    timer_arm(rel_id, 0, 60 * NS, 0))
		return 90;
	if (checkpoint_self())
		_exit(0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 30;
	if (clock_settime(CLOCK_REALTIME, &ts))
		return 91;
	timer_get(abs_id, &abs_v, &iv);
	timer_get(rel_id, &rel_v, &iv);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec -= 30;
	clock_settime(CLOCK_REALTIME, &ts);
	if (abs_v > 31 * NS || abs_v < 20 * NS) {
		printf("    # absolute timer: %lld ns left\n", (long long)abs_v);
		return 1;
	}
	if (rel_v > 60 * NS || rel_v < 50 * NS) {
		printf("    # relative timer: %lld ns left\n", (long long)rel_v);
		return 2;
	}
	return 0;
}

static void timer_exit(int sig)
{
	(void)sig;
	_exit(42);
}

/*
 * A task waiting in pause() for its timer is stopped, checkpointed from
 * outside and killed; its restarted copy gets the timer's signal after
 * the time that remained.
 */
static void external_timer_case(void)
{
	const char *name = "external_timer_in_pause_fires_after_restart";
	long long waited;
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGUSR1, timer_exit);
		/* Id 0 would do; 3 shows the id survives in this case too. */
		for (int i = 0; i < 4; i++)
			timer_new(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, i);
		timer_arm(3, 0, 2 * NS, 0);
		for (;;)
			pause();
	}
	usleep(300000);
	stop_target(pid);
	if (checkpoint_and_kill(pid, IMG) < 0) {
		ktap_case(0, name, "checkpoint failed: %s", strerror(errno));
		return;
	}
	/* Without its timer the copy would pause forever: wait 15 s. */
	status = restart_and_wait(IMG, 15000, &waited);
	ktap_case(WIFEXITED(status) && WEXITSTATUS(status) == 42 &&
			  waited > 800 && waited < 15000,
		  name,
		  "restarted task status %#x after %lld ms (42: its SIGUSR1 handler ran; about 1700 ms expected)",
		  status, waited);
}

int main(void)
{
	ktap_begin("posix_timers", 5);
	fflush(stdout);
	self_case("ids_values_intervals_and_next_id_not_the_callers",
		  saver_values);
	self_case("timers_fire_once_after_restart_with_their_siginfo",
		  saver_fires);
	self_case("overrun_count_survives", saver_overrun);
	self_case("absolute_realtime_timer_follows_clock_settime",
		  saver_abstime);
	external_timer_case();
	return ktap_end();
}
