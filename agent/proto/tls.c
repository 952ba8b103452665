// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* ClientHello parser and JA4. Every read is bounds-checked through struct
 * rd; anything malformed is HW_PARSE_ERROR, never a crash (fuzzed by
 * tests/fuzz/fuzz_tls.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bpf/hydrawatch.h"
#include "lib/sha.h"
#include "proto/tls.h"

#define TLS_HS_CLIENT_HELLO 0x01
#define TLS_RECORD_MAX	    (16384 + 2048)

#define EXT_SNI		       0x0000
#define EXT_SIGALGS	       0x000d
#define EXT_ALPN	       0x0010
#define EXT_SUPPORTED_VERSIONS 0x002b

struct rd {
	const uint8_t *p;
	size_t left;
	int bad;
};

static uint32_t rd_n(struct rd *r, unsigned n)
{
	uint32_t v = 0;

	if (r->bad || r->left < n) {
		r->bad = 1;
		return 0;
	}
	for (unsigned i = 0; i < n; i++)
		v = (v << 8) | r->p[i];
	r->p += n;
	r->left -= n;
	return v;
}

/* a sub-reader over the next n bytes */
static struct rd rd_sub(struct rd *r, size_t n)
{
	struct rd s = {r->p, n, 0};

	if (r->bad || r->left < n) {
		r->bad = 1;
		s.bad = 1;
		s.left = 0;
		return s;
	}
	r->p += n;
	r->left -= n;
	return s;
}

int hw_tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static void printable(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < cap; i++)
		dst[o++] = (src[i] >= 0x21 && src[i] < 0x7f) ? (char)src[i] : '?';
	dst[o] = '\0';
}

static int parse_extension(uint16_t type, struct rd *e, struct hw_client_hello *h)
{
	switch (type) {
	case EXT_SNI: {
		struct rd list = rd_sub(e, rd_n(e, 2));

		while (list.left && !list.bad) {
			uint8_t kind = (uint8_t)rd_n(&list, 1);
			struct rd name = rd_sub(&list, rd_n(&list, 2));

			if (!list.bad && kind == 0 && !h->sni[0])
				printable(h->sni, sizeof(h->sni), name.p, name.left);
		}
		return list.bad || e->bad;
	}
	case EXT_ALPN: {
		struct rd list = rd_sub(e, rd_n(e, 2));
		size_t o = 0;
		int first = 1;

		while (list.left && !list.bad) {
			struct rd proto = rd_sub(&list, rd_n(&list, 1));

			if (list.bad)
				break;
			if (first) {
				h->alpn_len =
				    proto.left < HW_ALPN_MAX ? (unsigned)proto.left : HW_ALPN_MAX;
				memcpy(h->alpn, proto.p, h->alpn_len);
				/* JA4 needs the true last byte even when the value is cut */
				if (proto.left > HW_ALPN_MAX)
					h->alpn[HW_ALPN_MAX - 1] = proto.p[proto.left - 1];
				first = 0;
			}
			if (o + proto.left + 2 < sizeof(h->alpn_list)) {
				if (o)
					h->alpn_list[o++] = ',';
				printable(h->alpn_list + o, sizeof(h->alpn_list) - o, proto.p,
					  proto.left);
				o = strlen(h->alpn_list);
			}
		}
		return list.bad || e->bad;
	}
	case EXT_SIGALGS: {
		struct rd list = rd_sub(e, rd_n(e, 2));

		while (list.left >= 2 && !list.bad) {
			uint16_t v = (uint16_t)rd_n(&list, 2);

			if (hw_tls_is_grease(v))
				continue;
			if (h->n_sigalgs == HW_TLS_MAX_SIGALGS)
				return 1;
			h->sigalgs[h->n_sigalgs++] = v;
		}
		return list.bad || e->bad || list.left;
	}
	case EXT_SUPPORTED_VERSIONS: {
		struct rd list = rd_sub(e, rd_n(e, 1));

		h->has_supported_versions = 1;
		while (list.left >= 2 && !list.bad) {
			uint16_t v = (uint16_t)rd_n(&list, 2);

			if (!hw_tls_is_grease(v) && v > h->max_supported_version)
				h->max_supported_version = v;
		}
		return list.bad || e->bad || list.left;
	}
	}
	return 0;
}

