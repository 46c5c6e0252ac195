# dnsd: source list and program definition (see Makefile for $(call program)).
# The answering core (pure: config + view + query bytes -> response bytes)
# is used by unit_dns, the fuzzer and the bench; the daemon adds the
# settings, the UDP/TCP listeners, the recursors, the rate limiter and the
# catalog feed from raftd.
DNSD_CORE_SRCS := dnsd/dns_config.c dnsd/dns_view.c dnsd/dns_name.c \
	dnsd/dns_answer.c \
	dnsd/dns_wire.c dnsd/dns_wire_out.c dnsd/dns_cache.c dnsd/dns_query.c
DNSD_IO_SRCS := dnsd/dns_settings.c dnsd/dns_udp.c dnsd/dns_tcp.c \
	dnsd/dns_recursor.c dnsd/dns_ratelimit.c dnsd/dns_feed.c
PROGRAMS += dnsd
BINARIES += dnsd
dnsd_SRCS := dnsd/dnsd.c $(DNSD_IO_SRCS) $(DNSD_CORE_SRCS) $(COMMON_SRCS) \
	$(PROTO_SRCS)
dnsd_LIBS := $(LIB_LDNS) $(LIB_JANSSON) $(LIB_NNG) $(LIB_MSGPACK)
