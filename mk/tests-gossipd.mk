# gossipd: the SWIM wire codec and gossipd's IPC messages.
UNIT_TESTS += unit_swim_wire
unit_swim_wire_SRCS := tests/unit/test_swim_wire.c \
	$(GOSSIPD_LIB_SRCS) $(PROTO_SRCS) common/err.c
unit_swim_wire_LIBS := $(LIB_CMOCKA) $(LIB_MSGPACK)
