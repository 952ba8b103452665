#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (tests/fuzz/corpus/NAME/). Run it again
to regenerate them; the files are committed so `make test` needs nothing."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, idx, data):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-%02d" % idx), "wb") as f:
        f.write(data)


def client_hello(sni=b"api.example.com", alpn=(b"h2", b"http/1.1"), grease=True):
    ciphers = ([0x3a3a] if grease else []) + [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0x009c, 0x002f]
    exts = b""
    name = struct.pack("!BH", 0, len(sni)) + sni
    exts += struct.pack("!HH", 0, len(name) + 2) + struct.pack("!H", len(name)) + name
    al = b"".join(struct.pack("!B", len(a)) + a for a in alpn)
    exts += struct.pack("!HHH", 0x10, len(al) + 2, len(al)) + al
    sig = [0x0403, 0x0804, 0x0401]
    exts += struct.pack("!HHH", 0x0d, 2 + 2 * len(sig), 2 * len(sig)) + b"".join(struct.pack("!H", s) for s in sig)
    vers = [0x0304, 0x0303]
    exts += struct.pack("!HHB", 0x2b, 1 + 2 * len(vers), 2 * len(vers)) + b"".join(struct.pack("!H", v) for v in vers)
    exts += struct.pack("!HH", 0x0a0a, 0)
    body = struct.pack("!H", 0x0303) + b"\x11" * 32 + b"\x00"
    body += struct.pack("!H", 2 * len(ciphers)) + b"".join(struct.pack("!H", c) for c in ciphers)
    body += b"\x01\x00" + struct.pack("!H", len(exts)) + exts
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def syn(v6=False, opts=bytes([2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7])):
    tcp = struct.pack("!HHIIBBHHH", 40000, 8000, 1, 0, (20 + len(opts)) // 4 << 4, 0x02, 64240, 0, 0) + opts
    if v6:
        return struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + b"\x00" * 15 + b"\x01" + b"\x00" * 15 + b"\x01" + tcp
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, bytes([127, 0, 0, 1]), bytes([127, 0, 0, 2])) + tcp


def tcp_pkt(src, dst, sp, dp, seq, ack, flags, payload=b"", opts=b""):
    tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, (20 + len(opts)) // 4 << 4, flags, 65535, 0, 0) + opts + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, bytes(src), bytes(dst))
    return b"\x00" * 12 + b"\x08\x00" + ip + tcp  # Ethernet


ETH_MACS = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01"


def mirror_ip(proto, payload):
    """An outer IPv4 packet from a mirror session's source to its collector."""
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0,
                       bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])) + payload


def mirror_udp(dport, payload):
    return mirror_ip(17, struct.pack("!HHHH", 49152, dport, 8 + len(payload), 0) + payload)


# tunnels a mirror wraps traffic in (agent/source/tunnel.c): each takes the
# mirrored Ethernet frame and returns the frame captured at the collector
TUNNELS = [
    # GRE, IPv4 inside
    lambda f: ETH_MACS + b"\x08\x00" + mirror_ip(47, struct.pack("!HH", 0, 0x0800) + f[14:]),
    # GRE with checksum, key and sequence number, Ethernet inside
    lambda f: ETH_MACS + b"\x08\x00" + mirror_ip(47, struct.pack("!HHIII", 0xb000, 0x6558, 0, 42, 7) + f),
    # ERSPAN type II: GRE with a sequence number, version 1, session 5
    lambda f: ETH_MACS + b"\x08\x00" + mirror_ip(
        47, struct.pack("!HHI", 0x1000, 0x88be, 7) + struct.pack("!HHI", 0x1000 | 100, 5, 1) + f),
    # ERSPAN type III with the O bit and its 8-byte platform subheader
    lambda f: ETH_MACS + b"\x08\x00" + mirror_ip(
        47, struct.pack("!HHI", 0x1000, 0x22eb, 7)
        + struct.pack("!HHIHBB", 0x2000 | 100, 5, 0x12345678, 7, 0x01, 0x41) + bytes(8) + f),
    # VXLAN, VNI 42
    lambda f: ETH_MACS + b"\x08\x00" + mirror_udp(4789, struct.pack("!II", 0x08000000, 42 << 8) + f),
    # Geneve with one 12-byte option
    lambda f: ETH_MACS + b"\x08\x00" + mirror_udp(
        6081, struct.pack("!BBHI", 3, 0, 0x6558, 42 << 8) + struct.pack("!HBB", 0x0102, 0x80, 2)
        + b"\xab" * 8 + f),
    # VXLAN inside GRE with a key
    lambda f: ETH_MACS + b"\x08\x00" + mirror_ip(
        47, struct.pack("!HHI", 0x2000, 0x0800, 42)
        + mirror_udp(4789, struct.pack("!II", 0x08000000, 42 << 8) + f)),
]


