# httpd: the HTTP API (libmicrohttpd in epoll mode on the loop; see
# httpd/server.c). Pure parts (json, query, router, req) are unit-tested.
HTTPD_PURE_SRCS := httpd/json.c httpd/query.c httpd/router.c httpd/req.c \
	httpd/connlimit.c
PROGRAMS += httpd
BINARIES += httpd
httpd_SRCS := httpd/httpd.c httpd/server.c httpd/rpc.c httpd/routes.c \
	httpd/api.c httpd/api_kv.c httpd/api_status.c httpd/api_agent.c \
	$(HTTPD_PURE_SRCS) $(COMMON_SRCS) $(PROTO_SRCS)
httpd_LIBS := $(LIB_MHD) $(LIB_NNG) $(LIB_MSGPACK) $(LIB_JANSSON) \
	$(LIB_SYSTEMD)
