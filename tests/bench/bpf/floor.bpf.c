// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The contract's floor, for benchmarks: the least any implementation of the
 * data path in docs/ARCHITECTURE.md does per packet, attached the way
 * bpf/hydrawatch.bpf.c is. Per socket storage made at establishment; per
 * packet the storage lookup, the TCP header read directly and the sequence
 * advance; per exchange one clock read and one 64-byte ring event, without
 * wakeup. Left out, so that it is a floor: the capture, time to first byte
 * and duration (egress keeps its last time; nothing crosses), totals, the
 * 4-tuple, IPv6, adoption, TLS, every counter. What hydrawatch costs above
 * this is what those features cost; what this costs above the empty programs
 * is what reporting exchanges at all costs on the machine. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bpf/hydrawatch.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 floor_port; /* the watched local port, host order */

struct floor_in {
	__u32 in_end; /* highest client sequence end seen; 0: none yet */
	__u32 ack0;   /* the server sequence the exchange's first segment acknowledged */
	__u32 exchanges;
	__u32 _pad;
	__u64 cookie;
};

struct floor_out {
	__u32 out_end;
	__u32 _pad;
	__u64 last_ns;
};

struct floor_event {
	__u64 cookie;
	__u64 ts_ns;
	__u32 index;
	__u8 _pad[44];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8u << 20);
} floor_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct floor_in);
} floor_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct floor_out);
} floor_conns_out SEC(".maps");

/* the TCP header of an IPv4 segment in the skb's linear part, or NULL;
 * *plen: its payload bytes */
static __always_inline __u8 *tcp_header(struct __sk_buff *skb, __u32 *plen)
{
	__u8 *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end, *tcp;
	__u32 iphl, hl;

	if (data + 20 > end || (data[0] >> 4) != 4)
		return NULL;
	iphl = (data[0] & 0xf) * 4;
	if (iphl < 20 || iphl > 60)
		return NULL;
	tcp = data + iphl;
	if (tcp + 20 > end)
		return NULL;
	hl = iphl + (tcp[TCP_OFF_DOFF] >> 4) * 4;
	if (hl > skb->len)
		return NULL;
	*plen = skb->len - hl;
	return tcp;
}

static __always_inline struct bpf_sock *watched_sock(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk || skb->local_port != floor_port)
		return NULL;
	return bpf_sk_fullsock(sk);
}

SEC("cgroup_skb/ingress")
int floor_ingress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = watched_sock(skb);
	struct floor_event *e;
	struct floor_in *c;
	__u32 plen, seq, ack;
	__u8 *tcp;

	if (!sk)
		return 1;
	c = bpf_sk_storage_get(&floor_conns, sk, 0, 0);
	if (!c)
		return 1;
	tcp = tcp_header(skb, &plen);
	if (!tcp || !plen)
		return 1;
	seq = bpf_ntohl(*(__u32 *)(tcp + TCP_OFF_SEQ));
	if (c->in_end && (__s32)(seq + plen - c->in_end) <= 0)
		return 1; /* nothing new */
	c->in_end = seq + plen;
	ack = bpf_ntohl(*(__u32 *)(tcp + TCP_OFF_ACK));
	if (c->exchanges && ack == c->ack0)
		return 1; /* more of the same request */
	c->ack0 = ack;
	c->exchanges++;
	e = bpf_ringbuf_reserve(&floor_events, sizeof(*e), 0);
	if (!e)
		return 1;
	e->cookie = c->cookie;
	e->ts_ns = bpf_ktime_get_ns();
	e->index = c->exchanges;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 1;
}

SEC("cgroup_skb/egress")
int floor_egress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = watched_sock(skb);
	struct floor_out *o;
	__u32 plen;
	__u8 *tcp;

	if (!sk)
		return 1;
	o = bpf_sk_storage_get(&floor_conns_out, sk, 0, 0);
	if (!o)
		return 1;
	tcp = tcp_header(skb, &plen);
	if (!tcp || !plen)
		return 1;
	o->out_end = bpf_ntohl(*(__u32 *)(tcp + TCP_OFF_SEQ)) + plen;
	o->last_ns = skb->tstamp;
	return 1;
}

SEC("sockops")
int floor_sockops(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct floor_in *c;

	if (skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB || !sk ||
	    skops->local_port != floor_port)
		return 1;
	c = bpf_sk_storage_get(&floor_conns, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (c)
		c->cookie = bpf_get_socket_cookie(skops);
	bpf_sk_storage_get(&floor_conns_out, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	return 1;
}
