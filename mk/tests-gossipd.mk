# gossipd: the SWIM wire codec and gossipd's IPC messages.
UNIT_TESTS += unit_swim_wire
unit_swim_wire_SRCS := tests/unit/test_swim_wire.c \
	$(GOSSIPD_LIB_SRCS) $(PROTO_SRCS) common/err.c
unit_swim_wire_LIBS := $(LIB_CMOCKA) $(LIB_MSGPACK)
# httpd's gossipd client and the members/join/leave/force-leave/event API
httpd_SRCS += httpd/rpc_gossipd.c httpd/api_members.c httpd/api_event.c
UNIT_TESTS += unit_member_proto
unit_member_proto_SRCS := tests/unit/test_member_proto.c $(PROTO_SRCS) \
	common/err.c
unit_member_proto_LIBS := $(LIB_CMOCKA) $(LIB_MSGPACK)
