#!/usr/bin/env python3
"""Kernel data path, end to end on the real kernel: the agent's trace must
match, exactly, what test clients sent and received."""
import json
import os
import random
import subprocess
import sys
import time
from contextlib import ExitStack

sys.path.insert(0, os.path.dirname(__file__))
from hwtest import (main, HWLOAD, Agent, Cgroup, Server, Skip, check, connect, free_port,  # noqa: E402
                    http_request, lines_of, run)


def netns_server(stack, ns, addr, port, cg):
    """hwserve on ADDR:PORT inside network namespace NS and cgroup CG."""
    proc = subprocess.Popen(["ip", "netns", "exec", ns, os.path.abspath(os.environ.get(
        "HW_BUILD", "build") + "/tools/hwserve"), addr, str(port)],
        stdout=subprocess.PIPE, preexec_fn=cg.enter_fn())
    stack.callback(proc.wait)
    stack.callback(proc.kill)
    check(proc.stdout.readline().strip() == b"ready", "server in namespace %s did not start", ns)


def world(stack, name):
    cg = Cgroup(name)
    stack.callback(cg.remove)
    return cg


def start_server(stack, addr, port, cg):
    s = Server(addr, port, cg)
    stack.callback(s.stop)
    return s


def start_agent(stack, tmp, *args):
    a = Agent(tmp, *args)

    def kill():
        if a.proc.poll() is None:
            a.proc.kill()
            a.proc.wait()
    stack.callback(kill)
    return a


def keepalive_workload(addr, port, sources, conns_per_source, reqs_per_conn, rng):
    """Opens the connections, then runs the requests interleaved across them.
    Returns {(client_ip, client_port): {"src": addr, "exchanges": [(req, resp), ...]}}:
    the address is part of the key, as two source addresses may share a port."""
    conns = {}
    socks = []
    src_of = {}
    for src in sources:
        for _ in range(conns_per_source):
            s = connect(addr, port, src)
            socks.append(s)
            src_of[s] = src
            conns[(src, s.getsockname()[1])] = {"src": src, "exchanges": []}
    for _ in range(reqs_per_conn):
        for s in socks:
            body = b"p" * rng.choice([0, 1, 17, 300, 1400, 5000, 70000])
            method = "POST" if body or rng.random() < 0.5 else "GET"
            resp_n = rng.choice([0, 1, 100, 1448, 4000, 65536, 200000])
            req_b, resp_b, _ = http_request(s, method, "/bytes?n=%d" % resp_n, body)
            conns[(src_of[s], s.getsockname()[1])]["exchanges"].append((req_b, resp_b))
    for s in socks:
        s.close()
    return conns


