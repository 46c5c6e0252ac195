/*
 * transport.h — raftd's server-to-server link (DESIGN.md §4): opaque
 * encoded messages (proto/msg_raft.h) over TCP on ports.server, in
 * cairn's own length-prefixed frames driven by the caller's loop (no
 * threads; transport.c says why it is not nng).
 *
 * One listener on <bind_addr>:<port> receives from every peer; one
 * connection per peer is dialed on first use and re-dialed with back-off.
 * Sending never blocks the loop: messages queue in a bounded per-peer
 * buffer written at the end of the loop iteration; a message that finds
 * the peer down or the buffer full is dropped (ERR_AGAIN) — Raft
 * retransmits, and a forwarded request times out and fails. Received
 * messages reach the callback on the loop thread.
 */
#ifndef CAIRN_RAFTD_TRANSPORT_H
#define CAIRN_RAFTD_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct transport;

/* On the loop thread; data is borrowed for the duration of the call. */
typedef void (*transport_recv_cb)(void *arg, const uint8_t *data,
    size_t len);

/*
 * Listens on listen_addr ("ip:port", borrowed) and delivers every
 * received message to cb(arg) on l's thread. Returns 0 and an owned
 * transport (transport_close), or ERR_INVAL (bad address), ERR_EXISTS
 * (address in use), ERR_IO or ERR_NOMEM.
 */
int transport_open(struct loop *l, const char *listen_addr,
    transport_recv_cb cb, void *arg, struct transport **out);
/* Stops receiving, closes every socket, frees t. NULL is a no-op. */
void transport_close(struct transport *t);

/*
 * Queues a copy of data for peer id at addr ("ip:port", borrowed; a
 * link is dialed on first use and re-dialed when the address changes).
 * Returns 0, ERR_AGAIN (not connected or backpressure: dropped),
 * ERR_INVAL or ERR_NOMEM. Never blocks.
 */
int transport_send(struct transport *t, uint64_t id, const char *addr,
    const uint8_t *data, size_t len);
/*
 * Writes what is queued for every peer now instead of at the end of the
 * loop iteration: a caller that sent a burst (one Raft update's messages)
 * and has more work before the iteration ends calls it. Never blocks.
 */
void transport_flush(struct transport *t);
/*
 * Writes what is queued at the end of this loop iteration, after the
 * end-of-iteration work queued so far (such as answers to clients).
 */
void transport_flush_later(struct transport *t);
/* Closes the link to peer id, if any (it left the configuration). */
void transport_forget(struct transport *t, uint64_t id);

#endif
