// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* hwserve: the test suite's HTTP/1.1 server. Keep-alive, one thread per
 * connection, and responses whose sizes and timing the request chooses, so
 * tests know exactly what crossed the wire:
 *   ANY /bytes?n=N                       200, N-byte body (Content-Length)
 *   ANY /stream?chunks=C&interval_ms=M&size=S
 *                                        200, chunked text/event-stream, C
 *                                        events of S payload bytes, M ms apart
 * and, for the simulator (tests/sim), a mock inference server:
 *   POST /v1/chat/completions            OpenAI-style: JSON, or with
 *                                        "stream": true SSE chunks and
 *                                        "data: [DONE]"
 *   POST /v1/messages                    Anthropic-style: JSON, or SSE with
 *                                        Anthropic's event names
 * Both read the body's "model", "stream" and "max_tokens" (exactly that
 * many tokens come back; --default-tokens without it), wait --ttft-ms before
 * the first token and generate --token-rate tokens a second (0: at once),
 * streamed in writes at most every --flush-ms.
 * A head with "Expect: 100-continue" whose body has not arrived yet gets
 * "HTTP/1.1 100 Continue" first; empty lines before a request are skipped.
 * Usage: hwserve ADDR PORT [--tls CERT KEY] [--token-rate N] [--ttft-ms MS]
 *                          [--flush-ms MS] [--default-tokens N]
 *   (ADDR 127.0.0.1, ::1, or :: for dual stack). --tls serves TLS with the
 *   PEM certificate and key, offering ALPN http/1.1; libssl is loaded at
 *   run time, so the tool links nothing but libc and pthreads.
 * Prints "ready" on stdout once it listens.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX   16384
#define BODY_CHUNK 65536
#define CONTINUE   "HTTP/1.1 100 Continue\r\n\r\n"
/* request bodies the mock endpoints read whole to find model/stream/max_tokens */
#define API_BODY_MAX (1 << 20)
/* tokens one response may ask for: bounds the response buffer (~12 B a token) */
#define API_TOKENS_MAX 16384
#define MODEL_MAX      64

/* libssl's entry points, resolved with dlopen when --tls is given */
static struct {
	__typeof__(TLS_server_method) *TLS_server_method;
	__typeof__(SSL_CTX_new) *SSL_CTX_new;
	__typeof__(SSL_CTX_use_certificate_chain_file) *SSL_CTX_use_certificate_chain_file;
	__typeof__(SSL_CTX_use_PrivateKey_file) *SSL_CTX_use_PrivateKey_file;
	__typeof__(SSL_CTX_set_alpn_select_cb) *SSL_CTX_set_alpn_select_cb;
	__typeof__(SSL_select_next_proto) *SSL_select_next_proto;
	__typeof__(SSL_new) *SSL_new;
	__typeof__(SSL_set_fd) *SSL_set_fd;
	__typeof__(SSL_accept) *SSL_accept;
	__typeof__(SSL_read) *SSL_read;
	__typeof__(SSL_write) *SSL_write;
	__typeof__(SSL_get_error) *SSL_get_error;
	__typeof__(SSL_shutdown) *SSL_shutdown;
	__typeof__(SSL_free) *SSL_free;
} ssl_api;
static SSL_CTX *tls_ctx;

/* the mock inference server's pacing, from the command line */
static long token_rate;	   /* tokens a second per response, 0: no pacing */
static long ttft_ms;	   /* before the first token */
static long flush_ms = 20; /* a streamed write at most this often */
static long default_tokens = 128;
static unsigned long next_id; /* response ids, atomically incremented */

struct conn {
	int fd;
	SSL *ssl;
};

static ssize_t conn_recv(struct conn *c, void *buf, size_t len)
{
	if (c->ssl) {
		int n = ssl_api.SSL_read(c->ssl, buf, len > 1 << 30 ? 1 << 30 : (int)len);

		if (n > 0)
			return n;
		return ssl_api.SSL_get_error(c->ssl, n) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
	}
	return recv(c->fd, buf, len, 0);
}

