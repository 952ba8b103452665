// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/source/capture.c: link layers peeled down to the IP header
 * (Ethernet with stacked VLAN tags, Linux cooked v1/v2, BSD loopback, raw
 * IP), and frames that carry no IP refused. */
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "source/capture.h"

static void test_link_layers(void **state)
{
	uint8_t f[64] = {0};

	(void)state;
	/* Ethernet with two VLAN tags (QinQ) */
	f[12] = 0x88, f[13] = 0xa8, f[16] = 0x81, f[17] = 0x00, f[20] = 0x08, f[21] = 0x00;
	assert_int_equal(hw_capture_link_ip_offset(DLT_EN10MB, f, sizeof(f)), 22);
	f[20] = 0x08, f[21] = 0x06; /* ARP */
	assert_int_equal(hw_capture_link_ip_offset(DLT_EN10MB, f, sizeof(f)), -1);
	memset(f, 0, sizeof(f));
	f[12] = 0x86, f[13] = 0xdd;
	assert_int_equal(hw_capture_link_ip_offset(DLT_EN10MB, f, sizeof(f)), 14);
	assert_int_equal(hw_capture_link_ip_offset(DLT_EN10MB, f, 10), -1);
	memset(f, 0, sizeof(f));
	f[14] = 0x08;
	assert_int_equal(hw_capture_link_ip_offset(DLT_LINUX_SLL, f, sizeof(f)), 16);
	memset(f, 0, sizeof(f));
	f[0] = 0x86, f[1] = 0xdd;
	assert_int_equal(hw_capture_link_ip_offset(DLT_LINUX_SLL2, f, sizeof(f)), 20);
	memset(f, 0, sizeof(f));
	f[0] = 2; /* AF_INET, host order */
	assert_int_equal(hw_capture_link_ip_offset(DLT_NULL, f, sizeof(f)), 4);
	f[0] = 0x60;
	assert_int_equal(hw_capture_link_ip_offset(DLT_RAW, f, sizeof(f)), 0);
	assert_int_equal(hw_capture_link_ip_offset(DLT_IEEE802_11, f, sizeof(f)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_link_layers),
	};
	return cmocka_run_group_tests_name("capture", tests, NULL, NULL);
}
