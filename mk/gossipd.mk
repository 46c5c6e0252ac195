# gossipd: the SWIM core (gossipd/swim*.c, also listed as SWIM_SRCS in
# mk/tests-swim.mk for the simulation), the wire codec and the daemon.
GOSSIP_CORE_SRCS := gossipd/swim.c gossipd/swim_member.c \
	gossipd/swim_suspect.c gossipd/swim_probe.c gossipd/swim_bcast.c \
	gossipd/swim_pushpull.c gossipd/swim_event.c gossipd/swim_msg.c
GOSSIPD_LIB_SRCS := $(GOSSIP_CORE_SRCS) gossipd/wire.c
PROGRAMS += gossipd
BINARIES += gossipd
gossipd_SRCS := gossipd/gossipd.c gossipd/pool.c gossipd/net.c \
	gossipd/tags.c gossipd/join.c gossipd/persist.c gossipd/events.c \
	gossipd/rpc.c $(GOSSIPD_LIB_SRCS) $(COMMON_SRCS) $(PROTO_SRCS)
# --as-needed: the core computes its logarithms itself, so gossipd does not
# load libm (BASE_LIBS' -lm), ~0.5 MB resident in every gossipd
gossipd_LIBS := -Wl,--as-needed $(LIB_NNG) $(LIB_MSGPACK) $(LIB_JANSSON) \
	-lpthread
