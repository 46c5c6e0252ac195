/*
 * swim_event.c — serf user events: a Lamport clock, dissemination through
 * the broadcast queue, and a 256-slot buffer that drops duplicates.
 *
 * Where it sits: swim_user_event() fires one (swim.c), piggybacked updates
 * deliver them here; each new event becomes a SWIM_EV_USER output and is
 * re-broadcast.
 *
 * Key decision (serf serf.go handleUserEvent): events are best-effort and
 * unordered (spec §16 item 25). The buffer is indexed by ltime % 256; an
 * event older than clock - 256, older than the join floor, or already seen
 * with the same (ltime, name, payload) hash is dropped. Unlike serf, the
 * join floor is 1 + the newest event the join target has seen, not its
 * clock: push/pull witnesses push the clocks of busy members ahead of
 * quiet ones, and serf's floor then drops fresh events a quiet member
 * fires (found by the simulation).
 *
 * Reference: serf serf.go UserEvent/handleUserEvent, lamport.go;
 * spec/consul-api.md §2.10, §16 item 25.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "swim_int.h"

static uint64_t
ev_hash(const char *name, const uint8_t *p, uint16_t len)
{
	uint64_t h = swim_member_hash(name);
	uint16_t i;

	h = (h ^ 0xff) * 1099511628211ull;
	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static void
rec_free(struct swim_evrec *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

/* Returns true if new (and records it, name and payload included). */
static bool
remember(struct swim *s, const struct swim_user_event *ev)
{
	struct swim_evslot *sl = &s->events[ev->ltime % SWIM_EVENT_BUFFER];
	uint64_t h = ev_hash(ev->name, ev->payload, ev->payload_len);
	struct swim_evrec *r;
	size_t nl = strlen(ev->name);
	uint32_t i;

	if (sl->ltime != ev->ltime) {
		for (i = 0; i < sl->n; i++)
			rec_free(&sl->ev[i]);
		sl->ltime = ev->ltime;
		sl->n = 0;
	}
	for (i = 0; i < sl->n; i++)
		if (sl->ev[i].hash == h)
			return false;
	if (sl->n < SWIM_EVSLOT_EVENTS)
		r = &sl->ev[sl->n++];
	else
		r = &sl->ev[h % SWIM_EVSLOT_EVENTS]; /* crowded: forget one */
	rec_free(r);
	if ((r->buf = malloc(nl + 1 + ev->payload_len)) == NULL)
		return true; /* deliver it; it just cannot be re-shared */
	memcpy(r->buf, ev->name, nl + 1);
	if (ev->payload_len > 0)
		memcpy(r->buf + nl + 1, ev->payload, ev->payload_len);
	r->hash = h;
	r->name_len = (uint16_t)nl;
	r->payload_len = ev->payload_len;
	return true;
}

static void
emit(struct swim *s, const struct swim_user_event *ev)
{
	struct swim_event *o = swim_out_event(s, SWIM_EV_USER, NULL);
	struct swim_upd up;

	if (ev->ltime + 1 > s->event_seen)
		s->event_seen = ev->ltime + 1;
	if (o != NULL) {
		memcpy(o->name, ev->name, sizeof(o->name));
		swim_name_set(o->node, s->self->name);
		o->ltime = ev->ltime;
		if (ev->payload_len > 0 && (o->meta = malloc(ev->payload_len))) {
			memcpy(o->meta, ev->payload, ev->payload_len);
			o->meta_len = ev->payload_len;
		}
	}
	memset(&up, 0, sizeof(up));
	up.type = SWIM_UP_USER_EVENT;
	up.u.user = *ev;
	swim_bcast_user(s, &up);
}

size_t
swim_event_blob_len(const struct swim *s)
{
	size_t b = 0;
	uint32_t i, j;

	for (i = 0; i < SWIM_EVENT_BUFFER; i++)
		for (j = 0; j < s->events[i].n; j++)
			if (s->events[i].ev[j].buf != NULL)
				b += s->events[i].ev[j].payload_len;
	return b;
}

size_t
swim_event_heap(const struct swim *s)
{
	size_t b = 0;
	uint32_t i, j;

	for (i = 0; i < SWIM_EVENT_BUFFER; i++)
		for (j = 0; j < s->events[i].n; j++)
			if (s->events[i].ev[j].buf != NULL)
				b += s->events[i].ev[j].name_len + 1u +
				    s->events[i].ev[j].payload_len;
	return b;
}

int
swim_event_export(struct swim *s, struct swim_msg *msg, size_t off)
{
	struct swim_push_pull *pp = &msg->u.pp;
	uint32_t i, j, n = 0;

	for (i = 0; i < SWIM_EVENT_BUFFER; i++)
		n += s->events[i].n;
	if (n == 0)
		return 0;
	if ((pp->events = calloc(n, sizeof(*pp->events))) == NULL)
		return ERR_NOMEM;
	for (i = 0; i < SWIM_EVENT_BUFFER; i++)
		for (j = 0; j < s->events[i].n; j++) {
			const struct swim_evrec *r = &s->events[i].ev[j];
			struct swim_user_event *e = &pp->events[pp->n_events];
			if (r->buf == NULL)
				continue;
			memcpy(e->name, r->buf, r->name_len);
			e->ltime = s->events[i].ltime;
			e->payload_len = r->payload_len;
			if (r->payload_len > 0) {
				memcpy(msg->blob + off, r->buf + r->name_len + 1,
				    r->payload_len);
				e->payload = msg->blob + off;
				off += r->payload_len;
			}
			pp->n_events++;
		}
	return 0;
}

void
swim_event_free_all(struct swim *s)
{
	uint32_t i, j;

	for (i = 0; i < SWIM_EVENT_BUFFER; i++) {
		for (j = 0; j < s->events[i].n; j++)
			rec_free(&s->events[i].ev[j]);
		s->events[i].n = 0;
	}
}

void
swim_event_recv(struct swim *s, const struct swim_user_event *ev)
{
	if (ev->ltime >= s->event_clock)
		s->event_clock = ev->ltime + 1;
	if (ev->ltime < s->event_min)
		return;
	if (s->event_clock > SWIM_EVENT_BUFFER &&
	    ev->ltime < s->event_clock - SWIM_EVENT_BUFFER)
		return;
	if (!remember(s, ev))
		return;
	emit(s, ev);
}

int
swim_event_fire(struct swim *s, const char *name, const uint8_t *payload,
    uint16_t len)
{
	struct swim_user_event ev;
	size_t nl;

	if (name == NULL || (len > 0 && payload == NULL))
		return ERR_INVAL;
	nl = strnlen(name, SWIM_NAME_MAX + 1);
	if (nl == 0 || nl > SWIM_NAME_MAX)
		return ERR_INVAL;
	if (nl + len > SWIM_USER_EVENT_MAX)
		return ERR_TOOBIG;
	memset(&ev, 0, sizeof(ev));
	memcpy(ev.name, name, nl);
	ev.ltime = s->event_clock++;
	ev.payload = payload;
	ev.payload_len = len;
	remember(s, &ev);
	emit(s, &ev);
	return 0;
}
