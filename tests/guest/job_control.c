// SPDX-License-Identifier: GPL-2.0
/*
 * Job control across a restart, modelled on CRIU's zdtm jobctl00: a
 * shell's background jobs stopped by terminal access come back, and the
 * shell brings each to the foreground and continues it.
 *
 * R holds a pseudo-terminal's master and forks S, the shell, which leads
 * a session on the slave (ICANON, ISIG and TOSTOP set) and ignores
 * SIGTTOU, as shells do.  S forks three jobs, each a group of its own: a
 * leader L that waits for its one worker W.  Each W handles its signal by
 * noting it, restoring the default action and raising it again, as
 * jobctl00's workers do:
 *
 *   - the writer writes to the terminal from the background: SIGTTOU
 *     stops it;
 *   - the reader reads from it from the background: SIGTTIN stops it;
 *   - the third waits for SIGCONT.
 *
 * The tree is checkpointed with the writer and the reader in their
 * job-control stop, killed, and restarted as a child with the saved pids
 * and in place.  Restart does not keep a job-control stop (state.rst):
 * the stopped workers run again, and each stops again when it retries
 * its terminal access from the background.  S then does what a shell's
 * "fg" does for each job in turn: gives the terminal to its group, sends
 * it SIGCONT and waits for it.  Each worker must then finish its access
 * in the foreground, having seen its signal; R reads the writer's line
 * and writes the reader's.  Each process exits with the number of its
 * first failed check (0: all passed), a parent with its child's if that
 * failed.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>

#define IMG "job-control.img"
#define GO "go"
#define PIDS "pids"
#define JOBS 3

static const char written[] = "all you need is love\n";
static const char typed[] = "we all live in a yellow submarine\n";

/* The signal each job's worker waits for or is stopped by. */
static const int job_signal[JOBS] = { SIGTTOU, SIGTTIN, SIGCONT };

static volatile sig_atomic_t seen;

static void wait_go(void)
{
	while (access(GO, F_OK))
		usleep(2000);
}

static void note_and_raise(int sig)
{
	seen = sig;
	signal(sig, SIG_DFL);
	raise(sig);
}

static int in_foreground(void)
{
	return tcgetpgrp(0) == getpgrp();
}

/* W: the worker of a job with signal @sig. */
static void worker(int sig, int ready)
{
	char line[64] = "";
	pid_t self = getpid();
	sigset_t none;

	if (in_foreground())
		_exit(50);
	if (signal(sig, note_and_raise) == SIG_ERR)
		_exit(51);
	if (write(ready, &self, sizeof(self)) != sizeof(self))
		_exit(52);
	close(ready);
	switch (sig) {
	case SIGTTOU:
		if (write(1, written, strlen(written)) != (ssize_t)strlen(written))
			_exit(53);
		break;
	case SIGTTIN:
		if (read(0, line, sizeof(line) - 1) <= 0 || strcmp(line, typed))
			_exit(54);
		break;
	default:
		sigemptyset(&none);
		while (!seen)
			sigsuspend(&none);
	}
	if (seen != sig)
		_exit(55);
	if (!in_foreground())
		_exit(56);
	_exit(0);
}

/* L: leads job @i's group and waits for its worker; returns W's pid. */
static pid_t start_job(int i, pid_t *leader)
{
	int p[2], status;
	pid_t w = -1;

	if (pipe(p))
		return -1;
	*leader = fork();
	if (*leader == 0) {
		close(p[0]);
		setpgid(0, 0);
		w = fork();
		if (w == 0)
			worker(job_signal[i], p[1]);
		close(p[1]);
		if (w < 0 || waitpid(w, &status, 0) != w || !WIFEXITED(status))
			_exit(60);
		_exit(WEXITSTATUS(status));
	}
	close(p[1]);
	/* The worker says its pid once it is set up. */
	if (*leader < 0 || read(p[0], &w, sizeof(w)) != sizeof(w))
		w = -1;
	close(p[0]);
	return w;
}

