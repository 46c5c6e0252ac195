/*
 * proto.c — the public face of proto.h: the registry lookup, the envelope
 * entry points, the output buffer and the decode arena.
 *
 * Key decision: the registry (registry.h) is expanded once here into a
 * table of (code, name, field descriptor); proto_encode()/proto_decode()
 * are table lookups in front of the generic codec (codec.c), so a message
 * type exists exactly when it has a registry line and a descriptor.
 * Reference: smtpd's imsg type table; NSD region-allocator for the arena.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "err.h"
#include "proto.h"

struct proto_reg {
	uint32_t code;
	const char *name;
	const struct proto_desc *desc;
};

static const struct proto_reg proto_registry[] = {
#define PROTO_REG(name, code, from, to, type) { code, #name, &proto_desc_##type },
	PROTO_MESSAGES(PROTO_REG)
#undef PROTO_REG
};

static const struct proto_reg *
proto_reg_find(uint32_t type)
{
	size_t i;

	for (i = 0; i < sizeof(proto_registry) / sizeof(proto_registry[0]);
	    i++)
		if (proto_registry[i].code == type)
			return &proto_registry[i];
	return NULL;
}

const struct proto_desc *
proto_desc_find(uint32_t type)
{
	const struct proto_reg *r = proto_reg_find(type);

	return r ? r->desc : NULL;
}

const char *
proto_msg_name(uint32_t type)
{
	const struct proto_reg *r = proto_reg_find(type);

	return r ? r->name : NULL;
}

int
proto_encode(uint32_t type, uint64_t reqid, const void *body,
    struct proto_buf *out)
{
	const struct proto_desc *d;

	out->data = NULL;
	out->len = out->cap = 0;
	if ((d = proto_desc_find(type)) == NULL || body == NULL)
		return ERR_INVAL;
	return proto_codec_encode_msg(type, reqid, d, body, out);
}

int
proto_decode(const uint8_t *buf, size_t len, struct proto_arena *a,
    struct proto_msg *out)
{
	memset(out, 0, sizeof(*out));
	return proto_codec_decode(buf, len, a, out);
}

int
proto_encode_error(uint64_t reqid, int code, struct proto_buf *out,
    const char *fmt, ...)
{
	struct msg_error e;
	char text[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(text))
		n = sizeof(text) - 1;
	e.code = code;
	e.message.ptr = text;
	e.message.len = (uint32_t)n;
	return proto_encode(MSG_ERROR, reqid, &e, out);
}

void
proto_buf_free(struct proto_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* ---- arena ---- */

#define PROTO_ARENA_CHUNK 16384
#define PROTO_ARENA_ALIGN 16

struct proto_arena_chunk {
	struct proto_arena_chunk *next;
	size_t size;
	_Alignas(PROTO_ARENA_ALIGN) unsigned char data[];
};

void
proto_arena_init(struct proto_arena *a)
{
	a->head = NULL;
	a->used = 0;
}

void *
proto_arena_alloc(struct proto_arena *a, size_t size)
{
	struct proto_arena_chunk *c;
	void *p;

	size = (size + PROTO_ARENA_ALIGN - 1) & ~(size_t)(PROTO_ARENA_ALIGN - 1);
	if (size == 0)
		size = PROTO_ARENA_ALIGN;
	if (a->head == NULL || a->head->size - a->used < size) {
		size_t csize = size > PROTO_ARENA_CHUNK ? size :
		    PROTO_ARENA_CHUNK;

		if (size > PROTO_MAX_MSG * 8)
			return NULL;
		if ((c = malloc(sizeof(*c) + csize)) == NULL)
			return NULL;
		c->size = csize;
		c->next = a->head;
		a->head = c;
		a->used = 0;
	}
	p = a->head->data + a->used;
	a->used += size;
	memset(p, 0, size);
	return p;
}

void
proto_arena_reset(struct proto_arena *a)
{
	struct proto_arena_chunk *c, *next;

	if (a->head == NULL)
		return;
	/* keep the newest chunk for the next message */
	for (c = a->head->next; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head->next = NULL;
	a->used = 0;
}

void
proto_arena_free(struct proto_arena *a)
{
	struct proto_arena_chunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	a->used = 0;
}

/* ---- helpers ---- */

struct proto_str
proto_str_c(const char *s)
{
	struct proto_str r = { s ? s : "", s ? (uint32_t)strlen(s) : 0 };

	return r;
}

bool
proto_str_eq(struct proto_str a, const char *s)
{
	size_t n = strlen(s);

	return a.len == n && (n == 0 || memcmp(a.ptr, s, n) == 0);
}
