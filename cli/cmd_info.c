/*
 * cmd_info.c — `cairn info`: the Stats of GET /v1/agent/self printed as
 * `consul info` does: each section name (sorted) followed by a colon,
 * then its keys (sorted) as "\t<key> = <value>". The raft and consul
 * sections come from raftd (state, term, commit_index, leader_addr...),
 * the others from httpd. serf_lan and serf_wan (servers) are counted
 * here from /v1/agent/members (members, failed, left) when the agent's
 * Stats lack them. Reference: consul command/info/info.go,
 * serf/serf.go Stats.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cli.h"
#include "cmd_operator.h"

static const char info_usage[] =
    "Usage: cairn info [options]\n\n"
    "  Provides debugging information for operators\n";

/* The keys of obj, sorted; owned array of borrowed strings. */
static const char **
info_keys(json_t *obj, size_t *n)
{
	const char **keys, *k;
	json_t *v;
	size_t i = 0;

	*n = json_object_size(obj);
	if ((keys = calloc(*n + 1, sizeof(*keys))) == NULL)
		return NULL;
	json_object_foreach(obj, k, v)
		keys[i++] = k;
	qsort(keys, *n, sizeof(*keys), table_strcmp);
	return keys;
}

static int
info_print(json_t *stats)
{
	const char **sections, **keys;
	size_t ns, nk;

	if ((sections = info_keys(stats, &ns)) == NULL)
		return 1;
	for (size_t i = 0; i < ns; i++) {
		json_t *sec = json_object_get(stats, sections[i]);

		printf("%s:\n", sections[i]);
		if (!json_is_object(sec))
			continue;
		if ((keys = info_keys(sec, &nk)) == NULL) {
			free(sections);
			return 1;
		}
		for (size_t j = 0; j < nk; j++) {
			json_t *v = json_object_get(sec, keys[j]);

			if (json_is_string(v))
				printf("\t%s = %s\n", keys[j],
				    json_string_value(v));
			else if (json_is_integer(v))
				printf("\t%s = %lld\n", keys[j],
				    (long long)json_integer_value(v));
			else if (json_is_boolean(v))
				printf("\t%s = %s\n", keys[j],
				    json_is_true(v) ? "true" : "false");
			else
				printf("\t%s = \n", keys[j]);
		}
		free(keys);
	}
	free(sections);
	return 0;
}

/* Adds Stats[section] from GET /v1/agent/members[?wan=1]; best effort. */
static void
info_serf(struct http_client *c, json_t *stats, const char *section,
    bool wan)
{
	struct http_response r;
	json_error_t jerr;
	json_t *root, *m, *sec;
	size_t i, alive = 0, failed = 0, left = 0;
	char err[256], buf[32];

	if (json_object_get(stats, section) != NULL)
		return;
	if (http_call(c, "GET", "/v1/agent/members", wan ? "wan=1" : NULL, 0,
	    NULL, 0, &r, err, sizeof(err)) != 0)
		return;
	root = json_loads(r.body, 0, &jerr);
	http_response_free(&r);
	if (!json_is_array(root) || (sec = json_object()) == NULL) {
		json_decref(root);
		return;
	}
	json_array_foreach(root, i, m) {
		switch (json_integer_value(json_object_get(m, "Status"))) {
		case 3:
			left++;
			break;
		case 4:
			failed++;
			break;
		default:
			alive++;
		}
	}
	json_decref(root);
	snprintf(buf, sizeof(buf), "%zu", failed);
	json_object_set_new(sec, "failed", json_string(buf));
	snprintf(buf, sizeof(buf), "%zu", left);
	json_object_set_new(sec, "left", json_string(buf));
	snprintf(buf, sizeof(buf), "%zu", alive + failed + left);
	json_object_set_new(sec, "members", json_string(buf));
	json_object_set_new(sec, "health_score", json_string("0"));
	json_object_set_new(stats, section, sec);
}

int
cmd_info_main(int argc, char **argv)
{
	struct flags_http h = { 0 };
	const struct flags_spec specs[] = {
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	struct http_client c;
	struct http_response r;
	json_error_t jerr;
	json_t *root, *stats;
	int rc;

	if ((rc = flags_parse_none(specs, argc, argv, info_usage)) >= 0)
		return rc;
	if (flags_http_client(&h, &c) != 0)
		return 1;
	if (http_expect(&c, "Error querying agent", "GET", "/v1/agent/self",
	    NULL, 0, NULL, 0, &r) != 0) {
		http_client_fini(&c);
		return 1;
	}
	root = json_loads(r.body, 0, &jerr);
	http_response_free(&r);
	stats = json_object_get(root, "Stats");
	if (!json_is_object(stats)) {
		fprintf(stderr, "Error querying agent: no Stats in "
		    "/v1/agent/self\n");
		json_decref(root);
		http_client_fini(&c);
		return 1;
	}
	info_serf(&c, stats, "serf_lan", false);
	if (json_is_true(json_object_get(json_object_get(root, "Config"),
	    "Server")))
		info_serf(&c, stats, "serf_wan", true);
	http_client_fini(&c);
	rc = info_print(stats);
	json_decref(root);
	return rc;
}