/* S: the shell on the slave. */
static void shell(const char *slave_path)
{
	pid_t leader[JOBS], worker_pid[JOBS];
	struct termios t;
	int fd, status;
	FILE *f;

	setsid();
	signal(SIGTTOU, SIG_IGN);
	/* Without O_NOCTTY: it becomes the session's terminal. */
	fd = open(slave_path, O_RDWR);
	if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(20);
	if (fd > 2)
		close(fd);
	if (tcgetattr(0, &t))
		_exit(21);
	t.c_lflag |= ICANON | ISIG | TOSTOP;
	t.c_lflag &= ~ECHO;
	if (tcsetattr(0, TCSANOW, &t))
		_exit(21);
	for (int i = 0; i < JOBS; i++) {
		worker_pid[i] = start_job(i, &leader[i]);
		if (worker_pid[i] < 0)
			_exit(22);
	}
	/* The writer and the reader stop on their own. */
	for (int i = 0; i < 2; i++) {
		int tries = 0;

		while (proc_state(worker_pid[i]) != 'T' && tries++ < 5000)
			usleep(1000);
		if (proc_state(worker_pid[i]) != 'T')
			_exit(23);
	}
	/* Renamed into place whole: the test waits for it to exist. */
	f = fopen(PIDS ".new", "w");
	if (!f || fprintf(f, "%d", getpid()) < 0)
		_exit(24);
	for (int i = 0; i < JOBS; i++)
		fprintf(f, " %d %d", leader[i], worker_pid[i]);
	if (fclose(f) || rename(PIDS ".new", PIDS))
		_exit(24);
	wait_go();
	for (int i = 0; i < JOBS; i++) {
		if (tcsetpgrp(0, leader[i]))
			_exit(25);
		if (kill(-leader[i], SIGCONT))
			_exit(26);
		if (waitpid(leader[i], &status, 0) != leader[i] ||
		    !WIFEXITED(status))
			_exit(27);
		if (WEXITSTATUS(status))
			_exit(WEXITSTATUS(status));
	}
	_exit(0);
}

/* R: the terminal's other side. */
static void root(int ready)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY), status;
	char buf[256], slave_path[64], want[64];
	pid_t s;

	if (master < 0 || grantpt(master) || unlockpt(master) ||
	    ptsname_r(master, slave_path, sizeof(slave_path)))
		_exit(2);
	s = fork();
	if (s == 0) {
		close(ready);
		close(master);
		shell(slave_path);
	}
	for (int tries = 0; tries < 10000 && access(PIDS, F_OK); tries++)
		usleep(1000);
	if (s < 0 || access(PIDS, F_OK))
		_exit(3);
	signal_ready(ready);
	wait_go();
	/* Typed ahead: the reader gets it once in the foreground. */
	if (write(master, typed, strlen(typed)) != (ssize_t)strlen(typed))
		_exit(10);
	/* The terminal turns "\n" into "\r\n". */
	snprintf(want, sizeof(want), "%.*s\r\n", (int)strlen(written) - 1,
		 written);
	if (read_until(master, buf, sizeof(buf), want))
		_exit(11);
	if (waitpid(s, &status, 0) != s || !WIFEXITED(status))
		_exit(12);
	_exit(WEXITSTATUS(status));
}

/* Makes the tree and checkpoints it to IMG; R's pid or -1. */
static pid_t make_image(void)
{
	pid_t r, pids[1 + 2 * JOBS];
	int ready, err = 0, n = 0, stopped = 0;
	char states[2 * JOBS + 1] = "";
	long ret = -1;
	FILE *f;

	unlink(GO);
	unlink(PIDS);
	r = fork_when_ready(&ready);
	if (r == 0) {
		setpgid(0, 0);
		root(ready);
	}
	f = fopen(PIDS, "r");
	while (f && n < 1 + 2 * JOBS && fscanf(f, "%d", &pids[n]) == 1)
		n++;
	if (f)
		fclose(f);
	if (r > 0 && n == 1 + 2 * JOBS) {
		/* The workers' states before the test stops anything. */
		for (int i = 0; i < JOBS; i++)
			states[i] = proc_state(pids[2 + 2 * i]);
		stopped = 1;
		for (int i = n - 1; i >= 0; i--)
			stopped &= !stop_pid(pids[i]);
		stopped &= !stop_pid(r);
	}
	if (stopped) {
		ret = checkpoint_to(r, IMG);
		err = errno;
	}
	ktap_case(ret > 0 && !strncmp(states, "TTS", 3),
		  "jobs_stopped_by_terminal_access_checkpointed",
		  "root %d, %d pids, workers' states %s, checkpoint %ld (errno %d)",
		  r, n, states, ret, err);
	if (r > 0)
		kill(r, SIGKILL);
	for (int i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	reap_children();
	return ret > 0 ? r : -1;
}

int main(void)
{
	pid_t r;

	ktap_begin("job_control", 3);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	r = make_image();
	/* The restored processes go on at once. */
	close(open(GO, O_WRONLY | O_CREAT, 0644));
	restart_tree_both_ways(IMG, r, NULL,
			       "jobs_continued_in_foreground_as_child",
			       "jobs_continued_in_foreground_in_place");
	return ktap_end();
}