static int send_all(struct conn *c, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n;

		if (c->ssl) {
			int k = ssl_api.SSL_write(c->ssl, p, len > 1 << 30 ? 1 << 30 : (int)len);

			if (k <= 0)
				return -1;
			n = k;
		} else {
			n = send(c->fd, p, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static long query_long(const char *path, const char *key, long def)
{
	const char *q = strchr(path, '?');
	size_t klen = strlen(key);

	while (q) {
		q++;
		if (!strncmp(q, key, klen) && q[klen] == '=')
			return strtol(q + klen + 1, NULL, 10);
		q = strchr(q, '&');
	}
	return def;
}

static int reply_bytes(struct conn *c, long n)
{
	static char body[BODY_CHUNK];
	char head[256];
	int hl;

	if (!body[0])
		memset(body, 'x', sizeof(body));
	hl = snprintf(head, sizeof(head),
		      "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
		      "Content-Length: %ld\r\n\r\n",
		      n);
	if (send_all(c, head, (size_t)hl))
		return -1;
	while (n > 0) {
		size_t k = n > BODY_CHUNK ? BODY_CHUNK : (size_t)n;

		if (send_all(c, body, k))
			return -1;
		n -= (long)k;
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	if (ms > 0)
		nanosleep(&ts, NULL);
}

static int reply_stream(struct conn *c, long chunks, long interval_ms, long size)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n";
	char buf[8192];

	if (size < 1 || size > 4096)
		size = 16;
	if (send_all(c, head, sizeof(head) - 1))
		return -1;
	for (long i = 0; i < chunks; i++) {
		/* "data: " + size payload bytes + "\n\n" framed as one chunk */
		int n = snprintf(buf, sizeof(buf), "%lx\r\ndata: ", size + 8);

		memset(buf + n, 't', (size_t)size);
		n += (int)size;
		memcpy(buf + n, "\n\n\r\n", 4);
		n += 4;
		if (send_all(c, buf, (size_t)n))
			return -1;
		if (interval_ms > 0 && i + 1 < chunks)
			sleep_ms(interval_ms);
	}
	return send_all(c, "0\r\n\r\n", 5);
}

/* --- the mock inference endpoints --- */

struct api_req {
	char model[MODEL_MAX + 1];
	int stream;
	long max_tokens;
	size_t body_len;
};

static size_t skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	return i;
}

/* past the string opening at s[i] (a quote) */
static size_t skip_string(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return n;
}

/* past one JSON value starting at s[i] */
static size_t skip_value(const char *s, size_t n, size_t i)
{
	int depth = 0;

	if (i < n && s[i] == '"')
		return skip_string(s, n, i);
	if (i < n && (s[i] == '{' || s[i] == '[')) {
		while (i < n) {
			if (s[i] == '"') {
				i = skip_string(s, n, i);
				continue;
			}
			if (s[i] == '{' || s[i] == '[')
				depth++;
			else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
				return i + 1;
			i++;
		}
		return n;
	}
	while (i < n && !strchr(",}] \t\r\n", s[i]))
		i++;
	return i;
}

/* the top-level "model", "stream" and "max_tokens" of a JSON object; a model
 * keeps only characters that need no JSON escaping when echoed */
static void parse_api_body(const char *s, size_t n, struct api_req *r)
{
	size_t i = skip_ws(s, n, 0);

	if (i >= n || s[i] != '{')
		return;
	i++;
	for (;;) {
		size_t k0, k1;

		i = skip_ws(s, n, i);
		if (i >= n || s[i] != '"')
			return;
		k0 = i + 1;
		i = skip_string(s, n, i);
		k1 = i - 1;
		i = skip_ws(s, n, i);
		if (i >= n || s[i] != ':')
			return;
		i = skip_ws(s, n, i + 1);
		if (i >= n)
			return;
#define KEY_IS(lit) (k1 - k0 == sizeof(lit) - 1 && !memcmp(s + k0, lit, sizeof(lit) - 1))
		if (KEY_IS("model") && s[i] == '"') {
			size_t end = skip_string(s, n, i), m = 0;

			for (size_t j = i + 1; j + 1 < end && m < MODEL_MAX; j++) {
				char ch = s[j];

				if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				      (ch >= '0' && ch <= '9') || strchr("._:/-", ch)))
					ch = '_';
				r->model[m++] = ch;
			}
			r->model[m] = '\0';
		} else if (KEY_IS("stream")) {
			r->stream = n - i >= 4 && !memcmp(s + i, "true", 4);
		} else if (KEY_IS("max_tokens") || KEY_IS("max_completion_tokens")) {
			char num[24];
			size_t m = 0;

			while (i + m < n && m < sizeof(num) - 1 && s[i + m] >= '0' &&
			       s[i + m] <= '9')
				m++;
			memcpy(num, s + i, m);
			num[m] = '\0';
			if (m)
				r->max_tokens = strtol(num, NULL, 10);
		}
#undef KEY_IS
		i = skip_ws(s, n, skip_value(s, n, i));
		if (i >= n || s[i] != ',')
			return;
		i++;
	}
}

