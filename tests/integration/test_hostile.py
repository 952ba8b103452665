#!/usr/bin/env python3
"""Hostile clients (issue 13, the kernel side): segments TCP drops, heads
sent out of order, IPv6 extension header chains, outbound sockets on ports
that listen elsewhere, and an agent killed with SIGKILL. The client is a TCP
stack written here: hand-built frames on an AF_PACKET socket, from a network
namespace whose kernel owns none of the client's addresses (so it neither
answers nor resets), to a server in a namespace of its own behind a veth
pair. Every test asserts what TCP itself took, and fails on a kernel side
that counts, captures or adopts what TCP never accepted."""
import ctypes
import json
import os
import random
import socket
import struct
import subprocess
import sys
import time
from contextlib import ExitStack
from urllib.request import urlopen

sys.path.insert(0, os.path.dirname(__file__))
from hwtest import (main, AGENT, Skip, Tcpdump, check, free_port, lines_of,  # noqa: E402
                    make_key, metric, parse_metrics, run_offline)
from test_dataplane import netns_server, start_agent, world  # noqa: E402

CLONE_NEWNET = 0x40000000
ETH_P_ALL, ETH_P_IP, ETH_P_IPV6 = 0x0003, 0x0800, 0x86DD
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
NH_TCP, NH_DSTOPTS = 6, 60

_libc = ctypes.CDLL(None, use_errno=True)


def sh(*cmd):
    r = subprocess.run(list(cmd), capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r.stdout


def in_netns(ns, fn):
    """fn() called with this thread in network namespace ns; what it
    creates (sockets) stays there."""
    with open("/proc/self/ns/net") as home, open("/var/run/netns/" + ns) as there:
        if _libc.setns(there.fileno(), CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), "setns " + ns)
        try:
            return fn()
        finally:
            if _libc.setns(home.fileno(), CLONE_NEWNET):
                raise OSError(ctypes.get_errno(), "setns back")


