/*
 * dns_view.c — dnsd's in-memory catalog view (nodes, service instances,
 * addresses) with case-insensitive hash indexes.
 *
 * Key decision: four open-addressing tables (linear probing, backward-shift
 * deletion, FNV-1a over ASCII-lowercased keys) map node name, service name,
 * (node, service id) and address to heap records the view owns; a service
 * record keeps a plain array of its instances so an answer walks one array.
 * Health is stored at both levels (node checks, service checks) and
 * combined at query time, so a node-level change is one write.
 * Reference: consul-api.md §3.2, §5.2–5.3; NSD namedb (in-memory answers).
 */
#include "dnsd/dns_view.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"

#define VIEW_HTAB_MIN 16u
#define VIEW_MAX_STR 4096u /* longer names/addresses are ERR_INVAL */

struct htab_slot {
	uint32_t hash;
	void *val; /* NULL = empty */
};

struct htab {
	struct htab_slot *slots;
	uint32_t cap; /* power of two or 0 */
	uint32_t n;
};

/* A key to look up: bytes compared by the table's eq function. */
struct hkey {
	const char *a;
	size_t alen;
	const char *b; /* second part (instance id), or NULL */
	size_t blen;
};

typedef bool (*htab_eq_fn)(const void *val, const struct hkey *k);

struct dns_view {
	struct htab nodes;    /* -> struct dns_view_node */
	struct htab services; /* -> struct dns_view_service */
	struct htab insts;    /* -> struct dns_view_instance, (node, id) */
	struct htab addrs;    /* -> struct dns_view_addr_entry */
	uint32_t ninstances;
};

static uint32_t
hash_lower(uint32_t h, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		h ^= c;
		h *= 16777619u;
	}
	return h;
}

static uint32_t
hkey_hash(const struct hkey *k)
{
	uint32_t h = hash_lower(2166136261u, k->a, k->alen);

	if (k->b != NULL) {
		h ^= 0xff;
		h *= 16777619u;
		/* service IDs are case-sensitive: hash them raw-lowered anyway
		 * (equality decides), collisions only cost a compare */
		h = hash_lower(h, k->b, k->blen);
	}
	return h;
}

static bool
ieq(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && strncasecmp(a, b, alen) == 0;
}

static void *
htab_find(const struct htab *t, const struct hkey *k, htab_eq_fn eq)
{
	uint32_t h, i;

	if (t->cap == 0)
		return NULL;
	h = hkey_hash(k);
	for (i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (t->slots[i].val == NULL)
			return NULL;
		if (t->slots[i].hash == h && eq(t->slots[i].val, k))
			return t->slots[i].val;
	}
}

