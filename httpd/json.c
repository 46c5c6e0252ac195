/*
 * json.c — JSON output writer matching Go's encoding/json (see json.h).
 *
 * Escaping follows encode.go appendString with escapeHTML (Go >= 1.22:
 * \b and \f have short forms); UTF-8 validity follows utf8.DecodeRune
 * (an invalid byte becomes \ufffd and consumes one byte). Indentation
 * follows json.Indent: empty arrays and objects stay "[]"/"{}", each
 * element on its own line, "key": value with one space.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"

static const char json_hex[] = "0123456789abcdef";

void
json_init(struct json *w, bool pretty)
{
	memset(w, 0, sizeof(*w));
	w->pretty = pretty;
	w->first[0] = true;
}

void
json_fini(struct json *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

static bool
json_grow(struct json *w, size_t need)
{
	size_t ncap;
	char *nb;

	if (w->err != 0)
		return false;
	if (w->len + need + 1 <= w->cap)
		return true;
	ncap = w->cap ? w->cap : 256;
	while (ncap < w->len + need + 1)
		ncap *= 2;
	if ((nb = realloc(w->buf, ncap)) == NULL) {
		w->err = ERR_NOMEM;
		return false;
	}
	w->buf = nb;
	w->cap = ncap;
	return true;
}

static void
json_put(struct json *w, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (!json_grow(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void
json_putc(struct json *w, char c)
{
	json_put(w, &c, 1);
}

static void
json_newline(struct json *w, int depth)
{
	int i;

	json_putc(w, '\n');
	for (i = 0; i < depth; i++)
		json_put(w, "    ", 4);
}

/* Separator and indentation before a value or a key. */
static void
json_pre(struct json *w, bool is_key)
{
	if (w->err != 0)
		return;
	if (w->after_key) {
		if (is_key || !w->is_obj[w->depth]) {
			w->err = ERR_INVAL;
			return;
		}
		w->after_key = false;
		return;
	}
	if (w->depth > 0 && w->is_obj[w->depth] && !is_key) {
		w->err = ERR_INVAL; /* a value without its key */
		return;
	}
	if (w->depth == 0 && !w->first[0]) {
		w->err = ERR_INVAL; /* a second top-level value */
		return;
	}
	if (w->depth > 0) {
		if (!w->first[w->depth])
			json_putc(w, ',');
		if (w->pretty)
			json_newline(w, w->depth);
	}
	w->first[w->depth] = false;
}

static void
json_open(struct json *w, char c, bool obj)
{
	json_pre(w, false);
	if (w->err != 0)
		return;
	if (w->depth >= JSON_MAX_DEPTH) {
		w->err = ERR_INVAL;
		return;
	}
	json_putc(w, c);
	w->depth++;
	w->first[w->depth] = true;
	w->is_obj[w->depth] = obj;
}

static void
json_close(struct json *w, char c, bool obj)
{
	if (w->err != 0)
		return;
	if (w->depth == 0 || w->is_obj[w->depth] != obj || w->after_key) {
		w->err = ERR_INVAL;
		return;
	}
	if (w->pretty && !w->first[w->depth])
		json_newline(w, w->depth - 1);
	w->depth--;
	json_putc(w, c);
}

void
json_obj_begin(struct json *w)
{
	json_open(w, '{', true);
}

void
json_obj_end(struct json *w)
{
	json_close(w, '}', true);
}

void
json_arr_begin(struct json *w)
{
	json_open(w, '[', false);
}

