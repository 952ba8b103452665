#!/usr/bin/env python3
"""Fingerprints, accounts and offline mode on the real kernel: real TLS and
HTTP clients, live and offline traces compared, client stacks told apart,
a planted secret that must never be written anywhere."""
import os
import random
import subprocess
import sys
import time
from contextlib import ExitStack

sys.path.insert(0, os.path.dirname(__file__))
from hwtest import (main, AGENT, Cgroup, Server, Skip, Tcpdump, check, connect, free_port,  # noqa: E402
                    http_request, lines_of, make_key, run, run_offline)
from test_dataplane import start_agent, start_server, world  # noqa: E402


def need(*tools):
    for t in tools:
        if subprocess.run(["which", t], capture_output=True).returncode:
            raise Skip("%s is not installed (make deps installs it)" % t)


def by_conn(trace):
    """(client_ip, client_port) -> {"open": line, "exchanges": [lines], "close": line}"""
    conns = {}
    for l in trace:
        if "client_port" not in l:
            continue
        c = conns.setdefault((l["client_ip"], l["client_port"]),
                             {"open": None, "exchanges": [], "close": None})
        if l["type"] == "conn_open":
            c["open"] = l
        elif l["type"] == "exchange":
            c["exchanges"].append(l)
        elif l["type"] == "conn_close":
            c["close"] = l
    return conns


EXCHANGE_KEYS = ("index", "req_bytes", "resp_bytes", "ja4", "sni", "alpn", "method", "path",
                 "http_fp", "ua_family", "model", "account")


def assert_live_equals_offline(live, offline, exchange_by_exchange=True):
    """Connection by connection. exchange_by_exchange=False compares totals and
    fingerprints only: when both sides send at once (TLS 1.3's session
    tickets cross the client's Finished), the capture point's packet order and
    the server's may cut exchanges differently, while every byte agrees."""
    lc, oc = by_conn(live), by_conn(offline)
    check(set(lc) == set(oc), "connections differ: live %s offline %s", sorted(lc), sorted(oc))
    for port, l in lc.items():
        o = oc[port]
        check(l["open"] and o["open"], "conn %s: missing conn_open", port)
        for k in ("client_ip", "server_port", "ja4t", "ttl"):
            check(l["open"].get(k) == o["open"].get(k), "conn %s %s: live %r offline %r",
                  port, k, l["open"].get(k), o["open"].get(k))
        for k in ("ja4", "sni", "alpn"):
            check(l["exchanges"][0].get(k) == o["exchanges"][0].get(k), "conn %s %s: live %r offline %r",
                  port, k, l["exchanges"][0].get(k), o["exchanges"][0].get(k))
        for k in ("bytes_in", "bytes_out"):
            check(l["close"][k] == o["close"][k], "conn %s close %s: live %r offline %r",
                  port, k, l["close"][k], o["close"][k])
        if not exchange_by_exchange:
            continue
        check(len(l["exchanges"]) == len(o["exchanges"]), "conn %s: %d live vs %d offline exchanges",
              port, len(l["exchanges"]), len(o["exchanges"]))
        for le, oe in zip(l["exchanges"], o["exchanges"]):
            for k in EXCHANGE_KEYS:
                check(le.get(k) == oe.get(k), "conn %s exchange %d %s: live %r offline %r",
                      port, le["index"], k, le.get(k), oe.get(k))
        for k in ("bytes_in", "bytes_out", "exchanges"):
            check(l["close"][k] == o["close"][k], "conn %s close %s: live %r offline %r",
                  port, k, l["close"][k], o["close"][k])


def tls_server(st, tmp, port, cg):
    key, crt = os.path.join(tmp, "k.pem"), os.path.join(tmp, "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "1", "-subj", "/CN=hwtest"], check=True, capture_output=True)
    proc = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-cert", crt,
                             "-key", key, "-www", "-quiet"], preexec_fn=cg.enter_fn(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    st.callback(proc.wait)
    st.callback(proc.kill)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            connect("127.0.0.1", port).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("openssl s_server did not start")


def s_client(port, *args):
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port] + list(args),
                       input="GET / HTTP/1.0\r\n\r\n", capture_output=True, text=True, timeout=20)
    check("BEGIN CERTIFICATE" in r.stdout or "Server certificate" in r.stdout,
          "s_client %s failed: %s", args, r.stderr[-300:])


