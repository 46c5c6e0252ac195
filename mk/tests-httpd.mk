# httpd unit tests (cmocka): JSON writer, query/duration/key parsing, router.
UNIT_TESTS += unit_http_json unit_http_query unit_http_router
unit_http_json_SRCS := tests/unit/test_http_json.c httpd/json.c common/err.c
unit_http_json_LIBS := $(LIB_CMOCKA)
unit_http_query_SRCS := tests/unit/test_http_query.c httpd/query.c \
	common/err.c
unit_http_query_LIBS := $(LIB_CMOCKA)
unit_http_router_SRCS := tests/unit/test_http_router.c httpd/router.c \
	common/err.c
unit_http_router_LIBS := $(LIB_CMOCKA)
# The KV endpoint with rpc.c replaced by a fake in the test.
UNIT_TESTS += unit_http_kv
unit_http_kv_SRCS := tests/unit/test_http_kv.c httpd/api_kv.c httpd/api.c \
	$(HTTPD_PURE_SRCS) common/err.c common/log.c $(PROTO_SRCS)
unit_http_kv_LIBS := $(LIB_CMOCKA) $(LIB_MSGPACK)
UNIT_TESTS += unit_http_connlimit
unit_http_connlimit_SRCS := tests/unit/test_http_connlimit.c \
	httpd/connlimit.c common/err.c
unit_http_connlimit_LIBS := $(LIB_CMOCKA)
# status and agent endpoints, rpc.c replaced by a fake in the test.
UNIT_TESTS += unit_http_agent
unit_http_agent_SRCS := tests/unit/test_http_agent.c httpd/api_agent.c \
	httpd/api_status.c httpd/api.c $(HTTPD_PURE_SRCS) common/err.c \
	common/log.c $(PROTO_SRCS)
unit_http_agent_LIBS := $(LIB_CMOCKA) $(LIB_MSGPACK)
# answers shared by watchers woken with the same raftd reply (share.c)
UNIT_TESTS += unit_http_share
unit_http_share_SRCS := tests/unit/test_http_share.c $(HTTPD_PURE_SRCS) \
	common/err.c common/log.c
unit_http_share_LIBS := $(LIB_CMOCKA)
