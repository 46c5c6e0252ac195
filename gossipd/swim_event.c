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

/* Returns true if new (and records it). */
static bool
remember(struct swim *s, const struct swim_user_event *ev)
{
	struct swim_evslot *sl = &s->events[ev->ltime % SWIM_EVENT_BUFFER];
	uint64_t h = ev_hash(ev->name, ev->payload, ev->payload_len);
	uint32_t i;

	if (sl->ltime != ev->ltime || sl->n == 0) {
		sl->ltime = ev->ltime;
		sl->n = 0;
	}
	for (i = 0; i < sl->n; i++)
		if (sl->hash[i] == h)
			return false;
	if (sl->n < 4)
		sl->hash[sl->n++] = h;
	else
		sl->hash[h % 4] = h; /* crowded slot: forget one */
	return true;
}

static void
emit(struct swim *s, const struct swim_user_event *ev)
{
	if (ev->ltime + 1 > s->event_seen)
		s->event_seen = ev->ltime + 1;
	struct swim_event *o = swim_out_event(s, SWIM_EV_USER, NULL);
	struct swim_upd up;

	if (o != NULL) {
		memcpy(o->name, ev->name, sizeof(o->name));
		memcpy(o->node, s->self->name, sizeof(o->node));
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
