// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/pipeline/identity.c: account ids per --identity mode (a header,
 * the client address, its prefix, X-Forwarded-For) under one key and
 * another, and key files and modes refused with the fix. */
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
	/* xff takes the left-most entry */
	assert_int_equal(hw_identity_parse("xff", &a, err, sizeof(err)), 0);
	assert_int_equal(
	    http("GET / HTTP/1.1\r\nX-Forwarded-For: 192.0.2.9 , 10.0.0.1\r\n\r\n", NULL, &r),
	    HW_PARSE_OK);
	assert_int_equal(hw_identity_account(&a, &r, ip1, id1), 0);
	assert_int_equal(http("GET / HTTP/1.1\r\nX-Forwarded-For: 192.0.2.9\r\n\r\n", NULL, &r),
			 HW_PARSE_OK);
	assert_int_equal(hw_identity_account(&a, &r, ip2, id2), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_identity),
	    cmocka_unit_test(test_long_identity_value_hashed_whole),
	};
	return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}
