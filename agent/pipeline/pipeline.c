// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Event handling: connection table upkeep, parsing of captured bytes as
 * they arrive, and trace lines. Captured bytes are parsed as soon as they
 * suffice and wiped right after: nothing raw outlives its exchange. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect/alerts.h"
#include "lib/hash.h"
#include "lib/log.h"
#include "pipeline/pipeline.h"
#include "lib/hex.h"
#include "lib/sha.h"
#include "pipeline/trace.h"

int hw_pipeline_init(struct hw_pipeline *p, uint32_t max_conns)
{
	int err;

	memset(p, 0, sizeof(*p));
	err = hw_sipkey_random(&p->memo_key);
	if (err)
		return err;
	p->acct_cache = calloc(HW_ACCT_CACHE, sizeof(*p->acct_cache));
	if (!p->acct_cache)
		return -ENOMEM;
	err = hw_conntrack_init(&p->conns, max_conns);
	if (err)
		hw_pipeline_free(p);
	return err;
}

void hw_pipeline_free(struct hw_pipeline *p)
{
	hw_conntrack_free(&p->conns);
	free(p->acct_cache);
	p->acct_cache = NULL;
}

static void trace_line(struct hw_pipeline *p, const struct hw_event *ev,
		       const struct hw_conn_info *c)
{
	char line[HW_TRACE_LINE_MAX];
	int n;

	if (!p->trace)
		return;
	n = hw_trace_format(ev, c, p->clock_to_unix_ns, line, sizeof(line));
	if (n == 0)
		return;
	if (n < 0 || fwrite(line, 1, (size_t)n, p->trace) != (size_t)n) {
		p->stats.trace_lost++;
		if (!p->trace_failed)
			pr_warn("writing the trace: %s; lost lines are counted in trace_lost\n",
				n < 0 ? "line too long" : strerror(errno));
		p->trace_failed = true;
	}
}

static void copy_clean(char *dst, size_t cap, const char *src, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < cap; i++)
		dst[o++] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[o] = '\0';
}

/* why the identity was not in a head that was read: it ended without it,
 * or it went on past what was captured */
static uint8_t noacct_of(const struct hw_http_request *req)
{
	return req->head_complete ? HW_NOACCT_ABSENT : HW_NOACCT_TRUNCATED;
}

/* the account of this exchange, reusing the connection's last one when the
 * identity value is the same (by a keyed hash: with the unkeyed one, a
 * client sending X-Forwarded-For or a header of its choosing could make a
 * second identity's exchanges count for the first). req: the request head,
 * or NULL when there is none (ex->noacct then says why). False, with
 * ex->noacct, when there is no account. */
static bool account_for(struct hw_pipeline *p, struct hw_conn_info *c,
			const struct hw_http_request *req, struct hw_exchange_info *ex)
{
	struct hw_str v = {0};
	uint8_t client[16];
	uint64_t src;
	int err;

	switch (p->identity.kind) {
	case HW_ID_HEADER:
		if (req)
			v = req->ident;
		break;
	case HW_ID_XFF:
		err = hw_identity_xff_client(&p->identity, req, c->client_addr, client);
		if (err == -EINVAL)
			ex->noacct = HW_NOACCT_XFF_INVALID;
		else if (err && req)
			ex->noacct = noacct_of(req);
		if (err)
			return false;
		v = (struct hw_str){(const char *)client, sizeof(client)};
		break;
	default:
		v = (struct hw_str){(const char *)c->client_addr, sizeof(c->client_addr)};
		break;
	}
	if (!v.p || !v.n) {
		if (req)
			ex->noacct = noacct_of(req);
		return false;
	}
	src = hw_siphash24(&p->memo_key, v.p, v.n);
	if (!c->acct_valid || c->acct_src != src) {
		struct hw_acct_slot *s = &p->acct_cache[src & (HW_ACCT_CACHE - 1)];

		if (src && s->tag == src) {
			memcpy(c->acct_key, s->key, sizeof(c->acct_key));
			p->acct_cache_hits++;
		} else {
			err =
			    hw_identity_account_key(&p->identity, req, c->client_addr, c->acct_key);
			if (err) {
				ex->noacct = err == -ENOENT && req ? noacct_of(req)
					     : err == -EINVAL	   ? HW_NOACCT_XFF_INVALID
								   : HW_NOACCT_HASH_FAILED;
				c->acct_valid = false;
				return false;
			}
			s->tag = src;
			memcpy(s->key, c->acct_key, sizeof(s->key));
		}
		hw_hex(c->acct_key, sizeof(c->acct_key), c->acct);
		c->acct_valid = true;
		c->acct_src = src;
	}
	memcpy(ex->account, c->acct, sizeof(c->acct));
	memcpy(ex->account_key, c->acct_key, sizeof(c->acct_key));
	return true;
}

