// SPDX-License-Identifier: GPL-2.0
/*
 * Nothing of the caller of restart(2) leaks into the restored task, and
 * the per-task registrations an image saves come back exactly: the rseq
 * area (or none), the robust futex list, signal actions and the signal
 * stack, no_new_privs, the auxiliary vector /proc/PID/auxv shows.  The
 * caller's own handlers, signal stack and auxiliary vector do not
 * survive, its timers are removed; a caller that
 * cannot become another program (a blocked signal pending, signal
 * handlers shared with another process) gets EBUSY.
 *
 * Each case forks a "saver" that sets up its state and checkpoints
 * itself, then a "caller" that sets up different state and restarts the
 * image; the restored task checks what it has and exits with the number
 * of the first check that failed (0 when all hold).
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/time.h>
#include <sys/wait.h>

#define IMG "/tmp/task_state.img"

/* glibc's rseq area of the calling thread, and the length it registered. */
static struct rseq *glibc_rseq(void)
{
	return (struct rseq *)((char *)__builtin_thread_pointer() +
			       __rseq_offset);
}

static unsigned int glibc_rseq_len(void)
{
	return __rseq_size < 32 ? 32 : __rseq_size;
}

static long sys_rseq(void *area, unsigned int len, int flags)
{
	return syscall(__NR_rseq, area, len, flags, RSEQ_SIG);
}

/* A second rseq area and robust list for the caller, unlike the saver's. */
static struct rseq caller_rseq __attribute__((aligned(32)));
static struct robust_list_head caller_robust;
/* The saver's robust list head, as it was at checkpoint. */
static void *saved_robust;

struct state_case {
	const char *name;
	void (*saver)(void);
	void (*caller)(void);
	int (*restored)(void);
	/* errno restart must fail with, 0 if it must succeed */
	int restart_errno;
};

/* The caller moves its rseq registration and robust list elsewhere. */
static void caller_registrations(void)
{
	sys_rseq(glibc_rseq(), glibc_rseq_len(), RSEQ_FLAG_UNREGISTER);
	sys_rseq(&caller_rseq, sizeof(caller_rseq), 0);
	syscall(__NR_set_robust_list, &caller_robust, sizeof(caller_robust));
}

static void saver_keeps_rseq(void)
{
	size_t len;

	syscall(__NR_get_robust_list, 0, &saved_robust, &len);
}

static int restored_has_saved_rseq(void)
{
	void *head = NULL;
	size_t len = 0;

	/* Registering the same area again: EBUSY iff it is the one in use. */
	errno = 0;
	if (sys_rseq(glibc_rseq(), glibc_rseq_len(), 0) != -1 ||
	    errno != EBUSY)
		return 1;
	/* The kernel keeps the area's cpu id current again. */
	if ((int)glibc_rseq()->cpu_id < 0)
		return 2;
	if (syscall(__NR_get_robust_list, 0, &head, &len) || head != saved_robust)
		return 3;
	return 0;
}

static void saver_without_rseq(void)
{
	sys_rseq(glibc_rseq(), glibc_rseq_len(), RSEQ_FLAG_UNREGISTER);
}

static int restored_has_no_rseq(void)
{
	/* No area registered: registering glibc's succeeds. */
	return sys_rseq(glibc_rseq(), glibc_rseq_len(), 0) == 0 ? 0 : 1;
}

/* The saver's signal stack, and where its SIGUSR1 handler last ran. */
static char saver_stack[65536];
static volatile sig_atomic_t handled;
static volatile uintptr_t handler_frame;

static void saver_handler(int sig, siginfo_t *info, void *ctx)
{
	char here;

	(void)ctx;
	handled = sig == SIGUSR1 && info->si_signo == SIGUSR1;
	handler_frame = (uintptr_t)&here;
}

/* How often the one-shot SIGURG handler ran; whether SIGURG was blocked in it. */
static volatile sig_atomic_t once_ran, once_blocked;

static void once_handler(int sig)
{
	sigset_t now;

	sigprocmask(SIG_BLOCK, NULL, &now);
	once_blocked = sigismember(&now, sig);
	once_ran++;
}

/*
 * A handler with flags and a mask, a one-shot handler that does not block
 * its own signal, an ignored signal, a signal stack.
 */
