#!/usr/bin/env python3
"""Overload and process faults on the real kernel: a burst beyond a small
ring buffer while the agent is stalled, connections in another network
namespace through reconciliation passes, kill -9, SIGHUP (logrotate's
rename, a configuration reload, a bad configuration), and SIGINT during
--read."""
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from contextlib import ExitStack

sys.path.insert(0, os.path.dirname(__file__))
from hwtest import (main, AGENT, Skip, check, connect, free_port, http_request,  # noqa: E402
                    lines_of, metric, parse_metrics)
from test_dataplane import netns_server, start_agent, start_server, world  # noqa: E402
from test_exporter import get, wait_for  # noqa: E402


def scrape(mport):
    return parse_metrics(get("http://127.0.0.1:%d/metrics" % mport)[1])


def active(mport):
    return metric(scrape(mport), "hydrawatch_connections_active")


def by_conn(trace):
    """(client_ip, client_port) -> {"open": [lines], "exchanges": [lines], "close": [lines]}"""
    conns = {}
    for line in trace:
        if line["type"] not in ("conn_open", "exchange", "conn_close"):
            continue
        c = conns.setdefault((line["client_ip"], line["client_port"]),
                             {"open": [], "exchanges": [], "close": []})
        c[{"conn_open": "open", "exchange": "exchanges", "conn_close": "close"}[line["type"]]].append(line)
    return conns


def test_burst_beyond_ring_recovers(tmp):
    """The agent stalls (SIGSTOP) while 200 connections open, make a request
    and close, and four keep-alive connections make three requests each: a
    64 KiB ring holds the opens and some requests, and loses the rest, the
    closes among them. The losses are counted; the agent finds by itself
    that the kernel closed the 200 (connections_active back to the 4 still
    open, each of the 200 with one close line), and everything after the
    burst is exact."""
    with ExitStack() as st:
        cg = world(st, "hw-burst")
        port, mport = free_port(), free_port()
        start_server(st, "127.0.0.1", port, cg)
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port), "--ring-bytes", "65536",
                            "--listen", "127.0.0.1:%d" % mport)
        st.callback(lambda: agent.proc.poll() is None and agent.proc.send_signal(signal.SIGCONT))
        survivors = [connect("127.0.0.1", port, "127.0.1.%d" % (i + 1)) for i in range(4)]
        sent = {s.getsockname(): [] for s in survivors}
        for s in survivors:
            sent[s.getsockname()].append(http_request(s, "GET", "/bytes?n=100")[:2])
        wait_for(lambda: active(mport) == 4, 10, "the agent to see the 4 connections")

        agent.proc.send_signal(signal.SIGSTOP)
        try:
            burst = [connect("127.0.0.1", port, "127.0.2.%d" % (i % 250 + 1)) for i in range(200)]
            for s in burst:
                http_request(s, "GET", "/bytes?n=50")
            for s in survivors:
                for _ in range(3):
                    sent[s.getsockname()].append(http_request(s, "POST", "/bytes?n=700", b"s" * 300)[:2])
            for s in burst:
                s.close()
            time.sleep(0.5)  # the server closes its side
        finally:
            agent.proc.send_signal(signal.SIGCONT)

        # /metrics is rendered after each second's drain: the first one
        # after the stall counts the losses
        lost = wait_for(lambda: metric(scrape(mport), "hydrawatch_events_lost_total"), 10,
                        "the losses to be counted: was the ring overrun?")

        def recovered():
            m = scrape(mport)
            return metric(m, "hydrawatch_connections_active") == 4 and m
        try:
            m = wait_for(recovered, 30, "connections_active back to the 4 still open")
        except AssertionError:
            raise AssertionError("connections_active stuck at %s after the burst (truth: 4)" % active(mport))
        reconciled = metric(m, "hydrawatch_connections_reconciled_total", reason="close_lost")
        check(reconciled > 0, "no connection reconciled")
        print("    %d events lost, %d connections closed by reconciliation" % (lost, reconciled))

        # after the burst: the survivors go on, new connections come and go
        for s in survivors:
            for _ in range(5):
                sent[s.getsockname()].append(http_request(s, "POST", "/bytes?n=2000", b"t" * 500)[:2])
        fresh = {}
        for i in range(10):
            s = connect("127.0.0.1", port, "127.0.3.%d" % (i + 1))
            fresh[s.getsockname()] = [http_request(s, "GET", "/bytes?n=%d" % (100 * (i + 1)))[:2]
                                      for _ in range(3)]
            s.close()
        for s in survivors:
            s.close()
        wait_for(lambda: active(mport) == 0, 10, "connections_active 0 once all closed")
        m = scrape(mport)
        trace = agent.stop()

        conns = by_conn(trace)
        for key, c in conns.items():
            check(len(c["close"]) == 1, "connection %s has %d close lines", key, len(c["close"]))
        rec = [c for c in conns.values() if c["close"][0].get("reconciled")]
        check(len(rec) == reconciled, "%d reconciled close lines, metric says %d", len(rec), reconciled)
        check(all(k[0].startswith("127.0.2.") for k, c in conns.items() if c["close"][0].get("reconciled")),
              "a connection outside the burst was closed by reconciliation")
        for key, want in list(fresh.items()) + list(sent.items()):
            c = conns.get(key)
            check(c is not None and not c["close"][0].get("reconciled"), "connection %s: %s", key, c)
            close = c["close"][0]
            check((close["exchanges"], close["bytes_in"], close["bytes_out"]) ==
                  (len(want), sum(x[0] for x in want), sum(x[1] for x in want)),
                  "close of %s: %s, want %d exchanges %s", key, close, len(want), want)
            lines = {e["index"]: (e["req_bytes"], e["resp_bytes"]) for e in c["exchanges"]}
            # the survivors' exchanges 1-3 ended in events the ring lost; the
            # 4th ended in the first start after the burst: it and every later
            # one are exact
            first = 4 if key in sent else 1
            check(all(lines.get(i) == want[i - 1] for i in range(first, len(want) + 1)),
                  "exchanges of %s: %s, want %s from %d", key, lines, want, first)
        # what the kernel counted and no line shows, and what a reconciled
        # close says it took with it
        missing = sum(c["close"][0]["exchanges"] - len(c["exchanges"]) for c in conns.values()
                      if c["open"] and not c["close"][0].get("reconciled"))
        missing += sum(c["close"][0]["exchanges_lost"] for c in rec)
        check(metric(m, "hydrawatch_exchanges_lost_total") == missing,
              "exchanges_lost %s, the trace misses %d", metric(m, "hydrawatch_exchanges_lost_total"), missing)
        check(lines_of(trace, "stats")[0]["exchanges_lost"] == missing, "stats line %s", lines_of(trace, "stats"))


