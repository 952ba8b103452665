"""Integration test harness: each test builds its own world (a cgroup v2
directory, hwserve servers inside or outside it, the agent watching it,
clients on loopback source addresses) and tears it down.

Tests are functions named test_*; a test that needs something the machine
lacks raises Skip with the reason. The runner prints one line per test and
a closing 'N passed, N failed, N skipped' line.
"""
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import traceback

BUILD = os.environ.get("HW_BUILD", "build")
AGENT = os.path.join(BUILD, "hydrawatch")
HWSERVE = os.path.join(BUILD, "tools", "hwserve")
HWLOAD = os.path.join(BUILD, "tools", "hwload")


class Skip(Exception):
    pass


def cgroup2_root():
    with open("/proc/mounts") as f:
        for line in f:
            dev, mnt, fstype = line.split()[:3]
            if fstype == "cgroup2":
                return mnt.replace("\\040", " ")
    raise Skip("cgroup v2 is not mounted")


def free_port(family=socket.AF_INET, low=20000):
    """A port free on loopback for both families, from a range of 10,000 a
    caller owns (the integration tests 20000-29999, the simulator 30000-)."""
    for _ in range(200):
        port = random.randint(low, low + 9999)
        ok = True
        for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            s = socket.socket(fam, socket.SOCK_STREAM)
            try:
                s.bind((addr, port))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return port
    raise RuntimeError("no free port")


class Cgroup:
    def __init__(self, name):
        self.path = os.path.join(cgroup2_root(), "%s-%d-%d" % (name, os.getpid(), random.randint(0, 1 << 30)))
        os.mkdir(self.path)

    def enter_fn(self):
        procs = os.path.join(self.path, "cgroup.procs")

        def enter():
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
        return enter

    def remove(self):
        for _ in range(100):
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.05)


class Server:
    """hwserve on ADDR:PORT, inside cgroup cg (or outside when cg is None)."""

    def __init__(self, addr, port, cg=None):
        self.addr, self.port = addr, port
        self.proc = subprocess.Popen([HWSERVE, addr, str(port)], stdout=subprocess.PIPE,
                                     preexec_fn=cg.enter_fn() if cg else None)
        line = self.proc.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError("hwserve did not start on %s:%d" % (addr, port))

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class Agent:
    """The agent with a trace file; stop() returns the parsed trace lines."""

    def __init__(self, tmpdir, *args):
        self.trace_path = os.path.join(tmpdir, "trace-%d.ndjson" % random.randint(0, 1 << 30))
        self.err_path = self.trace_path + ".stderr"
        self.err = open(self.err_path, "w")
        self.out = open(self.trace_path, "w")
        # the trace goes to stdout, as an operator would run it: --trace -
        self.proc = subprocess.Popen([AGENT, "--trace", "-"] + list(args),
                                     stdout=self.out, stderr=self.err)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("agent exited %d: %s" % (self.proc.returncode, self.stderr()))
            if "watching" in self.stderr():
                return
            time.sleep(0.05)
        raise RuntimeError("agent did not attach: " + self.stderr())

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def stop(self, settle=0.3):
        time.sleep(settle)  # let closes travel through the ring buffer
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=20)
        self.err.close()
        self.out.close()
        if rc != 0:
            raise AssertionError("agent exited %d: %s" % (rc, self.stderr()))
        with open(self.trace_path) as f:
            return [json.loads(l) for l in f if l.strip()]


class Tcpdump:
    """Records loopback (or an interface) to a pcap file, for offline checks."""

    def __init__(self, path, port, iface="lo", netns=None, filt=None):
        self.path = path
        self.err_path = path + ".stderr"
        # "or (vlan and ...)": a filter only looks inside 802.1Q tags when told;
        # "tcp" matches no IPv6 packet with extension headers (filt: another)
        cmd = ["tcpdump", "-i", iface, "-w", path, "-s", "0", "-U", "--immediate-mode", "-B", "16384",
               filt or "tcp port %d or (vlan and tcp port %d)" % (port, port)]
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(cmd, stderr=self.err)
        deadline = time.time() + 10
        while time.time() < deadline:
            with open(self.err_path) as f:
                if "listening on" in f.read():
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("tcpdump did not start: " + open(self.err_path).read())

    def stop(self):
        # tcpdump drops what it has not read yet when interrupted: wait until
        # the file stops growing, then stop it
        last, stable_since, deadline = -1, time.time(), time.time() + 10
        while time.time() < deadline:
            size = os.path.getsize(self.path) if os.path.exists(self.path) else 0
            if size != last:
                last, stable_since = size, time.time()
            elif time.time() - stable_since > 0.7:
                break
            time.sleep(0.1)
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=10)
        self.err.close()
        with open(self.err_path) as f:
            stats = f.read()
        dropped = re.search(r"(\d+) packets dropped by kernel", stats)
        if dropped and int(dropped.group(1)):
            raise AssertionError("tcpdump dropped packets: %s" % stats)
        return self.path


