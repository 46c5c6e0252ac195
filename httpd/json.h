/*
 * json.h — a small JSON writer for httpd's OUTPUT, byte-identical to Go's
 * encoding/json as Consul uses it.
 *
 * Why our own: Flags is a full uint64 (consul lock uses 0x2ddccbc058a50c18)
 * and jansson stores integers as json_int_t (int64); and Consul's bytes
 * must match: strings escaped like Go (\u003c \u003e \u0026 for < > &,
 * \u2028 \u2029, invalid UTF-8 as \ufffd, lowercase hex), compact output
 * without a trailing newline, pretty output as json.MarshalIndent(v, "",
 * "    ") plus "\n" (agent/http.go marshalJSON). jansson is used only to
 * PARSE request bodies. Reference: Go src/encoding/json/encode.go,
 * indent.go; spec/consul-api.md §1.3.
 *
 * Use: json_init(), then a sequence of begin/end, key and value calls in
 * document order; json_finish() returns the text. A misuse (value where a
 * key is expected, nesting deeper than JSON_MAX_DEPTH) or an allocation
 * failure sets w->err; later calls are ignored and json_finish() fails.
 */
#ifndef CAIRN_HTTPD_JSON_H
#define CAIRN_HTTPD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 64

struct json {
	char *buf;
	size_t len;
	size_t cap;
	bool pretty;
	int depth;
	bool after_key;
	bool first[JSON_MAX_DEPTH + 1]; /* no element yet at this depth */
	bool is_obj[JSON_MAX_DEPTH + 1];
	int err; /* 0 or ERR_NOMEM/ERR_INVAL */
};

void json_init(struct json *w, bool pretty);
/* Frees the buffer of a writer that was not finished. */
void json_fini(struct json *w);

void json_obj_begin(struct json *w);
void json_obj_end(struct json *w);
void json_arr_begin(struct json *w);
void json_arr_end(struct json *w);
/* An object key; k is borrowed. */
void json_key(struct json *w, const char *k);
void json_keyn(struct json *w, const char *k, size_t n);

void json_str(struct json *w, const char *s); /* NULL writes null */
void json_strn(struct json *w, const char *s, size_t n);
void json_u64(struct json *w, uint64_t v);
void json_i64(struct json *w, int64_t v);
void json_bool(struct json *w, bool v);
void json_null(struct json *w);
/* base64 (standard alphabet, padded) of data as a string; n == 0: null. */
void json_base64(struct json *w, const void *data, size_t n);

/* Shorthands for one key and its value. */
void json_kv_str(struct json *w, const char *k, const char *v);
void json_kv_u64(struct json *w, const char *k, uint64_t v);
void json_kv_i64(struct json *w, const char *k, int64_t v);
void json_kv_bool(struct json *w, const char *k, bool v);

/*
 * Completes the document (pretty: appends "\n") and returns the owned text
 * in *out (free with free(); NUL-terminated, length *len). Returns 0 or
 * the writer's error; the writer is left empty either way.
 */
int json_finish(struct json *w, char **out, size_t *len);

/* Appends s (n bytes) escaped as a Go JSON string, quotes included, to w. */
void json_escape(struct json *w, const char *s, size_t n);

#endif