def assert_trace_matches(trace, conns, server_port, syn=("parked",)):
    opens = lines_of(trace, "conn_open")
    closes = lines_of(trace, "conn_close")
    exch = lines_of(trace, "exchange")
    total = sum(len(c["exchanges"]) for c in conns.values())
    check(len(exch) == total, "exchange lines: want %d, got %d", total, len(exch))
    check(len(opens) == len(conns), "conn_open lines: want %d, got %d", len(conns), len(opens))
    check(len(closes) == len(conns), "conn_close lines: want %d, got %d", len(conns), len(closes))
    for o in opens:
        c = conns.get((o["client_ip"], o["client_port"]))
        check(c is not None, "conn_open for an unknown client %s:%d", o["client_ip"], o["client_port"])
        check(o["client_ip"] == c["src"], "client_ip %s, want %s", o["client_ip"], c["src"])
        check(o["server_port"] == server_port, "server_port %d", o["server_port"])
        check(o["syn"] in syn, "conn_open SYN header %s, want %s", o["syn"], syn)
    seen = {}
    for e in exch:
        c = conns[(e["client_ip"], e["client_port"])]
        check(e["client_ip"] == c["src"], "exchange client_ip %s, want %s", e["client_ip"], c["src"])
        want = c["exchanges"][e["index"] - 1]
        got = (e["req_bytes"], e["resp_bytes"])
        check(got == want, "conn %d exchange %d: (req, resp) = %s, want %s",
              e["client_port"], e["index"], got, want)
        check(e["ttfb_us"] <= e["duration_us"], "ttfb %d > duration %d", e["ttfb_us"], e["duration_us"])
        seen[(e["client_ip"], e["client_port"], e["index"])] = True
    check(len(seen) == total, "duplicate exchange lines")
    for cl in closes:
        c = conns[(cl["client_ip"], cl["client_port"])]
        check(cl["exchanges"] == len(c["exchanges"]), "close: exchanges %d, want %d",
              cl["exchanges"], len(c["exchanges"]))
        check(cl["bytes_in"] == sum(x[0] for x in c["exchanges"]), "close: bytes_in %d", cl["bytes_in"])
        check(cl["bytes_out"] == sum(x[1] for x in c["exchanges"]), "close: bytes_out %d", cl["bytes_out"])
        check(cl["client_ip"] == c["src"], "close: client_ip %s", cl["client_ip"])
    stats = lines_of(trace, "stats")
    check(len(stats) == 1 and stats[0]["events_lost"] == 0, "stats line: %s", stats)
    check(stats[0]["kernel"]["hdr_unparsed"] == 0, "unparsed packets: %s", stats[0])


def test_keepalive_ipv4_exact(tmp):
    """20 keep-alive connections from 5 source addresses, 200 requests."""
    with ExitStack() as st:
        cg = world(st, "hw-ka4")
        port = free_port()
        start_server(st, "127.0.0.1", port, cg)
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port))
        sources = ["127.0.%d.%d" % (random.randint(1, 254), i) for i in range(1, 6)]
        conns = keepalive_workload("127.0.0.1", port, sources, 4, 10, random.Random(1))
        trace = agent.stop()
        check(len(conns) == 20, "client made %d connections", len(conns))
        # the listener predates the agent: SYNs come from the ingress park
        assert_trace_matches(trace, conns, port, syn=("parked",))


def test_keepalive_ipv6_exact(tmp):
    """The same over ::1, against a dual-stack listener."""
    with ExitStack() as st:
        cg = world(st, "hw-ka6")
        port = free_port()
        # the agent first: the listener is new to it, its SYNs parked all the same
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port))
        start_server(st, "::", port, cg)
        conns = keepalive_workload("::1", port, ["::1"], 8, 10, random.Random(2))
        # v4 to the same dual-stack listener: v4-mapped socket, printed as IPv4
        conns.update(keepalive_workload("127.0.0.1", port, ["127.0.0.9"], 2, 5, random.Random(3)))
        trace = agent.stop()
        assert_trace_matches(trace, conns, port, syn=("parked",))
        check(any(o["server_ip"] == "::1" for o in lines_of(trace, "conn_open")), "no ::1 server_ip")


BANNER_SERVER = r"""
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1])))
l.listen(8)
print("ready", flush=True)
while True:
    c, _ = l.accept()
    c.sendall(b"220 ready, say something\r\n")
    while True:
        b = c.recv(4096)
        if not b:
            break
        for _ in range(b.count(b"\n")):
            c.sendall(b"r" * 100)
    c.close()
"""


