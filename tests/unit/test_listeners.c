// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/source/listeners.c: the LISTEN lines of /proc/net/tcp and tcp6
 * text become ports, established sockets do not, and a text without the
 * header is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "source/listeners.h"

static void test_listeners_from_text(void **state)
{
	/* trimmed from a real /proc/net/tcp and tcp6 */
	static const char tcp[] =
	    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
	    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n"
	    "   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0\n"
	    "   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n";
	static const char tcp6[] =
	    "  sl  local_address                         remote_address                        st\n"
	    "   0: 00000000000000000000000001000000:2710 00000000000000000000000000000000:0000 "
	    "0A\n";
	struct hw_ports p = {0};

	(void)state;
	assert_int_equal(hw_listeners_from_text(tcp, &p), 2);
	assert_true(hw_ports_has(&p, 8080));
	assert_true(hw_ports_has(&p, 22));
	assert_false(hw_ports_has(&p, 0xD431)); /* established, not listening */
	assert_int_equal(hw_listeners_from_text(tcp6, &p), 1);
	assert_true(hw_ports_has(&p, 10000));
	assert_int_equal(hw_listeners_from_text("garbage\n", &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_listeners_from_text),
	};
	return cmocka_run_group_tests_name("listeners", tests, NULL, NULL);
}