# keep-alive connections made inside a network namespace; a line on stdin
# makes N more requests on each and closes them
NETNS_KEEPALIVE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from hwtest import connect, http_request
port, n = int(sys.argv[2]), int(sys.argv[3])
socks = [connect("127.0.0.1", port) for _ in range(2)]
for s in socks:
    http_request(s, "GET", "/bytes?n=300")
print("connected", flush=True)
sys.stdin.readline()
for s in socks:
    for _ in range(n):
        http_request(s, "GET", "/bytes?n=300")
    s.close()
print("done", flush=True)
"""


def test_reconcile_keeps_connections_in_other_netns(tmp):
    """Reconciliation every second, with the server and its keep-alive
    clients in another network namespace (a pod): the agent's own namespace
    does not have their sockets, the other namespace's table does; they
    must stay open in the agent until they really close."""
    ns = "hwrec-%d" % os.getpid()
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode:
        raise Skip("cannot create network namespaces")
    with ExitStack() as st:
        st.callback(subprocess.run, ["ip", "netns", "del", ns])
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        cg = world(st, "hw-recns")
        port, mport = free_port(), free_port()
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port), "--reconcile-interval", "1",
                            "--listen", "127.0.0.1:%d" % mport)
        netns_server(st, ns, "127.0.0.1", port, cg)
        cli = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", NETNS_KEEPALIVE,
                                os.path.dirname(os.path.abspath(__file__)), str(port), "3"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        st.callback(cli.kill)
        check(cli.stdout.readline().strip() == "connected", "client in the namespace did not connect")
        wait_for(lambda: active(mport) == 2, 10, "the agent to see the 2 connections")
        time.sleep(5)  # several passes
        m = scrape(mport)
        passes = metric(m, "hydrawatch_reconcile_passes_total", result="done")
        check(passes >= 2, "reconciliation passes: %s", passes)
        check(metric(m, "hydrawatch_connections_active") == 2, "connections_active %s after %d passes",
              metric(m, "hydrawatch_connections_active"), passes)
        cli.stdin.write("go\n")
        cli.stdin.flush()
        check(cli.stdout.readline().strip() == "done", "client did not finish")
        wait_for(lambda: active(mport) == 0, 10, "connections_active 0 once closed")
        trace = agent.stop()
        closes = lines_of(trace, "conn_close")
        check(len(closes) == 2 and not any(c.get("reconciled") for c in closes), "closes %s", closes)
        check(sorted(c["exchanges"] for c in closes) == [4, 4], "closes %s", closes)


def our_objects():
    """Ids of loaded programs named like ours, and of the maps they use."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True)
    if out.returncode:
        raise Skip("bpftool prog show failed: " + out.stderr.strip())
    progs = [p for p in json.loads(out.stdout) if p.get("name") in ("hw_ingress", "hw_egress", "hw_sockops")]
    return {p["id"] for p in progs}, {m for p in progs for m in p.get("map_ids", [])}


