#!/usr/bin/env python3
"""Hostile HTTP through real sockets (issue 13, items 3, 4, 5 and 10): heads
a strict parser refuses but servers serve, a request disguised as the body
of a 100-continue head, duplicate JSON keys, and X-Forwarded-For values a
client makes up. Each test compares the trace's account ids with the HMAC
the agent must have computed from what the client sent (the key is the
test's), so an account that went missing, or one made of the wrong value,
fails the test."""
import hashlib
import hmac
import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack

sys.path.insert(0, os.path.dirname(__file__))
from hwtest import (main, AGENT, Agent, Cgroup, Server, check, connect, free_port,  # noqa: E402
                    lines_of, make_key, metric, parse_metrics)

KEY = b"hostile-http-test-key-0123456789"  # no trailing newline: the agent strips those


def account(kind, value):
    """The account id the agent derives: HMAC-SHA256(key, kind value), 96 bits."""
    return hmac.new(KEY, kind + value, hashlib.sha256).hexdigest()[:24]


def ip_account(addr):
    """client-ip's (and xff's) account of an address: v4-mapped bytes."""
    if ":" in addr:
        raw = socket.inet_pton(socket.AF_INET6, addr)
    else:
        raw = b"\0" * 10 + b"\xff\xff" + socket.inet_aton(addr)
    return account(b"ip:", raw)


def world(st, tmp, name, *agent_args, listen=False):
    """A cgroup, hwserve in it, and the agent watching it with KEY; returns
    (agent, port, metrics port or None)."""
    cg = Cgroup(name)
    st.callback(cg.remove)
    port = free_port()
    srv = Server("127.0.0.1", port, cg)
    st.callback(srv.stop)
    args = ["--cgroup", cg.path, "--ports", str(port), "--identity-key",
            make_key(tmp, content=KEY)] + list(agent_args)
    mport = None
    if listen:
        mport = free_port()
        args += ["--listen", "127.0.0.1:%d" % mport]
    agent = Agent(tmp, *args)

    def kill():
        if agent.proc.poll() is None:
            agent.proc.kill()
            agent.proc.wait()
    st.callback(kill)
    return agent, port, mport


def exchange(sock, raw):
    """Sends raw request bytes; reads one Content-Length response whole."""
    sock.sendall(raw)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        check(chunk, "server closed mid-response to %r", raw[:60])
        buf += chunk
    hend = buf.index(b"\r\n\r\n") + 4
    length = int(buf[:hend].lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(buf) < hend + length:
        buf += sock.recv(65536)
    return buf


def metrics_until(mport, pred, timeout=5):
    """The exposition once pred(samples) holds (it is rendered every second)."""
    deadline = time.time() + timeout
    samples = {}
    while True:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=5) as r:
                samples = parse_metrics(r.read().decode())
            if pred(samples):
                return samples
        except (AssertionError, urllib.error.URLError):
            pass  # not rendered yet (503), or not there yet
        if time.time() > deadline:
            return samples
        time.sleep(0.2)


