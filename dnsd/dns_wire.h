/*
 * dns_wire.h — dnsd's wire format: parses a query packet (dns_wire.c, on
 * ldns) and writes a response, record by record, with compression and a
 * size limit (dns_wire_out.c, our own writer: ldns's was most of an SRV
 * answer's CPU).
 *
 * dns_wire.c is the only file that includes <ldns/ldns.h> (STYLE.md §4);
 * everything above it sees these types. Parsing is ldns's wire2rr plus our
 * own guards (question names may not use pointers, other names may only
 * point strictly backwards, bounded counts) so that no malformed input can
 * loop or cost more than a few microseconds. Reference: RFC 1035 §4.1,
 * RFC 6891 (EDNS0, BADVERS), fault-testing.md §7.2; Knot process_query.c.
 */
#ifndef CAIRN_DNS_WIRE_H
#define CAIRN_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Numeric protocol constants (RFC 1035, 2782, 3596, 6891). */
enum dns_type {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_SRV = 33,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_IXFR = 251,
	DNS_TYPE_AXFR = 252,
	DNS_TYPE_ANY = 255,
};

enum dns_class {
	DNS_CLASS_IN = 1,
	DNS_CLASS_CH = 3,
	DNS_CLASS_ANY = 255,
};

enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_BADVERS = 16, /* extended: needs an OPT record */
};

enum dns_section {
	DNS_SECTION_ANSWER = 1,
	DNS_SECTION_AUTHORITY = 2,
	DNS_SECTION_ADDITIONAL = 3,
};

#define DNS_OPCODE_QUERY 0
#define DNS_WIRE_UDP_MIN 512u    /* RFC 1035 §4.2.1 */
#define DNS_WIRE_MAX 65535u      /* TCP / EDNS ceiling */
#define DNS_WIRE_EDNS_SIZE 4096u /* the UDP size we advertise */
#define DNS_WIRE_MAX_ARCOUNT 4u  /* more additional records: FORMERR */

/* dns_wire_parse() result meaning "send nothing" (not an rcode). */
#define DNS_WIRE_DROP 0x10000

/* A parsed query. qname points into the packet (borrowed). */
struct dns_wire_query {
	uint16_t id;
	uint8_t opcode;
	bool rd, cd;
	bool has_question;      /* qname/qtype/qclass are valid */
	const uint8_t *qname;   /* uncompressed wire name, case as sent */
	size_t qname_len;       /* including the root label */
	uint16_t qtype, qclass;
	bool edns;              /* an OPT record was present */
	uint16_t edns_udp_size; /* as advertised (not yet clamped) */
	uint8_t edns_version;
	bool edns_do;
};

/* Parses pkt (len bytes, borrowed; q borrows from it). Returns
 * DNS_WIRE_DROP (shorter than a header, or QR=1: never answer), a DNS
 * rcode to answer with (DNS_RCODE_NOERROR when the query is well-formed;
 * q->has_question says whether the question can be echoed), or ERR_NOMEM.
 * Rules: opcode != QUERY → NOTIMP; QDCOUNT != 1, a bad question name
 * (label > 63, name > 255, label types 01/10, any compression pointer),
 * a truncated packet, trailing bytes, ANCOUNT/NSCOUNT != 0 (this also
 * rejects an OPT outside the additional section), ARCOUNT > 4, a
 * malformed additional record, an OPT not owned by the root or a second
 * OPT → FORMERR; EDNS version > 0 → BADVERS. Additional records other
 * than OPT (TSIG, SIG(0)) are skipped without parsing their rdata: not
 * supported, and their names could carry pointer loops. */
int dns_wire_parse(const uint8_t *pkt, size_t len, struct dns_wire_query *q);

/* A domain name for the writer: wire form (wire != NULL, borrowed,
 * uncompressed) or presentation form (text, "a.b.c.", \DDD escapes). */
struct dns_wire_name {
	const uint8_t *wire;
	size_t wire_len;
	const char *text;
};

/* One record to write; which fields matter depends on type. */
struct dns_wire_rr {
	struct dns_wire_name owner;
	uint16_t type;
	uint32_t ttl;
	const uint8_t *ip;          /* A: 4 bytes, AAAA: 16 */
	struct dns_wire_name name;  /* CNAME/PTR/NS target, SRV target,
	                             * SOA mname */
	struct dns_wire_name name2; /* SOA rname */
	uint16_t srv_priority, srv_weight, srv_port;
	const char *txt;            /* TXT: one string, split in 255-byte
	                             * character-strings */
	size_t txt_len;
	uint32_t soa[5];            /* serial refresh retry expire minimum */
};

struct dns_wire_writer;

/* Returns a writer owned by the caller (dns_wire_writer_free()), reusable
 * for any number of responses (it allocates nothing after this), or NULL
 * on allocation failure. */
struct dns_wire_writer *dns_wire_writer_new(void);
void dns_wire_writer_free(struct dns_wire_writer *w);

/* Starts a response to q (borrowed until dns_wire_finish()) that must not
 * exceed limit bytes (clamped to [12, 65535]); the OPT record, if q had
 * one, is reserved for. Echoes the question when q->has_question. Returns
 * 0, or ERR_INVAL for a question name dns_wire_parse() would not pass. */
int dns_wire_begin(struct dns_wire_writer *w, const struct dns_wire_query *q,
    size_t limit);

/* Appends rr (borrowed) to section. Returns 0; ERR_TOOBIG if it would pass
 * the limit (nothing written: the response is as before); ERR_INVAL if a
 * text name does not parse or a field is unusable (nothing written);
 * ERR_NOMEM. Sections must be written in order. */
int dns_wire_add(struct dns_wire_writer *w, enum dns_section section,
    const struct dns_wire_rr *rr);

/* Records written so far in section. */
unsigned dns_wire_count(const struct dns_wire_writer *w,
    enum dns_section section);

/* Completes the header (ID, QR=1, opcode, RD and CD copied, aa, tc, ra,
 * rcode; BADVERS through the OPT record) and copies the response into out
 * (outsize bytes). Returns 0, or ERR_TOOBIG if out is too small. */
int dns_wire_finish(struct dns_wire_writer *w, int rcode, bool aa, bool tc,
    bool ra, uint8_t *out, size_t outsize, size_t *outlen);

#endif
