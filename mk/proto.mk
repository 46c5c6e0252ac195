# proto/: message registry and msgpack codecs (the only user of msgpack-c).
PROTO_SRCS :=