static int
htab_grow(struct htab *t)
{
	uint32_t ncap = t->cap ? t->cap * 2 : VIEW_HTAB_MIN, i, j;
	struct htab_slot *ns = calloc(ncap, sizeof(*ns));

	if (ns == NULL)
		return ERR_NOMEM;
	for (i = 0; i < t->cap; i++) {
		if (t->slots[i].val == NULL)
			continue;
		for (j = t->slots[i].hash & (ncap - 1); ns[j].val != NULL;
		     j = (j + 1) & (ncap - 1))
			;
		ns[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = ns;
	t->cap = ncap;
	return 0;
}

/* Makes room for one more entry (call before any other change so that a
 * later failure leaves nothing half done). */
static int
htab_reserve(struct htab *t)
{
	if ((t->n + 1) * 10 >= t->cap * 7)
		return htab_grow(t);
	return 0;
}

static void
htab_insert(struct htab *t, uint32_t h, void *val)
{
	uint32_t i;

	for (i = h & (t->cap - 1); t->slots[i].val != NULL;
	     i = (i + 1) & (t->cap - 1))
		;
	t->slots[i].hash = h;
	t->slots[i].val = val;
	t->n++;
}

/* Removes the slot holding val (backward-shift deletion). */
static void
htab_remove(struct htab *t, uint32_t h, const void *val)
{
	uint32_t i, j, home;

	if (t->cap == 0)
		return;
	for (i = h & (t->cap - 1); t->slots[i].val != val;
	     i = (i + 1) & (t->cap - 1))
		if (t->slots[i].val == NULL)
			return;
	t->slots[i].val = NULL;
	t->n--;
	for (j = (i + 1) & (t->cap - 1); t->slots[j].val != NULL;
	     j = (j + 1) & (t->cap - 1)) {
		home = t->slots[j].hash & (t->cap - 1);
		/* move j into the hole at i if its home is not in (i, j] */
		if (((j - home) & (t->cap - 1)) >= ((j - i) & (t->cap - 1))) {
			t->slots[i] = t->slots[j];
			t->slots[j].val = NULL;
			i = j;
		}
	}
}

/* ---- equality functions per table ---- */

static bool
node_eq(const void *v, const struct hkey *k)
{
	const struct dns_view_node *n = v;

	return ieq(n->name, n->name_len, k->a, k->alen);
}

static bool
service_eq(const void *v, const struct hkey *k)
{
	const struct dns_view_service *s = v;

	return ieq(s->name, s->name_len, k->a, k->alen);
}

static bool
inst_eq(const void *v, const struct hkey *k)
{
	const struct dns_view_instance *in = v;

	return ieq(in->node->name, in->node->name_len, k->a, k->alen) &&
	    strlen(in->id) == k->blen && memcmp(in->id, k->b, k->blen) == 0;
}

static bool
addr_eq(const void *v, const struct hkey *k)
{
	const struct dns_view_addr_entry *e = v;

	return k->alen == sizeof(e->addr) &&
	    memcmp(&e->addr, k->a, sizeof(e->addr)) == 0;
}

static struct hkey
addr_key(const struct dns_addr *a)
{
	struct hkey k = { (const char *)a, sizeof(*a), NULL, 0 };

	return k;
}

/* Address hashing must not lowercase bytes: use a distinct raw hash. */
static uint32_t
addr_hash(const struct dns_addr *a)
{
	struct hkey k = addr_key(a);

	return hkey_hash(&k);
}

/* ---- helpers ---- */

static char *
dupstr(struct dns_str s)
{
	char *p;

	if (s.len > VIEW_MAX_STR)
		return NULL;
	p = malloc((size_t)s.len + 1);
	if (p == NULL)
		return NULL;
	if (s.len)
		memcpy(p, s.ptr, s.len);
	p[s.len] = '\0';
	return p;
}

int
dns_view_parse_ip(struct dns_str s, struct dns_addr *out)
{
	char buf[64];

	memset(out, 0, sizeof(*out));
	if (s.len == 0 || s.len >= sizeof(buf))
		return ERR_INVAL;
	memcpy(buf, s.ptr, s.len);
	buf[s.len] = '\0';
	if (inet_pton(AF_INET, buf, out->ip) == 1) {
		out->family = DNS_ADDR_V4;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out->ip) == 1) {
		out->family = DNS_ADDR_V6;
		return 0;
	}
	return ERR_INVAL;
}

/* A hostname usable as a DNS name: LDH labels with '_' allowed, 1..253. */
static bool
valid_hostname(struct dns_str s)
{
	uint32_t i, lab = 0;

	if (s.len == 0 || s.len > 253)
		return false;
	for (i = 0; i < s.len; i++) {
		char c = s.ptr[i];

		if (c == '.') {
			if (lab == 0 && i + 1 != s.len)
				return false;
			lab = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (++lab > 63)
			return false;
	}
	return true;
}

/* Parses an address field: IP literal, hostname, or (if allow_empty)
 * empty. *host gets an owned copy for hostnames. */
static int
parse_addr(struct dns_str s, bool allow_empty, struct dns_addr *out,
    char **host)
{
	*host = NULL;
	memset(out, 0, sizeof(*out));
	if (s.len == 0)
		return allow_empty ? 0 : ERR_INVAL;
	if (dns_view_parse_ip(s, out) == 0)
		return 0;
	if (!valid_hostname(s))
		return ERR_INVAL;
	if ((*host = dupstr(s)) == NULL)
		return ERR_NOMEM;
	out->family = DNS_ADDR_HOST;
	return 0;
}

/* lan_ipv4 / lan_ipv6 (or any tagged address of the wanted family when
 * those are absent) give the node's A/AAAA when Address is of the other
 * family. */
static void
parse_tagged(const struct dns_kv *kv, uint32_t n, struct dns_addr *v4,
    struct dns_addr *v6)
{
	uint32_t i;
	struct dns_addr a;

	memset(v4, 0, sizeof(*v4));
	memset(v6, 0, sizeof(*v6));
	for (i = 0; i < n; i++) {
		if (dns_view_parse_ip(kv[i].value, &a) != 0)
			continue;
		if (ieq(kv[i].key.ptr, kv[i].key.len, "wan", 3) ||
		    ieq(kv[i].key.ptr, kv[i].key.len, "wan_ipv4", 8) ||
		    ieq(kv[i].key.ptr, kv[i].key.len, "wan_ipv6", 8))
			continue; /* WAN addresses are for remote DCs */
		if (a.family == DNS_ADDR_V4 && v4->family == DNS_ADDR_NONE)
			*v4 = a;
		else if (a.family == DNS_ADDR_V6 &&
		    v6->family == DNS_ADDR_NONE)
			*v6 = a;
	}
}

static void
node_free(struct dns_view_node *n)
{
	uint32_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nmeta; i++) {
		free(n->meta[i].key);
		free(n->meta[i].value);
	}
	free(n->meta);
	free(n->name);
	free(n->dc);
	free(n->host);
	free(n);
}

static void
inst_free(struct dns_view_instance *in)
{
	uint32_t i;

	if (in == NULL)
		return;
	for (i = 0; i < in->ntags; i++)
		free(in->tags[i]);
	free(in->tags);
	free(in->id);
	free(in->service);
	free(in->host);
	free(in);
}

static void
addr_entry_free(struct dns_view_addr_entry *e)
{
	free(e->nodes);
	free(e->inst);
	free(e);
}

static void
service_free(struct dns_view_service *s)
{
	free(s->inst);
	free(s->name);
	free(s);
}

struct dns_view *
dns_view_new(void)
{
	return calloc(1, sizeof(struct dns_view));
}

void
dns_view_free(struct dns_view *view)
{
	uint32_t i;

	if (view == NULL)
		return;
	for (i = 0; i < view->insts.cap; i++)
		inst_free(view->insts.slots[i].val);
	for (i = 0; i < view->nodes.cap; i++)
		node_free(view->nodes.slots[i].val);
	for (i = 0; i < view->services.cap; i++)
		if (view->services.slots[i].val)
			service_free(view->services.slots[i].val);
	for (i = 0; i < view->addrs.cap; i++)
		if (view->addrs.slots[i].val)
			addr_entry_free(view->addrs.slots[i].val);
	free(view->insts.slots);
	free(view->nodes.slots);
	free(view->services.slots);
	free(view->addrs.slots);
	free(view);
}

/* ---- address index ---- */

static struct dns_view_addr_entry *
addr_entry_get(struct dns_view *view, const struct dns_addr *a)
{
	struct hkey k = addr_key(a);
	struct dns_view_addr_entry *e;

	e = htab_find(&view->addrs, &k, addr_eq);
	if (e != NULL)
		return e;
	if (htab_reserve(&view->addrs) != 0)
		return NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->addr = *a;
	htab_insert(&view->addrs, addr_hash(a), e);
	return e;
}

static int
ptr_push(void ***arr, uint32_t *n, uint32_t *cap, void *p)
{
	if (*n == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 4;
		void **na = realloc(*arr, ncap * sizeof(*na));

		if (na == NULL)
			return ERR_NOMEM;
		*arr = na;
		*cap = ncap;
	}
	(*arr)[(*n)++] = p;
	return 0;
}

static void
ptr_del(void **arr, uint32_t *n, const void *p)
{
	uint32_t i;

	for (i = 0; i < *n; i++)
		if (arr[i] == p) {
			memmove(&arr[i], &arr[i + 1],
			    (*n - i - 1) * sizeof(*arr));
			(*n)--;
			return;
		}
}

static void
addr_entry_maybe_drop(struct dns_view *view, struct dns_view_addr_entry *e)
{
	if (e->nnodes == 0 && e->ninst == 0) {
		htab_remove(&view->addrs, addr_hash(&e->addr), e);
		addr_entry_free(e);
	}
}

static bool
is_ip(const struct dns_addr *a)
{
	return a->family == DNS_ADDR_V4 || a->family == DNS_ADDR_V6;
}

/* ---- nodes ---- */

static int
node_build(const struct dns_node_spec *spec, struct dns_view_node **out)
{
	struct dns_view_node *n;
	uint32_t i;
	int rc;

	*out = NULL;
	if (spec->name.len == 0 || spec->name.len > 255)
		return ERR_INVAL;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return ERR_NOMEM;
	rc = parse_addr(spec->address, false, &n->addr, &n->host);
	if (rc != 0) {
		free(n);
		return rc;
	}
	n->name_len = spec->name.len;
	n->health = spec->health;
	parse_tagged(spec->tagged, spec->ntagged, &n->tagged_v4,
	    &n->tagged_v6);
	if ((n->name = dupstr(spec->name)) == NULL)
		goto nomem;
	if (spec->datacenter.len && (n->dc = dupstr(spec->datacenter)) == NULL)
		goto nomem;
	if (spec->nmeta) {
		n->meta = calloc(spec->nmeta, sizeof(*n->meta));
		if (n->meta == NULL)
			goto nomem;
		for (i = 0; i < spec->nmeta; i++) {
			n->nmeta++;
			n->meta[i].key = dupstr(spec->meta[i].key);
			n->meta[i].value = dupstr(spec->meta[i].value);
			if (!n->meta[i].key || !n->meta[i].value)
				goto nomem;
		}
	}
	*out = n;
	return 0;
nomem:
	node_free(n);
	return ERR_NOMEM;
}

int
dns_view_add_node(struct dns_view *view, const struct dns_node_spec *spec)
{
	struct hkey k = { spec->name.ptr, spec->name.len, NULL, 0 };
	struct dns_view_node *n;
	struct dns_view_addr_entry *e = NULL;
	int rc;

	if (htab_find(&view->nodes, &k, node_eq) != NULL)
		return ERR_EXISTS;
	if ((rc = node_build(spec, &n)) != 0)
		return rc;
	if (htab_reserve(&view->nodes) != 0)
		goto nomem;
	if (is_ip(&n->addr)) {
		if ((e = addr_entry_get(view, &n->addr)) == NULL)
			goto nomem;
		if (ptr_push((void ***)&e->nodes, &e->nnodes, &e->capnodes,
		    n) != 0) {
			addr_entry_maybe_drop(view, e);
			goto nomem;
		}
	}
	htab_insert(&view->nodes, hkey_hash(&k), n);
	return 0;
nomem:
	node_free(n);
	return ERR_NOMEM;
}

const struct dns_view_node *
dns_view_find_node(const struct dns_view *view, const char *name, size_t len)
{
	struct hkey k = { name, len, NULL, 0 };

	return htab_find(&view->nodes, &k, node_eq);
}

const struct dns_view_service *
dns_view_find_service(const struct dns_view *view, const char *name,
    size_t len)
{
	struct hkey k = { name, len, NULL, 0 };

	return htab_find(&view->services, &k, service_eq);
}

const struct dns_view_addr_entry *
dns_view_find_addr(const struct dns_view *view, const struct dns_addr *addr)
{
	struct dns_addr a;
	struct hkey k;

	memset(&a, 0, sizeof(a)); /* normalise unused bytes */
	a.family = addr->family;
	memcpy(a.ip, addr->ip, addr->family == DNS_ADDR_V4 ? 4 : 16);
	k = addr_key(&a);
	return htab_find(&view->addrs, &k, addr_eq);
}

/* ---- instances ---- */

static int
inst_build(const struct dns_instance_spec *spec, struct dns_view_node *node,
    struct dns_view_instance **out)
{
	struct dns_view_instance *in;
	uint32_t i;
	int rc;

	*out = NULL;
	if (spec->service.len == 0 || spec->service.len > 255 ||
	    spec->id.len == 0)
		return ERR_INVAL;
	if ((in = calloc(1, sizeof(*in))) == NULL)
		return ERR_NOMEM;
	if ((rc = parse_addr(spec->address, true, &in->addr, &in->host)) != 0) {
		free(in);
		return rc;
	}
	in->node = node;
	in->port = spec->port;
	in->weight_passing = spec->weight_passing;
	in->weight_warning = spec->weight_warning;
	in->health = spec->health;
	in->service_len = spec->service.len;
	parse_tagged(spec->tagged, spec->ntagged, &in->tagged_v4,
	    &in->tagged_v6);
	if ((in->id = dupstr(spec->id)) == NULL ||
	    (in->service = dupstr(spec->service)) == NULL)
		goto nomem;
	if (spec->ntags) {
		if ((in->tags = calloc(spec->ntags, sizeof(char *))) == NULL)
			goto nomem;
		for (i = 0; i < spec->ntags; i++) {
			in->ntags++;
			if ((in->tags[i] = dupstr(spec->tags[i])) == NULL)
				goto nomem;
		}
	}
	*out = in;
	return 0;
nomem:
	inst_free(in);
	return ERR_NOMEM;
}

static struct dns_view_service *
service_get(struct dns_view *view, const struct dns_view_instance *in)
{
	struct hkey k = { in->service, in->service_len, NULL, 0 };
	struct dns_view_service *s;
	struct dns_str name = { in->service, in->service_len };

	if ((s = htab_find(&view->services, &k, service_eq)) != NULL)
		return s;
	if (htab_reserve(&view->services) != 0)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->name = dupstr(name)) == NULL) {
		free(s);
		return NULL;
	}
	s->name_len = in->service_len;
	htab_insert(&view->services, hkey_hash(&k), s);
	return s;
}

