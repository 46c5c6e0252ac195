# gossipd: source list and program definition (see Makefile for $(call program)).
# PROGRAMS += gossipd
# BINARIES += gossipd
# gossipd_SRCS := gossipd/gossipd.c $(COMMON_SRCS) $(PROTO_SRCS)
# gossipd_LIBS := ...
