// SPDX-License-Identifier: GPL-2.0
/*
 * Sessions and process groups across a restart (zdtm's session00-03):
 * groups and sessions whose leader has exited, and a session led by a
 * process of the tree that is not the member's parent.
 *
 * The root R is a child subreaper.  Its tree:
 *
 *   R
 *   +- G   leads a new session; its child H forked I and exited
 *   +- I   in G's session and group, reparented to R
 *   +- B   in session A and group A; A (a child of R that ran setsid,
 *   |  |   forked B and D, and exited) is gone
 *   |  +- C   in session A and group A, as its parent
 *   +- D   in session A, leads its own group
 *   +- D2  leads its own group in session A2; A2 (a child of R that ran
 *   |      setsid, forked D2 then B2, and exited) is gone
 *   +- B2  in session A2 and group A2, restored after D2
 *   +- F   in R's session and in group E; E (a child of R that led the
 *          group, forked F and exited) is gone
 *
 * The tree is checkpointed, killed, and restarted as a child with the
 * saved pids, with new pids, and in place (the others keep their pids).
 * After each restart R checks, from /proc, that every process is back
 * with its parent, and that
 * - B, C and D share a session that is not R's, whose id names no
 *   process; B and C are in the group of that id; D leads its own; and
 *   so for B2 and D2 in theirs (where the first member restored leads
 *   its own group);
 * - F is in R's session, in a group of its own id that names no process;
 * - I is in G's session and group;
 * - with the saved pids, every pid, group and session id is the saved
 *   one;
 * - once B, C and D are gone, so is their group.
 * It exits with the number of the first failed check (0: all passed).
 * The third restart allocates the vacant ids again: it fails if the
 * earlier restarts leaked them.
 *
 * Refused: a child in a group whose leader lives outside the tree.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define IMG "sessions.img"
#define GO "go"
#define PIDS "pids"
#define MODE "mode"

enum { G, I, B, C, D, D2, B2, F, NPROCS };

static const char *const names[NPROCS] = {
	"s-g", "s-i", "s-b", "s-c", "s-d", "s-d2", "s-b2", "s-f",
};

/* A process as /proc/PID/stat shows it. */
struct proc_ids {
	pid_t pid, ppid, pgrp, sid;
};

static struct proc_ids saved[NPROCS];

/* Reads /proc/@pid/stat: 0, with its name in @comm, or -1. */
static int read_ids(pid_t pid, struct proc_ids *p, char comm[32])
{
	char path[64], buf[512];
	const char *fields;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fields = read_stat(path, buf, sizeof(buf), comm);
	if (!fields || sscanf(fields + 1, "%*c %d %d %d", &p->ppid, &p->pgrp,
			      &p->sid) != 3)
		return -1;
	p->pid = pid;
	return 0;
}

/*
 * Finds the processes of names[] in /proc: how many were found; the
 * others' pids are 0.  With @kill_them, sends each SIGKILL instead.
 */
static int scan(struct proc_ids out[NPROCS], int kill_them)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;

	memset(out, 0, NPROCS * sizeof(*out));
	while (d && (e = readdir(d))) {
		struct proc_ids p;
		char comm[32];
		pid_t pid = atoi(e->d_name);

		if (pid <= 0 || read_ids(pid, &p, comm))
			continue;
		for (int i = 0; i < NPROCS; i++) {
			if (strcmp(comm, names[i]))
				continue;
			if (kill_them)
				kill(pid, SIGKILL);
			else if (!out[i].pid)
				found++;
			out[i] = p;
		}
	}
	if (d)
		closedir(d);
	return found;
}

/* Whether no process has the id @pid. */
static int no_process(pid_t pid)
{
	return kill(pid, 0) == -1 && errno == ESRCH;
}