def test_odd_heads_keep_their_account(tmp):
    """Heads that llhttp and h11 serve — a 200-character header name, obs-fold
    on another header and in the key itself, a line without a colon, empty
    lines before the request line — keep their account (the HMAC of the key
    as the server reads it), their method and model; each oddity is on the
    trace line and counted (item 3)."""
    heads = [
        # (raw request, key as the server reads it, anomaly or None)
        (b"POST /bytes?n=10 HTTP/1.1\r\nHost: h\r\nx-api-key: sk-plain\r\nContent-Length: 15\r\n\r\n"
         b'{"model":"m-1"}', b"sk-plain", None),
        (b"POST /bytes?n=10 HTTP/1.1\r\nHost: h\r\nX-" + b"L" * 200 + b": 1\r\nx-api-key: sk-long\r\n"
         b"Content-Length: 15\r\n\r\n{\"model\":\"m-1\"}", b"sk-long", "long_name"),
        (b"POST /bytes?n=10 HTTP/1.1\r\nHost: h\r\nX-Pad: a\r\n b\r\nx-api-key: sk-fold\r\n"
         b"Content-Length: 15\r\n\r\n{\"model\":\"m-1\"}", b"sk-fold", "obs_fold"),
        (b"POST /bytes?n=10 HTTP/1.1\r\nHost: h\r\nx-api-key: sk-part1\r\n\tpart2\r\n"
         b"Content-Length: 15\r\n\r\n{\"model\":\"m-1\"}", b"sk-part1 part2", "obs_fold"),
        (b"POST /bytes?n=10 HTTP/1.1\r\nHost: h\r\nthis line has no colon\r\nx-api-key: sk-bad\r\n"
         b"Content-Length: 15\r\n\r\n{\"model\":\"m-1\"}", b"sk-bad", "bad_line"),
        (b"\r\n\r\nPOST /bytes?n=10 HTTP/1.1\r\nHost: h\r\nx-api-key: sk-crlf\r\n"
         b"Content-Length: 15\r\n\r\n{\"model\":\"m-1\"}", b"sk-crlf", "leading_crlf"),
    ]
    with ExitStack() as st:
        agent, port, mport = world(st, tmp, "hw-odd", "--identity", "header:x-api-key", listen=True)
        # one connection per head, and all of them again on one keep-alive connection
        for raw, _, _ in heads:
            s = connect("127.0.0.1", port, "127.0.0.%d" % random.randint(2, 250))
            exchange(s, raw)
            s.close()
        s = connect("127.0.0.1", port)
        for raw, _, _ in heads:
            exchange(s, raw)
        s.close()
        samples = metrics_until(mport, lambda m: metric(
            m, "hydrawatch_http_anomalies_total", kind="obs_fold") == 4)
        trace = agent.stop()
    exch = sorted(lines_of(trace, "exchange"), key=lambda e: (e["client_port"], e["index"]))
    check(len(exch) == 2 * len(heads), "want %d exchange lines, got %d", 2 * len(heads), len(exch))
    by_key = {account(b"h:", k): (k, an) for _, k, an in heads}
    seen = {}
    for e in exch:
        check(e.get("account") in by_key, "exchange without the account of its key: %s", e)
        k, an = by_key[e["account"]]
        seen[k] = seen.get(k, 0) + 1
        check(e.get("method") == "POST" and e.get("model") == "m-1", "fields lost: %s", e)
        check(e.get("http_fp") != "partial", "head taken as cut: %s", e)
        check(e.get("anomalies", []) == ([an] if an else []), "anomalies %s, want %s", e, an)
    check(all(n == 2 for n in seen.values()) and len(seen) == len(heads), "accounts seen %s", seen)
    stats = lines_of(trace, "stats")[0]
    check(stats["parse_errors"]["http"] == 0, "parse errors: %s", stats["parse_errors"])
    want = {"long_name": 2, "obs_fold": 4, "bad_line": 2, "leading_crlf": 2}
    for kind, n in want.items():
        check(stats["http_anomalies"][kind] == n, "stats http_anomalies %s", stats["http_anomalies"])
        check(metric(samples, "hydrawatch_http_anomalies_total", kind=kind) == n,
              "hydrawatch_http_anomalies_total{kind=%s}", kind)
    check(sum(stats["no_account"].values()) == 0, "exchanges without an account: %s", stats["no_account"])


def test_exchanges_without_account_say_why(tmp):
    """An account the agent cannot have is counted by why: the key behind
    more padding than --capture-bytes, no key at all, a request line no one
    can read; on the trace line and in /metrics (item 3)."""
    with ExitStack() as st:
        agent, port, mport = world(st, tmp, "hw-why", "--identity", "header:x-api-key",
                                   "--capture-bytes", "256", listen=True)
        s = connect("127.0.0.1", port)
        exchange(s, b"GET /bytes?n=5 HTTP/1.1\r\nHost: h\r\nX-Pad: " + b"p" * 600
                 + b"\r\nx-api-key: sk-hidden\r\n\r\n")
        exchange(s, b"GET /bytes?n=5 HTTP/1.1\r\nHost: h\r\n\r\n")
        exchange(s, b"GET  HTTP/1.1\r\nx-api-key: sk-1\r\n\r\n")  # hwserve answers; nobody parses it
        exchange(s, b"GET /bytes?n=5 HTTP/1.1\r\nx-api-key: sk-1\r\n\r\n")
        s.close()
        samples = metrics_until(mport, lambda m: metric(
            m, "hydrawatch_exchanges_without_account_by_reason_total", reason="unparseable") == 1)
        trace = agent.stop()
    exch = sorted(lines_of(trace, "exchange"), key=lambda e: e["index"])
    check([e.get("no_account") for e in exch] == ["head_truncated", "absent", "unparseable", None],
          "no_account per exchange: %s", exch)
    check(exch[3].get("account") == account(b"h:", b"sk-1"), "the last exchange's account: %s", exch[3])
    stats = lines_of(trace, "stats")[0]
    for reason in ("head_truncated", "absent", "unparseable"):
        check(stats["no_account"][reason] == 1, "stats no_account %s", stats["no_account"])
        check(metric(samples, "hydrawatch_exchanges_without_account_by_reason_total", reason=reason) == 1,
              "hydrawatch_exchanges_without_account_by_reason_total{reason=%s}", reason)


