# dnsd's answering core: unit tests (cmocka, ASan) and the core bench.
UNIT_TESTS += unit_dns
unit_dns_SRCS := tests/unit/test_dns.c $(DNSD_CORE_SRCS)
unit_dns_LIBS := $(LIB_CMOCKA) $(LIB_LDNS)

# Not a test: `make build/dns_core_bench && build/dns_core_bench`.
PROGRAMS += dns_core_bench
dns_core_bench_SRCS := bench/dns_core_bench.c $(DNSD_CORE_SRCS)
dns_core_bench_LIBS := $(LIB_LDNS)

# dnsd's catalog feed against an in-process fake raftd.
UNIT_TESTS += unit_dns_feed
unit_dns_feed_SRCS := tests/unit/test_dns_feed.c dnsd/dns_feed.c \
	dnsd/dns_view.c common/ipc.c common/loop.c common/log.c common/err.c \
	$(PROTO_SRCS)
unit_dns_feed_LIBS := $(LIB_CMOCKA) $(LIB_NNG) $(LIB_MSGPACK)

# dnsd's rate limiter, settings and recursors (fake upstreams on 127.0.0.1).
UNIT_TESTS += unit_dns_io
unit_dns_io_SRCS := tests/unit/test_dns_io.c dnsd/dns_ratelimit.c \
	dnsd/dns_settings.c dnsd/dns_recursor.c dnsd/dns_config.c \
	$(COMMON_SRCS)
unit_dns_io_LIBS := $(LIB_CMOCKA) $(LIB_JANSSON) $(LIB_NNG)

# dnsd's response writer against ldns (round trips, byte identity).
UNIT_TESTS += unit_dns_wire
unit_dns_wire_SRCS := tests/unit/test_dns_wire.c dnsd/dns_wire.c \
	dnsd/dns_wire_out.c
unit_dns_wire_LIBS := $(LIB_CMOCKA) $(LIB_LDNS)
