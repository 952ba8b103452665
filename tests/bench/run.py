#!/usr/bin/env python3
"""make bench: hydrawatch's overhead, measured side by side in one run.

Configurations are interleaved over rounds (the order rotates each round) so
that drift on the machine hits all of them alike; every figure is a median
over rounds with its spread (min-max). Results go to tests/bench/RESULTS.md
with the machine, the kernel and the exact commands; the file's hand-kept
"Notes from earlier runs", from that heading to the end, are carried over.

  python3 tests/bench/run.py BUILD [--rounds N] [--seconds S] [--quick]
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from hwtest import Cgroup, free_port  # noqa: E402

COMMANDS = []  # every load command, for the report


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def steal_ticks():
    """CPU time the hypervisor took from this VM (all CPUs), in ticks."""
    with open("/proc/stat") as f:
        return int(f.readline().split()[8])


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Nginx:
    def __init__(self, tmp, port, cg):
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""
worker_processes 1;
daemon off;
pid %s/nginx.pid;
error_log /dev/null crit;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:%d reuseport;
    location / { return 200 "ok"; }
  }
}
""" % (tmp, port))
        self.proc = subprocess.Popen(["nginx", "-c", conf, "-p", tmp], preexec_fn=cg.enter_fn(),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class Hwserve:
    def __init__(self, build, port, cg):
        self.proc = subprocess.Popen([os.path.join(build, "tools", "hwserve"), "127.0.0.1", str(port)],
                                     preexec_fn=cg.enter_fn(), stdout=subprocess.PIPE)
        self.proc.stdout.readline()

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def wait_port(port):
    import socket
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on %d" % port)


class Sensor:
    """One configuration under test: started before a load run, stopped after."""

    def __init__(self, name, build, cg, port, tmp, bpf_stats=False):
        self.name, self.build, self.cg, self.port, self.tmp = name, build, cg, port, tmp
        self.bpf_stats = bpf_stats
        self.proc = None

    def start(self):
        if self.name == "none":
            return
        if self.name == "empty":
            cmd = [os.path.join(self.build, "tools", "hwempty"), self.cg.path]
        elif self.name == "floor":
            cmd = [os.path.join(self.build, "tools", "hwempty"), "--floor", str(self.port), self.cg.path]
        elif self.name in ("hydrawatch", "kernel-only"):
            cmd = [os.path.join(self.build, "hydrawatch"), "--cgroup", self.cg.path, "--ports",
                   str(self.port), "--listen", "off"] + (["--bpf-stats"] if self.bpf_stats else []) + \
                (["--kernel-only"] if self.name == "kernel-only" else [])
        elif self.name == "tcpdump":
            cmd = ["tcpdump", "-i", "lo", "-s", "0", "-w", "/dev/null", "-B", "16384",
                   "tcp port %d" % self.port]
        self.err_path = os.path.join(self.tmp, "%s.stderr" % self.name)
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err, text=True)
        marker = {"empty": "attached", "floor": "attached", "hydrawatch": "watching", "kernel-only": "watching",
                  "tcpdump": "listening"}[self.name]
        deadline = time.time() + 20
        while time.time() < deadline:
            with open(self.err_path) as f:
                if marker in f.read():
                    break
            if self.name in ("empty", "floor") and self.proc.stdout.readline().strip() == "attached":
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("%s did not start" % self.name)
        time.sleep(0.3)
        self.cpu0 = cpu_seconds(self.proc.pid)

    def stop(self):
        """Returns (cpu seconds used, stderr text)."""
        if not self.proc:
            return 0.0, ""
        cpu = cpu_seconds(self.proc.pid) - self.cpu0
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=30)
        self.err.close()
        with open(self.err_path) as f:
            text = f.read()
        self.proc = None
        return cpu, text + out


def wrk(url, seconds, conns=32, script=None):
    cmd = ["wrk", "-t1", "-c%d" % conns, "-d%ds" % seconds, "--latency"] + \
        (["-s", os.path.relpath(script)] if script else []) + [url]
    if cmd[:-1] not in [c[:-1] for c in COMMANDS]:
        COMMANDS.append(cmd)
    out = sh(cmd).stdout

    def latency(p):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)" % p, out, re.M)
        v = float(m.group(1))
        return v * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)]
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "p50_us": latency("50"), "p99_us": latency("99")}


