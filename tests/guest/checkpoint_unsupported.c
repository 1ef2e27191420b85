// SPDX-License-Identifier: GPL-2.0
/*
 * State checkpoint(2) cannot save yet makes it fail with EOPNOTSUPP, and
 * the image ends with an error record that names what was unsupported:
 * a second thread or a child (live or zombie) in a process that
 * checkpoints itself, shared memory another
 * process maps too, a SysV segment locked
 * in memory, a deleted file or a memfd open twice, a pipe with an end
 * held by another process, a socket, a device with state of its own, a
 * pseudo-terminal whose slave another process holds, an inotify instance with unread events, a
 * fanotify group, an epoll watch of a closed descriptor, and the task
 * state of Documentation/checkpoint/state.rst that is refused (POSIX
 * timers, seccomp, SCHED_DEADLINE, memory-deny-write-execute), in the
 * caller or in a
 * stopped task checkpointed from outside.
 */
#define _GNU_SOURCE
#include "ktap.h"
#include "image.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <signal.h>
#include <time.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define IMG "/tmp/unsup.img"

static void *idle_thread(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

/*
 * Forks a sibling rather than a child (CLONE_PARENT): the process that
 * shares state with the task must not be its child, which checkpoint
 * refuses on its own.  0 in the sibling, its pid in the caller.
 */
static pid_t fork_sibling(void)
{
	return syscall(SYS_clone, CLONE_PARENT, 0, NULL, NULL, 0);
}

/*
 * A child that waits: a process cannot save itself with its children
 * (the tree of a stopped process is saved from outside, process_tree).
 */
static int live_child(void)
{
	pid_t child = fork();

	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pause();
		_exit(0);
	}
	return child < 0 ? -1 : 0;
}

/* A child that exited and was not waited for. */
static int zombie_child(void)
{
	pid_t child = fork();
	siginfo_t info;

	if (child == 0)
		_exit(0);
	/* Until it is a zombie, without reaping it. */
	return child < 0 || waitid(P_PID, child, &info, WEXITED | WNOWAIT) ?
		-1 : 0;
}

/*
 * Runs @setup in a child, then checkpoint(@pid or self); expects
 * EOPNOTSUPP and an error record whose message contains @word.
 */
static void expect_unsupported(const char *name, int (*setup)(void),
			       const char *word)
{
	struct image img;
	const char *msg = "";
	int status = -1, err = 0;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(IMG, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		long target = setup();

		if (target < 0)
			_exit(2);
		errno = 0;
		_exit(sys_checkpoint(target, fd, 0) == -1 &&
		      errno == EOPNOTSUPP ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	if (image_load(&img, IMG) == 0)
		msg = image_error_message(&img, &err);
	ktap_case(status == 0 && err == EOPNOTSUPP && strstr(msg, word), name,
		  "child status %#x, error record errno %d message '%s'",
		  status, err, msg);
}

static int two_threads(void)
{
	pthread_t t;

	return pthread_create(&t, NULL, idle_thread, NULL) ? -1 : 0;
}

/* Shared anonymous memory that a sibling maps too. */
static int memory_shared_with_child(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t child;

	if (p == MAP_FAILED)
		return -1;
	child = fork_sibling();
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pause();
		_exit(0);
	}
	return child < 0 ? -1 : 0;
}

/* An attached SysV segment locked in memory, marked for removal. */
static int locked_sysv_segment(void)
{
	int id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	void *p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);

	if (p == (void *)-1 || shmctl(id, SHM_LOCK, NULL))
		return -1;
	shmctl(id, IPC_RMID, NULL);
	return 0;
}