static enum hw_parse_result parse_hello_body(struct rd *r, struct hw_client_hello *h)
{
	struct rd ciphers, exts;

	h->legacy_version = (uint16_t)rd_n(r, 2);
	rd_sub(r, 32);	       /* random */
	rd_sub(r, rd_n(r, 1)); /* session id */
	ciphers = rd_sub(r, rd_n(r, 2));
	rd_sub(r, rd_n(r, 1)); /* compression methods */
	if (r->bad || ciphers.left % 2)
		return HW_PARSE_ERROR;
	while (ciphers.left) {
		uint16_t v = (uint16_t)rd_n(&ciphers, 2);

		if (hw_tls_is_grease(v))
			continue;
		if (h->n_ciphers == HW_TLS_MAX_CIPHERS)
			return HW_PARSE_ERROR;
		h->ciphers[h->n_ciphers++] = v;
	}
	if (!r->left) /* SSL 3.0-style hello without extensions */
		return HW_PARSE_OK;
	exts = rd_sub(r, rd_n(r, 2));
	if (r->bad)
		return HW_PARSE_ERROR;
	while (exts.left) {
		uint16_t type = (uint16_t)rd_n(&exts, 2);
		struct rd body = rd_sub(&exts, rd_n(&exts, 2));

		if (exts.bad)
			return HW_PARSE_ERROR;
		if (hw_tls_is_grease(type))
			continue;
		if (h->n_exts == HW_TLS_MAX_EXTS)
			return HW_PARSE_ERROR;
		h->exts[h->n_exts++] = type;
		if (type == EXT_SNI)
			h->has_sni = 1;
		if (parse_extension(type, &body, h))
			return HW_PARSE_ERROR;
	}
	return HW_PARSE_OK;
}

enum hw_parse_result hw_tls_parse_client_hello(const uint8_t *buf, size_t len,
					       struct hw_client_hello *out)
{
	static __thread uint8_t hs[HW_HELLO_MAX + 4];
	size_t hs_len = 0, pos = 0, need = 0;
	struct rd r;

	memset(out, 0, sizeof(*out));
	/* gather the handshake bytes from consecutive handshake records */
	for (;;) {
		size_t rec_len, take;

		if (len - pos < 5) {
			if (pos == 0 && len > 0 && buf[0] != TLS_HANDSHAKE_RECORD)
				return HW_PARSE_NOT_MINE;
			if (pos == 0 && len > 1 && buf[1] != 3)
				return HW_PARSE_NOT_MINE;
			return HW_PARSE_INCOMPLETE;
		}
		if (buf[pos] != TLS_HANDSHAKE_RECORD || buf[pos + 1] != 3 || buf[pos + 2] > 4)
			return pos == 0 ? HW_PARSE_NOT_MINE : HW_PARSE_ERROR;
		rec_len = ((size_t)buf[pos + 3] << 8) | buf[pos + 4];
		if (rec_len == 0 || rec_len > TLS_RECORD_MAX)
			return HW_PARSE_ERROR;
		take = len - pos - 5 < rec_len ? len - pos - 5 : rec_len;
		if (hs_len + take > sizeof(hs))
			return HW_PARSE_ERROR;
		memcpy(hs + hs_len, buf + pos + 5, take);
		hs_len += take;
		if (!need && hs_len >= 4) {
			if (hs[0] != TLS_HS_CLIENT_HELLO)
				return HW_PARSE_ERROR;
			need = 4 + (((size_t)hs[1] << 16) | ((size_t)hs[2] << 8) | hs[3]);
			if (need > HW_HELLO_MAX)
				return HW_PARSE_ERROR;
		}
		if (need && hs_len >= need)
			break;
		if (take < rec_len)
			return HW_PARSE_INCOMPLETE;
		pos += 5 + rec_len;
	}
	r = (struct rd){hs + 4, need - 4, 0};
	return parse_hello_body(&r, out);
}

