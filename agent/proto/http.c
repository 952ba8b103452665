// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* HTTP/1.x request heads (RFC 9112): a request line or nothing, and header
 * lines read as leniently as the servers the agent sits in front of read
 * them (llhttp, h11), each leniency counted; the JSON body's "model" as
 * Python reads it. Never reads past len (fuzzed by tests/fuzz/fuzz_http.c). */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "proto/http.h"
#include "lib/sha.h"

#define METHOD_MAX   16
#define NAME_MAX_LEN 128  /* longer header names are an anomaly (kept; cut in http_fp) */
#define UA_SCAN_MAX  2048 /* the largest capture: a User-Agent is never longer */

/* RFC 9110 token characters, by byte: a header name's every byte is
 * checked, so a table rather than isalnum() and strchr() per byte */
#define TCHAR_RANGE(lo, hi) [lo... hi] = 1
static const uint8_t tchar[256] = {
    TCHAR_RANGE('0', '9'),
    TCHAR_RANGE('A', 'Z'),
    TCHAR_RANGE('a', 'z'),
    ['!'] = 1,
    ['#'] = 1,
    ['$'] = 1,
    ['%'] = 1,
    ['&'] = 1,
    ['\''] = 1,
    ['*'] = 1,
    ['+'] = 1,
    ['-'] = 1,
    ['.'] = 1,
    ['^'] = 1,
    ['_'] = 1,
    ['`'] = 1,
    ['|'] = 1,
    ['~'] = 1,
};

static int is_tchar(unsigned char c)
{
	return tchar[c];
}

static int str_ieq_n(struct hw_str s, const char *lit, size_t n)
{
	return s.n == n && !strncasecmp(s.p, lit, n);
}

static int str_ieq(struct hw_str s, const char *lit)
{
	return str_ieq_n(s, lit, strlen(lit));
}

/* one line [p, end) without its CR/LF; returns the start of the next line,
 * or NULL if no line end is within the buffer */
static const char *next_line(const char *p, const char *end, struct hw_str *line)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	if (!nl)
		return NULL;
	line->p = p;
	line->n = (size_t)(nl - p);
	if (line->n && p[line->n - 1] == '\r')
		line->n--;
	return nl + 1;
}

static struct hw_str trim(struct hw_str s)
{
	while (s.n && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.n--;
	}
	while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
		s.n--;
	return s;
}

/* the request line; lenient where the servers are (a target with obs-text
 * or control bytes is served by h11's older releases and llhttp's lenient
 * builds: kept, counted), strict about its shape */
static enum hw_parse_result parse_request_line(struct hw_str l, struct hw_http_request *r)
{
	const char *sp1, *sp2, *end = l.p + l.n;
	size_t i;

	sp1 = memchr(l.p, ' ', l.n);
	if (!sp1 || sp1 == l.p || sp1 - l.p > METHOD_MAX)
		return HW_PARSE_NOT_MINE;
	for (const char *c = l.p; c < sp1; c++)
		if (!isupper((unsigned char)*c))
			return HW_PARSE_NOT_MINE;
	r->method = (struct hw_str){l.p, (size_t)(sp1 - l.p)};
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1)
		return HW_PARSE_ERROR;
	r->target = (struct hw_str){sp1 + 1, (size_t)(sp2 - sp1 - 1)};
	for (i = 0; i < r->target.n; i++) {
		unsigned char c = (unsigned char)r->target.p[i];

		if (c <= 0x20 || c >= 0x7f) {
			r->anomalies |= 1u << HW_HTTP_AN_BAD_TARGET;
			break;
		}
	}
	r->path = r->target;
	for (i = 0; i < r->target.n; i++)
		if (r->target.p[i] == '?' || r->target.p[i] == '#') {
			r->path.n = i;
			break;
		}
	if ((size_t)(end - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7))
		return HW_PARSE_ERROR;
	if (sp2[8] == '0')
		r->version = 10;
	else if (sp2[8] == '1')
		r->version = 11;
	else
		return HW_PARSE_ERROR;
	return HW_PARSE_OK;
}

static bool is_fold_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

