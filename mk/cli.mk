# cli: source list and program definition (see Makefile for $(call program)).
# PROGRAMS += cli
# BINARIES += cli
# cli_SRCS := cli/cli.c $(COMMON_SRCS) $(PROTO_SRCS)
# cli_LIBS := ...
