/*
 * fuzz_swim.c — libFuzzer target over what gossipd does with a packet from
 * the network: wire_decode() (gossipd/wire.c), then the SWIM core's
 * swim_recv() on a small live core, then the produced output drained.
 * Whatever decodes must re-encode. Build (not part of `make check`):
 *   clang -g -O1 -std=c17 -D_GNU_SOURCE -I. -Icommon -Iproto \
 *     -fsanitize=fuzzer,address,undefined -o build/fuzz/fuzz_swim \
 *     tests/fuzz/fuzz_swim.c gossipd/wire.c gossipd/swim*.c $PROTO_SRCS \
 *     common/err.c common/log.c -lmsgpackc
 * (tests/fuzz/build.sh's shape; the proto sources as mk/proto.mk lists).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "gossipd/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct swim *fuzz_core;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_arena a;
	struct swim_msg m;
	struct swim_addr from;
	struct swim_update u;
	struct proto_buf b;
	int rc;

	if (fuzz_core == NULL) {
		struct swim_config cfg = swim_config_lan();
		struct swim_member_info self;

		memset(&self, 0, sizeof(self));
		self.name = "fuzz";
		self.addr.ip[10] = self.addr.ip[11] = 0xff;
		self.addr.ip[12] = 127;
		self.addr.ip[15] = 1;
		self.addr.port = 8301;
		if ((fuzz_core = swim_new(&cfg, &self, 1)) == NULL)
			abort();
		swim_tick(fuzz_core, 1);
	}
	memset(&from, 0, sizeof(from));
	from.ip[15] = 2;
	from.port = 9;
	proto_arena_init(&a);
	rc = wire_decode(data, size, &a, &m);
	if (rc == 0) {
		if (wire_encode(&m, &b) != 0)
			abort();
		proto_buf_free(&b);
		swim_recv(fuzz_core, &from, &m, 2);
		memset(&u, 0, sizeof(u));
		swim_drain(fuzz_core, &u);
		swim_update_free(&u);
	} else if (rc != ERR_BADMSG && rc != ERR_NOMEM) {
		abort();
	}
	proto_arena_free(&a);
	return 0;
}