def test_server_speaks_first(tmp):
    """A banner before the first request (SMTP, FTP, MySQL): counted in the
    connection's bytes, in no exchange; the responses count from the ACK of
    the request that opened each exchange."""
    with ExitStack() as st:
        cg = world(st, "hw-banner")
        port = free_port()
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port))
        srv = subprocess.Popen([sys.executable, "-c", BANNER_SERVER, str(port)], stdout=subprocess.PIPE,
                               text=True, preexec_fn=cg.enter_fn())
        st.callback(srv.kill)
        check(srv.stdout.readline().strip() == "ready", "banner server did not start")
        s = connect("127.0.0.1", port)
        banner = b""
        while not banner.endswith(b"\r\n"):
            banner += s.recv(100)
        for req in (b"HELO one\n", b"MAIL two, longer\n"):
            s.sendall(req)
            got = b""
            while len(got) < 100:
                got += s.recv(100)
        s.close()
        time.sleep(0.2)
        trace = agent.stop()
        exch = lines_of(trace, "exchange")
        check([(e["req_bytes"], e["resp_bytes"]) for e in exch] == [(9, 100), (17, 100)], "exchanges %s", exch)
        check(all(e["ttfb_us"] > 0 for e in exch), "an exchange without a first response byte: %s", exch)
        close = lines_of(trace, "conn_close")
        check(len(close) == 1 and (close[0]["bytes_in"], close[0]["bytes_out"]) == (26, 200 + len(banner)),
              "close %s, banner %d bytes", close, len(banner))


def test_expect_continue_is_one_exchange(tmp):
    """A head with `Expect: 100-continue`, the interim answer, the body, the
    final answer: one exchange with the head's account and the body's model
    (the kernel saw two), then the next request on the connection."""
    with ExitStack() as st:
        cg = world(st, "hw-expect")
        port = free_port()
        start_server(st, "127.0.0.1", port, cg)
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port), "--identity", "header:x-api-key")
        body = b'{"model":"gpt-x","messages":[' + b" " * 3000 + b"]}"
        head = ("POST /bytes?n=700 HTTP/1.1\r\nHost: hwtest\r\nx-api-key: k1\r\nExpect: 100-continue\r\n"
                "Content-Length: %d\r\n\r\n" % len(body)).encode()
        s = connect("127.0.0.1", port)
        s.sendall(head)
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            interim += s.recv(1)
        check(interim == b"HTTP/1.1 100 Continue\r\n\r\n", "interim answer %r", interim)
        s.sendall(body)
        final = b""
        while not final.endswith(b"x" * 700) and len(final) < 700 + 200:
            final += s.recv(65536)
        req2, resp2, _ = http_request(s, "GET", "/bytes?n=10", extra_headers=("x-api-key: k1",))
        s.close()
        time.sleep(0.2)
        trace = agent.stop()
        exch = lines_of(trace, "exchange")
        check([e["index"] for e in exch] == [1, 3], "exchanges %s", exch)
        e = exch[0]
        check((e["req_bytes"], e["resp_bytes"]) == (len(head) + len(body), len(interim) + len(final)),
              "bytes of the folded exchange %s: want %d, %d", e, len(head) + len(body), len(interim) + len(final))
        check(e.get("model") == "gpt-x" and e.get("account") and e["account"] == exch[1].get("account"),
              "model and account %s / %s", e, exch[1])
        check(0 < e["ttfb_us"] <= e["duration_us"], "times %s", e)
        check((exch[1]["req_bytes"], exch[1]["resp_bytes"]) == (req2, resp2), "second %s", exch[1])
        close = lines_of(trace, "conn_close")
        check(len(close) == 1 and close[0]["exchanges"] == 2, "close %s", close)
        check(lines_of(trace, "stats")[0]["continued"] == 1, "stats %s", lines_of(trace, "stats"))


def test_kernel_only_counts_events(tmp):
    """--kernel-only drains and counts what the kernel sends, and does
    nothing else: no exchange lines, the same events."""
    with ExitStack() as st:
        cg = world(st, "hw-konly")
        port = free_port()
        start_server(st, "127.0.0.1", port, cg)
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port), "--kernel-only")
        s = connect("127.0.0.1", port)
        for _ in range(25):
            http_request(s, "GET", "/bytes?n=10")
        s.close()
        trace = agent.stop()
        check(not lines_of(trace, "exchange"), "exchange lines with --kernel-only: %s", trace[:2])
        stats = lines_of(trace, "stats")
        check(stats, "no stats line: %s", trace)
        ev = stats[-1]["events"]
        check((ev["conn_open"], ev["exchange_start"], ev["conn_close"]) == (1, 25, 1), "events %s", ev)
        check(stats[-1]["events_lost"] == 0 and stats[-1]["decode_errors"] == 0, "stats %s", stats[-1])


