# raftd/transport.c over real TCP on 127.0.0.1 (frames, garbage, reconnect,
# the bounded queue)
UNIT_TESTS += unit_transport
unit_transport_SRCS := tests/unit/test_transport.c raftd/transport.c \
	common/loop.c common/log.c common/err.c
unit_transport_LIBS := $(LIB_CMOCKA)
