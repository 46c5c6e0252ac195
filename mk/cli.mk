# cli: the `cairn` command (see Makefile for $(call program)).
PROGRAMS += cairn
BINARIES += cairn
cairn_SRCS := cli/cairn.c cli/cmd_agent.c cli/cmd_kv.c cli/cmd_version.c \
	cli/flags.c cli/http.c cli/base64.c common/log.c common/err.c \
	common/config.c
# `cairn systemd`: cli/cmd_systemd.c and the generator (mk/systemd.mk)
cairn_SRCS += $(CMD_SYSTEMD_SRCS)
cairn_LIBS := $(LIB_CURL) $(LIB_JANSSON)

# `cairn version` names the source revision it was built from.
CAIRN_GIT_REVISION := $(shell git rev-parse --short=8 HEAD 2>/dev/null || echo unknown)
build/obj/cli/cmd_version.o build/asan-obj/cli/cmd_version.o: \
	CPPFLAGS += -DCAIRN_GIT_REVISION='"$(CAIRN_GIT_REVISION)"'
cairn_SRCS += cli/cmd_services.c cli/cmd_maint.c
cairn_SRCS += cli/cmd_members.c cli/cmd_join.c cli/cmd_leave.c cli/cmd_event.c
cairn_SRCS += cli/cmd_lock.c
cairn_SRCS += cli/cmd_operator.c cli/cmd_info.c
cairn_SRCS += cli/cmd_catalog.c
cairn_SRCS += cli/table.c