void
json_arr_end(struct json *w)
{
	json_close(w, ']', false);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
json_utf8_len(const unsigned char *s, size_t n, uint32_t *rune)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;
	uint32_t r;

	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0) {
		len = 2;
		r = c & 0x1f;
	} else if (c < 0xf0) {
		len = 3;
		r = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else {
		len = 4;
		r = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	}
	if (n < len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	r = (r << 6) | (s[1] & 0x3f);
	for (i = 2; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
		r = (r << 6) | (s[i] & 0x3f);
	}
	*rune = r;
	return len;
}

void
json_escape(struct json *w, const char *str, size_t n)
{
	const unsigned char *s;
	size_t i = 0, start = 0, l;
	uint32_t r;
	char esc[6];

	if (str == NULL) /* an empty proto_str may carry no pointer */
		str = "", n = 0;
	s = (const unsigned char *)str;

	json_putc(w, '"');
	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x80) {
			if (c >= 0x20 && c != '"' && c != '\\' && c != '<' &&
			    c != '>' && c != '&') {
				i++;
				continue;
			}
			json_put(w, str + start, i - start);
			switch (c) {
			case '"':
			case '\\':
				esc[0] = '\\';
				esc[1] = (char)c;
				json_put(w, esc, 2);
				break;
			case '\b':
				json_put(w, "\\b", 2);
				break;
			case '\f':
				json_put(w, "\\f", 2);
				break;
			case '\n':
				json_put(w, "\\n", 2);
				break;
			case '\r':
				json_put(w, "\\r", 2);
				break;
			case '\t':
				json_put(w, "\\t", 2);
				break;
			default:
				memcpy(esc, "\\u00", 4);
				esc[4] = json_hex[c >> 4];
				esc[5] = json_hex[c & 0xf];
				json_put(w, esc, 6);
			}
			start = ++i;
			continue;
		}
		l = json_utf8_len(s + i, n - i, &r);
		if (l == 0) {
			json_put(w, str + start, i - start);
			json_put(w, "\\ufffd", 6);
			start = ++i;
			continue;
		}
		if (r == 0x2028 || r == 0x2029) {
			json_put(w, str + start, i - start);
			json_put(w, r == 0x2028 ? "\\u2028" : "\\u2029", 6);
			i += l;
			start = i;
			continue;
		}
		i += l;
	}
	json_put(w, str + start, n - start);
	json_putc(w, '"');
}

void
json_keyn(struct json *w, const char *k, size_t n)
{
	json_pre(w, true);
	if (w->err != 0)
		return;
	json_escape(w, k, n);
	json_putc(w, ':');
	if (w->pretty)
		json_putc(w, ' ');
	w->after_key = true;
}

void
json_key(struct json *w, const char *k)
{
	json_keyn(w, k, strlen(k));
}

void
json_strn(struct json *w, const char *s, size_t n)
{
	json_pre(w, false);
	if (w->err != 0)
		return;
	json_escape(w, s, n);
}

void
json_str(struct json *w, const char *s)
{
	if (s == NULL)
		json_null(w);
	else
		json_strn(w, s, strlen(s));
}

void
json_u64(struct json *w, uint64_t v)
{
	char b[24];
	int n;

	json_pre(w, false);
	n = snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
	json_put(w, b, (size_t)n);
}

void
json_i64(struct json *w, int64_t v)
{
	char b[24];
	int n;

	json_pre(w, false);
	n = snprintf(b, sizeof(b), "%lld", (long long)v);
	json_put(w, b, (size_t)n);
}

void
json_bool(struct json *w, bool v)
{
	json_pre(w, false);
	json_put(w, v ? "true" : "false", v ? 4 : 5);
}

void
json_null(struct json *w)
{
	json_pre(w, false);
	json_put(w, "null", 4);
}

void
json_base64(struct json *w, const void *data, size_t n)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	size_t i, o = 0, out;
	char *dst;

	if (n == 0) {
		json_null(w);
		return;
	}
	json_pre(w, false);
	out = 4 * ((n + 2) / 3);
	if (!json_grow(w, out + 2))
		return;
	dst = w->buf + w->len;
	dst[o++] = '"';
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
		    p[i + 2];
		dst[o++] = tbl[v >> 18];
		dst[o++] = tbl[(v >> 12) & 63];
		dst[o++] = tbl[(v >> 6) & 63];
		dst[o++] = tbl[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		dst[o++] = tbl[v >> 18];
		dst[o++] = tbl[(v >> 12) & 63];
		dst[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
		dst[o++] = '=';
	}
	dst[o++] = '"';
	w->len += o;
	w->buf[w->len] = '\0';
}

void
json_kv_str(struct json *w, const char *k, const char *v)
{
	json_key(w, k);
	json_str(w, v);
}

void
json_kv_u64(struct json *w, const char *k, uint64_t v)
{
	json_key(w, k);
	json_u64(w, v);
}

void
json_kv_i64(struct json *w, const char *k, int64_t v)
{
	json_key(w, k);
	json_i64(w, v);
}

void
json_kv_bool(struct json *w, const char *k, bool v)
{
	json_key(w, k);
	json_bool(w, v);
}

int
json_finish(struct json *w, char **out, size_t *len)
{
	int rc;

	if (w->err == 0 && (w->depth != 0 || w->first[0] || w->after_key))
		w->err = ERR_INVAL;
	if (w->err == 0 && w->pretty)
		json_putc(w, '\n');
	if ((rc = w->err) != 0) {
		json_fini(w);
		return rc;
	}
	*out = w->buf;
	*len = w->len;
	w->buf = NULL;
	w->len = w->cap = 0;
	return 0;
}
