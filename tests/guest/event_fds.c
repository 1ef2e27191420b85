// SPDX-License-Identifier: GPL-2.0
/*
 * Eventfds and signalfds are saved and created again: after restart an
 * eventfd has its counter, semaphore mode and O_NONBLOCK, a dup'd
 * descriptor still shares it, and a signalfd reads exactly the signals of
 * its mask: one left pending at checkpoint, and one queued after restart
 * with its value.  Checked for a task that checkpoints itself and for one
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
#include <sys/wait.h>

#define IMG "/tmp/event_fds.img"

enum { COUNTER_FD = 5, SEMAPHORE_FD, DUP_FD, SIGNAL_FD };

static int place(int fd, int at)
{
	if (fd < 0)
		return -1;
	if (fd != at) {
		if (dup2(fd, at) != at)
			return -1;
		close(fd);
	}
	return 0;
}

static int open_event_fds(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGRTMIN + 3);
	/* Blocked, so that they wait for the signalfd. */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if (place(eventfd(7, EFD_NONBLOCK), COUNTER_FD) ||
	    place(eventfd(3, EFD_SEMAPHORE), SEMAPHORE_FD) ||
	    dup2(COUNTER_FD, DUP_FD) != DUP_FD ||
	    place(signalfd(-1, &mask, SFD_NONBLOCK), SIGNAL_FD))
		return 1;
	/* Pending at checkpoint: the signalfd reads it after restart. */
	raise(SIGUSR1);
	return 0;
}

static int readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
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
	return 0;
}

/* A caller with other files on the same descriptors. */
static int caller_files(void)
{
	for (int fd = COUNTER_FD; fd <= SIGNAL_FD; fd++)
		if (place(open("/", O_RDONLY | O_DIRECTORY), fd))
			return 1;
	return 0;
}

static void self_case(void)
{
	int saver = make_self_image(IMG, open_event_fds, check_event_fds);
	int status = saver ? -1 : restart_after(IMG, caller_files, 0);

	ktap_case(!saver && restart_outcome_ok(status, 0),
		  "self_eventfd_and_signalfd_restored",
		  "saver status %#x; restarted task status %#x (exit code = first failed check, 150: restart returned)",
		  saver, status);
}

static void external_case(void)
{
	long r = checkpoint_external_target(IMG, open_event_fds,
					    check_event_fds);
	int status = r > 0 ? restart_after(IMG, caller_files, 0) : -1;

	ktap_case(r > 0 && restart_outcome_ok(status, 0),
		  "external_eventfd_and_signalfd_restored",
		  "checkpoint %ld (errno %d); restarted task status %#x (exit code = first failed check, 150: restart returned)",
		  r, r > 0 ? 0 : errno, status);
}

int main(void)
{
	ktap_begin("event_fds", 2);
	fflush(stdout);
	self_case();
	external_case();
	return ktap_end();
}