static void
service_maybe_drop(struct dns_view *view, struct dns_view_service *s)
{
	struct hkey k = { s->name, s->name_len, NULL, 0 };

	if (s->n == 0) {
		htab_remove(&view->services, hkey_hash(&k), s);
		service_free(s);
	}
}

int
dns_view_add_instance(struct dns_view *view,
    const struct dns_instance_spec *spec)
{
	struct hkey nk = { spec->node.ptr, spec->node.len, NULL, 0 };
	struct hkey ik = { spec->node.ptr, spec->node.len, spec->id.ptr,
		spec->id.len };
	struct dns_view_node *node;
	struct dns_view_instance *in;
	struct dns_view_service *s;
	struct dns_view_addr_entry *e = NULL;
	int rc;

	if ((node = htab_find(&view->nodes, &nk, node_eq)) == NULL)
		return ERR_NOTFOUND;
	if (htab_find(&view->insts, &ik, inst_eq) != NULL)
		return ERR_EXISTS;
	if ((rc = inst_build(spec, node, &in)) != 0)
		return rc;
	if (htab_reserve(&view->insts) != 0 ||
	    (s = service_get(view, in)) == NULL)
		goto nomem;
	if (ptr_push((void ***)&s->inst, &s->n, &s->cap, in) != 0) {
		service_maybe_drop(view, s);
		goto nomem;
	}
	if (is_ip(&in->addr)) {
		if ((e = addr_entry_get(view, &in->addr)) == NULL ||
		    ptr_push((void ***)&e->inst, &e->ninst, &e->capinst,
		    in) != 0) {
			if (e != NULL)
				addr_entry_maybe_drop(view, e);
			s->n--;
			service_maybe_drop(view, s);
			goto nomem;
		}
	}
	htab_insert(&view->insts, hkey_hash(&ik), in);
	node->ninstances++;
	view->ninstances++;
	return 0;
nomem:
	inst_free(in);
	return ERR_NOMEM;
}

