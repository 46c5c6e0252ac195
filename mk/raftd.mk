# raftd: source list and program definition (see Makefile for $(call program)).
# RocksDB is linked statically into raftd: only the code raftd uses is
# mapped, so raftd idles near 12 MB RSS instead of 15 MB with
# librocksdb.so (whose pages count in full). The unit tests link it
# dynamically, as $(LIB_ROCKSDB) says.
RAFTD_LIB_ROCKSDB := -Wl,-Bstatic -lrocksdb -Wl,-Bdynamic -lsnappy -llz4 \
	-lzstd -lbz2 -lz -lstdc++
PROGRAMS += raftd
BINARIES += raftd
RAFTD_NODE_SRCS := raftd/node.c raftd/dispatch.c raftd/pipeline.c \
	raftd/reap.c raftd/kv.c raftd/watch.c raftd/writer.c raftd/store.c
raftd_SRCS := raftd/raftd.c $(RAFTD_NODE_SRCS) $(COMMON_SRCS) $(PROTO_SRCS)
raftd_LIBS := $(RAFTD_LIB_ROCKSDB) $(LIB_NNG) $(LIB_MSGPACK) $(LIB_JANSSON) \
	$(LIB_SYSTEMD)
