# The catalog and health tables (raftd/catalog.c) and their HTTP API
# (httpd/api_catalog.c, httpd/api_health.c). The daemons' source lists
# live in mk/raftd.mk and mk/httpd.mk; the lines below append this
# area's files to them (programs are defined after every fragment).
RAFTD_CATALOG_SRCS := raftd/catalog.c raftd/catalog_self.c
raftd_SRCS += $(RAFTD_CATALOG_SRCS)
# unit_raftd (mk/tests-raftd.mk, included after this file: wildcard
# sorts) links $(RAFTD_NODE_SRCS); raftd_SRCS was expanded already.
RAFTD_NODE_SRCS += $(RAFTD_CATALOG_SRCS) common/nodeid.c
httpd_SRCS += httpd/api_catalog.c httpd/api_catalog_write.c \
	httpd/api_health.c
# the state machine against a real store, and the codec of its messages
UNIT_TESTS += unit_catalog
unit_catalog_SRCS := tests/unit/test_catalog.c raftd/catalog.c raftd/kv.c \
	raftd/store.c common/log.c common/err.c $(PROTO_SRCS)
unit_catalog_LIBS := $(LIB_CMOCKA) $(LIB_ROCKSDB) $(LIB_MSGPACK)
# the catalog and health endpoints with rpc.c replaced by a fake
UNIT_TESTS += unit_http_catalog
unit_http_catalog_SRCS := tests/unit/test_http_catalog.c \
	httpd/api_catalog.c httpd/api_catalog_write.c httpd/api_health.c \
	httpd/api.c $(HTTPD_PURE_SRCS) common/err.c common/log.c $(PROTO_SRCS)
unit_http_catalog_LIBS := $(LIB_CMOCKA) $(LIB_MSGPACK) $(LIB_JANSSON)