/* The read end of a pipe whose write end a sibling holds. */
static int pipe_written_by_child(void)
{
	char c;
	int p[2];
	pid_t child;

	if (pipe(p))
		return -1;
	child = fork_sibling();
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		/* Says it no longer holds the read end. */
		if (write(p[1], "", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	/* Only the pipe's ends count, not a copy of ours in the child. */
	return child < 0 || read(p[0], &c, 1) != 1 ? -1 : 0;
}

/*
 * A stopped child sharing both ends of a pipe with its parent (the same
 * open files, through fork): an external checkpoint meets it.
 */
static int stopped_child_sharing_pipe(void)
{
	int p[2];
	pid_t child;

	if (pipe(p))
		return -1;
	child = fork();
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		raise(SIGSTOP);
		_exit(0);
	}
	if (child < 0 || waitpid(child, NULL, WUNTRACED) != child)
		return -1;
	return child;
}

static int socket_fd(void)
{
	int sv[2];

	return socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
}

/* A device that keeps state of its own: the kernel log's reader. */
static int kmsg_fd(void)
{
	return open("/dev/kmsg", O_RDONLY) < 0 ? -1 : 0;
}

/*
 * A pseudo-terminal master whose slave a sibling holds open (and nothing
 * else of the pair): the sibling closes its copy of the master first.
 */
static int pty_slave_held_by_child(void)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY), slave;
	char path[64];
	pid_t child;

	if (master < 0 || unlockpt(master))
		return -1;
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	if (slave < 0)
		return -1;
	child = fork_sibling();
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(master);
		pause();
		_exit(0);
	}
	if (child < 0)
		return -1;
	close(slave);
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", child, master);
	for (int i = 0; i < 3000 && access(path, F_OK) == 0; i++)
		usleep(1000);
	return 0;
}

/* One deleted file open twice: the copies could not share the inode. */
static int deleted_file_open_twice(void)
{
	int a = open("twice", O_RDWR | O_CREAT | O_TRUNC, 0600);
	int b = open("twice", O_RDONLY);

	return a < 0 || b < 0 ? -1 : unlink("twice");
}

/* A memfd open twice (once more through /proc). */
static int memfd_open_twice(void)
{
	char path[64];
	int fd = memfd_create("twice", 0);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return fd < 0 || open(path, O_RDWR) < 0 ? -1 : 0;
}

/* An inotify instance with an event not read yet. */
static int inotify_unread_event(void)
{
	int fd = inotify_init1(0), file;

	if (fd < 0 || inotify_add_watch(fd, "/tmp", IN_CREATE) < 0)
		return -1;
	file = open("/tmp/unsup-inotify", O_WRONLY | O_CREAT, 0600);
	unlink("/tmp/unsup-inotify");
	return file < 0 ? -1 : 0;
}

/* A fanotify group: the error record names the kind of the file. */
static int fanotify_fd(void)
{
	return fanotify_init(FAN_CLASS_NOTIF, O_RDONLY) < 0 ? -1 : 0;
}

/*
 * An epoll watch whose descriptor was closed while its file stayed open
 * at another one: the watch could not be used or removed any more.
 */
static int epoll_watch_of_closed_fd(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int set = epoll_create1(0), fd = eventfd(0, 0);

	if (set < 0 || fd < 0 || epoll_ctl(set, EPOLL_CTL_ADD, fd, &ev) ||
	    dup(fd) < 0)
		return -1;
	return close(fd);
}

/*
 * A POSIX timer on the CPU-time clock of a process named by its pid,
 * which is not the restored process's pid.
 */
static int posix_timer_on_pid_clock(void)
{
	clockid_t clock;
	timer_t t;

	if (clock_getcpuclockid(getpid(), &clock))
		return -1;
	return timer_create(clock, NULL, &t);
}

static int seccomp_filter(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &allow };

	return syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) ? -1 : 0;
}

/* The uapi struct sched_attr, which glibc does not declare. */
struct deadline_attr {
	__u32 size;
	__u32 sched_policy;
	__u64 sched_flags;
	__s32 sched_nice;
	__u32 sched_priority;
	__u64 sched_runtime;
	__u64 sched_deadline;
	__u64 sched_period;
};

static int deadline_policy(void)
{
	struct deadline_attr a = {
		.size = sizeof(a),
		.sched_policy = 6, /* SCHED_DEADLINE */
		.sched_runtime = 1000000,
		.sched_deadline = 100000000,
		.sched_period = 100000000,
	};

	return syscall(__NR_sched_setattr, 0, &a, 0) ? -1 : 0;
}

