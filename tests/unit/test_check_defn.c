/*
 * test_check_defn.c — checkd's definition decoding and persisted form:
 * Consul's case-insensitive keys and snake_case aliases, durations as Go
 * strings or integer nanoseconds, generated check IDs and names, the
 * exact error texts, interval and timeout defaults, TTL update bodies with
 * the 4 KiB output cap, Go duration formatting, and the round trip of a
 * service and a check through render_persist_*() and back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checkd/checkd.h"
#include "err.h"

/* render.c looks services up for ServiceName; no state here. */
struct svc *
local_svc(const struct checkd *cd, const char *id)
{
	(void)cd;
	(void)id;
	return NULL;
}

/* ... and a service's checks (render_health); none here either. */
struct chk *
local_svc_chk(const struct checkd *cd, const char *sid)
{
	(void)cd;
	(void)sid;
	return NULL;
}

struct chk *
local_svc_chk_next(const struct chk *c)
{
	(void)c;
	return NULL;
}

static int
svc(const char *json, struct svc_def *d, char *err, int *st)
{
	return defn_service(json, strlen(json), SRC_API, d, err, 256, st);
}

static void
test_service_case_and_ids(void **state)
{
	struct svc_def d;
	char err[256];
	int st = 0;
	struct chk *c;

	(void)state;
	assert_int_equal(svc("{\"name\":\"web\",\"PORT\":80,\"tags\":[\"a\"],"
	    "\"enable_tag_override\":true,\"check\":{\"ttl\":\"30s\"},"
	    "\"Checks\":[{\"HTTP\":\"http://x/\",\"interval\":1500000000},"
	    "{\"tcp\":\"127.0.0.1:1\",\"Interval\":\"10ms\",\"name\":\"n3\","
	    "\"CheckID\":\"mine\"}]}", &d, err, &st), 0);
	assert_string_equal(d.svc->id, "web"); /* ID defaults to Name */
	assert_int_equal(d.svc->port, 80);
	assert_true(d.svc->enable_tag_override);
	assert_int_equal(d.svc->weight_passing, 1);
	assert_int_equal(d.svc->weight_warning, 1);
	c = d.checks;
	assert_string_equal(c->id, "service:web:1"); /* Check first */
	assert_string_equal(c->name, "Service 'web' check");
	assert_int_equal(c->type, CT_TTL);
	assert_int_equal(c->ttl_ms, 30000);
	assert_int_equal(c->status, CHECK_CRITICAL);
	c = c->next;
	assert_string_equal(c->id, "service:web:2");
	assert_int_equal(c->type, CT_HTTP);
	assert_int_equal(c->interval_ms, 1500); /* integer nanoseconds */
	assert_int_equal(c->timeout_ms, 10000);
	assert_string_equal(c->method, "GET");
	assert_string_equal(c->service_id, "web");
	c = c->next;
	assert_string_equal(c->id, "mine");
	assert_string_equal(c->name, "n3");
	assert_int_equal(c->interval_ms, 1000); /* raised to the minimum */
	assert_null(c->next);
	defn_svc_def_free(&d);

	assert_int_equal(svc("{\"Name\":\"a\",\"ID\":\"a1\",\"Check\":"
	    "{\"Args\":[\"true\"],\"Interval\":\"5s\",\"status\":\"passing\"}}",
	    &d, err, &st), 0);
	assert_string_equal(d.checks->id, "service:a1"); /* a lone check */
	assert_int_equal(d.checks->type, CT_SCRIPT);
	assert_int_equal(d.checks->timeout_ms, 30000);
	assert_int_equal(d.checks->status, CHECK_PASSING);
	assert_true(d.checks->status_given);
	defn_svc_def_free(&d);
}