static void take_http(struct hw_pipeline *p, struct hw_conn_info *c,
		      const struct hw_http_request *req)
{
	struct hw_exchange_info *ex = &c->ex;

	ex->http = true;
	copy_clean(ex->method, sizeof(ex->method), req->method.p, req->method.n);
	copy_clean(ex->path, sizeof(ex->path), req->path.p, req->path.n);
	if (req->head_complete) {
		/* what the fingerprint depends on, cheaply hashed: compute it
		 * (SHA-256) only when it changed on this connection */
		uint64_t src = hw_hash64_more(req->version, req->method.p, req->method.n);
		unsigned n =
		    req->n_headers < HW_HTTP_MAX_HEADERS ? req->n_headers : HW_HTTP_MAX_HEADERS;

		for (unsigned i = 0; i < n; i++)
			src = hw_hash64_more(src, req->names[i].p, req->names[i].n);
		src ^= req->n_headers;
		if (!c->http_fp[0] || c->http_fp_src != src) {
			hw_http_fingerprint(req, c->http_fp);
			c->fp_hash[HW_FP_HTTP] = 0;
			c->http_fp_src = src;
		}
		memcpy(ex->http_fp, c->http_fp, sizeof(ex->http_fp));
	} else {
		strcpy(ex->http_fp, "partial");
		ex->http_fp_partial = true;
	}
	{
		/* keep-alive clients send the same User-Agent each time */
		uint64_t ua =
		    req->user_agent.p ? hw_hash64(req->user_agent.p, req->user_agent.n) : 0;

		if (!c->ua_family || c->ua_src != ua) {
			c->ua_family = hw_http_ua_family(req->user_agent.p, req->user_agent.n);
			c->ua_src = ua;
		}
		ex->ua_family = c->ua_family;
	}
	if (req->model.p)
		copy_clean(ex->model, sizeof(ex->model), req->model.p, req->model.n);
	ex->anomalies |= (uint16_t)req->anomalies;
	ex->chunked = req->chunked;
	/* the next exchange is a body only if this head held one back */
	ex->expect_continue = req->expect_continue && req->head_complete && hw_http_has_body(req);
	ex->has_account = account_for(p, c, req, ex);
}

/* Parses the exchange's capture, buf[len] from its first byte, once it
 * suffices (or, final, with whatever arrived); true once parsed. */
static bool analyze(struct hw_pipeline *p, struct hw_conn_info *c, const uint8_t *buf, size_t len,
		    bool final)
{
	struct hw_exchange_info *ex = &c->ex;
	enum hw_parse_result res;
	bool took_http = false;

	if (ex->parsed)
		return true;
	ex->noacct = c->tls ? HW_NOACCT_TLS : HW_NOACCT_NO_CAPTURE;
	if (len && !c->tls && buf[0] == TLS_HANDSHAKE_RECORD) {
		struct hw_client_hello hello;

		res = hw_tls_parse_client_hello(buf, len, &hello);
		if (res == HW_PARSE_INCOMPLETE && !final)
			return false;
		if (res == HW_PARSE_OK) {
			c->tls = true;
			hw_tls_ja4(&hello, c->ja4);
			c->fp_hash[HW_FP_JA4] = 0;
			memcpy(c->sni, hello.sni, sizeof(c->sni));
			copy_clean(c->alpn, sizeof(c->alpn), hello.alpn_list,
				   strlen(hello.alpn_list));
			ex->noacct = HW_NOACCT_TLS;
		} else {
			p->stats.parse_errors[HW_PARSER_TLS]++;
			ex->noacct = HW_NOACCT_NOT_HTTP;
		}
	} else if (len && !c->tls) {
		struct hw_http_request req;

		res = hw_http_parse_request(
		    buf, len, p->identity.header[0] ? p->identity.header : NULL, &req);
		if (res == HW_PARSE_INCOMPLETE && !final)
			return false;
		took_http = res == HW_PARSE_OK || res == HW_PARSE_INCOMPLETE;
		if (took_http) {
			take_http(p, c, &req);
		} else if (res == HW_PARSE_ERROR) {
			p->stats.parse_errors[HW_PARSER_HTTP]++;
			ex->noacct = HW_NOACCT_UNPARSEABLE;
		} else {
			ex->noacct = HW_NOACCT_NOT_HTTP;
		}
	}
	/* no head: the modes that need none (an address; xff from a peer that
	 * is no trusted proxy) still have the account */
	if (!took_http)
		ex->has_account = account_for(p, c, NULL, ex);
	ex->parsed = true;
	hw_conntrack_exchange_release(ex);
	return true;
}

