# Sessions, KV locks and /v1/txn (raftd/session.c, raftd/txn.c,
# httpd/api_session.c, httpd/api_txn.c). Programs are defined after every
# fragment, so the daemons' lists are appended here; unit_raftd and
# unit_raftd_cluster expanded RAFTD_NODE_SRCS already (their fragments
# sort first), so they get the files directly.
RAFTD_SESSION_SRCS := raftd/session.c raftd/txn.c
raftd_SRCS += $(RAFTD_SESSION_SRCS)
RAFTD_NODE_SRCS += $(RAFTD_SESSION_SRCS)
unit_raftd_SRCS += $(RAFTD_SESSION_SRCS)
unit_raftd_cluster_SRCS += $(RAFTD_SESSION_SRCS)
httpd_SRCS += httpd/api_session.c httpd/api_session_body.c \
	httpd/api_txn.c httpd/api_txn_body.c
# the session/lock state machine against a real store, fake clock
UNIT_TESTS += unit_session
unit_session_SRCS := tests/unit/test_session.c $(RAFTD_NODE_SRCS) \
	common/log.c common/err.c common/loop.c common/ipc.c $(PROTO_SRCS)
unit_session_LIBS := $(LIB_CMOCKA) $(LIB_ROCKSDB) $(LIB_NNG) $(LIB_MSGPACK)
# /v1/txn's state machine: atomicity, results, read-only
UNIT_TESTS += unit_txn
unit_txn_SRCS := tests/unit/test_txn.c $(RAFTD_NODE_SRCS) \
	common/log.c common/err.c common/loop.c common/ipc.c $(PROTO_SRCS)
unit_txn_LIBS := $(LIB_CMOCKA) $(LIB_ROCKSDB) $(LIB_NNG) $(LIB_MSGPACK)