static void saver_signals(void)
{
	struct sigaction once = { .sa_handler = once_handler,
				  .sa_flags = SA_RESETHAND | SA_NODEFER };

	stack_t ss = { .ss_sp = saver_stack, .ss_size = sizeof(saver_stack) };
	struct sigaction sa = { .sa_sigaction = saver_handler,
				.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK };

	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&once.sa_mask);
	sigaction(SIGURG, &once, NULL);
	sigaltstack(&ss, NULL);
	signal(SIGUSR2, SIG_IGN);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static void on_signal(int sig)
{
	(void)sig;
}

/* The caller's handlers, ignored signals, timers and signal stack. */
static void caller_state(void)
{
	static char stack[65536];
	stack_t ss = { .ss_sp = stack, .ss_size = sizeof(stack) };
	struct itimerval it = { .it_value = { .tv_sec = 100 } };
	timer_t timer;

	signal(SIGUSR1, on_signal);
	signal(SIGHUP, SIG_IGN);
	sigaltstack(&ss, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	setitimer(ITIMER_VIRTUAL, &it, NULL);
	timer_create(CLOCK_MONOTONIC, NULL, &timer);
	caller_registrations();
}

static int restored_has_own_signals_and_no_timers(void)
{
	struct sigaction sa;
	struct itimerval it;
	struct itimerspec ts;
	stack_t ss;

	if (sigaction(SIGUSR2, NULL, &sa) || sa.sa_handler != SIG_IGN)
		return 1;
	/* The saver's handler, flags and mask; not the caller's handler. */
	if (sigaction(SIGUSR1, NULL, &sa) || sa.sa_sigaction != saver_handler ||
	    !(sa.sa_flags & SA_SIGINFO) || !(sa.sa_flags & SA_RESTART) ||
	    !(sa.sa_flags & SA_ONSTACK) || !sigismember(&sa.sa_mask, SIGUSR2) ||
	    sigismember(&sa.sa_mask, SIGHUP))
		return 2;
	/* The caller ignored SIGHUP; the saver did not. */
	if (sigaction(SIGHUP, NULL, &sa) || sa.sa_handler != SIG_DFL)
		return 3;
	/* The saver's signal stack, not the caller's. */
	if (sigaltstack(NULL, &ss) || ss.ss_sp != saver_stack ||
	    ss.ss_size != sizeof(saver_stack) || (ss.ss_flags & SS_DISABLE))
		return 4;
	if (getitimer(ITIMER_REAL, &it) || it.it_value.tv_sec || it.it_value.tv_usec)
		return 5;
	if (getitimer(ITIMER_VIRTUAL, &it) || it.it_value.tv_sec || it.it_value.tv_usec)
		return 6;
	/* The caller's POSIX timer (id 0) is gone. */
	if (syscall(__NR_timer_gettime, 0, &ts) != -1 || errno != EINVAL)
		return 7;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 8;
	/* The handler runs, on the saved signal stack. */
	raise(SIGUSR1);
	if (!handled || handler_frame < (uintptr_t)saver_stack ||
	    handler_frame >= (uintptr_t)saver_stack + sizeof(saver_stack))
		return 9;
	/* The one-shot handler: its flags, then it runs once, unblocked. */
	if (sigaction(SIGURG, NULL, &sa) || sa.sa_handler != once_handler ||
	    !(sa.sa_flags & SA_RESETHAND) || !(sa.sa_flags & SA_NODEFER))
		return 10;
	raise(SIGURG);
	if (once_ran != 1 || once_blocked)
		return 11;
	if (sigaction(SIGURG, NULL, &sa) || sa.sa_handler != SIG_DFL)
		return 12;
	raise(SIGURG); /* default action: ignored */
	if (once_ran != 1)
		return 13;
	return 0;
}

static void nothing(void)
{
}

static char saved_auxv[2048];
static ssize_t saved_auxv_len = -1;

static ssize_t read_auxv(char *buf, size_t size)
{
	int fd = open("/proc/self/auxv", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size);

	if (fd >= 0)
		close(fd);
	return n;
}

static void saver_auxv(void)
{
	saved_auxv_len = read_auxv(saved_auxv, sizeof(saved_auxv));
}

/* The caller shows a vector of its own: just AT_PAGESZ. */
static void caller_auxv(void)
{
	unsigned long v[] = { AT_PAGESZ, 4096, AT_NULL, 0 };

	prctl(PR_SET_MM, PR_SET_MM_AUXV, (unsigned long)v, sizeof(v), 0);
}

static int restored_has_saved_auxv(void)
{
	char now[2048];
	ssize_t n = read_auxv(now, sizeof(now));

	/* More than AT_PAGESZ and AT_NULL: the saver's real vector. */
	if (saved_auxv_len <= 32 || n != saved_auxv_len)
		return 1;
	return memcmp(now, saved_auxv, n) ? 2 : 0;
}

/* For a case where restart must fail: a restored task is a failure. */
static int never_restored(void)
{
	return 99;
}

/* A blocked signal waits for the caller: it cannot become another task. */
static void caller_blocked_pending(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR1);
}

