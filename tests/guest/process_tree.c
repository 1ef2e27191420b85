// SPDX-License-Identifier: GPL-2.0
/*
 * Process trees: checkpoint(pid) saves the process and all its
 * descendants, and one restart(2) rebuilds them all.
 *
 * The tree (zdtm's pstree, cow00, pipe00 and session cases in one):
 *
 *   R  leads its process group; crossed pipes with A
 *   +- A   leads a new group (R makes it so); A1 below it
 *   |  +- A1
 *   +- B   joins A's group (as the second command of a pipeline)
 *   +- C   leads a new session; C1 below it
 *      +- C1
 *
 * Every process writes its own pattern over the buffer it inherited
 * (copy on write), records its ids, and waits for the file GO.  Once
 * restored, each checks its pattern, its ids (the saved ones when pids
 * are kept, else how they relate), then R and A exchange data over the
 * pipes (R had written "ping" before the checkpoint), and every parent
 * reaps its children, failing if any failed.  The tree is restarted
 * three ways: as a child of the caller with the saved pids
 * (RESTART_CHILD), as a child with new pids (RESTART_NEW_PID), and in
 * place, where the caller becomes R and the others keep their pids
 * (the caller may choose pids).
 *
 * Refused: A's subtree alone (its pipes lead to R) and a tree in which
 * one process runs (EBUSY); zombies are in zombies.c.  C's subtree
 * alone, a session of its own, is saved, and so is B alone (a member of
 * a group led elsewhere, which a restarted root leaves, as documented).
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define IMG "tree.img"
#define SUBTREE_IMG "subtree.img"
#define PIDS "pids"
#define GO "go"

enum { NPROC = 6 };

static char buffer[3 * 4096];

/* What a process saved about itself before the checkpoint. */
static struct {
	char name;
	pid_t pid, ppid, pgid, sid;
} me;

/* R's ends of the crossed pipes: to A, and from A. */
static int to_a = -1, from_a = -1;
/* A's ends. */
static int from_r = -1, to_r = -1;

static void fill(char name)
{
	for (size_t i = 0; i < sizeof(buffer); i++)
		buffer[i] = (char)(name + i * 7);
}

/* Records who this process is; appends its name and pid to PIDS. */
static void record(char name)
{
	char line[32];
	int fd, n;

	me.name = name;
	me.pid = getpid();
	me.ppid = getppid();
	me.pgid = getpgrp();
	me.sid = getsid(0);
	fill(name);
	n = snprintf(line, sizeof(line), "%c %d\n", name, me.pid);
	fd = open(PIDS, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0 || write(fd, line, n) != n)
		_exit(102);
	close(fd);
}

/* How the tree is restarted, as GO says. */
enum mode {
	ALL_NEW,	/* "new": every process has a new pid */
	ALL_SAVED,	/* "same": every process has its saved pid */
	IN_PLACE,	/* "place": all but the root (the caller) have */
};

/* Waits for GO; returns the mode it says. */
static enum mode wait_go(void)
{
	char mode[8] = "";
	int fd;

	while ((fd = open(GO, O_RDONLY)) < 0)
		usleep(2000);
	if (read(fd, mode, sizeof(mode) - 1) < 0)
		_exit(103);
	close(fd);
	if (!strncmp(mode, "same", 4))
		return ALL_SAVED;
	return strncmp(mode, "place", 5) ? ALL_NEW : IN_PLACE;
}

static int check_ids(enum mode mode);

/*
 * Says on standard output (a KTAP comment) which check of a restored
 * process failed, and with what ids; returns @code.
 */
static int failed(int code)
{
	pid_t parent = getppid();

	printf("    # %c: check %d failed: pid %d ppid %d pgid %d sid %d (saved %d %d %d %d); parent's pgid %d sid %d\n",
	       me.name, code, getpid(), parent, getpgrp(), getsid(0), me.pid,
	       me.ppid, me.pgid, me.sid, getpgid(parent), getsid(parent));
	fflush(stdout);
	return code;
}

/* The checks of a restored process: 0, or the first that failed. */
static int check_self(enum mode mode)
{
	int r = check_ids(mode);

	return r ? failed(r) : 0;
}