/* R after the restart: the number of the first failed check, or 0. */
static int check_tree(struct proc_ids p[NPROCS], int saved_pids)
{
	pid_t me = getpid(), session_a, group_e;

	if (scan(p, 0) != NPROCS)
		return 10;
	session_a = p[B].sid;
	group_e = p[F].pgrp;
	for (int i = 0; i < NPROCS; i++) {
		if (p[i].ppid != (i == C ? p[B].pid : me))
			return 11 + i;
		if (saved_pids && (p[i].pid != saved[i].pid ||
				   p[i].pgrp != saved[i].pgrp ||
				   p[i].sid != saved[i].sid))
			return 20 + i;
	}
	if (session_a == getsid(0) || session_a == p[G].sid ||
	    !no_process(session_a))
		return 30;
	if (p[C].sid != session_a || p[D].sid != session_a ||
	    p[B].pgrp != session_a || p[C].pgrp != session_a)
		return 31;
	if (p[D].pgrp != p[D].pid || kill(-session_a, 0))
		return 32;
	if (p[B2].sid == session_a || p[B2].sid == getsid(0) ||
	    !no_process(p[B2].sid) || p[D2].sid != p[B2].sid ||
	    p[B2].pgrp != p[B2].sid || p[D2].pgrp != p[D2].pid)
		return 36;
	if (p[F].sid != getsid(0) || group_e == getpgrp() ||
	    group_e == p[F].pid || !no_process(group_e) || kill(-group_e, 0))
		return 33;
	if (p[G].sid != p[G].pid || p[G].pgrp != p[G].pid ||
	    p[I].sid != p[G].pid || p[I].pgrp != p[G].pid)
		return 34;
	return 0;
}

/* R after the restart: checks, then kills the tree. */
static int check_root(void)
{
	struct proc_ids p[NPROCS];
	int ret, saved_pids = !access(MODE, F_OK);
	pid_t session_a;

	ret = check_tree(p, saved_pids);
	session_a = p[B].sid;
	scan(p, 1);
	while (waitpid(-1, NULL, 0) > 0)
		;
	/* The group and session of B, C and D went with them. */
	if (!ret && session_a > 0 && kill(-session_a, 0) != -1)
		ret = 35;
	return ret;
}

/* A child of R named @name, in the state @setup leaves it. */
static void named(const char *name, int ready)
{
	close(ready);
	prctl(PR_SET_NAME, name);
	for (;;)
		pause();
}

/* Waits until every process of names[] is where it will be saved. */
static int wait_settled(void)
{
	struct proc_ids p[NPROCS];
	pid_t me = getpid();

	for (int tries = 0; tries < 5000; tries++) {
		if (scan(p, 0) == NPROCS && p[I].ppid == me &&
		    p[B].ppid == me && p[D].ppid == me && p[F].ppid == me &&
		    p[D2].ppid == me && p[B2].ppid == me &&
		    p[D].pgrp == p[D].pid && p[D2].pgrp == p[D2].pid &&
		    p[C].ppid == p[B].pid) {
			memcpy(saved, p, sizeof(saved));
			return 0;
		}
		usleep(1000);
	}
	return -1;
}

/* R: makes its tree, then waits for GO past the restart. */
static void root(int ready)
{
	FILE *f;
	pid_t x;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* G leads a session; its child H forks I and exits. */
	x = fork();
	if (x == 0) {
		pid_t h;

		setsid();
		h = fork();
		if (h == 0) {
			if (fork() == 0)
				named(names[I], ready);
			_exit(0);
		}
		waitpid(h, NULL, 0);
		named(names[G], ready);
	}
	/* A leads a session, forks B (which forks C) and D, and exits. */
	x = fork();
	if (x == 0) {
		setsid();
		if (fork() == 0) {
			if (fork() == 0)
				named(names[C], ready);
			named(names[B], ready);
		}
		if (fork() == 0) {
			setpgid(0, 0);
			named(names[D], ready);
		}
		_exit(0);
	}
	waitpid(x, NULL, 0);
	/* A2 leads a session, forks D2 (which leads a group), B2, exits. */
	x = fork();
	if (x == 0) {
		setsid();
		if (fork() == 0) {
			setpgid(0, 0);
			named(names[D2], ready);
		}
		if (fork() == 0)
			named(names[B2], ready);
		_exit(0);
	}
	waitpid(x, NULL, 0);
	/* E leads a group, forks F, and exits. */
	x = fork();
	if (x == 0) {
		setpgid(0, 0);
		if (fork() == 0)
			named(names[F], ready);
		_exit(0);
	}
	waitpid(x, NULL, 0);
	if (wait_settled())
		_exit(2);
	f = fopen(PIDS, "w");
	for (int i = 0; f && i < NPROCS; i++)
		fprintf(f, "%d\n", saved[i].pid);
	if (!f || fclose(f))
		_exit(3);
	signal_ready(ready);
	while (access(GO, F_OK))
		usleep(2000);
	_exit(check_root());
}

/* Kills what is left of any tree and reaps our children. */
static void reap_all(void)
{
	struct proc_ids p[NPROCS];

	scan(p, 1);
	while (waitpid(-1, NULL, __WALL) > 0)
		;
}

