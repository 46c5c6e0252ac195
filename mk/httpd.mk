# httpd: the HTTP API (libmicrohttpd in epoll mode on the loop; see
# httpd/server.c). Pure parts (json, query, router, req) are unit-tested.
HTTPD_PURE_SRCS := httpd/json.c httpd/query.c httpd/router.c httpd/req.c \
	httpd/connlimit.c httpd/share.c
PROGRAMS += httpd
BINARIES += httpd
# clients of the other roles
HTTPD_RPC_SRCS := httpd/rpc.c httpd/rpc_role.c httpd/rpc_checkd.c \
	httpd/rpc_gossipd.c
# one file per API area
HTTPD_API_SRCS := httpd/api.c httpd/api_kv.c httpd/api_status.c \
	httpd/api_agent.c httpd/api_agent_services.c httpd/api_catalog.c \
	httpd/api_catalog_write.c httpd/api_health.c httpd/api_session.c \
	httpd/api_session_body.c httpd/api_txn.c httpd/api_txn_body.c \
	httpd/api_members.c httpd/api_event.c httpd/api_operator.c
# ?filter= (jansson-based; kept out of HTTPD_PURE_SRCS, which unit tests
# link without jansson); unit-tested in mk/tests-filter.mk
HTTPD_FILTER_SRCS := httpd/filter.c httpd/filter_check.c \
	httpd/filter_eval.c httpd/filter_json.c httpd/filter_schema.c \
	httpd/api_filter.c
httpd_SRCS := httpd/httpd.c httpd/server.c httpd/routes.c \
	$(HTTPD_RPC_SRCS) $(HTTPD_API_SRCS) $(HTTPD_PURE_SRCS) \
	$(HTTPD_FILTER_SRCS) \
	$(COMMON_SRCS) $(PROTO_SRCS)
httpd_LIBS := $(LIB_MHD) $(LIB_NNG) $(LIB_MSGPACK) $(LIB_JANSSON)
