// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-bench: checkpoint(2) and restart(2) against the limits of this
 * machine and a user-space dumper, in one boot.
 *
 *   ckpt-bench [--smoke] [--reps N] [--dir DIR] [--only WORKLOAD]
 *
 * For each workload (a process holding some memory, stopped), it
 * measures, as the median of N runs (default 3):
 *
 *   checkpoint  wall time of checkpoint(2) of the stopped process to a
 *               file in DIR (a tmpfs);
 *   restart     wall time from the call of restart(RESTART_CHILD |
 *               RESTART_NEW_PID) on that file until the restored process
 *               runs its first instruction of user code, which reads
 *               CLOCK_MONOTONIC and writes it to a file;
 *   image       size of the image;
 *   kmem        peak extra kernel memory during each call: the most
 *               Slab + VmallocUsed + KernelStack + PageTables of
 *               /proc/meminfo seen by a thread sampling it every
 *               millisecond, minus its value before the call;
 *   dumper      wall time of a user-space dumper of the same process:
 *               /proc/PID/maps, /proc/PID/pagemap to find the pages
 *               present, process_vm_readv(2) of those into a 1 MiB
 *               buffer and write(2) to a file in DIR (memory only: no
 *               registers or files, so a lower bound of such a tool;
 *               one process, so not for the tree).
 *
 *   criu        when the guest has /usr/sbin/criu (scripts/bench.sh adds
 *               Debian's): "criu dump --shell-job" of the stopped
 *               process (which it kills) and "criu restore -d
 *               --shell-job" until the restored process, continued with
 *               SIGCONT (CRIU restores a stopped task stopped), runs its
 *               first instruction; and the size of CRIU's image
 *               directory.  If CRIU fails, the errors of its log are
 *               printed;
 *
 * and the limits, measured the same way on the bytes the workload
 * touched: write(2) of a touched user buffer to a file in DIR in 8 MiB
 * calls; read(2) of that file into fresh anonymous memory; memcpy(3)
 * between two touched buffers; and, apart, the image format's checksum
 * (XXH64) of those bytes in user space, whose cost under emulation is not
 * that of hardware.  Rates are given as ratios to their limit:
 * checkpoint to write, restart to read.  Nothing is asserted: this prints
 * figures.  --smoke runs one small workload once, as a test that the
 * benchmark still runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/checkpoint.h>

#define MiB (1024UL * 1024)
#define PAGE 4096UL
#define MAX_REPS 9

static const char *dir = "/tmp/bench";
static char image_path[256], stamp_path[256], dump_path[256],
	limit_path[256], file_path[256];

struct workload {
	const char *name;
	const char *what;
	size_t map_bytes;	/* mapped */
	size_t touch_every;	/* touch one page in this many */
	int areas;		/* separate areas the mapping is split into */
	int file;		/* a private mapping of a file in DIR */
	int procs;		/* processes: the target and procs - 1 children,
				 * each with the mapping */
};

static const struct workload workloads[] = {
	{ "tiny", "64 KiB anonymous, all touched", 64 * 1024, 1, 1, 0, 1 },
	{ "anon16", "16 MiB anonymous, all touched", 16 * MiB, 1, 1, 0, 1 },
	{ "anon64", "64 MiB anonymous, all touched", 64 * MiB, 1, 1, 0, 1 },
	{ "anon256", "256 MiB anonymous, all touched", 256 * MiB, 1, 1, 0, 1 },
	{ "sparse1g", "1 GiB anonymous, 1% touched", 1024 * MiB, 100, 1, 0, 1 },
	{ "vmas4000", "4000 areas of 2 pages, all touched", 4000 * 2 * PAGE,
	  1, 4000, 0, 1 },
	{ "file64", "64 MiB private file mapping, all modified", 64 * MiB, 1,
	  1, 1, 1 },
	{ "tree128", "128 processes (a parent and 127 children), 1 MiB touched each",
	  MiB, 1, 1, 0, 128 },
};

/* The workload of --smoke: anon16. */
#define SMOKE_WORKLOAD 1

/* The processes of workload @w. */
static int procs_of(const struct workload *w)
{
	return w->procs;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "ckpt-bench: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Kernel memory as /proc/meminfo counts it, in KiB. */
static long kernel_kib(void)
{
	static const char *const keys[] = { "Slab:", "VmallocUsed:",
					    "KernelStack:", "PageTables:" };
	char line[128];
	long sum = 0, v;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strncmp(line, keys[i], strlen(keys[i])) &&
			    sscanf(line + strlen(keys[i]), "%ld", &v) == 1)
				sum += v;
	fclose(f);
	return sum;
}

/* The sampler of kernel memory: runs while `sampling` is set. */
static atomic_int sampling;
static atomic_long peak_kib;

static void *sampler(void *arg)
{
	(void)arg;
	for (;;) {
		while (!atomic_load(&sampling))
			usleep(1000);
		while (atomic_load(&sampling)) {
			long k = kernel_kib();

			if (k > atomic_load(&peak_kib))
				atomic_store(&peak_kib, k);
			usleep(1000);
		}
	}
	return NULL;
}

static long sample_begin(void)
{
	long base = kernel_kib();

	atomic_store(&peak_kib, base);
	atomic_store(&sampling, 1);
	return base;
}

static long sample_end(long base)
{
	long k = kernel_kib();

	atomic_store(&sampling, 0);
	usleep(2000);
	if (k > atomic_load(&peak_kib))
		atomic_store(&peak_kib, k);
	return atomic_load(&peak_kib) - base;
}

/* Touches the pages of @w in @p, as the workload says. */
static void touch(const struct workload *w, unsigned char *p)
{
	for (size_t off = 0; off < w->map_bytes; off += PAGE * w->touch_every)
		p[off] = (unsigned char)(off / PAGE * 7 + 1);
}

/* Maps the memory of @w (in the target). */
static unsigned char *map_workload(const struct workload *w)
{
	unsigned char *p;

	if (w->file) {
		int fd = open(file_path, O_RDONLY);

		p = mmap(NULL, w->map_bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE, fd, 0);
		close(fd);
		return p == MAP_FAILED ? NULL : p;
	}
	p = mmap(NULL, w->map_bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Areas of alternating protection do not merge. */
	if (w->areas > 1) {
		size_t step = w->map_bytes / w->areas;

		for (int i = 1; i < w->areas; i += 2)
			mprotect(p + i * step, step, PROT_READ | PROT_WRITE |
				 PROT_EXEC);
	}
	return p;
}

/*
 * Starts a target holding workload @w, stopped; once restored it writes
 * the time it resumed to the stamp file and exits 0.
 */
static int run_target(const struct workload *w)
{
	unsigned char *p = map_workload(w);
	double t;
	int fd;

	if (!p)
		return 3;
	/*
	 * A session of its own: CRIU refuses a task whose session leader is
	 * outside its pid namespace (the guest's init runs in session 0).
	 */
	setsid();
	/* Nor can it reopen the console by its path: no standard streams. */
	close(0);
	close(1);
	close(2);
	/* The children touch their own copies, then stop; restored, exit. */
	for (int i = 1; i < procs_of(w); i++) {
		int status;
		pid_t child = fork();

		if (child == 0) {
			touch(w, p);
			raise(SIGSTOP);
			_exit(0);
		}
		if (child < 0 || waitpid(child, &status, WUNTRACED) != child)
			return 6;
	}
	touch(w, p);
	raise(SIGSTOP);
	/* The first user code of the restored process (the root of a tree
	 * runs only once the whole tree is restored). */
	t = now();
	fd = open(stamp_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, &t, sizeof(t)) != sizeof(t))
		return 4;
	for (int i = 1; i < procs_of(w); i++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			return 7;
	}
	return 0;
}

/*
 * A new program (exec) holds only the workload's memory, not the
 * benchmark's buffers.
 */
static pid_t start_target(const struct workload *w)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		char index[16];

		snprintf(index, sizeof(index), "%d", (int)(w - workloads));
		execl("/proc/self/exe", "ckpt-bench", "--dir", dir, "--target",
		      index, (char *)NULL);
		_exit(5);
	}
	if (pid < 0 || waitpid(pid, &status, WUNTRACED) != pid ||
	    !WIFSTOPPED(status))
		die("starting the target");
	return pid;
}