def test_tls_clients_live_and_offline(tmp):
    """openssl s_client (two settings), curl and Node.js: each gets a JA4,
    SNI and ALPN live, and the capture of the same traffic gives the same."""
    need("openssl", "curl", "node", "tcpdump")
    with ExitStack() as st:
        cg = world(st, "hw-tls")
        port = free_port()
        key = make_key(tmp)
        tls_server(st, tmp, port, cg)
        dump = Tcpdump(os.path.join(tmp, "tls.pcap"), port)
        st.callback(lambda: dump.proc.poll() is None and dump.stop())
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port), "--identity-key", key)
        s_client(port, "-servername", "api.example.com", "-alpn", "h2,http/1.1")
        s_client(port, "-servername", "api.example.com", "-alpn", "http/1.1", "-tls1_2",
                 "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")
        subprocess.run(["curl", "-sk", "--http1.1", "-o", "/dev/null",
                        "https://localhost:%d/" % port], check=True, timeout=20)
        subprocess.run(["node", "-e", """
const https = require('https');
https.get({host: '127.0.0.1', port: %d, servername: 'node.example', path: '/',
           rejectUnauthorized: false, headers: {Connection: 'close'}},
          r => { r.resume(); r.on('end', () => process.exit(0)); })
     .on('error', e => { console.error(e); process.exit(1); });""" % port],
                       check=True, timeout=20)
        live = agent.stop(settle=0.5)
        pcap = dump.stop()
        offline = run_offline(tmp, pcap, "--ports", str(port), "--identity-key", key)

    conns = by_conn(live)
    check(len(conns) == 4, "want 4 TLS connections, got %d", len(conns))
    first = [c["exchanges"][0] for c in sorted(conns.values(), key=lambda c: c["open"]["ts_ns"])]
    for e in first:
        check(e.get("ja4", "").startswith("t1"), "no JA4 on %s", e)
    ja4s = [e["ja4"] for e in first]
    print("    JA4: s_client h2 %s, s_client tls1.2 %s, curl %s, node %s" % tuple(ja4s))
    check(first[0]["sni"] == "api.example.com" and first[0]["alpn"] == "h2,http/1.1", "s_client: %s", first[0])
    check(ja4s[0][3] == "d" and ja4s[0][8:10] == "h2", "s_client JA4 a-section %s", ja4s[0])
    # OpenSSL adds the renegotiation SCSV (00ff), which JA4 counts as a cipher
    check(ja4s[1][1:3] == "12" and ja4s[1][8:10] == "h1" and ja4s[1][4:6] == "02",
          "TLS 1.2, one cipher + SCSV, http/1.1 should read t12d02..h1: %s", ja4s[1])
    check(ja4s[0] != ja4s[1], "different cipher/ALPN settings gave the same JA4")
    check(first[2]["sni"] == "localhost", "curl SNI %s", first[2].get("sni"))
    check(first[3]["sni"] == "node.example", "node SNI %s", first[3].get("sni"))
    check(len(set(ja4s)) >= 3, "JA4s of different stacks should differ: %s", ja4s)
    # encrypted exchanges after the handshake carry the connection's JA4 too
    for c in conns.values():
        for e in c["exchanges"]:
            check(e.get("ja4") == c["exchanges"][0]["ja4"], "exchange without its conn JA4: %s", e)
    stats = lines_of(live, "stats")[0]
    check(stats["parse_errors"]["tls"] == 0, "TLS parse errors: %s", stats["parse_errors"])
    assert_live_equals_offline(live, offline, exchange_by_exchange=False)


