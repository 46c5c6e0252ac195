# Unit tests of the spine: common/loop.c, common/ipc.c, proto/.
UNIT_TESTS += unit_ipc unit_loop unit_proto
unit_loop_SRCS := tests/unit/test_loop.c common/loop.c common/log.c \
	common/err.c
unit_loop_LIBS := $(LIB_CMOCKA)
unit_ipc_SRCS := tests/unit/test_ipc.c common/ipc.c common/loop.c \
	common/log.c common/err.c
unit_ipc_LIBS := $(LIB_CMOCKA) $(LIB_NNG)
unit_proto_SRCS := tests/unit/test_proto.c $(PROTO_SRCS) common/log.c \
	common/err.c
unit_proto_LIBS := $(LIB_CMOCKA) $(LIB_MSGPACK)
UNIT_TESTS += unit_daemon
unit_daemon_SRCS := tests/unit/test_daemon.c common/daemon.c common/loop.c \
	common/config.c common/log.c common/err.c
unit_daemon_LIBS := $(LIB_CMOCKA) $(LIB_JANSSON)
# IPC throughput benchmark (not run by `make check`): build/ipc_bench
PROGRAMS += ipc_bench
ipc_bench_SRCS := bench/ipc_bench.c common/ipc.c common/loop.c \
	common/log.c common/err.c
ipc_bench_LIBS := $(LIB_NNG)
