/*
 * wire.h — gossipd's SWIM message codec: struct swim_msg (gossipd/swim.h)
 * to and from the MSG_SWIM_* proto messages (proto/msg_swim.h).
 *
 * Key decision: the proto registry does the msgpack work; this file only
 * converts field by field and validates what proto cannot (name lengths,
 * 16-byte addresses). A datagram over the UDP budget is split by
 * wire_split(): the primary message with the updates that fit, then
 * MSG_SWIM_GOSSIP datagrams with the rest (memberlist's compound
 * messages serve the same purpose). Reference: memberlist net.go.
 */
#ifndef CAIRN_GOSSIPD_WIRE_H
#define CAIRN_GOSSIPD_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "swim.h"

/* Encodes m (borrowed) into out (initialised here; proto_buf_free).
 * Returns 0, ERR_INVAL (bad type or address) or ERR_NOMEM. */
int wire_encode(const struct swim_msg *m, struct proto_buf *out);

/* Decodes one message. On success *out's arrays live in a and its names
 * are copied; meta/payload pointers borrow from buf (both must outlive
 * out; out->blob is NULL, never call swim_msg_free on it). Returns 0 or
 * ERR_BADMSG (any malformed input, a non-SWIM type, a name over
 * SWIM_NAME_MAX, an address that is not 16 bytes) or ERR_NOMEM. */
int wire_decode(const uint8_t *buf, size_t len, struct proto_arena *a,
    struct swim_msg *out);

/* Encodes m as one or more datagrams each at most budget bytes when
 * possible (a single update larger than the budget goes alone). Calls
 * send(arg, data, len) for each; returns 0 or the first error. */
int wire_split(const struct swim_msg *m, size_t budget,
    int (*send)(void *arg, const uint8_t *data, size_t len), void *arg);

#endif