def test_continue_fold_only_for_a_declared_body(tmp):
    """A head saying `Expect: 100-continue` without a body, then a second
    request after an empty line (RFC 9112 2.2): two requests, two exchange
    lines, two accounts — folding the second into the first hid it. And a
    lower-case request line after such a head is its own exchange too
    (item 4). The real fold still happens: a body after 100 Continue."""
    with ExitStack() as st:
        agent, port, _ = world(st, tmp, "hw-fold", "--identity", "header:x-api-key")
        s = connect("127.0.0.1", port)
        exchange(s, b"POST /bytes?n=7 HTTP/1.1\r\nHost: h\r\nx-api-key: sk-first\r\n"
                 b"Expect: 100-continue\r\nContent-Length: 0\r\n\r\n")
        exchange(s, b"\r\nPOST /bytes?n=9 HTTP/1.1\r\nHost: h\r\nx-api-key: sk-hidden\r\n\r\n")
        exchange(s, b"GET /bytes?n=7 HTTP/1.1\r\nHost: h\r\nx-api-key: sk-first\r\nExpect: 100-continue\r\n\r\n")
        exchange(s, b"get /bytes?n=11 HTTP/1.1\r\nHost: h\r\n\r\n")
        # a real body after the interim answer: one exchange
        body = b'{"model":"m-body","messages":[]}'
        s.sendall(b"POST /bytes?n=13 HTTP/1.1\r\nHost: h\r\nx-api-key: sk-first\r\n"
                  b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            interim += s.recv(1)
        check(interim.startswith(b"HTTP/1.1 100"), "interim %r", interim)
        exchange(s, body)
        s.close()
        time.sleep(0.2)
        trace = agent.stop()
    exch = sorted(lines_of(trace, "exchange"), key=lambda e: e["index"])
    check([e["index"] for e in exch] == [1, 2, 3, 4, 5], "exchange lines %s", exch)
    check([e.get("account") for e in exch[:2]] == [account(b"h:", b"sk-first"), account(b"h:", b"sk-hidden")],
          "accounts of the two requests: %s", exch[:2])
    check(exch[1].get("anomalies") == ["leading_crlf"], "second request %s", exch[1])
    check(exch[3].get("no_account") == "not_http", "lower-case request %s", exch[3])
    check(exch[4].get("model") == "m-body", "folded body %s", exch[4])
    stats = lines_of(trace, "stats")[0]
    check(stats["continued"] == 1, "continued %d, want 1", stats["continued"])
    close = lines_of(trace, "conn_close")
    check(len(close) == 1 and close[0]["exchanges"] == 5, "close %s", close)


def test_duplicate_model_takes_the_last(tmp):
    """{"model":"cheap","model":"big"} is a request for big (Python's json
    keeps the last key, pydantic too), however the key is spelled (item 5)."""
    bodies = [
        (b'{"model":"cheap","model":"big"}', "big"),
        (b'{"model":"cheap","messages":[{"role":"user","content":"hi"}],"mod\\u0065l":"big-2"}', "big-2"),
        (b'{"model":"gpt\\u002d4o"}', "gpt-4o"),
    ]
    with ExitStack() as st:
        agent, port, _ = world(st, tmp, "hw-dup", "--identity", "header:x-api-key")
        s = connect("127.0.0.1", port)
        for body, _ in bodies:
            exchange(s, b"POST /bytes?n=3 HTTP/1.1\r\nHost: h\r\nx-api-key: k\r\nContent-Length: %d\r\n\r\n"
                     % len(body) + body)
        s.close()
        trace = agent.stop()
    exch = sorted(lines_of(trace, "exchange"), key=lambda e: e["index"])
    check([e.get("model") for e in exch] == [m for _, m in bodies], "models %s", exch)
    check(exch[0].get("anomalies") == ["dup_model"], "anomalies %s", exch[0])


def test_xff_trusts_only_its_proxies(tmp):
    """--identity xff --trusted-proxies 127.0.0.1/32: a client on another
    address is its own account whatever X-Forwarded-For it invents (five
    made-up values, one account); the trusted proxy's requests are the
    right-most untrusted entry's, not the left-most the client wrote
    (item 10)."""
    with ExitStack() as st:
        agent, port, _ = world(st, tmp, "hw-xff", "--identity", "xff", "--trusted-proxies", "127.0.0.1/32")
        s = connect("127.0.0.1", port, "127.0.0.2")
        for i in range(5):
            exchange(s, b"GET /bytes?n=3 HTTP/1.1\r\nX-Forwarded-For: 198.51.100.%d\r\n\r\n" % (i + 1))
        exchange(s, b"GET /bytes?n=3 HTTP/1.1\r\nHost: h\r\n\r\n")
        s.close()
        p = connect("127.0.0.1", port, "127.0.0.1")
        # a proxy that appends the client's address to what the client wrote
        exchange(p, b"GET /bytes?n=4 HTTP/1.1\r\nX-Forwarded-For: 6.6.6.6, 203.0.113.7\r\n\r\n")
        # one that adds a line of its own after the client's (HAProxy's option forwardfor)
        exchange(p, b"GET /bytes?n=4 HTTP/1.1\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n")
        # a chain of trusted hops: past them
        exchange(p, b"GET /bytes?n=4 HTTP/1.1\r\nX-Forwarded-For: 6.6.6.6, 203.0.113.8, 127.0.0.1\r\n\r\n")
        p.close()
        trace = agent.stop()
    exch = lines_of(trace, "exchange")
    direct = [e for e in exch if e["client_ip"] == "127.0.0.2"]
    proxied = sorted([e for e in exch if e["client_ip"] == "127.0.0.1"], key=lambda e: e["index"])
    check(len(direct) == 6 and len(proxied) == 3, "exchanges %s", exch)
    check({e.get("account") for e in direct} == {ip_account("127.0.0.2")},
          "a direct client's made-up X-Forwarded-For became accounts: %s", direct)
    check([e.get("account") for e in proxied] ==
          [ip_account("203.0.113.7"), ip_account("203.0.113.7"), ip_account("203.0.113.8")],
          "proxied accounts %s", proxied)
    # a bad list is refused with what to write
    r = subprocess.run([AGENT, "--identity", "xff", "--trusted-proxies", "10.0.0.0/33"],
                       capture_output=True, text=True, timeout=20)
    check(r.returncode == 2 and "want addresses or ranges" in r.stderr, "rc %d: %s", r.returncode, r.stderr)


def test_long_keys_hashed_whole(tmp):
    """Two 900-byte keys that differ only in their last byte, within
    --capture-bytes: two accounts, each the HMAC of the whole value (a key
    cut at ~510 bytes made them one account; item 6)."""
    base = b"sk-" + b"x" * 896
    keys = [base + b"A", base + b"B"]
    with ExitStack() as st:
        agent, port, _ = world(st, tmp, "hw-longkey", "--identity", "header:x-api-key",
                               "--capture-bytes", "2048")
        s = connect("127.0.0.1", port)
        for k in keys:
            exchange(s, b"GET /bytes?n=10 HTTP/1.1\r\nHost: h\r\nx-api-key: " + k + b"\r\n\r\n")
        s.close()
        trace = agent.stop()
    got = [e.get("account") for e in lines_of(trace, "exchange")]
    check(got == [account(b"h:", k) for k in keys], "accounts %s, want the HMACs of the whole keys", got)


TESTS = [
    test_odd_heads_keep_their_account,
    test_long_keys_hashed_whole,
    test_exchanges_without_account_say_why,
    test_continue_fold_only_for_a_declared_body,
    test_duplicate_model_takes_the_last,
    test_xff_trusts_only_its_proxies,
]

if __name__ == "__main__":
    main(TESTS)
