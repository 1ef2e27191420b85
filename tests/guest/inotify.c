// SPDX-License-Identifier: GPL-2.0
/*
 * Inotify instances come back with their watches (after zdtm's
 * inotify00).  The task holds a non-blocking instance at fd 5 that
 * watches a directory for creations and deletions (wd 2) and a file in
 * it for one modification (wd 3, IN_ONESHOT), after a first watch (wd 1)
 * was removed and its IN_IGNORED event read; and a blocking instance
 * without watches at fd 6.  After restart: the flags are as saved, no
 * event is pending, a file created in the directory and a write to the
 * watched file give their events with the saved descriptors, the
 * one-shot watch then goes (IN_IGNORED), the removed watch stays gone,
 * and a new watch gets descriptor 4, as it would have before.  Checked
 * for a task that checkpoints itself and for one stopped and
 * checkpointed from outside.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define IMG "/tmp/inotify.img"
#define DIR_PATH "/tmp/inotify-dir"
#define WATCHED DIR_PATH "/watched"

enum { WATCHING_FD = 5, EMPTY_FD };

/* Reads every pending event of @fd (non-blocking); returns how many. */
static int drain(int fd)
{
	char buf[4096];
	int n = 0;
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + r;
		     p += sizeof(struct inotify_event) +
			  ((struct inotify_event *)p)->len)
			n++;
	return n;
}

static int set_up(void)
{
	int gone, fd;

	unlink(DIR_PATH "/new");
	unlink(WATCHED);
	mkdir(DIR_PATH, 0755);
	fd = open(WATCHED, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return 1;
	close(fd);
	if (place_fd(inotify_init1(IN_NONBLOCK), WATCHING_FD) ||
	    place_fd(inotify_init1(0), EMPTY_FD))
		return 2;
	gone = inotify_add_watch(WATCHING_FD, "/tmp", IN_ATTRIB);
	if (gone != 1 ||
	    inotify_add_watch(WATCHING_FD, DIR_PATH, IN_CREATE | IN_DELETE) != 2 ||
	    inotify_add_watch(WATCHING_FD, WATCHED, IN_MODIFY | IN_ONESHOT) != 3)
		return 3;
	if (inotify_rm_watch(WATCHING_FD, gone) || drain(WATCHING_FD) != 1)
		return 4;
	return 0;
}

/* Events read from an instance and not looked at yet. */
static struct {
	char buf[4096] __attribute__((aligned(8)));
	ssize_t len, at;
} events;

/* The next event of @fd (a read may return several), or NULL. */
static const struct inotify_event *next_event(int fd)
{
	const struct inotify_event *ev;

	if (events.at >= events.len) {
		events.len = read(fd, events.buf, sizeof(events.buf));
		events.at = 0;
		if (events.len < (ssize_t)sizeof(*ev))
			return NULL;
	}
	ev = (const struct inotify_event *)(events.buf + events.at);
	events.at += sizeof(*ev) + ev->len;
	return ev;
}

/* Whether the next event of @fd is on @wd, with @bit in its mask and
 * @name (NULL: none). */
static int event_is(int fd, int wd, uint32_t bit, const char *name)
{
	const struct inotify_event *ev = next_event(fd);

	return ev && ev->wd == wd && (ev->mask & bit) &&
	       (name ? ev->len && !strcmp(ev->name, name) : !ev->len);
}

/* In the restored task: 0, or the number of the first check that failed. */
static int check_inotify(void)
{
	const struct inotify_event *ev;
	char byte;
	int fd;

	if (!(fcntl(WATCHING_FD, F_GETFL) & O_NONBLOCK) ||
	    (fcntl(EMPTY_FD, F_GETFL) & O_NONBLOCK))
		return 1;
	if (read(WATCHING_FD, &byte, 1) != -1 || errno != EAGAIN)
		return 2;
	fd = open(DIR_PATH "/new", O_WRONLY | O_CREAT, 0644);
	if (fd < 0)
		return 3;
	close(fd);
	if (!event_is(WATCHING_FD, 2, IN_CREATE, "new") || next_event(WATCHING_FD))
		return 4;
	fd = open(WATCHED, O_WRONLY);
	if (fd < 0 || write(fd, "x", 1) != 1 || write(fd, "y", 1) != 1)
		return 5;
	close(fd);
	/* One modification, then the one-shot watch is gone. */
	if (!event_is(WATCHING_FD, 3, IN_MODIFY, NULL) ||
	    !event_is(WATCHING_FD, 3, IN_IGNORED, NULL) || next_event(WATCHING_FD))
		return 6;
	/* The removed watch on /tmp reports nothing. */
	if (chmod("/tmp", 01777) || drain(WATCHING_FD) != 0)
		return 7;
	if (inotify_add_watch(WATCHING_FD, DIR_PATH "/new", IN_OPEN) != 4)
		return 8;
	/* Its removal: IN_IGNORED for the new watch, IN_DELETE for wd 2. */
	if (unlink(DIR_PATH "/new") || !event_is(WATCHING_FD, 4, IN_IGNORED, NULL) ||
	    !event_is(WATCHING_FD, 2, IN_DELETE, "new"))
		return 9;
	ev = next_event(WATCHING_FD);
	return ev ? 10 : 0;
}

int main(void)
{
	ktap_begin("inotify", 2);
	fflush(stdout);
	self_and_external_cases(IMG, "self_inotify_watches_restored",
				"external_inotify_watches_restored", set_up,
				check_inotify, NULL);
	return ktap_end();
}