/* Capture bytes go at their offset from the exchange's first byte. The
 * kernel sends a segment's bytes as it arrives, so a head's second segment
 * can come first: bytes past a hole are kept, marked in a bitmap after the
 * buffer, and join the contiguous prefix (cap_len, what is parsed) once
 * the hole fills. */
static void add_capture(struct hw_pipeline *p, struct hw_conn_info *c, const struct hw_event *ev)
{
	struct hw_exchange_info *ex = &c->ex;
	size_t off = ev->start->offset, n = ev->capture_len;
	uint8_t *ahead;

	if (!n || off >= HW_CAPTURE_MAX)
		return;
	if (n > HW_CAPTURE_MAX - off)
		n = HW_CAPTURE_MAX - off;
	if (!ex->cap) {
		ex->cap = calloc(1, HW_CAPTURE_MAX + HW_CAPTURE_MAX / 8);
		if (!ex->cap)
			return;
	}
	memcpy(ex->cap + off, ev->capture, n);
	ahead = ex->cap + HW_CAPTURE_MAX;
	if (off > ex->cap_len) {
		p->stats.capture_gaps++; /* a hole before it: kept until it fills */
		for (size_t i = off; i < off + n; i++)
			ahead[i / 8] |= (uint8_t)(1u << (i % 8));
		return;
	}
	if (off + n > ex->cap_len)
		ex->cap_len = (uint32_t)(off + n);
	while (ex->cap_len < HW_CAPTURE_MAX && ((ahead[ex->cap_len / 8] >> (ex->cap_len % 8)) & 1))
		ex->cap_len++;
}

/* what the aggregation and the detectors see of a finished exchange, on
 * the event clock */
static void charge(struct hw_pipeline *p, const struct hw_event *ev, struct hw_conn_info *c)
{
	const struct hw_exchange_totals *t = &ev->end->t;
	struct hw_exchange_view x;
	struct hw_account *acct;

	if (!p->agg)
		return;
	acct = hw_agg_exchange(p->agg, ev->hdr->ts_ns, ev->end, c);
	if (!acct || !p->detect || !p->detect->n)
		return;
	x = (struct hw_exchange_view){
	    .ts_ns = ev->hdr->ts_ns,
	    .start_ns = t->start_ns,
	    .account = c->ex.account_key,
	    .account_hex = c->ex.account,
	    .client_addr = c->client_addr,
	    .prefix = acct->last_prefix,
	    .req_bytes = t->req_bytes,
	    .resp_bytes = t->resp_bytes,
	    .ttfb_ns = t->ttfb_ns,
	    .duration_ns = t->duration_ns,
	    .index = t->index,
	    .handshake = c->tls && t->index == 1,
	    .conn = ev->hdr->cookie,
	    .model = c->ex.model,
	    .ua_family = c->ex.ua_family ? c->ex.ua_family : "",
	    .fp = {c->tls ? c->ja4 : "", c->has_syn ? c->ja4t : "",
		   c->ex.http && !c->ex.http_fp_partial ? c->ex.http_fp : ""},
	};
	for (int k = 0; k < HW_FP_KINDS; k++)
		x.fp_hash[k] = x.fp[k][0] ? c->fp_hash[k] : 0;
	hw_detect_exchange(p->detect, acct, &x);
}

