# checkd tests (httpd's side of the agent service/check API,
# httpd/api_agent_services.c and httpd/rpc_checkd.c, is in mk/httpd.mk).

UNIT_TESTS += unit_check_sched
unit_check_sched_SRCS := tests/unit/test_check_sched.c checkd/sched.c
unit_check_sched_LIBS := $(LIB_CMOCKA)

UNIT_TESTS += unit_check_idx
unit_check_idx_SRCS := tests/unit/test_check_idx.c checkd/idx.c
unit_check_idx_LIBS := $(LIB_CMOCKA)

UNIT_TESTS += unit_check_defn
unit_check_defn_SRCS := tests/unit/test_check_defn.c checkd/defn.c \
	checkd/render.c $(COMMON_SRCS) $(PROTO_SRCS)
unit_check_defn_LIBS := $(LIB_CMOCKA) $(LIB_JANSSON) $(LIB_NNG) \
	$(LIB_MSGPACK)

UNIT_TESTS += unit_check_proto
unit_check_proto_SRCS := tests/unit/test_check_proto.c $(PROTO_SRCS) \
	common/err.c common/log.c
unit_check_proto_LIBS := $(LIB_CMOCKA) $(LIB_MSGPACK)