def test_http_live_offline_and_planted_secret(tmp):
    """Accounts from a header: stable under one key file, different under
    another, equal live and offline; the raw key is written nowhere."""
    need("tcpdump")
    secret = "sk-planted-%016x" % random.getrandbits(64)
    other = "sk-other-%016x" % random.getrandbits(64)
    with ExitStack() as st:
        cg = world(st, "hw-ident")
        port = free_port()
        key1, key2 = make_key(tmp, "key1"), make_key(tmp, "key2")
        start_server(st, "127.0.0.1", port, cg)
        dump = Tcpdump(os.path.join(tmp, "http.pcap"), port)
        st.callback(lambda: dump.proc.poll() is None and dump.stop())

        def traffic():
            for k, n in ((secret, 3), (other, 2)):
                s = connect("127.0.0.1", port, "127.0.0.%d" % random.randint(2, 250))
                for i in range(n):
                    body = b'{"model":"distill-%d","messages":[{"role":"user","content":"q"}]}' % i
                    http_request(s, "POST", "/bytes?n=%d&key=%s" % (300 + i, k), body,
                                 ["X-Api-Key: " + k, "Content-Type: application/json",
                                  "User-Agent: OpenAI/Python 1.40.0"])
                s.close()

        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port),
                            "--identity", "header:x-api-key", "--identity-key", key1)
        traffic()
        live1 = agent.stop()
        pcap = dump.stop()
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port),
                            "--identity", "header:x-api-key", "--identity-key", key1)
        traffic()
        live2 = agent.stop()
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port),
                            "--identity", "header:x-api-key", "--identity-key", key2)
        traffic()
        live3 = agent.stop()
        offline = run_offline(tmp, pcap, "--ports", str(port), "--identity", "header:x-api-key",
                              "--identity-key", key1)

    def accounts(trace):
        ex = lines_of(trace, "exchange")
        check(all("account" in e for e in ex), "exchange without account: %s", ex)
        return [e["account"] for e in sorted(ex, key=lambda e: e["start_ns"])]

    a1, a2, a3 = accounts(live1), accounts(live2), accounts(live3)
    check(len(a1) == 5 and len(set(a1[:3])) == 1 and len(set(a1[3:])) == 1 and a1[0] != a1[3],
          "same key must give one account, two keys two: %s", a1)
    check(a1 == a2, "same key file, restarted agent: %s vs %s", a1, a2)
    check(set(a1).isdisjoint(a3), "another key file must give other ids: %s vs %s", a1, a3)
    ex = lines_of(live1, "exchange")
    check(all(e.get("model", "").startswith("distill-") and e["path"] == "/bytes" and
              e["ua_family"] == "openai-python" for e in ex), "http fields: %s", ex[0])
    assert_live_equals_offline(live1, offline)
    # the secret: nowhere in what the agent wrote (its traces and its logs)
    leaks = []
    for root, _, files in os.walk(tmp):
        for f in files:
            if f.endswith(".pcap"):
                continue  # tcpdump's capture, not the agent's output
            with open(os.path.join(root, f), "rb") as fh:
                if secret.encode() in fh.read():
                    leaks.append(f)
    check(not leaks, "the planted key appears in %s", leaks)