def interleaved(configs, rounds, run_one):
    """{config: [result per round]}, order rotated each round."""
    results = {c: [] for c in configs}
    for r in range(rounds):
        order = configs[r % len(configs):] + configs[:r % len(configs)]
        for c in order:
            results[c].append(run_one(c))
    return results


def med(xs):
    return statistics.median(xs)


def spread(xs):
    return "%.3g–%.3g" % (min(xs), max(xs))


# kernel cost on requests the size real clients send (wrk script)
OPENAI_LUA = os.path.join(HERE, "openai.lua")

# the request path adds the contract's floor (tests/bench/bpf/floor.bpf.c); the
# streaming path compares the alternatives only
PATH_CONFIGS = ("none", "empty", "floor", "kernel-only", "hydrawatch", "tcpdump")
STREAM_CONFIGS = ("none", "empty", "kernel-only", "hydrawatch", "tcpdump")


def path_bench(name, build, cg, port, url, tmp, rounds, seconds, configs=PATH_CONFIGS):
    sensors = {c: Sensor(c, build, cg, port, tmp) for c in configs}
    agent_cpu = []

    def run_one(c):
        s = sensors[c]
        s.start()
        st0 = steal_ticks()
        res = wrk(url, seconds)
        res["steal_pct"] = 100.0 * (steal_ticks() - st0) / os.sysconf("SC_CLK_TCK") / seconds / os.cpu_count()
        cpu, err = s.stop()
        res["cpu"] = cpu
        if c == "floor":
            # the floor must report every exchange to be one: its events per request
            res["floor_events"] = int(re.search(r'"events":(\d+)', err).group(1)) / res["requests"]
        if c == "hydrawatch":
            agent_cpu.append(cpu / res["requests"] * 1e6)
            lost = re.search(r'"events_lost":(\d+)', err)
            res["lost"] = int(lost.group(1)) if lost else -1
        return res
    res = interleaved(list(sensors), rounds, run_one)
    rows = {}
    base = res["none"]
    for c in sensors:
        ratios = [r["rps"] / b["rps"] for r, b in zip(res[c], base)]
        p99d = [r["p99_us"] - b["p99_us"] for r, b in zip(res[c], base)]
        rows[c] = {"rps": med([r["rps"] for r in res[c]]), "rps_spread": "%.0f–%.0f" % (min(r["rps"] for r in res[c]),
                                                                                 max(r["rps"] for r in res[c])),
                   "ratio": med(ratios), "ratio_spread": spread(ratios),
                   "p50": med([r["p50_us"] for r in res[c]]), "p99": med([r["p99_us"] for r in res[c]]),
                   "p99_delta": med(p99d), "p99_spread": spread(p99d),
                   "steal": max(r["steal_pct"] for r in res[c])}
    lost = [r.get("lost", 0) for r in res["hydrawatch"]]
    # the cost above the floor, paired within each round: steadier than the
    # difference of the two medians against none
    over = [h["rps"] / e["rps"] for h, e in zip(res["hydrawatch"], res["empty"])]
    kern = [k["rps"] / e["rps"] for k, e in zip(res["kernel-only"], res["empty"])]
    agent = [h["rps"] / k["rps"] for h, k in zip(res["hydrawatch"], res["kernel-only"])]
    if "floor" in res:
        fl = [f["rps"] / e["rps"] for f, e in zip(res["floor"], res["empty"])]
        kf = [k["rps"] / f["rps"] for k, f in zip(res["kernel-only"], res["floor"])]
        floor = {"floor_events": [r["floor_events"] for r in res["floor"]],
                 "floor_vs_empty": med(fl), "floor_vs_empty_spread": spread(fl),
                 "kernel_vs_floor": med(kf), "kernel_vs_floor_spread": spread(kf)}
    else:
        floor = {}
    return rows, dict(floor, **{"cpu_s_per_million": med(agent_cpu), "cpu_spread": spread(agent_cpu), "lost": lost,
                  "vs_empty": med(over), "vs_empty_spread": spread(over),
                  "kernel_vs_empty": med(kern), "kernel_vs_empty_spread": spread(kern),
                  "agent_vs_kernel": med(agent), "agent_vs_kernel_spread": spread(agent)})