def test_stream_is_one_exchange(tmp):
    """100 chunks over about 1 s: one exchange, ttfb far below duration."""
    with ExitStack() as st:
        cg = world(st, "hw-stream")
        port = free_port()
        start_server(st, "127.0.0.1", port, cg)
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port))
        s = connect("127.0.0.1", port, "127.0.0.1")
        t0 = time.time()
        req_b, resp_b, body = http_request(s, "GET", "/stream?chunks=100&interval_ms=10&size=32")
        elapsed = time.time() - t0
        s.close()
        trace = agent.stop()
        check(body.count(b"data: ") == 100, "server sent %d events", body.count(b"data: "))
        exch = lines_of(trace, "exchange")
        check(len(exch) == 1, "want 1 exchange, got %d", len(exch))
        e = exch[0]
        check((e["req_bytes"], e["resp_bytes"]) == (req_b, resp_b), "bytes %s", e)
        check(e["duration_us"] >= 0.9e6 and e["duration_us"] <= elapsed * 1e6 + 1000,
              "duration_us %d, client saw %.3fs", e["duration_us"], elapsed)
        check(e["ttfb_us"] * 20 < e["duration_us"], "ttfb_us %d not well below duration_us %d",
              e["ttfb_us"], e["duration_us"])


def big_exchange(sock, body_n, resp_n):
    """One request with a body_n-byte body and a resp_n-byte response,
    streamed through fixed buffers. Returns (request bytes, response bytes)."""
    head = b"POST /bytes?n=%d HTTP/1.1\r\nHost: hwtest\r\nContent-Length: %d\r\n\r\n" % (resp_n, body_n)
    sock.sendall(head)
    block = b"b" * (1 << 20)
    left = body_n
    while left:
        k = min(left, len(block))
        sock.sendall(block[:k] if k < len(block) else block)
        left -= k
    buf = bytearray(1 << 22)
    got = bytearray()
    while b"\r\n\r\n" not in got:
        n = sock.recv_into(buf)
        check(n > 0, "server closed mid-head")
        got += buf[:n]
    hend = got.index(b"\r\n\r\n") + 4
    left = hend + resp_n - len(got)
    while left > 0:
        n = sock.recv_into(buf, min(left, len(buf)))
        check(n > 0, "server closed mid-body")
        left -= n
    return len(head) + body_n, hend + resp_n


def test_exchanges_beyond_4_gib_exact(tmp):
    """A 2.5 GiB request and a 4.5 GiB response, then a small exchange: the
    kernel keeps per-exchange counts in 32 bits and folds them every 2 GiB,
    so these cross both the fold and the 32-bit wrap."""
    with ExitStack() as st:
        cg = world(st, "hw-big")
        port = free_port()
        start_server(st, "127.0.0.1", port, cg)
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port))
        s = connect("127.0.0.1", port, "127.0.0.1")
        want = [big_exchange(s, 2560 << 20, 4608 << 20), big_exchange(s, 10, 100)]
        s.close()
        trace = agent.stop()
        exch = sorted(lines_of(trace, "exchange"), key=lambda e: e["index"])
        got = [(e["req_bytes"], e["resp_bytes"]) for e in exch]
        check(got == want, "exchanges (req, resp) %s, want %s", got, want)
        close = lines_of(trace, "conn_close")
        check(len(close) == 1, "conn_close lines: %d", len(close))
        check((close[0]["bytes_in"], close[0]["bytes_out"]) == tuple(map(sum, zip(*want))),
              "close bytes (%d, %d), want %s", close[0]["bytes_in"], close[0]["bytes_out"],
              tuple(map(sum, zip(*want))))


