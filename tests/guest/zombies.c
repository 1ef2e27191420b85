// SPDX-License-Identifier: GPL-2.0
/*
 * Zombies across a restart (zdtm's zombie00), and a child whose leader
 * alone has exited.
 *
 * The root R has four zombie children: one that exited 42, one killed by
 * SIGTERM, one created with exit signal SIGUSR1 (a __WCLONE child) that
 * exited 9, and one that led a process group and exited 0 while a live
 * child of R, the member M, stays in its group.  R saw every SIGCHLD
 * (and the SIGUSR1) before it was stopped.  The tree is checkpointed,
 * killed, and restarted as a child with the saved pids, with new pids,
 * and in place.  After each restart R checks that
 * - no signal reached it during the restart;
 * - /proc shows each zombie as its child, in state Z, with its name, its
 *   group, and (with the saved pids) its pid, and the first with its real
 *   uid; M is in the group the restored group-leading zombie leads;
 * - waitpid() reaps each zombie with its exit status, the __WCLONE one
 *   only with __WCLONE.
 * It exits with the number of the first failed check (0: all passed).
 *
 * A child whose thread-group leader exited while another thread runs on
 * (zdtm's pthread02 shape, below the root of a tree) is saved with the
 * tree and restarted: its leader is a zombie again, its thread runs.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "target.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define IMG "zombies.img"
#define GO "go"
#define MEMBER "member"
#define NZOMBIES 4
#define LEADER 3	/* the zombie that leads a process group */
#define CLONED 2	/* the zombie with exit signal SIGUSR1 */
#define ZOMBIE_UID 1000	/* the real uid of the first zombie */

static const char *const names[NZOMBIES] = {
	"z-exit42", "z-term", "z-clone9", "z-leader",
};
static volatile sig_atomic_t chld_seen, usr1_seen;
static pid_t saved_self, saved_z[NZOMBIES];

static void count(int sig)
{
	if (sig == SIGCHLD)
		chld_seen++;
	else
		usr1_seen++;
}

/* A child of R as /proc shows it. */
struct proc_child {
	pid_t pid, pgrp;
	char state;
	char comm[32];
};

/* Reads /proc/@pid/stat: 0 and @c filled if @pid is a child of @parent. */
static int read_child(pid_t pid, pid_t parent, struct proc_child *c)
{
	char path[64], buf[512];
	const char *fields;
	int ppid, pgrp;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fields = read_stat(path, buf, sizeof(buf), c->comm);
	if (!fields ||
	    sscanf(fields + 1, "%c %d %d", &c->state, &ppid, &pgrp) != 3 ||
	    ppid != parent)
		return -1;
	c->pid = pid;
	c->pgrp = pgrp;
	return 0;
}

/* The child of the caller named @name, from /proc; 0 or -1. */
static int find_child(const char *name, struct proc_child *out)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = -1;

	while (d && (e = readdir(d))) {
		struct proc_child c;
		pid_t pid = atoi(e->d_name);

		if (pid > 0 && !read_child(pid, getpid(), &c) &&
		    !strcmp(c.comm, name)) {
			*out = c;
			found = 0;
		}
	}
	if (d)
		closedir(d);
	return found;
}

/* The real uid of @pid, from /proc, or -1. */
static int real_uid(pid_t pid)
{
	char path[64], line[256];
	int uid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %d", &uid) == 1)
			break;
	if (f)
		fclose(f);
	return uid;
}

/* R after the restart: the number of the first failed check, or 0. */
static int check_root(void)
{
	struct proc_child z[NZOMBIES], m;
	int same = getpid() == saved_self, status, reaped = 0;
	pid_t got;

	/* Anything the restart sent would have been delivered by now. */
	usleep(20000);
	if (chld_seen != 3 || usr1_seen != 1)
		return 10;
	for (int i = 0; i < NZOMBIES; i++) {
		if (find_child(names[i], &z[i]) || z[i].state != 'Z')
			return 11 + i;
		if (same && z[i].pid != saved_z[i])
			return 15 + i;
		if (z[i].pgrp != (i == LEADER ? z[i].pid : getpgrp()))
			return 20 + i;
	}
	if (real_uid(z[0].pid) != ZOMBIE_UID)
		return 29;
	if (find_child("member", &m) || m.state == 'Z' ||
	    m.pgrp != z[LEADER].pid)
		return 24;
	/* The three SIGCHLD zombies, in any order; M lives on. */
	while ((got = waitpid(-1, &status, WNOHANG)) > 0) {
		int ok = (got == z[0].pid && WIFEXITED(status) &&
			  WEXITSTATUS(status) == 42) ||
			 (got == z[1].pid && WIFSIGNALED(status) &&
			  WTERMSIG(status) == SIGTERM) ||
			 (got == z[LEADER].pid && WIFEXITED(status) &&
			  WEXITSTATUS(status) == 0);

		if (!ok)
			return 25;
		reaped++;
	}
	if (reaped != 3)
		return 26;
	got = waitpid(-1, &status, __WCLONE | WNOHANG);
	if (got != z[CLONED].pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 9)
		return 27;
	kill(m.pid, SIGKILL);
	if (waitpid(m.pid, &status, 0) != m.pid)
		return 28;
	return 0;
}