void hw_pipeline_tick(struct hw_pipeline *p, uint64_t now_ns)
{
	if (!p->agg || now_ns < p->next_tick_ns)
		return;
	p->next_tick_ns = now_ns - now_ns % HW_TICK_NS + HW_TICK_NS;
	if (now_ns > p->agg->now_ns)
		p->agg->now_ns = now_ns;
	hw_agg_refresh_exported(p->agg);
	if (p->detect) {
		p->detect->clock_to_unix_ns = p->clock_to_unix_ns;
		hw_detect_tick(p->detect, now_ns);
	}
	if (p->alerts)
		hw_alerts_tick(p->alerts, now_ns);
}

/* what a new entry keeps of the event that made it, for a close line the
 * agent may have to write itself (hw_pipeline_conn_gone) */
static void conn_learn(struct hw_conn_info *c, const struct hw_event_hdr *h)
{
	memcpy(c->client_addr, h->tuple.client_addr, 16);
	c->addr_hash = 0;
	c->tuple = h->tuple;
	c->hdr_flags = h->flags & HW_F_ADOPTED;
	c->open_ns = c->last_ns = h->ts_ns;
}

static void on_conn_open(struct hw_pipeline *p, const struct hw_event *ev)
{
	const struct hw_conn_open *o = ev->open;
	struct hw_syn_info syn;
	struct hw_conn_info *c;
	bool created;

	c = hw_conntrack_upsert(&p->conns, o->hdr.cookie, &created);
	if (!c) {
		trace_line(p, ev, NULL);
		return;
	}
	conn_learn(c, &o->hdr);
	if (o->syn_len) {
		enum hw_parse_result r =
		    hw_syn_parse(o->syn, o->syn_len < HW_SYN_MAX ? o->syn_len : HW_SYN_MAX, &syn);

		if (r == HW_PARSE_OK) {
			c->has_syn = true;
			c->ttl = syn.ttl;
			/* cut, not overrun: real stacks send far fewer options */
			memcpy(c->ja4t, syn.ja4t, sizeof(c->ja4t) - 1);
			c->ja4t[sizeof(c->ja4t) - 1] = '\0';
			c->fp_hash[HW_FP_JA4T] = 0;
		} else {
			p->stats.parse_errors[HW_PARSER_SYN]++;
		}
	}
	trace_line(p, ev, c);
}

static struct hw_conn_info *conn_for(struct hw_pipeline *p, const struct hw_event *ev)
{
	bool created;
	struct hw_conn_info *c = hw_conntrack_upsert(&p->conns, ev->hdr->cookie, &created);

	/* no conn_open seen (lost, or evicted): the tuple is in every event;
	 * what ended before this start is not the agent's to miss */
	if (c && created) {
		conn_learn(c, ev->hdr);
		c->last_index = ev->start->index - 1;
	}
	return c;
}

/* The exchange that starts with ev continues the open one: its head asked
 * for "100-continue" and these bytes are no request line but its body.
 * Then the head's totals are held, to be reported with the body's. */
static bool fold_body(struct hw_pipeline *p, struct hw_conn_info *c, const struct hw_event *ev)
{
	struct hw_exchange_info *ex = &c->ex;
	struct hw_http_request req;
	char model[HW_HTTP_MODEL_MAX];
	unsigned keys;
	size_t n;

	if (ex->index != ev->start->prev.index || ex->holding)
		return false;
	analyze(p, c, ex->cap, ex->cap_len, true); /* the head is whole by now */
	/* a request (even after empty lines) is a request, never a body */
	if (!ex->expect_continue || !ev->capture_len ||
	    hw_http_parse_request(ev->capture, ev->capture_len, NULL, &req) != HW_PARSE_NOT_MINE)
		return false;
	ex->expect_continue = false;
	ex->holding = true;
	ex->head = ev->start->prev;
	ex->body_index = ev->start->index;
	/* the model named in the body, which the head could not carry */
	if (!hw_http_body_model(ev->capture, ev->capture_len, ex->chunked, model, sizeof(model), &n,
				&keys) &&
	    !ex->model[0])
		copy_clean(ex->model, sizeof(ex->model), model, n);
	if (keys > 1)
		ex->anomalies |= 1u << HW_HTTP_AN_DUP_MODEL;
	c->continued++;
	p->stats.continued++;
	return true;
}

