# checkd: the agent's local services and health checks (see checkd/checkd.h).
# CHECKD_PURE_SRCS have no loop, socket or process: unit-tested directly.
CHECKD_PURE_SRCS := checkd/sched.c checkd/idx.c
PROGRAMS += checkd
BINARIES += checkd
checkd_SRCS := checkd/checkd.c checkd/api.c checkd/defn.c checkd/render.c \
	checkd/local.c checkd/store.c checkd/run.c checkd/sync.c \
	checkd/check_http.c checkd/check_tcp.c checkd/check_udp.c \
	checkd/check_addr.c checkd/check_script.c checkd/check_ttl.c \
	checkd/check_alias.c $(CHECKD_PURE_SRCS) $(COMMON_SRCS) $(PROTO_SRCS)
checkd_LIBS := $(LIB_CURL) $(LIB_JANSSON) $(LIB_NNG) $(LIB_MSGPACK)