def test_ja4t_tells_tcp_stacks_apart(tmp):
    """Clients in network namespaces with timestamps, SACK and window
    scaling switched off send a different SYN: a different JA4T."""
    pid = os.getpid()
    ns_a, ns_b = "hwja4ta-%d" % pid, "hwja4tb-%d" % pid
    if subprocess.run(["ip", "netns", "add", ns_a], capture_output=True).returncode:
        raise Skip("cannot create network namespaces")
    sh = lambda *c: subprocess.run(list(c), check=True, capture_output=True)  # noqa: E731
    with ExitStack() as st:
        st.callback(subprocess.run, ["ip", "netns", "del", ns_a])
        sh("ip", "netns", "add", ns_b)
        st.callback(subprocess.run, ["ip", "netns", "del", ns_b])
        for i, ns in enumerate((ns_a, ns_b)):
            host, peer = "hwt%d%da" % (pid % 1000, i), "hwt%d%db" % (pid % 1000, i)
            sh("ip", "link", "add", host, "type", "veth", "peer", "name", peer)
            st.callback(subprocess.run, ["ip", "link", "del", host], capture_output=True)
            sh("ip", "link", "set", peer, "netns", ns)
            sh("ip", "addr", "add", "169.254.%d.1/30" % (80 + i), "dev", host)
            sh("ip", "link", "set", host, "up")
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", "169.254.%d.2/30" % (80 + i), "dev", peer)
            sh("ip", "netns", "exec", ns, "ip", "link", "set", peer, "up")
        for knob in ("tcp_timestamps", "tcp_sack", "tcp_window_scaling"):
            sh("ip", "netns", "exec", ns_b, "sysctl", "-qw", "net.ipv4.%s=0" % knob)
        cg = world(st, "hw-ja4t")
        port = free_port()
        start_server(st, "0.0.0.0", port, cg)
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port))
        for i, ns in enumerate((ns_a, ns_b)):
            sh("ip", "netns", "exec", ns, "curl", "-s", "-o", "/dev/null",
               "http://169.254.%d.1:%d/bytes?n=10" % (80 + i, port))
        trace = agent.stop()
    opens = {o["client_ip"]: o for o in lines_of(trace, "conn_open")}
    a, b = opens.get("169.254.80.2"), opens.get("169.254.81.2")
    check(a and b and a.get("ja4t") and b.get("ja4t"), "missing JA4T: %s", opens)
    print("    JA4T default %s, stripped %s" % (a["ja4t"], b["ja4t"]))
    check(a["ja4t"] != b["ja4t"], "same JA4T for different stacks: %s", a["ja4t"])
    kinds_b = b["ja4t"].split("_")[1].split("-")
    check(not {"3", "4", "8"} & set(kinds_b), "stripped stack still offers WS/SACK/TS: %s", b["ja4t"])
    check(b["ja4t"].endswith("_00"), "no window scaling: the last field is 00: %s", b["ja4t"])
    check(a["ttl"] == 64 and b["ttl"] == 64, "TTLs %s %s", a["ttl"], b["ttl"])


def test_offline_ipv6_and_midstream(tmp):
    """IPv6 (with BIG TCP's jumbo packets on loopback) offline equals live;
    a capture that starts mid-stream, without the SYNs, still yields every
    later exchange byte for byte."""
    need("tcpdump")
    with ExitStack() as st:
        cg = world(st, "hw-off6")
        port = free_port()
        key = make_key(tmp)
        start_server(st, "::", port, cg)
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port), "--identity-key", key)
        full = Tcpdump(os.path.join(tmp, "v6.pcap"), port)
        st.callback(lambda: full.proc.poll() is None and full.stop())
        socks = [connect("::1", port) for _ in range(3)]
        for s in socks:
            http_request(s, "POST", "/bytes?n=150000", b"b" * 3000)
        mid = Tcpdump(os.path.join(tmp, "mid.pcap"), port)
        st.callback(lambda: mid.proc.poll() is None and mid.stop())
        want = {}
        for s in socks:
            want[("::1", s.getsockname()[1])] = [http_request(s, "GET", "/bytes?n=%d" % n)[:2]
                                        for n in (10, 70000, 200000)]
        for s in socks:
            s.close()
        live = agent.stop()
        offline = run_offline(tmp, full.stop(), "--ports", str(port), "--identity-key", key)
        midstream = run_offline(tmp, mid.stop(), "--ports", str(port), "--identity-key", key)
    assert_live_equals_offline(live, offline)
    conns = by_conn(midstream)
    check(set(conns) == set(want), "mid-stream flows %s, want %s", sorted(conns), sorted(want))
    for port_, c in conns.items():
        check(c["open"].get("adopted") and "ja4t" not in c["open"], "mid-stream open: %s", c["open"])
        got = [(e["req_bytes"], e["resp_bytes"]) for e in c["exchanges"]]
        check(got == want[port_], "mid-stream conn %s: %s, want %s", port_, got, want[port_])