def cgroup_attached(path):
    out = subprocess.run(["bpftool", "-j", "cgroup", "show", path], capture_output=True, text=True)
    check(out.returncode == 0, "bpftool cgroup show %s: %s", path, out.stderr)
    return json.loads(out.stdout.strip() or "[]")


def test_kill9_leaves_nothing_attached(tmp):
    """kill -9 runs no cleanup: everything must be tied to the process's
    file descriptors (BPF links, not legacy attachments; nothing pinned), so
    the kernel lets go of all of it when the process dies."""
    with ExitStack() as st:
        cg = world(st, "hw-kill9")
        bpffs = set(os.listdir("/sys/fs/bpf")) if os.path.isdir("/sys/fs/bpf") else set()
        before_progs, before_maps = our_objects()
        agent = start_agent(st, tmp, "--cgroup", cg.path)
        attached = cgroup_attached(cg.path)
        progs, maps = our_objects()
        progs, maps = progs - before_progs, maps - before_maps
        check(len(attached) == 3 and len(progs) == 3, "while running: attached %s, programs %s", attached, progs)
        agent.proc.kill()
        agent.proc.wait()

        def released():
            p, mp = our_objects()
            return not cgroup_attached(cg.path) and not (p & progs) and not (mp & maps)
        wait_for(released, 5, "the kernel to release programs, links and maps after kill -9")
        links = subprocess.run(["bpftool", "-j", "link", "show"], capture_output=True, text=True)
        check(not [ln for ln in json.loads(links.stdout.strip() or "[]") if ln.get("prog_id") in progs],
              "links left: %s", links.stdout)
        if os.path.isdir("/sys/fs/bpf"):
            check(set(os.listdir("/sys/fs/bpf")) == bpffs, "pinned objects left in /sys/fs/bpf: %s",
                  set(os.listdir("/sys/fs/bpf")) - bpffs)


class Daemon:
    """The agent as a service runs it: trace and alerts to files, stderr
    kept."""

    def __init__(self, tmp, *args):
        self.err_path = os.path.join(tmp, "agent-%d.stderr" % random.randint(0, 1 << 30))
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen([AGENT] + list(args), stdout=subprocess.DEVNULL, stderr=self.err)
        wait_for(lambda: self.proc.poll() is None and "watching" in self.stderr(), 20, "the agent to attach")

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def alive(self):
        if self.proc.poll() is not None:
            raise AssertionError("the agent died (exit %d): %s" % (self.proc.returncode, self.stderr()))
        return True

    def wait_log(self, text, timeout=10):
        wait_for(lambda: self.alive() and self.stderr().count(text), timeout, "%r in the agent's stderr" % text)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=20)
        self.err.close()
        return rc


def read_lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def one_connection(port, n, src):
    s = connect("127.0.0.1", port, src)
    for _ in range(n):
        http_request(s, "GET", "/bytes?n=200")
    s.close()


