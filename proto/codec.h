/*
 * codec.h — proto/-internal: the field-descriptor tables that drive the one
 * generic msgpack encoder/decoder (codec.c). A payload struct is described
 * by a table of (tag, kind, offset, ...) rows; adding a message is one
 * table in proto/msg_*.c plus its registry line. Reference: smtpd mproc.c
 * (typed m_add_* and m_get_* accessors), here made data instead of code.
 *
 * Not for use outside proto/ (and its tests): other code sees proto.h only.
 */
#ifndef CAIRN_PROTO_CODEC_H
#define CAIRN_PROTO_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

enum proto_kind {
	PK_U8 = 1,   /* uint8_t */
	PK_U32,      /* uint32_t */
	PK_U64,      /* uint64_t */
	PK_I32,      /* int32_t */
	PK_BOOL,     /* bool */
	PK_STR,      /* struct proto_str */
	PK_STRARR,   /* struct proto_str_array */
	PK_STRMAP,   /* struct proto_strmap */
	PK_STRUCT,   /* an embedded struct described by sub */
	PK_STRUCTARR /* a pointer at off, a uint32_t count at count_off */
};

struct proto_desc;

struct proto_field {
	uint8_t tag;  /* 1..63, unique within the table */
	uint8_t kind; /* enum proto_kind */
	size_t off;
	size_t count_off;            /* PK_STRUCTARR only */
	uint64_t max;                /* integers: inclusive cap, 0 = type's */
	const struct proto_desc *sub; /* PK_STRUCT, PK_STRUCTARR */
};

struct proto_desc {
	const char *name;
	size_t size; /* sizeof the struct */
	const struct proto_field *fields;
	size_t nfields;
};

#define PROTO_FIELDS(a) (a), (sizeof(a) / sizeof((a)[0]))

/* Shared pieces (msg_common.c). */
extern const struct proto_desc proto_desc_read_opts;
extern const struct proto_desc proto_desc_read_meta;
extern const struct proto_desc proto_desc_kv_entry;

/* One descriptor per registry payload struct, named proto_desc_<struct>. */
#define PROTO_DESC_DECL(name, code, from, to, type)                         \
	extern const struct proto_desc proto_desc_##type;
PROTO_MESSAGES(PROTO_DESC_DECL)
#undef PROTO_DESC_DECL

/*
 * Checks the msgpack structure of buf before msgpack-c allocates for it:
 * exactly one object, no trailing bytes, every declared size within the
 * bytes left, bounded nesting, no 0xc1 or ext. Returns 0 or ERR_BADMSG.
 */
int proto_codec_prescan(const uint8_t *buf, size_t len);
/* Packs s (described by d) as a tag-keyed map; packer is msgpack_packer. */
int proto_codec_encode(void *packer, const struct proto_desc *d,
    const void *s);
/* Encodes the envelope and body into out (initialised here). */
int proto_codec_encode_msg(uint32_t type, uint64_t reqid,
    const struct proto_desc *desc, const void *body, struct proto_buf *out);
/* proto_decode() proper (see proto.h); strings borrow from buf. */
int proto_codec_decode(const uint8_t *buf, size_t len, struct proto_arena *a,
    struct proto_msg *out);
/* The descriptor of a registry type, or NULL if unknown. */
const struct proto_desc *proto_desc_find(uint32_t type);

#endif
