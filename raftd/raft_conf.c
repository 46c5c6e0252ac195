/*
 * raft_conf.c — Raft configurations (the server set) and their encoding.
 *
 * A configuration is the list {id, address, voter} carried by
 * RAFT_ENTRY_CONF entries and by snapshots (dissertation 4.1). The
 * encoding is compact and self-delimiting, big endian:
 *   u16 n, then n times: u64 id, u8 voter (0/1), u8 address length,
 *   address bytes (no NUL).
 * The decoder rejects truncation, trailing bytes, zero or duplicate ids,
 * empty addresses and voter values other than 0/1.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "raft.h"

void
raft_conf_init(struct raft_conf *c)
{
	c->servers = NULL;
	c->n = 0;
}

void
raft_conf_fini(struct raft_conf *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->servers[i].address);
	free(c->servers);
	raft_conf_init(c);
}

const struct raft_server *
raft_conf_find(const struct raft_conf *c, uint64_t id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->servers[i].id == id)
			return &c->servers[i];
	return NULL;
}

static int
conf_add_n(struct raft_conf *c, uint64_t id, const char *address,
    size_t alen, bool voter)
{
	struct raft_server *s;
	char *copy;

	if (id == 0 || alen == 0 || alen > RAFT_ADDRESS_MAX)
		return ERR_INVAL;
	if (memchr(address, '\0', alen) != NULL)
		return ERR_INVAL;
	if (raft_conf_find(c, id) != NULL)
		return ERR_EXISTS;
	if (c->n >= RAFT_SERVERS_MAX)
		return ERR_TOOBIG;
	s = realloc(c->servers, (c->n + 1) * sizeof(*s));
	if (s == NULL)
		return ERR_NOMEM;
	c->servers = s;
	if ((copy = malloc(alen + 1)) == NULL)
		return ERR_NOMEM;
	memcpy(copy, address, alen);
	copy[alen] = '\0';
	s[c->n].id = id;
	s[c->n].address = copy;
	s[c->n].voter = voter;
	c->n++;
	return 0;
}

int
raft_conf_add(struct raft_conf *c, uint64_t id, const char *address,
    bool voter)
{
	if (address == NULL)
		return ERR_INVAL;
	return conf_add_n(c, id, address, strlen(address), voter);
}

int
raft_conf_copy(struct raft_conf *dst, const struct raft_conf *src)
{
	int rc;

	raft_conf_init(dst);
	for (size_t i = 0; i < src->n; i++) {
		rc = raft_conf_add(dst, src->servers[i].id,
		    src->servers[i].address, src->servers[i].voter);
		if (rc != 0) {
			raft_conf_fini(dst);
			return rc;
		}
	}
	return 0;
}

int
raft_conf_encode(const struct raft_conf *c, void **out, size_t *len)
{
	size_t n = 2;
	unsigned char *b, *p;

	for (size_t i = 0; i < c->n; i++)
		n += 8 + 1 + 1 + strlen(c->servers[i].address);
	if ((b = malloc(n)) == NULL)
		return ERR_NOMEM;
	p = b;
	*p++ = (unsigned char)(c->n >> 8);
	*p++ = (unsigned char)c->n;
	for (size_t i = 0; i < c->n; i++) {
		const struct raft_server *s = &c->servers[i];
		size_t alen = strlen(s->address);
		for (int k = 7; k >= 0; k--)
			*p++ = (unsigned char)(s->id >> (k * 8));
		*p++ = s->voter ? 1 : 0;
		*p++ = (unsigned char)alen;
		memcpy(p, s->address, alen);
		p += alen;
	}
	*out = b;
	*len = n;
	return 0;
}

int
raft_conf_decode(struct raft_conf *c, const void *buf, size_t len)
{
	const unsigned char *p = buf, *end = p + len;
	size_t n;
	int rc;

	raft_conf_init(c);
	if (buf == NULL || len < 2)
		return ERR_BADMSG;
	n = ((size_t)p[0] << 8) | p[1];
	p += 2;
	if (n > RAFT_SERVERS_MAX)
		return ERR_BADMSG;
	for (size_t i = 0; i < n; i++) {
		uint64_t id = 0;
		size_t alen;
		unsigned voter;

		if (end - p < 10)
			goto bad;
		for (int k = 0; k < 8; k++)
			id = (id << 8) | *p++;
		voter = *p++;
		alen = *p++;
		if (voter > 1 || (size_t)(end - p) < alen)
			goto bad;
		rc = conf_add_n(c, id, (const char *)p, alen, voter == 1);
		if (rc == ERR_NOMEM) {
			raft_conf_fini(c);
			return rc;
		}
		if (rc != 0)
			goto bad;
		p += alen;
	}
	if (p != end)
		goto bad;
	return 0;
bad:
	raft_conf_fini(c);
	return ERR_BADMSG;
}
