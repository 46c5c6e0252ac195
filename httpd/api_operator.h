/*
 * api_operator.h — /v1/operator/raft/configuration (GET) and
 * /v1/operator/raft/peer (DELETE), answered by raftd (raftd/operator.c)
 * with MSG_OPERATOR_RAFT_* (proto/msg_raft.h).
 */
#ifndef CAIRN_HTTPD_API_OPERATOR_H
#define CAIRN_HTTPD_API_OPERATOR_H

struct httpd;
struct req;

void api_operator_raft_configuration(struct httpd *h, struct req *r);
void api_operator_raft_peer(struct httpd *h, struct req *r);

#endif
