/*
 * fuzz_proto.c — libFuzzer target over proto_decode() for every message
 * type (build with tests/fuzz/build.sh; not part of `make check`).
 *
 * Two shapes of input, chosen by the first byte: as is (the whole envelope
 * comes from the fuzzer), or a body behind a fixed envelope whose type is
 * the registry entry picked by the first byte, so that every payload
 * table is exercised even before the fuzzer learns the envelope. Whatever
 * decodes must re-encode, and re-decoding that must give the same bytes
 * again (encode . decode is idempotent): a decoder that accepts what the
 * encoder cannot reproduce is a bug too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "proto.h"

static const uint32_t fuzz_types[] = {
#define T(name, code, from, to, type) name,
	PROTO_MESSAGES(T)
#undef T
};
#define FUZZ_NTYPES (sizeof(fuzz_types) / sizeof(fuzz_types[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check(const uint8_t *buf, size_t len)
{
	struct proto_arena a, a2;
	struct proto_msg m, m2;
	struct proto_buf e1, e2;
	int rc;

	proto_arena_init(&a);
	rc = proto_decode(buf, len, &a, &m);
	if (rc != 0) {
		if (rc != ERR_BADMSG && rc != ERR_NOMEM)
			abort();
		proto_arena_free(&a);
		return;
	}
	if (proto_msg_name(m.type) == NULL || m.version != PROTO_VERSION)
		abort();
	if (proto_encode(m.type, m.reqid, m.body, &e1) != 0)
		abort();
	proto_arena_init(&a2);
	if (proto_decode(e1.data, e1.len, &a2, &m2) != 0)
		abort();
	if (m2.type != m.type || m2.reqid != m.reqid)
		abort();
	if (proto_encode(m2.type, m2.reqid, m2.body, &e2) != 0)
		abort();
	if (e1.len != e2.len || memcmp(e1.data, e2.data, e1.len) != 0)
		abort();
	proto_buf_free(&e1);
	proto_buf_free(&e2);
	proto_arena_free(&a2);
	proto_arena_free(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	uint32_t type;

	if (size == 0)
		return 0;
	if ((data[0] & 0x80) == 0) {
		/* exact-size copy so ASan sees reads past the end */
		buf = malloc(size - 1 ? size - 1 : 1);
		memcpy(buf, data + 1, size - 1);
		fuzz_check(buf, size - 1);
		free(buf);
		return 0;
	}
	/* [1, type, 0, <body from the fuzzer>] */
	type = fuzz_types[(data[0] & 0x7f) % FUZZ_NTYPES];
	buf = malloc(size + 4);
	buf[0] = 0x94;
	buf[1] = 0x01;
	buf[2] = (uint8_t)type; /* every code is a positive fixint */
	buf[3] = 0x00;
	memcpy(buf + 4, data + 1, size - 1);
	fuzz_check(buf, size + 3);
	free(buf);
	return 0;
}
