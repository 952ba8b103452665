// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* HTTP/1.x request heads (RFC 9112), strict enough to reject garbage and
 * lenient about bare LF line ends. Never reads past len (fuzzed by
 * tests/fuzz/fuzz_http.c). */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "proto/http.h"
#include "lib/sha.h"

#define METHOD_MAX   16
#define NAME_MAX_LEN 128
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

		if (c <= 0x20 || c >= 0x7f)
			return HW_PARSE_ERROR;
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

enum hw_parse_result hw_http_parse_request(const uint8_t *buf, size_t len, const char *ident_header,
					   struct hw_http_request *out)
{
	const char *p = (const char *)buf, *end = p + len, *next;
	size_t ident_len = ident_header ? strlen(ident_header) : 0;
	struct hw_str line;
	enum hw_parse_result res;

	memset(out, 0, sizeof(*out));
	next = next_line(p, end, &line);
	if (!next) {
		/* too short to judge: only claim it if it starts like a method */
		size_t i = 0;

		while (i < len && i <= METHOD_MAX && isupper(buf[i]))
			i++;
		if (i == 0 || (i < len && buf[i] != ' '))
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

		p = next;
		if (line.n == 0) {
			out->head_complete = 1;
			if (hw_http_json_model(p, (size_t)(end - p), &out->model))
				out->model = (struct hw_str){0};
			return HW_PARSE_OK;
		}
		if (line.p[0] == ' ' || line.p[0] == '\t')
			return HW_PARSE_ERROR; /* obsolete line folding */
		colon = memchr(line.p, ':', line.n);
		if (!colon || colon == line.p || colon - line.p > NAME_MAX_LEN)
			return HW_PARSE_ERROR;
		name = (struct hw_str){line.p, (size_t)(colon - line.p)};
		for (size_t i = 0; i < name.n; i++)
			if (!is_tchar((unsigned char)name.p[i]))
				return HW_PARSE_ERROR;
		value = trim((struct hw_str){colon + 1, (size_t)(line.p + line.n - colon - 1)});
		if (out->n_headers < HW_HTTP_MAX_HEADERS)
			out->names[out->n_headers] = name;
		out->n_headers++;
		if (ident_header && !out->ident.p && str_ieq_n(name, ident_header, ident_len))
			out->ident = value;
		else if (!out->user_agent.p && str_ieq(name, "user-agent"))
			out->user_agent = value;
		else if (!out->xff.p && str_ieq(name, "x-forwarded-for"))
			out->xff = value;
		else if (str_ieq(name, "expect") && str_ieq(value, "100-continue"))
			out->expect_continue = 1;
	}
	return HW_PARSE_INCOMPLETE;
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
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
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

int hw_http_json_model(const char *s, size_t n, struct hw_str *model)
{
	size_t i = skip_ws(s, n, 0);

	if (i >= n || s[i] != '{')
		return -1;
	i++;
	for (;;) {
		size_t key, key_end;

		i = skip_ws(s, n, i);
		if (i >= n || s[i] != '"')
			return -1;
		key = i + 1;
		key_end = skip_string(s, n, i);
		if (key_end == CUT)
			return -1;
		i = skip_ws(s, n, key_end);
		if (i >= n || s[i] != ':')
			return -1;
		i = skip_ws(s, n, i + 1);
		if (i >= n)
			return -1;
		if (key_end - key == 6 && !memcmp(s + key, "model\"", 6) && s[i] == '"') {
			size_t end = skip_string(s, n, i);

			if (end == CUT)
				return -1; /* cut inside the value */
			*model = (struct hw_str){s + i + 1, end - i - 2};
			return 0;
		}
		i = skip_value(s, n, i);
		if (i == CUT)
			return -1;
		i = skip_ws(s, n, i);
		if (i >= n || s[i] != ',')
			return -1;
		i++;
	}
}