/* Waits until @pid is a zombie; 0 or -1. */
static int wait_zombie(pid_t pid)
{
	for (int tries = 0; tries < 5000; tries++) {
		if (proc_state(pid) == 'Z')
			return 0;
		usleep(1000);
	}
	return -1;
}

/* R: makes its zombies and M, then waits for GO past the restart. */
static void root(int ready)
{
	/* Not for M's stop by the test, which stays pending to the end. */
	struct sigaction sa = {
		.sa_handler = count,
		.sa_flags = SA_RESTART | SA_NOCLDSTOP,
	};
	char line[16];
	pid_t m;
	int fd, n;

	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	saved_self = getpid();
	for (int i = 0; i < NZOMBIES; i++) {
		pid_t z = i == CLONED ?
			syscall(SYS_clone, SIGUSR1, NULL, NULL, NULL, NULL) :
			fork();

		if (z == 0) {
			prctl(PR_SET_NAME, names[i]);
			/* Its real uid is what wait reports of it. */
			if (i == 0 && setresuid(ZOMBIE_UID, ZOMBIE_UID, ZOMBIE_UID))
				_exit(1);
			if (i == 1) {
				signal(SIGTERM, SIG_DFL);
				raise(SIGTERM);
			}
			if (i == LEADER)
				setpgid(0, 0);
			_exit(i == 0 ? 42 : i == CLONED ? 9 : 0);
		}
		if (z < 0 || wait_zombie(z))
			_exit(2);
		saved_z[i] = z;
	}
	m = fork();
	if (m == 0) {
		/* The test waits for R alone to close it. */
		close(ready);
		prctl(PR_SET_NAME, "member");
		for (;;)
			pause();
	}
	/* As a shell would: joined from both sides, before either goes on. */
	if (m < 0 || setpgid(m, saved_z[LEADER]))
		_exit(3);
	for (int tries = 0; tries < 5000 && (chld_seen < 3 || !usr1_seen);
	     tries++)
		usleep(1000);
	n = snprintf(line, sizeof(line), "%d\n", m);
	fd = open(MEMBER, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, line, n) != n)
		_exit(4);
	close(fd);
	signal_ready(ready);
	while (access(GO, F_OK))
		usleep(2000);
	_exit(check_root());
}

/*
 * Kills every child left (a restored M outlives a root that failed) and
 * reaps them, zombies handed to us as subreaper included.
 */
static void reap_all(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		struct proc_child c;
		pid_t pid = atoi(e->d_name);

		if (pid > 0 && !read_child(pid, getpid(), &c))
			kill(pid, SIGKILL);
	}
	if (d)
		closedir(d);
	while (waitpid(-1, NULL, __WALL) > 0)
		;
}

