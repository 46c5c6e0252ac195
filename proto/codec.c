/*
 * codec.c — the generic msgpack encoder/decoder driven by the field tables
 * of codec.h, plus the structural pre-scan that every input passes before
 * msgpack-c sees it.
 *
 * Key decisions:
 * - A struct is a msgpack map {tag: value}; every field is written (so the
 *   golden encodings in tests/unit/test_proto.c are total), unknown tags
 *   are skipped on decode, a repeated tag is a bad message.
 * - msgpack-c allocates container storage from the declared element count
 *   before it has seen the elements, so `dd 00 ff ff ff` costs 400 MB of
 *   address space and nested ones multiply it. proto_codec_prescan() walks
 *   the bytes first and rejects any container or string whose declared
 *   size cannot fit in the bytes that remain, nesting deeper than
 *   PROTO_CODEC_MAX_DEPTH, the reserved byte 0xc1 and ext types; after it,
 *   msgpack-c's allocation is bounded by a small multiple of the input.
 * - Strings borrow from the input buffer (msgpack-c's C unpacker points
 *   into it); if a build ever copied them, they are copied to the arena.
 *
 * Reference: msgpack spec (github.com/msgpack/msgpack/blob/master/spec.md),
 * spec/fault-testing.md §7.3, STYLE.md §5.
 */
#include <limits.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "err.h"

#define PROTO_CODEC_MAX_DEPTH 24

/* ---- pre-scan ---- */

static int
prescan_need(const uint8_t *p, size_t len, size_t i, size_t n, uint64_t *v)
{
	size_t k;

	if (len - i < n)
		return ERR_BADMSG;
	*v = 0;
	for (k = 0; k < n; k++)
		*v = *v << 8 | p[i + k];
	return 0;
}

int
proto_codec_prescan(const uint8_t *p, size_t len)
{
	/* items still expected at each open container level */
	uint64_t stack[PROTO_CODEC_MAX_DEPTH + 1];
	int depth = 0;
	size_t i = 0;

	stack[0] = 1; /* exactly one top-level object */
	while (depth >= 0) {
		uint64_t n = 0, skip = 0, items = 0, elems = 0;
		uint8_t b;

		if (stack[depth] == 0) {
			depth--;
			continue;
		}
		if (i >= len)
			return ERR_BADMSG; /* truncated */
		stack[depth]--;
		b = p[i++];
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 ||
		    b == 0xc3) {
			continue;
		} else if ((b & 0xf0) == 0x80) {
			elems = b & 0x0f;
			items = 2 * elems;
		} else if ((b & 0xf0) == 0x90) {
			items = elems = b & 0x0f;
		} else if ((b & 0xe0) == 0xa0) {
			skip = b & 0x1f;
		} else {
			switch (b) {
			case 0xc4: case 0xd9: /* bin8, str8 */
				if (prescan_need(p, len, i, 1, &n)) return ERR_BADMSG;
				i += 1; skip = n; break;
			case 0xc5: case 0xda: /* bin16, str16 */
				if (prescan_need(p, len, i, 2, &n)) return ERR_BADMSG;
				i += 2; skip = n; break;
			case 0xc6: case 0xdb: /* bin32, str32 */
				if (prescan_need(p, len, i, 4, &n)) return ERR_BADMSG;
				i += 4; skip = n; break;
			case 0xcc: case 0xd0: skip = 1; break;
			case 0xcd: case 0xd1: skip = 2; break;
			case 0xca: case 0xce: case 0xd2: skip = 4; break;
			case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
			case 0xdc: /* array16 */
				if (prescan_need(p, len, i, 2, &n)) return ERR_BADMSG;
				i += 2; items = elems = n; break;
			case 0xdd: /* array32 */
				if (prescan_need(p, len, i, 4, &n)) return ERR_BADMSG;
				i += 4; items = elems = n; break;
			case 0xde: /* map16 */
				if (prescan_need(p, len, i, 2, &n)) return ERR_BADMSG;
				i += 2; elems = n; items = 2 * n; break;
			case 0xdf: /* map32 */
				if (prescan_need(p, len, i, 4, &n)) return ERR_BADMSG;
				i += 4; elems = n; items = 2 * n; break;
			default: /* 0xc1 reserved, ext types: never ours */
				return ERR_BADMSG;
			}
		}
		if (skip > len - i)
			return ERR_BADMSG;
		i += skip;
		if (items > 0) {
			/* every item takes at least one byte */
			if (items > len - i || elems > PROTO_MAX_ARRAY)
				return ERR_BADMSG;
			if (depth == PROTO_CODEC_MAX_DEPTH)
				return ERR_BADMSG;
			stack[++depth] = items;
		}
	}
	return i == len ? 0 : ERR_BADMSG; /* trailing bytes */
}

