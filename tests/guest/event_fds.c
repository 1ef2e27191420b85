// SPDX-License-Identifier: GPL-2.0
/*
 * Eventfds, signalfds and timerfds are saved and created again: after
 * restart an eventfd has its counter, semaphore mode and O_NONBLOCK, a
 * dup'd descriptor still shares it, and a signalfd reads exactly the
 * signals of its mask: one left pending at checkpoint, and one queued
 * after restart with its value.  A timerfd has its interval and at most
 * the time it had left, keeps the expirations not read at checkpoint,
 * and one armed at an absolute real time with TFD_TIMER_CANCEL_ON_SET
 * still moves with, and is canceled by, clock_settime().  Checked for a task that checkpoints itself and for one
 * stopped and checkpointed from outside, restarted by a caller with other
 * files on those descriptors.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <sys/wait.h>

#define IMG "/tmp/event_fds.img"

enum { COUNTER_FD = 5, SEMAPHORE_FD, DUP_FD, SIGNAL_FD, TIMER_FD, PERIODIC_FD,
       ABSOLUTE_FD, LAST_FD = ABSOLUTE_FD };

#define NS 1000000000LL

static int64_t ns_of(struct timespec ts)
{
	return ts.tv_sec * NS + ts.tv_nsec;
}

static int64_t realtime_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return ns_of(now);
}

static int arm(int fd, int flags, int64_t value_ns, int64_t interval_ns)
{
	struct itimerspec its = {
		.it_value = { value_ns / NS, value_ns % NS },
		.it_interval = { interval_ns / NS, interval_ns % NS },
	};

	return timerfd_settime(fd, flags, &its, NULL);
}

static int open_event_fds(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGRTMIN + 3);
	/* Blocked, so that they wait for the signalfd. */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if (place_fd(eventfd(7, EFD_NONBLOCK), COUNTER_FD) ||
	    place_fd(eventfd(3, EFD_SEMAPHORE), SEMAPHORE_FD) ||
	    dup2(COUNTER_FD, DUP_FD) != DUP_FD ||
	    place_fd(signalfd(-1, &mask, SFD_NONBLOCK), SIGNAL_FD) ||
	    place_fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK), TIMER_FD) ||
	    place_fd(timerfd_create(CLOCK_BOOTTIME, 0), PERIODIC_FD) ||
	    place_fd(timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK), ABSOLUTE_FD))
		return 1;
	if (arm(TIMER_FD, 0, 30 * NS, 2 * NS) ||
	    arm(PERIODIC_FD, 0, 10000000, 10000000) ||
	    arm(ABSOLUTE_FD, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
		realtime_ns() + 60 * NS, 0))
		return 2;
	/* About 10 expirations of the periodic one, not read. */
	usleep(100000);
	/* Pending at checkpoint: the signalfd reads it after restart. */
	raise(SIGUSR1);
	return 0;
}

static int readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* The timerfds in the restored task: 0, or the first failed check. */
static int check_timer_fds(void)
{
	struct itimerspec its;
	struct timespec now;
	uint64_t ticks;
	ssize_t got;

	if (timerfd_gettime(TIMER_FD, &its) || ns_of(its.it_interval) != 2 * NS ||
	    ns_of(its.it_value) > 30 * NS || ns_of(its.it_value) < 15 * NS)
		return 20;
	if (read(TIMER_FD, &ticks, 8) != -1 || errno != EAGAIN)
		return 21;
	/* The expirations not read at checkpoint are still there. */
	if (read(PERIODIC_FD, &ticks, 8) != 8 || ticks < 5) {
		printf("    # periodic timerfd: %llu expirations\n",
		       (unsigned long long)ticks);
		return 22;
	}
	if (timerfd_gettime(PERIODIC_FD, &its) ||
	    ns_of(its.it_interval) != 10000000)
		return 23;
	/* Absolute: 30 s forward leaves about 30 s, and cancels it. */
	clock_gettime(CLOCK_REALTIME, &now);
	now.tv_sec += 30;
	if (clock_settime(CLOCK_REALTIME, &now))
		return 24;
	timerfd_gettime(ABSOLUTE_FD, &its);
	errno = 0;
	got = read(ABSOLUTE_FD, &ticks, 8);
	clock_gettime(CLOCK_REALTIME, &now);
	now.tv_sec -= 30;
	clock_settime(CLOCK_REALTIME, &now);
	if (ns_of(its.it_value) > 31 * NS || ns_of(its.it_value) < 15 * NS) {
		printf("    # absolute timerfd: %lld ns left\n",
		       (long long)ns_of(its.it_value));
		return 25;
	}
	if (got != -1 || errno != ECANCELED)
		return 26;
	return 0;
}

/* In the restored task: 0, or the number of the first check that failed. */
static int check_event_fds(void)
{
	struct signalfd_siginfo si;
	union sigval value = { .sival_int = 4242 };
	uint64_t v;

	if (!(fcntl(COUNTER_FD, F_GETFL) & O_NONBLOCK) ||
	    (fcntl(SEMAPHORE_FD, F_GETFL) & O_NONBLOCK) ||
	    !(fcntl(SIGNAL_FD, F_GETFL) & O_NONBLOCK))
		return 1;
	/* The counter, read through the dup: both share one eventfd. */
	if (read(DUP_FD, &v, 8) != 8 || v != 7)
		return 2;
	if (read(COUNTER_FD, &v, 8) != -1 || errno != EAGAIN)
		return 3;
	v = 5;
	if (write(COUNTER_FD, &v, 8) != 8 || read(DUP_FD, &v, 8) != 8 || v != 5)
		return 4;
	/* A semaphore of 3: three reads of 1, then nothing to read. */
	for (int i = 0; i < 3; i++)
		if (!readable(SEMAPHORE_FD) || read(SEMAPHORE_FD, &v, 8) != 8 ||
		    v != 1)
			return 5;
	if (readable(SEMAPHORE_FD))
		return 6;
	/* The signal pending at checkpoint, then nothing. */
	if (read(SIGNAL_FD, &si, sizeof(si)) != sizeof(si) ||
	    si.ssi_signo != SIGUSR1 || si.ssi_code != SI_TKILL)
		return 7;
	if (read(SIGNAL_FD, &si, sizeof(si)) != -1 || errno != EAGAIN)
		return 8;
	/* A signal sent now, with its value; one outside the mask is not read. */
	if (sigqueue(getpid(), SIGRTMIN + 3, value) ||
	    read(SIGNAL_FD, &si, sizeof(si)) != sizeof(si) ||
	    si.ssi_signo != (uint32_t)(SIGRTMIN + 3) || si.ssi_int != 4242)
		return 9;
	signal(SIGUSR2, SIG_IGN);
	raise(SIGUSR2);
	if (readable(SIGNAL_FD))
		return 10;
	return check_timer_fds();
}

/* A caller with other files on the same descriptors. */
static int caller_files(void)
{
	return root_at_fds(COUNTER_FD, LAST_FD);
}

int main(void)
{
	ktap_begin("event_fds", 2);
	fflush(stdout);
	self_and_external_cases(IMG, "self_eventfd_signalfd_timerfd_restored",
				"external_eventfd_signalfd_timerfd_restored",
				open_event_fds, check_event_fds, caller_files);
	return ktap_end();
}