static struct dns_view_instance *
inst_find(const struct dns_view *view, struct dns_str node, struct dns_str id)
{
	struct hkey k = { node.ptr, node.len, id.ptr, id.len };

	return htab_find(&view->insts, &k, inst_eq);
}

static void
inst_unlink(struct dns_view *view, struct dns_view_instance *in)
{
	struct hkey k = { in->node->name, in->node->name_len, in->id,
		strlen(in->id) };
	struct hkey sk = { in->service, in->service_len, NULL, 0 };
	struct dns_view_service *s;
	struct dns_view_addr_entry *e;

	htab_remove(&view->insts, hkey_hash(&k), in);
	if ((s = htab_find(&view->services, &sk, service_eq)) != NULL) {
		ptr_del((void **)s->inst, &s->n, in);
		service_maybe_drop(view, s);
	}
	if (is_ip(&in->addr) &&
	    (e = (struct dns_view_addr_entry *)dns_view_find_addr(view,
	    &in->addr)) != NULL) {
		ptr_del((void **)e->inst, &e->ninst, in);
		addr_entry_maybe_drop(view, e);
	}
	in->node->ninstances--;
	view->ninstances--;
	inst_free(in);
}

int
dns_view_remove_instance(struct dns_view *view, struct dns_str node,
    struct dns_str id)
{
	struct dns_view_instance *in = inst_find(view, node, id);