def vlan_tag_pcap(src, dst, vids):
    """Rewrites an Ethernet pcap with 802.1Q (and, for two ids, 802.1ad
    QinQ) tags after the MAC addresses: this kernel has no 8021q module to
    tag real traffic, so the test tags a real capture instead."""
    import struct
    with open(src, "rb") as f:
        data = f.read()
    magic = data[:4]
    end = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    check(struct.unpack(end + "I", data[20:24])[0] == 1, "not an Ethernet capture")
    tags = b""
    for i, vid in enumerate(vids):
        tpid = 0x88a8 if i == 0 and len(vids) > 1 else 0x8100
        tags += struct.pack("!HH", tpid, vid)
    out, pos = [data[:24]], 24
    while pos + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(end + "IIII", data[pos:pos + 16])
        frame = data[pos + 16:pos + 16 + incl]
        frame = frame[:12] + tags + frame[12:]
        out.append(struct.pack(end + "IIII", sec, frac, incl + len(tags), orig + len(tags)) + frame)
        pos += 16 + incl
    with open(dst, "wb") as f:
        f.write(b"".join(out))
    return dst


def test_offline_vlan_tagged(tmp):
    """VLAN-tagged (802.1Q, and QinQ) captures read through to the same
    result as the untagged capture of the same traffic."""
    need("tcpdump")
    with ExitStack() as st:
        cg = world(st, "hw-vlan")
        port = free_port()
        key = make_key(tmp)
        start_server(st, "127.0.0.1", port, cg)
        dump = Tcpdump(os.path.join(tmp, "plain.pcap"), port)
        st.callback(lambda: dump.proc.poll() is None and dump.stop())
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port), "--identity-key", key)
        s = connect("127.0.0.1", port, "127.0.0.77")
        for n in (100, 5000, 90000):
            http_request(s, "GET", "/bytes?n=%d" % n)
        s.close()
        live = agent.stop()
        plain = dump.stop()
    for vids in ([7], [100, 7]):
        tagged = vlan_tag_pcap(plain, os.path.join(tmp, "vlan%d.pcap" % len(vids)), vids)
        out = subprocess.run(["tcpdump", "-r", tagged, "-e", "-n", "-c", "1"],
                             capture_output=True, text=True).stdout
        check("vlan 7" in out, "the rewritten capture has no VLAN tag: %s", out)
        offline = run_offline(tmp, tagged, "--ports", str(port), "--identity-key", key)
        check(len(lines_of(offline, "exchange")) == 3, "tagged %s: %s", vids, offline)
        assert_live_equals_offline(live, offline)


def test_garbage_is_counted_not_fatal(tmp):
    """Garbage, truncated heads and broken ClientHellos on a watched port:
    counted as parse errors, the agent keeps running and exits cleanly."""
    with ExitStack() as st:
        cg = world(st, "hw-garbage")
        port = free_port()
        start_server(st, "127.0.0.1", port, cg)
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port))
        payloads = [
            b"\x16\x03\x01\x00\x30\x01\x00\x00\x2c\x03\x03" + os.urandom(16),   # hello cut short
            b"\x16\x03\x01\x00\x08\x02\x00\x00\x04\x03\x03\x00\x00",            # not a ClientHello
            b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",                               # bad version
            b"GET  HTTP/1.1\r\n\r\n",                                          # no target
            b"POST /x HTTP/1.1\r\nBad Header\r\n\r\n",                          # no colon: skipped, counted
            b"GET /" + b"a" * 3000 + b" HTTP/1.1\r\n\r\n",                      # head past the capture
        ] + [os.urandom(random.randint(1, 2000)) for _ in range(20)]
        for p in payloads:
            s = connect("127.0.0.1", port)
            s.sendall(p)
            time.sleep(0.01)
            s.close()
        trace = agent.stop()
    stats = lines_of(trace, "stats")[0]
    pe = stats["parse_errors"]
    print("    parse errors: %s" % pe)
    check(pe["tls"] >= 2 and pe["http"] >= 2, "malformed input not counted: %s", pe)
    # a header line servers refuse is skipped, the head kept, the oddity counted
    check(stats["http_anomalies"]["bad_line"] >= 1, "anomalies: %s", stats["http_anomalies"])
    check(len(lines_of(trace, "exchange")) == len(payloads), "every payload is still an exchange")


TESTS = [
    test_tls_clients_live_and_offline,
    test_http_live_offline_and_planted_secret,
    test_ja4t_tells_tcp_stacks_apart,
    test_offline_ipv6_and_midstream,
    test_offline_vlan_tagged,
    test_garbage_is_counted_not_fatal,
]

if __name__ == "__main__":
    main(TESTS)