/* Kills the target and its children (its process group). */
static void kill_target(pid_t pid)
{
	kill(-pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* checkpoint(2) of @pid to the image file: seconds, and its kmem. */
static double time_checkpoint(pid_t pid, long *kmem, long long *size)
{
	int fd = open(image_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct stat st;
	double t0, t1;
	long base;
	long r;

	if (fd < 0)
		die("image file");
	base = sample_begin();
	t0 = now();
	r = syscall(__NR_checkpoint, pid, fd, 0);
	t1 = now();
	*kmem = sample_end(base);
	if (r < 0)
		die("checkpoint");
	fstat(fd, &st);
	*size = st.st_size;
	close(fd);
	return t1 - t0;
}

/* restart(2) of the image as a new child until it first runs. */
static double time_restart(long *kmem)
{
	int fd = open(image_path, O_RDONLY), status, sfd;
	double t0, resumed = 0;
	long base;
	long r;

	unlink(stamp_path);
	if (fd < 0)
		die("image file");
	base = sample_begin();
	t0 = now();
	r = syscall(__NR_restart, 0, fd, RESTART_CHILD | RESTART_NEW_PID);
	if (r < 0) {
		sample_end(base);
		die("restart");
	}
	waitpid(r, &status, 0);
	*kmem = sample_end(base);
	close(fd);
	sfd = open(stamp_path, O_RDONLY);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || sfd < 0 ||
	    read(sfd, &resumed, sizeof(resumed)) != sizeof(resumed)) {
		errno = EIO;
		die("the restored process");
	}
	close(sfd);
	return resumed - t0;
}

/* The user-space dumper: the present pages of @pid's memory to a file. */
static double time_dumper(pid_t pid, long long *size)
{
	static unsigned char buf[MiB];
	static uint64_t pm[256];
	char path[64], line[512];
	double t0 = now();
	long long written = 0;
	FILE *maps;
	int out, pagemap;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps = fopen(path, "r");
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	pagemap = open(path, O_RDONLY);
	out = open(dump_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (!maps || pagemap < 0 || out < 0)
		die("dumper");
	while (fgets(line, sizeof(line), maps)) {
		unsigned long start, end;

		if (sscanf(line, "%lx-%lx", &start, &end) != 2 ||
		    strstr(line, "[vsyscall]") || strstr(line, "[vvar]"))
			continue;
		for (unsigned long a = start; a < end;) {
			size_t n = (end - a) / PAGE, run = 0;

			if (n > 256)
				n = 256;
			if (pread(pagemap, pm, n * 8, a / PAGE * 8) != (ssize_t)(n * 8))
				break;
			for (size_t i = 0; i <= n; i++) {
				/* Bit 63: present; bit 62: swapped. */
				int present = i < n && (pm[i] >> 62);

				if (present && run * PAGE < sizeof(buf)) {
					run++;
					continue;
				}
				if (run) {
					unsigned long from = a + (i - run) * PAGE;
					struct iovec local = { buf, run * PAGE };
					struct iovec remote = { (void *)from,
								run * PAGE };
					ssize_t got = process_vm_readv(
						pid, &local, 1, &remote, 1, 0);

					if (got > 0 && write(out, buf, got) == got)
						written += got;
					run = 0;
				}
				if (present)
					run = 1;
			}
			a += n * PAGE;
		}
	}
	fclose(maps);
	close(pagemap);
	close(out);
	*size = written;
	return now() - t0;
}

/* CRIU, when the guest has it (bench/criu-rootfs.sh). */
#define CRIU "/usr/sbin/criu"
static char criu_dir[256];
/* Why CRIU failed first, for the report. */
static char criu_failure[2048];

/* Runs criu with @args (NULL-terminated); 0 on success. */
static int run_criu(const char *const *args, const char *log)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		const char *argv[16] = { "criu" };
		int n = 1;

		for (; args[n - 1] && n < 13; n++)
			argv[n] = args[n - 1];
		argv[n++] = "-o";
		argv[n++] = log;
		argv[n] = NULL;
		/* Its log has the errors; libnftables talks on stderr. */
		dup2(open("/dev/null", O_WRONLY), 1);
		dup2(1, 2);
		execv(CRIU, (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (!criu_failure[0]) {
		char path[512], line[256];
		size_t used;
		FILE *f;

		snprintf(criu_failure, sizeof(criu_failure),
			 "criu %s exited with status %#x; its log:", args[0],
			 status);
		snprintf(path, sizeof(path), "%s/%s", criu_dir, log);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f)) {
			if (!strstr(line, "Error"))
				continue;
			line[strcspn(line, "\n")] = 0;
			used = strlen(criu_failure);
			snprintf(criu_failure + used,
				 sizeof(criu_failure) - used, "\n#   %s",
				 line);
		}
		if (f)
			fclose(f);
	}
	return -1;
}

/* Removes the flat directory @path and its files. */
static void remove_dir(const char *path)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", path);
	if (system(cmd) != 0)
		fprintf(stderr, "ckpt-bench: could not remove %s\n", path);
}

/* Bytes in the files of @path (a flat directory). */
static long long dir_bytes(const char *path)
{
	char cmd[512], buf[64];
	long long kib = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "du -sk %s", path);
	p = popen(cmd, "r");
	if (p && fgets(buf, sizeof(buf), p))
		kib = atoll(buf);
	if (p)
		pclose(p);
	return kib * 1024;
}