/* Makes R's tree, checkpoints it to IMG and kills it; R's pid or -1. */
static pid_t make_image(void)
{
	pid_t r, pids[NPROCS];
	int ready, err = 0, stopped = 0;
	long ret = -1;
	FILE *f;

	unlink(GO);
	unlink(PIDS);
	r = fork_when_ready(&ready);
	if (r == 0) {
		setpgid(0, 0);
		prctl(PR_SET_NAME, "s-r");
		root(ready);
	}
	f = fopen(PIDS, "r");
	for (int i = 0; f && i < NPROCS; i++)
		if (fscanf(f, "%d", &pids[i]) == 1 && !stop_pid(pids[i]))
			stopped++;
	if (f)
		fclose(f);
	if (r > 0 && stopped == NPROCS && !stop_pid(r)) {
		ret = checkpoint_to(r, IMG);
		err = errno;
	}
	ktap_case(ret > 0, "tree_with_gone_leaders_checkpointed",
		  "root %d, %d of %d stopped, checkpoint %ld (errno %d)", r,
		  stopped, NPROCS, ret, err);
	if (r > 0)
		kill(r, SIGKILL);
	reap_all();
	return ret > 0 ? r : -1;
}

/*
 * Restarts IMG as a child with @flags; its wait status, or -1, with the
 * errno of restart.
 */
static int restart_child(unsigned long flags, long *ret)
{
	int status = restart_child_and_wait(IMG, flags, GO, ret), err = errno;

	reap_all();
	errno = err;
	return status;
}

/* A child in a group led by a process outside the tree: refused. */
static void foreign_group_case(void)
{
	int ready, err = 0;
	long ret = -1;
	pid_t leader, q = -1, q1 = -1;
	FILE *f;

	unlink(PIDS);
	leader = fork_when_ready(&ready);
	if (leader == 0) {
		setpgid(0, 0);
		signal_ready(ready);
		for (;;)
			pause();
	}
	if (leader > 0)
		q = fork_when_ready(&ready);
	if (q == 0) {
		q1 = fork();
		if (q1 == 0) {
			close(ready);
			for (;;)
				pause();
		}
		/* As a shell puts a command in another job's group. */
		if (q1 < 0 || setpgid(q1, leader))
			_exit(2);
		f = fopen(PIDS, "w");
		if (!f || fprintf(f, "%d\n", q1) < 0 || fclose(f))
			_exit(3);
		signal_ready(ready);
		for (;;)
			pause();
	}
	f = fopen(PIDS, "r");
	if (!f || fscanf(f, "%d", &q1) != 1)
		q1 = -1;
	if (f)
		fclose(f);
	if (q > 0 && q1 > 0 && !stop_pid(q) && !stop_pid(q1)) {
		ret = checkpoint_to(q, IMG);
		err = errno;
	}
	ktap_case(ret == -1 && err == EOPNOTSUPP,
		  "child_in_group_led_outside_refused", "returned %ld errno %d",
		  ret, err);
	if (leader > 0)
		kill(-leader, SIGKILL);
	if (q > 0)
		kill(q, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
}

int main(void)
{
	long ret = -1;
	int status;
	pid_t r;

	ktap_begin("sessions", 5);
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	r = make_image();

	close(open(MODE, O_WRONLY | O_CREAT, 0644));
	status = r > 0 ? restart_child(0, &ret) : -1;
	ktap_case(ret == r && WIFEXITED(status) && !WEXITSTATUS(status),
		  "sessions_restarted_with_saved_pids",
		  "saved root %d, restart %ld (errno %d), root status %#x (exit code: first failed check)",
		  r, ret, ret > 0 ? 0 : errno, status);

	unlink(MODE);
	status = r > 0 ? restart_child(RESTART_NEW_PID, &ret) : -1;
	ktap_case(ret > 0 && ret != r && WIFEXITED(status) &&
		  !WEXITSTATUS(status),
		  "sessions_restarted_with_new_pids",
		  "restart %ld (errno %d), root status %#x", ret,
		  ret > 0 ? 0 : errno, status);

	/* The caller may choose pids: the processes below R keep theirs. */
	close(open(MODE, O_WRONLY | O_CREAT, 0644));
	status = -1;
	if (r > 0) {
		pid_t x;

		unlink(GO);
		x = restart_in_child(IMG);
		close(open(GO, O_WRONLY | O_CREAT, 0644));
		waitpid(x, &status, 0);
		reap_all();
	}
	ktap_case(WIFEXITED(status) && !WEXITSTATUS(status),
		  "sessions_restarted_in_place", "root status %#x", status);

	foreign_group_case();
	return ktap_end();
}
