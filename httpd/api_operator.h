/*
 * api_operator.h — /v1/operator/raft/configuration (GET) and
 * /v1/operator/raft/peer (DELETE), /v1/operator/raft/transfer-leader
 * (POST) and the Raft part of /v1/agent/leave, answered by raftd (raftd/operator.c)
 * with MSG_OPERATOR_RAFT_* (proto/msg_raft.h).
 */
#ifndef CAIRN_HTTPD_API_OPERATOR_H
#define CAIRN_HTTPD_API_OPERATOR_H

struct httpd;
struct req;

void api_operator_raft_configuration(struct httpd *h, struct req *r);
void api_operator_raft_peer(struct httpd *h, struct req *r);
/* POST /v1/operator/raft/transfer-leader[?id=]: {"Success":true}. */
void api_operator_raft_transfer_leader(struct httpd *h, struct req *r);
/* A server's graceful leave of the Raft configuration (before gossip):
 * calls done(r) afterwards, also when raftd could not do it (logged). */
void api_operator_raft_leave(struct httpd *h, struct req *r,
    void (*done)(struct req *r, const void *body));

#endif
