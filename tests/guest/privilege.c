// SPDX-License-Identifier: GPL-2.0
/*
 * Privilege: restart applies the saved credentials and resource limits
 * only as far as the caller could set them itself.  An image taken by
 * root and restarted by an unprivileged user fails with EPERM before the
 * point of no return, the caller intact; an image of that user, restarted
 * by it, runs with its ids and no capabilities.  A file the user cannot
 * open (as a descriptor or a private mapping) fails the restart with
 * EACCES before the point of no return, the caller intact; an area below
 * mmap_min_addr, which the user could not map, is refused the same way;
 * saved resource limits above the user's hard limits give EPERM.
 *
 * Each case: a root "saver" sets up its state (as root), drops to uid/gid
 * 1000 unless the case keeps it root, and checkpoints itself; a "caller"
 * drops to uid/gid 1000 and restarts the image.  So in every case but the
 * first the saved credentials are the caller's, and the refusal comes
 * from the protection the case names.  The restored task exits with the
 * number of the first check that failed (0: all hold); a caller whose
 * restart returns exits 0 if the errno is the expected one, 150
 * otherwise.
 */
#define _GNU_SOURCE
#include "ktap.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define DIR "/tmp/privilege"
#define IMG DIR "/image"
#define SECRET DIR "/secret"
#define USER_ID 1000

struct priv_case {
	const char *name;
	int (*saver)(void);
	int (*restored)(void);
	/* run by the caller before it drops to the user (NULL: nothing) */
	void (*caller)(void);
	int restart_errno; /* 0: restart must succeed */
	int other_errno;   /* also accepted (0: none) */
	int saver_stays_root;
};

static int drop_to_user(void);

/* The saver's descriptors: only those it opens itself. */
static void close_standard_fds(void)
{
	close(0);
	close(1);
	close(2);
}

static int no_setup(void)
{
	return 0;
}

static int open_secret(void)
{
	return open(SECRET, O_RDONLY) < 0 ? -1 : 0;
}

static int map_secret(void)
{
	int fd = open(SECRET, O_RDONLY);
	void *p;

	if (fd < 0)
		return -1;
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	return p == MAP_FAILED ? -1 : 0;
}

static int map_page_zero(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	return p == MAP_FAILED ? -1 : 0;
}

static int runs_as_user(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	uid_t r, e, s;
	gid_t gr, ge, gs;

	if (getresuid(&r, &e, &s) || r != USER_ID || e != USER_ID || s != USER_ID)
		return 1;
	if (getresgid(&gr, &ge, &gs) || gr != USER_ID || ge != USER_ID ||
	    gs != USER_ID)
		return 2;
	if (syscall(__NR_capget, &hdr, data))
		return 3;
	if (data[0].effective || data[1].effective || data[0].permitted ||
	    data[1].permitted)
		return 4;
	return 0;
}

static int never_restored(void)
{
	return 99;
}

/* The caller's hard limit on descriptors is below the saved one. */
static void lower_hard_nofile(void)
{
	struct rlimit r = { 64, 64 };

	setrlimit(RLIMIT_NOFILE, &r);
}

static const struct priv_case cases[] = {
	{ "root_image_restarted_by_user_eperm_caller_intact", no_setup,
	  never_restored, NULL, EPERM, 0, 1 },
	{ "user_image_restarted_by_user_runs_as_user", no_setup,
	  runs_as_user, NULL, 0, 0, 0 },
	{ "unreadable_open_file_eacces_caller_intact", open_secret,
	  never_restored, NULL, EACCES, 0, 0 },
	{ "unreadable_private_mapping_eacces_caller_intact", map_secret,
	  never_restored, NULL, EACCES, 0, 0 },
	{ "area_below_mmap_min_addr_refused_caller_intact", map_page_zero,
	  never_restored, NULL, EINVAL, EPERM, 0 },
	{ "raising_a_hard_limit_eperm_caller_intact", no_setup,
	  never_restored, lower_hard_nofile, EPERM, 0, 0 },
};

static int drop_to_user(void)
{
	if (setgroups(0, NULL) || setresgid(USER_ID, USER_ID, USER_ID) ||
	    setresuid(USER_ID, USER_ID, USER_ID))
		return -1;
	return 0;
}

static void run_case(const struct priv_case *c)
{
	int status = -1, saver_status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int fd;
		long r;

		close_standard_fds();
		fd = open(IMG, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		/* The image is among its descriptors: the user must reopen it. */
		if (fd < 0 || fchmod(fd, 0666) || c->saver())
			_exit(101);
		if (!c->saver_stays_root && drop_to_user())
			_exit(102);
		r = sys_checkpoint(0, fd, 0);
		if (r > 0)
			_exit(0);
		_exit(r == 0 ? c->restored() : 100);
	}
	waitpid(pid, &saver_status, 0);
	pid = fork();
	if (pid == 0) {
		int fd, err;

		if (c->caller)
			c->caller();
		if (drop_to_user())
			_exit(151);
		fd = open(IMG, O_RDONLY);
		sys_restart(0, fd, 0);
		err = errno;
		/* Still the caller, and still itself. */
		if (getuid() != USER_ID)
			_exit(152);
		_exit(c->restart_errno &&
		      (err == c->restart_errno || err == c->other_errno) ?
			      0 : 150);
	}
	waitpid(pid, &status, 0);
	ktap_case(saver_status == 0 && WIFEXITED(status) && !WEXITSTATUS(status),
		  c->name,
		  "saver status %#x; caller or restored task status %#x",
		  saver_status, status);
}

int main(void)
{
	size_t i, n = sizeof(cases) / sizeof(cases[0]);
	int fd;

	ktap_begin("privilege", n);
	fflush(stdout);
	mkdir(DIR, 0755);
	/* The user may write the image, but not read the secret. */
	chmod(DIR, 0777);
	fd = open(SECRET, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "secret\n", 7) != 7)
		return 1;
	close(fd);
	/* The restored task resumes in the saver's working directory. */
	if (chdir(DIR))
		return 1;
	for (i = 0; i < n; i++) {
		unlink(IMG);
		run_case(&cases[i]);
	}
	return ktap_end();
}
