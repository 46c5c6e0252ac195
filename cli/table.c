/*
 * table.c — how the cairn command prints tables and maps: columns as
 * ryanuber/columnize's SimpleFormat lays them out (each padded to its
 * widest cell, two spaces apart, the last one unpadded) and a string map
 * as "k=v" pairs sorted by key.
 *
 * Key decision: one copy for members, catalog nodes and operator raft
 * list-peers, which Consul all prints through columnize; callers own
 * their cells and hand over a flat rows x columns array of borrowed
 * strings. Reference: github.com/ryanuber/columnize, consul
 * command/catalog/list/nodes (mapToKV).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "log.h"

int
table_strcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void
table_print(const char *const *cells, size_t nrows, size_t ncols)
{
	size_t *w = calloc(ncols + 1, sizeof(*w)), r, c;

	if (w == NULL)
		fatal("calloc");
	for (r = 0; r < nrows; r++)
		for (c = 0; c < ncols; c++)
			if (strlen(cells[r * ncols + c]) > w[c])
				w[c] = strlen(cells[r * ncols + c]);
	for (r = 0; r < nrows; r++)
		for (c = 0; c < ncols; c++) {
			const char *s = cells[r * ncols + c];

			if (c + 1 == ncols)
				printf("%s\n", s);
			else
				printf("%-*s  ", (int)w[c], s);
		}
	free(w);
}

char *
table_map_kv(json_t *m, const char *sep)
{
	size_t n = json_object_size(m), i = 0, len = 1;
	const char *k, **keys;
	json_t *v;
	char *out;

	if ((keys = calloc(n + 1, sizeof(*keys))) == NULL)
		return NULL;
	json_object_foreach(m, k, v) {
		const char *s = json_string_value(v);

		keys[i++] = k;
		len += strlen(k) + strlen(sep) + 1 + strlen(s ? s : "");
	}
	qsort(keys, n, sizeof(*keys), table_strcmp);
	if ((out = calloc(1, len)) == NULL) {
		free(keys);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		const char *val = json_string_value(json_object_get(m,
		    keys[i]));

		if (i > 0)
			strcat(out, sep);
		strcat(out, keys[i]);
		strcat(out, "=");
		strcat(out, val ? val : "");
	}
	free(keys);
	return out;
}
