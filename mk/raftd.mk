# raftd: source list and program definition (see Makefile for $(call program)).
# PROGRAMS += raftd
# BINARIES += raftd
# raftd_SRCS := raftd/raftd.c $(COMMON_SRCS) $(PROTO_SRCS)
# raftd_LIBS := ...