def bpf_prog_stats(names):
    out = json.loads(sh(["bpftool", "-j", "prog", "show"]).stdout)
    return {p["name"]: (p.get("run_time_ns", 0), p.get("run_cnt", 0)) for p in out if p.get("name") in names}


def kernel_cost(build, cg, workloads, tmp, seconds, rounds):
    """ns per program run with bpf_stats on, hydrawatch, the contract's floor
    and the empty programs alternating over rounds, for each (name, port, url) workload:
    {(workload, program): (median ns, spread, runs in all)}, and the three
    programs' time per exchange (wrk's requests): {(workload, config): (median ns, spread)}."""
    progs = {"hydrawatch": ("hw_ingress", "hw_egress", "hw_sockops"),
             "floor": ("floor_ingress", "floor_egress", "floor_sockops"),
             "empty": ("empty_ingress", "empty_egress", "empty_sockops")}
    rows, per_exchange = {}, {}
    for wname, port, url, script in workloads:
        per, per_x = {}, {}

        def run_one(c):
            names = progs[c]
            sh(["sysctl", "-qw", "kernel.bpf_stats_enabled=1"])
            s = Sensor(c, build, cg, port, tmp)
            s.start()
            before = bpf_prog_stats(names)
            requests = wrk(url, seconds, conns=16, script=script)["requests"]
            after = bpf_prog_stats(names)
            s.stop()
            sh(["sysctl", "-qw", "kernel.bpf_stats_enabled=0"])
            for n in names:
                dt = after[n][0] - before[n][0]
                dc = after[n][1] - before[n][1]
                per.setdefault(n, []).append((dt / dc if dc else 0.0, dc))
            per_x.setdefault(c, []).append(sum(after[n][0] - before[n][0] for n in names) / requests)
        interleaved(list(progs), rounds, run_one)
        for c in progs:
            for n in progs[c]:
                ns = [x[0] for x in per[n]]
                rows[(wname, n)] = (med(ns), spread(ns), sum(x[1] for x in per[n]))
            per_exchange[(wname, c)] = (med(per_x[c]), spread(per_x[c]))
    return rows, per_exchange


RATES = (10000, 25000, 50000, 100000, 200000, 300000, 400000, 600000)
ACCOUNTS = (10000, 100000, 1000000)


def loss_vs_rate(build, cg, port, tmp, seconds, rates=RATES):
    """Rising rates until the first loss, or until server and load generator
    cannot reach the rate asked for (the machine's limit, not the agent's)."""
    rows = []
    for rate in rates:
        s = Sensor("hydrawatch", build, cg, port, tmp)
        s.start()
        cmd = [os.path.join(build, "tools", "hwload"), "127.0.0.1", str(port), "32", str(rate), str(seconds), "0"]
        COMMANDS.append(cmd) if rate == 10000 else None
        out = json.loads(sh(cmd).stdout or "{}")
        cpu, err = s.stop()
        lost = re.search(r'"events_lost":(\d+)', err)
        ex = re.search(r'"exchange_end":(\d+)', err)
        rows.append({"target": rate, "achieved": out.get("requests", 0) / seconds,
                     "lost": int(lost.group(1)) if lost else -1,
                     "exchanges": int(ex.group(1)) if ex else -1,
                     "requests": out.get("requests", 0),
                     "cpu_pct": 100 * cpu / seconds})
        if rows[-1]["lost"] != 0 or rows[-1]["achieved"] < 0.9 * rate:
            break
    return rows


PIPE_KINDS = {
    "decode": "records decoded and counted only (`--kernel-only`'s work; the harness's own floor)",
    "http": "256 keep-alive connections, an OpenAI-style head each (x-api-key identity, User-Agent, JSON body)",
    "http-new": "the same head, one exchange per connection (open, SYN/JA4T, HMAC of the key, close)",
    "tls": "256 keep-alive TLS connections: JA4 on the first exchange, encrypted after",
}


def agent_pipeline(build, rounds, exchanges):
    """hwpipe: the agent's CPU per exchange by kind of traffic, kinds
    alternating over rounds: {kind: (median ns, spread)}."""
    corpus = os.path.relpath(os.path.join(HERE, "..", "fuzz", "corpus"))
    per = {k: [] for k in PIPE_KINDS}
    kinds = list(PIPE_KINDS)
    for r in range(rounds):
        for k in (kinds if r % 2 == 0 else kinds[::-1]):
            cmd = [os.path.join(build, "tools", "hwpipe"), "--identity", "header:x-api-key", "--", k,
                   str(exchanges), os.path.join(corpus, "syn", "seed-00"), os.path.join(corpus, "tls", "seed-00")]
            if r == 0 and k == "http":
                COMMANDS.append(cmd)
            per[k].append(json.loads(sh(cmd).stdout)["cpu_ns_per_exchange"])
    return {k: (med(v), spread(v)) for k, v in per.items()}