/* Makes R's tree, checkpoints it to IMG and kills it; R's pid or -1. */
static pid_t make_image(void)
{
	int ready, err;
	pid_t r, m = -1;
	long ret;
	FILE *f;

	unlink(GO);
	unlink(MEMBER);
	r = fork_when_ready(&ready);
	if (r == 0) {
		setpgid(0, 0);
		root(ready);
	}
	f = fopen(MEMBER, "r");
	if (!f || fscanf(f, "%d", &m) != 1)
		m = -1;
	if (f)
		fclose(f);
	ret = -1;
	err = 0;
	if (r > 0 && m > 0 && !stop_pid(r) && !stop_pid(m)) {
		ret = checkpoint_to(r, IMG);
		err = errno;
	}
	ktap_case(ret > 0, "tree_with_zombies_checkpointed",
		  "root %d, member %d, checkpoint %ld (errno %d)", r, m, ret,
		  err);
	if (r > 0)
		kill(-r, SIGKILL);
	if (m > 0)
		kill(m, SIGKILL);
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

static void *spin(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* The state letter of thread @tid of @pid, or 0. */
static char thread_state(pid_t pid, pid_t tid)
{
	char path[64], buf[512];
	const char *fields;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	fields = read_stat(path, buf, sizeof(buf), NULL);
	return fields ? fields[1] : 0;
}

/*
 * The threads of @pid other than zombies that are (@stopped) or are not
 * stopped, and the zombies among them, in *@live and *@zombies.
 */
static void thread_states(pid_t pid, int stopped, int *live, int *zombies)
{
	char path[64];
	struct dirent *e;
	DIR *d;

	*live = 0;
	*zombies = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		char st;

		if (e->d_name[0] == '.')
			continue;
		st = thread_state(pid, atoi(e->d_name));
		if (st == 'Z')
			(*zombies)++;
		else if ((st == 'T' || st == 't') == !!stopped)
			(*live)++;
	}
	if (d)
		closedir(d);
}

/* Whether @pid's leader is a zombie with one thread that is (@stopped) or not. */
static int leader_exited(pid_t pid, int stopped)
{
	int live, zombies;

	thread_states(pid, stopped, &live, &zombies);
	return live == 1 && zombies == 1;
}

#define EXITED_CHILD "exited-child"

/*
 * A child whose leader exited while its other thread runs on: it is saved
 * with its parent, and restarted with the leader a zombie again.
 */
static void exited_leader_case(void)
{
	int ready, status = -1;
	long r = -1, ret = -1;
	pid_t p, child = 0;
	FILE *f;

	unlink(EXITED_CHILD);
	p = fork_when_ready(&ready);
	if (p == 0) {
		int inner;

		/* Its group, to be stopped and killed whole. */
		setpgid(0, 0);
		child = fork_when_ready(&inner);
		if (child == 0) {
			pthread_t t;

			/* The test waits for p alone to close it. */
			close(ready);

			if (pthread_create(&t, NULL, spin, NULL))
				_exit(2);
			signal_ready(inner);
			/* The leader alone exits. */
			syscall(SYS_exit, 0);
		}
		/* Until the leader has exited. */
		for (int tries = 0; child > 0 && tries < 5000 &&
		     proc_state(child) != 'Z'; tries++)
			usleep(1000);
		f = fopen(EXITED_CHILD, "w");
		if (f) {
			fprintf(f, "%d\n", child);
			fclose(f);
		}
		signal_ready(ready);
		for (;;)
			pause();
	}
	f = fopen(EXITED_CHILD, "r");
	if (!f || fscanf(f, "%d", &child) != 1)
		child = 0;
	if (f)
		fclose(f);
	if (p > 0 && child > 0) {
		kill(-p, SIGSTOP);
		for (int tries = 0; tries < 5000 &&
		     !(proc_state(p) == 'T' && leader_exited(child, 1)); tries++)
			usleep(1000);
		r = checkpoint_to(p, IMG);
	}
	ktap_case(r > 0, "child_with_exited_leader_checkpointed",
		  "checkpoint %ld errno %d", r, r > 0 ? 0 : errno);
	if (p > 0)
		kill(-p, SIGKILL);
	reap_all();

	if (r > 0) {
		int fd = open(IMG, O_RDONLY);

		ret = sys_restart(0, fd, RESTART_CHILD);
		close(fd);
	}
	/* The leader exits again once its restart is over. */
	for (int tries = 0; ret == p && tries < 5000 &&
	     !leader_exited(child, 0); tries++)
		usleep(1000);
	if (ret == p && leader_exited(child, 0))
		status = 0;
	ktap_case(ret == p && status == 0,
		  "child_with_exited_leader_restarted",
		  "restart %ld (saved %d), child %d: leader a zombie, its thread running: %s",
		  ret, p, child, status == 0 ? "yes" : "no");
	if (ret > 0)
		kill(-ret, SIGKILL);
	reap_all();
}

int main(void)
{
	long ret = -1;
	int status;
	pid_t r;

	ktap_begin("zombies", 6);
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	r = make_image();

	status = r > 0 ? restart_child(0, &ret) : -1;
	ktap_case(ret == r && WIFEXITED(status) && !WEXITSTATUS(status),
		  "zombies_restarted_with_saved_pids",
		  "saved root %d, restart %ld (errno %d), root status %#x (exit code: first failed check)",
		  r, ret, ret > 0 ? 0 : errno, status);

	status = r > 0 ? restart_child(RESTART_NEW_PID, &ret) : -1;
	ktap_case(ret > 0 && ret != r && WIFEXITED(status) &&
		  !WEXITSTATUS(status),
		  "zombies_restarted_with_new_pids",
		  "restart %ld (errno %d), root status %#x", ret,
		  ret > 0 ? 0 : errno, status);

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
		  "zombies_restarted_in_place", "root status %#x", status);

	exited_leader_case();
	return ktap_end();
}
