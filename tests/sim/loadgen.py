#!/usr/bin/env python3
"""The simulator's load generator: runs a scenario's plan against the mock
inference server and writes what it did.

  loadgen.py --scenario NAME|FILE --port PORT --out DIR [--start-at UNIX_S]
             [--scale X] [--duration S] [--host 127.0.0.1]

Raw clients (Python asyncio, HTTP/1.1 with each tool's header set and
order, plain or TLS with each TLS stack's settings) run in this process; the
populations driven by the real openai npm client run in one node process
(sdkpop.js) that gets its accounts and schedule as a JSON file. Writes, in
DIR: requests.ndjson (one line per request: account, scheduled and real
times, outcome, bytes), groundtruth.json (per account: label, population,
key, source addresses, first request time) and generator.json (intended
against achieved rates, lateness, errors).
"""
import argparse
import asyncio
import json
import os
import random
import resource
import signal
import ssl
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario as scn  # noqa: E402
from simlib import HERE, load_scenario  # noqa: E402

# --- client tooling: header sets in wire order ------------------------------
# {host} {key} {len} {ua_ver} are filled per request; "endpoint" is the API
# style; "close" opens a connection per request; "idle" is how long a
# keep-alive connection may idle before the client drops it (its pool's
# expiry), "tls" the TLS stack it uses when the server speaks TLS.
TOOLS = {
    "openai-python": {
        "endpoint": "openai", "idle": 5.0, "tls": "py-default",
        "ua": ["OpenAI/Python 1.35.15", "OpenAI/Python 1.40.0", "OpenAI/Python 1.42.0",
               "OpenAI/Python 1.51.2"],
        "headers": ["Host: {host}", "Accept-Encoding: gzip, deflate", "Connection: keep-alive",
                    "Accept: application/json", "Content-Type: application/json", "User-Agent: {ua}",
                    "X-Stainless-Lang: python", "X-Stainless-Package-Version: {ua_ver}",
                    "X-Stainless-OS: Linux", "X-Stainless-Arch: x64", "X-Stainless-Runtime: CPython",
                    "X-Stainless-Runtime-Version: 3.11.7", "Authorization: Bearer {key}",
                    "X-Stainless-Async: false", "x-stainless-retry-count: 0", "x-api-key: {key}",
                    "Content-Length: {len}"]},
    "anthropic-python": {
        "endpoint": "anthropic", "idle": 5.0, "tls": "py-default",
        "ua": ["Anthropic/Python 0.34.2", "Anthropic/Python 0.36.0"],
        "headers": ["Host: {host}", "Accept-Encoding: gzip, deflate", "Connection: keep-alive",
                    "Accept: application/json", "Content-Type: application/json", "User-Agent: {ua}",
                    "X-Stainless-Lang: python", "X-Stainless-Package-Version: {ua_ver}",
                    "X-Stainless-OS: Linux", "X-Stainless-Arch: x64", "X-Stainless-Runtime: CPython",
                    "X-Stainless-Runtime-Version: 3.11.7", "x-api-key: {key}",
                    "anthropic-version: 2023-06-01", "x-stainless-retry-count: 0",
                    "Content-Length: {len}"]},
    "python-requests": {
        "endpoint": "openai", "idle": 60.0, "tls": "py-default",
        "ua": ["python-requests/2.31.0", "python-requests/2.32.3"],
        "headers": ["Host: {host}", "User-Agent: {ua}", "Accept-Encoding: gzip, deflate",
                    "Accept: */*", "Connection: keep-alive", "Authorization: Bearer {key}",
                    "x-api-key: {key}", "Content-Type: application/json", "Content-Length: {len}"]},
    "python-httpx": {
        "endpoint": "openai", "idle": 5.0, "tls": "py-h2",
        "ua": ["python-httpx/0.27.0"],
        "headers": ["Host: {host}", "Accept: */*", "Accept-Encoding: gzip, deflate",
                    "Connection: keep-alive", "User-Agent: {ua}", "x-api-key: {key}",
                    "Content-Length: {len}", "Content-Type: application/json"]},
    "curl": {
        "endpoint": "openai", "close": True, "tls": "openssl-default",
        "ua": ["curl/7.88.1", "curl/8.5.0"],
        "headers": ["Host: {host}", "User-Agent: {ua}", "Accept: */*",
                    "Authorization: Bearer {key}", "x-api-key: {key}",
                    "Content-Type: application/json", "Content-Length: {len}"]},
    # custom scrapers, the kind a farm writes for itself
    "scraper-aiohttp": {
        "endpoint": "openai", "idle": 30.0, "tls": "py-tls12-ecdhe",
        "ua": ["Python/3.11 aiohttp/3.9.5"],
        "headers": ["Host: {host}", "User-Agent: {ua}", "x-api-key: {key}",
                    "Authorization: Bearer {key}", "Accept: */*", "Accept-Encoding: gzip, deflate",
                    "Content-Type: application/json", "Content-Length: {len}"]},
    "scraper-go": {
        "endpoint": "openai", "idle": 90.0, "tls": "py-noticket-chacha",
        "ua": ["Go-http-client/1.1"],
        "headers": ["Host: {host}", "User-Agent: {ua}", "Content-Length: {len}",
                    "Authorization: Bearer {key}", "Content-Type: application/json",
                    "X-Api-Key: {key}", "Accept-Encoding: gzip"]},
    "scraper-harvester": {
        "endpoint": "openai", "close": True, "tls": "py-tls12-ecdhe",
        "ua": ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/124.0.0.0 Safari/537.36"],
        "headers": ["Host: {host}", "Content-Type: application/json", "x-api-key: {key}",
                    "User-Agent: {ua}", "Accept: text/event-stream", "Content-Length: {len}"]},
    "scraper-anthropic": {
        "endpoint": "anthropic", "idle": 30.0, "tls": "py-tls12-ecdhe",
        "ua": ["Python/3.11 aiohttp/3.9.5"],
        "headers": ["Host: {host}", "User-Agent: {ua}", "x-api-key: {key}",
                    "anthropic-version: 2023-06-01", "Accept: */*", "Content-Type: application/json",
                    "Content-Length: {len}"]},
}

