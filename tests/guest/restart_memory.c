// SPDX-License-Identifier: GPL-2.0
/*
 * Self checkpoint and restart of a task's memory and registers.
 *
 * A child fills anonymous memory in several areas with different
 * protections (one of them large and sparse), a private file mapping it
 * modifies (copy-on-write), its heap and its stack with patterns, names
 * itself, records /proc/self/maps, loads known values into general, SSE
 * and AVX registers and checkpoints itself from inline assembly.  Two
 * other children then restart from the image; each becomes the first
 * child again, with checkpoint() returning 0, checks every byte and
 * register, the vDSO (clock_gettime), its comm and its maps, and writes a
 * report named after its own pid.
 */
#include "ktap.h"
#include "image.h"

#include <stdint.h>
#include <sys/mman.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define IMG "/tmp/mem.img"
#define DATA "/tmp/mem.data"
#define PAGE 4096UL
#define MiB (1024UL * 1024)

#define RW_LEN (4 * MiB)
#define RO_LEN (1 * MiB)
#define NONE_LEN (256 * 1024UL)
#define SPARSE_LEN (64 * MiB)
#define SPARSE_STEP (1 * MiB)
#define FILE_LEN (128 * 1024UL)
#define HEAP_LEN (1 * MiB)
#define STACK_LEN (64 * 1024UL)

/* Registers loaded before the checkpoint and stored right after it. */
struct regs {
	uint64_t gpr[9]; /* rbx rbp r12 r13 r14 r15 r8 r9 r10 */
	uint64_t pad;
	uint8_t ymm[16][32];
};

long ckpt_regs_syscall(long nr, long pid, long fd, long flags,
		       const struct regs *in, struct regs *out);

/*
 * Loads @in into the registers, makes the system call, stores the same
 * registers into @out.  Everything but rax, rcx and r11 must survive the
 * call, and after a restart it is the restored state that is stored.
 */
__asm__(".text\n"
	".globl ckpt_regs_syscall\n"
	"ckpt_regs_syscall:\n"
	"	push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
	"	push %r9\n"
	"	mov %rdi, %rax\n mov %rsi, %rdi\n mov %rdx, %rsi\n mov %rcx, %rdx\n"
	"	mov 0(%r8), %rbx\n mov 8(%r8), %rbp\n mov 16(%r8), %r12\n"
	"	mov 24(%r8), %r13\n mov 32(%r8), %r14\n mov 40(%r8), %r15\n"
	"	mov 56(%r8), %r9\n mov 64(%r8), %r10\n"
	"	vmovdqu 80(%r8), %ymm0\n vmovdqu 112(%r8), %ymm1\n"
	"	vmovdqu 144(%r8), %ymm2\n vmovdqu 176(%r8), %ymm3\n"
	"	vmovdqu 208(%r8), %ymm4\n vmovdqu 240(%r8), %ymm5\n"
	"	vmovdqu 272(%r8), %ymm6\n vmovdqu 304(%r8), %ymm7\n"
	"	vmovdqu 336(%r8), %ymm8\n vmovdqu 368(%r8), %ymm9\n"
	"	vmovdqu 400(%r8), %ymm10\n vmovdqu 432(%r8), %ymm11\n"
	"	vmovdqu 464(%r8), %ymm12\n vmovdqu 496(%r8), %ymm13\n"
	"	vmovdqu 528(%r8), %ymm14\n vmovdqu 560(%r8), %ymm15\n"
	"	mov 48(%r8), %r8\n"
	"	syscall\n"
	"	mov (%rsp), %r11\n"
	"	mov %rbx, 0(%r11)\n mov %rbp, 8(%r11)\n mov %r12, 16(%r11)\n"
	"	mov %r13, 24(%r11)\n mov %r14, 32(%r11)\n mov %r15, 40(%r11)\n"
	"	mov %r8, 48(%r11)\n mov %r9, 56(%r11)\n mov %r10, 64(%r11)\n"
	"	vmovdqu %ymm0, 80(%r11)\n vmovdqu %ymm1, 112(%r11)\n"
	"	vmovdqu %ymm2, 144(%r11)\n vmovdqu %ymm3, 176(%r11)\n"
	"	vmovdqu %ymm4, 208(%r11)\n vmovdqu %ymm5, 240(%r11)\n"
	"	vmovdqu %ymm6, 272(%r11)\n vmovdqu %ymm7, 304(%r11)\n"
	"	vmovdqu %ymm8, 336(%r11)\n vmovdqu %ymm9, 368(%r11)\n"
	"	vmovdqu %ymm10, 400(%r11)\n vmovdqu %ymm11, 432(%r11)\n"
	"	vmovdqu %ymm12, 464(%r11)\n vmovdqu %ymm13, 496(%r11)\n"
	"	vmovdqu %ymm14, 528(%r11)\n vmovdqu %ymm15, 560(%r11)\n"
	"	vzeroupper\n"
	"	add $8, %rsp\n"
	"	pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
	"	ret\n");

