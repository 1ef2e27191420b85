// SPDX-License-Identifier: GPL-2.0
/*
 * Pending signals are saved and queued again at restart: standard and
 * real-time signals, pending for the thread and for the process, blocked
 * or about to be delivered, each with its siginfo (sender, code, value)
 * and in its order.
 *
 * Self case: the task blocks signals, sends itself some for the thread
 * (tgkill, rt_tgsigqueueinfo) and some for the process (kill, sigqueue),
 * and checkpoints itself; the restored task finds them on the same queues
 * (SigPnd and ShdPnd of /proc/self/status) and takes them one by one with
 * sigtimedwait(), comparing every siginfo.
 *
 * External case: a task waits in pause() with SIGUSR1 and SIGRTMIN
 * blocked and a handler for SIGUSR2; while it is stopped it is sent
 * SIGUSR1, SIGRTMIN twice with values and then SIGUSR2.  Restarted, its
 * SIGUSR2 handler runs at once, pause() fails with EINTR as it would
 * have after SIGCONT, and the blocked signals wait with their values.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <sys/wait.h>

#define IMG "/tmp/sigpending.img"

/* The mask of /proc/self/status field @field ("SigPnd", "ShdPnd"). */
static uint64_t status_mask(const char *field)
{
	char line[256];
	uint64_t mask = ~0ull;
	FILE *f = fopen("/proc/self/status", "r");
	size_t len = strlen(field);

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			mask = strtoull(line + len + 1, NULL, 16);
	if (f)
		fclose(f);
	return mask;
}

static uint64_t bit(int sig)
{
	return 1ull << (sig - 1);
}

static void block(const int *sigs, int n)
{
	sigset_t set;

	sigemptyset(&set);
	for (int i = 0; i < n; i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/*
 * Takes pending signal @sig; checks its code, sender and value.  The
 * system call is made directly: glibc's sigtimedwait() reports SI_TKILL
 * as SI_USER.
 */
static int take(int sig, int code, pid_t sender, int value)
{
	struct timespec zero = { 0 };
	siginfo_t si;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	if (syscall(__NR_rt_sigtimedwait, &set, &si, &zero, _NSIG / 8) != sig) {
		printf("    # signal %d not pending\n", sig);
		return 0;
	}
	if (si.si_signo != sig || si.si_code != code || si.si_pid != sender) {
		printf("    # signal %d: code %d pid %d, expected code %d pid %d\n",
		       sig, si.si_code, si.si_pid, code, sender);
		return 0;
	}
	if ((code == SI_QUEUE || code == SI_TIMER) && si.si_value.sival_int != value)
		return 0;
	return 1;
}

static long tgsigqueue(pid_t pid, int sig, int value)
{
	siginfo_t si = { .si_signo = sig, .si_code = SI_QUEUE };

	si.si_pid = pid;
	si.si_uid = getuid();
	si.si_value.sival_int = value;
	return syscall(__NR_rt_tgsigqueueinfo, pid, pid, sig, &si);
}

static int self_restored(pid_t me)
{
	const uint64_t thread = bit(SIGUSR1) | bit(SIGRTMIN + 1);
	const uint64_t process = bit(SIGUSR2) | bit(SIGRTMIN);
	struct timespec zero = { 0 };
	siginfo_t si;
	sigset_t all;

	if (status_mask("SigPnd") != thread)
		return 1;
	if (status_mask("ShdPnd") != process)
		return 2;
	if (!take(SIGUSR1, SI_TKILL, me, 0))
		return 3;
	if (!take(SIGUSR2, SI_USER, me, 0))
		return 4;
	/* The real-time ones in the order they were queued. */
	if (!take(SIGRTMIN, SI_QUEUE, me, 11) || !take(SIGRTMIN, SI_QUEUE, me, 12) ||
	    !take(SIGRTMIN, SI_QUEUE, me, 13))
		return 5;
	if (!take(SIGRTMIN + 1, SI_QUEUE, me, 21))
		return 6;
	/* Nothing else. */
	sigfillset(&all);
	if (sigtimedwait(&all, &si, &zero) != -1)
		return 7;
	return 0;
}

static void self_case(void)
{
	const int sigs[] = { SIGUSR1, SIGUSR2, SIGRTMIN, SIGRTMIN + 1 };
	int status = -1, saver_status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		pid_t me = getpid();
		int fd = open(IMG, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		union sigval v;
		long r;

		block(sigs, 4);
		syscall(__NR_tgkill, me, me, SIGUSR1);
		kill(me, SIGUSR2);
		for (int i = 11; i <= 13; i++) {
			v.sival_int = i;
			sigqueue(me, SIGRTMIN, v);
		}
		tgsigqueue(me, SIGRTMIN + 1, 21);
		r = sys_checkpoint(0, fd, 0);
		if (r > 0)
			_exit(0);
		_exit(r == 0 ? self_restored(me) : 100);
	}
	waitpid(pid, &saver_status, 0);
	pid = fork();
	if (pid == 0) {
		int fd = open(IMG, O_RDONLY);

		sys_restart(0, fd, 0);
		_exit(150);
	}
	waitpid(pid, &status, 0);
	ktap_case(saver_status == 0 && WIFEXITED(status) && !WEXITSTATUS(status),
		  "self_thread_and_process_signals_with_siginfo",
		  "saver status %#x; restarted task status %#x (exit code = first failed check, 150: restart returned)",
		  saver_status, status);
}

static volatile sig_atomic_t usr2_handled;

static void on_usr2(int sig)
{
	(void)sig;
	usr2_handled = 1;
}

static void external_case(void)
{
	const char *name = "external_stopped_target_gets_signals_sent_while_stopped";
	const int sigs[] = { SIGUSR1, SIGRTMIN };
	int status = -1;
	union sigval v;
	pid_t parent = getpid(), pid;

	pid = fork();
	if (pid == 0) {
		int err = 0;

		signal(SIGUSR2, on_usr2);
		block(sigs, 2);
		while (!usr2_handled) {
			pause();
			err = errno;
		}
		/* pause() was interrupted by the handler, not run again. */
		if (err != EINTR)
			_exit(1);
		if (!take(SIGUSR1, SI_USER, parent, 0))
			_exit(2);
		if (!take(SIGRTMIN, SI_QUEUE, parent, 7) ||
		    !take(SIGRTMIN, SI_QUEUE, parent, 8))
			_exit(3);
		_exit(0);
	}
	usleep(200000);
	stop_target(pid);
	kill(pid, SIGUSR1);
	v.sival_int = 7;
	sigqueue(pid, SIGRTMIN, v);
	v.sival_int = 8;
	sigqueue(pid, SIGRTMIN, v);
	kill(pid, SIGUSR2);
	if (checkpoint_and_kill(pid, IMG) < 0) {
		ktap_case(0, name, "checkpoint failed: %s", strerror(errno));
		return;
	}
	pid = restart_in_child(IMG);
	waitpid(pid, &status, 0);
	ktap_case(WIFEXITED(status) && !WEXITSTATUS(status), name,
		  "restarted task status %#x (exit code = first failed check, 150: restart returned)",
		  status);
}

int main(void)
{
	ktap_begin("sigpending", 2);
	fflush(stdout);
	self_case();
	external_case();
	return ktap_end();
}