/*
 * criu dump of the stopped @pid (which it kills), then criu restore of
 * it until it runs again: seconds for each, or -1 if CRIU failed.
 */
static void time_criu(pid_t pid, double *dump, double *restore,
		      long long *size)
{
	char pidstr[16];
	double t0, resumed = 0;
	int sfd;

	*dump = *restore = -1;
	*size = 0;
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	remove_dir(criu_dir);
	mkdir(criu_dir, 0755);
	{
		const char *args[] = { "dump", "-t", pidstr, "-D", criu_dir,
				       "--shell-job", NULL };

		t0 = now();
		if (run_criu(args, "dump.log")) {
			kill_target(pid);
			return;
		}
		*dump = now() - t0;
	}
	waitpid(pid, NULL, 0);
	*size = dir_bytes(criu_dir);
	unlink(stamp_path);
	{
		const char *args[] = { "restore", "-D", criu_dir, "-d",
				       "--shell-job", NULL };

		t0 = now();
		if (run_criu(args, "restore.log"))
			return;
	}
	/* CRIU restores a stopped task stopped, and each of a tree. */
	kill(-pid, SIGCONT);
	for (int i = 0; i < 100000; i++) {
		sfd = open(stamp_path, O_RDONLY);
		if (sfd >= 0 && read(sfd, &resumed, sizeof(resumed)) ==
				sizeof(resumed)) {
			close(sfd);
			*restore = resumed - t0;
			return;
		}
		if (sfd >= 0)
			close(sfd);
		usleep(1000);
	}
}

