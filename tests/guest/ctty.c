// SPDX-License-Identifier: GPL-2.0
/*
 * The controlling terminal: a task that leads its session, with a
 * pseudo-terminal slave as its controlling terminal and its process
 * group in the foreground, gets that terminal back when it is restarted
 * by a session leader without one; every other restart keeps the
 * caller's session as it is.
 *
 * - A task holding a pair (master at fd 5, slave at fd 6, the slave its
 *   controlling terminal, a 33x77 window) is saved by itself and from
 *   outside, and restarted by a session leader: the slave controls the
 *   restored session again, its group is in the foreground, and
 *   /dev/tty is the slave (what is written to it comes out of the
 *   master).  Restarted by a caller that does not lead its session, the
 *   same image leaves the slave without a session.
 * - A task whose terminal's foreground group is another one (gone) is
 *   restarted without a controlling terminal: its group was not the one
 *   the terminal served.
 * - A task holding only the slave (the master stays with the test),
 *   reopened by path at restart: a restart while another session has
 *   the terminal fails with EBUSY, and succeeds once that session ended.
 * - Restarted with RESTART_CHILD by a caller that does not lead its
 *   session, the task that held the pair leads a new session again, and
 *   gets its terminal back.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>

#define IMG "/tmp/ctty.img"

enum { MASTER = 5, SLAVE };

/* Set before checkpoint, restored with the memory. */
static int background;	/* the task's group was not in the foreground */
static int holds_master;	/* the pair is the task's */
static int must_lead;		/* restarted where it must lead its session */
/* The test's master of the slave-only case. */
static int test_master = -1;
static char test_slave[64];

/* Makes the slave @name the controlling terminal of a new session. */
static int lead_session_on(const char *name)
{
	struct winsize ws = { .ws_row = 33, .ws_col = 77 };

	if (setsid() < 0 || place_fd(open(name, O_RDWR), SLAVE) ||
	    ioctl(SLAVE, TIOCSWINSZ, &ws) || tcgetpgrp(SLAVE) != getpid())
		return -1;
	return 0;
}

static int set_up_pair(void)
{
	char name[64];

	holds_master = 1;
	if (place_fd(posix_openpt(O_RDWR | O_NOCTTY), MASTER) ||
	    grantpt(MASTER) || unlockpt(MASTER) ||
	    ptsname_r(MASTER, name, sizeof(name)))
		return -1;
	return lead_session_on(name);
}

/* The pair, with the terminal serving another process group, gone. */
static int set_up_background(void)
{
	int status;
	pid_t child;

	if (set_up_pair())
		return -1;
	background = 1;
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	if (child < 0 || setpgid(child, child) || tcsetpgrp(SLAVE, child))
		return -1;
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	return tcgetpgrp(SLAVE) == getpgrp() ? -1 : 0;
}

/* The pair, for a restart that must make the task lead its session. */
static int set_up_pair_leading(void)
{
	must_lead = 1;
	return set_up_pair();
}

static int set_up_slave_only(void)
{
	/* The master is the test's: the task must not hold it. */
	close(test_master);
	return lead_session_on(test_slave);
}

/* In the restored task: 0, or the number of the first check that failed. */
static int check_terminal(void)
{
	struct pollfd p = { .fd = MASTER, .events = POLLIN };
	struct winsize ws;
	char c = 0;
	pid_t sid;
	int tty;

	if (must_lead && getsid(0) != getpid())
		return 6;
	if (getsid(0) != getpid() || background) {
		/* The rule keeps the caller's session: no terminal here. */
		if (ioctl(SLAVE, TIOCGSID, &sid) == 0 || errno != ENOTTY)
			return 1;
		return 0;
	}
	if (ioctl(SLAVE, TIOCGSID, &sid) || sid != getpid())
		return 2;
	if (tcgetpgrp(SLAVE) != getpgrp())
		return 3;
	tty = open("/dev/tty", O_RDWR);
	if (tty < 0 || ioctl(tty, TIOCGWINSZ, &ws) || ws.ws_row != 33 ||
	    ws.ws_col != 77)
		return 4;
	if (!holds_master)
		return 0;
	if (write(tty, "Z", 1) != 1 || poll(&p, 1, 3000) != 1 ||
	    read(MASTER, &c, 1) != 1 || c != 'Z')
		return 5;
	return 0;
}

