// SPDX-License-Identifier: GPL-2.0
/*
 * rseq after restart, after a self checkpoint and after an external
 * checkpoint of a stopped target: the restored task's registration is
 * glibc's own area (registering it again is EBUSY), and on every CPU it
 * is moved to, the kernel keeps the area's cpu_id current, so that
 * sched_getcpu() (which reads it) agrees with getcpu(2).  A registration
 * lost, or left to the caller, leaves cpu_id stale on one of the CPUs.
 */
#define _GNU_SOURCE
#include "target.h"

#include <sched.h>
#include <sys/rseq.h>

#define IMG "/tmp/rseq.img"

/* glibc's rseq area of the calling thread, and the length it registered. */
static volatile struct rseq *glibc_rseq(void)
{
	return (struct rseq *)((char *)__builtin_thread_pointer() +
			       __rseq_offset);
}

static unsigned int glibc_rseq_len(void)
{
	return __rseq_size < 32 ? 32 : __rseq_size;
}

/*
 * What the restored task checks; returns the number of the first check
 * that failed, 0 when all hold.
 */
static int restored_rseq_checks(void)
{
	int cpu, ncpus = sysconf(_SC_NPROCESSORS_ONLN);

	errno = 0;
	if (syscall(__NR_rseq, glibc_rseq(), glibc_rseq_len(), 0, RSEQ_SIG) != -1 ||
	    errno != EBUSY)
		return 1;
	if (ncpus < 2)
		return 2;
	for (cpu = 0; cpu < ncpus; cpu++) {
		unsigned int kernel_cpu = ~0u;
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		/* Returns once the task runs on @cpu. */
		if (sched_setaffinity(0, sizeof(set), &set))
			return 3;
		syscall(SYS_getcpu, &kernel_cpu, NULL, NULL);
		if (kernel_cpu != (unsigned int)cpu)
			return 4;
		if (glibc_rseq()->cpu_id != (unsigned int)cpu)
			return 5;
		if (sched_getcpu() != cpu)
			return 6;
	}
	return 0;
}

static void self_case(void)
{
	int saver_status;
	int status = self_checkpoint_and_restart(IMG, NULL, restored_rseq_checks,
						 &saver_status);

	ktap_case(saver_status == 0 && WIFEXITED(status) && !WEXITSTATUS(status),
		  "self_restart_registration_and_cpu_ids",
		  "saver status %#x, restored status %#x (exit code = first failed check, 150: restart returned)",
		  saver_status, status);
}

/* The same in a target checkpointed from outside while stopped. */
static void external_case(void)
{
	long r;
	int status = external_checkpoint_and_restart(IMG, NULL, restored_rseq_checks, &r);

	ktap_case(r > 0 && WIFEXITED(status) && !WEXITSTATUS(status),
		  "external_restart_registration_and_cpu_ids",
		  "checkpoint %ld (errno %d), restored status %#x (exit code = first failed check)",
		  r, r > 0 ? 0 : errno, status);
}

int main(void)
{
	ktap_begin("rseq", 2);
	fflush(stdout);
	self_case();
	external_case();
	return ktap_end();
}
