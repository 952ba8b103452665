// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/pipeline/identity.c: account ids per --identity mode (a header,
 * the client address, its prefix, X-Forwarded-For from trusted proxies)
 * under one key and another, and key files, modes and proxy lists refused
 * with the fix. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "pipeline/identity.h"
#include "proto/http.h"

static enum hw_parse_result http(const char *s, const char *ident, struct hw_http_request *r)
{
	return hw_http_parse_request((const uint8_t *)s, strlen(s), ident, r);
}

static void write_key(const char *path, const char *key, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(key, f);
	fclose(f);
	chmod(path, mode);
}

static void test_identity(void **state)
{
	struct hw_identity a, b;
	struct hw_http_request r;
	char err[256], id1[HW_ACCOUNT_LEN + 1], id2[HW_ACCOUNT_LEN + 1];
	uint8_t ip1[16] = {[10] = 0xff, [11] = 0xff, 10, 1, 2, 3};
	uint8_t ip2[16] = {[10] = 0xff, [11] = 0xff, 10, 1, 2, 200};
	uint8_t ip3[16] = {[10] = 0xff, [11] = 0xff, 10, 1, 3, 3};
	char path[] = "/tmp/hwkeyXXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);

	/* header mode: same key, same value -> same id; another key differs */
	assert_int_equal(hw_identity_parse("header:X-Api-Key", &a, err, sizeof(err)), 0);
	assert_string_equal(a.header, "x-api-key");
	write_key(path, "0123456789abcdef-key-one\n", 0600);
	assert_int_equal(hw_identity_load_key(&a, path, err, sizeof(err)), 0);
	assert_int_equal(http("GET / HTTP/1.1\r\nX-API-KEY: sk-planted\r\n\r\n", a.header, &r),
			 HW_PARSE_OK);
	assert_int_equal(hw_identity_account(&a, &r, ip1, id1), 0);
	assert_int_equal(strlen(id1), HW_ACCOUNT_LEN);
	assert_null(strstr(id1, "planted"));
	assert_int_equal(hw_identity_account(&a, &r, ip2, id2), 0);
	assert_string_equal(id1, id2); /* the address does not matter in header mode */
	b = a;
	write_key(path, "0123456789abcdef-key-two\n", 0600);
	assert_int_equal(hw_identity_load_key(&b, path, err, sizeof(err)), 0);
	assert_int_equal(hw_identity_account(&b, &r, ip1, id2), 0);
	assert_string_not_equal(id1, id2);
	/* header missing: no account */
	assert_int_equal(http("GET / HTTP/1.1\r\nHost: a\r\n\r\n", a.header, &r), HW_PARSE_OK);
	assert_int_equal(hw_identity_account(&a, &r, ip1, id2), -ENOENT);

	/* prefix mode groups a /24 */
	assert_int_equal(hw_identity_parse("client-prefix:/24,/48", &a, err, sizeof(err)), 0);
	assert_int_equal(hw_identity_account(&a, NULL, ip1, id1), 0);
	assert_int_equal(hw_identity_account(&a, NULL, ip2, id2), 0);
	assert_string_equal(id1, id2);
	assert_int_equal(hw_identity_account(&a, NULL, ip3, id2), 0);
	assert_string_not_equal(id1, id2);
	/* client-ip separates them */
	assert_int_equal(hw_identity_parse("client-ip", &a, err, sizeof(err)), 0);
	assert_int_equal(hw_identity_account(&a, NULL, ip1, id1), 0);
	assert_int_equal(hw_identity_account(&a, NULL, ip2, id2), 0);
	assert_string_not_equal(id1, id2);
	/* xff from a trusted proxy: the client's address, whose account is
	 * the one client-ip gives that address */
	assert_int_equal(hw_identity_parse("xff", &a, err, sizeof(err)), 0);
	assert_int_equal(hw_identity_set_trusted(&a, "10.0.0.0/8", err, sizeof(err)), 0);
	assert_int_equal(
	    http("GET / HTTP/1.1\r\nX-Forwarded-For: 10.1.2.200 , 10.0.0.1\r\n\r\n", NULL, &r),
	    HW_PARSE_OK);
	assert_int_equal(hw_identity_account(&a, &r, ip1, id1), 0);
	b = a; /* the same key */
	assert_int_equal(hw_identity_parse("client-ip", &b, err, sizeof(err)), 0);
	assert_int_equal(hw_identity_account(&b, NULL, ip2, id2), 0);
	assert_string_equal(id1, id2);

	/* key files: world-readable, too short, missing are refused with a fix */
	write_key(path, "0123456789abcdef-key\n", 0644);
	assert_int_equal(hw_identity_load_key(&a, path, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "chmod 600"));
	write_key(path, "short\n", 0600);
	assert_int_equal(hw_identity_load_key(&a, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "at least"));
	unlink(path);
	assert_int_equal(hw_identity_load_key(&a, path, err, sizeof(err)), -ENOENT);
	/* bad modes */
	assert_int_equal(hw_identity_parse("header:", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(hw_identity_parse("header:a b", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(hw_identity_parse("client-prefix:/33", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(hw_identity_parse("cookie", &a, err, sizeof(err)), -EINVAL);
}

/* A long token is hashed whole: two values that differ only past the first
 * 600 bytes are two accounts (a cut would have made them one) */
static void test_long_identity_value_hashed_whole(void **state)
{
	struct hw_identity a;
	struct hw_http_request r = {0};
	uint8_t ip[16] = {[10] = 0xff, [11] = 0xff, 10, 1, 2, 3};
	char err[256], id1[HW_ACCOUNT_LEN + 1], id2[HW_ACCOUNT_LEN + 1], v[700];

	(void)state;
	assert_int_equal(hw_identity_parse("header:x-api-key", &a, err, sizeof(err)), 0);
	assert_int_equal(hw_identity_load_key(&a, NULL, err, sizeof(err)), 0);
	memset(v, 'k', sizeof(v));
	r.ident = (struct hw_str){v, sizeof(v)};
	assert_int_equal(hw_identity_account(&a, &r, ip, id1), 0);
	v[sizeof(v) - 1] = 'x';
	assert_int_equal(hw_identity_account(&a, &r, ip, id2), 0);
	assert_string_not_equal(id1, id2);
}

static void addr4(uint8_t a[16], int x, int y, int z, int w)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	a[12] = (uint8_t)x, a[13] = (uint8_t)y, a[14] = (uint8_t)z, a[15] = (uint8_t)w;
}

/* --identity xff follows nginx's real_ip with set_real_ip_from and
 * real_ip_recursive on: only a trusted peer's X-Forwarded-For counts, and
 * of it the right-most address that is not a trusted proxy; the left-most
 * entry is whatever the client wrote (issue 13, item 10). */
static void test_xff_trusted_proxies(void **state)
{
	static const struct {
		const char *peer;
		const char *xff;    /* header lines after the request line */
		const char *client; /* NULL: want err */
		int err;
	} cases[] = {
	    /* a client straight to the server: it is the client, whatever it wrote */
	    {"192.0.2.50", "X-Forwarded-For: 6.6.6.6\r\n", "192.0.2.50", 0},
	    {"192.0.2.50", "", "192.0.2.50", 0},
	    /* through a trusted proxy */
	    {"10.0.0.1", "X-Forwarded-For: 203.0.113.9\r\n", "203.0.113.9", 0},
	    /* the left-most entry is the client's own writing */
	    {"10.0.0.1", "X-Forwarded-For: 6.6.6.6, 203.0.113.9\r\n", "203.0.113.9", 0},
	    /* past every trusted proxy in the chain */
	    {"10.0.0.1", "X-Forwarded-For: 6.6.6.6, 203.0.113.9, 10.1.1.1,10.2.2.2\r\n",
	     "203.0.113.9", 0},
	    /* all trusted: the left-most */
	    {"10.0.0.1", "X-Forwarded-For: 10.1.1.1, 10.2.2.2\r\n", "10.1.1.1", 0},
	    /* a proxy that appends a line of its own (HAProxy's option
	     * forwardfor) after the client's: one list, in order */
	    {"10.0.0.1", "X-Forwarded-For: 6.6.6.6\r\nHost: a\r\nX-Forwarded-For: 203.0.113.9\r\n",
	     "203.0.113.9", 0},
	    {"10.0.0.1", "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-For: 10.3.3.3\r\n",
	     "203.0.113.9", 0},
	    /* ports and brackets, as some proxies write them */
	    {"10.0.0.1", "X-Forwarded-For: [2001:db8::7]:443, 10.0.0.3:8080\r\n", "2001:db8::7", 0},
	    {"10.0.0.1", "X-Forwarded-For: 2001:db8::7\r\n", "2001:db8::7", 0},
	    /* spaces separate entries too (nginx), and a folded line's end */
	    {"10.0.0.1", "X-Forwarded-For: 6.6.6.6 203.0.113.9\r\n", "203.0.113.9", 0},
	    {"10.0.0.1", "X-Forwarded-For: 6.6.6.6,\r\n 203.0.113.9\r\n", "203.0.113.9", 0},
	    /* no address where one is needed */
	    {"10.0.0.1", "X-Forwarded-For: 203.0.113.9, unknown\r\n", NULL, -EINVAL},
	    /* behind a trusted address, the walk stops at the last address */
	    {"10.0.0.1", "X-Forwarded-For: unknown, 10.1.1.1\r\n", "10.1.1.1", 0},
	    /* a trusted peer that says nothing */
	    {"10.0.0.1", "", NULL, -ENOENT},
	    {"10.0.0.1", "X-Forwarded-For: \r\n", NULL, -ENOENT},
	    /* IPv6 ranges, and a v4-mapped peer in an IPv4 range */
	    {"2001:db8:ffff::1", "X-Forwarded-For: 2001:db8::9\r\n", "2001:db8::9", 0},
	    {"::ffff:10.9.9.9", "X-Forwarded-For: 198.51.100.1\r\n", "198.51.100.1", 0},
	    {"2001:db8:fffe::1", "X-Forwarded-For: 2001:db8::9\r\n", "2001:db8:fffe::1", 0},
	};
	struct hw_identity id;
	struct hw_http_request r;
	char err[256], head[512];

	(void)state;
	assert_int_equal(hw_identity_parse("xff", &id, err, sizeof(err)), 0);
	assert_int_equal(
	    hw_identity_set_trusted(&id, "10.0.0.0/8,2001:db8:ffff::/48", err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t peer[16], got[16], want[16] = {0};
		char text[64];

		assert_int_equal(inet_pton(AF_INET6, cases[i].peer, peer) == 1 ||
				     (addr4(peer, 0, 0, 0, 0),
				      inet_pton(AF_INET, cases[i].peer, peer + 12) == 1),
				 1);
		snprintf(head, sizeof(head), "GET / HTTP/1.1\r\n%s\r\n", cases[i].xff);
		assert_int_equal(http(head, NULL, &r), HW_PARSE_OK);
		assert_int_equal(hw_identity_xff_client(&id, &r, peer, got), cases[i].err);
		if (!cases[i].client)
			continue;
		if (inet_pton(AF_INET, cases[i].client, want + 12) == 1)
			want[10] = want[11] = 0xff;
		else
			assert_int_equal(inet_pton(AF_INET6, cases[i].client, want), 1);
		if (memcmp(got, want, 16))
			fail_msg("case %zu: got %s, want %s", i,
				 inet_ntop(AF_INET6, got, text, sizeof(text)), cases[i].client);
	}
	/* the default trusts loopback only, as uvicorn's --forwarded-allow-ips */
	assert_int_equal(hw_identity_parse("xff", &id, err, sizeof(err)), 0);
	{
		uint8_t lo[16], other[16];

		addr4(lo, 127, 0, 0, 1);
		addr4(other, 10, 0, 0, 1);
		assert_true(hw_identity_trusted(&id, lo));
		assert_false(hw_identity_trusted(&id, other));
		memset(other, 0, 16);
		other[15] = 1; /* ::1 */
		assert_true(hw_identity_trusted(&id, other));
	}
	/* bad lists are refused whole, keeping the old one */
	{
		static const char *const bad[] = {
		    "",		  "10.0.0.0/33", "abc",		"10.0.0.0/8,",
		    "fd00::/129", "10.0.0.0/",	 "10.0.0.0/8x", "1.2.3.4/-1"};
		uint8_t lo[16];

		addr4(lo, 127, 0, 0, 1);
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			assert_int_equal(hw_identity_set_trusted(&id, bad[i], err, sizeof(err)),
					 -EINVAL);
			assert_non_null(strstr(err, "--trusted-proxies"));
		}
		assert_true(hw_identity_trusted(&id, lo));
		assert_int_equal(hw_identity_set_trusted(&id, "none", err, sizeof(err)), 0);
		assert_false(hw_identity_trusted(&id, lo));
		assert_int_equal(hw_identity_set_trusted(&id, "0.0.0.0/0,::/0", err, sizeof(err)),
				 0);
		assert_true(hw_identity_trusted(&id, lo));
	}
}

/* A folded identity value is the account of the same value on one line:
 * folding it is no way to a second account, and no way to lose the first */
static void test_folded_identity_value(void **state)
{
	struct hw_identity a;
	struct hw_http_request r;
	uint8_t ip[16] = {[10] = 0xff, [11] = 0xff, 10, 1, 2, 3};
	char err[256], id1[HW_ACCOUNT_LEN + 1], id2[HW_ACCOUNT_LEN + 1];

	(void)state;
	assert_int_equal(hw_identity_parse("header:x-api-key", &a, err, sizeof(err)), 0);
	assert_int_equal(hw_identity_load_key(&a, NULL, err, sizeof(err)), 0);
	assert_int_equal(http("GET / HTTP/1.1\r\nx-api-key: sk-a sk-b\r\n\r\n", a.header, &r),
			 HW_PARSE_OK);
	assert_int_equal(hw_identity_account(&a, &r, ip, id1), 0);
	assert_int_equal(http("GET / HTTP/1.1\r\nx-api-key: sk-a\r\n\tsk-b\r\n\r\n", a.header, &r),
			 HW_PARSE_OK);
	assert_true(r.ident_folded);
	assert_int_equal(hw_identity_account(&a, &r, ip, id2), 0);
	assert_string_equal(id1, id2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_identity),
	    cmocka_unit_test(test_long_identity_value_hashed_whole),
	    cmocka_unit_test(test_xff_trusted_proxies),
	    cmocka_unit_test(test_folded_identity_value),
	};
	return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}
