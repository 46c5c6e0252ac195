# a client agent's raftd and two single servers in one process over the
# real TCP transport (raftd/client.c)
UNIT_TESTS += unit_raftd_client
unit_raftd_client_SRCS := tests/unit/test_raftd_client.c \
	tests/unit/raftd_harness.c \
	$(RAFTD_NODE_SRCS) common/log.c common/err.c common/loop.c \
	common/ipc.c common/nodeid.c $(PROTO_SRCS)
unit_raftd_client_LIBS := $(LIB_CMOCKA) $(LIB_ROCKSDB) $(LIB_NNG) \
	$(LIB_MSGPACK)
