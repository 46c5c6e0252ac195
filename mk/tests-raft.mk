# Raft core: the deterministic cluster simulation (tests/sim/raft_sim.c).
# RAFT_CORE_SRCS is defined in mk/raftd.mk (raftd links the core).
SIM_TESTS += sim_raft
sim_raft_SRCS := tests/sim/raft_sim.c tests/sim/raft_cluster.c \
	tests/sim/raft_check.c $(RAFT_CORE_SRCS) \
	common/err.c
sim_raft_LIBS :=
UNIT_TESTS += unit_raft
unit_raft_SRCS := tests/unit/test_raft.c $(RAFT_CORE_SRCS) common/err.c
unit_raft_LIBS := $(LIB_CMOCKA)
# the server-to-server message codec (proto/msg_raft.c)
UNIT_TESTS += unit_raft_proto
unit_raft_proto_SRCS := tests/unit/test_raft_proto.c $(PROTO_SRCS) \
	common/err.c
unit_raft_proto_LIBS := $(LIB_CMOCKA) $(LIB_MSGPACK)
