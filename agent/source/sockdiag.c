// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The open TCP sockets of every network namespace: this one's by
 * NETLINK_SOCK_DIAG (socket cookies), the others' from /proc/PID/net/tcp
 * and tcp6 of one process in each (4-tuples). Namespaces are told apart
 * by the inode of their /proc/PID/net/tcp, as in listeners.c. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "lib/log.h"
#include "source/sockdiag.h"

/* the states in which the kernel side has not sent its close yet: its
 * close callback runs when a socket enters TCP_CLOSE, which TIME_WAIT
 * sockets have passed */
#define OPEN_STATES                                                                                \
	((1u << TCP_ESTABLISHED) | (1u << TCP_SYN_RECV) | (1u << TCP_FIN_WAIT1) |                  \
	 (1u << TCP_FIN_WAIT2) | (1u << TCP_CLOSE_WAIT) | (1u << TCP_LAST_ACK) |                   \
	 (1u << TCP_CLOSING))

#define DIAG_BUF (64u << 10) /* netlink receive buffer, bytes: ~400 sockets a read */

static int diag_dump(int fd, __u8 family, const struct hw_ports *ports,
		     const struct hw_sockdiag_cb *cb, char *buf)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} rq = {
	    .nlh = {.nlmsg_len = sizeof(rq),
		    .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		    .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		    .nlmsg_seq = family},
	    .req = {.sdiag_family = family,
		    .sdiag_protocol = IPPROTO_TCP,
		    .idiag_states = OPEN_STATES},
	};
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	if (sendto(fd, &rq, sizeof(rq), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		ssize_t got = recv(fd, buf, DIAG_BUF, 0);
		int len = (int)got;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (!got)
			return -EIO;
		/* NLMSG_OK, NLMSG_NEXT spelled out: the macros compare signed with
		 * unsigned (clang's -Wsign-compare in the fuzz build) */
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf;
		     len >= (int)sizeof(*h) && h->nlmsg_len >= sizeof(*h) &&
		     h->nlmsg_len <= (unsigned)len;
		     len -= (int)NLMSG_ALIGN(h->nlmsg_len),
				     h = (struct nlmsghdr *)((char *)h +
							     NLMSG_ALIGN(h->nlmsg_len))) {
			const struct inet_diag_msg *m = NLMSG_DATA(h);

			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error ? e->error : -EIO;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				continue;
			if (ports && !hw_ports_has(ports, ntohs(m->id.idiag_sport)))
				continue;
			cb->cookie(cb->ctx,
				   (uint64_t)m->id.idiag_cookie[1] << 32 | m->id.idiag_cookie[0]);
		}
	}
}

/* this namespace's sockets by cookie; 0 or -errno */
static int scan_netlink(const struct hw_ports *ports, const struct hw_sockdiag_cb *cb)
{
	char *buf = malloc(DIAG_BUF);
	int fd, err = -ENOMEM;

	if (!buf)
		return err;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0) {
		err = -errno;
	} else {
		err = diag_dump(fd, AF_INET, ports, cb, buf);
		if (!err)
			err = diag_dump(fd, AF_INET6, ports, cb, buf);
		close(fd);
	}
	free(buf);
	return err;
}

/* hex as /proc/net/tcp prints an address: 32-bit words as the host holds
 * them, 1 (IPv4) or 4 (IPv6) of them; out: 16 bytes, IPv4 v4-mapped */
static int proc_addr(const char *hex, size_t n, __u8 *out)
{
	__u32 w[4];
	unsigned words = n / 8;

	if (n != 8 && n != 32)
		return -EINVAL;
	for (unsigned i = 0; i < words; i++) {
		char part[9];
		char *end;

		memcpy(part, hex + 8 * i, 8);
		part[8] = '\0';
		w[i] = (__u32)strtoul(part, &end, 16);
		if (*end)
			return -EINVAL;
	}
	memset(out, 0, 16);
	if (words == 1) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, w, 4);
	} else {
		memcpy(out, w, 16);
	}
	return 0;
}