def test_unwatched_port_and_foreign_cgroup(tmp):
    """Unwatched port, or a watched port served from outside the cgroup:
    no lines at all."""
    with ExitStack() as st:
        cg = world(st, "hw-unw")
        watched, unwatched, outside = free_port(), free_port(), free_port()
        start_server(st, "127.0.0.1", unwatched, cg)
        start_server(st, "127.0.0.1", outside, None)
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", "%d,%d" % (watched, outside))
        for port in (unwatched, outside):
            s = connect("127.0.0.1", port, "127.0.0.3")
            for _ in range(5):
                http_request(s, "GET", "/bytes?n=1000")
            s.close()
        trace = agent.stop()
        noise = [l for l in trace if l["type"] != "stats"]
        check(not noise, "unexpected lines: %s", noise[:3])


def test_retransmissions_counted_once(tmp):
    """A lossy veth link: retransmitted and reordered segments must not be
    counted twice. The server lives in a network namespace the test makes;
    the client's side is rate-limited with tbf so queues overflow."""
    if subprocess.run(["ip", "netns", "add", "hwprobe-%d" % os.getpid()],
                      capture_output=True).returncode:
        raise Skip("cannot create network namespaces")
    subprocess.run(["ip", "netns", "del", "hwprobe-%d" % os.getpid()])
    ns = "hwlossy-%d" % os.getpid()
    ha, hb = "hwl%da" % (os.getpid() % 10000), "hwl%db" % (os.getpid() % 10000)
    sh = lambda *c: subprocess.run(list(c), check=True, capture_output=True)  # noqa: E731
    with ExitStack() as st:
        sh("ip", "netns", "add", ns)
        st.callback(subprocess.run, ["ip", "netns", "del", ns])
        sh("ip", "link", "add", ha, "type", "veth", "peer", "name", hb)
        st.callback(subprocess.run, ["ip", "link", "del", ha], capture_output=True)
        sh("ip", "link", "set", hb, "netns", ns)
        sh("ip", "addr", "add", "169.254.77.1/30", "dev", ha)
        sh("ip", "link", "set", ha, "up")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", "169.254.77.2/30", "dev", hb)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", hb, "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        # tiny queues both ways: drops force retransmissions
        sh("tc", "qdisc", "add", "dev", ha, "root", "tbf", "rate", "20mbit", "burst", "4kb", "limit", "6kb")
        sh("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", hb, "root", "tbf", "rate",
           "20mbit", "burst", "4kb", "limit", "6kb")
        cg = world(st, "hw-lossy")
        port = free_port()
        netns_server(st, ns, "169.254.77.2", port, cg)
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port))
        before = retrans_segs(ns)
        conns = keepalive_workload("169.254.77.2", port, ["169.254.77.1"], 3, 4, random.Random(4))
        after = retrans_segs(ns)
        trace = agent.stop(settle=1.0)
        assert_trace_matches(trace, conns, port)
        print("    server retransmitted %d segments" % (after - before))
        check(after > before, "the link lost nothing: the test proves nothing (retrans %d)", after - before)


def retrans_segs(ns):
    out = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/net/snmp"],
                         capture_output=True, text=True).stdout.splitlines()
    tcp = [l.split() for l in out if l.startswith("Tcp:")]
    return int(tcp[1][tcp[0].index("RetransSegs")])


def test_adopts_connections_that_predate_the_agent(tmp):
    """Keep-alive connections opened before the agent starts are adopted on
    their next packet and closed from FIN flags (no sockops callback)."""
    with ExitStack() as st:
        cg = world(st, "hw-adopt")
        port = free_port()
        start_server(st, "127.0.0.1", port, cg)
        socks = [connect("127.0.0.1", port, "127.0.0.%d" % (i + 20)) for i in range(3)]
        for s in socks:
            http_request(s, "GET", "/bytes?n=500")  # before the agent: not seen
        agent = start_agent(st, tmp, "--cgroup", cg.path)  # default: all listening ports
        want = {}
        for s in socks:
            want[s.getsockname()[1]] = [http_request(s, "POST", "/bytes?n=3000", b"q" * 700)[:2]
                                        for _ in range(4)]
        for s in socks:
            s.close()
        trace = agent.stop()
        opens = lines_of(trace, "conn_open")
        check(len(opens) == 3 and all(o.get("adopted") for o in opens), "opens: %s", opens)
        exch = lines_of(trace, "exchange")
        check(len(exch) == 12, "want 12 exchanges, got %d", len(exch))
        for e in exch:
            check((e["req_bytes"], e["resp_bytes"]) == want[e["client_port"]][e["index"] - 1],
                  "adopted exchange %s, want %s", e, want[e["client_port"]])
        closes = lines_of(trace, "conn_close")
        check(len(closes) == 3, "want 3 closes from FIN flags, got %d", len(closes))
        for c in closes:
            check(c["exchanges"] == 4 and c.get("adopted"), "close %s", c)