static struct regs regs_in, regs_out;
static unsigned char *rw, *ro, *none, *sparse, *filemap, *heap;
static char maps_before[16384];

static uint8_t pattern(uintptr_t addr, unsigned int salt)
{
	uint64_t x = addr * 0x9e3779b97f4a7c15ULL + salt;

	return (uint8_t)(x >> 56);
}

static void fill(unsigned char *p, size_t len, unsigned int salt)
{
	for (size_t i = 0; i < len; i++)
		p[i] = pattern((uintptr_t)(p + i), salt);
}

/* Number of bytes in [p, p+len) that differ from the pattern. */
static size_t check(const unsigned char *p, size_t len, unsigned int salt)
{
	size_t bad = 0;

	for (size_t i = 0; i < len; i++)
		bad += p[i] != pattern((uintptr_t)(p + i), salt);
	return bad;
}

/* Reads a whole small file into @buf with raw system calls (no malloc). */
static long slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	long len = 0, n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	return len;
}

/*
 * Rewrites /proc/PID/maps text in place with adjacent lines merged where
 * the areas are compatible (same permissions and backing, contiguous
 * range and file offset).  The kernel keeps such areas apart for internal
 * reasons restart does not reproduce (an anon_vma shared with a parent
 * after fork, accounting of a formerly writable mapping); what they map
 * is the same.
 */
static void normalize_maps(char *text)
{
	unsigned long s, e, off, ps = 0, pe = 0, poff = 0;
	char perms[8], dev[16], path[256], pperms[8] = "", pdev[16] = "",
	     ppath[256] = "", *in = text, *line;
	char out[16384];
	unsigned long ino, pino = 0;
	size_t used = 0;
	int have = 0;

	out[0] = 0;
	while ((line = strsep(&in, "\n")) && *line) {
		path[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %255s", &s, &e, perms,
			   &off, dev, &ino, path) < 6)
			continue;
		if (have && s == pe && !strcmp(perms, pperms) &&
		    !strcmp(dev, pdev) && ino == pino && !strcmp(path, ppath) &&
		    (ino == 0 || poff + (pe - ps) == off)) {
			pe = e;
			continue;
		}
		if (have)
			used += snprintf(out + used, sizeof(out) - used,
					 "%lx-%lx %s %lx %s %lu %s\n", ps, pe,
					 pperms, poff, pdev, pino, ppath);
		ps = s, pe = e, poff = off, pino = ino, have = 1;
		strcpy(pperms, perms), strcpy(pdev, dev), strcpy(ppath, path);
	}
	if (have)
		used += snprintf(out + used, sizeof(out) - used,
				 "%lx-%lx %s %lx %s %lu %s\n", ps, pe, pperms,
				 poff, pdev, pino, ppath);
	memcpy(text, out, used + 1);
}

static uint64_t digest(const unsigned char *p, size_t len, uint64_t h)
{
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t memory_digest(const unsigned char *stack)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = digest(rw, RW_LEN, h);
	h = digest(ro, RO_LEN, h);
	for (size_t off = 0; off < SPARSE_LEN; off += SPARSE_STEP / 4)
		h = digest(sparse + off, 64, h);
	h = digest(filemap, FILE_LEN, h);
	h = digest(heap, HEAP_LEN, h);
	h = digest(stack, STACK_LEN, h);
	return digest((const unsigned char *)&regs_in, sizeof(regs_in), h);
}

/* What a restarted child checks; bit n of the result is check n failing. */
enum { CHK_MEMORY, CHK_SPARSE, CHK_FILE, CHK_REGS, CHK_CLOCK, CHK_COMM,
       CHK_MAPS, CHK_DIGEST, CHK_COUNT };
