#!/bin/sh
# Builds and runs the libFuzzer harness for what gossipd does with a
# packet from the network (tests/fuzz/fuzz_swim.c: wire_decode, then the
# SWIM core's swim_recv). Not part of `make check`.
# usage: tests/fuzz/build_swim.sh [seconds]   (default 60)
# Output: build/fuzz/fuzz_swim, corpus in build/fuzz/corpus_swim, crashes
# as build/fuzz/crash-*.
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-60}
out=build/fuzz
mkdir -p "$out/corpus_swim"
proto_srcs=$(printf 'include mk/proto.mk\nall:\n\t@echo $(PROTO_SRCS)\n' | \
    make --no-print-directory -s -f -)
core_srcs=$(printf 'include mk/gossipd.mk\nall:\n\t@echo $(GOSSIPD_LIB_SRCS)\n' | \
    make --no-print-directory -s -f -)
clang -g -O1 -std=c17 -D_GNU_SOURCE -I. -Icommon -Iproto \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-o "$out/fuzz_swim" tests/fuzz/fuzz_swim.c $core_srcs $proto_srcs \
	common/err.c common/log.c $(pkg-config --libs msgpack)
# Seeds: an ACK (the golden of unit_swim_wire) and a PING to "fuzz".
printf '\224\001\122\000\202\001\007\017\220' > "$out/corpus_swim/ack"
printf '\224\001\120\000\203\001\001\002\244fuzz\017\220' > \
    "$out/corpus_swim/ping"
"$out/fuzz_swim" -max_total_time="$secs" "$out/corpus_swim"