# --- TLS client stacks: each a different ClientHello, so a different JA4 ----
TLS_STACKS = {
    # Python's default client context, ALPN http/1.1, SNI
    "py-default": {"alpn": ["http/1.1"], "sni": True},
    # httpx with http2 on: offers h2 first
    "py-h2": {"alpn": ["h2", "http/1.1"], "sni": True},
    # a hand-rolled client: TLS 1.2 only, three ECDHE-ECDSA suites, no ALPN
    "py-tls12-ecdhe": {"alpn": None, "sni": True, "max": "1.2",
                       "ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                                  "ECDHE-ECDSA-CHACHA20-POLY1305"},
    # no session tickets, ChaCha first, ALPN http/1.1
    "py-noticket-chacha": {"alpn": ["http/1.1"], "sni": True, "no_ticket": True,
                           "ciphers": "ECDHE+CHACHA20:ECDHE+AESGCM"},
    # like openssl s_client / curl on OpenSSL defaults: DEFAULT ciphers, no SNI for an IP
    "openssl-default": {"alpn": None, "sni": False, "ciphers": "DEFAULT"},
}
SNI = "api.sim.test"


def tls_context(name):
    st = TLS_STACKS[name]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if st.get("ciphers"):
        ctx.set_ciphers(st["ciphers"])
    if st.get("max") == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if st.get("no_ticket"):
        ctx.options |= ssl.OP_NO_TICKET
    if st.get("alpn"):
        ctx.set_alpn_protocols(st["alpn"])
    return ctx


# --- request bodies ------------------------------------------------------------
_WORDS = ("the quick brown fox jumps over a lazy dog while analysts review quarterly figures "
          "and engineers translate documents into several languages for careful evaluation "
          "summarise classify extract rewrite explain answer compare list describe").split()


def _corpus():
    r = random.Random(7)
    return " ".join(r.choice(_WORDS) for _ in range(20000))


CORPUS = _corpus()
TEMPLATE = ("You are a translation engine. Translate the following passage into French, keep "
            "the formatting, answer with the translation only. Passage: ")


def prompt_text(n, templated, rng):
    if templated:
        fill = max(0, n - len(TEMPLATE))
        off = rng.randrange(0, len(CORPUS) - fill - 1)
        return (TEMPLATE + CORPUS[off:off + fill])[:max(n, 1)]
    off = rng.randrange(0, len(CORPUS) - n - 1)
    return CORPUS[off:off + n]


def request_body(endpoint, model, text, max_tokens, stream):
    # model first: the agent reads it from the first captured bytes, as
    # SDKs put it (keyword order) in practice
    b = {"model": model}
    if endpoint == "anthropic":
        b["max_tokens"] = max_tokens or 256
        b["messages"] = [{"role": "user", "content": text}]
    else:
        b["messages"] = [{"role": "system", "content": "You are a helpful assistant."},
                         {"role": "user", "content": text}]
        if max_tokens is not None:
            b["max_tokens"] = max_tokens
    if stream:
        b["stream"] = True
    return json.dumps(b).encode()


# --- HTTP/1.1 over asyncio streams -------------------------------------------------

class Conn:
    def __init__(self, reader, writer, src, tool):
        self.r, self.w, self.src, self.tool = reader, writer, src, tool
        self.last = time.monotonic()

    def close(self):
        try:
            self.w.close()
        except Exception:
            pass


async def read_response(r):
    """Reads one response whole; returns (status, bytes, complete)."""
    head = await r.readuntil(b"\r\n\r\n")
    n = len(head)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdr = {}
    for l in lines[1:]:
        if ":" in l:
            k, v = l.split(":", 1)
            hdr[k.strip().lower()] = v.strip()
    if hdr.get("transfer-encoding", "").lower() == "chunked":
        tail = b""
        while True:
            size_line = await r.readuntil(b"\r\n")
            n += len(size_line)
            size = int(size_line.split(b";")[0], 16)
            data = await r.readexactly(size + 2)
            n += len(data)
            if size == 0:
                break
            tail = (tail + data[:-2])[-64:]
        complete = b"[DONE]" in tail or b"message_stop" in tail
        return status, n, complete
    length = int(hdr.get("content-length", "0"))
    if length:
        await r.readexactly(length)
    return status, n + length, True


class Generator:
    def __init__(self, plan, host, port, start_at, out):
        self.plan, self.host, self.port, self.out = plan, host, port, out
        self.start_at = start_at
        self.tls = plan["tls"]
        self.ctx = {}
        self.records = []
        self.wave_stats = {}
        self.pops = {p["name"]: p for p in plan["populations"]}
        self.accts = plan["accounts"]
        self.busy = {}
        self.queues = {}
        self.host_hdr = "%s:%d" % (host, port)
        self.node_proc, self.node_stop = None, False

    def rel(self):
        return time.time() - self.start_at

    async def sleep_until(self, t_rel):
        d = t_rel - self.rel()
        if d > 0:
            await asyncio.sleep(d)

    async def open(self, src, tool):
        kw = {"local_addr": (src, 0)}
        if self.tls:
            stack = TOOLS[tool]["tls"]
            if stack not in self.ctx:
                self.ctx[stack] = tls_context(stack)
            kw["ssl"] = self.ctx[stack]
            kw["server_hostname"] = SNI if TLS_STACKS[stack]["sni"] else ""
        r, w = await asyncio.open_connection(self.host, self.port, limit=1 << 20, **kw)
        return Conn(r, w, src, tool)

    async def do_request(self, acct, conn_slot, req, sched):
        """One request; conn_slot is a one-element list holding the worker's
        connection (reused while the tool's policy allows)."""
        t, model, plen, max_tokens, stream, src, tool = req
        tdef = TOOLS[tool]
        rng = random.Random(acct["rng_seed"] ^ zlib.crc32(repr((t, plen)).encode()))
        templated = (self.pops[acct["population"]]["spec"].get("prompt", {}).get("dist") == "template")
        body = request_body(tdef["endpoint"], model, prompt_text(plen, templated, rng), max_tokens,
                            stream)
        ua = tdef["ua"][acct["index"] % len(tdef["ua"])]
        head = ["POST %s HTTP/1.1" % ("/v1/messages" if tdef["endpoint"] == "anthropic"
                                       else "/v1/chat/completions")]
        for h in tdef["headers"]:
            head.append(h.format(host=self.host_hdr, key=acct["key"], len=len(body), ua=ua,
                                 ua_ver=ua.rsplit(" ", 1)[-1]))
        data = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        c = conn_slot[0]
        now = time.monotonic()
        if c and (c.src != src or c.tool != tool or now - c.last > tdef.get("idle", 1e9)):
            c.close()
            c = conn_slot[0] = None
        rec = {"a": acct["index"], "sched": sched, "src": src, "tool": tool, "model": model,
               "stream": bool(stream), "req_bytes": len(data)}
        rec["start_ns"] = time.time_ns()
        try:
            if c is None:
                c = conn_slot[0] = await self.open(src, tool)
            c.w.write(data)
            await c.w.drain()
            status, nresp, complete = await asyncio.wait_for(read_response(c.r), 300)
            rec.update(status=status, resp_bytes=nresp, ok=status == 200 and complete)
        except Exception as e:  # recorded, never hidden: the evaluation counts them
            rec.update(ok=False, err="%s: %s" % (type(e).__name__, e))
            if c:
                c.close()
            conn_slot[0] = None
        rec["end_ns"] = time.time_ns()
        if conn_slot[0] is not None:
            conn_slot[0].last = time.monotonic()
            if tdef.get("close"):
                conn_slot[0].close()
                conn_slot[0] = None
        self.records.append(rec)

    async def scheduled_worker(self, acct, reqs):
        slot = [None]
        for req in reqs:
            await self.sleep_until(req[0])
            await self.do_request(acct, slot, req, req[0])
        if slot[0]:
            slot[0].close()

    async def wave_worker(self, acct):
        slot = [None]
        q = self.queues[acct["index"]]
        rng = random.Random(acct["rng_seed"])
        pop = self.pops[acct["population"]]
        while True:
            t = await q.get()
            if t is None:
                break
            now = max(self.rel(), t)
            req = scn.request_params(pop, acct, now, rng)
            await self.do_request(acct, slot, req, t)
            self.busy[acct["index"]] = False
        if slot[0]:
            slot[0].close()

    async def dispatcher(self, pop):
        """Every `every` seconds (divided by the rate profile's multiplier) a
        wave: fraction x active accounts among the free ones, each sent
        within `burst` seconds."""
        arr = pop["spec"]["arrival"]
        warp = scn.Warp(pop["spec"].get("rate_profile"))
        rng = random.Random(zlib.crc32(pop["name"].encode()))
        st = self.wave_stats[pop["name"]] = {"waves": 0, "wanted": 0, "sent": 0}
        t = pop["start"] + arr.get("offset", 0.0)
        loop = asyncio.get_running_loop()
        while t < pop["end"]:
            await self.sleep_until(t)
            active = [a for a in pop["accounts"]
                      if self.accts[a]["start"] <= t < self.accts[a]["end"]]
            want = int(round(arr.get("fraction", 1.0) * len(active)))
            free = [a for a in active if not self.busy.get(a)]
            chosen = rng.sample(free, min(want, len(free)))
            st["waves"] += 1
            st["wanted"] += want
            st["sent"] += len(chosen)
            for a in chosen:
                self.busy[a] = True
                when = t + rng.uniform(0, arr.get("burst", 0.5))
                loop.call_later(max(0.0, when - self.rel()), self.queues[a].put_nowait, when)
            t += arr["every"] / warp.mult(t)
        await asyncio.sleep(arr.get("burst", 0.5) + 0.05)
        for a in pop["accounts"]:
            self.queues[a].put_nowait(None)

    async def run_raw(self):
        tasks = []
        for pop in self.plan["populations"]:
            if pop["driver"] != "raw":
                continue
            for ai in pop["accounts"]:
                acct = self.accts[ai]
                if pop["process"] == "waves":
                    self.queues[ai] = asyncio.Queue()
                    tasks.append(asyncio.create_task(self.wave_worker(acct)))
                else:
                    k = acct["concurrency"]
                    for w in range(k):
                        reqs = acct["schedule"][w::k]
                        if reqs:
                            tasks.append(asyncio.create_task(self.scheduled_worker(acct, reqs)))
            if pop["process"] == "waves":
                tasks.append(asyncio.create_task(self.dispatcher(pop)))
        if tasks:
            await asyncio.gather(*tasks)

    def node_plan(self):
        accts, reqs = [], []
        for pop in self.plan["populations"]:
            if pop["driver"] != "node-openai":
                continue
            for ai in pop["accounts"]:
                acct = self.accts[ai]
                accts.append({"index": ai, "key": acct["key"], "concurrency": acct["concurrency"]})
                templated = pop["spec"].get("prompt", {}).get("dist") == "template"
                rng = random.Random(acct["rng_seed"])
                for r in acct["schedule"]:
                    t, model, plen, max_tokens, stream, src, tool = r
                    reqs.append([t, ai, model, prompt_text(plen, templated, rng), max_tokens,
                                 bool(stream), src])
        reqs.sort()
        return {"base_url": "%s://%s:%d/v1" % ("https" if self.tls else "http", self.host, self.port),
                "start_at": self.start_at, "accounts": accts, "requests": reqs}

    async def run_node(self):
        plan = self.node_plan()
        if not plan["accounts"]:
            return
        path = os.path.join(self.out, "node-plan.json")
        with open(path, "w") as f:
            json.dump(plan, f)
        # a thread with a plain Popen, not asyncio's child watcher (whose
        # waitpid race reported a node that exited 0 as 255)
        rc = await asyncio.get_running_loop().run_in_executor(None, self.node_blocking, path)
        if rc != 0:
            raise RuntimeError("node SDK population exited %d (see node.stderr)" % rc)

    def node_blocking(self, path):
        with open(os.path.join(self.out, "node.stderr"), "w") as err:
            proc = subprocess.Popen(["node", os.path.join(HERE, "sdkpop.js"), path], stdout=subprocess.PIPE,
                                    stderr=err, cwd=HERE)
            self.node_proc = proc
            try:
                for line in proc.stdout:
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if "a" in rec:
                        self.records.append(rec)
            finally:
                if proc.poll() is None and self.node_stop:
                    proc.kill()
                return proc.wait()

    async def main(self):
        await asyncio.gather(self.run_raw(), self.run_node())


def summarize(plan, gen, wall):
    """generator.json: per population intended vs achieved, lateness, errors."""
    by_acct = {}
    for r in gen.records:
        by_acct.setdefault(r["a"], []).append(r)
    pops = []
    for pop in plan["populations"]:
        recs = [r for a in pop["accounts"] for r in by_acct.get(a, [])]
        if pop["process"] == "waves":
            ws = gen.wave_stats.get(pop["name"], {})
            intended = ws.get("wanted", 0)
        else:
            intended = sum(len(plan["accounts"][a]["schedule"]) for a in pop["accounts"])
        late = sorted(max(0.0, (r["start_ns"] / 1e9 - gen.start_at) - r["sched"]) for r in recs)
        span = max(pop["end"] - pop["start"], 1e-9)
        q = (lambda p: late[min(len(late) - 1, int(p * len(late)))] if late else 0.0)
        pops.append({"population": pop["name"], "label": pop["label"], "driver": pop["driver"],
                     "process": pop["process"], "accounts": len(pop["accounts"]),
                     "intended": intended, "sent": len(recs),
                     "completed": sum(1 for r in recs if r.get("ok")),
                     "failed": sum(1 for r in recs if not r.get("ok")),
                     "intended_rate": intended / span,
                     "achieved_rate": sum(1 for r in recs if r.get("ok")) / span,
                     "late_p50_s": q(0.5), "late_p99_s": q(0.99), "late_max_s": late[-1] if late else 0.0,
                     "waves": gen.wave_stats.get(pop["name"])})
    errors = {}
    for r in gen.records:
        if not r.get("ok"):
            k = r.get("err", "status %s" % r.get("status"))[:120]
            errors[k] = errors.get(k, 0) + 1
    return {"scenario": plan["name"], "duration": plan["duration"], "wall_seconds": wall,
            "intended": sum(p["intended"] for p in pops), "sent": len(gen.records),
            "completed": sum(p["completed"] for p in pops), "failed": sum(p["failed"] for p in pops),
            "populations": pops, "errors": errors}


def ground_truth(plan, gen):
    by_acct = {}
    for r in gen.records:
        by_acct.setdefault(r["a"], []).append(r)
    out = []
    for a in plan["accounts"]:
        recs = by_acct.get(a["index"], [])
        ok = [r for r in recs if r.get("ok")]
        out.append({"index": a["index"], "label": a["label"], "population": a["population"],
                    "key": a["key"], "driver": a["driver"],
                    "addresses": sorted({r["src"] for r in recs}),
                    "tools": sorted({r["tool"] for r in recs}),
                    "models": sorted({r["model"] for r in recs}),
                    "active_from": round(a["start"], 3), "active_to": round(a["end"], 3),
                    "first_request_ns": min((r["start_ns"] for r in recs), default=None),
                    "requests_sent": len(recs), "requests_completed": len(ok)})
    return out


async def run_until_signal(gen):
    """Runs the plan; SIGTERM/SIGINT cut it short (the demo does), and what
    was done is still written."""
    task = asyncio.ensure_future(gen.main())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
        return False
    except asyncio.CancelledError:
        gen.node_stop = True
        if gen.node_proc and gen.node_proc.poll() is None:
            gen.node_proc.kill()
        return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--out", required=True)
    ap.add_argument("--start-at", type=float, default=0.0, help="Unix time of t=0 (default: now + 1 s)")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--duration", type=float)
    ap.add_argument("--tls", action="store_true", help="the server speaks TLS (overrides the scenario)")
    args = ap.parse_args()
    sc = load_scenario(args.scenario)
    plan = scn.make_plan(sc, args.scale, args.duration)
    if args.tls:
        plan["tls"] = True
    for a in plan["accounts"]:
        for t in a["tools"]:
            if t not in TOOLS and a["driver"] == "raw":
                raise SystemExit("scenario %s: unknown tool %r (known: %s)" % (sc["name"], t, ", ".join(TOOLS)))
    args.out = os.path.abspath(args.out)
    os.makedirs(args.out, exist_ok=True)
    start_at = args.start_at or time.time() + 1.0
    gen = Generator(plan, args.host, args.port, start_at, args.out)
    t0 = time.time()
    stopped = asyncio.run(run_until_signal(gen))
    wall = time.time() - t0
    with open(os.path.join(args.out, "requests.ndjson"), "w") as f:
        for r in sorted(gen.records, key=lambda r: r["start_ns"]):
            f.write(json.dumps(r) + "\n")
    with open(os.path.join(args.out, "groundtruth.json"), "w") as f:
        json.dump({"scenario": plan["name"], "identity": plan["identity"], "tls": plan["tls"],
                   "start_at": start_at, "accounts": ground_truth(plan, gen)}, f, indent=0)
    summ = summarize(plan, gen, wall)
    ru_self, ru_kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    summ["cpu_s"] = ru_self.ru_utime + ru_self.ru_stime
    summ["node_cpu_s"] = ru_kids.ru_utime + ru_kids.ru_stime
    summ["stopped_early"] = stopped
    with open(os.path.join(args.out, "generator.json"), "w") as f:
        json.dump(summ, f, indent=1)
    if stopped:
        sys.exit(143)
    print("loadgen: %d intended, %d sent, %d completed, %d failed in %.1fs" % (
        summ["intended"], summ["sent"], summ["completed"], summ["failed"], wall), flush=True)


if __name__ == "__main__":
    main()