static const char *const check_names[CHK_COUNT] = {
	"anonymous_heap_stack_bytes_restored", "sparse_area_restored",
	"private_file_mapping_restored", "gp_sse_avx_registers_restored",
	"vdso_clock_gettime_works", "comm_restored", "proc_maps_match",
	"memory_digest_identical",
};

static int verify(const unsigned char *stack, uint64_t digest0, int fd)
{
	struct timespec mono, real;
	char buf[16384];
	int fail = 0;
	size_t bad = check(rw, RW_LEN, 1) + check(ro, RO_LEN, 2) +
		     check(heap, HEAP_LEN, 5) + check(stack, STACK_LEN, 6);

	if (bad)
		fail |= 1 << CHK_MEMORY;
	dprintf(fd, "memory_bad_bytes=%zu\n", bad);
	bad = 0;
	for (size_t off = 0; off < SPARSE_LEN; off += PAGE) {
		if (off % SPARSE_STEP == 0)
			bad += check(sparse + off, PAGE, 3);
		else
			bad += sparse[off] != 0 || sparse[off + PAGE - 1] != 0;
	}
	if (bad)
		fail |= 1 << CHK_SPARSE;
	/* Even pages were modified (copy-on-write), odd ones are the file's. */
	bad = 0;
	for (size_t off = 0; off < FILE_LEN; off += PAGE) {
		for (size_t i = 0; i < PAGE; i++) {
			unsigned char want = off / PAGE % 2 ?
				(unsigned char)((off + i) * 7) :
				pattern((uintptr_t)(filemap + off + i), 4);
			bad += filemap[off + i] != want;
		}
	}
	if (bad)
		fail |= 1 << CHK_FILE;
	if (memcmp(&regs_in, &regs_out, sizeof(regs_in)))
		fail |= 1 << CHK_REGS;
	if (clock_gettime(CLOCK_MONOTONIC, &mono) ||
	    clock_gettime(CLOCK_REALTIME, &real) ||
	    labs(real.tv_sec - time(NULL)) > 2 || mono.tv_sec < 0)
		fail |= 1 << CHK_CLOCK;
	if (slurp("/proc/self/comm", buf, sizeof(buf)) < 0 ||
	    strcmp(buf, "memtest-ckpt\n"))
		fail |= 1 << CHK_COMM;
	dprintf(fd, "comm=%s", buf);
	slurp("/proc/self/maps", buf, sizeof(buf));
	normalize_maps(buf);
	normalize_maps(maps_before);
	if (strcmp(buf, maps_before)) {
		fail |= 1 << CHK_MAPS;
		dprintf(fd, "maps_before:\n%s\nmaps_after:\n%s\n", maps_before,
			buf);
	}
	if (memory_digest(stack) != digest0)
		fail |= 1 << CHK_DIGEST;
	dprintf(fd, "digest=%016llx\n", (unsigned long long)memory_digest(stack));
	return fail;
}

