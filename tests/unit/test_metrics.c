// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* exporter/metrics.c: label values escaped as the text format wants, and
 * a whole exposition rendered from a snapshot, parsed into name{labels}
 * value samples: every sample typed, counts as charged, fingerprints as
 * escaped label values, histograms whole, absent sinks at zero. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "aggregate/aggregate.h"
#include "detect/alerts.h"
#include "exporter/metrics.h"
#include "output_check.h"

static void test_label_escaping(void **state)
{
	char out[64];

	(void)state;
	hw_metrics_escape("a\"b\\c\nd", out, sizeof(out));
	assert_string_equal(out, "a\\\"b\\\\c\\nd");
	hw_metrics_escape("t13d1516h2_8daaf6152771_e5627efa2ab1", out, sizeof(out));
	assert_string_equal(out, "t13d1516h2_8daaf6152771_e5627efa2ab1");
}

static void test_metrics_exposition(void **state)
{
	/* a JA4 with every character the text format escapes */
	static const char odd_ja4[] = "t13\"d\\15\n16";
	struct hw_agg_cfg cfg = {.max_accounts = 16,
				 .max_fingerprints = 16,
				 .max_prefixes = 16,
				 .top_k = 2,
				 .prefix4 = 24,
				 .prefix6 = 48};
	const struct hw_prog_stat progs[] = {
	    {.name = "hw_ingress", .run_time_ns = 1500000000, .run_cnt = 7},
	};
	static struct hw_conn_info c;
	struct hw_exchange_end e = {.t = {.index = 1, .req_bytes = 100, .resp_bytes = 3000}};
	struct hw_stats st = {0};
	struct hw_alerts alerts;
	struct hw_agg agg;
	struct hw_snapshot snap;
	struct prom m;
	char *text;
	size_t len = 0;

	(void)state;
	assert_int_equal(hw_agg_init(&agg, &cfg), 0);
	assert_int_equal(hw_alerts_init(&alerts), 0);
	c.tls = true;
	strcpy(c.ja4, odd_ja4);
	c.ex.index = 1;
	c.ex.has_account = true;
	memset(c.ex.account_key, 0xab, sizeof(c.ex.account_key));
	for (int i = 0; i < 3; i++)
		hw_agg_exchange(&agg, 1000000000ULL * (i + 1), &e, &c);
	c.ex.has_account = false; /* the identity header was absent */
	hw_agg_exchange(&agg, 4000000000ULL, &e, &c);
	hw_agg_conn_open(&agg, 1);
	st.events[HW_EV_CONN_OPEN] = 1;
	st.kernel[HW_CNT_SEQ_JUMP] = 5;
	st.kernel[HW_CNT_OUT_OF_WINDOW] = 6;
	st.kernel[HW_CNT_BAD_ACK] = 7;
	st.parse_errors[HW_PARSER_HTTP] = 2;
	st.http_anomalies[HW_HTTP_AN_OBS_FOLD] = 3;
	st.no_account[HW_NOACCT_ABSENT] = 1;
	snap = (struct hw_snapshot){.agg = &agg,
				    .stats = &st,
				    .alerts = &alerts,
				    .progs = progs,
				    .n_progs = 1,
				    .conns_tracked = 1,
				    .now_ns = 4000000000ULL,
				    .mode = "offline"};

	/* overload and reloads */
	st.exchanges_lost = 3;
	st.reconciled[HW_GONE_CLOSE_LOST] = 4;
	st.reconcile_passes = 5;
	snap.reloads = 6;
	snap.reloads_refused = 7;
	text = hw_metrics_render(&snap, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	prom_parse(text, &m);

	assert_true(prom_value(&m, "hydrawatch_build_info", "version", HW_VERSION, "revision",
			       HW_GIT_REV, "mode", "offline", NULL) == 1);
	assert_true(prom_value(&m, "hydrawatch_exchanges_total", NULL) == 4);
	assert_true(prom_value(&m, "hydrawatch_exchanges_without_account_total", NULL) == 1);
	assert_true(prom_value(&m, "hydrawatch_connections_opened_total", NULL) == 1);
	assert_true(prom_value(&m, "hydrawatch_connections_active", NULL) == 1);
	/* the fingerprint comes back whole once its label value is unescaped */
	assert_true(prom_value(&m, "hydrawatch_fingerprint_exchanges_total", "kind", "ja4",
			       "fingerprint", odd_ja4, NULL) == 4);
	assert_true(prom_value(&m, "hydrawatch_fingerprint_exchanges_total", "kind", "ja4",
			       "fingerprint", "other", NULL) == 0);
	assert_true(prom_value(&m, "hydrawatch_fingerprint_accounts", "kind", "ja4", "fingerprint",
			       odd_ja4, NULL) == 1);
	assert_true(prom_value(&m, "hydrawatch_table_entries", "table", "accounts", NULL) == 1);
	assert_true(prom_value(&m, "hydrawatch_table_entries", "table", "connections", NULL) == 1);
	assert_true(prom_value(&m, "hydrawatch_table_capacity", "table", "accounts", NULL) == 16);
	/* a histogram: cumulative buckets, +Inf equal to the count */
	assert_true(prom_value(&m, "hydrawatch_request_bytes_bucket", "le", "64", NULL) == 0);
	assert_true(prom_value(&m, "hydrawatch_request_bytes_bucket", "le", "256", NULL) == 4);
	assert_true(prom_value(&m, "hydrawatch_request_bytes_bucket", "le", "+Inf", NULL) == 4);
	assert_true(prom_value(&m, "hydrawatch_request_bytes_count", NULL) == 4);
	assert_true(prom_value(&m, "hydrawatch_request_bytes_sum", NULL) == 400);
	assert_true(prom_value(&m, "hydrawatch_events_total", "type", "conn_open", NULL) == 1);
	assert_true(prom_value(&m, "hydrawatch_kernel_drops_total", "reason", "seq_jump", NULL) ==
		    5);
	/* client segments TCP drops, which nothing counts or captures */
	assert_true(
	    prom_value(&m, "hydrawatch_kernel_drops_total", "reason", "out_of_window", NULL) == 6);
	assert_true(prom_value(&m, "hydrawatch_kernel_drops_total", "reason", "bad_ack", NULL) ==
		    7);
	assert_true(prom_value(&m, "hydrawatch_parse_errors_total", "parser", "http", NULL) == 2);
	/* what heads carried and why exchanges have no account, every kind and reason */
	assert_true(prom_value(&m, "hydrawatch_http_anomalies_total", "kind", "obs_fold", NULL) ==
		    3);
	assert_true(prom_value(&m, "hydrawatch_http_anomalies_total", "kind", "dup_model", NULL) ==
		    0);
	assert_true(prom_value(&m, "hydrawatch_exchanges_without_account_by_reason_total", "reason",
			       "absent", NULL) == 1);
	assert_true(prom_value(&m, "hydrawatch_exchanges_without_account_by_reason_total", "reason",
			       "head_truncated", NULL) == 0);
	assert_true(prom_value(&m, "hydrawatch_exchanges_lost_total", NULL) == 3);
	assert_true(prom_value(&m, "hydrawatch_connections_reconciled_total", "reason",
			       "close_lost", NULL) == 4);
	assert_true(prom_value(&m, "hydrawatch_connections_reconciled_total", "reason",
			       "close_missing", NULL) == 0);
	assert_true(prom_value(&m, "hydrawatch_reconcile_passes_total", "result", "done", NULL) ==
		    5);
	assert_true(prom_value(&m, "hydrawatch_config_reloads_total", "result", "applied", NULL) ==
		    6);
	assert_true(prom_value(&m, "hydrawatch_config_reloads_total", "result", "refused", NULL) ==
		    7);
	/* no rule has fired: the volume rule's series exists at 0 */
	assert_true(prom_value(&m, "hydrawatch_alerts_total", "rule", "volume", "severity",
			       "warning", NULL) == 0);
	assert_true(prom_value(&m, "hydrawatch_alerts_firing", NULL) == 0);
	/* no Alertmanager, no alert stream: their counters exist at 0 */
	assert_true(prom_value(&m, "hydrawatch_alertmanager_sent_total", NULL) == 0);
	assert_true(prom_value(&m, "hydrawatch_alertmanager_failures_total", NULL) == 0);
	assert_true(prom_value(&m, "hydrawatch_alertmanager_queue_length", NULL) == 0);
	assert_true(prom_value(&m, "hydrawatch_alert_stream_lost_total", NULL) == 0);
	assert_true(prom_value(&m, "hydrawatch_bpf_run_seconds_total", "program", "hw_ingress",
			       NULL) == 1.5);
	assert_true(prom_value(&m, "hydrawatch_bpf_runs_total", "program", "hw_ingress", NULL) ==
		    7);
	assert_true(prom_value(&m, "process_open_fds", NULL) >= 0);

	prom_free(&m);
	free(text);
	hw_alerts_free(&alerts);
	hw_agg_free(&agg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_label_escaping),
	    cmocka_unit_test(test_metrics_exposition),
	};
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