size_t hw_http_unfold(struct hw_str v, char *out)
{
	size_t i = 0, o = 0;

	while (i < v.n && is_fold_ws(v.p[i]))
		i++;
	while (i < v.n) {
		size_t j = i;
		bool nl = false;

		/* a run of whitespace holding a line end is one fold: one space */
		while (j < v.n && is_fold_ws(v.p[j]))
			nl |= v.p[j++] == '\n';
		if (j == v.n)
			break; /* trailing whitespace */
		if (nl) {
			out[o++] = ' ';
		} else {
			memcpy(out + o, v.p + i, j - i);
			o += j - i;
		}
		out[o++] = v.p[j];
		i = j + 1;
	}
	return o;
}

/* v, unfolded, equals lit (lowercase) regardless of case */
static bool value_ieq(struct hw_str v, const char *lit)
{
	char buf[32];
	size_t n;

	if (v.n > sizeof(buf))
		return false;
	n = hw_http_unfold(v, buf);
	return n == strlen(lit) && !strncasecmp(buf, lit, n);
}

/* a small value with its folds undone: in place when it has none */
static struct hw_str flat(struct hw_str v, char *buf, size_t cap)
{
	if (!memchr(v.p, '\n', v.n))
		return v;
	if (v.n > cap)
		return (struct hw_str){0};
	return (struct hw_str){buf, hw_http_unfold(v, buf)};
}

/* Transfer-Encoding whose last coding is chunked (RFC 9112 6.1) */
static bool value_chunked(struct hw_str v)
{
	char buf[128];
	size_t n;

	if (v.n > sizeof(buf))
		return false;
	n = hw_http_unfold(v, buf);
	return n >= 7 && !strncasecmp(buf + n - 7, "chunked", 7) &&
	       (n == 7 || buf[n - 8] == ',' || buf[n - 8] == ' ' || buf[n - 8] == '\t');
}

/* Content-Length's digits; 0 for anything else */
static uint64_t value_length(struct hw_str v)
{
	char buf[32];
	uint64_t x = 0;

	v = flat(v, buf, sizeof(buf));
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9' || x > UINT64_MAX / 10 - 9)
			return 0;
		x = x * 10 + (uint64_t)(v.p[i] - '0');
	}
	return x;
}

enum hw_parse_result hw_http_parse_request(const uint8_t *buf, size_t len, const char *ident_header,
					   struct hw_http_request *out)
{
	const char *p = (const char *)buf, *end = p + len, *next;
	size_t ident_len = ident_header ? strlen(ident_header) : 0;
	/* the values the head's framing depends on, read once it is parsed */
	struct hw_str expect = {0}, clen = {0}, te = {0};
	/* the value the last header line set, which a folded line continues */
	struct hw_str *last = NULL;
	struct hw_str line;
	enum hw_parse_result res;
	bool fold_ident = false, ident_seen = false;

