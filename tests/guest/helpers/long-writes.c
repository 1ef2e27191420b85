// SPDX-License-Identifier: GPL-2.0
/*
 * long-writes FILE: writes 16 MiB to the start of FILE with one write(2),
 * over and over.  A write to tmpfs only stops for a fatal signal, so a
 * SIGSTOP sent meanwhile stays pending until the write is done: a
 * process whose stop takes long to happen.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (16 << 20)

int main(int argc, char *argv[])
{
	char *buf;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	buf = malloc(CHUNK);
	if (fd < 0 || !buf) {
		perror(argv[1]);
		return 1;
	}
	memset(buf, 0x5a, CHUNK);
	for (;;)
		if (pwrite(fd, buf, CHUNK, 0) != CHUNK)
			return 1;
}
