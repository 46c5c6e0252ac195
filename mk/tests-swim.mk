# SWIM core (gossipd/swim*.c) and its deterministic cluster simulation.
SWIM_SRCS := gossipd/swim.c gossipd/swim_member.c gossipd/swim_suspect.c \
	gossipd/swim_probe.c gossipd/swim_bcast.c gossipd/swim_pushpull.c \
	gossipd/swim_event.c gossipd/swim_msg.c
SIM_TESTS += sim_swim
sim_swim_SRCS := tests/sim/swim_sim.c tests/sim/swim_cases.c $(SWIM_SRCS) common/err.c
sim_swim_LIBS :=