/* The checks of check_self(): 0, or the first that failed. */
static int check_ids(enum mode mode)
{
	int root_child = me.name == 'A' || me.name == 'B' || me.name == 'C';
	int kept = mode == ALL_SAVED || (mode == IN_PLACE && me.name != 'R');
	int parent_kept = mode == ALL_SAVED || (mode == IN_PLACE && !root_child);
	pid_t parent = getppid();

	for (size_t i = 0; i < sizeof(buffer); i++)
		if (buffer[i] != (char)(me.name + i * 7))
			return 1;
	if (kept) {
		if (getpid() != me.pid || getpgrp() != me.pgid ||
		    getsid(0) != me.sid || (parent_kept && parent != me.ppid))
			return 2;
	} else if (getpid() == me.pid) {
		return 3;
	}
	switch (me.name) {
	case 'A':
		if (getpgrp() != getpid() || getsid(0) != getsid(parent))
			return 4;
		break;
	case 'B':
		/* In A's group: neither its own nor its parent's. */
		if (getpgrp() == getpid() || getpgrp() == getpgid(parent) ||
		    getsid(0) != getsid(parent))
			return 5;
		break;
	case 'C':
		if (getsid(0) != getpid() || getpgrp() != getpid())
			return 6;
		break;
	case '1':
	case 'c':
		if (getpgrp() != getpgid(parent) || getsid(0) != getsid(parent))
			return 7;
		break;
	}
	return 0;
}

/* Reaps @n children: 0 if all exited 0, else 40 + the first failure. */
static int reap(int n)
{
	int status, found = 0, failed = 0;

	while (wait(&status) > 0) {
		found++;
		if (!failed && !(WIFEXITED(status) && !WEXITSTATUS(status)))
			failed = 40 + (WIFEXITED(status) ? WEXITSTATUS(status) :
							   100 + WTERMSIG(status));
	}
	if (failed)
		return failed > 255 ? 255 : failed;
	return found == n ? 0 : 30 + found;
}

/* A leaf: records itself, waits, checks. */
static void leaf(char name)
{
	record(name);
	_exit(check_self(wait_go()));
}

static pid_t fork_leaf(char name)
{
	pid_t pid = fork();

	if (pid == 0)
		leaf(name);
	return pid;
}

static void process_a(void)
{
	char buf[8] = "";
	enum mode mode;
	int r;

	close(to_a);
	close(from_a);
	/* As R does too: whichever runs first, A leads its group before it
	 * records its ids. */
	if (setpgid(0, 0))
		_exit(110);
	record('A');
	if (fork_leaf('1') < 0)
		_exit(104);
	mode = wait_go();
	r = check_self(mode);
	if (!r && (read(from_r, buf, 4) != 4 || memcmp(buf, "ping", 4)))
		r = failed(8);
	if (!r && write(to_r, "pong", 4) != 4)
		r = failed(9);
	_exit(r ? r : reap(1));
}

static void process_c(void)
{
	if (setsid() < 0)
		_exit(105);
	record('C');
	if (fork_leaf('c') < 0)
		_exit(104);
	_exit(check_self(wait_go()) ?: reap(1));
}

/* The root. */
static void process_r(void)
{
	int p2c[2], c2p[2], r;
	enum mode mode;
	char buf[8] = "";
	pid_t a, b, c;

	if (setpgid(0, 0) || pipe(p2c) || pipe(c2p))
		_exit(106);
	record('R');
	to_a = p2c[1];
	from_a = c2p[0];
	from_r = p2c[0];
	to_r = c2p[1];
	a = fork();
	if (a == 0)
		process_a();
	close(from_r);
	close(to_r);
	/* As a shell does for a pipeline: A leads, B joins. */
	if (a < 0 || setpgid(a, a))
		_exit(107);
	b = fork();
	if (b == 0) {
		close(to_a);
		close(from_a);
		setpgid(0, a);
		leaf('B');
	}
	if (b < 0 || (setpgid(b, a) && errno != EACCES))
		_exit(108);
	c = fork();
	if (c == 0) {
		close(to_a);
		close(from_a);
		process_c();
	}
	if (c < 0 || write(to_a, "ping", 4) != 4)
		_exit(109);
	mode = wait_go();
	r = check_self(mode);
	if (!r) {
		ssize_t n = read(from_a, buf, 4);

		if (n != 4)
			r = failed(n == 0 ? 10 : n < 0 ? 11 : 12);
		else if (memcmp(buf, "pong", 4))
			r = failed(strncmp(buf, "ping", 4) ? 13 : 14);
	}
	_exit(r ? r : reap(3));
}

/* The names of the processes, in the order of pids[]. */
static const char names[NPROC + 1] = "RABC1c";

/*
 * The pids of the tree by name (see names[]), once all NPROC recorded
 * themselves; 0 or -1.
 */
