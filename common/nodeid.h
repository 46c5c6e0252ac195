/*
 * nodeid.h — the node's ID: a random UUID persisted in <data_dir>/node-id
 * (spec §4 "Node ID"), unless node_id is configured. Every role may call
 * node_id_ensure() at start; the first to run creates the file atomically
 * (write a temporary file, then link(2) it into place, which fails if
 * another role won the race), the others read it.
 */
#ifndef CAIRN_NODEID_H
#define CAIRN_NODEID_H

#include <stddef.h>

#define NODE_ID_LEN 36 /* 8-4-4-4-12 hex, without the NUL */

/*
 * Fills out (at least NODE_ID_LEN + 1 bytes) with the configured id (if
 * configured is non-empty) or the persisted one, creating it when absent.
 * data_dir and configured are borrowed. Returns 0, ERR_INVAL (out too
 * small, or a node-id file that does not hold a UUID), or ERR_IO.
 */
int node_id_ensure(const char *data_dir, const char *configured, char *out,
    size_t outlen);

/* Writes a random 8-4-4-4-12 id (not RFC 4122 versioned, as Consul's). */
int node_id_generate(char *out, size_t outlen);

#endif