class Wire:
    """Two network namespaces joined by a veth pair: the server's (addresses
    169.254.N.1/24 and fd00:N::1/64) and the client's, whose kernel has no
    address at all and IPv6 off, so frames to the client reach only the
    AF_PACKET socket. The server reaches the client's addresses (.2, ::2)
    through static neighbour entries."""

    def __init__(self, stack, tag):
        if subprocess.run(["ip", "netns", "add", "hwhp-probe-%d" % os.getpid()],
                          capture_output=True).returncode:
            raise Skip("cannot create network namespaces")
        sh("ip", "netns", "del", "hwhp-probe-%d" % os.getpid())
        n = random.randint(100, 250)
        self.srv_ns, self.cli_ns = "hwhs-%s-%d" % (tag, os.getpid()), "hwhc-%s-%d" % (tag, os.getpid())
        self.srv_if, self.cli_if = "hwh%ds" % (os.getpid() % 100000), "hwh%dc" % (os.getpid() % 100000)
        self.srv4, self.cli4 = "169.254.%d.1" % n, "169.254.%d.2" % n
        self.srv6, self.cli6 = "fd00:%x::1" % n, "fd00:%x::2" % n
        for ns in (self.srv_ns, self.cli_ns):
            sh("ip", "netns", "add", ns)
            stack.callback(subprocess.run, ["ip", "netns", "del", ns], capture_output=True)
        sh("ip", "link", "add", self.srv_if, "netns", self.srv_ns, "type", "veth", "peer", "name",
           self.cli_if, "netns", self.cli_ns)
        s = ["ip", "netns", "exec", self.srv_ns]
        c = ["ip", "netns", "exec", self.cli_ns]
        sh(*c, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        sh(*c, "sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % self.cli_if)
        sh(*c, "ip", "link", "set", self.cli_if, "up")
        sh(*s, "ip", "link", "set", "lo", "up")
        sh(*s, "ip", "addr", "add", self.srv4 + "/24", "dev", self.srv_if)
        sh(*s, "ip", "addr", "add", self.srv6 + "/64", "dev", self.srv_if, "nodad")
        sh(*s, "ip", "link", "set", self.srv_if, "up")
        self.srv_mac = bytes.fromhex(json.loads(sh(*s, "ip", "-j", "link", "show", self.srv_if))[0]
                                     ["address"].replace(":", ""))
        cmac = json.loads(sh(*c, "ip", "-j", "link", "show", self.cli_if))[0]["address"]
        self.cli_mac = bytes.fromhex(cmac.replace(":", ""))
        sh(*s, "ip", "neigh", "replace", self.cli4, "lladdr", cmac, "dev", self.srv_if, "nud", "permanent")
        sh(*s, "ip", "-6", "neigh", "replace", self.cli6, "lladdr", cmac, "dev", self.srv_if, "nud",
           "permanent")

    def packet_socket(self):
        def make():
            p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            p.bind((self.cli_if, 0))
            return p
        return in_netns(self.cli_ns, make)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def dstopts(nxt):
    """one 8-byte Destination Options header: a PadN option of 4 bytes"""
    return struct.pack("!BB", nxt, 0) + b"\x01\x04\0\0\0\0"


class RawTcp:
    """A TCP client over an AF_PACKET socket: enough of RFC 9293 for
    request/response exchanges with a real server (in-order receive, every
    server segment acknowledged), plus segments built by hand with any
    sequence, acknowledgment, flags or IPv6 extension headers."""

    def __init__(self, wire, v6, dport, exthdrs=0, mss=1400):
        self.w, self.v6, self.dport, self.exthdrs = wire, v6, dport, exthdrs
        self.src = socket.inet_pton(socket.AF_INET6 if v6 else socket.AF_INET, wire.cli6 if v6 else wire.cli4)
        self.dst = socket.inet_pton(socket.AF_INET6 if v6 else socket.AF_INET, wire.srv6 if v6 else wire.srv4)
        self.sport = random.randint(40000, 60000)
        self.iss = random.getrandbits(32)
        self.snd_nxt = self.iss
        self.rcv_nxt = 0
        self.mss = mss
        self.window = 65535  # the window field of every frame (the SYN's makes its JA4T)
        self.rx = b""  # server bytes received in order
        self.fin_rcvd = False
        self.sock = wire.packet_socket()
        self.sock.settimeout(0.05)

    # --- frames ---
    def frame(self, flags, payload=b"", seq=None, ack=None, opts=b"", exthdrs=None):
        seq = self.snd_nxt if seq is None else seq
        ack = self.rcv_nxt if ack is None else ack
        opts += b"\0" * (-len(opts) % 4)
        tcp = struct.pack("!HHIIBBHHH", self.sport, self.dport, seq & 0xffffffff, ack & 0xffffffff,
                          (5 + len(opts) // 4) << 4, flags, self.window, 0, 0) + opts + payload
        if self.v6:
            pseudo = self.src + self.dst + struct.pack("!IxxxB", len(tcp), NH_TCP)
        else:
            pseudo = self.src + self.dst + struct.pack("!xBH", NH_TCP, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
        n = self.exthdrs if exthdrs is None else exthdrs
        if self.v6:
            ext = b"".join(dstopts(NH_DSTOPTS if i < n - 1 else NH_TCP) for i in range(n))
            ip = struct.pack("!IHBB", 6 << 28, len(ext) + len(tcp), NH_DSTOPTS if n else NH_TCP, 64)
            ip += self.src + self.dst + ext
            ethertype = ETH_P_IPV6
        else:
            ip = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0x4000, 64,
                             NH_TCP, 0) + self.src + self.dst
            ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
            ethertype = ETH_P_IP
        return self.w.srv_mac + self.w.cli_mac + struct.pack("!H", ethertype) + ip + tcp

    def send(self, flags, payload=b"", **kw):
        self.sock.send(self.frame(flags, payload, **kw))

    def parse(self, f):
        """(flags, seq, ack, payload) of a frame from the server to us, or None"""
        et = struct.unpack("!H", f[12:14])[0]
        ip = f[14:]
        if et == ETH_P_IPV6 and self.v6:
            if ip[6] != NH_TCP or ip[8:24] != self.dst or ip[24:40] != self.src:
                return None
            tcp = ip[40:40 + struct.unpack("!H", ip[4:6])[0]]
        elif et == ETH_P_IP and not self.v6:
            if ip[9] != NH_TCP or ip[12:16] != self.dst or ip[16:20] != self.src:
                return None
            tcp = ip[(ip[0] & 15) * 4:struct.unpack("!H", ip[2:4])[0]]
        else:
            return None
        sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", tcp[:14])
        if sport != self.dport or dport != self.sport:
            return None
        return flags, seq, ack, tcp[(off >> 4) * 4:]

    def pump(self, until, timeout=5.0):
        """Receives and acknowledges server segments until until() holds."""
        deadline = time.time() + timeout
        while not until():
            if time.time() > deadline:
                raise AssertionError("raw client: timed out (received %r)" % self.rx[-200:])
            try:
                f = self.sock.recv(65536)
            except socket.timeout:
                continue
            seg = self.parse(f)
            if not seg:
                continue
            flags, seq, ack, data = seg
            if flags & RST:
                raise AssertionError("raw client: the server reset the connection")
            if flags & SYN:
                continue
            if data and seq == self.rcv_nxt:
                self.rx += data
                self.rcv_nxt = (self.rcv_nxt + len(data)) & 0xffffffff
            if flags & FIN and (seq + len(data)) & 0xffffffff == self.rcv_nxt:
                self.rcv_nxt = (self.rcv_nxt + 1) & 0xffffffff
                self.fin_rcvd = True
            if data or flags & FIN:
                self.send(ACK)

    # --- the connection ---
    def connect(self):
        synack = []
        self.send(SYN, opts=struct.pack("!BBH", 2, 4, self.mss), ack=0)
        deadline = time.time() + 5
        while not synack and time.time() < deadline:
            try:
                seg = self.parse(self.sock.recv(65536))
            except socket.timeout:
                continue
            if seg and seg[0] & (SYN | ACK) == SYN | ACK:
                synack.append(seg)
        check(synack, "raw client: no SYN-ACK")
        self.snd_nxt = (self.iss + 1) & 0xffffffff
        self.rcv_nxt = (synack[0][1] + 1) & 0xffffffff
        self.send(ACK)

    def segments(self, data):
        """data cut at mss: [(seq, bytes)], not yet sent"""
        out = []
        for i in range(0, len(data), self.mss):
            out.append(((self.snd_nxt + i) & 0xffffffff, data[i:i + self.mss]))
        return out

    def send_data(self, data, order=None):
        """data in segments, sent in order (or in the order given by index)"""
        segs = self.segments(data)
        for i in (order or range(len(segs))):
            self.send(ACK | PSH, segs[i][1], seq=segs[i][0])
            time.sleep(0.02)
        self.snd_nxt = (self.snd_nxt + len(data)) & 0xffffffff

    def response(self):
        """reads one HTTP response with Content-Length; returns its bytes"""
        def whole():
            h = self.rx.find(b"\r\n\r\n")
            if h < 0:
                return False
            n = int(self.rx[:h].lower().split(b"content-length:")[1].split(b"\r\n")[0])
            return len(self.rx) >= h + 4 + n
        self.pump(whole)
        h = self.rx.find(b"\r\n\r\n")
        n = int(self.rx[:h].lower().split(b"content-length:")[1].split(b"\r\n")[0])
        resp, self.rx = self.rx[:h + 4 + n], self.rx[h + 4 + n:]
        return resp

    def exchange(self, req, order=None):
        """one request and its whole response: (request bytes, response bytes)"""
        self.send_data(req, order)
        return len(req), len(self.response())

    def close(self):
        self.send(FIN | ACK)
        self.snd_nxt = (self.snd_nxt + 1) & 0xffffffff
        self.pump(lambda: self.fin_rcvd)
        time.sleep(0.05)
        self.sock.close()


def head(path, key=None, model=None, pad=0):
    body = b'{"model":"%s","messages":[]}' % model.encode() if model else b""
    h = "POST %s HTTP/1.1\r\nHost: hwtest\r\nUser-Agent: OpenAI/Python 1.40.0\r\n" % path
    if pad:
        h += "X-Pad: %s\r\n" % ("p" * pad)
    if key:
        h += "X-Api-Key: %s\r\n" % key
    h += "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    return h.encode() + body


def served(st, tmp, tag, *agent_args, capture=False):
    """the wire, hwserve in the server's namespace inside a watched cgroup,
    the agent, and (capture) tcpdump on the server's side of the veth"""
    wire = Wire(st, tag)
    cg = world(st, "hw-hostile-" + tag)
    port = free_port()
    netns_server(st, wire.srv_ns, "::", port, cg)
    dump = None
    if capture:
        # the veth carries nothing else; "tcp port" would miss IPv6
        # segments behind extension headers
        dump = Tcpdump(os.path.join(tmp, tag + ".pcap"), port, iface=wire.srv_if, netns=wire.srv_ns,
                       filt="ip or ip6")
        st.callback(lambda: dump.proc.poll() is None and dump.stop())
    agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port), *agent_args)
    return wire, port, agent, dump


def exchanges_of(trace):
    return sorted(lines_of(trace, "exchange"), key=lambda e: (e["client_port"], e["index"]))


def assert_exchanges(trace, want, what):
    """want: [(req_bytes, resp_bytes, path, model)] of one connection, in
    order; every exchange has the same account (one key sent them all)"""
    ex = exchanges_of(trace)
    got = [(e["req_bytes"], e["resp_bytes"], e.get("path"), e.get("model")) for e in ex]
    check(got == want, "%s: exchanges (req, resp, path, model)\n  got  %s\n  want %s", what, got, want)
    accounts = {e.get("account") for e in ex}
    check(len(accounts) == 1 and None not in accounts, "%s: accounts %s", what, accounts)
    close = lines_of(trace, "conn_close")
    check(len(close) == 1 and (close[0]["bytes_in"], close[0]["bytes_out"], close[0]["exchanges"]) ==
          (sum(w[0] for w in want), sum(w[1] for w in want), len(want)), "%s: close %s", what, close)


def kernel_stats(trace):
    stats = lines_of(trace, "stats")
    check(len(stats) == 1, "stats lines: %s", stats)
    return stats[0]["kernel"]


def test_dropped_segments_not_counted(tmp):
    """Segments TCP drops count for nothing: one byte 2^29 past the receive
    window (it used to add 512 MiB and hide every later request), a request
    head acknowledging 1 GiB the server never sent (it used to be captured
    as the exchange's head, with another key and model, and to merge every
    later exchange), and a pure ACK of 2 GiB never sent (it would add them
    to the response). The real request follows at the same sequence. Live
    and offline (the capture of the same traffic) agree."""
    key = make_key(tmp)
    with ExitStack() as st:
        wire, port, agent, dump = served(st, tmp, "drop", "--identity", "header:x-api-key",
                                         "--identity-key", key, capture=True)
        c = RawTcp(wire, False, port)
        c.connect()
        want = [c.exchange(head("/bytes?n=100", "real-key", "m1")) + ("/bytes", "m1")]
        c.send(ACK | PSH, b"X", seq=c.snd_nxt + (1 << 29))
        c.send(ACK | PSH, head("/bytes?n=7", "victim-key", "stolen"), ack=c.rcv_nxt + (1 << 30))
        c.send(ACK, ack=c.rcv_nxt + (1 << 31) + 4096)  # would fold 2 GiB of response
        time.sleep(0.1)
        want.append(c.exchange(head("/bytes?n=3000", "real-key", "m2")) + ("/bytes", "m2"))
        want.append(c.exchange(head("/bytes?n=50", "real-key", "m3")) + ("/bytes", "m3"))
        c.close()
        live = agent.stop()
        offline = run_offline(tmp, dump.stop(), "--ports", str(port), "--identity", "header:x-api-key",
                              "--identity-key", key)
    assert_exchanges(live, want, "live")
    assert_exchanges(offline, want, "offline")
    for name, trace in (("live", live), ("offline", offline)):
        k = kernel_stats(trace)
        check(k["bad_ack"] == 2 and k["out_of_window"] == 1, "%s: counters %s", name, k)


def test_head_out_of_order(tmp):
    """A head in two segments, the second sent first: captured from the
    exchange's first byte all the same, so its method, path, key and model
    are read (they used to be lost: the capture began mid-head)."""
    key = make_key(tmp)
    with ExitStack() as st:
        wire, port, agent, dump = served(st, tmp, "ooo", "--identity", "header:x-api-key",
                                         "--identity-key", key, "--capture-bytes", "2048",
                                         capture=True)
        c = RawTcp(wire, False, port, mss=700)
        c.connect()
        h = head("/bytes?n=900", "ooo-key", "late-model", pad=900)
        check(1000 < len(h) < 1400, "head of %d bytes", len(h))
        want = [c.exchange(h, order=[1, 0]) + ("/bytes", "late-model")]
        want.append(c.exchange(head("/bytes?n=20", "ooo-key", "m2")) + ("/bytes", "m2"))
        c.close()
        live = agent.stop()
        offline = run_offline(tmp, dump.stop(), "--ports", str(port), "--identity", "header:x-api-key",
                              "--identity-key", key, "--capture-bytes", "2048")
    assert_exchanges(live, want, "live")
    assert_exchanges(offline, want, "offline")


def test_ipv6_extension_header_chain(tmp):
    """Client segments, the SYN too, behind six IPv6 Destination Options
    headers (Linux takes them; the parsers gave up after four: the requests
    were invisible, the SYN missing): every exchange is counted and its head
    read, the SYN's JA4T taken."""
    key = make_key(tmp)
    with ExitStack() as st:
        wire, port, agent, dump = served(st, tmp, "ext6", "--identity", "header:x-api-key",
                                         "--identity-key", key, capture=True)
        c = RawTcp(wire, True, port, exthdrs=6)
        c.connect()
        want = [c.exchange(head("/bytes?n=%d" % n, "ext-key", "m%d" % n)) + ("/bytes", "m%d" % n)
                for n in (10, 2000, 70)]
        c.close()
        live = agent.stop()
        offline = run_offline(tmp, dump.stop(), "--ports", str(port), "--identity", "header:x-api-key",
                              "--identity-key", key)
    assert_exchanges(live, want, "live")
    assert_exchanges(offline, want, "offline")
    check(kernel_stats(live)["hdr_unparsed"] == 0, "unparsed packets: %s", kernel_stats(live))
    # the SYN behind the same chain: parked whole, its JA4T the capture's
    lo, oo = lines_of(live, "conn_open"), lines_of(offline, "conn_open")
    check(len(lo) == 1 and lo[0].get("syn") == "parked" and lo[0].get("ja4t") == "65535_2_1400_00",
          "live conn_open %s", lo)
    check(len(oo) == 1 and oo[0].get("ja4t") == lo[0]["ja4t"], "offline conn_open %s", oo)


LISTENER = r"""
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1])))
l.listen(8)
print("ready", flush=True)
sys.stdin.readline()
l.close()
print("closed", flush=True)
sys.stdin.readline()
"""

# an outbound connection from local port argv[1] to 127.0.0.1:argv[2], two
# requests; prints its client port
OUTBOUND = r"""
import socket, sys
sys.path.insert(0, sys.argv[3])
from hwtest import http_request
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.connect(("127.0.0.1", int(sys.argv[2])))
for n in (100, 5000):
    http_request(s, "GET", "/bytes?n=%d" % n)
s.close()
print("done", flush=True)
"""


def test_adoption_needs_a_listener_in_its_namespace(tmp):
    """An outbound socket is not adopted as a passive connection because its
    local port listens in another network namespace, or listened once: the
    agent watches every port, a client in the watched cgroup connects out
    from a port that listens in a namespace of the test's, then from a port
    whose listener (in the cgroup, created after the agent) has closed. Both
    used to be adopted (the listen-port bitmap is host-wide and never
    cleared); neither may appear in the trace."""
    ns = "hwhl-%d" % os.getpid()
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode:
        raise Skip("cannot create network namespaces")
    here = os.path.dirname(os.path.abspath(__file__))
    with ExitStack() as st:
        st.callback(subprocess.run, ["ip", "netns", "del", ns], capture_output=True)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        cg = world(st, "hw-hostile-listen")
        elsewhere, gone, target = free_port(), free_port(), free_port()
        from test_dataplane import start_server
        start_server(st, "127.0.0.1", target, None)  # outside the cgroup: not watched
        other = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", LISTENER, str(elsewhere)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        st.callback(other.kill)
        check(other.stdout.readline().strip() == "ready", "listener in %s did not start", ns)
        agent = start_agent(st, tmp, "--cgroup", cg.path)  # every port; the scan sees `elsewhere`
        mine = subprocess.Popen([sys.executable, "-c", LISTENER, str(gone)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, preexec_fn=cg.enter_fn())
        st.callback(mine.kill)
        check(mine.stdout.readline().strip() == "ready", "listener in the cgroup did not start")
        mine.stdin.write("close\n")
        mine.stdin.flush()
        check(mine.stdout.readline().strip() == "closed", "listener did not close")
        for port in (elsewhere, gone):
            out = subprocess.run([sys.executable, "-c", OUTBOUND, str(port), str(target), here],
                                 capture_output=True, text=True, timeout=20, preexec_fn=cg.enter_fn())
            check(out.stdout.strip() == "done", "outbound client from %d: %s", port, out.stderr)
        trace = agent.stop()
    conns = [l for l in trace if "client_port" in l]
    check(not conns, "outbound connections adopted as passive ones: %s", conns[:3])
    check(kernel_stats(trace)["adopted"] == 0, "adopted: %s", kernel_stats(trace))


SAVE_SYN_SERVER = r"""
import socket, sys, threading
TCP_SAVE_SYN = 27
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1])))
l.listen(8)
def serve():
    while True:
        c, _ = l.accept()
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")
        c.close()
threading.Thread(target=serve, daemon=True).start()
print("ready", flush=True)
for line in sys.stdin:
    print(l.getsockopt(socket.IPPROTO_TCP, TCP_SAVE_SYN), flush=True)
"""


def hw_programs():
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True)
    if out.returncode:
        raise Skip("bpftool prog show failed: " + out.stderr.strip())
    return {p["id"] for p in json.loads(out.stdout)
            if p.get("name") in ("hw_ingress", "hw_egress", "hw_sockops")}


def test_sigkill_leaves_nothing_behind(tmp):
    """kill -9 leaves no program loaded or attached, and no socket option
    set: a listener created while the agent ran keeps no TCP_SAVE_SYN (the
    SYN is read on ingress instead, the JA4T the same as the capture's)."""
    need_tcpdump = subprocess.run(["which", "tcpdump"], capture_output=True).returncode
    if need_tcpdump:
        raise Skip("tcpdump is not installed (make deps installs it)")
    with ExitStack() as st:
        cg = world(st, "hw-hostile-kill")
        port = free_port()
        before = hw_programs()
        dump = Tcpdump(os.path.join(tmp, "kill.pcap"), port)
        st.callback(lambda: dump.proc.poll() is None and dump.stop())
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port))
        ours = hw_programs() - before
        check(len(ours) == 3, "want 3 programs loaded while running, got %s", ours)
        srv = subprocess.Popen([sys.executable, "-c", SAVE_SYN_SERVER, str(port)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, preexec_fn=cg.enter_fn())
        st.callback(srv.kill)
        check(srv.stdout.readline().strip() == "ready", "server did not start")
        from hwtest import connect, http_request
        s = connect("127.0.0.1", port, "127.0.0.42")
        http_request(s, "GET", "/")
        s.close()
        time.sleep(0.3)
        agent.proc.kill()
        agent.proc.wait()
        time.sleep(0.3)
        left = hw_programs() & ours
        attached = json.loads(subprocess.run(["bpftool", "-j", "cgroup", "show", cg.path],
                                             capture_output=True, text=True).stdout.strip() or "[]")
        srv.stdin.write("?\n")
        srv.stdin.flush()
        save_syn = srv.stdout.readline().strip()
        with open(agent.trace_path) as f:
            live = [json.loads(l) for l in f if l.strip()]
        offline = run_offline(tmp, dump.stop(), "--ports", str(port))
    check(not left, "programs left after SIGKILL: %s", left)
    check(not attached, "programs still attached to the cgroup: %s", attached)
    check(save_syn == "0", "TCP_SAVE_SYN left set on the listener: %s", save_syn)
    lo, oo = lines_of(live, "conn_open"), lines_of(offline, "conn_open")
    check(len(lo) == 1 and lo[0].get("syn") == "parked" and lo[0].get("ja4t"), "live conn_open %s", lo)
    check(len(oo) == 1 and (oo[0].get("ja4t"), oo[0].get("ttl")) == (lo[0]["ja4t"], lo[0]["ttl"]),
          "JA4T live %s, offline %s", lo, oo)


_M64 = (1 << 64) - 1


def unkeyed_hash64(data):
    """lib/hash.c's hw_hash64 (the deterministic hash anyone can compute),
    here to aim keys at one bucket as an attacker reading the source would"""
    k0, k1, k2 = 0xa0761d6478bd642f, 0xe783fdd1a0b4a8db, 0x8ebcaaf09c88c6e3

    def fold(a, b):
        r = a * b
        return (r ^ (r >> 64)) & _M64
    h = 0x9e3779b97f4a7c15 ^ ((len(data) * k0) & _M64)
    b = data
    while len(b) >= 16:
        h = fold(int.from_bytes(b[:8], "little") ^ h ^ k0, int.from_bytes(b[8:16], "little") ^ k1)
        b = b[16:]
    tail = b + b"\0" * (16 - len(b))
    h = fold(int.from_bytes(tail[:8], "little") ^ h ^ k0, int.from_bytes(tail[8:], "little") ^ k2)
    h = ((h ^ (h >> 30)) * 0xbf58476d1ce4e5b9) & _M64
    h = ((h ^ (h >> 27)) * 0x94d049bb133111eb) & _M64
    return h ^ (h >> 31)


def test_fingerprint_flood_stays_bounded(tmp):
    """A client that reads the source chooses SYN windows whose JA4Ts the
    unkeyed hash puts in one bucket of the fingerprint table (4096 buckets
    at the default cap) and connects with each: the table hashes under a
    random key, so its longest chain stays a few entries, not one per
    connection (item 11)."""
    flood = 100
    syns = []  # (window, mss)
    for mss in range(1400, 536, -1):
        for w in range(1024, 65536):
            key = ("%d_2_%d_00" % (w, mss)).encode()
            if unkeyed_hash64(key + b"\0" * (64 - len(key))) & 4095 == 0:
                syns.append((w, mss))
        if len(syns) >= flood:
            break
    syns = syns[:flood]
    check(len(syns) == flood, "only %d colliding SYNs", len(syns))
    with ExitStack() as st:
        mport = free_port()
        wire, port, agent, _ = served(st, tmp, "flood", "--listen", "127.0.0.1:%d" % mport)
        for w, mss in syns:
            c = RawTcp(wire, False, port, mss=mss)
            c.window = w
            c.connect()
            c.exchange(head("/bytes?n=10"))
            c.close()

        def scraped():
            m = parse_metrics(urlopen("http://127.0.0.1:%d/metrics" % mport).read().decode())
            return m if metric(m, "hydrawatch_table_entries", table="fingerprints_ja4t") >= flood else None
        deadline, m = time.time() + 10, None
        while not m and time.time() < deadline:
            m = scraped()
            time.sleep(0.2)
        check(m, "the agent did not take %d JA4Ts", flood)
        agent.stop()
    chain = metric(m, "hydrawatch_table_longest_chain", table="fingerprints_ja4t")
    print("    %d crafted JA4Ts: longest chain %d" % (flood, chain))
    check(chain <= 8, "the crafted JA4Ts share a chain of %d", chain)


TESTS = [
    test_dropped_segments_not_counted,
    test_head_out_of_order,
    test_ipv6_extension_header_chain,
    test_adoption_needs_a_listener_in_its_namespace,
    test_sigkill_leaves_nothing_behind,
    test_fingerprint_flood_stays_bounded,
]

if __name__ == "__main__":
    main(TESTS)