/* ---- encoding ---- */

static int
enc_str(msgpack_packer *pk, const struct proto_str *s)
{
	if (s->len > PROTO_MAX_STR)
		return ERR_TOOBIG;
	if (s->len > 0 && s->ptr == NULL)
		return ERR_INVAL;
	if (msgpack_pack_str(pk, s->len) != 0 ||
	    msgpack_pack_str_body(pk, s->ptr, s->len) != 0)
		return ERR_NOMEM;
	return 0;
}

static int
enc_field(msgpack_packer *pk, const struct proto_field *f, const char *base)
{
	const void *v = base + f->off;
	int rc = 0;
	uint32_t i;

	switch (f->kind) {
	case PK_U8:
		return msgpack_pack_uint64(pk, *(const uint8_t *)v) ? ERR_NOMEM : 0;
	case PK_U32:
		return msgpack_pack_uint64(pk, *(const uint32_t *)v) ? ERR_NOMEM : 0;
	case PK_U64:
		return msgpack_pack_uint64(pk, *(const uint64_t *)v) ? ERR_NOMEM : 0;
	case PK_I32:
		return msgpack_pack_int64(pk, *(const int32_t *)v) ? ERR_NOMEM : 0;
	case PK_BOOL:
		rc = *(const bool *)v ? msgpack_pack_true(pk) :
		    msgpack_pack_false(pk);
		return rc ? ERR_NOMEM : 0;
	case PK_STR:
		return enc_str(pk, v);
	case PK_STRARR: {
		const struct proto_str_array *a = v;

		if (a->n > PROTO_MAX_ARRAY)
			return ERR_TOOBIG;
		if (msgpack_pack_array(pk, a->n) != 0)
			return ERR_NOMEM;
		for (i = 0; i < a->n && rc == 0; i++)
			rc = enc_str(pk, &a->v[i]);
		return rc;
	}
	case PK_STRMAP: {
		const struct proto_strmap *m = v;

		if (m->n > PROTO_MAX_ARRAY)
			return ERR_TOOBIG;
		if (msgpack_pack_map(pk, m->n) != 0)
			return ERR_NOMEM;
		for (i = 0; i < m->n && rc == 0; i++)
			if ((rc = enc_str(pk, &m->keys[i])) == 0)
				rc = enc_str(pk, &m->vals[i]);
		return rc;
	}
	case PK_STRUCT:
		return proto_codec_encode(pk, f->sub, v);
	case PK_STRUCTARR: {
		const char *arr = *(const char *const *)v;
		uint32_t n = *(const uint32_t *)(base + f->count_off);

		if (n > PROTO_MAX_ARRAY)
			return ERR_TOOBIG;
		if (n > 0 && arr == NULL)
			return ERR_INVAL;
		if (msgpack_pack_array(pk, n) != 0)
			return ERR_NOMEM;
		for (i = 0; i < n && rc == 0; i++)
			rc = proto_codec_encode(pk, f->sub,
			    arr + (size_t)i * f->sub->size);
		return rc;
	}
	}
	return ERR_INVAL;
}

int
proto_codec_encode(void *packer, const struct proto_desc *d, const void *s)
{
	msgpack_packer *pk = packer;
	size_t i;
	int rc;

	if (msgpack_pack_map(pk, d->nfields) != 0)
		return ERR_NOMEM;
	for (i = 0; i < d->nfields; i++) {
		if (msgpack_pack_uint64(pk, d->fields[i].tag) != 0)
			return ERR_NOMEM;
		if ((rc = enc_field(pk, &d->fields[i], s)) != 0)
			return rc;
	}
	return 0;
}

/* ---- decoding ---- */

struct dec {
	const uint8_t *buf;
	size_t len;
	struct proto_arena *a;
};

static int
dec_uint(const msgpack_object *o, uint64_t max, uint64_t *out)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return ERR_BADMSG; /* negative, float, anything else */
	if (o->via.u64 > max)
		return ERR_BADMSG;
	*out = o->via.u64;
	return 0;
}

