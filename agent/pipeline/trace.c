// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Trace line formatting. Numbers, addresses and the agent's own words
 * ("saved", "exchange") are printed as they are; every string a parser
 * took from the wire or derived from it (fingerprints, SNI, method, path,
 * model, account) goes through put_str, which escapes it. A line that does
 * not fit is refused whole, never cut. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include "lib/addr.h"
#include "pipeline/trace.h"

#define NS_PER_US 1000ULL

/* appends to buf, tracking the total; keeps going so the caller sees overflow */
struct out {
	char *buf;
	size_t len;
	size_t pos;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->pos < o->len ? o->buf + o->pos : NULL,
		      o->pos < o->len ? o->len - o->pos : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

static int finish(struct out *o)
{
	put(o, "}\n");
	return o->pos < o->len ? (int)o->pos : -ENOSPC;
}

static void put_char(struct out *o, char c)
{
	if (o->pos < o->len)
		o->buf[o->pos] = c;
	o->pos++;
}

/* a JSON string value: quotes and backslashes escaped, control bytes and
 * bytes from 0x7f up as \u00XX (the byte's value as a code point, so the
 * line is valid UTF-8 whatever the wire carried); byte by byte, without a
 * printf per byte */
static void put_str(struct out *o, const char *key, const char *v)
{
	put(o, ",\"%s\":\"", key);
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;

		if (c == '"' || c == '\\') {
			put_char(o, '\\');
			put_char(o, (char)c);
		} else if (c < 0x20 || c >= 0x7f) {
			put(o, "\\u%04x", c);
		} else {
			put_char(o, (char)c);
		}
	}
	put_char(o, '"');
}

static void put_exchange_fields(struct out *o, const struct hw_conn_info *c)
{
	const struct hw_exchange_info *ex = &c->ex;

	if (c->tls) {
		put_str(o, "ja4", c->ja4);
		if (c->sni[0])
			put_str(o, "sni", c->sni);
		if (c->alpn[0])
			put_str(o, "alpn", c->alpn);
	}
	if (ex->http) {
		put_str(o, "method", ex->method);
		put_str(o, "path", ex->path);
		put_str(o, "http_fp", ex->http_fp);
		put_str(o, "ua_family", ex->ua_family ? ex->ua_family : "none");
		if (ex->model[0])
			put_str(o, "model", ex->model);
	}
	if (ex->anomalies) {
		bool first = true;

		put(o, ",\"anomalies\":[");
		for (unsigned k = 0; k < HW_HTTP_AN_MAX; k++) {
			if (!(ex->anomalies & (1u << k)))
				continue;
			put(o, "%s\"%s\"", first ? "" : ",", hw_http_anomaly_name(k));
			first = false;
		}
		put_char(o, ']');
	}
	if (ex->has_account)
		put_str(o, "account", ex->account);
	else
		put(o, ",\"no_account\":\"%s\"", hw_stats_noacct_name(ex->noacct));
}

static void put_conn(struct out *o, const struct hw_event_hdr *h, bool server_ip)
{
	char c[HW_ADDR_STRLEN], s[HW_ADDR_STRLEN];

	put(o, "\"conn\":%llu,\"client_ip\":\"%s\",\"client_port\":%u",
	    (unsigned long long)h->cookie, hw_addr_str(h->tuple.client_addr, c, sizeof(c)),
	    h->tuple.client_port);
	if (server_ip)
		put(o, ",\"server_ip\":\"%s\"", hw_addr_str(h->tuple.server_addr, s, sizeof(s)));
	put(o, ",\"server_port\":%u", h->tuple.server_port);
	if (h->flags & HW_F_ADOPTED)
		put(o, ",\"adopted\":true");
}

