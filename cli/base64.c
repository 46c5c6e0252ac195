/*
 * base64.c — RFC 4648 §4 base64 (standard alphabet, padded), for KV
 * values: the API carries them in base64, `cairn kv get -base64` prints
 * them so and `kv export`/`kv import` exchange them so. Decoding is as
 * strict as Go's base64.StdEncoding (padding required, no whitespace),
 * since Consul's CLI rejects what that rejects. None of the project's
 * libraries exposes base64, hence these few lines.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "log.h"

static const char base64_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
base64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = malloc(4 * ((len + 2) / 3) + 1), *o = out;

	if (out == NULL)
		fatal("malloc");
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = base64_alpha[(v >> 18) & 63];
		*o++ = base64_alpha[(v >> 12) & 63];
		*o++ = i + 1 < len ? base64_alpha[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? base64_alpha[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int
base64_val(unsigned char c)
{
	const char *p = c ? strchr(base64_alpha, c) : NULL;
	return p ? (int)(p - base64_alpha) : -1;
}

int
base64_decode(const char *s, size_t slen, char **out, size_t *outlen,
    size_t *bad)
{
	char *o = malloc(slen / 4 * 3 + 1);
	size_t n = 0, i;

	if (o == NULL)
		fatal("malloc");
	for (i = 0; i < slen; i += 4) {
		int v[4];
		size_t pad = 0;
		for (size_t j = 0; j < 4; j++) {
			if (i + j >= slen) {
				*bad = i;
				goto fail;
			}
			unsigned char c = (unsigned char)s[i + j];
			if (c == '=' && j >= 2 && i + 4 == slen) {
				pad++;
				v[j] = 0;
				continue;
			}
			if (pad > 0 || (v[j] = base64_val(c)) < 0) {
				*bad = i + j;
				goto fail;
			}
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		    (uint32_t)v[2] << 6 | (uint32_t)v[3];
		o[n++] = (char)(w >> 16);
		if (pad < 2)
			o[n++] = (char)(w >> 8);
		if (pad < 1)
			o[n++] = (char)w;
	}
	o[n] = '\0';
	*out = o;
	*outlen = n;
	return 0;
fail:
	free(o);
	return ERR_INVAL;
}
