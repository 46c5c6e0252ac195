# gossipd: the SWIM wire codec and gossipd's IPC messages.
UNIT_TESTS += unit_swim_wire
unit_swim_wire_SRCS := tests/unit/test_swim_wire.c \
	$(GOSSIPD_LIB_SRCS) $(PROTO_SRCS) common/err.c
unit_swim_wire_LIBS := $(LIB_CMOCKA) $(LIB_MSGPACK)
UNIT_TESTS += unit_member_proto
unit_member_proto_SRCS := tests/unit/test_member_proto.c $(PROTO_SRCS) \
	common/err.c
unit_member_proto_LIBS := $(LIB_CMOCKA) $(LIB_MSGPACK)
