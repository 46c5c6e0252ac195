/*
 * ipc.h — request/reply and pub/sub between the roles of one node, over
 * unix sockets named ipc://<path> in the node's runtime directory
 * (DESIGN.md §3). Request/reply is cairn's own framing on a stream socket
 * run by the loop (no threads); pub/sub is nng PUB/SUB.
 *
 * Transport only: payloads are opaque bytes (proto/ encodes them). Many
 * requests are in flight at once on one connection (the ipc layer adds
 * and matches its own request ids). Every callback runs on the loop
 * thread; nng's threads (pub/sub) only post to the loop.
 *
 * Server: a request (struct ipc_req) may be held across loop iterations —
 * a blocking query is answered minutes later — and is finished exactly once
 * by ipc_reply() or ipc_req_drop(). If the requester went away meanwhile
 * the reply is discarded silently.
 *
 * Client: ipc_call() never blocks and never hangs: each call has a
 * deadline. While the server is unreachable a call waits for a connection
 * up to the client's connect_wait_ms (default 1000) and then fails with
 * ERR_UNAVAILABLE. A call in flight when the connection drops is re-sent,
 * byte for byte, once a connection is back within connect_wait_ms, else it
 * fails with ERR_UNAVAILABLE. Re-sending is safe because every write
 * message carries a client id and sequence number that the server
 * deduplicates (DESIGN.md §3).
 *
 * Socket files are created mode 0600.
 */
#ifndef CAIRN_IPC_H
#define CAIRN_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct ipc_server;
struct ipc_req;
struct ipc_client;
struct ipc_pub;
struct ipc_sub;

/*
 * Writes "ipc://<runtime_dir>/<name>" into buf. Returns 0, or ERR_TOOBIG
 * when the path does not fit a unix socket address.
 */
int ipc_url(char *buf, size_t size, const char *runtime_dir,
    const char *name);

/* ---- server ---- */

/*
 * Called on the loop thread for each request. data/len are borrowed and
 * valid until the request is finished (ipc_reply or ipc_req_drop).
 */
typedef void (*ipc_request_cb)(struct ipc_server *srv, struct ipc_req *req,
    const uint8_t *data, size_t len, void *arg);

/* Listens on url (creating the socket file 0600, replacing a stale one). */
int ipc_server_open(struct loop *l, const char *url, ipc_request_cb cb,
    void *arg, struct ipc_server **out);
/* Closes the listener; held requests are dropped. NULL is a no-op. */
void ipc_server_close(struct ipc_server *srv);
/* Answers req with a copy of data and frees req. Returns 0 or ERR_*. */
int ipc_reply(struct ipc_req *req, const uint8_t *data, size_t len);
/* Frees req without answering. */
void ipc_req_drop(struct ipc_req *req);
/* An opaque per-connection id of the requester (stable while connected). */
uint64_t ipc_req_peer(const struct ipc_req *req);

/* ---- client ---- */

/*
 * Result of a call, on the loop thread. err is 0 and data/len the reply
 * (borrowed for the duration of the callback), or err is ERR_TIMEOUT,
 * ERR_UNAVAILABLE or ERR_CANCELED (then data is NULL).
 */
typedef void (*ipc_reply_cb)(void *arg, int err, const uint8_t *data,
    size_t len);

/* Dials url with automatic reconnect. */
int ipc_client_open(struct loop *l, const char *url, struct ipc_client **out);
/* Closes the client; outstanding calls complete with ERR_CANCELED. */
void ipc_client_close(struct ipc_client *c);
void ipc_client_set_connect_wait(struct ipc_client *c, uint32_t ms);
bool ipc_client_connected(const struct ipc_client *c);
/*
 * Sends a copy of data; cb(arg, ...) is called exactly once, after at most
 * timeout_ms. *call_id (may be NULL) receives an id for ipc_cancel().
 */
int ipc_call(struct ipc_client *c, const uint8_t *data, size_t len,
    uint32_t timeout_ms, ipc_reply_cb cb, void *arg, uint64_t *call_id);
/* Completes the call with ERR_CANCELED (synchronously) if still pending. */
void ipc_cancel(struct ipc_client *c, uint64_t call_id);

/* ---- pub/sub (hints only: subscribers may miss messages) ---- */

int ipc_pub_open(struct loop *l, const char *url, struct ipc_pub **out);
void ipc_pub_close(struct ipc_pub *p);
/* Publishes a copy of data to every subscriber; never blocks. */
int ipc_publish(struct ipc_pub *p, const uint8_t *data, size_t len);

/* data is borrowed for the duration of the callback. */
typedef void (*ipc_event_cb)(void *arg, const uint8_t *data, size_t len);
int ipc_sub_open(struct loop *l, const char *url, ipc_event_cb cb, void *arg,
    struct ipc_sub **out);
void ipc_sub_close(struct ipc_sub *s);

#endif
