/*
 * rpc_gossipd.h — httpd's calls to gossipd (gossipd.rpc): one
 * MSG_MEMBER_REQUEST per members/join/leave/force-leave/event request;
 * the MSG_MEMBER_RESULT goes to the handler's callback, an error result
 * becomes the HTTP error (500 with gossipd's text, as Consul answers a
 * failed join), and gossipd being down is 503 "rpc error: gossipd
 * unavailable" after HTTPD_ROLE_CONNECT_WAIT_MS (rpc_role.h).
 * Also declares the handlers of api_members.c and api_event.c.
 */
#ifndef CAIRN_HTTPD_RPC_GOSSIPD_H
#define CAIRN_HTTPD_RPC_GOSSIPD_H

#include <stdint.h>

struct httpd;
struct req;
struct msg_member_request;
struct msg_member_result;

typedef void (*rpc_gossipd_cb)(struct req *r,
    const struct msg_member_result *res);

/* Opens h->gossipd on <runtime_dir>/gossipd.rpc. 0 or ERR_*. */
int rpc_gossipd_open(struct httpd *h);
/* Closes h->gossipd; NULL-safe. */
void rpc_gossipd_close(struct httpd *h);
/* Sends rq (borrowed) for r; cb answers r on success (code 0), else r is
 * answered here. timeout_ms bounds the call. */
void rpc_gossipd(struct httpd *h, struct req *r,
    const struct msg_member_request *rq, uint32_t timeout_ms,
    rpc_gossipd_cb cb);

/* api_members.c */
void api_agent_members(struct httpd *h, struct req *r);
void api_agent_join(struct httpd *h, struct req *r);
void api_agent_leave(struct httpd *h, struct req *r);
void api_agent_force_leave(struct httpd *h, struct req *r);
/* api_event.c */
void api_event_fire(struct httpd *h, struct req *r);
void api_event_list(struct httpd *h, struct req *r);

#endif