def flow(payloads, wrap=lambda f: f):
    c, s = [10, 0, 0, 1], [10, 0, 0, 2]
    pk = [tcp_pkt(c, s, 40000, 8000, 100, 0, 0x02, opts=bytes([2, 4, 5, 0xb4])),
          tcp_pkt(s, c, 8000, 40000, 900, 101, 0x12),
          tcp_pkt(c, s, 40000, 8000, 101, 901, 0x10)]
    cs, ss = 101, 901
    for req, resp in payloads:
        pk.append(tcp_pkt(c, s, 40000, 8000, cs, ss, 0x18, req))
        cs += len(req)
        pk.append(tcp_pkt(s, c, 8000, 40000, ss, cs, 0x18, resp))
        ss += len(resp)
    pk.append(tcp_pkt(c, s, 40000, 8000, cs, ss, 0x11))
    pk.append(tcp_pkt(s, c, 8000, 40000, ss, cs + 1, 0x11))
    pk = [wrap(p) for p in pk]
    return b"\x00" + b"".join(struct.pack("!H", len(p)) + p for p in pk)


http_seeds = [
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer sk-x\r\n"
    b"X-Api-Key: k1\r\nUser-Agent: OpenAI/Python 1.40\r\nX-Forwarded-For: 192.0.2.1, 10.0.0.1\r\n"
    b"Content-Type: application/json\r\nContent-Length: 60\r\n\r\n"
    b"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"model\":\"m\"}",
    b"GET /a?b=c HTTP/1.0\nHost: x\n\n",
    b"PUT /x HTTP/1.1\r\nA: b\r\n",
    # what servers accept and the parser once refused (issue 13): a long
    # header name, folded values, skipped lines, leading empty lines
    b"POST /v1 HTTP/1.1\r\nHost: a\r\nX-" + b"p" * 300 + b": 1\r\nx-api-key: k1\r\n\r\n",
    b"POST /v1 HTTP/1.1\r\nx-api-key: sk-a\r\n\tsk-b\r\nX-Forwarded-For: 192.0.2.1,\r\n 10.0.0.1\r\n"
    b"User-Agent: a\r\n b\r\n\r\n",
    b"GET / HTTP/1.1\r\n folded-before-any\r\nExpect:\r\n 100-continue\r\nContent-Length:\r\n 7\r\n\r\n",
    b"GET /caf\xc3\xa9\x01 HTTP/1.1\r\nno colon\r\nBad Name: x\r\n: empty\r\nx-api-key: k1\r\n"
    b"X-Api-Key: k2\r\n\r\n",
    b"\r\n\r\n\nPOST /v1 HTTP/1.1\r\nx-api-key: k1\r\n\r\n",
    # a chunked body whose chunks split the key; duplicate and escaped keys
    b"POST /v1 HTTP/1.1\r\nExpect: 100-continue\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
    b"6\r\n{\"mode\r\n4;e=1\r\nl\":\"\r\nf\r\ncheap\",\"model\":\r\n5\r\n\"big\"\r\n1\r\n}\r\n0\r\n\r\n",
    b"POST /v1 HTTP/1.1\r\nContent-Length: 60\r\n\r\n"
    b"{\"model\":\"cheap\",\"mod\\u0065l\":\"b\\u0069g\\ud83d\\ude00\",\"model\":\"x\\\"y\"}",
    # X-Forwarded-For over several lines, ports, brackets, a word, past the lines kept
    b"GET / HTTP/1.1\r\nX-Forwarded-For: 6.6.6.6, [2001:db8::7]:443\r\n"
    b"X-Forwarded-For: unknown 10.0.0.3:8080\r\n" + b"X-Forwarded-For: 10.0.0.1\r\n" * 10 + b"\r\n",
]
for i, d in enumerate(http_seeds):
    write("http", i, d)
for i, d in enumerate([client_hello(), client_hello(b"", (b"h2",), False), client_hello()[:60],
                       client_hello(alpn=(b"\xab\xcd",))]):
    write("tls", i, d)
for i, d in enumerate([syn(), syn(True), syn(opts=b""), syn(opts=bytes([2, 4, 5, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2]))]):
    write("syn", i, d)
write("flow", 0, flow([(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")]))
write("flow", 1, flow([(client_hello(), b"\x16\x03\x03\x00\x02hi"), (b"\x17\x03\x03\x00\x01x", b"\x17\x03\x03\x00\x01y")]))
for i, wrap in enumerate(TUNNELS):
    write("flow", 3 + i, flow([(b"POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nx-api-key: k\r\n\r\n"
                                b"{\"model\":\"m\"}", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")], wrap))
