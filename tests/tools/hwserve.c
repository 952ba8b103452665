// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* hwserve: the test suite's HTTP/1.1 server. Keep-alive, one thread per
 * connection, and responses whose sizes and timing the request chooses, so
 * tests know exactly what crossed the wire:
 *   ANY /bytes?n=N                       200, N-byte body (Content-Length)
 *   ANY /stream?chunks=C&interval_ms=M&size=S
 *                                        200, chunked text/event-stream, C
 *                                        events of S payload bytes, M ms apart
 * A head with "Expect: 100-continue" whose body has not arrived yet gets
 * "HTTP/1.1 100 Continue" first.
 * Usage: hwserve ADDR PORT   (ADDR 127.0.0.1, ::1, or :: for dual stack)
 * Prints "ready" on stdout once it listens.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
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

static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
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

static int reply_bytes(int fd, long n)
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
	if (send_all(fd, head, (size_t)hl))
		return -1;
	while (n > 0) {
		size_t k = n > BODY_CHUNK ? BODY_CHUNK : (size_t)n;

		if (send_all(fd, body, k))
			return -1;
		n -= (long)k;
	}
	return 0;
}

static int reply_stream(int fd, long chunks, long interval_ms, long size)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n";
	char buf[8192];

	if (size < 1 || size > 4096)
		size = 16;
	if (send_all(fd, head, sizeof(head) - 1))
		return -1;
	for (long i = 0; i < chunks; i++) {
		/* "data: " + size payload bytes + "\n\n" framed as one chunk */
		int n = snprintf(buf, sizeof(buf), "%lx\r\ndata: ", size + 8);

		memset(buf + n, 't', (size_t)size);
		n += (int)size;
		memcpy(buf + n, "\n\n\r\n", 4);
		n += 4;
		if (send_all(fd, buf, (size_t)n))
			return -1;
		if (interval_ms > 0 && i + 1 < chunks) {
			struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};

			nanosleep(&ts, NULL);
		}
	}
	return send_all(fd, "0\r\n\r\n", 5);
}

static void *serve_conn(void *arg)
{
	int fd = (int)(long)arg;
	char head[HEAD_MAX + 1];
	size_t have = 0;
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		char method[16], path[2048];
		char *end, *cl, *conn, *expect;
		long body_len = 0;
		size_t head_len;
		int close_after, rc;

		/* read one request head */
		while (!(end = memmem(head, have, "\r\n\r\n", 4))) {
			ssize_t n;

			if (have == HEAD_MAX)
				goto out;
			n = recv(fd, head + have, HEAD_MAX - have, 0);
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

		/* discard the body: first what is buffered, then the rest */
		memmove(head, head + head_len, have - head_len);
		have -= head_len;
		{
			size_t buffered = (long)have < body_len ? have : (size_t)body_len;

			memmove(head, head + buffered, have - buffered);
			have -= buffered;
			body_len -= (long)buffered;
		}
		if (expect && body_len > 0 && send_all(fd, CONTINUE, sizeof(CONTINUE) - 1))
			goto out;
		while (body_len > 0) {
			char sink[BODY_CHUNK];
			ssize_t n = recv(
			    fd, sink, body_len < BODY_CHUNK ? (size_t)body_len : sizeof(sink), 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				goto out;
			body_len -= n;
		}

		if (!strncmp(path, "/stream", 7))
			rc = reply_stream(fd, query_long(path, "chunks", 10),
					  query_long(path, "interval_ms", 10),
					  query_long(path, "size", 16));
		else
			rc = reply_bytes(fd, query_long(path, "n", 100));
		if (rc || close_after)
			goto out;
	}
out:
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss = {0};
	socklen_t slen;
	int fd, one = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: hwserve ADDR PORT\n");
		return 2;
	}
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
