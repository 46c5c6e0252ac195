#!/bin/sh
# Builds and runs the libFuzzer harness for dnsd's answering core.
# usage: tests/fuzz/build_dns.sh [seconds]   (default 60; not part of make check)
# Output: build/fuzz/fuzz_dns, corpus in build/fuzz/corpus_dns (seeded with
# valid queries for every name form), crashes as build/fuzz/crash-*.
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-60}
mkdir -p build/fuzz/corpus_dns
clang -std=c17 -D_GNU_SOURCE -g -O1 -I. -Icommon \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	tests/fuzz/fuzz_dns.c dnsd/dns_config.c dnsd/dns_view.c \
	dnsd/dns_name.c dnsd/dns_answer.c dnsd/dns_wire.c dnsd/dns_wire_out.c \
	dnsd/dns_cache.c dnsd/dns_query.c \
	$(pkg-config --libs ldns) -o build/fuzz/fuzz_dns
# Seeds: one query per name form and type, UDP/TCP, with and without EDNS.
/usr/bin/python3 - <<'PY'
import dns.message, dns.rdatatype, os
names = ["web.service.consul.", "primary.web.service.consul.",
         "_web._tcp.service.consul.", "node1.node.dc1.consul.",
         "c000020a.addr.dc1.consul.", "1.0.0.10.in-addr.arpa.", "consul.",
         "api.service.alt.test.", "example.com.", "WeB.SeRvIcE.CoNsUl."]
types = ["A", "AAAA", "SRV", "TXT", "ANY", "SOA", "NS", "PTR"]
i = 0
for n in names:
    for t in types:
        for edns in (-1, 0):
            m = dns.message.make_query(n, t, use_edns=edns)
            for sw in (0, 1, 6, 8, 64, 65):
                with open("build/fuzz/corpus_dns/seed%04d" % i, "wb") as f:
                    f.write(bytes([sw]) + m.to_wire())
                i += 1
PY
build/fuzz/fuzz_dns -max_total_time="$secs" -rss_limit_mb=512 \
	-max_len=65535 -artifact_prefix=build/fuzz/ build/fuzz/corpus_dns
