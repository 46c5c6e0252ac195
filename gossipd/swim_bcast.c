/*
 * swim_bcast.c — dissemination: the transmit-limited broadcast queue,
 * piggybacking on every datagram, and periodic gossip.
 *
 * Where it sits: state changes (swim_member.c) and user events
 * (swim_event.c) queue updates here; every datagram the core sends is
 * topped up with queued updates up to the UDP budget; swim_tick() gossips
 * to gossip_nodes random members every gossip_interval.
 *
 * Key decisions (memberlist queue.go, state.go gossip):
 * - Each update is sent retransmit_mult * ceil(log10(n + 1)) times, n the
 *   live members we know, then dropped; least-transmitted first, newest
 *   first within a transmit count. The queue is one list per transmit
 *   count, so picking is O(picked) rather than a sort.
 * - A newer update about a member replaces the queued one (invalidation).
 * - Gossip targets are live members plus members that died less than
 *   gossip_to_dead ago, so a wrongly-declared member hears it and refutes.
 * - The leave update carries a flag; when it is dropped after its last
 *   transmission, SWIM_EV_LEAVE_DONE tells gossipd it may exit.
 *
 * Reference: SWIM §4.1 (infection-style dissemination); memberlist
 * queue.go TransmitLimitedQueue, util.go retransmitLimit, state.go gossip.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "swim_int.h"

/* The smallest update (a suspect with one-byte names) plus framing. */
#define SWIM_BCAST_MIN_SIZE 20
/* Items too big for the space left that a fill passes over before it
 * stops: each one is a cache miss, and with the join storm of n = 2,000
 * (2,000 queued alive updates per member) 32 of them were a third of
 * the simulation's time (perf). */
#define SWIM_BCAST_SKIPS 8

uint32_t
swim_bcast_limit(const struct swim *s)
{
	uint32_t n = swim_live_count(s);
	uint32_t scale = swim_ceil_log((uint64_t)n + 1, 10);
	uint32_t lim = s->cfg.retransmit_mult * (scale ? scale : 1);

	return lim >= SWIM_BCAST_LEVELS ? SWIM_BCAST_LEVELS - 1 : lim;
}

static void
unlink_bc(struct swim *s, struct swim_bcast *b)
{
	struct swim_bcast_list *l = &s->lv[b->transmits];

	if (b->prev)
		b->prev->next = b->next;
	else
		l->head = b->next;
	if (b->next)
		b->next->prev = b->prev;
	else
		l->tail = b->prev;
	b->prev = b->next = NULL;
}

static void
push_front(struct swim *s, struct swim_bcast *b)
{
	struct swim_bcast_list *l = &s->lv[b->transmits];

	b->prev = NULL;
	b->next = l->head;
	if (l->head)
		l->head->prev = b;
	else
		l->tail = b;
	l->head = b;
}

static void
finish(struct swim *s, struct swim_bcast *b)
{
	if (b->m != NULL && b->m->bc == b)
		b->m->bc = NULL;
	if (b->notify_leave && !s->leave_done) {
		s->leave_done = true;
		swim_out_event(s, SWIM_EV_LEAVE_DONE, s->self);
	}
	free(b);
	s->n_bcast--;
}

/* The names and the blob of up, whichever its type carries. */
static void
upd_parts(const struct swim_upd *up, const char **node, const char **from,
    const uint8_t **blob, uint16_t *blob_len)
{
	*node = *from = NULL;
	*blob = NULL;
	*blob_len = 0;
	switch (up->type) {
	case SWIM_UP_ALIVE:
		*node = up->u.alive.node;
		*blob = up->u.alive.meta;
		*blob_len = up->u.alive.meta_len;
		break;
	case SWIM_UP_SUSPECT:
		*node = up->u.suspect.node;
		*from = up->u.suspect.from;
		break;
	case SWIM_UP_DEAD:
		*node = up->u.dead.node;
		*from = up->u.dead.from;
		break;
	case SWIM_UP_USER_EVENT:
		*node = up->u.user.name;
		*blob = up->u.user.payload;
		*blob_len = up->u.user.payload_len;
		break;
	}
}

