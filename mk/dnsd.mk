# dnsd: source list and program definition (see Makefile for $(call program)).
# The answering core (pure: config + view + query bytes -> response bytes)
# is used by unit_dns, the fuzzer and the bench; the daemon's main, I/O and
# catalog feed come later.
DNSD_CORE_SRCS := dnsd/dns_config.c dnsd/dns_view.c dnsd/dns_name.c \
	dnsd/dns_answer.c \
	dnsd/dns_wire.c dnsd/dns_query.c
# PROGRAMS += dnsd
# BINARIES += dnsd
# dnsd_SRCS := dnsd/dnsd.c $(DNSD_CORE_SRCS) $(COMMON_SRCS) $(PROTO_SRCS)
# dnsd_LIBS := $(LIB_LDNS) $(LIB_NNG) $(LIB_MSGPACK) $(LIB_SYSTEMD)
