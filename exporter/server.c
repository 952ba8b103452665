// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* libmicrohttpd server. Handlers copy the current snapshot under a mutex
 * the publisher holds only to swap two pointers. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "exporter/server.h"

/* /healthz fails when the main loop has not ticked for this long */
#define HEALTH_STALE_NS (10ULL * 1000000000ULL)

struct hw_server {
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	char *metrics;
	size_t metrics_len;
	char *alerts;
	_Atomic uint64_t heartbeat;
	unsigned port;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
			     const char *body, size_t len)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct hw_server *h = cls;
	enum MHD_Result ret;

	(void)version, (void)upload, (void)upload_size, (void)con_cls;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n", 9);
	if (!strcmp(url, "/metrics")) {
		pthread_mutex_lock(&h->lock);
		ret = h->metrics
			  ? reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
				  h->metrics, h->metrics_len)
			  : reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", "starting\n", 9);
		pthread_mutex_unlock(&h->lock);
		return ret;
	}
	if (!strcmp(url, "/alerts")) {
		pthread_mutex_lock(&h->lock);
		ret = reply(c, MHD_HTTP_OK, "application/json",
			    h->alerts ? h->alerts : "{\"firing\":[],\"recent\":[]}",
			    h->alerts ? strlen(h->alerts) : 25);
		pthread_mutex_unlock(&h->lock);
		return ret;
	}
	if (!strcmp(url, "/healthz")) {
		uint64_t hb = atomic_load(&h->heartbeat);

		if (hb && mono_ns() - hb < HEALTH_STALE_NS)
			return reply(c, MHD_HTTP_OK, "text/plain", "ok\n", 3);
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", "event loop stalled\n",
			     19);
	}
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, "text/plain",
			     "hydrawatch: /metrics /alerts /healthz\n", 38);
	return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 10);
}

static int parse_addr(const char *s, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	char host[256] = "";
	const char *colon;
	long port;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			goto bad;
		memcpy(host, s, (size_t)(colon - s));
	}
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || colon[1] == '\0')
		goto bad;
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			goto bad;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (host[0] && inet_pton(AF_INET, host, &a->sin_addr) != 1)
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "--listen %s: want ADDR:PORT, e.g. 127.0.0.1:9477, [::1]:9477 or :9477", s);
	return -EINVAL;
}

struct hw_server *hw_server_start(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct hw_server *h;
	const union MHD_DaemonInfo *info;

	if (parse_addr(addr, &ss, err, errlen))
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "--listen %s: %s", addr, strerror(ENOMEM));
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
				    (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR, &ss,
				MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT,
				10u, MHD_OPTION_END);
	if (!h->d) {
		snprintf(
		    err, errlen,
		    "--listen %s: cannot listen there (in use, or not an address of this host); "
		    "pick another with --listen, or --listen off",
		    addr);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return NULL;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : 0;
	return h;
}

unsigned hw_server_port(const struct hw_server *h)
{
	return h->port;
}

void hw_server_publish(struct hw_server *h, char *metrics, size_t metrics_len, char *alerts)
{
	char *old_m, *old_a;

	pthread_mutex_lock(&h->lock);
	old_m = h->metrics;
	old_a = h->alerts;
	h->metrics = metrics;
	h->metrics_len = metrics_len;
	h->alerts = alerts;
	pthread_mutex_unlock(&h->lock);
	free(old_m);
	free(old_a);
}

void hw_server_heartbeat(struct hw_server *h, uint64_t ns)
{
	atomic_store(&h->heartbeat, ns);
}

void hw_server_stop(struct hw_server *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	pthread_mutex_destroy(&h->lock);
	free(h->metrics);
	free(h->alerts);
	free(h);
}