def memory(build, sizes=ACCOUNTS):
    """RSS at each size with every detector (the default), and with the
    volume detector alone, side by side"""
    rows = []
    for n in sizes:
        row = {"accounts": n}
        for det in ("volume,farm", "volume"):
            cmd = [os.path.join(build, "tools", "hwsynth"), "--listen", "off", "--detectors", det,
                   "--max-accounts", str(n), "--", str(n)]
            out = json.loads(sh(cmd).stdout.splitlines()[0])
            key = "all" if det != "volume" else "volume"
            row[key] = {"rss": out["rss_bytes"], "bound": out["table_memory_bytes"],
                        "detect_ms": out["detect_tick_cpu_ms"]}
            if det != "volume":
                COMMANDS.append(cmd)
        row.update(row["all"])
        rows.append(row)
    return rows


# the detectors' cost: the real pipeline without a kernel, RATE exchanges per
# second of event time over ACCOUNTS accounts (hwdetect), side by side
DETECTOR_RUNS = (("none", ["--detectors", "none"]),
                 ("volume only", ["--detectors", "volume"]),
                 ("every detector (defaults)", ["--detectors", "volume,farm"]),
                 ("every detector, evaluated every 5 s (the drill's pace)",
                  ["--detectors", "volume,farm", "--farm-interval", "5"]))