static int read_pids(pid_t *pids)
{
	for (int tries = 0; tries < 5000; tries++) {
		FILE *f = fopen(PIDS, "r");
		int n = 0, pid;
		char name;

		while (f && n < NPROC && fscanf(f, " %c %d", &name, &pid) == 2) {
			const char *at = strchr(names, name);

			if (at && *at) {
				pids[at - names] = pid;
				n++;
			}
		}
		if (f)
			fclose(f);
		if (n == NPROC)
			return 0;
		usleep(2000);
	}
	return -1;
}

/* Kills every process of @pids and reaps them (we are their subreaper). */
static void kill_tree(const pid_t *pids)
{
	for (int i = 0; i < NPROC; i++)
		kill(pids[i], SIGKILL);
	while (wait(NULL) > 0)
		;
}

/* Creates GO saying @mode, at once (a reader never sees it empty). */
static void go(const char *mode)
{
	int fd = open(GO ".new", O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, mode, strlen(mode)) < 0 ||
	    rename(GO ".new", GO))
		perror("go");
	close(fd);
}

/*
 * Starts the tree, stops it, runs the refusal cases and checkpoints it
 * to IMG; kills it.  Returns R's saved pid, or -1.
 */
static pid_t make_tree_image(void)
{
	pid_t pids[NPROC], r;
	long ret;
	int ok = 1, err;

	unlink(PIDS);
	unlink(GO);
	r = fork();
	if (r == 0)
		process_r();
	if (r < 0 || read_pids(pids))
		return -1;
	for (int i = 0; i < NPROC; i++)
		ok &= !stop_pid(pids[i]);
	ktap_case(ok, "tree_stopped", "not every process stopped");

	pid_t a = pids[1], b = pids[2], c = pids[3];

	ret = checkpoint_to(a, SUBTREE_IMG);
	err = errno;
	ktap_case(ret == -1 && err == EOPNOTSUPP, "subtree_with_pipe_to_outside_refused",
		  "checkpoint of A returned %ld errno %d", ret, err);
	/* As any root, B would be restarted in the caller's group. */
	ret = checkpoint_to(b, SUBTREE_IMG);
	ktap_case(ret > 0, "group_member_alone_saved",
		  "checkpoint of B returned %ld errno %d", ret, errno);
	ret = checkpoint_to(c, SUBTREE_IMG);
	ktap_case(ret > 0, "session_subtree_saved",
		  "checkpoint of C returned %ld errno %d", ret, errno);

	/* One process of the tree runs: EBUSY. */
	kill(c, SIGCONT);
	ret = checkpoint_to(r, IMG);
	err = errno;
	stop_pid(c);
	ktap_case(ret == -1 && err == EBUSY, "running_descendant_busy",
		  "returned %ld errno %d", ret, err);

	ret = checkpoint_to(r, IMG);
	err = errno;
	ktap_case(ret > 0, "tree_checkpointed", "returned %ld errno %d (%s)",
		  ret, err, strerror(err));
	kill_tree(pids);
	return ret > 0 ? r : -1;
}

/* Restarts IMG as a child with @flags; returns its wait status, or -1. */
static int restart_child(unsigned long flags, const char *mode, long *ret)
{
	int status = -1, fd = open(IMG, O_RDONLY);

	unlink(GO);
	*ret = sys_restart(0, fd, RESTART_CHILD | flags);
	close(fd);
	go(mode);
	if (*ret > 0 && waitpid(*ret, &status, 0) != *ret)
		status = -1;
	while (wait(NULL) > 0)
		;
	return status;
}

int main(void)
{
	long ret = -1;
	int status;
	pid_t r;

	ktap_begin("process_tree", 9);
	/* Orphans of the killed trees come to us, to be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	r = make_tree_image();

	status = restart_child(0, "same", &ret);
	ktap_case(r > 0 && ret == r && WIFEXITED(status) && !WEXITSTATUS(status),
		  "tree_restarted_with_saved_pids",
		  "saved root %d, restart returned %ld (errno %d), status %#x (exit code: first failed check, 40+ a child's)",
		  r, ret, ret > 0 ? 0 : errno, status);

	status = restart_child(RESTART_NEW_PID, "new", &ret);
	ktap_case(r > 0 && ret > 0 && ret != r && WIFEXITED(status) &&
		  !WEXITSTATUS(status),
		  "tree_restarted_with_new_pids",
		  "restart returned %ld (errno %d), status %#x", ret,
		  ret > 0 ? 0 : errno, status);

	unlink(GO);
	status = -1;
	if (r > 0) {
		pid_t x = restart_in_child(IMG);

		go("place");
		waitpid(x, &status, 0);
		while (wait(NULL) > 0)
			;
	}
	ktap_case(WIFEXITED(status) && !WEXITSTATUS(status),
		  "tree_restarted_in_place", "status %#x", status);

	return ktap_end();
}