int hw_sockdiag_parse_proc_line(const char *line, struct hw_tuple *t, unsigned *state)
{
	char local[33], remote[33];
	unsigned lport, rport;
	int used = 0;

	if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %32[0-9A-Fa-f]:%x %x%n", local, &lport, remote,
		   &rport, state, &used) != 5 ||
	    !used || lport > 0xffff || rport > 0xffff)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	if (strlen(local) != strlen(remote) || proc_addr(local, strlen(local), t->server_addr) ||
	    proc_addr(remote, strlen(remote), t->client_addr))
		return -EINVAL;
	t->server_port = (__u16)lport;
	t->client_port = (__u16)rport;
	return 0;
}

/* the open sockets of one /proc/.../net/tcp{,6} file; 0, or -errno (a file
 * that is not there is no error: no IPv6, or the process left) */
static int scan_proc_file(const char *path, const struct hw_ports *ports,
			  const struct hw_sockdiag_cb *cb)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	int err = 0;

	if (!f)
		return errno == ENOENT || errno == ESRCH ? 0 : -errno;
	while (getline(&line, &cap, f) > 0) {
		struct hw_tuple t;
		unsigned state;

		if (hw_sockdiag_parse_proc_line(line, &t, &state) || state >= 32 ||
		    !(OPEN_STATES & (1u << state)))
			continue;
		if (ports && !hw_ports_has(ports, t.server_port))
			continue;
		cb->tuple(cb->ctx, &t);
	}
	if (ferror(f))
		err = -EIO;
	free(line);
	fclose(f);
	return err;
}

/* 1 when the namespace of /proc/<pid>/net/tcp is one not read yet (and
 * now noted), 0 when it was read or the process is gone, -ENOMEM */
static int new_netns(const char *pid, ino_t **seen, unsigned *n, unsigned *cap)
{
	char path[300];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%s/net/tcp", pid);
	if (stat(path, &st))
		return 0;
	for (unsigned i = 0; i < *n; i++)
		if ((*seen)[i] == st.st_ino)
			return 0;
	if (*n == *cap) {
		unsigned c = *cap ? *cap * 2 : 16;
		ino_t *s = realloc(*seen, c * sizeof(**seen));

		if (!s)
			return -ENOMEM;
		*seen = s;
		*cap = c;
	}
	(*seen)[(*n)++] = st.st_ino;
	return 1;
}

int hw_sockdiag_scan(const struct hw_ports *ports, const struct hw_sockdiag_cb *cb, char *msg,
		     size_t len)
{
	unsigned n = 0, cap = 0;
	ino_t *seen = NULL;
	struct dirent *d;
	char path[300];
	int err, read = 1;
	DIR *dir;

	/* this namespace: by cookie, else (no inet_diag in this kernel) as
	 * the others */
	if (new_netns("self", &seen, &n, &cap) < 0) {
		err = -ENOMEM;
		snprintf(msg, len, "listing network namespaces: %s", strerror(ENOMEM));
		goto out;
	}
	err = scan_netlink(ports, cb);
	if (err) {
		pr_debug("sock_diag: %s; reading /proc/self/net/tcp instead\n", strerror(-err));
		err = scan_proc_file("/proc/self/net/tcp", ports, cb);
		if (!err)
			err = scan_proc_file("/proc/self/net/tcp6", ports, cb);
		if (err) {
			snprintf(msg, len, "reading this network namespace's sockets: %s",
				 strerror(-err));
			goto out;
		}
	}
	dir = opendir("/proc");
	if (!dir) {
		err = -errno;
		snprintf(msg, len, "listing /proc: %s", strerror(-err));
		goto out;
	}
	while ((d = readdir(dir))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		err = new_netns(d->d_name, &seen, &n, &cap);
		if (err < 0) {
			snprintf(msg, len, "listing network namespaces: %s", strerror(-err));
			break;
		}
		if (!err)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/net/tcp", d->d_name);
		err = scan_proc_file(path, ports, cb);
		if (!err) {
			snprintf(path, sizeof(path), "/proc/%s/net/tcp6", d->d_name);
			err = scan_proc_file(path, ports, cb);
		}
		if (err) {
			snprintf(msg, len, "reading %s: %s", path, strerror(-err));
			break;
		}
		read++;
	}
	closedir(dir);
out:
	free(seen);
	return err ? err : read;
}