static int deny_write_execute(void)
{
	return prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0);
}

/* A POSIX timer's signal (pending, blocked) cannot be queued again. */
static int timer_signal_pending(void)
{
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL,
			       .sigev_signo = SIGUSR2 };
	struct itimerspec its = { .it_value = { .tv_nsec = 1000 } };
	sigset_t set;
	timer_t t;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (timer_create(CLOCK_MONOTONIC, &ev, &t) || timer_settime(t, 0, &its, NULL))
		return -1;
	usleep(100000);
	/* The signal stays pending after its timer is gone. */
	return timer_delete(t);
}

/*
 * A stopped child inside clock_nanosleep() on its own CPU-time clock: its
 * restart block is one checkpoint cannot resume yet.
 */
static int stopped_in_cpu_clock_sleep(void)
{
	pid_t child = fork();

	if (child == 0) {
		struct timespec ts = { .tv_sec = 100 };

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &ts, NULL);
		_exit(0);
	}
	usleep(200000);
	kill(child, SIGSTOP);
	if (child < 0 || waitpid(child, NULL, WUNTRACED) != child)
		return -1;
	return child;
}

int main(void)
{
	ktap_begin("checkpoint_unsupported", 21);
	fflush(stdout);
	expect_unsupported("second_thread_eopnotsupp_with_error_record",
			   two_threads, "thread");
	expect_unsupported("live_child_eopnotsupp", live_child,
			   "with children cannot checkpoint itself");
	expect_unsupported("zombie_child_eopnotsupp", zombie_child,
			   "with children cannot checkpoint itself");
	expect_unsupported("memory_shared_with_other_process_eopnotsupp",
			   memory_shared_with_child,
			   "is also mapped by a process outside the tree");
	expect_unsupported("locked_sysv_segment_eopnotsupp",
			   locked_sysv_segment, "locked in memory (SHM_LOCK)");
	expect_unsupported("pipe_written_by_other_process_eopnotsupp",
			   pipe_written_by_child,
			   "the pipe has an end open outside the checkpointed processes");
	expect_unsupported("socket_fd_eopnotsupp_with_error_record", socket_fd,
			   "a socket (socket:[");
	expect_unsupported("device_eopnotsupp_named_by_number", kmsg_fd,
			   "character device 1:11 is not supported");
	expect_unsupported("pty_slave_held_by_other_process_eopnotsupp",
			   pty_slave_held_by_child,
			   "the pseudo-terminal's slave is open outside the tree");
	expect_unsupported("external_target_sharing_pipe_eopnotsupp",
			   stopped_child_sharing_pipe,
			   "a pipe end also held outside the checkpointed processes");
	expect_unsupported("posix_timer_on_pid_clock_eopnotsupp",
			   posix_timer_on_pid_clock, "runs on clock");
	expect_unsupported("seccomp_filter_eopnotsupp", seccomp_filter,
			   "seccomp");
	expect_unsupported("sched_deadline_eopnotsupp", deadline_policy,
			   "SCHED_DEADLINE");
	expect_unsupported("memory_deny_write_execute_eopnotsupp",
			   deny_write_execute, "memory-deny-write-execute");
	expect_unsupported("posix_timer_signal_pending_eopnotsupp",
			   timer_signal_pending, "POSIX timer");
	expect_unsupported("cpu_clock_sleep_eopnotsupp", stopped_in_cpu_clock_sleep,
			   "cannot be resumed yet");
	expect_unsupported("deleted_file_open_twice_eopnotsupp",
			   deleted_file_open_twice, "open more than once");
	expect_unsupported("memfd_open_twice_eopnotsupp", memfd_open_twice,
			   "a memfd open more than once");
	expect_unsupported("inotify_unread_events_eopnotsupp",
			   inotify_unread_event, "events not read yet");
	expect_unsupported("fanotify_eopnotsupp_named_in_error_record",
			   fanotify_fd, "anon_inode:[fanotify]");
	expect_unsupported("epoll_watch_of_closed_fd_eopnotsupp",
			   epoll_watch_of_closed_fd, "which the task does not hold there");
	return ktap_end();
}
