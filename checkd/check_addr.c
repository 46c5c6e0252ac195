/*
 * check_addr.c — "host:port" resolution for the socket checks (see
 * check_addr.h). Reference: Go net.SplitHostPort.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "check_addr.h"
#include "err.h"

int
check_addr_resolve(const char *hostport, int socktype,
    struct sockaddr_storage *ss, socklen_t *sslen)
{
	char host[256];
	const char *colon, *port;
	struct addrinfo hints, *res = NULL;
	size_t hl;

	if (hostport[0] == '[') {
		const char *end = strchr(hostport, ']');
		if (end == NULL || end[1] != ':')
			return ERR_INVAL;
		hl = (size_t)(end - hostport - 1);
		if (hl >= sizeof(host))
			return ERR_INVAL;
		memcpy(host, hostport + 1, hl);
		port = end + 2;
	} else {
		if ((colon = strrchr(hostport, ':')) == NULL)
			return ERR_INVAL;
		hl = (size_t)(colon - hostport);
		if (hl >= sizeof(host))
			return ERR_INVAL;
		memcpy(host, hostport, hl);
		port = colon + 1;
	}
	host[hl] = '\0';
	if (*port == '\0')
		return ERR_INVAL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = socktype;
	hints.ai_family = AF_UNSPEC;
	if (getaddrinfo(*host ? host : "127.0.0.1", port, &hints, &res) != 0 ||
	    res == NULL)
		return ERR_INVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

const char *
check_errstr(int err)
{
	static char buf[128];
	const char *s = strerror(err);

	/* Go spells errno texts in lower case ("connection refused") */
	snprintf(buf, sizeof(buf), "%s", s);
	if (buf[0] >= 'A' && buf[0] <= 'Z' && buf[1] >= 'a' && buf[1] <= 'z')
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}
