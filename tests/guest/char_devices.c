// SPDX-License-Identifier: GPL-2.0
/*
 * Descriptors of the character devices that keep no state (/dev/null,
 * /dev/zero, /dev/full, /dev/random, /dev/urandom) are saved and opened
 * again: the restored task has each on its descriptor, with its access
 * mode and flags, dup'd descriptors sharing one open file, and each
 * behaves as its device does.  Checked for a task that checkpoints itself
 * (stdin on /dev/null, as a shell gives a background job) and for one
 * stopped and checkpointed from outside.  A device node that names
 * another device at restart fails it with EINVAL before the point of no
 * return.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#define IMG "/tmp/char_devices.img"
#define NODE "/tmp/char_devices.node"

struct device_fd {
	int fd;
	const char *path;
	int flags;
	unsigned int major, minor;
};

static const struct device_fd devices[] = {
	{ 0, "/dev/null", O_RDONLY, 1, 3 },
	{ 5, "/dev/zero", O_RDWR, 1, 5 },
	{ 6, "/dev/full", O_WRONLY | O_APPEND, 1, 7 },
	{ 7, "/dev/urandom", O_RDONLY | O_NONBLOCK, 1, 9 },
	{ 8, "/dev/random", O_RDONLY, 1, 8 },
	{ 9, NODE, O_RDONLY, 1, 3 },
};

#define NDEVICES (sizeof(devices) / sizeof(devices[0]))
/* fd 10 is a dup of fd 5. */
#define DUP_FD 10

static int open_at(const char *path, int flags, int fd)
{
	int got = open(path, flags);

	if (got < 0)
		return -1;
	if (got != fd) {
		if (dup2(got, fd) != fd)
			return -1;
		close(got);
	}
	return 0;
}

static int open_devices(void)
{
	unlink(NODE);
	if (mknod(NODE, S_IFCHR | 0600, makedev(1, 3)))
		return 1;
	for (size_t i = 0; i < NDEVICES; i++)
		if (open_at(devices[i].path, devices[i].flags, devices[i].fd))
			return 2;
	return dup2(5, DUP_FD) == DUP_FD ? 0 : 3;
}

/* In the restored task: 0, or the number of the first check that failed. */
static int check_devices(void)
{
	const int status_flags = O_ACCMODE | O_APPEND | O_NONBLOCK;
	char buf[64];
	struct stat st;

	for (size_t i = 0; i < NDEVICES; i++) {
		const struct device_fd *d = &devices[i];

		if (fstat(d->fd, &st) || !S_ISCHR(st.st_mode) ||
		    major(st.st_rdev) != d->major ||
		    minor(st.st_rdev) != d->minor)
			return 1 + i;
		if ((fcntl(d->fd, F_GETFL) & status_flags) != d->flags)
			return 10 + i;
	}
	/* Each behaves as its device. */
	if (read(0, buf, sizeof(buf)) != 0)
		return 20;
	memset(buf, 1, sizeof(buf));
	if (read(5, buf, sizeof(buf)) != sizeof(buf) || buf[0] || buf[63])
		return 21;
	if (write(6, "x", 1) != -1 || errno != ENOSPC)
		return 22;
	if (read(7, buf, 16) != 16 || read(8, buf, 16) != 16)
		return 23;
	/* The dup shares the open file: a flag set on one shows on both. */
	if (fcntl(DUP_FD, F_SETFL, O_NONBLOCK) ||
	    !(fcntl(5, F_GETFL) & O_NONBLOCK))
		return 24;
	return 0;
}

/* A caller with other files on the same descriptors. */
static int caller_files(void)
{
	for (int fd = 5; fd <= DUP_FD; fd++)
		if (open_at("/", O_RDONLY | O_DIRECTORY, fd))
			return 1;
	return 0;
}

static void self_case(void)
{
	int saver = make_self_image(IMG, open_devices, check_devices);
	int status = saver ? -1 : restart_after(IMG, caller_files, 0);

	ktap_case(!saver && restart_outcome_ok(status, 0),
		  "self_device_fds_restored",
		  "saver status %#x; restarted task status %#x (exit code = first failed check, 150: restart returned)",
		  saver, status);
}

static void external_case(void)
{
	long r = checkpoint_external_target(IMG, open_devices, check_devices);
	int status = r > 0 ? restart_after(IMG, caller_files, 0) : -1;

	ktap_case(r > 0 && restart_outcome_ok(status, 0),
		  "external_device_fds_restored",
		  "checkpoint %ld (errno %d); restarted task status %#x (exit code = first failed check, 150: restart returned)",
		  r, r > 0 ? 0 : errno, status);
}

/* The node now names /dev/zero: restart refuses the image, caller intact. */
static int replace_node(void)
{
	unlink(NODE);
	return mknod(NODE, S_IFCHR | 0600, makedev(1, 5)) ? 1 : 0;
}

static void other_device_case(void)
{
	int saver = make_self_image(IMG, open_devices, check_devices);
	int status = saver ? -1 : restart_after(IMG, replace_node, EINVAL);

	ktap_case(!saver && restart_outcome_ok(status, EINVAL),
		  "node_naming_another_device_einval",
		  "saver status %#x; caller status %#x (%d: refused with EINVAL, caller intact)",
		  saver, status, REFUSED_AS_EXPECTED);
	unlink(NODE);
}

int main(void)
{
	ktap_begin("char_devices", 3);
	fflush(stdout);
	/* Our stdin is closed: fill fd 0 so the images land elsewhere. */
	if (open_at("/dev/null", O_RDONLY, 0))
		return 1;
	self_case();
	external_case();
	other_device_case();
	return ktap_end();
}