/*
 * XXH64 (seed 0) of @len bytes, as the image format's checksum computes
 * it (rust-checkpoint/format/checksum.rs): its cost on this machine,
 * which under emulation is not that of hardware, is measured apart.
 */
#define XXH_P1 0x9E3779B185EBCA87ULL
#define XXH_P2 0xC2B2AE3D27D4EB4FULL
#define XXH_P3 0x165667B19E3779F9ULL
#define XXH_P4 0x85EBCA77C2B2AE63ULL
#define XXH_P5 0x27D4EB2F165667C5ULL

static uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t xxh_round(uint64_t acc, uint64_t in)
{
	return rotl64(acc + in * XXH_P2, 31) * XXH_P1;
}

static uint64_t xxh_merge(uint64_t acc, uint64_t v)
{
	return (acc ^ xxh_round(0, v)) * XXH_P1 + XXH_P4;
}

static uint64_t xxh64(const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len;
	uint64_t h, v[4] = { XXH_P1 + XXH_P2, XXH_P2, 0, -XXH_P1 };
	uint64_t w;
	uint32_t u;

	if (len >= 32) {
		for (; p + 32 <= end; p += 32)
			for (int i = 0; i < 4; i++) {
				memcpy(&w, p + 8 * i, 8);
				v[i] = xxh_round(v[i], w);
			}
		h = rotl64(v[0], 1) + rotl64(v[1], 7) + rotl64(v[2], 12) +
		    rotl64(v[3], 18);
		for (int i = 0; i < 4; i++)
			h = xxh_merge(h, v[i]);
	} else {
		h = XXH_P5;
	}
	h += len;
	for (; p + 8 <= end; p += 8) {
		memcpy(&w, p, 8);
		h = rotl64(h ^ xxh_round(0, w), 27) * XXH_P1 + XXH_P4;
	}
	if (p + 4 <= end) {
		memcpy(&u, p, 4);
		h = rotl64(h ^ (u * XXH_P1), 23) * XXH_P2 + XXH_P3;
		p += 4;
	}
	for (; p < end; p++)
		h = rotl64(h ^ (*p * XXH_P5), 11) * XXH_P1;
	h ^= h >> 33;
	h *= XXH_P2;
	h ^= h >> 29;
	h *= XXH_P3;
	return h ^ (h >> 32);
}