static int
dec_str(struct dec *d, const msgpack_object *o, struct proto_str *out)
{
	const char *p;
	uint32_t n;

	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size > PROTO_MAX_STR)
		return ERR_BADMSG;
	n = o->via.str.size;
	p = o->via.str.ptr;
	if (n > 0 && ((const uint8_t *)p < d->buf ||
	    (const uint8_t *)p + n > d->buf + d->len)) {
		char *c;

		if ((c = proto_arena_alloc(d->a, n)) == NULL)
			return ERR_NOMEM;
		memcpy(c, p, n);
		p = c;
	}
	out->ptr = n > 0 ? p : "";
	out->len = n;
	return 0;
}

static int dec_struct(struct dec *d, const msgpack_object *o,
    const struct proto_desc *desc, void *s);

static void *
dec_array_alloc(struct dec *d, uint32_t n, size_t size)
{
	if (n == 0)
		return NULL;
	return proto_arena_alloc(d->a, (size_t)n * size);
}

static int
dec_strarr(struct dec *d, const msgpack_object *o,
    struct proto_str_array *out)
{
	uint32_t i, n;
	int rc;

	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size >
	    PROTO_MAX_ARRAY)
		return ERR_BADMSG;
	n = o->via.array.size;
	if (n > 0 && (out->v = dec_array_alloc(d, n, sizeof(*out->v))) ==
	    NULL)
		return ERR_NOMEM;
	for (i = 0; i < n; i++)
		if ((rc = dec_str(d, &o->via.array.ptr[i], &out->v[i])) != 0)
			return rc;
	out->n = n;
	return 0;
}

static int
dec_strmap(struct dec *d, const msgpack_object *o, struct proto_strmap *out)
{
	uint32_t i, n;
	int rc;

	if (o->type != MSGPACK_OBJECT_MAP || o->via.map.size >
	    PROTO_MAX_ARRAY)
		return ERR_BADMSG;
	n = o->via.map.size;
	if (n > 0) {
		out->keys = dec_array_alloc(d, n, sizeof(*out->keys));
		out->vals = dec_array_alloc(d, n, sizeof(*out->vals));
		if (out->keys == NULL || out->vals == NULL)
			return ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];

		if ((rc = dec_str(d, &kv->key, &out->keys[i])) != 0 ||
		    (rc = dec_str(d, &kv->val, &out->vals[i])) != 0)
			return rc;
	}
	out->n = n;
	return 0;
}

static int
dec_structarr(struct dec *d, const msgpack_object *o,
    const struct proto_field *f, char *base)
{
	uint32_t i, n;
	char *arr = NULL;
	int rc;

	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size >
	    PROTO_MAX_ARRAY)
		return ERR_BADMSG;
	n = o->via.array.size;
	if (n > 0 && (arr = dec_array_alloc(d, n, f->sub->size)) == NULL)
		return ERR_NOMEM;
	for (i = 0; i < n; i++)
		if ((rc = dec_struct(d, &o->via.array.ptr[i], f->sub,
		    arr + (size_t)i * f->sub->size)) != 0)
			return rc;
	*(char **)(base + f->off) = arr;
	*(uint32_t *)(base + f->count_off) = n;
	return 0;
}

static int
dec_field(struct dec *d, const msgpack_object *o,
    const struct proto_field *f, char *base)
{
	void *v = base + f->off;
	uint64_t u;
	int rc;

	switch (f->kind) {
	case PK_U8:
		if ((rc = dec_uint(o, f->max ? f->max : UINT8_MAX, &u)) != 0)
			return rc;
		*(uint8_t *)v = (uint8_t)u;
		return 0;
	case PK_U32:
		if ((rc = dec_uint(o, f->max ? f->max : UINT32_MAX, &u)) != 0)
			return rc;
		*(uint32_t *)v = (uint32_t)u;
		return 0;
	case PK_U64:
		if ((rc = dec_uint(o, f->max ? f->max : UINT64_MAX, &u)) != 0)
			return rc;
		*(uint64_t *)v = u;
		return 0;
	case PK_I32:
		if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    o->via.u64 <= INT32_MAX)
			*(int32_t *)v = (int32_t)o->via.u64;
		else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER &&
		    o->via.i64 >= INT32_MIN)
			*(int32_t *)v = (int32_t)o->via.i64;
		else
			return ERR_BADMSG;
		return 0;
	case PK_BOOL:
		if (o->type != MSGPACK_OBJECT_BOOLEAN)
			return ERR_BADMSG;
		*(bool *)v = o->via.boolean;
		return 0;
	case PK_STR:
		return dec_str(d, o, v);
	case PK_STRARR:
		return dec_strarr(d, o, v);
	case PK_STRMAP:
		return dec_strmap(d, o, v);
	case PK_STRUCT:
		return dec_struct(d, o, f->sub, v);
	case PK_STRUCTARR:
		return dec_structarr(d, o, f, base);
	}
	return ERR_BADMSG;
}

