/*
 * test_http_connlimit.c — per-client-IP connection counting behind
 * limits.http_max_conns_per_client: the 201st connection from one address
 * is over the limit, other addresses are not affected, closing frees a
 * slot, and 0 means unlimited.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "httpd/connlimit.h"

static const uint8_t a4[4] = { 127, 0, 0, 1 };
static const uint8_t b4[4] = { 10, 0, 0, 2 };
static const uint8_t a6[16] = { [15] = 1 };

static void
test_limit_per_address(void **state)
{
	struct connlimit cl;
	int i;

	connlimit_init(&cl, 200);
	for (i = 0; i < 200; i++)
		assert_int_equal(connlimit_acquire(&cl, a4, 4), 0);
	assert_int_equal(connlimit_acquire(&cl, a4, 4), ERR_TOOBIG);
	/* another address, and the same bytes as IPv6, are separate */
	assert_int_equal(connlimit_acquire(&cl, b4, 4), 0);
	assert_int_equal(connlimit_acquire(&cl, a6, 16), 0);
	assert_int_equal(connlimit_count(&cl, a4, 4), 201);
	/* the refused one is released when it closes, then one more */
	connlimit_release(&cl, a4, 4);
	connlimit_release(&cl, a4, 4);
	assert_int_equal(connlimit_acquire(&cl, a4, 4), 0);
	assert_int_equal(connlimit_count(&cl, b4, 4), 1);
	connlimit_release(&cl, b4, 4);
	assert_int_equal(connlimit_count(&cl, b4, 4), 0);
	connlimit_release(&cl, b4, 4); /* unknown: ignored */
	assert_int_equal(connlimit_count(&cl, a6, 16), 1);
	assert_int_equal(connlimit_acquire(&cl, a4, 3), ERR_INVAL);
	connlimit_fini(&cl);
}

static void
test_zero_is_unlimited(void **state)
{
	struct connlimit cl;
	int i;

	connlimit_init(&cl, 0);
	for (i = 0; i < 5000; i++)
		assert_int_equal(connlimit_acquire(&cl, a4, 4), 0);
	for (i = 0; i < 5000; i++)
		connlimit_release(&cl, a4, 4);
	assert_int_equal(connlimit_count(&cl, a4, 4), 0);
	assert_int_equal(cl.n, 0);
	connlimit_fini(&cl);
}

static void
test_many_addresses(void **state)
{
	struct connlimit cl;
	uint8_t ip[4] = { 10, 0, 0, 0 };
	int i;

	connlimit_init(&cl, 1);
	for (i = 0; i < 1000; i++) {
		ip[2] = (uint8_t)(i >> 8);
		ip[3] = (uint8_t)i;
		assert_int_equal(connlimit_acquire(&cl, ip, 4), 0);
	}
	assert_int_equal(cl.n, 1000);
	for (i = 0; i < 1000; i += 2) {
		ip[2] = (uint8_t)(i >> 8);
		ip[3] = (uint8_t)i;
		connlimit_release(&cl, ip, 4);
	}
	assert_int_equal(cl.n, 500);
	ip[2] = 0;
	ip[3] = 1;
	assert_int_equal(connlimit_acquire(&cl, ip, 4), ERR_TOOBIG);
	connlimit_fini(&cl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_per_address),
		cmocka_unit_test(test_zero_is_unlimited),
		cmocka_unit_test(test_many_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
