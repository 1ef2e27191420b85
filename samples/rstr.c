// SPDX-License-Identifier: GPL-2.0
/*
 * rstr: restart from the checkpoint image on standard input.
 *
 *   rstr < IMAGE
 *
 * On success restart(2) turns this process into the saved one and does
 * not return here.  The restarted program keeps this process's open file
 * descriptors (saving them comes later), so give it the files it expects,
 * e.g. "rstr < self.img 3>>/tmp/cr-test.out" for the self sample.  An
 * image without a task is only validated: restart returns 0.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/checkpoint.h>

int main(void)
{
	long ret = syscall(__NR_restart, 0, STDIN_FILENO, 0);

	if (ret < 0) {
		fprintf(stderr, "rstr: restart: %s\n", strerror(errno));
		return 1;
	}
	printf("rstr: restart returned %ld: the image holds no task\n", ret);
	return 0;
}