def detectors(build, rounds, seconds, rate=10000, accounts=100000):
    res = {name: [] for name, _ in DETECTOR_RUNS}
    for _ in range(rounds):
        for name, args in DETECTOR_RUNS:
            cmd = [os.path.join(build, "tools", "hwdetect")] + args + ["--", str(rate), str(accounts),
                                                                         str(seconds)]
            out = json.loads(sh(cmd).stdout.splitlines()[0])
            res[name].append(out["core_fraction"] * 100)
            if name.startswith("every detector (defaults)") and len(res[name]) == 1:
                COMMANDS.append(cmd)
    return {"rate": rate, "accounts": accounts, "seconds": seconds,
            "runs": {k: (med(v), spread(v)) for k, v in res.items()}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--quick", action="store_true",
                    help="1 round of 2 s, rates to 50,000/s, 10,000 accounts: a smoke run (make test), not a result")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.seconds = 1, 2
    if os.geteuid() != 0:
        sys.exit("make bench needs root (BPF programs, cgroups)")
    for tool in ("nginx", "wrk", "tcpdump", "bpftool"):
        if not shutil.which(tool):
            sys.exit("%s is not installed: run make deps" % tool)
    tmp = tempfile.mkdtemp(prefix="hwbench-")
    cg = Cgroup("hwbench")
    nport, sport = free_port(), free_port()
    nginx = Nginx(tmp, nport, cg)
    hws = Hwserve(args.build, sport, cg)
    try:
        t0 = time.time()
        print("request path (nginx, wrk) ...", flush=True)
        req, req_agent = path_bench("request", args.build, cg, nport, "http://127.0.0.1:%d/" % nport, tmp,
                                    args.rounds, args.seconds)
        print("streaming path (hwserve SSE, 64 chunks per response) ...", flush=True)
        stream_url = "http://127.0.0.1:%d/stream?chunks=64&interval_ms=0&size=24" % sport
        strm, strm_agent = path_bench("stream", args.build, cg, sport, stream_url, tmp, args.rounds, args.seconds,
                                       STREAM_CONFIGS)
        print("kernel cost (bpf_stats) ...", flush=True)
        kcost, kx = kernel_cost(args.build, cg, [("request", nport, "http://127.0.0.1:%d/" % nport, None),
                                                 ("openai", nport, "http://127.0.0.1:%d/" % nport, OPENAI_LUA),
                                                 ("stream", sport, stream_url, None)], tmp, args.seconds,
                            max(1, (args.rounds + 1) // 2))
        print("loss against rate ...", flush=True)
        loss = loss_vs_rate(args.build, cg, nport, tmp, args.seconds if args.quick else max(args.seconds, 5),
                            RATES[:3] if args.quick else RATES)
        print("agent pipeline by traffic (hwpipe) ...", flush=True)
        pipe = agent_pipeline(args.build, max(3, args.rounds), 20000 if args.quick else 200000)
        print("memory and detection ...", flush=True)
        mem = memory(args.build, ACCOUNTS[:1] if args.quick else ACCOUNTS)
        print("detectors' cost (hwdetect) ...", flush=True)
        det = detectors(args.build, 1 if args.quick else max(3, args.rounds // 2),
                        20 if args.quick else 300)
        elapsed = time.time() - t0
    finally:
        nginx.stop()
        hws.stop()
        cg.remove()
    write_report(args, req, req_agent, strm, strm_agent, kcost, kx, loss, pipe, mem, det, elapsed)
    print("wrote %s" % args.out)


def met(ok):
    return "met" if ok else "**not met**"


NOTES_HEADING = "## Notes from earlier runs"


def kept_notes(path):
    """The hand-kept part of the results file, from its heading to the end:
    a run rewrites what it measured, never the notes."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return ""
    m = re.search(r"^%s$" % re.escape(NOTES_HEADING), text, re.M)
    return text[m.start():] if m else ""


def write_report(args, req, req_agent, strm, strm_agent, kcost, kx, loss, pipe, mem, det, elapsed):
    cpu = ""
    with open("/proc/cpuinfo") as f:
        m = re.search(r"model name\s*:\s*(.*)", f.read())
        cpu = m.group(1) if m else platform.processor()
    L = []
    L.append("# hydrawatch benchmark results\n")
    L.append("Written by `make bench` (`tests/bench/run.py`); %d interleaved rounds of %d s per "
             "configuration, order rotated each round; medians with the min–max spread across "
             "rounds. Total %.0f s.\n" % (args.rounds, args.seconds, elapsed))
    L.append("- machine: %s, %d CPUs, %.1f GiB" % (cpu, os.cpu_count(),
                                                   os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30))
    L.append("- kernel: %s" % platform.release())
    L.append("- configurations: `none` (nothing attached), `empty` (empty cgroup_skb ingress/egress "
             "and sockops programs attached the same way: the floor), `floor` (request path and kernel cost: "
             "`tests/bench/bpf/floor.bpf.c`, the least docs/ARCHITECTURE.md's data path contract does "
             "— a storage lookup and a header read per packet, a clock read and a 64-byte ring event "
             "per exchange, drained every 10 ms — without capture, times, totals or IPv6), "
             "`kernel-only` (hydrawatch's "
             "programs and ring, the agent draining and counting events but not processing them: "
             "`--kernel-only`), `hydrawatch` (the agent, `--ports P --listen off`), `tcpdump` "
             "(`tcpdump -i lo -w /dev/null`, a pcap sensor as reference). Server, load generator "
             "and sensor share the two cores.\n")
    L.append("Commands:\n")
    for c in COMMANDS:
        L.append("    " + " ".join(c))
    L.append("")

    def path_table(title, rows, agent):
        L.append("## %s\n" % title)
        L.append("| config | req/s | vs none | spread | p50 µs | p99 µs | p99 Δ µs | spread | steal, worst run |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        for c, r in rows.items():
            L.append("| %s | %.0f | %.3f | %s | %.0f | %.0f | %+.0f | %s | %.1f %% |" % (
                c, r["rps"], r["ratio"], r["ratio_spread"], r["p50"], r["p99"], r["p99_delta"], r["p99_spread"],
                r["steal"]))
        L.append("\nWith nothing attached, req/s ranged %s over the rounds: that is the machine's own noise, "
                 "which pairing each round's runs with its own `none` reduces but does not remove." %
                 rows["none"]["rps_spread"])
        L.append("\nhydrawatch against empty programs, paired in each round: %.3f (spread %s). "
                 "Of that, the kernel side (`kernel-only` against empty): %.3f (spread %s); the agent's "
                 "processing (hydrawatch against `kernel-only`): %.3f (spread %s)." % (
                     agent["vs_empty"], agent["vs_empty_spread"], agent["kernel_vs_empty"],
                     agent["kernel_vs_empty_spread"], agent["agent_vs_kernel"], agent["agent_vs_kernel_spread"]))
        if "floor_vs_empty" in agent:
            L.append("\nThe contract's floor against empty programs, paired per round: %.3f (spread %s); "
                     "hydrawatch's kernel side (`kernel-only`) against the floor: %.3f (spread %s). "
                     "Floor events per request made, per round (1 when it reported every exchange): %s." % (
                         agent["floor_vs_empty"], agent["floor_vs_empty_spread"], agent["kernel_vs_floor"],
                         agent["kernel_vs_floor_spread"], ", ".join("%.3f" % x for x in agent["floor_events"])))
        L.append("\nAgent CPU: %.2f s per million exchanges (spread %s); events lost per run: %s.\n" % (
            agent["cpu_s_per_million"], agent["cpu_spread"], agent["lost"]))
    path_table("Request path: nginx, tiny keep-alive responses, wrk (worst case)", req, req_agent)
    path_table("Streaming path: hwserve, 64 SSE chunks per response", strm, strm_agent)

    L.append("## Kernel cost per program run (bpf_stats on, separate runs, hydrawatch, floor and empty "
             "alternating)\n")
    L.append("Workloads: `request` is the request path's nginx/wrk (40-byte GETs), `openai` the same server "
             "with OpenAI-style requests of the size real clients send (`tests/bench/openai.lua`: a "
             "560-byte head, a 747-byte JSON body, so hydrawatch captures 1 KiB), `stream` the streaming "
             "path.\n")
    L.append("| workload | program | ns per run | spread | runs |")
    L.append("|---|---|---|---|---|")
    for (w, n), (ns, sp, cnt) in kcost.items():
        L.append("| %s | %s | %.0f | %s | %d |" % (w, n, ns, sp, cnt))
    L.append("\nPer exchange: the three programs' run time over the requests wrk made (what a host pays per "
             "exchange, whatever the segments; bpf_stats' own clock reads included).\n")
    L.append("| workload | config | ns per exchange | spread | above empty programs |")
    L.append("|---|---|---|---|---|")
    for (w, c), (ns, sp) in kx.items():
        L.append("| %s | %s | %.0f | %s | %+.0f |" % (w, c, ns, sp, ns - kx[(w, "empty")][0]))
    L.append("")
    L.append("## Events lost against exchange rate (hwload, nginx)\n")
    L.append("Rates rise until the first loss, or until nginx and the load generator fall short "
             "of the rate asked for on these two cores.\n")
    L.append("| target/s | achieved/s | exchanges seen | requests made | events lost | agent CPU % of a core |")
    L.append("|---|---|---|---|---|---|")
    for r in loss:
        L.append("| %d | %.0f | %d | %d | %d | %.1f |" % (r["target"], r["achieved"], r["exchanges"],
                                                         r["requests"], r["lost"], r["cpu_pct"]))
    L.append("")
    L.append("## Agent CPU per exchange by traffic (hwpipe: the real pipeline fed built records)\n")
    L.append("No kernel and no load generator: the agent's decode, parsers, identity, aggregation, detectors "
             "and once-a-second work at a simulated 100,000 exchanges/s, each kind in its own process, kinds "
             "alternating over rounds.\n")
    L.append("| traffic | CPU ns per exchange | spread | what |")
    L.append("|---|---|---|---|")
    for k, (ns, sp) in pipe.items():
        L.append("| %s | %.0f | %s | %s |" % (k, ns, sp, PIPE_KINDS[k]))
    L.append("")
    L.append("## Memory and detection (hwsynth: the real pipeline, synthetic exchanges)\n")
    L.append("| accounts tracked | RSS MiB, every detector | table bound MiB | RSS MiB, volume only | "
             "detectors' tick over all accounts (CPU ms) |")
    L.append("|---|---|---|---|---|")
    for r in mem:
        L.append("| %d | %.1f | %.1f | %.1f | %.1f |" % (
            r["accounts"], r["all"]["rss"] / 2**20, r["all"]["bound"] / 2**20,
            r["volume"]["rss"] / 2**20, r["all"]["detect_ms"]))
    L.append("")
    L.append("## Detectors' cost (hwdetect: the real pipeline, %d exchanges/s over %d accounts, %d s of "
             "event time)\n" % (det["rate"], det["accounts"], det["seconds"]))
    L.append("Process CPU per second of event time, as % of one core: parsing, identity and aggregation "
             "included, so the rows' differences are the detectors'.\n")
    L.append("| detectors | % of a core | spread |")
    L.append("|---|---|---|")
    for name, _ in DETECTOR_RUNS:
        v, sp = det["runs"][name]
        L.append("| %s | %.2f | %s |" % (name, v, sp))
    L.append("")

    floor = req["empty"]["ratio"]
    hw = req["hydrawatch"]["ratio"]
    def runs_of(prefix, workload):
        return [v[0] for (w, k), v in kcost.items()
                if w == workload and k.startswith(prefix) and not k.endswith("sockops")]
    ten_k = next((r for r in loss if r["target"] == 10000), None)
    first_loss = next((r["target"] for r in loss if r["lost"] > 0), None)
    no_loss_50k = all(r["lost"] == 0 for r in loss if r["target"] <= 50000)
    mem_1m = next((r for r in mem if r["accounts"] == 1000000), None)
    L.append("## Targets\n")
    L.append("| target | result | |")
    L.append("|---|---|---|")
    over = 1 - req_agent["vs_empty"]
    L.append("| throughput loss ≤ 1.5 pp above the empty-program floor (request path) | %.1f %% below empty "
             "programs, paired per round (medians against none: empty %.1f %%, hydrawatch %.1f %%; the "
             "contract's floor alone: %.1f %% below empty programs) | %s |" % (
                 over * 100, (1 - floor) * 100, (1 - hw) * 100, (1 - req_agent["floor_vs_empty"]) * 100,
                 met(over <= 0.015)))
    L.append("| ≤ 5 µs added p99 (request path) | %+.0f µs | %s |" % (
        req["hydrawatch"]["p99_delta"], met(req["hydrawatch"]["p99_delta"] <= 5)))
    L.append("| ≤ 1 %% loss on the streaming path | %.1f %% against none (empty programs alone: %.1f %%; "
             "against them, paired per round: %.1f %%) | %s |" % (
                 (1 - strm["hydrawatch"]["ratio"]) * 100, (1 - strm["empty"]["ratio"]) * 100,
                 (1 - strm_agent["vs_empty"]) * 100, met(strm["hydrawatch"]["ratio"] >= 0.99)))
    for w in ("request", "stream"):
        hw_ns, floor_ns, empty_ns = runs_of("hw_", w), runs_of("floor_", w), runs_of("empty_", w)
        L.append("| ≤ 80 ns per cgroup_skb run, %s workload (bpf_stats on; ingress, egress) | %s "
                 "(contract's floor: %s; empty: %s) | %s |" % (
                     w, ", ".join("%.0f" % x for x in hw_ns), ", ".join("%.0f" % x for x in floor_ns),
                     ", ".join("%.0f" % x for x in empty_ns), met(all(x <= 80 for x in hw_ns))))
    L.append("| 0 events lost up to 50,000 exchanges/s | %s | %s |" % (
        "first loss at %d/s" % first_loss if first_loss else
        "none up to %.0f/s (the highest rate reached)" % max(r["achieved"] for r in loss),
        met(no_loss_50k)))
    if ten_k:
        L.append("| ≤ 5 %% of a core at 10,000 exchanges/s | %.1f %% | %s |" % (ten_k["cpu_pct"], met(ten_k["cpu_pct"] <= 5)))
    if mem_1m:
        L.append("| ≤ 256 MiB resident at 1,000,000 tracked accounts, every detector on | %.0f MiB "
                 "(volume only: %.0f MiB) | %s |" % (
                     mem_1m["all"]["rss"] / 2**20, mem_1m["volume"]["rss"] / 2**20,
                     met(mem_1m["all"]["rss"] <= 256 * 2**20)))
    every = det["runs"]["every detector (defaults)"][0]
    L.append("| ≤ 10 %% of a core at 10,000 exchanges/s over 100,000 accounts, every detector on | "
             "%.1f %% (volume only %.1f %%, none %.1f %%) | %s |" % (
                 every, det["runs"]["volume only"][0], det["runs"]["none"][0], met(every <= 10)))
    notes = kept_notes(args.out)
    with open(args.out, "w") as f:
        f.write("\n".join(L) + "\n")
        if notes:
            f.write("\n" + notes)


if __name__ == "__main__":
    main()
