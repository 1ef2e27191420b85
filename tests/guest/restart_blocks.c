// SPDX-License-Identifier: GPL-2.0
/*
 * A task stopped inside a blocking system call, checkpointed from outside
 * and restarted, resumes the call as it would have after SIGCONT:
 * pause(), sigsuspend() (with its own mask back afterwards), select()
 * with the time it had left, clock_nanosleep() to its absolute deadline,
 * a futex wait, poll() and futex waits with a timeout (the time they had
 * left; their restart blocks are saved) and poll() without one.  (A task
 * in wait4() has a child, which checkpoint refuses: see
 * checkpoint_unsupported.)
 *
 * Each case forks a target that sets up and enters the call, stops and
 * checkpoints it, kills it, and restarts the image in a new child; calls
 * that wait for a signal get SIGUSR1 once the restored task has waited a
 * while.  The target exits 0 when the call behaved.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <linux/futex.h>
#include <sys/select.h>
#include <sys/wait.h>

#define IMG "/tmp/restart_blocks.img"

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void in_pause(void)
{
	signal(SIGUSR1, on_usr1);
	pause();
	_exit(errno == EINTR && got_usr1 ? 0 : 1);
}

static void in_sigsuspend(void)
{
	sigset_t usr1, empty, after;

	signal(SIGUSR1, on_usr1);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	sigemptyset(&empty);
	sigsuspend(&empty);
	if (errno != EINTR || !got_usr1)
		_exit(1);
	/* The mask of before the call is back. */
	sigprocmask(SIG_BLOCK, NULL, &after);
	_exit(sigismember(&after, SIGUSR1) ? 0 : 2);
}

static void in_select(void)
{
	struct timeval tv = { .tv_sec = 2 };

	/* Times out after what was left of its 2 s. */
	_exit(select(0, NULL, NULL, NULL, &tv) == 0 ? 0 : 1);
}

static void in_clock_nanosleep_abs(void)
{
	struct timespec deadline, now;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 2;
	if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL))
		_exit(1);
	clock_gettime(CLOCK_MONOTONIC, &now);
	_exit(now.tv_sec > deadline.tv_sec ||
			      (now.tv_sec == deadline.tv_sec &&
			       now.tv_nsec >= deadline.tv_nsec) ?
		      0 : 2);
}

static int futex_word;

static void set_word(int sig)
{
	(void)sig;
	futex_word = 1;
}

static void in_futex_wait(void)
{
	struct sigaction sa = { .sa_handler = set_word, .sa_flags = SA_RESTART };

	sigaction(SIGUSR1, &sa, NULL);
	while (!futex_word)
		syscall(__NR_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL);
	_exit(0);
}

static void in_poll_timeout(void)
{
	/* Entries with a negative fd are ignored: only the timeout ends it. */
	struct pollfd fds[2] = { { .fd = -1 }, { .fd = -1 } };

	/* Times out after what was left of its 2 s, with both entries. */
	_exit(poll(fds, 2, 2000) == 0 && fds[0].revents == 0 ? 0 : 1);
}

static void in_poll_forever(void)
{
	struct pollfd fds[1] = { { .fd = -1 } };

	signal(SIGUSR1, on_usr1);
	/* A handler ends a poll with EINTR, SA_RESTART or not. */
	_exit(poll(fds, 1, -1) == -1 && errno == EINTR && got_usr1 ? 0 : 1);
}

static void in_futex_wait_timeout(void)
{
	struct timespec rel = { .tv_sec = 2 };

	/* Times out after what was left of its 2 s: nobody wakes it. */
	_exit(syscall(__NR_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, &rel) == -1 &&
			      errno == ETIMEDOUT ?
		      0 : 1);
}

static void in_futex_wait_realtime_deadline(void)
{
	struct timespec deadline, now;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 2;
	/* An absolute deadline on the realtime clock, on a shared futex. */
	if (syscall(__NR_futex, &futex_word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME,
		    0, &deadline, NULL, FUTEX_BITSET_MATCH_ANY) != -1 ||
	    errno != ETIMEDOUT)
		_exit(1);
	clock_gettime(CLOCK_REALTIME, &now);
	_exit(now.tv_sec >= deadline.tv_sec ? 0 : 2);
}

struct block_case {
	const char *name;
	void (*target)(void);
	/* 1: send SIGUSR1 to the restored task after it waited a while */
	int poke;
	/* least time in ms the restored task must still wait */
	int min_ms;
};

static const struct block_case cases[] = {
	{ "pause_interrupted_by_handler_after_restart", in_pause, 1, 0 },
	{ "sigsuspend_resumes_and_restores_its_mask", in_sigsuspend, 1, 0 },
	{ "select_times_out_with_what_was_left", in_select, 0, 800 },
	{ "clock_nanosleep_abstime_wakes_at_deadline", in_clock_nanosleep_abs, 0, 800 },
	{ "futex_wait_resumes", in_futex_wait, 1, 0 },
	{ "poll_times_out_with_what_was_left", in_poll_timeout, 0, 800 },
	{ "poll_without_timeout_interrupted_by_handler", in_poll_forever, 1, 0 },
	{ "futex_wait_times_out_with_what_was_left", in_futex_wait_timeout, 0, 800 },
	{ "futex_wait_bitset_realtime_times_out", in_futex_wait_realtime_deadline, 0, 800 },
};

static void run_case(const struct block_case *c)
{
	int status = -1;
	int64_t started;
	pid_t pid = fork();

	if (pid == 0) {
		setpgid(0, 0);
		c->target();
		_exit(99);
	}
	setpgid(pid, pid);
	usleep(300000);
	stop_target(pid);
	if (checkpoint_and_kill(pid, IMG) < 0) {
		ktap_case(0, c->name, "checkpoint failed: %s", strerror(errno));
		return;
	}
	started = now_ms();
	pid = restart_in_child(IMG);
	if (c->poke) {
		usleep(500000);
		/* Still waiting: the call was resumed, not ended. */
		if (waitpid(pid, &status, WNOHANG) != 0) {
			ktap_case(0, c->name, "ended before its signal, status %#x",
				  status);
			return;
		}
		kill(pid, SIGUSR1);
	}
	while (waitpid(pid, &status, WNOHANG) == 0 && now_ms() - started < 15000)
		usleep(20000);
	if (now_ms() - started >= 15000) {
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	ktap_case(WIFEXITED(status) && !WEXITSTATUS(status) &&
			  now_ms() - started >= c->min_ms,
		  c->name,
		  "restarted task status %#x after %lld ms (exit code = failed check, 150: restart returned)",
		  status, (long long)(now_ms() - started));
}

int main(void)
{
	size_t i, n = sizeof(cases) / sizeof(cases[0]);

	ktap_begin("restart_blocks", n);
	fflush(stdout);
	for (i = 0; i < n; i++)
		run_case(&cases[i]);
	return ktap_end();
}
