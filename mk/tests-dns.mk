# dnsd's answering core: unit tests (cmocka, ASan) and the core bench.
UNIT_TESTS += unit_dns
unit_dns_SRCS := tests/unit/test_dns.c $(DNSD_CORE_SRCS)
unit_dns_LIBS := $(LIB_CMOCKA) $(LIB_LDNS)

# Not a test: `make build/dns_core_bench && build/dns_core_bench`.
PROGRAMS += dns_core_bench
dns_core_bench_SRCS := bench/dns_core_bench.c $(DNSD_CORE_SRCS)
dns_core_bench_LIBS := $(LIB_LDNS)
