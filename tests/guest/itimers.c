// SPDX-License-Identifier: GPL-2.0
/*
 * The three interval timers (ITIMER_REAL, which alarm() arms,
 * ITIMER_VIRTUAL and ITIMER_PROF) are saved and restored: the restored
 * task has the saved intervals exactly and at most the saved remaining
 * times, never the caller's timers, and each timer fires once its
 * remaining time has passed.  Checked for a task that checkpoints itself
 * and for one stopped in pause() and checkpointed from outside.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <fcntl.h>
#include <sys/time.h>
#include <sys/wait.h>

#define IMG "/tmp/itimers.img"

static const int which_timer[3] = { ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF };
static const int timer_signal[3] = { SIGALRM, SIGVTALRM, SIGPROF };

static int64_t tv_us(struct timeval tv)
{
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct itimerval timer_of(int64_t value_us, int64_t interval_us)
{
	struct itimerval it = {
		.it_value = { value_us / 1000000, value_us % 1000000 },
		.it_interval = { interval_us / 1000000, interval_us % 1000000 },
	};

	return it;
}

/* What the saver's timers were just before its checkpoint. */
static struct itimerval saved[3];
static volatile sig_atomic_t fired[3];

static void on_timer(int sig)
{
	for (int i = 0; i < 3; i++)
		if (timer_signal[i] == sig)
			fired[i]++;
}

/* Checkpoints itself to IMG: 1 in the saver, 0 in the restored task. */
static int checkpoint_self(void)
{
	int fd = open(IMG, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	long r = sys_checkpoint(0, fd, 0);

	if (r < 0)
		_exit(100);
	return r > 0;
}

/* Restarts IMG in a child that first arms timers of its own. */
static int restart_with_caller_timers(void)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(IMG, O_RDONLY);
		struct itimerval real = timer_of(100000000, 0);
		struct itimerval virt = timer_of(200000000, 7000);

		setitimer(ITIMER_REAL, &real, NULL);
		setitimer(ITIMER_VIRTUAL, &virt, NULL);
		sys_restart(0, fd, 0);
		_exit(150);
	}
	waitpid(pid, &status, 0);
	return status;
}

/*
 * Saved values: the intervals come back exactly, the remaining times as
 * saved or a little less (the real timer loses the time the checkpoint
 * and restart took; the CPU-time ones lose nothing).  CPU time is
 * accounted in scheduler ticks, so getitimer() on a CPU-time timer can
 * read up to a few ticks more than was set (30.004 s for 30 s was seen
 * without any checkpoint): TICK_SLACK allows for that.
 */
#define TICK_SLACK 20000
static int saver_values(void)
{
	const int64_t value[3] = { 20000000, 30000000, 40000000 };
	const int64_t interval[3] = { 1500000, 250000, 750000 };
	const int64_t slack[3] = { 10000000, 2000000, 2000000 };

	for (int i = 0; i < 3; i++) {
		struct itimerval it = timer_of(value[i], interval[i]);

		setitimer(which_timer[i], &it, NULL);
	}
	for (int i = 0; i < 3; i++)
		getitimer(which_timer[i], &saved[i]);
	if (checkpoint_self())
		_exit(0);
	for (int i = 0; i < 3; i++) {
		struct itimerval it;

		if (getitimer(which_timer[i], &it))
			return 1 + i;
		if (tv_us(it.it_interval) != tv_us(saved[i].it_interval))
			return 10 + i;
		if (tv_us(it.it_value) > tv_us(saved[i].it_value) + TICK_SLACK ||
		    tv_us(it.it_value) < tv_us(saved[i].it_value) - slack[i]) {
			printf("    # timer %d: %lld us left, %lld us saved\n", i,
			       (long long)tv_us(it.it_value),
			       (long long)tv_us(saved[i].it_value));
			return 20 + i;
		}
	}
	return 0;
}

/* Armed, one-shot timers fire once after restart, on time. */
static int saver_fires(void)
{
	const int64_t value[3] = { 1000000, 200000, 300000 };
	int64_t start, real_at = 0;

	for (int i = 0; i < 3; i++) {
		struct itimerval it = timer_of(value[i], 0);

		signal(timer_signal[i], on_timer);
		setitimer(which_timer[i], &it, NULL);
	}
	if (checkpoint_self())
		_exit(0);
	start = now_us();
	/* Burn CPU time until all three fired, for at most 20 s. */
	while (!(fired[0] && fired[1] && fired[2]) &&
	       now_us() - start < 20000000) {
		if (fired[0] && !real_at)
			real_at = now_us();
	}
	if (fired[0] && !real_at)
		real_at = now_us();
	for (int i = 0; i < 3; i++)
		if (fired[i] != 1)
			return 1 + i;
	/*
	 * The real timer had about 1 s left: not at once (the caller's own
	 * timers were removed), not after seconds.
	 */
	if (real_at - start < 100000 || real_at - start > 10000000)
		return 10;
	return 0;
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

static void alarm_exit(int sig)
{
	(void)sig;
	_exit(42);
}

/*
 * A task waiting in pause() for its alarm is stopped, checkpointed from
 * outside and killed; its restarted copy gets SIGALRM after the time that
 * remained.
 */
static void external_alarm_case(void)
{
	const char *name = "external_alarm_in_pause_fires_after_restart";
	long long waited;
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGALRM, alarm_exit);
		alarm(2);
		for (;;)
			pause();
	}
	usleep(300000);
	stop_target(pid);
	if (checkpoint_and_kill(pid, IMG) < 0) {
		ktap_case(0, name, "checkpoint failed: %s", strerror(errno));
		return;
	}
	/* Without its alarm the copy would pause forever: wait 15 s. */
	status = restart_and_wait(IMG, 15000, &waited);
	ktap_case(WIFEXITED(status) && WEXITSTATUS(status) == 42 &&
			  waited > 800 && waited < 15000,
		  name,
		  "restarted task status %#x after %lld ms (42: its SIGALRM handler ran; about 1700 ms expected)",
		  status, waited);
}

int main(void)
{
	ktap_begin("itimers", 3);
	fflush(stdout);
	self_case("saved_values_and_intervals_not_the_callers", saver_values);
	self_case("armed_timers_fire_once_after_restart", saver_fires);
	external_alarm_case();
	return ktap_end();
}
