# Sessions, KV locks and /v1/txn (raftd/session.c, raftd/txn.c,
# httpd/api_session.c, httpd/api_txn.c); the daemons' source lists are in
# mk/raftd.mk and mk/httpd.mk.
# the session/lock state machine against a real store, fake clock
UNIT_TESTS += unit_session
unit_session_SRCS := tests/unit/test_session.c $(RAFTD_NODE_SRCS) \
	common/log.c common/err.c common/loop.c common/ipc.c common/nodeid.c \
	$(PROTO_SRCS)
unit_session_LIBS := $(LIB_CMOCKA) $(LIB_ROCKSDB) $(LIB_NNG) $(LIB_MSGPACK)
# /v1/txn's state machine: atomicity, results, read-only
UNIT_TESTS += unit_txn
unit_txn_SRCS := tests/unit/test_txn.c $(RAFTD_NODE_SRCS) \
	common/log.c common/err.c common/loop.c common/ipc.c common/nodeid.c \
	$(PROTO_SRCS)
unit_txn_LIBS := $(LIB_CMOCKA) $(LIB_ROCKSDB) $(LIB_NNG) $(LIB_MSGPACK)