int hw_trace_format(const struct hw_event *ev, const struct hw_conn_info *conn,
		    long long clock_to_unix_ns, char *buf, size_t len)
{
	const struct hw_event_hdr *h = ev->hdr;
	struct out o = {buf, len, 0};
	unsigned long long ts = h->ts_ns + (unsigned long long)clock_to_unix_ns;

	switch (h->type) {
	case HW_EV_CONN_OPEN:
		put(&o, "{\"type\":\"conn_open\",\"ts_ns\":%llu,", ts);
		put_conn(&o, h, true);
		put(&o, ",\"syn\":\"%s\"",
		    (h->flags & HW_F_SYN_SAVED)	   ? "saved"
		    : (h->flags & HW_F_SYN_PARKED) ? "parked"
						   : "none");
		if (conn && conn->has_syn) {
			put_str(&o, "ja4t", conn->ja4t);
			put(&o, ",\"ttl\":%u", conn->ttl);
		}
		return finish(&o);
	case HW_EV_EXCHANGE_END: {
		const struct hw_exchange_end *e = ev->end;

		put(&o, "{\"type\":\"exchange\",\"ts_ns\":%llu,", ts);
		put_conn(&o, h, false);
		put(&o,
		    ",\"index\":%u,\"start_ns\":%llu,\"req_bytes\":%llu,\"resp_bytes\":%llu,"
		    "\"ttfb_us\":%llu,\"duration_us\":%llu",
		    e->t.index, e->t.start_ns + (unsigned long long)clock_to_unix_ns,
		    (unsigned long long)e->t.req_bytes, (unsigned long long)e->t.resp_bytes,
		    (unsigned long long)(e->t.ttfb_ns / NS_PER_US),
		    (unsigned long long)(e->t.duration_ns / NS_PER_US));
		if (conn && conn->ex.index == e->t.index)
			put_exchange_fields(&o, conn);
		return finish(&o);
	}
	case HW_EV_CONN_CLOSE: {
		const struct hw_conn_close *e = ev->close;

		put(&o, "{\"type\":\"conn_close\",\"ts_ns\":%llu,", ts);
		put_conn(&o, h, false);
		put(&o,
		    ",\"exchanges\":%u,\"bytes_in\":%llu,\"bytes_out\":%llu,\"srtt_us\":%u,"
		    "\"duration_us\":%llu",
		    e->exchanges, (unsigned long long)e->bytes_in, (unsigned long long)e->bytes_out,
		    e->srtt_us,
		    (unsigned long long)(h->ts_ns > e->open_ns ? (h->ts_ns - e->open_ns) / NS_PER_US
							       : 0));
		if (h->flags & HW_F_RESET)
			put(&o, ",\"reset\":true");
		if (h->flags & HW_F_CAPTURE_END)
			put(&o, ",\"capture_end\":true");
		/* the agent's own line: the kernel's close was never received */
		if (conn && conn->gone)
			put(&o, ",\"reconciled\":\"%s\",\"exchanges_lost\":%u",
			    hw_stats_gone_name(conn->gone), conn->gone_lost);
		return finish(&o);
	}
	default:
		return 0;
	}
}

int hw_trace_format_stats(const struct hw_stats *st, unsigned long long ts_ns, char *buf,
			  size_t len)
{
	struct out o = {buf, len, 0};
	const char *sep = "";

	put(&o, "{\"type\":\"stats\",\"ts_ns\":%llu,\"events\":{", ts_ns);
	for (unsigned t = 1; t < HW_EV_TYPE_MAX; t++, sep = ",")
		put(&o, "%s\"%s\":%llu", sep, hw_event_type_name(t),
		    (unsigned long long)st->events[t]);
	put(&o, "},\"events_lost\":%llu,\"decode_errors\":%llu,\"parse_errors\":{",
	    (unsigned long long)st->kernel[HW_CNT_RINGBUF_FULL],
	    (unsigned long long)hw_stats_decode_errors(st));
	sep = "";
	for (unsigned i = 0; i < HW_PARSER_MAX; i++, sep = ",")
		put(&o, "%s\"%s\":%llu", sep, hw_stats_parser_name(i),
		    (unsigned long long)st->parse_errors[i]);
	put(&o, "},\"http_anomalies\":{");
	sep = "";
	for (unsigned i = 0; i < HW_HTTP_AN_MAX; i++, sep = ",")
		put(&o, "%s\"%s\":%llu", sep, hw_http_anomaly_name(i),
		    (unsigned long long)st->http_anomalies[i]);
	put(&o, "},\"no_account\":{");
	sep = "";
	for (unsigned i = 0; i < HW_NOACCT_MAX; i++, sep = ",")
		put(&o, "%s\"%s\":%llu", sep, hw_stats_noacct_name(i),
		    (unsigned long long)st->no_account[i]);
	put(&o,
	    "},\"capture_gaps\":%llu,\"continued\":%llu,\"conn_evictions\":%llu,"
	    "\"trace_lost\":%llu,\"kernel\":{",
	    (unsigned long long)st->capture_gaps, (unsigned long long)st->continued,
	    (unsigned long long)st->conn_evictions, (unsigned long long)st->trace_lost);
	sep = "";
	for (unsigned i = 0; i < HW_CNT_MAX; i++, sep = ",")
		put(&o, "%s\"%s\":%llu", sep, hw_stats_counter_name(i),
		    (unsigned long long)st->kernel[i]);
	put(&o, "},\"exchanges_lost\":%llu,\"reconciled\":{",
	    (unsigned long long)st->exchanges_lost);
	sep = "";
	for (unsigned i = HW_GONE_NONE + 1; i < HW_GONE_MAX; i++, sep = ",")
		put(&o, "%s\"%s\":%llu", sep, hw_stats_gone_name(i),
		    (unsigned long long)st->reconciled[i]);
	put(&o, "}");
	if (st->interrupted)
		put(&o, ",\"interrupted\":true");
	return finish(&o);
}
