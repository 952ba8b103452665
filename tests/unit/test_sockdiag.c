// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/source/sockdiag.c: /proc/net/tcp{,6} lines as the kernel prints
 * them (addresses as host-order words, v4 turned v4-mapped), and a scan
 * that finds a connection this test makes on loopback by its socket
 * cookie, and none that is listening or not on the ports asked about. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "source/sockdiag.h"

static void test_proc_lines(void **state)
{
	/* `cat /proc/net/tcp` on x86-64: 127.0.0.1:8000 <- 127.0.0.9:40000,
	 * established */
	const char *v4 = "   3: 0100007F:1F40 0900007F:9C40 01 00000000:00000000 00:00000000 "
			 "00000000     0        0 123456 1 0000000000000000 20 4 30 10 -1\n";
	/* /proc/net/tcp6: [::1]:8000 <- [::ffff:127.0.0.9]:40000, close-wait */
	const char *v6 =
	    "   0: 00000000000000000000000001000000:1F40 "
	    "0000000000000000FFFF00000900007F:9C40 08 00000000:00000000 "
	    "00:00000000 00000000     0        0 654321 1 0000000000000000 20 4 0 10 -1\n";
	const __u8 lo4[16] = {[10] = 0xff, [11] = 0xff, [12] = 127, [15] = 1};
	const __u8 cli[16] = {[10] = 0xff, [11] = 0xff, [12] = 127, [15] = 9};
	const __u8 lo6[16] = {[15] = 1};
	struct hw_tuple t;
	unsigned st;

	(void)state;
	assert_int_equal(hw_sockdiag_parse_proc_line(v4, &t, &st), 0);
	assert_int_equal(st, TCP_ESTABLISHED);
	assert_memory_equal(t.server_addr, lo4, 16);
	assert_memory_equal(t.client_addr, cli, 16);
	assert_int_equal(t.server_port, 8000);
	assert_int_equal(t.client_port, 40000);
	assert_int_equal(hw_sockdiag_parse_proc_line(v6, &t, &st), 0);
	assert_int_equal(st, TCP_CLOSE_WAIT);
	assert_memory_equal(t.server_addr, lo6, 16);
	assert_memory_equal(t.client_addr, cli, 16);
	/* the header, and lines cut short or with odd addresses */
	assert_int_equal(
	    hw_sockdiag_parse_proc_line("  sl  local_address rem_address   st tx_queue "
					"rx_queue tr tm->when retrnsmt   uid  timeout "
					"inode\n",
					&t, &st),
	    -EINVAL);
	assert_int_equal(hw_sockdiag_parse_proc_line("   3: 0100007F:1F40\n", &t, &st), -EINVAL);
	assert_int_equal(
	    hw_sockdiag_parse_proc_line("   3: 0100007F:1F40 0900007F00:9C40 01\n", &t, &st),
	    -EINVAL);
	assert_int_equal(
	    hw_sockdiag_parse_proc_line("   3: 100007F:1F40 0900007F:9C40 01\n", &t, &st), -EINVAL);
}

struct found {
	uint64_t want;
	unsigned hits, others;
};

static void on_cookie(void *ctx, uint64_t cookie)
{
	struct found *f = ctx;

	if (cookie == f->want)
		f->hits++;
	else
		f->others++;
}

static void on_tuple(void *ctx, const struct hw_tuple *t)
{
	(void)ctx, (void)t;
}

static void test_scan_finds_a_connection(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a), clen = sizeof(uint64_t);
	struct found f = {0};
	struct hw_sockdiag_cb cb = {.cookie = on_cookie, .tuple = on_tuple, .ctx = &f};
	struct hw_ports ports = {0};
	char msg[256];
	int l, c, s, n;

	(void)state;
	l = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &alen), 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	s = accept(l, NULL, NULL);
	assert_true(s >= 0);
	assert_int_equal(getsockopt(s, SOL_SOCKET, SO_COOKIE, &f.want, &clen), 0);
	hw_ports_set(&ports, ntohs(a.sin_port));

	/* the server's end on the port asked about: found by its cookie; the
	 * listener is not open in this sense, the client's end is on another
	 * port */
	n = hw_sockdiag_scan(&ports, &cb, msg, sizeof(msg));
	if (n < 0)
		skip(); /* a /proc/PID/net this user may not read */
	assert_true(n >= 1);
	assert_int_equal(f.hits, 1);
	assert_int_equal(f.others, 0);

	/* closed on both sides: gone, or in TIME_WAIT, which counts as gone */
	close(c);
	close(s);
	for (int i = 0; i < 100; i++) { /* LAST_ACK until the client's ACK is in */
		f.hits = 0;
		assert_true(hw_sockdiag_scan(&ports, &cb, msg, sizeof(msg)) >= 1);
		if (!f.hits)
			break;
		usleep(10000);
	}
	assert_int_equal(f.hits, 0);
	close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_proc_lines),
	    cmocka_unit_test(test_scan_finds_a_connection),
	};
	return cmocka_run_group_tests_name("sockdiag", tests, NULL, NULL);
}