/* Packs up into a queue item (one allocation, blob copied). */
static struct swim_bcast *
make(const struct swim_upd *up)
{
	struct swim_bcast *b;
	const char *node, *from;
	const uint8_t *blob;
	size_t nl, fl;
	uint16_t bl;

	upd_parts(up, &node, &from, &blob, &bl);
	nl = node ? strnlen(node, SWIM_NAME_MAX) : 0;
	fl = from ? strnlen(from, SWIM_NAME_MAX) : 0;
	if ((b = calloc(1, sizeof(*b) + nl + fl + bl)) == NULL)
		return NULL;
	b->type = up->type;
	b->node_len = (uint8_t)nl;
	b->from_len = (uint8_t)fl;
	b->blob_len = bl;
	if (nl > 0)
		memcpy(b->data, node, nl);
	if (fl > 0)
		memcpy(b->data + nl, from, fl);
	if (bl > 0)
		memcpy(b->data + nl + fl, blob, bl);
	switch (up->type) {
	case SWIM_UP_ALIVE:
		b->addr = up->u.alive.addr;
		b->incarnation = up->u.alive.incarnation;
		b->ltime = up->u.alive.ltime;
		break;
	case SWIM_UP_SUSPECT:
		b->incarnation = up->u.suspect.incarnation;
		break;
	case SWIM_UP_DEAD:
		b->incarnation = up->u.dead.incarnation;
		b->ltime = up->u.dead.ltime;
		b->prune = up->u.dead.prune;
		break;
	case SWIM_UP_USER_EVENT:
		b->ltime = up->u.user.ltime;
		break;
	}
	b->size = swim_msg_upd_size(up);
	return b;
}