	memset(out, 0, sizeof(*out));
	/* empty lines before the request line are ignored (RFC 9112 2.2), as
	 * llhttp does: such a request is a request, not a body */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	if (p > (const char *)buf)
		out->anomalies |= 1u << HW_HTTP_AN_LEADING_EOL;
	if (p == end && len)
		return HW_PARSE_INCOMPLETE; /* only line ends so far */
	next = next_line(p, end, &line);
	if (!next) {
		/* too short to judge: only claim it if it starts like a method */
		size_t i = 0, n = (size_t)(end - p);

		while (i < n && i <= METHOD_MAX && isupper((unsigned char)p[i]))
			i++;
		if (i == 0 || (i < n && p[i] != ' '))
			return HW_PARSE_NOT_MINE;
		return HW_PARSE_INCOMPLETE;
	}
	res = parse_request_line(line, out);
	if (res != HW_PARSE_OK)
		return res;
	p = next;
	while ((next = next_line(p, end, &line))) {
		const char *colon;
		struct hw_str name, value;
		bool token = true;

		p = next;
		if (line.n == 0) {
			out->head_complete = 1;
			break;
		}
		if (line.p[0] == ' ' || line.p[0] == '\t') {
			/* obs-fold (RFC 9112 5.2): llhttp and h11 take it as part of
			 * the value above; so does the agent, with the line end and
			 * its whitespace read as one space */
			out->anomalies |= 1u << HW_HTTP_AN_OBS_FOLD;
			if (last) {
				struct hw_str rest = trim(line);

				if (rest.n) {
					if (!last->p)
						*last = rest;
					else
						last->n = (size_t)(rest.p + rest.n - last->p);
					if (last == &out->ident)
						fold_ident = true;
				}
			}
			continue;
		}
		last = NULL;
		colon = memchr(line.p, ':', line.n);
		if (colon && colon != line.p) {
			name = (struct hw_str){line.p, (size_t)(colon - line.p)};
			for (size_t i = 0; i < name.n && token; i++)
				token = is_tchar((unsigned char)name.p[i]);
		}
		if (!colon || colon == line.p || !token) {
			/* the servers answer 400: nothing of it is used, and the
			 * lines around it still are */
			out->anomalies |= 1u << HW_HTTP_AN_BAD_LINE;
			continue;
		}
		if (name.n > NAME_MAX_LEN)
			out->anomalies |= 1u << HW_HTTP_AN_LONG_NAME;
		value = trim((struct hw_str){colon + 1, (size_t)(line.p + line.n - colon - 1)});
		if (!value.n)
			value.p = NULL; /* a fold may still give it one */
		if (out->n_headers < HW_HTTP_MAX_HEADERS)
			out->names[out->n_headers] = name;
		out->n_headers++;
		if (ident_header && str_ieq_n(name, ident_header, ident_len)) {
			/* the first, as Starlette's and Node's header lookups take it */
			if (ident_seen) {
				out->anomalies |= 1u << HW_HTTP_AN_DUP_IDENT;
			} else {
				out->ident = value;
				last = &out->ident;
				ident_seen = true;
			}
		} else if (str_ieq(name, "x-forwarded-for")) {
			if (out->n_xff == HW_HTTP_MAX_XFF) {
				memmove(out->xff, out->xff + 1,
					sizeof(out->xff) - sizeof(out->xff[0]));
				out->n_xff--;
				out->xff_dropped = true;
			}
			out->xff[out->n_xff] = value;
			last = &out->xff[out->n_xff++];
		} else if (!out->user_agent.p && str_ieq(name, "user-agent")) {
			out->user_agent = value;
			last = &out->user_agent;
		} else if (!expect.p && str_ieq(name, "expect")) {
			expect = value;
			last = &expect;
		} else if (!clen.p && str_ieq(name, "content-length")) {
			clen = value;
			last = &clen;
		} else if (!te.p && str_ieq(name, "transfer-encoding")) {
			te = value;
			last = &te;
		}
	}
	out->ident_folded = fold_ident;
	out->expect_continue = expect.p && value_ieq(expect, "100-continue");
	out->content_length = clen.p ? value_length(clen) : 0;
	out->chunked = te.p && value_chunked(te);
	if (!out->head_complete)
		return HW_PARSE_INCOMPLETE;
	{
		size_t n;
		unsigned keys;

		if (!hw_http_body_model((const uint8_t *)p, (size_t)(end - p), out->chunked,
					out->model_buf, sizeof(out->model_buf), &n, &keys))
			out->model = (struct hw_str){out->model_buf, n};
		if (keys > 1)
			out->anomalies |= 1u << HW_HTTP_AN_DUP_MODEL;
	}
	return HW_PARSE_OK;
}

const char *hw_http_anomaly_name(unsigned kind)
{
	static const char *const names[HW_HTTP_AN_MAX] = {
	    [HW_HTTP_AN_LONG_NAME] = "long_name",   [HW_HTTP_AN_OBS_FOLD] = "obs_fold",
	    [HW_HTTP_AN_BAD_LINE] = "bad_line",	    [HW_HTTP_AN_LEADING_EOL] = "leading_crlf",
	    [HW_HTTP_AN_BAD_TARGET] = "bad_target", [HW_HTTP_AN_DUP_IDENT] = "dup_ident",
	    [HW_HTTP_AN_DUP_MODEL] = "dup_model",
	};
	return kind < HW_HTTP_AN_MAX ? names[kind] : "unknown";
}

