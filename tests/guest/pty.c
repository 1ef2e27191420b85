// SPDX-License-Identifier: GPL-2.0
/*
 * Pseudo-terminal pairs whose master the task holds come back whole
 * (after zdtm's pty00-pty03): index, settings, lock, packet mode, and
 * the data queued in both directions.  The task holds three pairs:
 *
 * - pair A, master at fd 5 and slave at fd 6, the slave canonical and
 *   echoing with a window size of its own: the master typed a line and
 *   half of another, whose echo the master has not read, and the slave
 *   wrote a line the master has not read;
 * - pair B, master at fd 7 only, still locked, in packet mode;
 * - pair C, master at fd 8 only (non-blocking), its slave put in raw
 *   mode and closed again, with 6000 bytes written to it: more than its
 *   line discipline takes in, so some are still in the kernel's flip
 *   buffers;
 * - pair D, master at fd 9 and slave at fd 10: the master typed a word
 *   ended by the end-of-file character (^D), which a canonical read
 *   returns without a newline, then the start of a line.
 *
 * After restart each pair has its index again; A's master reads the
 * echo and the line, and A's slave reads the first line, then (once the
 * master typed the rest) the second one, whole; B is still locked and
 * in packet mode; C's master is still non-blocking and reads EIO (its
 * slave was closed), and its slave, opened again, reads all 6000 bytes
 * in order; D's slave reads the word, then (once the master typed the
 * rest) the line.  Checked for a
 * task that checkpoints itself and for one stopped and checkpointed
 * from outside; and a restart whose pair index is taken fails with
 * EBUSY.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

#define IMG "/tmp/pty.img"
#define BULK 6000

enum { A_MASTER = 5, A_SLAVE, B_MASTER, C_MASTER, D_MASTER, D_SLAVE };

/* The slave names, set before checkpoint, restored with the memory. */
static char name_a[64], name_b[64], name_c[64], name_d[64];

/* Waits until @fd has @len bytes to read (FIONREAD); 0 or -1. */
static int wait_readable(int fd, int len)
{
	for (int i = 0; i < 2000; i++) {
		int n = 0;

		if (ioctl(fd, FIONREAD, &n))
			return -1;
		if (n == len)
			return 0;
		usleep(1000);
	}
	return -1;
}

static unsigned char bulk_byte(int i)
{
	return (unsigned char)(i * 31 + i / 251);
}

static int set_up(void)
{
	struct winsize ws = { .ws_row = 40, .ws_col = 120 };
	unsigned char bulk[BULK];
	struct termios t;
	int one = 1, slave;

	/* A: a line and a half typed, echoed; a line written back. */
	if (place_fd(posix_openpt(O_RDWR | O_NOCTTY), A_MASTER) ||
	    unlockpt(A_MASTER) || ptsname_r(A_MASTER, name_a, sizeof(name_a)) ||
	    place_fd(open(name_a, O_RDWR | O_NOCTTY), A_SLAVE) ||
	    ioctl(A_SLAVE, TIOCSWINSZ, &ws))
		return 1;
	if (write(A_MASTER, "first line\nhalf", 15) != 15 ||
	    wait_readable(A_MASTER, 16) ||
	    write(A_SLAVE, "to master\n", 10) != 10 ||
	    wait_readable(A_MASTER, 27))
		return 2;
	/* B: locked, packet mode. */
	if (place_fd(posix_openpt(O_RDWR | O_NOCTTY), B_MASTER) ||
	    ptsname_r(B_MASTER, name_b, sizeof(name_b)) ||
	    ioctl(B_MASTER, TIOCPKT, &one))
		return 3;
	/* C: raw slave, closed again; more written than it takes in. */
	if (place_fd(posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK), C_MASTER) ||
	    unlockpt(C_MASTER) || ptsname_r(C_MASTER, name_c, sizeof(name_c)))
		return 4;
	slave = open(name_c, O_RDWR | O_NOCTTY);
	if (slave < 0 || tcgetattr(slave, &t))
		return 5;
	cfmakeraw(&t);
	if (tcsetattr(slave, TCSANOW, &t) || close(slave))
		return 6;
	for (int i = 0; i < BULK; i++)
		bulk[i] = bulk_byte(i);
	if (write(C_MASTER, bulk, BULK) != BULK)
		return 7;
	/* D: "word" ended by ^D, then the start of a line. */
	if (place_fd(posix_openpt(O_RDWR | O_NOCTTY), D_MASTER) ||
	    unlockpt(D_MASTER) || ptsname_r(D_MASTER, name_d, sizeof(name_d)) ||
	    place_fd(open(name_d, O_RDWR | O_NOCTTY), D_SLAVE) ||
	    write(D_MASTER, "word\004start", 10) != 10 ||
	    wait_readable(D_MASTER, 9))
		return 8;
	usleep(100000);	/* let the line discipline take in what it can */
	return 0;
}