def test_sighup_reopens_trace_and_alerts(tmp):
    """logrotate's convention: the files are renamed, SIGHUP, and the agent
    writes on at the original paths; the renamed ones hold what came before.
    The agent keeps running and writes its stats line at the end."""
    with ExitStack() as st:
        cg = world(st, "hw-hup")
        port = free_port()
        start_server(st, "127.0.0.1", port, cg)
        trace, alerts = os.path.join(tmp, "trace.ndjson"), os.path.join(tmp, "alerts.ndjson")
        d = Daemon(tmp, "--cgroup", cg.path, "--ports", str(port), "--trace", trace, "--alerts", alerts,
                   "--listen", "off")
        st.callback(d.stop)
        one_connection(port, 3, "127.0.4.1")
        wait_for(lambda: lines_of(read_lines(trace), "conn_close"), 10, "the first connection's close line")
        os.rename(trace, trace + ".1")
        os.rename(alerts, alerts + ".1")
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: d.alive() and os.path.exists(trace) and os.path.exists(alerts), 10,
                 "the agent to reopen its files at their paths")
        one_connection(port, 2, "127.0.4.2")
        wait_for(lambda: lines_of(read_lines(trace), "conn_close"), 10, "the second connection's close line")
        check(d.stop() == 0, "agent exit: %s", d.stderr())
        old, new = read_lines(trace + ".1"), read_lines(trace)
        check([l["client_ip"] for l in old] == ["127.0.4.1"] * 5, "rotated trace: %s", old)
        check([l["type"] for l in new] == ["conn_open", "exchange", "exchange", "conn_close", "stats"] and
              all(l["client_ip"] == "127.0.4.2" for l in new[:-1]), "new trace: %s", new)
        check(oct(os.stat(trace).st_mode & 0o777) == oct(os.stat(trace + ".1").st_mode & 0o777),
              "the new trace file's mode differs from the first's")
        check("reopened" in d.stderr(), "no word of the reopen: %s", d.stderr())


def test_logrotate_snippet_rotates(tmp):
    """deploy/logrotate/hydrawatch run by logrotate itself, on this test's
    files and with its postrotate signalling this agent (the shipped one
    signals the systemd unit): the old lines in the rotated file, the new
    ones at the path the agent recreated."""
    if subprocess.run(["which", "logrotate"], capture_output=True).returncode:
        raise Skip("logrotate is not installed (make deps installs it)")
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "deploy", "logrotate", "hydrawatch")) as f:
        snippet = f.read()
    with ExitStack() as st:
        cg = world(st, "hw-lr")
        port = free_port()
        start_server(st, "127.0.0.1", port, cg)
        trace, alerts = os.path.join(tmp, "trace.ndjson"), os.path.join(tmp, "alerts.ndjson")
        d = Daemon(tmp, "--cgroup", cg.path, "--ports", str(port), "--trace", trace, "--alerts", alerts,
                   "--listen", "off")
        st.callback(d.stop)
        conf = os.path.join(tmp, "logrotate.conf")
        check("/var/log/hydrawatch/trace.ndjson" in snippet and "systemctl kill" in snippet,
              "the snippet's paths or signal changed: %s", snippet)
        snippet = snippet.replace("/var/log/hydrawatch/trace.ndjson", trace)
        snippet = snippet.replace("/var/log/hydrawatch/alerts.ndjson", alerts)
        snippet = "\n".join("\t\tkill -HUP %d" % d.proc.pid if "systemctl kill" in l else l
                            for l in snippet.splitlines())
        with open(conf, "w") as f:
            f.write(snippet + "\n")
        one_connection(port, 2, "127.0.6.1")
        wait_for(lambda: lines_of(read_lines(trace), "conn_close"), 10, "the first connection's close line")
        r = subprocess.run(["logrotate", "-f", "-s", os.path.join(tmp, "state"), conf], capture_output=True,
                           text=True)
        check(r.returncode == 0, "logrotate: %s %s", r.stdout, r.stderr)
        wait_for(lambda: d.alive() and os.path.exists(trace), 10, "the agent to recreate the trace after the rotation")
        one_connection(port, 1, "127.0.6.2")
        wait_for(lambda: lines_of(read_lines(trace), "conn_close"), 10, "the second connection's close line")
        check(d.stop() == 0, "agent exit: %s", d.stderr())
        old, new = read_lines(trace + ".1"), read_lines(trace)
        check({l["client_ip"] for l in old} == {"127.0.6.1"} and len(old) == 4, "rotated: %s", old)
        check({l["client_ip"] for l in new[:-1]} == {"127.0.6.2"} and new[-1]["type"] == "stats",
              "new: %s", new)


