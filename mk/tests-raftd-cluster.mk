# three raftd nodes in one process over the real TCP transport
# (raftd/consensus.c, transport.c, forward.c, discovery.c)
UNIT_TESTS += unit_raftd_cluster
unit_raftd_cluster_SRCS := tests/unit/test_raftd_cluster.c \
	tests/unit/raftd_harness.c \
	$(RAFTD_NODE_SRCS) common/log.c common/err.c common/loop.c \
	common/ipc.c common/nodeid.c $(PROTO_SRCS)
unit_raftd_cluster_LIBS := $(LIB_CMOCKA) $(LIB_ROCKSDB) $(LIB_NNG) \
	$(LIB_MSGPACK)