	if (in == NULL)
		return ERR_NOTFOUND;
	inst_unlink(view, in);
	return 0;
}

int
dns_view_remove_node(struct dns_view *view, struct dns_str name)
{
	struct hkey k = { name.ptr, name.len, NULL, 0 };
	struct dns_view_node *n = htab_find(&view->nodes, &k, node_eq);
	struct dns_view_addr_entry *e;
	uint32_t i;

	if (n == NULL)
		return ERR_NOTFOUND;
	/* Deletion shifts entries backwards, possibly across the wrap: scan
	 * again until every instance of the node is gone. */
	while (n->ninstances > 0) {
		uint32_t before = n->ninstances;

		for (i = 0; i < view->insts.cap;) {
			struct dns_view_instance *in = view->insts.slots[i].val;

			if (in != NULL && in->node == n)
				inst_unlink(view, in); /* slot i refilled */
			else
				i++;
		}
		if (n->ninstances == before)
			return ERR_INTERNAL; /* broken invariant: not indexed */
	}
	if (is_ip(&n->addr) &&
	    (e = (struct dns_view_addr_entry *)dns_view_find_addr(view,
	    &n->addr)) != NULL) {
		ptr_del((void **)e->nodes, &e->nnodes, n);
		addr_entry_maybe_drop(view, e);
	}
	htab_remove(&view->nodes, hkey_hash(&k), n);
	node_free(n);
	return 0;
}

