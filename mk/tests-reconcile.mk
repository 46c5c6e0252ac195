# The leader's reconcile of gossip members into the catalog
# (raftd/reconcile.c); raftd's source list is in mk/raftd.mk.
UNIT_TESTS += unit_reconcile
unit_reconcile_SRCS := tests/unit/test_reconcile.c $(RAFTD_NODE_SRCS) \
	common/log.c common/err.c common/loop.c common/ipc.c common/nodeid.c \
	$(PROTO_SRCS)
unit_reconcile_LIBS := $(LIB_CMOCKA) $(LIB_ROCKSDB) $(LIB_NNG) $(LIB_MSGPACK)