/* Reads exactly @len bytes from @fd within a few seconds; 0 or -1. */
static int read_exactly(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 3000) != 1)
			return -1;
		n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

/* One read of @fd, once it is readable within a few seconds. */
static ssize_t read_once(int fd, char *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	memset(buf, 0, len);
	return poll(&p, 1, 3000) == 1 ? read(fd, buf, len - 1) : -1;
}

/* In the restored task: 0, or the number of the first check that failed. */
static int check_pairs(void)
{
	unsigned char bulk[BULK];
	char buf[64], name[64];
	struct winsize ws;
	int value = -1, slave;

	/* A. */
	if (ptsname_r(A_MASTER, name, sizeof(name)) || strcmp(name, name_a))
		return 1;
	if (ioctl(A_SLAVE, TIOCGWINSZ, &ws) || ws.ws_row != 40 ||
	    ws.ws_col != 120)
		return 2;
	if (read_exactly(A_MASTER, buf, 27) ||
	    memcmp(buf, "first line\r\nhalfto master\r\n", 27))
		return 3;
	if (read_once(A_SLAVE, buf, sizeof(buf)) != 11 ||
	    strcmp(buf, "first line\n"))
		return 4;
	if (write(A_MASTER, " done\n", 6) != 6)
		return 5;
	if (read_once(A_SLAVE, buf, sizeof(buf)) != 10 ||
	    strcmp(buf, "half done\n"))
		return 6;
	if (read_exactly(A_MASTER, buf, 7) || memcmp(buf, " done\r\n", 7))
		return 7;
	/* B. */
	if (ptsname_r(B_MASTER, name, sizeof(name)) || strcmp(name, name_b))
		return 8;
	if (ioctl(B_MASTER, TIOCGPTLCK, &value) || value != 1 ||
	    ioctl(B_MASTER, TIOCGPKT, &value) || value != 1)
		return 9;
	if (open(name_b, O_RDWR | O_NOCTTY) != -1 || errno != EIO)
		return 10;
	value = 0;
	slave = -1;
	if (ioctl(B_MASTER, TIOCSPTLCK, &value) ||
	    (slave = open(name_b, O_RDWR | O_NOCTTY)) < 0 ||
	    write(slave, "x", 1) != 1 || read_exactly(B_MASTER, buf, 2) ||
	    buf[0] != TIOCPKT_DATA || buf[1] != 'x')
		return 11;
	close(slave);
	/* C. */
	if (ptsname_r(C_MASTER, name, sizeof(name)) || strcmp(name, name_c))
		return 12;
	if (read(C_MASTER, buf, 1) != -1 || errno != EIO)
		return 13;
	slave = open(name_c, O_RDWR | O_NOCTTY);
	if (slave < 0 || read_exactly(slave, bulk, BULK))
		return 14;
	for (int i = 0; i < BULK; i++)
		if (bulk[i] != bulk_byte(i))
			return 15;
	if (!(fcntl(C_MASTER, F_GETFL) & O_NONBLOCK))
		return 16;
	/* D: the word without a newline, then the whole line. */
	if (read_once(D_SLAVE, buf, sizeof(buf)) != 4 || strcmp(buf, "word"))
		return 17;
	if (write(D_MASTER, "ed\n", 3) != 3 ||
	    read_once(D_SLAVE, buf, sizeof(buf)) != 8 ||
	    strcmp(buf, "started\n"))
		return 18;
	return 0;
}

/* In the restart caller: takes the lowest pair indexes, the saved ones. */
static int take_indexes(void)
{
	for (int i = 0; i < 4; i++)
		if (posix_openpt(O_RDWR | O_NOCTTY) < 0)
			return -1;
	return 0;
}

int main(void)
{
	int saver, status;

	ktap_begin("pty", 3);
	fflush(stdout);
	self_and_external_cases(IMG, "self_pty_pairs_restored_with_queues",
				"external_pty_pairs_restored_with_queues",
				set_up, check_pairs, NULL);
	saver = make_self_image(IMG, set_up, check_pairs);
	status = saver ? -1 : restart_after(IMG, take_indexes, EBUSY);
	ktap_case(!saver && restart_outcome_ok(status, EBUSY),
		  "restart_ebusy_when_pty_index_taken",
		  "saver status %#x; restart caller status %#x",
		  saver, status);
	return ktap_end();
}
