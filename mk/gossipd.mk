# gossipd: the SWIM core (gossipd/swim*.c, also listed as SWIM_SRCS in
# mk/tests-swim.mk for the simulation), the wire codec and the daemon.
GOSSIP_CORE_SRCS := gossipd/swim.c gossipd/swim_member.c \
	gossipd/swim_suspect.c gossipd/swim_probe.c gossipd/swim_bcast.c \
	gossipd/swim_pushpull.c gossipd/swim_event.c gossipd/swim_msg.c
GOSSIPD_LIB_SRCS := $(GOSSIP_CORE_SRCS) gossipd/wire.c