/* head and body of one request, as one exchange from the head's start */
static struct hw_exchange_totals fold_totals(const struct hw_exchange_totals *head,
					     const struct hw_exchange_totals *body)
{
	struct hw_exchange_totals t = *head;
	uint64_t end = body->start_ns + body->duration_ns;

	if (body->ttfb_ns)
		t.ttfb_ns = body->start_ns + body->ttfb_ns - head->start_ns;
	if (end > head->start_ns + head->duration_ns)
		t.duration_ns = end - head->start_ns;
	t.req_bytes += body->req_bytes;
	t.resp_bytes += body->resp_bytes;
	return t;
}

_Static_assert(HW_HTTP_AN_MAX <= 16, "hw_exchange_info.anomalies holds every kind");

/* a finished exchange's anomalies, and why it has no account */
static void count_exchange(struct hw_pipeline *p, const struct hw_exchange_info *ex)
{
	for (unsigned k = 0; k < HW_HTTP_AN_MAX; k++)
		if (ex->anomalies & (1u << k))
			p->stats.http_anomalies[k]++;
	if (!ex->has_account)
		p->stats.no_account[ex->noacct < HW_NOACCT_MAX ? ex->noacct : HW_NOACCT_ABSENT]++;
}

/* The totals of the connection's exchange index arrived: an index past the
 * next one means the ring lost the events that carried those between (an
 * exchange_start carries the totals of the exchange before it). */
static void note_totals(struct hw_pipeline *p, struct hw_conn_info *c, uint32_t index)
{
	if (index > c->last_index + 1)
		p->stats.exchanges_lost += index - c->last_index - 1;
	if (index > c->last_index)
		c->last_index = index;
}

/* c: the event's connection, NULL if untracked */
static void exchange_end(struct hw_pipeline *p, const struct hw_event *ev, struct hw_conn_info *c)
{
	struct hw_exchange_end folded;
	struct hw_event fev;

	if (c) {
		note_totals(p, c, ev->end->t.index);
		c->last_ns = ev->hdr->ts_ns;
	}
	if (c && c->ex.holding && c->ex.body_index == ev->end->t.index) {
		folded = *ev->end;
		folded.t = fold_totals(&c->ex.head, &ev->end->t);
		c->ex.holding = false;
		fev = (struct hw_event){.hdr = &folded.hdr, .end = &folded};
		ev = &fev;
	}
	if (c && c->ex.index == ev->end->t.index) {
		analyze(p, c, c->ex.cap, c->ex.cap_len, true);
		count_exchange(p, &c->ex);
	} else {
		p->stats.no_account[c ? HW_NOACCT_NO_START : HW_NOACCT_UNTRACKED]++;
	}
	trace_line(p, ev, c);
	if (c) {
		c->lines++;
		c->lines_in += ev->end->t.req_bytes;
		c->lines_out += ev->end->t.resp_bytes;
	}
	charge(p, ev, c);
}

/* decodes a record into ev and counts it, by type or by what was wrong */
static bool decode_counted(struct hw_pipeline *p, const void *data, size_t len, struct hw_event *ev)
{
	enum hw_decode_err derr = hw_event_decode(data, len, ev);

	if (derr != HW_DECODE_OK) {
		p->stats.decode_errors[derr]++;
		return false;
	}
	p->stats.events[ev->hdr->type]++;
	return true;
}

void hw_pipeline_count(struct hw_pipeline *p, const void *data, size_t len)
{
	struct hw_event ev;

	decode_counted(p, data, len, &ev);
}

