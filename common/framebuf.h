/*
 * framebuf.h — the byte buffer under cairn's own stream framing: a read
 * buffer frames are parsed from and a write buffer frames are appended to
 * and flushed from, on non-blocking sockets driven by the loop.
 *
 * Shared by common/ipc.c (request/reply between the roles over AF_UNIX)
 * and raftd/transport.c (Raft between servers over TCP), which each put
 * their own header on a frame. Header-only (static inline) so the many
 * test programs that link common/ipc.c need no new source in their lists.
 * Everything here runs on the owning loop's thread; nothing blocks.
 */
#ifndef CAIRN_FRAMEBUF_H
#define CAIRN_FRAMEBUF_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"

#define FBUF_RD_CHUNK 65536      /* free space offered to each read */
#define FBUF_RD_ROUNDS 8         /* reads per wakeup before yielding */
#define FBUF_KEEP (1u << 20)     /* larger buffers are freed when empty */

struct fbuf {
	uint8_t *p;
	size_t off, len, cap; /* bytes p[off, len) are pending */
};

static inline size_t
fbuf_pending(const struct fbuf *b)
{
	return b->len - b->off;
}

static inline void
fbuf_free(struct fbuf *b)
{
	free(b->p);
	*b = (struct fbuf){ 0 };
}

/* Forgets the pending bytes; drops a large allocation. */
static inline void
fbuf_clear(struct fbuf *b)
{
	if (b->cap > FBUF_KEEP)
		fbuf_free(b);
	b->off = b->len = 0;
}

/* Makes room for n more bytes at the end. Returns 0 or ERR_NOMEM. */
static inline int
fbuf_reserve(struct fbuf *b, size_t n)
{
	size_t used = b->len - b->off, ncap;
	uint8_t *np;

	if (b->cap - b->len >= n)
		return 0;
	if (b->off > 0) {
		memmove(b->p, b->p + b->off, used);
		b->off = 0;
		b->len = used;
		if (b->cap - b->len >= n)
			return 0;
	}
	ncap = b->cap ? b->cap * 2 : 4096;
	while (ncap - used < n)
		ncap *= 2;
	if ((np = realloc(b->p, ncap)) == NULL)
		return ERR_NOMEM;
	b->p = np;
	b->cap = ncap;
	return 0;
}

static inline void
fbuf_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
fbuf_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Appends len bytes. Returns 0 or ERR_NOMEM. */
static inline int
fbuf_append(struct fbuf *b, const void *data, size_t len)
{
	if (fbuf_reserve(b, len) != 0)
		return ERR_NOMEM;
	if (len > 0)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

/*
 * Reads what the socket has, up to FBUF_RD_ROUNDS buffers (level-triggered
 * epoll brings the caller back for the rest). want is the size of the
 * frame being assembled, so a large one is read into one allocation.
 * Returns 0, or ERR_CLOSED at end of stream, or another ERR_*.
 */
static inline int
fbuf_fill(int fd, struct fbuf *b, size_t want)
{
	size_t space;
	ssize_t n;
	int i;

	for (i = 0; i < FBUF_RD_ROUNDS; i++) {
		space = want > b->len - b->off ? want - (b->len - b->off) : 0;
		if (space < FBUF_RD_CHUNK)
			space = FBUF_RD_CHUNK;
		if (fbuf_reserve(b, space) != 0)
			return ERR_NOMEM;
		space = b->cap - b->len;
		n = read(fd, b->p + b->len, space);
		if (n == 0)
			return ERR_CLOSED;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return err_from_errno(errno);
		}
		b->len += (size_t)n;
		if ((size_t)n < space)
			return 0; /* drained */
	}
	return 0;
}

/*
 * Writes pending bytes. Returns 0 when all went out, ERR_AGAIN when the
 * socket is full (the rest waits for LOOP_WRITE), another ERR_* when the
 * connection is broken.
 */
static inline int
fbuf_flush(int fd, struct fbuf *b)
{
	ssize_t n;

	while (b->off < b->len) {
		n = send(fd, b->p + b->off, b->len - b->off, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return ERR_AGAIN;
			return err_from_errno(errno);
		}
		b->off += (size_t)n;
	}
	fbuf_clear(b);
	return 0;
}

#endif
