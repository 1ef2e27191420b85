// SPDX-License-Identifier: GPL-2.0
/*
 * Robust futexes after restart, after a self checkpoint and after an
 * external checkpoint of a stopped target: get_robust_list returns the
 * saved list head (glibc's, in the thread's control block), the kernel's
 * view of that list still leads to a robust mutex locked at checkpoint,
 * the mutex is still held (trylock is EBUSY), unlocks (leaving the list
 * empty), and locks and unlocks again.
 */
#define _GNU_SOURCE
#include "target.h"

#include <pthread.h>
#include <linux/futex.h>

#define IMG "/tmp/robust_futex.img"

static pthread_mutex_t mutex;
/* The robust list head at checkpoint (the memory is restored with it). */
static struct robust_list_head *saved_head;

/* Locks a robust mutex and notes the list head; 0 on success. */
static int lock_robust_mutex(void)
{
	pthread_mutexattr_t attr;
	size_t len;

	if (pthread_mutexattr_init(&attr) ||
	    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) ||
	    pthread_mutex_init(&mutex, &attr) || pthread_mutex_lock(&mutex))
		return 1;
	return syscall(SYS_get_robust_list, 0, &saved_head, &len) ? 1 : 0;
}

/*
 * What the restored task checks; returns the number of the first check
 * that failed, 0 when all hold.
 */
static int restored_robust_checks(void)
{
	struct robust_list_head *head = NULL;
	size_t len = 0;
	char *entry;

	if (syscall(SYS_get_robust_list, 0, &head, &len) || head != saved_head ||
	    len != sizeof(*head))
		return 1;
	/* The list's first entry is the mutex: its futex word is the lock. */
	entry = (char *)head->list.next;
	if (entry == (char *)&head->list ||
	    (void *)(entry + head->futex_offset) != (void *)&mutex.__data.__lock)
		return 2;
	if (pthread_mutex_trylock(&mutex) != EBUSY)
		return 3;
	if (pthread_mutex_unlock(&mutex))
		return 4;
	if (head->list.next != &head->list)
		return 5;
	if (pthread_mutex_lock(&mutex) || pthread_mutex_unlock(&mutex))
		return 6;
	return 0;
}

static void self_case(void)
{
	int saver_status;
	int status = self_checkpoint_and_restart(IMG, lock_robust_mutex, restored_robust_checks,
						 &saver_status);

	ktap_case(saver_status == 0 && WIFEXITED(status) && !WEXITSTATUS(status),
		  "self_restart_list_and_held_mutex",
		  "saver status %#x, restored status %#x (exit code = first failed check, 150: restart returned)",
		  saver_status, status);
}

/* The same in a target checkpointed from outside while stopped. */
static void external_case(void)
{
	long r;
	int status = external_checkpoint_and_restart(IMG, lock_robust_mutex, restored_robust_checks, &r);

	ktap_case(r > 0 && WIFEXITED(status) && !WEXITSTATUS(status),
		  "external_restart_list_and_held_mutex",
		  "checkpoint %ld (errno %d), restored status %#x (exit code = first failed check)",
		  r, r > 0 ? 0 : errno, status);
}

int main(void)
{
	ktap_begin("robust_futex", 2);
	fflush(stdout);
	self_case();
	external_case();
	return ktap_end();
}
