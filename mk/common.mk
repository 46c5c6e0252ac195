# common/: code two or more daemons use, knowing nothing of any one of them.
COMMON_SRCS := common/log.c common/err.c
COMMON_SRCS += common/loop.c common/ipc.c common/daemon.c
COMMON_SRCS += common/config.c
COMMON_SRCS += common/nodeid.c
COMMON_SRCS += common/reload.c