bool hw_http_has_body(const struct hw_http_request *r)
{
	return r->content_length > 0 || r->chunked;
}

void hw_http_fingerprint(const struct hw_http_request *r, char *out)
{
	char names[HW_HTTP_MAX_HEADERS * (NAME_MAX_LEN + 1)];
	unsigned kept = 0,
		 n = r->n_headers < HW_HTTP_MAX_HEADERS ? r->n_headers : HW_HTTP_MAX_HEADERS;
	size_t o = 0;
	char hash[13];

	for (unsigned i = 0; i < n; i++) {
		struct hw_str nm = r->names[i];

		/* they vary per request, not per client implementation */
		if (str_ieq(nm, "cookie") || str_ieq(nm, "referer"))
			continue;
		if (kept++)
			names[o++] = ',';
		if (nm.n > NAME_MAX_LEN)
			nm.n = NAME_MAX_LEN; /* the buffer's bound: longer names are rare */
		for (size_t k = 0; k < nm.n; k++)
			names[o++] = (char)tolower((unsigned char)nm.p[k]);
	}
	if (o)
		hw_sha256_hex12(names, o, hash);
	else
		strcpy(hash, "000000000000");
	/* by hand: a fixed layout, once per request, needs no format parsing */
	out[0] = r->method.n > 0 ? (char)tolower((unsigned char)r->method.p[0]) : '0';
	out[1] = r->method.n > 1 ? (char)tolower((unsigned char)r->method.p[1]) : '0';
	out[2] = (char)('0' + r->version / 10);
	out[3] = (char)('0' + r->version % 10);
	kept = kept > 99 ? 99 : kept;
	out[4] = (char)('0' + kept / 10);
	out[5] = (char)('0' + kept % 10);
	out[6] = '_';
	memcpy(out + 7, hash, 13);
}

/* first match wins: more specific patterns before generic ones; needles in
 * lower case, matched anywhere in the lower-cased User-Agent */
#define UA(needle, family)                                                                         \
	{                                                                                          \
		needle, sizeof(needle) - 1, family                                                 \
	}
static const struct {
	const char *needle;
	size_t len;
	const char *family;
} ua_families[] = {
    UA("openai/python", "openai-python"),
    UA("openai/js", "openai-node"),
    UA("anthropic-python", "anthropic-python"),
    UA("anthropic/python", "anthropic-python"),
    UA("anthropic/js", "anthropic-node"),
    UA("langchain", "langchain"),
    UA("python-requests", "python-requests"),
    UA("python-httpx", "python-httpx"),
    UA("aiohttp", "python-aiohttp"),
    UA("python-urllib", "python-urllib"),
    UA("curl/", "curl"),
    UA("wget/", "wget"),
    UA("go-http-client", "go"),
    UA("node-fetch", "node"),
    UA("undici", "node"),
    UA("axios", "node"),
    UA("okhttp", "okhttp"),
    UA("java/", "java"),
    UA("postmanruntime", "postman"),
    UA("edg/", "edge"),
    UA("firefox/", "firefox"),
    UA("chrome/", "chrome"),
    UA("safari/", "safari"),
    UA("mozilla/", "browser-other"),
    UA("hwload", "hwload"),
    UA("hwtest", "hwtest"),
};

/* needle in s[n]: memchr for its first byte, then the rest (glibc's
 * memmem sets up a two-way search per call, too slow for these sizes) */
static bool contains(const char *s, size_t n, const char *needle, size_t k)
{
	const char *p = s, *end = s + n;

	while (k <= (size_t)(end - p) && (p = memchr(p, needle[0], (size_t)(end - p) - k + 1))) {
		if (!memcmp(p + 1, needle + 1, k - 1))
			return true;
		p++;
	}
	return false;
}

const char *hw_http_ua_family(const char *ua, size_t n)
{
	char low[UA_SCAN_MAX];

	if (!ua || !n)
		return "none";
	if (n > sizeof(low))
		n = sizeof(low);
	for (size_t i = 0; i < n; i++)
		low[i] = (char)(ua[i] >= 'A' && ua[i] <= 'Z' ? ua[i] - 'A' + 'a' : ua[i]);
	for (size_t i = 0; i < sizeof(ua_families) / sizeof(ua_families[0]); i++)
		if (contains(low, n, ua_families[i].needle, ua_families[i].len))
			return ua_families[i].family;
	return "other";
}