# a client inside a network namespace: two keep-alive connections, one
# request each before "go" on stdin, then N more each; prints what each
# request sent and received, per client port
NETNS_CLIENT = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from hwtest import connect, http_request
port, n = int(sys.argv[2]), int(sys.argv[3])
socks = [connect("127.0.0.1", port) for _ in range(2)]
for s in socks:
    http_request(s, "GET", "/bytes?n=300")
print("connected", flush=True)
sys.stdin.readline()
out = {s.getsockname()[1]: [list(http_request(s, "POST", "/bytes?n=2000", b"q" * 500)[:2]) for _ in range(n)]
       for s in socks}
for s in socks:
    s.close()
print(json.dumps(out), flush=True)
"""


def test_adopts_in_another_netns(tmp):
    """A pod's keep-alive connections that predate the agent, watching every
    port: the listener is in another network namespace, which the start-up
    scan must read (/proc/PID/net/tcp) for the connections to be adopted."""
    ns = "hwpod-%d" % os.getpid()
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode:
        raise Skip("cannot create network namespaces")
    with ExitStack() as st:
        st.callback(subprocess.run, ["ip", "netns", "del", ns])
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        cg = world(st, "hw-pod")
        port = free_port()  # free here, and so not listening in this namespace
        netns_server(st, ns, "127.0.0.1", port, cg)
        cli = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", NETNS_CLIENT,
                                os.path.dirname(os.path.abspath(__file__)), str(port), "3"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        st.callback(cli.kill)
        check(cli.stdout.readline().strip() == "connected", "client in the namespace did not connect")
        agent = start_agent(st, tmp, "--cgroup", cg.path)  # every port
        cli.stdin.write("go\n")
        cli.stdin.flush()
        want = {int(k): v for k, v in json.loads(cli.stdout.readline()).items()}
        trace = agent.stop()
        opens = lines_of(trace, "conn_open")
        check(len(opens) == 2 and all(o.get("adopted") for o in opens), "opens: %s", opens)
        exch = lines_of(trace, "exchange")
        check(len(exch) == 6, "want 6 exchanges, got %s", exch)
        for e in exch:
            check([e["req_bytes"], e["resp_bytes"]] == want[e["client_port"]][e["index"] - 1],
                  "adopted exchange %s, want %s", e, want[e["client_port"]])


def test_errors_name_the_fix(tmp):
    """Bad input and missing privileges: a clear message and a non-zero exit."""
    from hwtest import AGENT
    junk = os.path.join(tmp, "not-a-capture")
    with open(junk, "w") as f:
        f.write("this is not a pcap file\n" * 10)
    os.chmod(junk, 0o644)  # also a key file that others can read
    cases = [
        (["--ports", "80,abc"], 2, "bad port list"),
        (["--capture-bytes", "99999"], 2, "--capture-bytes"),
        (["--cgroup", "/proc"], 1, "not on cgroup v2"),
        (["--cgroup", "/nonexistent/cg"], 1, "cannot open cgroup"),
        (["--frobnicate"], 2, "unknown option"),
        (["--read", "/nonexistent/capture.pcap"], 1, "--read /nonexistent/capture.pcap"),
        (["--read", junk], 1, "--read " + junk),
        (["--identity-key", junk], 1, "chmod 600"),
        (["--identity", "cookie"], 2, "want header:NAME"),
        (["--listen", "nowhere"], 2, "--listen nowhere"),
        (["--alertmanager", "ftp://x"], 2, "--alertmanager"),
        (["--config", "/nonexistent/hydrawatch.conf"], 2, "--config"),
        (["--volume-factor", "-3"], 2, "--volume-factor"),
    ]
    for args, rc, text in cases:
        r = subprocess.run([AGENT] + args, capture_output=True, text=True, timeout=20)
        check(r.returncode == rc and text in r.stderr, "%s: rc %d, stderr %r", args, r.returncode, r.stderr)
    if subprocess.run(["which", "setpriv"], capture_output=True).returncode:
        raise Skip("setpriv (util-linux) not installed: cannot test the unprivileged case")
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", "--bounding-set=-all", os.path.abspath(AGENT)],
                       capture_output=True, text=True, timeout=20)
    check(r.returncode == 1 and "CAP_BPF" in r.stderr, "unprivileged: rc %d, stderr %r",
          r.returncode, r.stderr)


def test_detach_on_sigterm(tmp):
    """After SIGTERM no program the agent loaded remains."""
    def our_progs():
        out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True)
        if out.returncode:
            raise Skip("bpftool prog show failed: " + out.stderr.strip())
        return {p["id"] for p in json.loads(out.stdout)
                if p.get("name") in ("hw_ingress", "hw_egress", "hw_sockops")}
    with ExitStack() as st:
        cg = world(st, "hw-detach")
        before = our_progs()
        agent = start_agent(st, tmp, "--cgroup", cg.path)
        during = our_progs() - before
        check(len(during) == 3, "want 3 loaded programs while running, got %d", len(during))
        agent.stop(settle=0)
        time.sleep(0.2)
        left = our_progs() & during
        check(not left, "programs left after SIGTERM: %s", left)


def test_rate_5000_no_loss(tmp):
    """5,000 requests/s for 10 s: nothing lost, the count exact."""
    with ExitStack() as st:
        cg = world(st, "hw-rate")
        port = free_port()
        start_server(st, "127.0.0.1", port, cg)
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port))
        out = subprocess.run([HWLOAD, "127.0.0.1", str(port), "16", "5000", "10", "200"],
                             capture_output=True, text=True, timeout=60)
        check(out.returncode == 0, "hwload failed: %s %s", out.stdout, out.stderr)
        load = json.loads(out.stdout)
        trace = agent.stop(settle=0.5)
        exch = lines_of(trace, "exchange")
        stats = lines_of(trace, "stats")[0]
        print("    %d requests in %.1fs (%d late), %d exchange lines" % (
            load["requests"], load["seconds"], load["late"], len(exch)))
        check(load["requests"] >= 45000, "load generator fell short: %s", load)
        check(stats["events_lost"] == 0, "events lost: %d", stats["events_lost"])
        check(len(exch) == load["requests"], "exchanges %d != requests %d", len(exch), load["requests"])
        check(sum(e["req_bytes"] for e in exch) == load["req_bytes"], "request bytes differ")
        check(sum(e["resp_bytes"] for e in exch) == load["resp_bytes"], "response bytes differ")


TESTS = [
    test_keepalive_ipv4_exact,
    test_keepalive_ipv6_exact,
    test_stream_is_one_exchange,
    test_server_speaks_first,
    test_expect_continue_is_one_exchange,
    test_kernel_only_counts_events,
    test_exchanges_beyond_4_gib_exact,
    test_unwatched_port_and_foreign_cgroup,
    test_retransmissions_counted_once,
    test_adopts_connections_that_predate_the_agent,
    test_adopts_in_another_netns,
    test_errors_name_the_fix,
    test_detach_on_sigterm,
    test_rate_5000_no_loss,
]

if __name__ == "__main__":
    main(TESTS)
