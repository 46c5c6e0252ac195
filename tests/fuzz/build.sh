#!/bin/sh
# Builds the libFuzzer targets into build/fuzz/ with clang
# (-fsanitize=fuzzer,address,undefined) and writes a seed corpus of the
# golden encodings of tests/unit/test_proto.c. Not part of `make check`.
#
# usage: tests/fuzz/build.sh            # build
#        build/fuzz/fuzz_proto -max_total_time=60 build/fuzz/corpus_proto
set -eu
cd "$(dirname "$0")/../.."
CC=${FUZZ_CC:-clang}
out=build/fuzz
mkdir -p "$out" "$out/corpus_proto"
# the codec sources, as mk/proto.mk lists them
proto_srcs=$(printf 'include mk/proto.mk\nall:\n\t@echo $(PROTO_SRCS)\n' | \
    make --no-print-directory -s -f -)
$CC -g -O1 -std=c17 -D_GNU_SOURCE -I. -Icommon -Iproto \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-o "$out/fuzz_proto" tests/fuzz/fuzz_proto.c $proto_srcs \
	common/err.c common/log.c \
	$(pkg-config --libs msgpack)

# Seeds: the golden encoding of every message (unit_proto prints them),
# each as a whole envelope (first byte 0x00).
make -s build/asan/unit_proto
PROTO_GOLDEN_PRINT=1 build/asan/unit_proto 2>&1 >/dev/null | \
    grep '^MSG_' | while read -r name hex; do
	/usr/bin/python3 -c 'import sys; sys.stdout.buffer.write(b"\0" + bytes.fromhex(sys.argv[1]))' \
		"$hex" > "$out/corpus_proto/seed_$name"
done
echo "built $out/fuzz_proto; corpus in $out/corpus_proto"