static const char *version_code(uint16_t v)
{
	switch (v) {
	case 0x0304:
		return "13";
	case 0x0303:
		return "12";
	case 0x0302:
		return "11";
	case 0x0301:
		return "10";
	case 0x0300:
		return "s3";
	case 0x0002:
		return "s2";
	case 0xfeff:
		return "d1";
	case 0xfefd:
		return "d2";
	case 0xfefc:
		return "d3";
	}
	return "00";
}

static int is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* JA4 "first and last characters of the first ALPN value", with the
 * spec's hex fallback for non-alphanumeric bytes */
static void alpn_code(const struct hw_client_hello *h, char out[3])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t first, last;

	if (!h->alpn_len) {
		strcpy(out, "00");
		return;
	}
	first = h->alpn[0];
	last = h->alpn[h->alpn_len - 1];
	if (is_alnum(first) && is_alnum(last)) {
		out[0] = (char)first;
		out[1] = (char)last;
	} else {
		out[0] = hex[first >> 4];
		out[1] = hex[last & 0xf];
	}
	out[2] = '\0';
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* "xxxx,xxxx,..." of n values into s (5 bytes per value, NUL-terminated);
 * by hand rather than a sprintf per value: a hello lists up to hundreds */
static size_t hex_list(char *s, const uint16_t *v, unsigned n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (unsigned i = 0; i < n; i++) {
		if (i)
			s[o++] = ',';
		s[o++] = hex[v[i] >> 12];
		s[o++] = hex[(v[i] >> 8) & 0xf];
		s[o++] = hex[(v[i] >> 4) & 0xf];
		s[o++] = hex[v[i] & 0xf];
	}
	s[o] = '\0';
	return o;
}

void hw_tls_ja4(const struct hw_client_hello *h, char *out)
{
	char buf[(HW_TLS_MAX_CIPHERS + HW_TLS_MAX_EXTS + HW_TLS_MAX_SIGALGS) * 5 + 2];
	uint16_t sorted[HW_TLS_MAX_CIPHERS];
	char a[16], alpn[3], b[13], c[13];
	unsigned n = 0;
	size_t o;

	alpn_code(h, alpn);
	snprintf(
	    a, sizeof(a), "t%s%c%02u%02u%s",
	    version_code(h->has_supported_versions ? h->max_supported_version : h->legacy_version),
	    h->has_sni ? 'd' : 'i', h->n_ciphers > 99 ? 99 : h->n_ciphers,
	    h->n_exts > 99 ? 99 : h->n_exts, alpn);

	memcpy(sorted, h->ciphers, h->n_ciphers * sizeof(uint16_t));
	qsort(sorted, h->n_ciphers, sizeof(uint16_t), cmp_u16);
	if (h->n_ciphers) {
		o = hex_list(buf, sorted, h->n_ciphers);
		hw_sha256_hex12(buf, o, b);
	} else {
		strcpy(b, "000000000000");
	}

	for (unsigned i = 0; i < h->n_exts; i++)
		if (h->exts[i] != EXT_SNI && h->exts[i] != EXT_ALPN)
			sorted[n++] = h->exts[i];
	qsort(sorted, n, sizeof(uint16_t), cmp_u16);
	if (n) {
		o = hex_list(buf, sorted, n);
		if (h->n_sigalgs) {
			buf[o++] = '_';
			o += hex_list(buf + o, h->sigalgs, h->n_sigalgs);
		}
		hw_sha256_hex12(buf, o, c);
	} else {
		strcpy(c, "000000000000");
	}
	snprintf(out, HW_JA4_LEN + 1, "%s_%s_%s", a, b, c);
}