static void
test_service_errors(void **state)
{
	struct svc_def d;
	char err[256];
	int st = 0;

	(void)state;
	assert_int_equal(svc("{\"Port\":1}", &d, err, &st), ERR_INVAL);
	assert_int_equal(st, 400);
	assert_string_equal(err, "Missing service name");
	assert_int_equal(svc("{\"Name\":\"x\",\"Check\":{\"HTTP\":\"http://a\"}}",
	    &d, err, &st), ERR_INVAL);
	assert_string_equal(err, "Must provide TTL or Script/DockerContainerID/"
	    "HTTP/TCP/UDP/H2PING/GRPC/AliasService and Interval");
	assert_int_equal(svc("{\"Name\":\"x\",\"Check\":{\"TTL\":\"1s\","
	    "\"Status\":\"up\"}}", &d, err, &st), ERR_INVAL);
	assert_string_equal(err, "Status for checks must 'passing', 'warning', "
	    "'critical'");
	assert_int_equal(svc("{\"Name\":\"x\",\"Check\":{\"TTL\":\"soon\"}}",
	    &d, err, &st), ERR_INVAL);
	assert_non_null(strstr(err, "invalid duration"));
	assert_int_equal(svc("", &d, err, &st), ERR_INVAL);
	assert_string_equal(err, "Request decode failed: EOF");
	assert_int_equal(svc("{\"Name\":5}", &d, err, &st), ERR_INVAL);
	assert_int_equal(st, 400);
	assert_int_equal(svc("[1,2]", &d, err, &st), ERR_INVAL);
	assert_int_equal(svc("{\"Name\":\"x\",\"Check\":{\"H2PING\":\"a:1\","
	    "\"Interval\":\"1s\"}}", &d, err, &st), ERR_INVAL);
	assert_non_null(strstr(err, "not supported"));
	assert_int_equal(svc("{\"Name\":\"x\",\"Check\":{\"GRPC\":\"a:1\"}}",
	    &d, err, &st), ERR_INVAL); /* an interval is required */
	assert_int_equal(svc("{\"Name\":\"x\",\"Check\":{\"grpc\":\"a:1/s\","
	    "\"grpc_use_tls\":true,\"Interval\":\"3s\"}}", &d, err, &st), 0);
	assert_int_equal(d.checks->type, CT_GRPC);
	assert_string_equal(d.checks->grpc, "a:1/s");
	assert_true(d.checks->grpc_use_tls);
	defn_svc_def_free(&d);
}

static void
test_check_register(void **state)
{
	struct chk *c;
	char err[256];
	int st = 0;
	const char *j = "{\"name\":\"mem\",\"service_id\":\"web\","
	    "\"deregister_critical_service_after\":\"10s\","
	    "\"udp\":\"127.0.0.1:53\",\"interval\":\"2s\","
	    "\"header\":{\"X-A\":[\"1\",\"2\"]},\"failures_before_critical\":3}";

	(void)state;
	assert_int_equal(defn_check(j, strlen(j), SRC_API, &c, err,
	    sizeof(err), &st), 0);
	assert_string_equal(c->id, "mem"); /* CheckID defaults to Name */
	assert_string_equal(c->service_id, "web");
	assert_int_equal(c->deregister_ms, 60000); /* minimum 1m */
	assert_int_equal(c->type, CT_UDP);
	assert_int_equal(c->n_headers, 2);
	assert_int_equal(c->lim.failures_before_critical, 3);
	assert_int_equal(c->lim.failures_before_warning, 3);
	chk_free(c);
	j = "{\"TTL\":\"5s\"}";
	assert_int_equal(defn_check(j, strlen(j), SRC_API, &c, err,
	    sizeof(err), &st), ERR_INVAL);
	assert_string_equal(err, "Missing check name");
	j = "{\"Name\":\"a\",\"TTL\":\"5s\",\"Status\":\"nope\"}";
	assert_int_equal(defn_check(j, strlen(j), SRC_API, &c, err,
	    sizeof(err), &st), ERR_INVAL);
	assert_string_equal(err, "Bad check status");
	j = "{\"Name\":\"a\",\"TTL\":\"5s\",\"Interval\":\"5s\"}";
	assert_int_equal(defn_check(j, strlen(j), SRC_API, &c, err,
	    sizeof(err), &st), ERR_INVAL);
}

static void
test_update_and_cap(void **state)
{
	char err[256], *out, *big, *json;
	int st;

	(void)state;
	assert_int_equal(defn_update("{\"status\":\"warning\",\"output\":\"x\"}",
	    33, &st, &out, err, sizeof(err)), 0);
	assert_int_equal(st, CHECK_WARNING);
	assert_string_equal(out, "x");
	free(out);
	assert_int_equal(defn_update("{\"Status\":\"up\"}", 15, &st, &out, err,
	    sizeof(err)), ERR_INVAL);
	assert_string_equal(err, "Invalid check status: 'up'");
	big = malloc(5001);
	memset(big, 'y', 5000);
	big[5000] = '\0';
	assert_true(asprintf(&json, "{\"Status\":\"passing\",\"Output\":"
	    "\"%s\"}", big) > 0);
	assert_int_equal(defn_update(json, strlen(json), &st, &out, err,
	    sizeof(err)), 0);
	assert_int_equal(strlen(out), 4096 + strlen(" ... (captured 4096 of "
	    "5000 bytes)"));
	assert_string_equal(out + 4096, " ... (captured 4096 of 5000 bytes)");
	free(out);
	free(json);
	free(big);
}

