// SPDX-License-Identifier: GPL-2.0
/*
 * Scheduling state and prctl(2) attributes after restart.
 *
 * - "attributes", after a self and after an external checkpoint:
 *   SCHED_BATCH with nice 5 and SCHED_RESET_ON_FORK, affinity to CPU 1
 *   only, timer slack 123456 ns, child subreaper, THP disabled, not
 *   dumpable, a name and a parent-death signal.  The restored task sees
 *   every one, and runs on CPU 1.
 * - "real-time": nice 3, then SCHED_FIFO priority 10; both come back.
 * - "caller's state": the caller of restart has its own affinity (CPU 0),
 *   timer slack, nice 7, subreaper, THP disabling and non-dumpable
 *   attribute; the restored task of a default image has none of them.
 * - "raised priority": an image of uid 1000 at nice -5 (set as root),
 *   restarted by uid 1000 with RLIMIT_NICE 0, fails with EPERM before the
 *   point of no return, the caller intact.
 *
 * A restored task exits with the number of the first check that failed.
 */
#define _GNU_SOURCE
#include "target.h"

#include <grp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#define IMG "/tmp/sched_prctl.img"
#define SLACK_NS 123456
#define DEFAULT_SLACK_NS 50000

static int only_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static int set_attributes(void)
{
	struct sched_param p = { 0 };

	if (setpriority(PRIO_PROCESS, 0, 5) ||
	    sched_setscheduler(0, SCHED_BATCH | SCHED_RESET_ON_FORK, &p) ||
	    only_cpu(1))
		return -1;
	return prctl(PR_SET_TIMERSLACK, SLACK_NS, 0, 0, 0) ||
	       prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) ||
	       prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) ||
	       prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) ||
	       prctl(PR_SET_NAME, "sched-prctl", 0, 0, 0) ||
	       prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0);
}

static int check_attributes(void)
{
	char name[16] = "";
	cpu_set_t set;
	int sig = 0, subreaper = 0;

	if (sched_getscheduler(0) != (SCHED_BATCH | SCHED_RESET_ON_FORK))
		return 1;
	errno = 0;
	if (getpriority(PRIO_PROCESS, 0) != 5 || errno)
		return 2;
	if (sched_getaffinity(0, sizeof(set), &set) || CPU_COUNT(&set) != 1 ||
	    !CPU_ISSET(1, &set))
		return 3;
	sched_yield();
	if (sched_getcpu() != 1)
		return 4;
	if (prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) != SLACK_NS)
		return 5;
	if (prctl(PR_GET_CHILD_SUBREAPER, &subreaper, 0, 0, 0) || subreaper != 1)
		return 6;
	if (prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) != 1)
		return 7;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return 8;
	if (prctl(PR_GET_NAME, name, 0, 0, 0) || strcmp(name, "sched-prctl"))
		return 9;
	if (prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) || sig != SIGUSR1)
		return 10;
	return 0;
}

static int set_fifo(void)
{
	struct sched_param p = { 10 };

	return setpriority(PRIO_PROCESS, 0, 3) ||
	       sched_setscheduler(0, SCHED_FIFO, &p);
}

static int check_fifo(void)
{
	struct sched_param p = { 0 };

	if (sched_getscheduler(0) != SCHED_FIFO)
		return 1;
	if (sched_getparam(0, &p) || p.sched_priority != 10)
		return 2;
	errno = 0;
	if (getpriority(PRIO_PROCESS, 0) != 3 || errno)
		return 3;
	/* Real-time tasks have no timer slack. */
	if (prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) != 0)
		return 4;
	return 0;
}

static int set_caller_state(void)
{
	return only_cpu(0) || setpriority(PRIO_PROCESS, 0, 7) ||
	       prctl(PR_SET_TIMERSLACK, 999999, 0, 0, 0) ||
	       prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) ||
	       prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) ||
	       prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static int check_defaults(void)
{
	cpu_set_t set;
	int subreaper = -1;

	if (sched_getaffinity(0, sizeof(set), &set) ||
	    CPU_COUNT(&set) != sysconf(_SC_NPROCESSORS_ONLN))
		return 1;
	errno = 0;
	if (sched_getscheduler(0) != SCHED_OTHER ||
	    getpriority(PRIO_PROCESS, 0) != 0 || errno)
		return 2;
	if (prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) != DEFAULT_SLACK_NS)
		return 3;
	if (prctl(PR_GET_CHILD_SUBREAPER, &subreaper, 0, 0, 0) || subreaper)
		return 4;
	if (prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) != 0)
		return 5;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1)
		return 6;
	return 0;
}

/* Its output is a file every user can reopen, not the console. */
static int user_at_nice_minus_5(void)
{
	return output_for_every_user() || setpriority(PRIO_PROCESS, 0, -5) || setgroups(0, NULL) ||
	       setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000);
}

static int become_user_without_nice(void)
{
	struct rlimit r = { 0, 0 };

	return setrlimit(RLIMIT_NICE, &r) || setgroups(0, NULL) ||
	       setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000);
}

static int never_restored(void)
{
	return 99;
}

static void restart_case(const char *name, int image_status, int (*before)(void),
			 int want_errno)
{
	int status = image_status ? -1 : restart_after(IMG, before, want_errno);

	ktap_case(!image_status && restart_outcome_ok(status, want_errno), name,
		  "saver status %#x, restart status %#x", image_status, status);
}

int main(void)
{
	ktap_begin("sched_prctl", 5);
	fflush(stdout);
	restart_case("self_attributes_restored",
		     make_self_image(IMG, set_attributes, check_attributes),
		     NULL, 0);
	restart_case("external_attributes_restored",
		     make_external_image(IMG, set_attributes, check_attributes),
		     NULL, 0);
	restart_case("self_fifo_priority_and_nice_restored",
		     make_self_image(IMG, set_fifo, check_fifo), NULL, 0);
	restart_case("caller_scheduling_and_prctl_state_not_inherited",
		     make_self_image(IMG, NULL, check_defaults),
		     set_caller_state, 0);
	restart_case("raised_priority_by_user_eperm_caller_intact",
		     make_self_image(IMG, user_at_nice_minus_5, never_restored),
		     become_user_without_nice, EPERM);
	return ktap_end();
}
