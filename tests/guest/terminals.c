// SPDX-License-Identifier: GPL-2.0
/*
 * Terminals are reopened by path with their settings (after zdtm's
 * pty01, tty02 and console).  The task holds the slave of a
 * pseudo-terminal whose master the test keeps, in raw mode with a
 * window size of its own, and /dev/console.  Between checkpoint and
 * restart the test puts the terminal back in its default mode and size;
 * the restored task finds its own mode and size again, reads what the
 * test typed on the master meanwhile, and what it writes comes out of
 * the master.  Checked for a task that checkpoints itself and for one
 * stopped and checkpointed from outside.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

#define IMG "/tmp/terminals.img"

enum { SLAVE_FD = 5, CONSOLE_FD };

static int master = -1;
static char slave_name[64];
static struct termios default_mode;

static int open_terminals(void)
{
	struct winsize ws = { .ws_row = 33, .ws_col = 101 };
	struct termios t;

	close(master);
	if (place_fd(open(slave_name, O_RDWR | O_NOCTTY), SLAVE_FD) ||
	    place_fd(open("/dev/console", O_WRONLY | O_NOCTTY), CONSOLE_FD))
		return 1;
	if (tcgetattr(SLAVE_FD, &t))
		return 2;
	t.c_lflag &= ~(ICANON | ECHO);
	t.c_oflag &= ~OPOST;
	t.c_cc[VMIN] = 3;
	t.c_cc[VTIME] = 7;
	cfsetspeed(&t, B9600);
	if (tcsetattr(SLAVE_FD, TCSANOW, &t) || ioctl(SLAVE_FD, TIOCSWINSZ, &ws))
		return 3;
	return 0;
}

/* In the restored task: 0, or the number of the first check that failed. */
static int check_terminals(void)
{
	struct winsize ws;
	struct termios t;
	char buf[16];

	if (tcgetattr(SLAVE_FD, &t))
		return 1;
	if ((t.c_lflag & (ICANON | ECHO)) || (t.c_oflag & OPOST) ||
	    t.c_cc[VMIN] != 3 || t.c_cc[VTIME] != 7 ||
	    cfgetospeed(&t) != B9600)
		return 2;
	if (ioctl(SLAVE_FD, TIOCGWINSZ, &ws) || ws.ws_row != 33 ||
	    ws.ws_col != 101)
		return 3;
	/* Raw mode: the three bytes typed meanwhile, no line needed. */
	if (read(SLAVE_FD, buf, sizeof(buf)) != 3 || memcmp(buf, "abc", 3))
		return 4;
	if (write(SLAVE_FD, "from restored", 13) != 13)
		return 5;
	if (write(CONSOLE_FD, "terminals: restored task on the console\n", 40) != 40)
		return 6;
	return 0;
}

/* A pseudo-terminal whose master the test keeps. */
static int open_master(void)
{
	int slave, r;

	close(master);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master) ||
	    ptsname_r(master, slave_name, sizeof(slave_name)))
		return -1;
	/* The mode a new slave starts in (canonical, echoing). */
	slave = open(slave_name, O_RDWR | O_NOCTTY);
	r = slave < 0 ? -1 : tcgetattr(slave, &default_mode);
	close(slave);
	return r;
}

/* Between checkpoint and restart: default mode and size, and input. */
static int reset_terminal(void)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	int fd = open(slave_name, O_RDWR | O_NOCTTY);
	int r = fd < 0 || tcsetattr(fd, TCSANOW, &default_mode) ||
		ioctl(fd, TIOCSWINSZ, &ws) || write(master, "abc", 3) != 3;

	close(fd);
	return r ? -1 : 0;
}

/*
 * What the restored task wrote, read from the master.  The slave's output
 * reaches the master through the tty layer's flip buffer, pushed by a
 * work item: it may arrive after the writer has exited, so wait for it.
 */
static int master_got_output(void)
{
	struct pollfd p = { .fd = master, .events = POLLIN };
	char buf[64] = "";
	int n;

	poll(&p, 1, 2000);
	fcntl(master, F_SETFL, O_NONBLOCK);
	n = read(master, buf, sizeof(buf) - 1);
	return n > 0 && strstr(buf, "from restored");
}

static void self_case(void)
{
	int saver = -1, status = -1, reset = -1;

	if (!open_master()) {
		saver = make_self_image(IMG, open_terminals, check_terminals);
		reset = saver ? -1 : reset_terminal();
	}
	status = reset ? -1 : restart_after(IMG, NULL, 0);
	ktap_case(!saver && !reset && restart_outcome_ok(status, 0) &&
			  master_got_output(),
		  "self_pty_slave_and_console_restored",
		  "saver status %#x, reset %d; restarted task status %#x (exit code = first failed check, 150: restart returned)",
		  saver, reset, status);
}

static void external_case(void)
{
	long r = -1;
	int status = -1, reset = -1;

	if (!open_master())
		r = checkpoint_external_target(IMG, open_terminals,
					       check_terminals);
	reset = r > 0 ? reset_terminal() : -1;
	status = reset ? -1 : restart_after(IMG, NULL, 0);
	ktap_case(r > 0 && !reset && restart_outcome_ok(status, 0) &&
			  master_got_output(),
		  "external_pty_slave_and_console_restored",
		  "checkpoint %ld (errno %d), reset %d; restarted task status %#x (exit code = first failed check, 150: restart returned)",
		  r, r > 0 ? 0 : errno, reset, status);
}

int main(void)
{
	ktap_begin("terminals", 2);
	fflush(stdout);
	self_case();
	external_case();
	return ktap_end();
}