/* Copies a length-delimited name into a NUL-terminated array. */
static void
name_out(char *dst, const uint8_t *src, uint8_t len)
{
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* The update b holds, its blob pointing at blob (b->blob_len bytes the
 * caller has copied there). */
static void
unpack(const struct swim_bcast *b, struct swim_upd *u, const uint8_t *blob)
{
	const uint8_t *node = b->data, *from = b->data + b->node_len;

	memset(u, 0, sizeof(*u));
	u->type = b->type;
	switch (b->type) {
	case SWIM_UP_ALIVE:
		name_out(u->u.alive.node, node, b->node_len);
		u->u.alive.addr = b->addr;
		u->u.alive.incarnation = b->incarnation;
		u->u.alive.ltime = b->ltime;
		u->u.alive.meta = b->blob_len ? blob : NULL;
		u->u.alive.meta_len = b->blob_len;
		break;
	case SWIM_UP_SUSPECT:
		name_out(u->u.suspect.node, node, b->node_len);
		name_out(u->u.suspect.from, from, b->from_len);
		u->u.suspect.incarnation = b->incarnation;
		break;
	case SWIM_UP_DEAD:
		name_out(u->u.dead.node, node, b->node_len);
		name_out(u->u.dead.from, from, b->from_len);
		u->u.dead.incarnation = b->incarnation;
		u->u.dead.ltime = b->ltime;
		u->u.dead.prune = b->prune;
		break;
	case SWIM_UP_USER_EVENT:
		name_out(u->u.user.name, node, b->node_len);
		u->u.user.ltime = b->ltime;
		u->u.user.payload = b->blob_len ? blob : NULL;
		u->u.user.payload_len = b->blob_len;
		break;
	}
}

int
swim_bcast_member(struct swim *s, struct swim_member *m,
    const struct swim_upd *up, bool notify_leave)
{
	struct swim_bcast *b;

	if ((b = make(up)) == NULL)
		return ERR_NOMEM;
	if (m->bc != NULL) {
		struct swim_bcast *old = m->bc;
		notify_leave = notify_leave || old->notify_leave;
		old->notify_leave = false;
		unlink_bc(s, old);
		old->m = NULL;
		finish(s, old);
	}
	b->m = m;
	b->notify_leave = notify_leave;
	m->bc = b;
	push_front(s, b);
	s->n_bcast++;
	return 0;
}

int
swim_bcast_user(struct swim *s, const struct swim_upd *up)
{
	struct swim_bcast *b;

	if ((b = make(up)) == NULL)
		return ERR_NOMEM;
	push_front(s, b);
	s->n_bcast++;
	return 0;
}

/* The member is being freed; its queued update keeps spreading. */
void
swim_bcast_drop_member(struct swim *s, struct swim_member *m)
{
	if (m->bc != NULL) {
		m->bc->m = NULL;
		m->bc = NULL;
	}
	(void)s;
}

/* Appends picked updates to msg (whose own updates own no blob). */
static int
copy_out(struct swim_msg *msg, struct swim_bcast **pick, uint32_t n)
{
	size_t blob = 0, off = 0, len;
	uint32_t i, base = msg->n_updates;
	const struct swim_bcast *b;
	void *p;

	for (i = 0; i < n; i++)
		blob += pick[i]->blob_len;
	p = realloc(msg->updates, (base + n) * sizeof(*msg->updates));
	if (p == NULL)
		return ERR_NOMEM;
	msg->updates = p;
	if (blob > 0 && (msg->blob = malloc(blob)) == NULL)
		return ERR_NOMEM;
	for (i = 0; i < n; i++) {
		b = pick[i];
		if ((len = b->blob_len) > 0)
			memcpy(msg->blob + off, b->data + b->node_len +
			    b->from_len, len);
		unpack(b, &msg->updates[base + i], len ? msg->blob + off :
		    NULL);
		off += len;
	}
	msg->n_updates = (uint16_t)(base + n);
	return 0;
}

int
swim_bcast_fill(struct swim *s, struct swim_msg *msg, size_t budget)
{
	struct swim_bcast *pick[SWIM_MAX_UPDATES], *b, *next;
	uint32_t n = 0, lim = swim_bcast_limit(s), t, i, skipped = 0;
	size_t used = swim_msg_size(msg);
	int rc;

	if (s->n_bcast == 0 || msg->blob != NULL)
		return 0;
	for (t = lim; t < SWIM_BCAST_LEVELS; t++) /* the limit shrank */
		for (b = s->lv[t].head; b != NULL; b = next) {
			next = b->next;
			unlink_bc(s, b);
			finish(s, b);
		}
	/* Stop once nothing more can fit, and after skipping a few items too
	 * big for what is left, so a long queue costs O(picked). */
	for (t = 0; t < lim && n + msg->n_updates < SWIM_MAX_UPDATES &&
	    used + SWIM_BCAST_MIN_SIZE <= budget &&
	    skipped < SWIM_BCAST_SKIPS; t++)
		for (b = s->lv[t].head; b && skipped < SWIM_BCAST_SKIPS &&
		    n + msg->n_updates < SWIM_MAX_UPDATES &&
		    used + SWIM_BCAST_MIN_SIZE <= budget; b = b->next)
			if (used + b->size + 2 <= budget) {
				pick[n++] = b;
				used += b->size + 2;
			} else {
				skipped++;
			}
	if (n == 0)
		return 0;
	if ((rc = copy_out(msg, pick, n)) != 0)
		return rc;
	for (i = n; i-- > 0;) {
		b = pick[i];
		unlink_bc(s, b);
		if (++b->transmits >= lim)
			finish(s, b);
		else
			push_front(s, b);
	}
	return 0;
}

static bool
gossip_target(const struct swim *s, const struct swim_member *m)
{
	if (m == s->self)
		return false;
	if (m->state == SWIM_STATE_ALIVE || m->state == SWIM_STATE_SUSPECT)
		return true;
	return m->state == SWIM_STATE_DEAD &&
	    s->now < m->change_ms + s->cfg.gossip_to_dead_ms;
}

void
swim_bcast_gossip(struct swim *s)
{
	struct swim_member *pick[16], *m;
	uint32_t k = s->cfg.gossip_nodes, n = 0, tries, i, j;
	struct swim_msg msg;
	struct swim_send *snd;

	if (k > 16)
		k = 16;
	for (tries = 0; n < k && tries < 3 * s->n_members && s->n_bcast;
	    tries++) {
		m = s->members[swim_rand_n(s, s->n_members)];
		if (!gossip_target(s, m))
			continue;
		for (j = 0; j < n && pick[j] != m; j++)
			;
		if (j == n)
			pick[n++] = m;
	}
	for (i = 0; i < n; i++) {
		memset(&msg, 0, sizeof(msg));
		msg.type = SWIM_MSG_GOSSIP;
		if (swim_bcast_fill(s, &msg, s->cfg.udp_budget) != 0 ||
		    msg.n_updates == 0)
			return;
		if ((snd = swim_out_send(s, &pick[i]->addr, SWIM_UDP,
		    SWIM_MSG_GOSSIP)) == NULL) {
			swim_msg_free(&msg);
			return;
		}
		snd->msg = msg;
	}
}

void
swim_bcast_free_all(struct swim *s)
{
	struct swim_bcast *b, *next;
	uint32_t t;

	for (t = 0; t < SWIM_BCAST_LEVELS; t++) {
		for (b = s->lv[t].head; b != NULL; b = next) {
			next = b->next;
			free(b);
		}
		s->lv[t].head = s->lv[t].tail = NULL;
	}
	s->n_bcast = 0;
}