/*
 * Restarts @img in a child that first leads a new session; as
 * restart_after() otherwise.
 */
static int restart_as_session_leader(const char *img, int want_errno)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		if (setsid() < 0)
			_exit(151);
		sys_restart(0, open(img, O_RDONLY), 0);
		_exit(want_errno && errno == want_errno ?
			      REFUSED_AS_EXPECTED : 150);
	}
	waitpid(pid, &status, 0);
	return status;
}

/*
 * Restarts @img as a new child of this process, with its saved pid
 * (RESTART_CHILD); returns its wait status, or -1.
 */
static int restart_as_child(const char *img)
{
	int status = -1, fd = open(img, O_RDONLY);
	long pid = fd < 0 ? -1 : sys_restart(0, fd, RESTART_CHILD);

	if (fd >= 0)
		close(fd);
	if (pid > 0 && waitpid(pid, &status, 0) != pid)
		status = -1;
	return status;
}

/* A process leading a session that @name controls; its pid. */
static pid_t hold_terminal(const char *name)
{
	int ready;
	pid_t pid = fork_when_ready(&ready);

	if (pid == 0) {
		int fd;

		if (setsid() < 0)
			_exit(1);
		fd = open(name, O_RDWR);
		if (fd < 0 || tcgetpgrp(fd) != getpid())
			_exit(1);
		signal_ready(ready);
		pause();
		_exit(0);
	}
	return pid;
}

int main(void)
{
	int saver, status;
	pid_t holder;

	ktap_begin("ctty", 7);
	fflush(stdout);

	saver = make_self_image(IMG, set_up_pair, check_terminal);
	status = saver ? -1 : restart_as_session_leader(IMG, 0);
	ktap_case(!saver && restart_outcome_ok(status, 0),
		  "self_session_leader_gets_its_terminal_back",
		  "saver status %#x; restored status %#x", saver, status);

	saver = make_external_image(IMG, set_up_pair, check_terminal);
	status = saver ? -1 : restart_as_session_leader(IMG, 0);
	ktap_case(!saver && restart_outcome_ok(status, 0),
		  "external_session_leader_gets_its_terminal_back",
		  "checkpoint %d; restored status %#x", saver, status);

	status = saver ? -1 : restart_after(IMG, NULL, 0);
	ktap_case(!saver && restart_outcome_ok(status, 0),
		  "caller_not_leading_its_session_keeps_it",
		  "restored status %#x", status);

	saver = make_self_image(IMG, set_up_background, check_terminal);
	status = saver ? -1 : restart_as_session_leader(IMG, 0);
	ktap_case(!saver && restart_outcome_ok(status, 0),
		  "background_task_restarts_without_terminal",
		  "saver status %#x; restored status %#x", saver, status);

	test_master = posix_openpt(O_RDWR | O_NOCTTY);
	if (test_master < 0 || grantpt(test_master) ||
	    unlockpt(test_master) ||
	    ptsname_r(test_master, test_slave, sizeof(test_slave)))
		saver = -1;
	else
		saver = make_external_image(IMG, set_up_slave_only,
					    check_terminal);
	holder = saver ? -1 : hold_terminal(test_slave);
	status = holder <= 0 ? -1 : restart_as_session_leader(IMG, EBUSY);
	ktap_case(holder > 0 && restart_outcome_ok(status, EBUSY),
		  "restart_ebusy_when_terminal_controls_another_session",
		  "checkpoint %d; holder %d; restart caller status %#x",
		  saver, holder, status);
	if (holder > 0) {
		kill(holder, SIGKILL);
		waitpid(holder, NULL, 0);
	}

	status = saver ? -1 : restart_as_session_leader(IMG, 0);
	ktap_case(!saver && restart_outcome_ok(status, 0),
		  "terminal_reopened_by_path_controls_the_session_again",
		  "restored status %#x", status);
	/* A pair held outside the task would be refused. */
	close(test_master);

	saver = make_self_image(IMG, set_up_pair_leading, check_terminal);
	status = saver ? -1 : restart_as_child(IMG);
	ktap_case(!saver && restart_outcome_ok(status, 0),
		  "restart_child_leads_a_session_with_its_terminal",
		  "saver status %#x; restored child status %#x", saver, status);
	return ktap_end();
}