def test_sighup_reloads_config(tmp):
    """SIGHUP re-reads --config: what can change while running (the alert
    stream, a detector threshold here) changes, what needs a restart (ports,
    the volume detector's bin width) is named and kept; a bad file is refused with its line
    number and the running configuration stays in force."""
    with ExitStack() as st:
        cg = world(st, "hw-reload")
        port, other, mport = free_port(), free_port(), free_port()
        start_server(st, "127.0.0.1", port, cg)
        start_server(st, "127.0.0.1", other, cg)
        conf, trace = os.path.join(tmp, "hydrawatch.conf"), os.path.join(tmp, "trace.ndjson")
        alerts = [os.path.join(tmp, "alerts-%d.ndjson" % i) for i in range(3)]

        def write_conf(*lines):
            with open(conf, "w") as f:
                f.write("# test\nports = %d\ntrace = %s\n" % (port, trace) + "".join(l + "\n" for l in lines))
        write_conf("alerts = " + alerts[0], "volume-min = 30")
        d = Daemon(tmp, "--config", conf, "--cgroup", cg.path, "--listen", "127.0.0.1:%d" % mport)
        st.callback(d.stop)
        check(os.path.exists(alerts[0]), "first alert stream not opened")

        write_conf("alerts = " + alerts[1], "volume-min = 50", "volume-interval = 30",
                   "ports = %d" % other)
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log("reloaded")
        wait_for(lambda: os.path.exists(alerts[1]), 5, "the new alert stream")
        err = d.stderr()
        taken = [l for l in err.splitlines() if "configuration reloaded" in l]
        check(taken and "--volume-min" in taken[-1] and "--alerts" in taken[-1],
              "a detector threshold not taken: %s", err)
        kept = [l for l in err.splitlines() if "needs a restart" in l or "restart" in l]
        check(kept and "--ports" in kept[-1] and "--volume-interval" in kept[-1] and
              "--volume-min" not in kept[-1], "restart-only changes not named: %s", err)

        # refused: the line that is wrong, and nothing changes
        write_conf("alerts = " + alerts[2], "volume-factor = -3")
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log("refused")
        err = d.stderr()
        check("hydrawatch.conf:5" in err and "--volume-factor" in err, "refusal does not name the line: %s", err)
        time.sleep(0.5)
        check(d.proc.poll() is None and not os.path.exists(alerts[2]), "a refused reload took effect")

        # still watching the first port only, with the second alert stream
        one_connection(port, 2, "127.0.5.1")
        one_connection(other, 2, "127.0.5.2")
        wait_for(lambda: lines_of(read_lines(trace), "conn_close"), 10, "a close line")
        # the exposition is published once a second: wait for the refusal's count
        m = wait_for(lambda: (lambda m: m if metric(m, "hydrawatch_config_reloads_total",
                                                    result="refused") else None)(scrape(mport)),
                     5, "the refused reload in /metrics")
        check(metric(m, "hydrawatch_config_reloads_total", result="applied") == 1 and
              metric(m, "hydrawatch_config_reloads_total", result="refused") == 1, "reload counters")
        check(d.stop() == 0, "agent exit: %s", d.stderr())
        closes = lines_of(read_lines(trace), "conn_close")
        check([c["client_ip"] for c in closes] == ["127.0.5.1"], "closes %s: the port changed without a restart",
              closes)


