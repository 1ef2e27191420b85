// SPDX-License-Identifier: GPL-2.0
/*
 * Epoll sets are created again with their interest lists (after zdtm's
 * epoll00 and epoll01).  The task watches a pipe's read end
 * (level-triggered, with data in the pipe), an eventfd (edge-triggered)
 * and the pipe's write end (one-shot, fired once before the checkpoint,
 * so disarmed), each with its user data, and a second set watches the
 * first.  After restart each set reports exactly what it would have:
 * the pipe's data and the nested set, not the disarmed watch; the
 * eventfd once it is written; the write end once re-armed with
 * EPOLL_CTL_MOD; and EPOLL_CTL_DEL finds the watches by their
 * descriptors.  Checked for a task that checkpoints itself and for one
 * stopped and checkpointed from outside.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

#define IMG "/tmp/epoll.img"

enum { READ_FD = 5, WRITE_FD, EVENT_FD, SET_FD, OUTER_SET_FD };

static int watch(int set, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(set, EPOLL_CTL_ADD, fd, &ev);
}

static int open_sets(void)
{
	struct epoll_event ev;
	int p[2], high[2];

	/* Moved high first, so that placing one end never closes the other. */
	if (pipe(p))
		return 1;
	high[0] = fcntl(p[0], F_DUPFD, 64);
	high[1] = fcntl(p[1], F_DUPFD, 64);
	close(p[0]);
	close(p[1]);
	if (place_fd(high[0], READ_FD) || place_fd(high[1], WRITE_FD) ||
	    place_fd(eventfd(0, EFD_NONBLOCK), EVENT_FD) ||
	    place_fd(epoll_create1(0), SET_FD) ||
	    place_fd(epoll_create1(0), OUTER_SET_FD) ||
	    fcntl(OUTER_SET_FD, F_SETFD, FD_CLOEXEC))
		return 1;
	if (watch(SET_FD, READ_FD, EPOLLIN, 0x1111) ||
	    watch(SET_FD, EVENT_FD, EPOLLIN | EPOLLET, 0x2222) ||
	    watch(SET_FD, WRITE_FD, EPOLLOUT | EPOLLONESHOT, 0x3333) ||
	    watch(OUTER_SET_FD, SET_FD, EPOLLIN, 0x4444))
		return 2;
	/* The one-shot watch fires (the pipe is writable): now disarmed. */
	if (epoll_wait(SET_FD, &ev, 1, 0) != 1 || ev.data.u64 != 0x3333)
		return 3;
	if (write(WRITE_FD, "x", 1) != 1)
		return 4;
	return 0;
}

/* The user data of the events @set reports now, in a bit mask. */
static int ready(int set, uint64_t *datas, int max)
{
	struct epoll_event ev[8];
	int n = epoll_wait(set, ev, 8, 0);

	for (int i = 0; i < n && i < max; i++)
		datas[i] = ev[i].data.u64;
	return n;
}

static int has(const uint64_t *datas, int n, uint64_t data)
{
	for (int i = 0; i < n; i++)
		if (datas[i] == data)
			return 1;
	return 0;
}

/* In the restored task: 0, or the number of the first check that failed. */
static int check_sets(void)
{
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLONESHOT,
				  .data.u64 = 0x3333 };
	uint64_t d[8], one = 1;
	int n;

	if (!(fcntl(OUTER_SET_FD, F_GETFD) & FD_CLOEXEC))
		return 1;
	/* The pipe's data; the eventfd is empty; the one-shot is disarmed. */
	n = ready(SET_FD, d, 8);
	if (n != 1 || d[0] != 0x1111)
		return 2;
	n = ready(OUTER_SET_FD, d, 8);
	if (n != 1 || d[0] != 0x4444)
		return 3;
	if (write(EVENT_FD, &one, 8) != 8)
		return 4;
	n = ready(SET_FD, d, 8);
	if (n != 2 || !has(d, n, 0x1111) || !has(d, n, 0x2222))
		return 5;
	/* Edge-triggered: reported once. */
	n = ready(SET_FD, d, 8);
	if (n != 1 || d[0] != 0x1111)
		return 6;
	if (epoll_ctl(SET_FD, EPOLL_CTL_MOD, WRITE_FD, &ev))
		return 7;
	n = ready(SET_FD, d, 8);
	if (n != 2 || !has(d, n, 0x3333))
		return 8;
	if (epoll_ctl(SET_FD, EPOLL_CTL_DEL, READ_FD, NULL) ||
	    epoll_ctl(SET_FD, EPOLL_CTL_DEL, EVENT_FD, NULL))
		return 9;
	n = ready(SET_FD, d, 8);
	if (n != 0)
		return 10;
	return 0;
}

/* A caller with other files on the same descriptors. */
static int caller_files(void)
{
	return root_at_fds(READ_FD, OUTER_SET_FD);
}

int main(void)
{
	ktap_begin("epoll", 2);
	fflush(stdout);
	self_and_external_cases(IMG, "self_epoll_sets_restored",
				"external_epoll_sets_restored",
				open_sets, check_sets, caller_files);
	return ktap_end();
}
