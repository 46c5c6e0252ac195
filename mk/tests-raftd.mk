# raftd unit tests: the KV state machine and the RocksDB store, against a
# real store in a mkdtemp directory.
UNIT_TESTS += unit_kv unit_store
unit_kv_SRCS := tests/unit/test_kv.c $(RAFTD_KV_SRCS) raftd/store.c raftd/raftlog.c \
	common/log.c common/err.c
unit_kv_LIBS := $(LIB_CMOCKA) $(LIB_ROCKSDB)
unit_store_SRCS := tests/unit/test_store.c raftd/store.c raftd/raftlog.c raftd/writer.c \
	common/log.c common/err.c
unit_store_LIBS := $(LIB_CMOCKA) $(LIB_ROCKSDB)
UNIT_TESTS += unit_watch
unit_watch_SRCS := tests/unit/test_watch.c raftd/watch.c common/loop.c \
	common/log.c common/err.c
unit_watch_LIBS := $(LIB_CMOCKA)
# one raftd node in-process behind its IPC server (raftd/node.c)
UNIT_TESTS += unit_raftd
unit_raftd_SRCS := tests/unit/test_raftd.c $(RAFTD_NODE_SRCS) \
	common/log.c common/err.c common/loop.c common/ipc.c common/nodeid.c \
	$(PROTO_SRCS)
unit_raftd_LIBS := $(LIB_CMOCKA) $(LIB_ROCKSDB) $(LIB_NNG) $(LIB_MSGPACK)
# the Raft log's segment files (raftd/raftlog.c): format, truncation,
# compaction, torn tails and damage, concurrent append/read/compact
# (store.c for store_entry_fini)
UNIT_TESTS += unit_raftlog
unit_raftlog_SRCS := tests/unit/test_raftlog.c raftd/raftlog.c \
	raftd/store.c common/log.c common/err.c
unit_raftlog_LIBS := $(LIB_CMOCKA) $(LIB_ROCKSDB)