def run_offline(tmpdir, pcap, *args):
    """The agent over a capture file; returns the parsed trace."""
    out = os.path.join(tmpdir, "offline-%d.ndjson" % random.randint(0, 1 << 30))
    r = subprocess.run([AGENT, "--read", pcap, "--trace", out] + list(args),
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError("offline run exited %d: %s" % (r.returncode, r.stderr))
    with open(out) as f:
        return [json.loads(l) for l in f if l.strip()]


def make_key(tmpdir, name="key", content=None):
    path = os.path.join(tmpdir, name)
    with open(path, "wb") as f:
        f.write(content or os.urandom(32))
    os.chmod(path, 0o600)
    return path


def http_request(sock, method, path, body=b"", extra_headers=()):
    """Sends one request and reads its whole response (Content-Length or
    chunked). Returns (request bytes, response bytes, response body)."""
    head = "%s %s HTTP/1.1\r\nHost: hwtest\r\n" % (method, path)
    if not any(h.lower().startswith("user-agent:") for h in extra_headers):
        head += "User-Agent: hwtest/1\r\n"
    for h in extra_headers:
        head += h + "\r\n"
    if body or method == "POST":
        head += "Content-Length: %d\r\n" % len(body)
    req = head.encode() + b"\r\n" + body
    sock.sendall(req)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed mid-response")
        buf += chunk
    hend = buf.index(b"\r\n\r\n") + 4
    headers = buf[:hend].decode().lower()
    if "transfer-encoding: chunked" in headers:
        while not buf.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed mid-stream")
            buf += chunk
        return len(req), len(buf), buf[hend:]
    length = int(headers.split("content-length:")[1].split("\r\n")[0])
    while len(buf) < hend + length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed mid-body")
        buf += chunk
    return len(req), len(buf), buf[hend:]


def connect(addr, port, src=None):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    if src:
        s.bind((src, 0))
    s.connect((addr, port))
    return s


def lines_of(trace, typ):
    return [l for l in trace if l.get("type") == typ]


def check(cond, msg, *args):
    if not cond:
        raise AssertionError(msg % args if args else msg)


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def parse_metrics(text):
    """A Prometheus text exposition as {(name, frozenset(labels)): value};
    every line must be a comment or a well-formed sample."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        check(m, "malformed sample line %r", line)
        labels, body, pos = {}, m.group(2) or "", 0
        while pos < len(body):
            lm = _LABEL.match(body, pos)
            check(lm, "malformed labels in %r", line)
            labels[lm.group(1)] = re.sub(r'\\.', lambda e: _UNESCAPE[e.group(0)], lm.group(2))
            pos = lm.end()
        key = (m.group(1), frozenset(labels.items()))
        check(key not in samples, "sample twice: %r", line)
        samples[key] = float(m.group(3))
    return samples


def metric(samples, name, **labels):
    """The value of the one sample name{labels} (exactly those labels)."""
    key = (name, frozenset(labels.items()))
    check(key in samples, "no sample %s%s", name, labels or "")
    return samples[key]


def wait_for(pred, timeout, what, every=0.25):
    """pred()'s first true value within timeout seconds; errors a scrape or
    a parse may raise meanwhile count as not yet"""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = pred()
            if last:
                return last
        except (OSError, urllib.error.URLError, ValueError, KeyError) as e:
            last = e
        time.sleep(every)
    raise AssertionError("timed out after %.0f s waiting for %s (last: %r)" % (timeout, what, last))


def run(tests, prefix="hwtest-"):
    """Runs the given test functions, each in a temporary directory of its
    own (removed when it passes or skips, kept with its logs when it
    fails); returns (passed, failed, skipped)."""
    import shutil
    import tempfile
    passed = failed = skipped = 0
    only = os.environ.get("HW_TEST")
    for t in tests:
        if only and only not in t.__name__:
            continue
        tmp = tempfile.mkdtemp(prefix=prefix)
        t0 = time.time()
        try:
            t(tmp)
        except Skip as e:
            skipped += 1
            print("SKIP %s: %s" % (t.__name__, e), flush=True)
            shutil.rmtree(tmp, ignore_errors=True)
            continue
        except Exception:
            failed += 1
            print("FAIL %s (%.1fs): logs in %s" % (t.__name__, time.time() - t0, tmp), flush=True)
            traceback.print_exc(file=sys.stdout)
            continue
        passed += 1
        print("PASS %s (%.1fs)" % (t.__name__, time.time() - t0), flush=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return passed, failed, skipped


def main(tests):
    """Runs tests and exits with the closing summary line."""
    p, f, s = run(tests)
    print("integration: %d passed, %d failed, %d skipped" % (p, f, s))
    sys.exit(1 if f else 0)
