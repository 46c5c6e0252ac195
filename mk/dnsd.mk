# dnsd: source list and program definition (see Makefile for $(call program)).
# PROGRAMS += dnsd
# BINARIES += dnsd
# dnsd_SRCS := dnsd/dnsd.c $(COMMON_SRCS) $(PROTO_SRCS)
# dnsd_LIBS := ...
