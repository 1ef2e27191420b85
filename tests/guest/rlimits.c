// SPDX-License-Identifier: GPL-2.0
/*
 * Resource limits are saved and restored: the restored task has every
 * soft and hard limit of the saved one, not the caller's, whether the
 * restart lowers or (with CAP_SYS_RESOURCE) raises them.  The limits
 * that act at once act: a lowered RLIMIT_NOFILE refuses descriptors
 * above it, RLIMIT_FSIZE cuts a write short at the limit.  (An
 * unprivileged caller that would have its hard limits raised gets EPERM:
 * see privilege.c.)
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define IMG "/tmp/rlimits.img"
#define NLIMITS RLIMIT_NLIMITS
/* Above the size of the image, which is written under this limit too. */
#define FSIZE_LIMIT (64 << 20)

/* The saver's limits just before its checkpoint. */
static struct rlimit saved[NLIMITS];

static void set_limit(int resource, rlim_t cur, rlim_t max)
{
	struct rlimit r = { cur, max };

	setrlimit(resource, &r);
}

/* Limits unlike the defaults, some below and some above them. */
static void saver_limits(void)
{
	set_limit(RLIMIT_NOFILE, 40, 300);
	set_limit(RLIMIT_CORE, 0, 0);
	set_limit(RLIMIT_CPU, 1000, 2000);
	set_limit(RLIMIT_FSIZE, FSIZE_LIMIT, RLIM_INFINITY);
	set_limit(RLIMIT_MSGQUEUE, 4096, 1 << 20);
	set_limit(RLIMIT_NICE, 5, 10);
}

/* The caller's own limits, different from the saver's in each case. */
static void caller_limits(void)
{
	set_limit(RLIMIT_NOFILE, 100, 100);
	set_limit(RLIMIT_CORE, 1 << 20, RLIM_INFINITY);
	set_limit(RLIMIT_CPU, RLIM_INFINITY, RLIM_INFINITY);
	set_limit(RLIMIT_FSIZE, RLIM_INFINITY, RLIM_INFINITY);
	set_limit(RLIMIT_MSGQUEUE, 1000, 2000);
	set_limit(RLIMIT_NICE, 0, 0);
}

static int restored_limits(void)
{
	char buf[1000] = { 0 };
	int fd;

	for (int i = 0; i < NLIMITS; i++) {
		struct rlimit r;

		if (getrlimit(i, &r))
			return 1;
		if (r.rlim_cur != saved[i].rlim_cur ||
		    r.rlim_max != saved[i].rlim_max)
			return 10 + i;
	}
	/* The soft limit of 40 descriptors holds. */
	if (fcntl(1, F_DUPFD, 39) < 0 || fcntl(1, F_DUPFD, 40) != -1 ||
	    errno != EINVAL)
		return 30;
	/* A write across the size limit is cut short (SIGXFSZ ignored). */
	signal(SIGXFSZ, SIG_IGN);
	fd = open("/tmp/rlimits.big", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || lseek(fd, FSIZE_LIMIT - 100, SEEK_SET) < 0 ||
	    write(fd, buf, sizeof(buf)) != 100)
		return 31;
	unlink("/tmp/rlimits.big");
	return 0;
}

static int external_saver_limits(void)
{
	saver_limits();
	for (int i = 0; i < NLIMITS; i++)
		getrlimit(i, &saved[i]);
	return 0;
}

static int external_caller_limits(void)
{
	caller_limits();
	return 0;
}

/* The same with a target stopped and checkpointed from outside. */
static void external_case(void)
{
	long r = checkpoint_external_target(IMG, external_saver_limits,
					    restored_limits);
	int status = r > 0 ? restart_after(IMG, external_caller_limits, 0) : -1;

	ktap_case(r > 0 && restart_outcome_ok(status, 0),
		  "external_limits_restored_not_the_callers",
		  "checkpoint %ld; restarted task status %#x (exit code = first failed check, 10 + n: limit n differs, 150: restart returned)",
		  r, status);
}

int main(void)
{
	int status = -1, saver_status = -1;
	pid_t pid;

	ktap_begin("rlimits", 2);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int fd = open(IMG, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		long r;

		saver_limits();
		for (int i = 0; i < NLIMITS; i++)
			getrlimit(i, &saved[i]);
		r = sys_checkpoint(0, fd, 0);
		if (r > 0)
			_exit(0);
		_exit(r == 0 ? restored_limits() : 100);
	}
	waitpid(pid, &saver_status, 0);
	pid = fork();
	if (pid == 0) {
		int fd = open(IMG, O_RDONLY);

		caller_limits();
		sys_restart(0, fd, 0);
		_exit(150);
	}
	waitpid(pid, &status, 0);
	ktap_case(saver_status == 0 && WIFEXITED(status) && !WEXITSTATUS(status),
		  "saved_limits_restored_not_the_callers",
		  "saver status %#x; restarted task status %#x (exit code = first failed check, 10 + n: limit n differs, 150: restart returned)",
		  saver_status, status);
	external_case();
	return ktap_end();
}
