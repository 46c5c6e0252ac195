# checkd: source list and program definition (see Makefile for $(call program)).
# PROGRAMS += checkd
# BINARIES += checkd
# checkd_SRCS := checkd/checkd.c $(COMMON_SRCS) $(PROTO_SRCS)
# checkd_LIBS := ...