/* The first child: set everything up and checkpoint; returns its status. */
static int checkpointer(void)
{
	unsigned char stack[STACK_LEN];
	uint64_t digest0;
	char report[64];
	long ret;
	int fd, i;

	rw = mmap(NULL, RW_LEN, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, RO_LEN, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	none = mmap(NULL, NONE_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	sparse = mmap(NULL, SPARSE_LEN, PROT_READ | PROT_WRITE | PROT_EXEC,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = open(DATA, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	for (size_t off = 0; off < FILE_LEN; off++) {
		unsigned char b = (unsigned char)(off * 7);

		if (write(fd, &b, 1) != 1)
			return 10;
	}
	filemap = mmap(NULL, FILE_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		       fd, 0);
	close(fd);
	heap = sbrk(HEAP_LEN);
	if (rw == MAP_FAILED || ro == MAP_FAILED || none == MAP_FAILED ||
	    sparse == MAP_FAILED || filemap == MAP_FAILED ||
	    heap == (void *)-1)
		return 11;
	fill(rw, RW_LEN, 1);
	fill(ro, RO_LEN, 2);
	mprotect(ro, RO_LEN, PROT_READ);
	for (size_t off = 0; off < SPARSE_LEN; off += SPARSE_STEP)
		fill(sparse + off, PAGE, 3);
	for (size_t off = 0; off < FILE_LEN; off += 2 * PAGE)
		fill(filemap + off, PAGE, 4);
	fill(heap, HEAP_LEN, 5);
	fill(stack, STACK_LEN, 6);
	for (i = 0; i < 9; i++)
		regs_in.gpr[i] = 0x1111111111111111ULL * (i + 1) ^ 0xa5;
	for (i = 0; i < 16; i++)
		for (int j = 0; j < 32; j++)
			regs_in.ymm[i][j] = (uint8_t)(i * 32 + j + 3);
	prctl(PR_SET_NAME, "memtest-ckpt");
	digest0 = memory_digest(stack);

	fd = open(IMG, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (slurp("/proc/self/maps", maps_before, sizeof(maps_before)) < 0)
		return 14;
	ret = ckpt_regs_syscall(__NR_checkpoint, 0, fd, 0, &regs_in,
				&regs_out);
	if (ret > 0) {
		/* The original: done. */
		close(fd);
		return memcmp(&regs_in, &regs_out, sizeof(regs_in)) ? 12 : 0;
	}
	if (ret < 0)
		return 13;
	/* Restarted: this is another process now; report under its pid. */
	snprintf(report, sizeof(report), "/tmp/mem.report.%d", getpid());
	fd = open(report, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ret = verify(stack, digest0, fd);
	dprintf(fd, "fail=%ld\n", ret);
	close(fd);
	return (int)ret;
}

/* A child that restarts from the image; returns its pid. */
static pid_t start_restart(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(IMG, O_RDONLY);

		sys_restart(0, fd, 0);
		/* Only reached when restart failed. */
		printf("    # restart failed: %s\n", strerror(errno));
		_exit(255);
	}
	return pid;
}

static int wait_status(pid_t pid)
{
	int status = -1;

	waitpid(pid, &status, 0);
	return status;
}

/* The value of "key=" in the report of restarted child @pid, or @none. */
static long long report_value(pid_t pid, const char *key, int base,
			      long long none)
{
	char path[64], buf[65536];
	const char *v;

	snprintf(path, sizeof(path), "/tmp/mem.report.%d", pid);
	if (slurp(path, buf, sizeof(buf)) < 0)
		return none;
	v = strstr(buf, key);
	return v ? (long long)strtoull(v + strlen(key), NULL, base) : none;
}

static void print_report(pid_t pid)
{
	char path[64], buf[65536], *line, *save;

	snprintf(path, sizeof(path), "/tmp/mem.report.%d", pid);
	if (slurp(path, buf, sizeof(buf)) < 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		printf("    # %s\n", line);
}

int main(void)
{
	struct stat st;
	pid_t pid, run[2];
	int status, st_run[2];
	long long fail[2];
	uint64_t d[2];

	ktap_begin("restart_memory", 2 + CHK_COUNT + 2);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(checkpointer());
	status = wait_status(pid);
	ktap_case(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "self_checkpoint_with_registers", "status %#x", status);
	ktap_case(stat(IMG, &st) == 0 && st.st_size > (long)(RW_LEN + RO_LEN) &&
			  st.st_size < (long)(16 * MiB),
		  "image_holds_touched_memory_only",
		  "image of %lld bytes for %lu MiB mapped",
		  (long long)st.st_size,
		  (RW_LEN + RO_LEN + NONE_LEN + SPARSE_LEN) / MiB);

	for (int i = 0; i < 2; i++) {
		run[i] = start_restart();
		st_run[i] = wait_status(run[i]);
		d[i] = report_value(run[i], "digest=", 16, 0);
		fail[i] = report_value(run[i], "fail=", 10, -1);
	}
	for (int c = 0; c < CHK_COUNT; c++) {
		int ok = fail[0] >= 0 && fail[1] >= 0 &&
			 !(fail[0] & (1 << c)) && !(fail[1] & (1 << c));

		ktap_case(ok, check_names[c],
			  "restarted children: status %#x %#x, failed checks %#llx %#llx",
			  st_run[0], st_run[1], fail[0], fail[1]);
	}
	if (fail[0] != 0)
		print_report(run[0]);
	ktap_case(d[0] && d[0] == d[1] && fail[0] == fail[1],
		  "two_restarts_from_one_image_identical",
		  "digests %016llx %016llx", (unsigned long long)d[0],
		  (unsigned long long)d[1]);
	ktap_case(fail[0] >= 0 && WIFEXITED(st_run[0]) &&
			  WEXITSTATUS(st_run[0]) == fail[0],
		  "restarted_task_exits_as_the_saved_program", "status %#x",
		  st_run[0]);
	return ktap_end();
}