static const struct proto_field *
dec_find(const struct proto_desc *desc, uint64_t tag, size_t *idx)
{
	size_t i;

	for (i = 0; i < desc->nfields; i++)
		if (desc->fields[i].tag == tag) {
			*idx = i;
			return &desc->fields[i];
		}
	return NULL;
}

static int
dec_struct(struct dec *d, const msgpack_object *o,
    const struct proto_desc *desc, void *s)
{
	uint64_t seen = 0, unknown_seen[4] = { 0 };
	uint32_t i;
	int rc;

	if (o->type != MSGPACK_OBJECT_MAP)
		return ERR_BADMSG;
	for (i = 0; i < o->via.map.size; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];
		const struct proto_field *f;
		size_t idx;

		if (kv->key.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			return ERR_BADMSG; /* negative or non-integer key */
		if ((f = dec_find(desc, kv->key.via.u64, &idx)) == NULL) {
			/* unknown: skipped, but still never twice */
			uint64_t t = kv->key.via.u64;

			if (t < 256) {
				if (unknown_seen[t / 64] & (1ull << (t % 64)))
					return ERR_BADMSG;
				unknown_seen[t / 64] |= 1ull << (t % 64);
			}
			continue;
		}
		if (seen & (1ull << idx))
			return ERR_BADMSG; /* duplicate tag */
		seen |= 1ull << idx;
		if ((rc = dec_field(d, &kv->val, f, s)) != 0)
			return rc;
	}
	return 0;
}

int
proto_codec_decode(const uint8_t *buf, size_t len, struct proto_arena *a,
    struct proto_msg *out)
{
	msgpack_unpacked u;
	const msgpack_object *o, *e;
	const struct proto_desc *desc;
	struct dec d = { buf, len, a };
	size_t off = 0;
	void *body;
	int rc = ERR_BADMSG;

	if (buf == NULL || len == 0 || len > PROTO_MAX_MSG)
		return ERR_BADMSG;
	if (proto_codec_prescan(buf, len) != 0)
		return ERR_BADMSG;
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, (const char *)buf, len, &off) !=
	    MSGPACK_UNPACK_SUCCESS || off != len)
		goto out;
	o = &u.data;
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 4)
		goto out;
	e = o->via.array.ptr;
	if (e[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    e[0].via.u64 != PROTO_VERSION)
		goto out;
	if (e[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    e[1].via.u64 > UINT32_MAX ||
	    (desc = proto_desc_find((uint32_t)e[1].via.u64)) == NULL)
		goto out;
	if (e[2].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		goto out;
	if ((body = proto_arena_alloc(a, desc->size)) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	if ((rc = dec_struct(&d, &e[3], desc, body)) != 0) {
		if (rc != ERR_NOMEM)
			rc = ERR_BADMSG;
		goto out;
	}
	out->version = PROTO_VERSION;
	out->type = (uint32_t)e[1].via.u64;
	out->reqid = e[2].via.u64;
	out->body = body;
	rc = 0;
out:
	msgpack_unpacked_destroy(&u);
	return rc;
}

/* ---- output buffer ---- */

static int
buf_write(void *data, const char *p, size_t n)
{
	struct proto_buf *b = data;

	if (n == 0)
		return 0;
	if (b->len + n > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		uint8_t *nd;

		while (ncap < b->len + n)
			ncap *= 2;
		if ((nd = realloc(b->data, ncap)) == NULL)
			return -1;
		b->data = nd;
		b->cap = ncap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int
proto_codec_encode_msg(uint32_t type, uint64_t reqid,
    const struct proto_desc *desc, const void *body, struct proto_buf *out)
{
	msgpack_packer pk;
	int rc;

	out->data = NULL;
	out->len = out->cap = 0;
	msgpack_packer_init(&pk, out, buf_write);
	if (msgpack_pack_array(&pk, 4) != 0 ||
	    msgpack_pack_uint64(&pk, PROTO_VERSION) != 0 ||
	    msgpack_pack_uint64(&pk, type) != 0 ||
	    msgpack_pack_uint64(&pk, reqid) != 0) {
		rc = ERR_NOMEM;
		goto fail;
	}
	if ((rc = proto_codec_encode(&pk, desc, body)) != 0)
		goto fail;
	if (out->len > PROTO_MAX_MSG) {
		rc = ERR_TOOBIG;
		goto fail;
	}
	return 0;
fail:
	proto_buf_free(out);
	return rc;
}