void hw_pipeline_record(struct hw_pipeline *p, const void *data, size_t len)
{
	struct hw_event ev;
	struct hw_conn_info *c;
	uint64_t evictions = p->conns.evictions;

	if (!decode_counted(p, data, len, &ev))
		return;
	switch (ev.hdr->type) {
	case HW_EV_CONN_OPEN:
		on_conn_open(p, &ev);
		if (p->agg)
			hw_agg_conn_open(p->agg, ev.hdr->ts_ns);
		break;
	case HW_EV_EXCHANGE_START:
		c = hw_conntrack_get(&p->conns, ev.hdr->cookie);
		if (ev.start->prev.index) {
			/* the previous exchange ended where this one began */
			struct hw_exchange_end end = {.hdr = *ev.hdr, .t = ev.start->prev};
			struct hw_event eev = {.hdr = &end.hdr, .end = &end};

			p->stats.events[HW_EV_EXCHANGE_END]++;
			if (c && fold_body(p, c, &ev)) {
				note_totals(p, c, ev.start->prev.index);
				c->last_ns = ev.hdr->ts_ns;
				break;
			}
			end.hdr.type = HW_EV_EXCHANGE_END;
			end.hdr.size = sizeof(end);
			exchange_end(p, &eev, c);
		}
		if (!c)
			c = conn_for(p, &ev);
		if (!c)
			break;
		c->last_ns = ev.hdr->ts_ns;
		hw_conntrack_exchange_release(&c->ex);
		memset(&c->ex, 0, sizeof(c->ex));
		c->ex.index = ev.start->index;
		/* most heads arrive whole in their start event: parsed in place,
		 * copied only when later segments must complete them (or come
		 * before: a start whose bytes lie past offset 0) */
		if (ev.start->offset || !analyze(p, c, ev.capture, ev.capture_len, !ev.capture_len))
			add_capture(p, c, &ev);
		break;
	case HW_EV_EXCHANGE_DATA:
		c = hw_conntrack_get(&p->conns, ev.hdr->cookie);
		if (c)
			c->last_ns = ev.hdr->ts_ns;
		if (!c || c->ex.index != ev.start->index || c->ex.parsed)
			break;
		add_capture(p, c, &ev);
		analyze(p, c, c->ex.cap, c->ex.cap_len, false);
		break;
	case HW_EV_EXCHANGE_END:
		exchange_end(p, &ev, hw_conntrack_get(&p->conns, ev.hdr->cookie));
		break;
	case HW_EV_CONN_CLOSE: {
		struct hw_conn_close close;

		c = hw_conntrack_get(&p->conns, ev.hdr->cookie);
		/* the kernel counted exchanges whose totals never arrived */
		if (c && ev.close->exchanges > c->last_index)
			p->stats.exchanges_lost += ev.close->exchanges - c->last_index;
		if (c && c->continued) {
			/* exchanges as reported: a folded body is part of its head's */
			close = *ev.close;
			close.exchanges -=
			    c->continued < close.exchanges ? c->continued : close.exchanges;
			ev.close = &close;
			ev.hdr = &close.hdr;
		}
		trace_line(p, &ev, c);
		if (c)
			hw_conntrack_remove(&p->conns, c);
		if (p->agg)
			hw_agg_conn_close(p->agg, ev.hdr->ts_ns);
		break;
	}
	}
	p->stats.conn_evictions += p->conns.evictions - evictions;
}

void hw_pipeline_conn_gone(struct hw_pipeline *p, struct hw_conn_info *c, enum hw_gone_reason why,
			   uint64_t now_ns)
{
	struct hw_conn_close close = {
	    .hdr = {.type = HW_EV_CONN_CLOSE,
		    .flags = c->hdr_flags,
		    .size = sizeof(close),
		    .ts_ns = now_ns,
		    .cookie = c->cookie,
		    .tuple = c->tuple},
	    .open_ns = c->open_ns,
	    .bytes_in = c->lines_in,
	    .bytes_out = c->lines_out,
	    .exchanges = c->lines,
	};
	struct hw_event ev = {.hdr = &close.hdr, .close = &close};

	/* the open exchange's totals went with the close */
	if (c->ex.index > c->last_index) {
		c->gone_lost = c->ex.index - c->last_index;
		p->stats.exchanges_lost += c->gone_lost;
	}
	c->gone = (uint8_t)why;
	p->stats.reconciled[why]++;
	trace_line(p, &ev, c);
	hw_conntrack_remove(&p->conns, c);
	if (p->agg)
		hw_agg_conn_close(p->agg, now_ns);
}

void hw_pipeline_report(struct hw_pipeline *p, unsigned long long now_ns, char *line, size_t len)
{
	int n = hw_trace_format_stats(&p->stats, now_ns, line, len);

	if (n > 0 && p->trace && fwrite(line, 1, (size_t)n, p->trace) != (size_t)n)
		p->stats.trace_lost++;
	if (p->trace)
		fflush(p->trace);
}
