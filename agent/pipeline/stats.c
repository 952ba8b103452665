// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Names for the counters, kept next to the enum order they mirror. */
#include "pipeline/stats.h"

const char *hw_stats_counter_name(unsigned idx)
{
	static const char *const names[HW_CNT_MAX] = {
	    [HW_CNT_RINGBUF_FULL] = "ringbuf_full", [HW_CNT_STORAGE_FAIL] = "storage_fail",
	    [HW_CNT_HDR_UNPARSED] = "hdr_unparsed", [HW_CNT_SEQ_JUMP] = "seq_jump",
	    [HW_CNT_CAPTURE_FAIL] = "capture_fail", [HW_CNT_SYN_MISSING] = "syn_missing",
	    [HW_CNT_ADOPTED] = "adopted",	    [HW_CNT_OUT_OF_WINDOW] = "out_of_window",
	    [HW_CNT_BAD_ACK] = "bad_ack",
	};
	return idx < HW_CNT_MAX && names[idx] ? names[idx] : "unknown";
}

__u64 hw_stats_decode_errors(const struct hw_stats *st)
{
	__u64 n = 0;

	for (unsigned i = 1; i < HW_DECODE_ERR_MAX; i++)
		n += st->decode_errors[i];
	return n;
}

const char *hw_stats_parser_name(unsigned idx)
{
	static const char *const names[HW_PARSER_MAX] = {
	    [HW_PARSER_HTTP] = "http",
	    [HW_PARSER_TLS] = "tls",
	    [HW_PARSER_SYN] = "syn",
	    [HW_PARSER_PACKET] = "packet",
	};
	return idx < HW_PARSER_MAX ? names[idx] : "unknown";
}

const char *hw_stats_noacct_name(unsigned idx)
{
	static const char *const names[HW_NOACCT_MAX] = {
	    [HW_NOACCT_ABSENT] = "absent",
	    [HW_NOACCT_TRUNCATED] = "head_truncated",
	    [HW_NOACCT_UNPARSEABLE] = "unparseable",
	    [HW_NOACCT_NOT_HTTP] = "not_http",
	    [HW_NOACCT_TLS] = "tls",
	    [HW_NOACCT_NO_CAPTURE] = "no_capture",
	    [HW_NOACCT_XFF_INVALID] = "xff_invalid",
	    [HW_NOACCT_NO_START] = "no_start",
	    [HW_NOACCT_UNTRACKED] = "untracked",
	    [HW_NOACCT_HASH_FAILED] = "hash_failed",
	};
	return idx < HW_NOACCT_MAX ? names[idx] : "unknown";
}

const char *hw_stats_gone_name(unsigned idx)
{
	static const char *const names[HW_GONE_MAX] = {
	    [HW_GONE_NONE] = "none",
	    [HW_GONE_CLOSE_LOST] = "close_lost",
	    [HW_GONE_CLOSE_MISSING] = "close_missing",
	};
	return idx < HW_GONE_MAX ? names[idx] : "unknown";
}