static const char *const words[16] = {
    " the",   " model", " answer", " is",    " a",    " token", " of",	" text",
    " which", " we",	" stream", " until", " done", " here",	" and", " more",
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* growable output buffer */
struct buf {
	char *p;
	size_t n, cap;
};

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	for (;;) {
		va_start(ap, fmt);
		k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		if (k >= 0 && (size_t)k < b->cap - b->n) {
			b->n += (size_t)k;
			return;
		}
		b->cap = b->cap * 2 + (size_t)(k > 0 ? k : 0) + 256;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
}

/* sends b as one HTTP chunk and empties it */
static int send_chunk(struct conn *c, struct buf *b)
{
	char hdr[32];
	int hl;

	if (!b->n)
		return 0;
	hl = snprintf(hdr, sizeof(hdr), "%zx\r\n", b->n);
	buf_printf(b, "\r\n");
	if (send_all(c, hdr, (size_t)hl) || send_all(c, b->p, b->n))
		return -1;
	b->n = 0;
	return 0;
}

/* waits until token i (0-based) is due: ttft, then token_rate a second */
static double token_due_ms(double t0, long i)
{
	return t0 + (double)ttft_ms +
	       (token_rate > 0 ? (double)i * 1000.0 / (double)token_rate : 0);
}

static void sleep_until_ms(double when)
{
	double d = when - now_ms();

	if (d > 0) {
		struct timespec ts = {(time_t)(d / 1000),
				      (long)((d - (double)(long)(d / 1000) * 1000) * 1e6)};

		nanosleep(&ts, NULL);
	}
}

static int reply_api(struct conn *c, int anthropic, const struct api_req *r)
{
	static const char sse_head[] =
	    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
	    "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n";
	unsigned long id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
	long ntok = r->max_tokens > 0 ? r->max_tokens : default_tokens;
	long in_tok = (long)(r->body_len / 4) + 1;
	const char *model = r->model[0] ? r->model : "unknown";
	long created = (long)time(NULL);
	double t0 = now_ms();
	struct buf b = {malloc(4096), 0, 4096};
	int rc = -1;

	if (!b.p)
		return -1;
	if (ntok > API_TOKENS_MAX)
		ntok = API_TOKENS_MAX;
	if (!r->stream) {
		struct buf body = {malloc(4096), 0, 4096};

		if (!body.p)
			goto out;
		if (anthropic)
			buf_printf(
			    &body,
			    "{\"id\":\"msg_sim%08lx\",\"type\":\"message\",\"role\":\"assistant\","
			    "\"model\":\"%s\",\"content\":[{\"type\":\"text\",\"text\":\"",
			    id, model);
		else
			buf_printf(&body,
				   "{\"id\":\"chatcmpl-sim%08lx\",\"object\":\"chat.completion\","
				   "\"created\":%ld,\"model\":\"%s\",\"system_fingerprint\":\"fp_"
				   "hwserve\","
				   "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
				   "\"content\":\"",
				   id, created, model);
		for (long i = 0; i < ntok; i++)
			buf_printf(&body, "%s", words[(i * 7 + (long)id) & 15]);
		if (anthropic)
			buf_printf(&body,
				   "\"}],\"stop_reason\":\"max_tokens\",\"stop_sequence\":null,"
				   "\"usage\":{\"input_tokens\":%ld,\"output_tokens\":%ld}}",
				   in_tok, ntok);
		else
			buf_printf(&body,
				   "\"},\"logprobs\":null,\"finish_reason\":\"length\"}],"
				   "\"usage\":{\"prompt_tokens\":%ld,\"completion_tokens\":%ld,"
				   "\"total_tokens\":%ld}}",
				   in_tok, ntok, in_tok + ntok);
		/* the whole answer is ready when its last token is */
		sleep_until_ms(token_due_ms(t0, ntok));
		buf_printf(&b,
			   "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			   "Content-Length: %zu\r\n\r\n",
			   body.n);
		rc = send_all(c, b.p, b.n) || send_all(c, body.p, body.n) ? -1 : 0;
		free(body.p);
		goto out;
	}

	if (send_all(c, sse_head, sizeof(sse_head) - 1))
		goto out;
	sleep_until_ms(token_due_ms(t0, 0));
	if (anthropic)
		buf_printf(
		    &b,
		    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":"
		    "{\"id\":\"msg_sim%08lx\",\"type\":\"message\",\"role\":\"assistant\","
		    "\"content\":[],\"model\":\"%s\",\"stop_reason\":null,\"stop_sequence\":null,"
		    "\"usage\":{\"input_tokens\":%ld,\"output_tokens\":1}}}\n\n"
		    "event: content_block_start\ndata: {\"type\":\"content_block_start\","
		    "\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
		    "event: ping\ndata: {\"type\": \"ping\"}\n\n",
		    id, model, in_tok);
	else
		buf_printf(
		    &b,
		    "data: {\"id\":\"chatcmpl-sim%08lx\",\"object\":\"chat.completion.chunk\","
		    "\"created\":%ld,\"model\":\"%s\",\"system_fingerprint\":\"fp_hwserve\","
		    "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
		    "\"logprobs\":null,\"finish_reason\":null}]}\n\n",
		    id, created, model);
	for (long i = 0; i < ntok;) {
		double now = now_ms();

		/* every token due by now goes in this write */
		while (i < ntok && token_due_ms(t0, i) <= now) {
			const char *w = words[(i * 7 + (long)id) & 15];

			if (anthropic)
				buf_printf(
				    &b,
				    "event: content_block_delta\ndata: {\"type\":"
				    "\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
				    "\"text_delta\",\"text\":\"%s\"}}\n\n",
				    w);
			else
				buf_printf(
				    &b,
				    "data: {\"id\":\"chatcmpl-sim%08lx\",\"object\":"
				    "\"chat.completion.chunk\",\"created\":%ld,\"model\":\"%s\","
				    "\"system_fingerprint\":\"fp_hwserve\",\"choices\":[{\"index\":"
				    "0,"
				    "\"delta\":{\"content\":\"%s\"},\"logprobs\":null,"
				    "\"finish_reason\":null}]}\n\n",
				    id, created, model, w);
			i++;
			if (b.n > 60000)
				break;
		}
		if (i < ntok) {
			if (send_chunk(c, &b))
				goto out;
			{
				double next = token_due_ms(t0, i),
				       soonest = now_ms() + (double)flush_ms;

				sleep_until_ms(next > soonest ? next : soonest);
			}
		}
	}
	if (anthropic)
		buf_printf(&b,
			   "event: content_block_stop\ndata: {\"type\":\"content_block_stop\","
			   "\"index\":0}\n\n"
			   "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":"
			   "{\"stop_reason\":\"max_tokens\",\"stop_sequence\":null},\"usage\":"
			   "{\"output_tokens\":%ld}}\n\n"
			   "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
			   ntok);
	else
		buf_printf(
		    &b,
		    "data: {\"id\":\"chatcmpl-sim%08lx\",\"object\":\"chat.completion.chunk\","
		    "\"created\":%ld,\"model\":\"%s\",\"system_fingerprint\":\"fp_hwserve\","
		    "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,"
		    "\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n",
		    id, created, model);
	if (send_chunk(c, &b))
		goto out;
	rc = send_all(c, "0\r\n\r\n", 5);
out:
	free(b.p);
	return rc;
}

/* which mock endpoint a POST path names (query string ignored): 1 OpenAI,
 * 2 Anthropic, 0 neither */
static int api_endpoint(const char *method, const char *path)
{
	size_t n = strcspn(path, "?");

	if (strcmp(method, "POST"))
		return 0;
	if (n == 20 && !strncmp(path, "/v1/chat/completions", n))
		return 1;
	if (n == 12 && !strncmp(path, "/v1/messages", n))
		return 2;
	return 0;
}

static unsigned char alpn_http11[] = "\x08http/1.1";

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	if (ssl_api.SSL_select_next_proto((unsigned char **)out, outlen, alpn_http11,
					  sizeof(alpn_http11) - 1, in,
					  inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	return SSL_TLSEXT_ERR_OK;
}

static int tls_init(const char *cert, const char *key)
{
	void *h = dlopen("libssl.so.3", RTLD_NOW);

	if (!h)
		h = dlopen("libssl.so", RTLD_NOW);
	if (!h) {
		fprintf(stderr, "hwserve: --tls needs libssl: %s\n", dlerror());
		return -1;
	}
#define SYM(name)                                                                                  \
	do {                                                                                       \
		*(void **)&ssl_api.name = dlsym(h, #name);                                         \
		if (!ssl_api.name) {                                                               \
			fprintf(stderr, "hwserve: libssl lacks %s\n", #name);                      \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)
	SYM(TLS_server_method);
	SYM(SSL_CTX_new);
	SYM(SSL_CTX_use_certificate_chain_file);
	SYM(SSL_CTX_use_PrivateKey_file);
	SYM(SSL_CTX_set_alpn_select_cb);
	SYM(SSL_select_next_proto);
	SYM(SSL_new);
	SYM(SSL_set_fd);
	SYM(SSL_accept);
	SYM(SSL_read);
	SYM(SSL_write);
	SYM(SSL_get_error);
	SYM(SSL_shutdown);
	SYM(SSL_free);
#undef SYM
	tls_ctx = ssl_api.SSL_CTX_new(ssl_api.TLS_server_method());
	if (!tls_ctx || ssl_api.SSL_CTX_use_certificate_chain_file(tls_ctx, cert) != 1 ||
	    ssl_api.SSL_CTX_use_PrivateKey_file(tls_ctx, key, SSL_FILETYPE_PEM) != 1) {
		fprintf(stderr, "hwserve: cannot load TLS certificate %s and key %s\n", cert, key);
		return -1;
	}
	ssl_api.SSL_CTX_set_alpn_select_cb(tls_ctx, alpn_select, NULL);
	return 0;
}

static void *serve_conn(void *arg)
{
	struct conn c = {(int)(long)arg, NULL};
	char head[HEAD_MAX + 1];
	size_t have = 0;
	int one = 1;

	setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (tls_ctx) {
		c.ssl = ssl_api.SSL_new(tls_ctx);
		if (!c.ssl || ssl_api.SSL_set_fd(c.ssl, c.fd) != 1 ||
		    ssl_api.SSL_accept(c.ssl) != 1)
			goto out;
	}
	for (;;) {
		char method[16], path[2048];
		char *end, *cl, *conn, *expect;
		long body_len = 0;
		size_t head_len;
		int close_after, rc, api;

		/* read one request head; empty lines before it are ignored, as
		 * RFC 9112 2.2 asks and llhttp does */
		for (;;) {
			size_t skip = 0;
			ssize_t n;

			while (skip < have && (head[skip] == '\r' || head[skip] == '\n'))
				skip++;
			memmove(head, head + skip, have - skip);
			have -= skip;
			if ((end = memmem(head, have, "\r\n\r\n", 4)))
				break;
			if (have == HEAD_MAX)
				goto out;
			n = conn_recv(&c, head + have, HEAD_MAX - have);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				goto out;
			have += (size_t)n;
		}
		head_len = (size_t)(end - head) + 4;
		head[head_len - 1] = '\0';
		if (sscanf(head, "%15s %2047s", method, path) != 2)
			goto out;
		cl = strcasestr(head, "\r\nContent-Length:");
		if (cl)
			body_len = strtol(cl + 17, NULL, 10);
		conn = strcasestr(head, "\r\nConnection: close");
		close_after = conn != NULL;
		expect = strcasestr(head, "\r\nExpect: 100-continue");
		api = api_endpoint(method, path);

		memmove(head, head + head_len, have - head_len);
		have -= head_len;
		if (api && body_len >= 0 && body_len <= API_BODY_MAX) {
			/* the mock endpoints read the body whole */
			struct api_req r = {.body_len = (size_t)body_len};
			char *body = malloc((size_t)body_len + 1);
			size_t got = (long)have < body_len ? have : (size_t)body_len;

			if (!body)
				goto out;
			memcpy(body, head, got);
			memmove(head, head + got, have - got);
			have -= got;
			if (expect && (long)got < body_len &&
			    send_all(&c, CONTINUE, sizeof(CONTINUE) - 1)) {
				free(body);
				goto out;
			}
			while ((long)got < body_len) {
				ssize_t n = conn_recv(&c, body + got, (size_t)body_len - got);

				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0) {
					free(body);
					goto out;
				}
				got += (size_t)n;
			}
			parse_api_body(body, got, &r);
			free(body);
			if (reply_api(&c, api == 2, &r) || close_after)
				goto out;
			continue;
		}

		/* discard the body: first what is buffered, then the rest */
		{
			size_t buffered = (long)have < body_len ? have : (size_t)body_len;

			memmove(head, head + buffered, have - buffered);
			have -= buffered;
			body_len -= (long)buffered;
		}
		if (expect && body_len > 0 && send_all(&c, CONTINUE, sizeof(CONTINUE) - 1))
			goto out;
		while (body_len > 0) {
			char sink[BODY_CHUNK];
			ssize_t n = conn_recv(
			    &c, sink, body_len < BODY_CHUNK ? (size_t)body_len : sizeof(sink));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				goto out;
			body_len -= n;
		}

		if (!strncmp(path, "/stream", 7))
			rc = reply_stream(&c, query_long(path, "chunks", 10),
					  query_long(path, "interval_ms", 10),
					  query_long(path, "size", 16));
		else
			rc = reply_bytes(&c, query_long(path, "n", 100));
		if (rc || close_after)
			goto out;
	}
out:
	if (c.ssl) {
		ssl_api.SSL_shutdown(c.ssl);
		ssl_api.SSL_free(c.ssl);
	}
	close(c.fd);
	return NULL;
}

static int usage(void)
{
	fprintf(stderr, "usage: hwserve ADDR PORT [--tls CERT KEY] [--token-rate N] [--ttft-ms MS]"
			" [--flush-ms MS] [--default-tokens N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss = {0};
	socklen_t slen;
	int fd, one = 1;

	if (argc < 3)
		return usage();
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--tls") && i + 2 < argc) {
			if (tls_init(argv[i + 1], argv[i + 2]))
				return 1;
			i += 2;
		} else if (!strcmp(argv[i], "--token-rate") && i + 1 < argc) {
			token_rate = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--ttft-ms") && i + 1 < argc) {
			ttft_ms = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--flush-ms") && i + 1 < argc) {
			flush_ms = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--default-tokens") && i + 1 < argc) {
			default_tokens = strtol(argv[++i], NULL, 10);
		} else {
			return usage();
		}
	}
	if (token_rate < 0 || ttft_ms < 0 || flush_ms < 0 || default_tokens < 0)
		return usage();
	signal(SIGPIPE, SIG_IGN);
	if (strchr(argv[1], ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)atoi(argv[2]));
		if (inet_pton(AF_INET6, argv[1], &s6->sin6_addr) != 1)
			return 2;
		slen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)atoi(argv[2]));
		if (inet_pton(AF_INET, argv[1], &s4->sin_addr) != 1)
			return 2;
		slen = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6) {
		int zero = 0;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (bind(fd, (struct sockaddr *)&ss, slen) || listen(fd, 1024)) {
		perror("hwserve: bind/listen");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		pthread_t t;
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("hwserve: accept");
			return 1;
		}
		if (pthread_create(&t, NULL, serve_conn, (void *)(long)c)) {
			close(c);
			continue;
		}
		pthread_detach(t);
	}
}
