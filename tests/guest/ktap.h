/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest test helpers: every test program is one KTAP suite, printed
 * indented under the top-level plan that tests/guest/run-all prints, so
 * that the kernel's own tools/testing/kunit/kunit.py parses the results.
 */
#ifndef CKPT_GUEST_KTAP_H
#define CKPT_GUEST_KTAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/checkpoint.h>

static int ktap_case_no;
static int ktap_failures;

/* Starts the suite @name with @ncases cases. */
static inline void ktap_begin(const char *name, int ncases)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("    KTAP version 1\n    # Subtest: %s\n    1..%d\n", name,
	       ncases);
}

/* Reports one case; @fmt explains a failure. */
static inline void ktap_case(int ok, const char *name, const char *fmt, ...)
{
	ktap_case_no++;
	if (!ok) {
		va_list ap;

		ktap_failures++;
		printf("    # %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	printf("    %sok %d %s\n", ok ? "" : "not ", ktap_case_no, name);
}

/* The exit status of the suite: nonzero if any case failed. */
static inline int ktap_end(void)
{
	fflush(stdout);
	return ktap_failures ? 1 : 0;
}

/* Expects the raw syscall result @ret to be -1 with errno @want. */
#define EXPECT_ERRNO(name, ret, want)                                        \
	do {                                                                 \
		long r__ = (ret);                                            \
		int e__ = errno;                                             \
		ktap_case(r__ == -1 && e__ == (want), (name),                \
			  "returned %ld errno %d (%s), expected errno %d (%s)", \
			  r__, r__ == -1 ? e__ : 0,                          \
			  r__ == -1 ? strerror(e__) : "-", (want),           \
			  strerror(want));                                   \
	} while (0)

static inline long sys_checkpoint(pid_t pid, int fd, unsigned long flags)
{
	return syscall(__NR_checkpoint, pid, fd, flags);
}

static inline long sys_restart(int crid, int fd, unsigned long flags)
{
	return syscall(__NR_restart, crid, fd, flags);
}

#endif