/* --- a minimal JSON scanner: enough to skip values in a body prefix --- */

static size_t skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	return i;
}

#define CUT ((size_t)-1)

/* s[i] is '"': returns the index after the closing quote, or CUT */
static size_t skip_string(const char *s, size_t n, size_t i)
{
	/* the body after "model" is skipped whole (a later "model" wins):
	 * memchr to each quote, then the backslashes before it */
	for (i++; i < n;) {
		const char *q = memchr(s + i, '"', n - i);
		size_t k, bs = 0;

		if (!q)
			return CUT;
		for (k = (size_t)(q - s); k > i && s[k - 1] == '\\'; k--)
			bs++;
		i = (size_t)(q - s) + 1;
		if (!(bs & 1))
			return i;
	}
	return CUT;
}

/* skips one value; returns the index after it, or CUT */
static size_t skip_value(const char *s, size_t n, size_t i)
{
	int depth = 0;

	while (i < n) {
		char c = s[i];

		if (c == '"') {
			i = skip_string(s, n, i);
			if (i == CUT || !depth)
				return i;
			continue;
		}
		if (c == '{' || c == '[') {
			if (++depth > 64)
				return CUT;
		} else if (c == '}' || c == ']') {
			if (depth-- == 0)
				return i; /* end of the enclosing object */
			if (!depth)
				return i + 1;
		} else if (!depth && c == ',') {
			return i;
		}
		i++;
	}
	return CUT;
}

