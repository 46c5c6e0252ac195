/*
 * check_addr.h — "host:port" resolution shared by the socket checks
 * (check_tcp.c, check_udp.c). Numeric addresses and names from
 * /etc/hosts resolve at once; getaddrinfo(3) may block on DNS for other
 * names (a known limit: checks usually name 127.0.0.1 or an IP).
 */
#ifndef CAIRN_CHECKD_CHECK_ADDR_H
#define CAIRN_CHECKD_CHECK_ADDR_H

#include <sys/socket.h>

/* Resolves "host:port" / "[v6]:port" (borrowed) into ss. 0 or ERR_INVAL. */
int check_addr_resolve(const char *hostport, int socktype,
    struct sockaddr_storage *ss, socklen_t *sslen);

/* strerror(err) as Go prints it (lower-case first letter); static. */
const char *check_errstr(int err);

#endif