static void
test_go_duration(void **state)
{
	char b[32];

	(void)state;
	go_duration(0, b, sizeof(b));
	assert_string_equal(b, "0s");
	go_duration(500, b, sizeof(b));
	assert_string_equal(b, "500ms");
	go_duration(10000, b, sizeof(b));
	assert_string_equal(b, "10s");
	go_duration(90000, b, sizeof(b));
	assert_string_equal(b, "1m30s");
	go_duration(1500, b, sizeof(b));
	assert_string_equal(b, "1.5s");
	go_duration(3600000, b, sizeof(b));
	assert_string_equal(b, "1h0m0s");
}

static void
test_persist_round_trip(void **state)
{
	struct svc_def d;
	struct chk *c;
	char err[256], *text;
	uint64_t wall;
	bool maint;
	int st;

	(void)state;
	assert_int_equal(svc("{\"Name\":\"web\",\"ID\":\"web-1\",\"Tags\":"
	    "[\"t\"],\"Meta\":{\"k\":\"v\"},\"Address\":\"10.0.0.1\",\"Port\":9,"
	    "\"TaggedAddresses\":{\"lan\":{\"address\":\"10.0.0.1\","
	    "\"port\":9}},\"Weights\":{\"Passing\":3,\"Warning\":2},"
	    "\"Check\":{\"TTL\":\"30s\",\"Notes\":\"n\"}}", &d, err, &st), 0);
	text = render_persist_service(d.svc);
	assert_non_null(text);
	{
		struct svc_def e;
		assert_int_equal(svc(text, &e, err, &st), 0);
		assert_string_equal(e.svc->id, "web-1");
		assert_string_equal(e.svc->name, "web");
		assert_int_equal(e.svc->n_tags, 1);
		assert_string_equal(e.svc->meta[0].v, "v");
		assert_string_equal(e.svc->taddrs[0].address, "10.0.0.1");
		assert_int_equal(e.svc->taddrs[0].port, 9);
		assert_int_equal(e.svc->weight_passing, 3);
		assert_int_equal(e.svc->weight_warning, 2);
		defn_svc_def_free(&e);
	}
	free(text);
	d.checks->status = CHECK_WARNING;
	free(d.checks->output);
	d.checks->output = strdup("half");
	d.checks->maint = true;
	text = render_persist_check(d.checks, 1234567);
	assert_int_equal(defn_check_persisted(text, &c), 0);
	assert_string_equal(c->id, "service:web-1");
	assert_string_equal(c->service_id, "web-1");
	assert_string_equal(c->notes, "n");
	assert_int_equal(c->status, CHECK_WARNING);
	assert_string_equal(c->output, "half");
	assert_int_equal(c->ttl_ms, 30000);
	assert_true(c->maint);
	assert_int_equal(defn_persist_extra(text, &wall, &maint), 0);
	assert_int_equal(wall, 1234567);
	chk_free(c);
	free(text);
	defn_svc_def_free(&d);
	assert_int_equal(defn_check_persisted("{broken", &c), ERR_CORRUPT);
}

/* Output that is not UTF-8 (a script's bytes) is kept, with U+FFFD. */
static void
test_output_not_utf8(void **state)
{
	struct chk *c;
	char err[256], *text;
	int st;
	const char *j = "{\"Name\":\"s\",\"TTL\":\"5s\"}";

	(void)state;
	assert_int_equal(defn_check(j, strlen(j), SRC_API, &c, err,
	    sizeof(err), &st), 0);
	free(c->output);
	c->output = strdup("ok \xff\xfe \xc3\xa9 end");
	text = render_persist_check(c, 0);
	chk_free(c);
	assert_int_equal(defn_check_persisted(text, &c), 0);
	assert_string_equal(c->output,
	    "ok \xef\xbf\xbd\xef\xbf\xbd \xc3\xa9 end");
	chk_free(c);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_case_and_ids),
		cmocka_unit_test(test_service_errors),
		cmocka_unit_test(test_check_register),
		cmocka_unit_test(test_update_and_cap),
		cmocka_unit_test(test_go_duration),
		cmocka_unit_test(test_persist_round_trip),
		cmocka_unit_test(test_output_not_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