/* The limits for @bytes: write(2), read(2) into fresh memory, memcpy. */
static volatile uint64_t checksum_sink;

static void time_limits(size_t bytes, double *w, double *r, double *c,
			double *x)
{
	unsigned char *src = malloc(bytes), *dst = malloc(bytes), *fresh;
	int fd = open(limit_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	double t0;

	if (!src || !dst || fd < 0)
		die("limits");
	memset(src, 0x5a, bytes);
	memset(dst, 0xa5, bytes);
	t0 = now();
	for (size_t off = 0; off < bytes;) {
		size_t n = bytes - off < 8 * MiB ? bytes - off : 8 * MiB;
		ssize_t k = write(fd, src + off, n);

		if (k <= 0)
			die("write limit");
		off += k;
	}
	*w = now() - t0;
	fresh = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fresh == MAP_FAILED)
		die("fresh memory");
	t0 = now();
	for (size_t off = 0; off < bytes;) {
		size_t n = bytes - off < 8 * MiB ? bytes - off : 8 * MiB;
		ssize_t k = pread(fd, fresh + off, n, off);

		if (k <= 0)
			die("read limit");
		off += k;
	}
	*r = now() - t0;
	t0 = now();
	memcpy(dst, src, bytes);
	*c = now() - t0;
	t0 = now();
	checksum_sink = xxh64(src, bytes);
	*x = now() - t0;
	if (dst[bytes - 1] != 0x5a)
		abort();
	munmap(fresh, bytes);
	free(src);
	free(dst);
	close(fd);
	unlink(limit_path);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static long median_long(long *v, int n)
{
	double d[MAX_REPS];

	for (int i = 0; i < n; i++)
		d[i] = v[i];
	return (long)median(d, n);
}

static void make_file(size_t bytes)
{
	static unsigned char chunk[MiB];
	int fd = open(file_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	memset(chunk, 0x33, sizeof(chunk));
	for (size_t off = 0; off < bytes; off += sizeof(chunk))
		if (fd < 0 || write(fd, chunk, sizeof(chunk)) != sizeof(chunk))
			die("file of the file workload");
	close(fd);
}

static void run(const struct workload *w, int reps)
{
	double ck[MAX_REPS], rs[MAX_REPS], du[MAX_REPS], lw[MAX_REPS],
		lr[MAX_REPS], lc[MAX_REPS], lx[MAX_REPS];
	long ckm[MAX_REPS], rsm[MAX_REPS];
	double cd[MAX_REPS], cr[MAX_REPS];
	long long image = 0, dumped = 0, criu_image = 0;
	int criu = access(CRIU, X_OK) == 0;
	size_t touched = w->map_bytes / w->touch_every * procs_of(w);

	if (w->file)
		make_file(w->map_bytes);
	for (int i = 0; i < reps; i++) {
		pid_t pid = start_target(w);

		/* The dumper reads one process. */
		du[i] = procs_of(w) > 1 ? -1 : time_dumper(pid, &dumped);
		unlink(dump_path);
		ck[i] = time_checkpoint(pid, &ckm[i], &image);
		kill_target(pid);
		rs[i] = time_restart(&rsm[i]);
		unlink(image_path);
		time_limits(touched, &lw[i], &lr[i], &lc[i], &lx[i]);
		cd[i] = cr[i] = -1;
		if (criu)
			time_criu(start_target(w), &cd[i], &cr[i], &criu_image);
		remove_dir(criu_dir);
	}
	if (w->file)
		unlink(file_path);
	double c = median(ck, reps), r = median(rs, reps),
	       d = median(du, reps), w_ = median(lw, reps),
	       r_ = median(lr, reps), m = median(lc, reps),
	       x = median(lx, reps);
	double crd = median(cd, reps), crr = median(cr, reps);

	printf("%-9s %8.1f %8.1f", w->name, c * 1e3, r * 1e3);
	if (d > 0)
		printf(" %8.1f", d * 1e3);
	else
		printf(" %8s", "-");
	printf(" %8.1f %8.1f %6.2f %6.2f", w_ * 1e3, r_ * 1e3, w_ / c,
	       r_ / r);
	if (d > 0)
		printf(" %6.2f", c / d);
	else
		printf(" %6s", "-");
	printf(" %8.1f %8.1f %8.1f %8lld %6ld %6ld", m * 1e3, x * 1e3,
	       (double)touched / MiB, image / 1024, median_long(ckm, reps),
	       median_long(rsm, reps));
	if (crd > 0 && crr > 0)
		printf(" %8.1f %8.1f %8lld %6.3f %6.3f\n", crd * 1e3, crr * 1e3,
		       criu_image / 1024, c / crd, r / crr);
	else
		printf(" %8s %8s %8s %6s %6s\n", "-", "-", "-", "-", "-");
	printf("# %s: %s; image %lld bytes for %zu bytes touched (%.4fx), dumper wrote %lld bytes\n",
	       w->name, w->what, image, touched,
	       touched ? (double)image / touched : 0, dumped);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int reps = 3, smoke = 0, target = -1;
	const char *only = NULL;
	pthread_t t;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke"))
			smoke = 1;
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--target") && i + 1 < argc)
			target = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else {
			fprintf(stderr, "usage: ckpt-bench [--smoke] [--reps N] [--dir DIR] [--only WORKLOAD]\n");
			return 2;
		}
	}
	if (reps < 1 || reps > MAX_REPS)
		reps = 3;
	if (smoke)
		reps = 1;
	mkdir(dir, 0755);
	snprintf(image_path, sizeof(image_path), "%s/image", dir);
	snprintf(stamp_path, sizeof(stamp_path), "%s/stamp", dir);
	snprintf(dump_path, sizeof(dump_path), "%s/dump", dir);
	snprintf(limit_path, sizeof(limit_path), "%s/limit", dir);
	snprintf(file_path, sizeof(file_path), "%s/file", dir);
	snprintf(criu_dir, sizeof(criu_dir), "%s/criu", dir);
	if (target >= 0 &&
	    target < (int)(sizeof(workloads) / sizeof(workloads[0])))
		return run_target(&workloads[target]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pthread_create(&t, NULL, sampler, NULL))
		die("sampler thread");
	printf("# ckpt-bench: medians of %d run(s); times in ms, sizes in KiB\n", reps);
	printf("# ck/w: write(2) limit time over checkpoint time; rs/r: read(2) limit time over restart time;\n");
	printf("# ck/du: checkpoint time over user-space dumper time (below 1: faster);\n");
	printf("# kmCk, kmRs: peak extra kernel memory (KiB) during checkpoint, restart\n");
	printf("# criuD, criuR, criuK: CRIU's dump and restore times and image size; ck/cD, rs/cR: ours over CRIU's\n");
	printf("# xxh64: the image checksum over the touched bytes, in user space (its cost apart)\n");
	printf("%-9s %8s %8s %8s %8s %8s %6s %6s %6s %8s %8s %8s %8s %6s %6s %8s %8s %8s %6s %6s\n",
	       "workload", "ckpt", "restart", "dumper", "write", "read",
	       "ck/w", "rs/r", "ck/du", "memcpy", "xxh64", "touchMiB",
	       "imageK", "kmCk", "kmRs", "criuD", "criuR", "criuK", "ck/cD",
	       "rs/cR");
	if (access(CRIU, X_OK))
		printf("# CRIU: not in this guest (%s missing; scripts/bench.sh adds it)\n", CRIU);
	if (smoke) {
		run(&workloads[SMOKE_WORKLOAD], 1);
	} else {
		for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
			if (!only || !strcmp(only, workloads[i].name))
				run(&workloads[i], reps);
	}
	if (criu_failure[0])
		printf("# CRIU failed: %s\n", criu_failure);
	return 0;
}
