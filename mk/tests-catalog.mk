# The catalog and health tables (raftd/catalog.c) and their HTTP API
# (httpd/api_catalog.c, httpd/api_health.c); the daemons' source lists
# are in mk/raftd.mk and mk/httpd.mk.
# the state machine against a real store, and the codec of its messages
UNIT_TESTS += unit_catalog
unit_catalog_SRCS := tests/unit/test_catalog.c $(RAFTD_CATALOG_SRCS) \
	$(RAFTD_KV_SRCS) \
	raftd/store.c raftd/raftlog.c common/log.c common/err.c $(PROTO_SRCS)
unit_catalog_LIBS := $(LIB_CMOCKA) $(LIB_ROCKSDB) $(LIB_MSGPACK)
# the catalog and health endpoints with rpc.c replaced by a fake
UNIT_TESTS += unit_http_catalog
unit_http_catalog_SRCS := tests/unit/test_http_catalog.c \
	httpd/api_catalog.c httpd/api_catalog_write.c httpd/api_health.c \
	httpd/api.c $(HTTPD_PURE_SRCS) $(HTTPD_FILTER_SRCS) common/err.c \
	common/log.c $(PROTO_SRCS)
unit_http_catalog_LIBS := $(LIB_CMOCKA) $(LIB_MSGPACK) $(LIB_JANSSON)