def pcap_stream(f, stop, state, limit=None):
    """Writes a raw-IP pcap of HTTP-like TCP connections to f until stop is
    set, the reader goes or limit connections are written: handshake, two
    request/response exchanges, FINs. Counts the connections in state."""
    t = 1_700_000_000 * 10**9
    srv = socket.inet_aton("10.9.0.1")

    def pkt(src, sport, dst, dport, seq, ack, flags, payload=b""):
        nonlocal t
        t += 20000
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff, 5 << 4, flags,
                          65535, 0, 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst) + tcp
        f.write(struct.pack("<IIII", t // 10**9, t % 10**9, len(ip), len(ip)) + ip)

    def connection(i):
        cli = socket.inet_aton("10.8.%d.%d" % (i // 250 % 250, i % 250 + 1))
        sport, c, s = 10000 + i % 50000, 1000, 5000
        pkt(cli, sport, srv, 8000, c, 0, 0x02)
        pkt(srv, 8000, cli, sport, s, c + 1, 0x12)
        c, s = c + 1, s + 1
        pkt(cli, sport, srv, 8000, c, s, 0x10)
        for _ in range(2):
            req = b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"
            pkt(cli, sport, srv, 8000, c, s, 0x18, req)
            c += len(req)
            pkt(srv, 8000, cli, sport, s, c, 0x18, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            s += 40
        pkt(cli, sport, srv, 8000, c, s, 0x11)
        pkt(srv, 8000, cli, sport, s, c + 1, 0x11)
        pkt(cli, sport, srv, 8000, c + 1, s + 1, 0x10)

    try:
        f.write(struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 65535, 101))  # ns stamps, LINKTYPE_RAW
        i = 0
        while not stop.is_set() and i != limit:
            connection(i)
            i += 1
            state["conns"] = i
            if i % 200 == 0:
                f.flush()
    except (BrokenPipeError, ValueError):
        pass  # the reader is gone


def test_read_stops_on_sigint(tmp):
    """--read of a large capture file, and of an endless one through a pipe
    (tcpdump -w - | hydrawatch --read -): SIGINT stops either at once, with
    the stats line (marked interrupted) and exit status 130, no error;
    SIGTERM likewise with 143."""
    big = os.path.join(tmp, "big.pcap")
    with open(big, "wb") as f:
        pcap_stream(f, threading.Event(), {}, limit=150000)  # ~2 s to read
    trace = os.path.join(tmp, "read-file.ndjson")
    proc = subprocess.Popen([AGENT, "--read", big, "--trace", trace], stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: os.path.exists(trace) and os.path.getsize(trace) > 100000, 20,
                 "the offline run to write its trace")
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stats = lines_of(read_lines(trace), "stats")
    check(rc == 130 and stats and stats[0].get("interrupted") is True and
          stats[0]["events"]["conn_open"] < 150000, "a capture file: exit %d, stats %s (%s)", rc, stats,
          proc.stderr.read())
    for sig, want in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        fifo, trace = os.path.join(tmp, "cap-%d.fifo" % sig), os.path.join(tmp, "read-%d.ndjson" % sig)
        os.mkfifo(fifo)
        err = open(fifo + ".stderr", "w")
        proc = subprocess.Popen([AGENT, "--read", fifo, "--trace", trace], stderr=err)
        stop, state = threading.Event(), {"conns": 0}
        w = open(fifo, "wb")
        writer = threading.Thread(target=lambda: pcap_stream(w, stop, state), daemon=True)
        writer.start()
        try:
            wait_for(lambda: os.path.exists(trace) and os.path.getsize(trace) > 100000, 20,
                     "the offline run to write its trace")
            proc.send_signal(sig)
            t0 = time.time()
            try:
                rc = proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                raise AssertionError("--read still running 5 s after %s, %d connections read" %
                                     (signal.Signals(sig).name, state["conns"]))
        finally:
            stop.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            try:
                w.close()
            except BrokenPipeError:
                pass
            err.close()
        with open(fifo + ".stderr") as f:
            stderr = f.read()
        check(rc == want, "%s: exit %d, want %d: %s", signal.Signals(sig).name, rc, want, stderr)
        check("cut short" not in stderr and "error reading" not in stderr, "an error reported on %s: %s",
              signal.Signals(sig).name, stderr)
        lines = read_lines(trace)
        stats = lines_of(lines, "stats")
        check(len(stats) == 1 and lines[-1] is stats[0] and stats[0].get("interrupted") is True,
              "stats line: %s", stats)
        check(stats[0]["events"]["conn_open"] < state["conns"], "read everything? %s", stats[0])
        print("    %s: stopped in %.2fs after %d connections" % (signal.Signals(sig).name, time.time() - t0,
                                                                  stats[0]["events"]["conn_open"]))


TESTS = [
    test_burst_beyond_ring_recovers,
    test_reconcile_keeps_connections_in_other_netns,
    test_kill9_leaves_nothing_attached,
    test_sighup_reopens_trace_and_alerts,
    test_logrotate_snippet_rotates,
    test_sighup_reloads_config,
    test_read_stops_on_sigint,
]

if __name__ == "__main__":
    main(TESTS)
