// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* hwload: paced HTTP/1.1 keep-alive load against hwserve, for tests and
 * benchmarks that need a known request count at a known rate.
 *   hwload ADDR PORT CONNS RATE SECONDS RESP_BYTES [SRC_ADDR]
 * Each of CONNS threads holds one keep-alive connection and sends
 * RATE/CONNS requests per second on an absolute schedule (no drift) for
 * SECONDS. Prints one JSON object: requests completed, bytes each way,
 * errors, and how many requests ran late.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct job {
	pthread_t t;
	const char *addr, *src;
	int port;
	double interval_s;
	double seconds;
	long resp_bytes;
	long done, errors, late;
	long long bytes_out, bytes_in;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(const struct job *j)
{
	struct sockaddr_storage ss = {0}, src = {0};
	int v6 = strchr(j->addr, ':') != NULL;
	socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	if (v6) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((unsigned short)j->port);
		inet_pton(AF_INET6, j->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr);
	} else {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((unsigned short)j->port);
		inet_pton(AF_INET, j->addr, &((struct sockaddr_in *)&ss)->sin_addr);
	}
	if (j->src && !v6) {
		((struct sockaddr_in *)&src)->sin_family = AF_INET;
		inet_pton(AF_INET, j->src, &((struct sockaddr_in *)&src)->sin_addr);
		if (bind(fd, (struct sockaddr *)&src, sizeof(struct sockaddr_in)))
			goto fail;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, len))
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* reads one Content-Length response; returns its bytes or -1 */
static long read_response(int fd, char *buf, size_t cap)
{
	size_t have = 0;
	char *end, *cl;
	long body, total;

	while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
		ssize_t n = recv(fd, buf + have, cap - have - 1, 0);

		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	buf[have] = '\0';
	cl = strcasestr(buf, "Content-Length:");
	if (!cl)
		return -1;
	body = strtol(cl + 15, NULL, 10);
	total = (end - buf) + 4 + body;
	while ((long)have < total) {
		ssize_t n = recv(fd, buf, cap - 1, 0);

		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	return (long)have;
}

static void *run_job(void *arg)
{
	struct job *j = arg;
	static __thread char buf[1 << 20];
	char req[256];
	int reqlen =
	    snprintf(req, sizeof(req),
		     "GET /bytes?n=%ld HTTP/1.1\r\nHost: hwload\r\nUser-Agent: hwload/1\r\n\r\n",
		     j->resp_bytes);
	int fd = connect_to(j);
	double start = now_s(), next = start;

	if (fd < 0) {
		j->errors++;
		return NULL;
	}
	while (next - start < j->seconds) {
		double t = now_s();
		long n;

		if (t < next) {
			double d = next - t;
			struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};

			nanosleep(&ts, NULL);
		} else if (t - next > 0.05) {
			j->late++;
		}
		if (send(fd, req, (size_t)reqlen, MSG_NOSIGNAL) != reqlen) {
			j->errors++;
			break;
		}
		n = read_response(fd, buf, sizeof(buf));
		if (n < 0) {
			j->errors++;
			break;
		}
		j->done++;
		j->bytes_out += reqlen;
		j->bytes_in += n;
		next += j->interval_s;
	}
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct job *jobs;
	long conns, done = 0, errors = 0, late = 0;
	long long out = 0, in = 0;
	double rate, seconds, t0;

	if (argc < 7) {
		fprintf(stderr,
			"usage: hwload ADDR PORT CONNS RATE SECONDS RESP_BYTES [SRC_ADDR]\n");
		return 2;
	}
	conns = atol(argv[3]);
	rate = atof(argv[4]);
	seconds = atof(argv[5]);
	if (conns < 1 || rate <= 0 || seconds <= 0)
		return 2;
	jobs = calloc((size_t)conns, sizeof(*jobs));
	t0 = now_s();
	for (long i = 0; i < conns; i++) {
		jobs[i] = (struct job){.addr = argv[1],
				       .port = atoi(argv[2]),
				       .src = argc > 7 ? argv[7] : NULL,
				       .interval_s = (double)conns / rate,
				       .seconds = seconds,
				       .resp_bytes = atol(argv[6])};
		pthread_create(&jobs[i].t, NULL, run_job, &jobs[i]);
	}
	for (long i = 0; i < conns; i++) {
		pthread_join(jobs[i].t, NULL);
		done += jobs[i].done;
		errors += jobs[i].errors;
		late += jobs[i].late;
		out += jobs[i].bytes_out;
		in += jobs[i].bytes_in;
	}
	printf("{\"requests\":%ld,\"errors\":%ld,\"late\":%ld,\"req_bytes\":%lld,"
	       "\"resp_bytes\":%lld,\"seconds\":%.3f}\n",
	       done, errors, late, out, in, now_s() - t0);
	return errors ? 1 : 0;
}
