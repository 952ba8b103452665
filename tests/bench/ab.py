#!/usr/bin/env python3
"""Interleaved A/B of hydrawatch builds or options, for performance work.

  sudo python3 tests/bench/ab.py [--stream | --rate R] [--kernel] [--rounds N] [--seconds S] VARIANT...

A VARIANT is BUILD_DIR or BUILD_DIR:OPTIONS, e.g. `build:--drain-us 0` or a
second checkout's `/tmp/old/build`. Each round runs `none` (nothing
attached) and every variant on the same load (nginx/wrk, or the streaming
server with --stream), the order alternating; each variant's throughput and
p99 are paired with that round's `none`, and the medians are printed with
the agent's CPU per million exchanges and the events it lost. With --kernel
it compares nanoseconds per program run instead (bpf_stats switched on for
those runs only, variants alternating; no `none`). With --rate R the load is
hwload paced at R exchanges/s against hwserve instead of wrk flat out: the
agent's CPU per exchange at a steady rate, without a saturated machine's
noise. `make bench` is the full
report; this answers "did that change help" in a few minutes.
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import run  # noqa: E402
from hwtest import Cgroup, free_port  # noqa: E402


def paced(build, port, rate, seconds):
    """hwload at a fixed rate, in wrk's result shape."""
    out = json.loads(run.sh([os.path.join(build, "tools", "hwload"), "127.0.0.1", str(port), "32", str(rate),
                             str(seconds), "0"]).stdout)
    return {"rps": out["requests"] / seconds, "requests": out["requests"], "p50_us": 0, "p99_us": 0}


def one(variant, cg, port, url, seconds, tmp, before_load=None):
    """One load run with the variant attached ("none": nothing)."""
    agent = None
    if variant != "none":
        build, _, opts = variant.partition(":")
        err = open(os.path.join(tmp, "agent.stderr"), "w")
        agent = subprocess.Popen([os.path.join(build, "hydrawatch"), "--cgroup", cg.path, "--ports", str(port),
                                  "--listen", "off"] + opts.split(), stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.time() + 20
        while "watching" not in open(err.name).read():
            if agent.poll() is not None or time.time() > deadline:
                sys.exit("%s did not start: %s" % (variant, open(err.name).read()))
            time.sleep(0.05)
        cpu0 = run.cpu_seconds(agent.pid)
    if before_load:
        before_load()
    res = url(seconds) if callable(url) else run.wrk(url, seconds)
    if before_load:
        res["stats"] = run.bpf_prog_stats(PROGS)
    if agent:
        res["cpu"] = (run.cpu_seconds(agent.pid) - cpu0) / res["requests"] * 1e6
        agent.send_signal(signal.SIGINT)
        agent.wait(timeout=30)
        err.close()
        lost = re.search(r'"events_lost":(\d+)', open(err.name).read())
        res["lost"] = int(lost.group(1)) if lost else -1
    return res


PROGS = ("hw_ingress", "hw_egress")


def kernel_one(variant, cg, port, url, seconds, tmp):
    """ns per run of each program for one load run, bpf_stats on."""
    run.sh(["sysctl", "-qw", "kernel.bpf_stats_enabled=1"])
    try:
        before = run.bpf_prog_stats(PROGS)
        res = one(variant, cg, port, url, seconds, tmp, before_load=lambda: before.update(run.bpf_prog_stats(PROGS)))
        after = res.pop("stats")
    finally:
        run.sh(["sysctl", "-qw", "kernel.bpf_stats_enabled=0"])
    for n in PROGS:
        dt, dc = after[n][0] - before[n][0], after[n][1] - before[n][1]
        res[n] = dt / dc if dc else 0.0
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("variants", nargs="+", metavar="VARIANT")
    ap.add_argument("--stream", action="store_true", help="the streaming server (64 SSE chunks per response)")
    ap.add_argument("--rate", type=int, help="hwload paced at RATE exchanges/s instead of wrk")
    ap.add_argument("--kernel", action="store_true", help="ns per program run (bpf_stats) instead of throughput")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("ab.py needs root (BPF programs, cgroups)")
    tmp = tempfile.mkdtemp(prefix="hwab-")
    cg = Cgroup("hwab")
    port = free_port()
    if args.rate:
        build0 = args.variants[0].partition(":")[0]
        server = run.Hwserve(build0, port, cg)
        url = lambda seconds: paced(build0, port, args.rate, seconds)  # noqa: E731
    elif args.stream:
        server = run.Hwserve(args.variants[0].partition(":")[0], port, cg)
        url = "http://127.0.0.1:%d/stream?chunks=64&interval_ms=0&size=24" % port
    else:
        server = run.Nginx(tmp, port, cg)
        url = "http://127.0.0.1:%d/" % port
    configs = ([] if args.kernel else ["none"]) + args.variants
    res = {c: [] for c in configs}
    try:
        for r in range(args.rounds):
            for c in (configs if r % 2 == 0 else configs[::-1]):
                if args.kernel:
                    res[c].append(kernel_one(c, cg, port, url, args.seconds, tmp))
                else:
                    res[c].append(one(c, cg, port, url, args.seconds, tmp))
    finally:
        server.stop()
        cg.remove()
    if args.kernel:
        print("%-32s %22s %22s %9s" % ("variant", "ingress ns (spread)", "egress ns (spread)", "req/s"))
        for c, rs in res.items():
            cols = ["%5.0f (%5.0f–%5.0f)" % (statistics.median(x[n] for x in rs), min(x[n] for x in rs),
                                            max(x[n] for x in rs)) for n in PROGS]
            print("%-32s %22s %22s %9.0f" % (c, cols[0], cols[1], statistics.median(x["rps"] for x in rs)))
        return
    base = res["none"]
    print("%-32s %9s %7s %13s %9s %8s %s" % ("variant", "req/s", "vs none", "spread", "p99 Δ µs", "cpu s/M", "lost"))
    for c, rs in res.items():
        ratios = [x["rps"] / b["rps"] for x, b in zip(rs, base)]
        p99d = [x["p99_us"] - b["p99_us"] for x, b in zip(rs, base)]
        print("%-32s %9.0f %7.3f %13s %+9.0f %8.2f %s" % (
            c, statistics.median(x["rps"] for x in rs), statistics.median(ratios),
            "%.3f–%.3f" % (min(ratios), max(ratios)), statistics.median(p99d),
            statistics.median(x.get("cpu", 0) for x in rs), [x.get("lost", 0) for x in rs] if c != "none" else ""))


if __name__ == "__main__":
    main()
