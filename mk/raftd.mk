# raftd: source list and program definition (see Makefile for $(call program)).
PROGRAMS += raftd
BINARIES += raftd
raftd_SRCS := raftd/raftd.c raftd/dispatch.c raftd/pipeline.c raftd/kv.c \
	raftd/watch.c raftd/writer.c raftd/store.c $(COMMON_SRCS) $(PROTO_SRCS)
raftd_LIBS := $(LIB_ROCKSDB) $(LIB_NNG) $(LIB_MSGPACK) $(LIB_JANSSON) \
	$(LIB_SYSTEMD)
