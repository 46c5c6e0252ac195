# proto/: message registry and msgpack codecs (the only user of msgpack-c).
PROTO_SRCS := proto/proto.c proto/codec.c proto/msg_common.c proto/msg_kv.c \
	proto/msg_status.c
PROTO_SRCS += proto/msg_catalog.c
PROTO_SRCS += proto/msg_agent.c
PROTO_SRCS += proto/msg_raft.c
PROTO_SRCS += proto/msg_operator.c
PROTO_SRCS += proto/msg_session.c
PROTO_SRCS += proto/msg_swim.c proto/msg_member.c
