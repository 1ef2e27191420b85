/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest test helpers for reading and doctoring checkpoint images: load an
 * image, walk its records, save a modified copy.  Record layouts are in
 * Documentation/checkpoint/format.rst.
 */
#ifndef CKPT_GUEST_IMAGE_H
#define CKPT_GUEST_IMAGE_H

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define REC_HEADER 1
#define REC_TAIL 2
#define REC_ERROR 3
#define REC_TASK 16
#define REC_THREAD 25
#define REC_MM 32
#define REC_VMA 33
#define REC_PAGE_CHUNK 34

struct image {
	unsigned char *data;
	size_t len;
};

struct rec_hdr {
	uint32_t type;
	uint32_t len;
};

/* Loads the file @path; returns 0 on success. */
static inline int image_load(struct image *img, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	img->data = NULL;
	img->len = 0;
	if (fd < 0 || fstat(fd, &st) || st.st_size <= 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	img->data = malloc(st.st_size);
	n = img->data ? read(fd, img->data, st.st_size) : -1;
	close(fd);
	if (n != st.st_size)
		return -1;
	img->len = st.st_size;
	return 0;
}

/* Writes @len bytes of @img to @path. */
static inline int image_save(const struct image *img, size_t len,
			     const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, img->data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/*
 * Returns the offset of the @nth (from 0) record of type @type at or after
 * offset @from, or -1.
 */
static inline long image_find(const struct image *img, uint32_t type, int nth)
{
	size_t off = 0;
	struct rec_hdr h;

	while (off + sizeof(h) <= img->len) {
		memcpy(&h, img->data + off, sizeof(h));
		if (h.len < sizeof(h) || off + h.len > img->len)
			return -1;
		if (h.type == type && nth-- == 0)
			return off;
		off += h.len;
	}
	return -1;
}

/* The last record of the image, or -1. */
static inline long image_last(const struct image *img)
{
	size_t off = 0, last = (size_t)-1;
	struct rec_hdr h;

	while (off + sizeof(h) <= img->len) {
		memcpy(&h, img->data + off, sizeof(h));
		if (h.len < sizeof(h) || off + h.len > img->len)
			break;
		last = off;
		off += h.len;
	}
	return (long)last;
}

static inline uint32_t image_u32(const struct image *img, size_t off)
{
	uint32_t v;

	memcpy(&v, img->data + off, sizeof(v));
	return v;
}

static inline uint64_t image_u64(const struct image *img, size_t off)
{
	uint64_t v;

	memcpy(&v, img->data + off, sizeof(v));
	return v;
}

static inline void image_put_u64(struct image *img, size_t off, uint64_t v)
{
	memcpy(img->data + off, &v, sizeof(v));
}

/*
 * The message of the image's final error record, or "" if it has none;
 * its errno in *@err (0 without one).
 */
static inline const char *image_error_message(const struct image *img,
					      int *err)
{
	long last = image_last(img);

	*err = 0;
	if (last < 0 || image_u32(img, last) != REC_ERROR)
		return "";
	*err = (int)image_u32(img, last + 8);
	return (const char *)img->data + last + 16;
}

#endif