static pid_t sibling_pid;

static int sibling(void *arg)
{
	(void)arg;
	pause();
	return 0;
}

/* The caller shares its signal handlers with another process. */
static void caller_shares_sighand(void)
{
	static char stack[65536];

	sibling_pid = clone(sibling, stack + sizeof(stack),
			    CLONE_VM | CLONE_SIGHAND, NULL);
}

static const struct state_case cases[] = {
	{ "rseq_and_robust_list_are_the_saved_ones", saver_keeps_rseq,
	  caller_registrations, restored_has_saved_rseq, 0 },
	{ "no_saved_rseq_means_none_not_the_callers", saver_without_rseq,
	  caller_registrations, restored_has_no_rseq, 0 },
	{ "signal_actions_and_stack_are_the_saved_ones_no_caller_timers",
	  saver_signals, caller_state, restored_has_own_signals_and_no_timers,
	  0 },
	{ "auxv_is_the_saved_one_not_the_callers", saver_auxv, caller_auxv,
	  restored_has_saved_auxv, 0 },
	{ "caller_with_blocked_pending_signal_ebusy", nothing,
	  caller_blocked_pending, never_restored, EBUSY },
	{ "caller_sharing_signal_handlers_ebusy", nothing,
	  caller_shares_sighand, never_restored, EBUSY },
};

static void run_case(const struct state_case *c)
{
	int status = -1, saver_status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(IMG, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		long r;

		c->saver();
		r = sys_checkpoint(0, fd, 0);
		if (r > 0)
			_exit(0);
		_exit(r == 0 ? c->restored() : 100);
	}
	waitpid(pid, &saver_status, 0);
	pid = fork();
	if (pid == 0) {
		int fd = open(IMG, O_RDONLY);

		int err;

		c->caller();
		sys_restart(0, fd, 0);
		/* Still the caller: report the errno. */
		err = errno;
		if (sibling_pid > 0)
			kill(sibling_pid, SIGKILL);
		_exit(c->restart_errno && err == c->restart_errno ? 0 : 150);
	}
	waitpid(pid, &status, 0);
	ktap_case(saver_status == 0 && WIFEXITED(status) && !WEXITSTATUS(status),
		  c->name,
		  "saver status %#x; restarted task status %#x (exit code = first failed check, 150: restart returned)",
		  saver_status, status);
}

static int external_saver_signals(void)
{
	saver_signals();
	return 0;
}

static int external_caller_state(void)
{
	caller_state();
	return 0;
}

/*
 * The signal case with a target stopped (in its sleep) and checkpointed
 * from outside, restarted by a caller with its own handlers and timers.
 */
static void external_signals_case(void)
{
	long r = checkpoint_external_target(IMG, external_saver_signals,
					    restored_has_own_signals_and_no_timers);
	int status = r > 0 ? restart_after(IMG, external_caller_state, 0) : -1;

	ktap_case(r > 0 && restart_outcome_ok(status, 0),
		  "external_signal_actions_and_stack_are_the_saved_ones",
		  "checkpoint %ld; restarted task status %#x (exit code = first failed check, 150: restart returned)",
		  r, status);
}

int main(void)
{
	size_t i, n = sizeof(cases) / sizeof(cases[0]);

	ktap_begin("task_state", n + 1);
	fflush(stdout);
	for (i = 0; i < n; i++)
		run_case(&cases[i]);
	external_signals_case();
	return ktap_end();
}