int
dns_view_set_node_health(struct dns_view *view, struct dns_str name,
    enum dns_health health)
{
	struct hkey k = { name.ptr, name.len, NULL, 0 };
	struct dns_view_node *n = htab_find(&view->nodes, &k, node_eq);

	if (n == NULL)
		return ERR_NOTFOUND;
	n->health = health;
	return 0;
}

int
dns_view_set_instance_health(struct dns_view *view, struct dns_str node,
    struct dns_str id, enum dns_health health)
{
	struct dns_view_instance *in = inst_find(view, node, id);

	if (in == NULL)
		return ERR_NOTFOUND;
	in->health = health;
	return 0;
}

enum dns_health
dns_view_instance_health(const struct dns_view_instance *in)
{
	return in->health > in->node->health ? in->health : in->node->health;
}

bool
dns_view_instance_has_tag(const struct dns_view_instance *inst,
    const char *tag, size_t len)
{
	uint32_t i;

	for (i = 0; i < inst->ntags; i++)
		if (ieq(inst->tags[i], strlen(inst->tags[i]), tag, len))
			return true;
	return false;
}

uint32_t
dns_view_max_instances(const struct dns_view *view)
{
	uint32_t i, max = 0;

	for (i = 0; i < view->services.cap; i++) {
		const struct dns_view_service *s = view->services.slots[i].val;

		if (s != NULL && s->n > max)
			max = s->n;
	}
	return max;
}

uint32_t
dns_view_node_count(const struct dns_view *view)
{
	return view->nodes.n;
}

uint32_t
dns_view_instance_count(const struct dns_view *view)
{
	return view->ninstances;
}