static int hex4(const char *s, size_t n, size_t i, unsigned *v)
{
	*v = 0;
	if (n - i < 4)
		return -1;
	for (size_t k = 0; k < 4; k++) {
		char c = s[i + k];
		unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
			     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
						    : 16u;

		if (d > 15)
			return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

/* puts c into out[cap] at *o, as far as it fits */
static void put_byte(char *out, size_t cap, size_t *o, unsigned c)
{
	if (*o < cap)
		out[*o] = (char)c;
	(*o)++;
}

static void put_utf8(char *out, size_t cap, size_t *o, unsigned cp)
{
	if (cp < 0x80) {
		put_byte(out, cap, o, cp);
	} else if (cp < 0x800) {
		put_byte(out, cap, o, 0xc0 | cp >> 6);
		put_byte(out, cap, o, 0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		put_byte(out, cap, o, 0xe0 | cp >> 12);
		put_byte(out, cap, o, 0x80 | (cp >> 6 & 0x3f));
		put_byte(out, cap, o, 0x80 | (cp & 0x3f));
	} else {
		put_byte(out, cap, o, 0xf0 | cp >> 18);
		put_byte(out, cap, o, 0x80 | (cp >> 12 & 0x3f));
		put_byte(out, cap, o, 0x80 | (cp >> 6 & 0x3f));
		put_byte(out, cap, o, 0x80 | (cp & 0x3f));
	}
}

/* the JSON string content s[n] (between its quotes) decoded into out[cap],
 * cut there; returns the decoded length (which may exceed cap), or CUT for
 * what a JSON parser refuses (a bad escape, a raw control byte) */
static size_t json_unescape(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		unsigned cp, lo;

		if (c < 0x20)
			return CUT;
		if (c != '\\') {
			put_byte(out, cap, &o, c);
			continue;
		}
		if (++i >= n)
			return CUT;
		switch (s[i]) {
		case '"':
		case '\\':
		case '/':
			put_byte(out, cap, &o, (unsigned char)s[i]);
			break;
		case 'b':
			put_byte(out, cap, &o, '\b');
			break;
		case 'f':
			put_byte(out, cap, &o, '\f');
			break;
		case 'n':
			put_byte(out, cap, &o, '\n');
			break;
		case 'r':
			put_byte(out, cap, &o, '\r');
			break;
		case 't':
			put_byte(out, cap, &o, '\t');
			break;
		case 'u':
			if (hex4(s, n, i + 1, &cp))
				return CUT;
			i += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && i + 2 < n && s[i + 1] == '\\' &&
			    s[i + 2] == 'u' && !hex4(s, n, i + 3, &lo) && lo >= 0xdc00 &&
			    lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			} else if (cp >= 0xd800 && cp < 0xe000) {
				cp = 0xfffd; /* a lone surrogate */
			}
			put_utf8(out, cap, &o, cp);
			break;
		default:
			return CUT;
		}
	}
	return o;
}

/* the key content k[n] is "model" once its escapes are decoded */
static bool key_is_model(const char *k, size_t n)
{
	char buf[6];

	if (n == 5)
		return !memcmp(k, "model", 5);
	return n > 5 && memchr(k, '\\', n) && json_unescape(k, n, buf, sizeof(buf)) == 5 &&
	       !memcmp(buf, "model", 5);
}

int hw_http_json_model(const char *s, size_t n, char *out, size_t cap, size_t *len, unsigned *keys)
{
	size_t i = skip_ws(s, n, 0);
	bool found = false;

	*keys = 0;
	*len = 0;
	if (i >= n || s[i] != '{')
		return -1;
	i = skip_ws(s, n, i + 1);
	/* every top-level key to the object's end or the prefix's: a later
	 * "model" replaces an earlier one, as in a Python dict */
	while (i < n && s[i] != '}') {
		size_t key, key_end;

		if (s[i] != '"')
			return -1;
		key = i + 1;
		key_end = skip_string(s, n, i);
		if (key_end == CUT)
			break;
		i = skip_ws(s, n, key_end);
		if (i < n && s[i] != ':')
			return -1;
		i = skip_ws(s, n, i + 1);
		if (i >= n)
			break;
		if (key_is_model(s + key, key_end - key - 1)) {
			(*keys)++;
			found = false; /* until its value is read whole */
			if (s[i] == '"') {
				size_t end = skip_string(s, n, i), m;

				if (end == CUT)
					break; /* cut inside the value: unknown */
				m = json_unescape(s + i + 1, end - i - 2, out, cap);
				if (m == CUT)
					return -1;
				*len = m < cap ? m : cap;
				found = true;
				i = end;
			} else {
				i = skip_value(s, n, i); /* no string: no model */
			}
		} else {
			i = skip_value(s, n, i);
		}
		if (i == CUT)
			break;
		i = skip_ws(s, n, i);
		if (i < n && s[i] == ',')
			i = skip_ws(s, n, i + 1);
		else if (i < n && s[i] != '}')
			return -1;
	}
	return found ? 0 : -1;
}

#define BODY_SCAN_MAX 4096 /* a chunked body prefix, unframed: twice the largest capture */

/* the data of the chunks that begin in s[n] (RFC 9112 7.1) into out[cap] */
static size_t dechunk(const uint8_t *s, size_t n, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < n && o < cap) {
		uint64_t size = 0;
		size_t digits = 0, take;

		while (i < n && isxdigit(s[i]) && digits < 15) {
			size = size << 4 |
			       (uint64_t)(isdigit(s[i]) ? s[i] - '0' : (tolower(s[i]) - 'a' + 10));
			i++;
			digits++;
		}
		if (!digits)
			break;
		while (i < n && s[i] != '\n') /* chunk extensions, the CR */
			i++;
		if (i++ >= n || !size)
			break;
		take = n - i < cap - o ? n - i : cap - o;
		if (size < take)
			take = (size_t)size;
		memcpy(out + o, s + i, take);
		o += take;
		i += take;
		if (take < size)
			break;
		if (i < n && s[i] == '\r')
			i++;
		if (i < n && s[i] == '\n')
			i++;
	}
	return o;
}

int hw_http_body_model(const uint8_t *body, size_t n, bool chunked, char *out, size_t cap,
		       size_t *len, unsigned *keys)
{
	char plain[BODY_SCAN_MAX];

	if (!chunked)
		return hw_http_json_model((const char *)body, n, out, cap, len, keys);
	n = dechunk(body, n, plain, sizeof(plain));
	return hw_http_json_model(plain, n, out, cap, len, keys);
}
