#!/usr/bin/env python3
"""Runs one simulator scenario end to end and keeps every artefact in one
directory:

  run.py SCENARIO [--out DIR] [--config FILE] [--scale X] [--duration S]
         [--server hwserve|py] [--agent-arg=ARG ...] [--no-offline]
  run.py --demo [--config FILE]

For a scenario: a cgroup of its own; the mock inference server inside it on
a free loopback port (TLS with a fresh self-signed certificate when the
scenario says so); the agent watching that cgroup and port with a keyed
identity, alerts and trace to files and /metrics on another free port;
tcpdump recording the port on lo; the load generator (loadgen.py, and the
openai npm client for SDK populations); then everything stopped, the
capture replayed offline through `hydrawatch --read` with the same options,
and both runs evaluated (eval.py). The directory (default
/tmp/hw-sim/SCENARIO-TIMESTAMP) ends up with:

  scenario.json groundtruth.json generator.json requests.ndjson
  live/{trace,alerts,alerts.seen}.ndjson live/agent.stderr live/metrics.txt
  offline/{trace,alerts}.ndjson capture.pcap identity.key result.json

--demo runs the demo scenario with alerts on stdout until the first farm
alert or 120 s, printing where to look meanwhile.
"""
import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval as ev  # noqa: E402
import scenario as scn  # noqa: E402
from simlib import (HERE, Cgroup, Skip, agent_bin, free_port, hwserve_bin, load_scenario,  # noqa: E402
                    node_ready, preflight, proc_cpu_seconds, proc_rss_max_kib, write_key)

LOADGEN = os.path.join(HERE, "loadgen.py")
MOCKSERVE = os.path.join(HERE, "mockserve.py")
# the generator and node run niced: the agent and the server get the CPU first
GEN_NICE = 5


class Stopped(Exception):
    pass


def _sigterm(signum, frame):
    raise Stopped("signal %d" % signum)


def wait_for(path, needle, proc, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                if needle in f.read():
                    return
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    with open(path, errors="replace") as f:
        raise RuntimeError("%s did not start: %s" % (what, f.read()[-2000:]))


def kill_proc(proc, sig=signal.SIGTERM, timeout=20):
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def make_cert(tmp):
    key, crt = os.path.join(tmp, "tls.key"), os.path.join(tmp, "tls.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=api.sim.test",
                    "-addext", "subjectAltName=DNS:api.sim.test,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return crt, key


class AlertTail(threading.Thread):
    """Follows an NDJSON alert stream (a file, or a pipe's lines) and notes when
    each line was seen: live time to detect is measured from these."""

    def __init__(self, path, seen_path, echo=False):
        super().__init__(daemon=True)
        self.path, self.seen_path, self.echo = path, seen_path, echo
        self.stop_ev = threading.Event()
        self.farm_seen = threading.Event()
        self.lines = 0

    def handle(self, line, out):
        try:
            obj = json.loads(line)
        except ValueError:
            return
        out.write(json.dumps({"seen_ns": time.time_ns(), "alert": obj}) + "\n")
        out.flush()
        self.lines += 1
        if self.echo:
            print("ALERT " + line.strip(), flush=True)
        if obj.get("rule") == "farm":
            self.farm_seen.set()

    def run(self):
        pos, buf = 0, ""
        with open(self.seen_path, "w") as out:
            while True:
                stopping = self.stop_ev.is_set()
                if os.path.exists(self.path):
                    with open(self.path) as f:
                        f.seek(pos)
                        chunk = f.read()
                        pos = f.tell()
                    buf += chunk
                    while "\n" in buf:
                        line, buf = buf.split("\n", 1)
                        if line.strip():
                            self.handle(line, out)
                if stopping:
                    return
                self.stop_ev.wait(0.1)

    def stop(self):
        self.stop_ev.set()
        self.join(timeout=5)


def run_scenario(name, out=None, config=None, scale=1.0, duration=None, server="hwserve",
                 agent_args=(), offline=True, demo=False, build=None, quiet=False):
    """Runs one scenario live (and offline from its capture); returns the
    evaluation (eval.evaluate_run). Raises Skip when the machine lacks something."""
    sc = load_scenario(name)
    scn.validate(sc)
    needs_node = any(p.get("driver") == "node-openai" for p in sc["populations"])
    preflight(need_node=False)
    if needs_node:
        node_ready()
    agent = agent_bin(build)
    if not os.access(agent, os.X_OK):
        raise Skip("no agent binary at %s (make, or HW_AGENT=path)" % agent)
    if server == "hwserve" and not os.access(hwserve_bin(build), os.X_OK):
        raise Skip("no hwserve at %s (make builds it into build/tools)" % hwserve_bin(build))
    out = os.path.abspath(out or os.path.join("/tmp/hw-sim", "%s-%s" % (sc["name"], time.strftime("%Y%m%d-%H%M%S"))))
    if os.path.exists(out):
        shutil.rmtree(out)
    live, offl = os.path.join(out, "live"), os.path.join(out, "offline")
    os.makedirs(live)
    os.makedirs(offl)
    with open(os.path.join(out, "scenario.json"), "w") as f:
        json.dump({k: v for k, v in sc.items() if not k.startswith("_")}, f, indent=1)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))

    keyfile = write_key(os.path.join(out, "identity.key"))
    port, mport = free_port(), free_port()
    identity = sc.get("identity", "header:x-api-key")
    common = ["--ports", str(port), "--identity", identity, "--identity-key", keyfile]
    pre = ["--config", os.path.abspath(config)] if config else []
    extra = list(sc.get("agent_args", [])) + list(agent_args)
    srv = sc.get("server", {})
    srv_args = ["--token-rate", str(srv.get("token_rate", 400)), "--ttft-ms", str(srv.get("ttft_ms", 30)),
                "--flush-ms", str(srv.get("flush_ms", 20)), "--default-tokens", str(srv.get("default_tokens", 128))]
    meta = {"scenario": sc["name"], "port": port, "metrics_port": mport, "identity": identity,
            "config": os.path.abspath(config) if config else None, "server": server,
            "scale": scale, "duration": duration or sc["duration"], "agent": os.path.abspath(agent)}
    old_int = signal.signal(signal.SIGINT, _sigterm)
    old_term = signal.signal(signal.SIGTERM, _sigterm)
    try:
        with contextlib.ExitStack() as stack:
            cg = Cgroup("hw-sim")
            stack.callback(cg.remove)
            meta["cgroup"] = cg.path
            if sc.get("tls"):
                crt, key = make_cert(out)
                srv_args += ["--tls", crt, key]
            cmd = ([hwserve_bin(build), "127.0.0.1", str(port)] if server == "hwserve"
                   else [sys.executable, MOCKSERVE, "127.0.0.1", str(port)]) + srv_args
            sproc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(os.path.join(out, "server.stderr"), "w"),
                                     preexec_fn=cg.enter_fn())
            stack.callback(kill_proc, sproc, signal.SIGKILL)
            if sproc.stdout.readline().strip() != b"ready":
                raise RuntimeError("mock server did not start: " + open(os.path.join(out, "server.stderr")).read())

            # the agent
            alerts = "-" if demo else os.path.join(live, "alerts.ndjson")
            acmd = [agent] + pre + ["--cgroup", cg.path] + common + [
                "--trace", os.path.join(live, "trace.ndjson"), "--alerts", alerts,
                "--listen", "127.0.0.1:%d" % mport] + extra
            meta["agent_cmd"] = acmd
            aerr_path = os.path.join(live, "agent.stderr")
            aout = open(os.path.join(live, "alerts.ndjson"), "w") if demo else subprocess.DEVNULL
            aproc = subprocess.Popen(acmd, stdout=aout, stderr=open(aerr_path, "w"))
            stack.callback(kill_proc, aproc)
            wait_for(aerr_path, "watching", aproc, 30, "agent")
            tail = AlertTail(os.path.join(live, "alerts.ndjson"), os.path.join(live, "alerts.seen.ndjson"), echo=demo)
            tail.start()
            stack.callback(tail.stop)

            # the capture
            pcap = os.path.join(out, "capture.pcap")
            terr = os.path.join(out, "tcpdump.stderr")
            tproc = subprocess.Popen(["tcpdump", "-i", "lo", "-s", "0", "-w", pcap, "-U", "--immediate-mode",
                                      "-B", "65536", "tcp port %d" % port], stderr=open(terr, "w"))
            stack.callback(kill_proc, tproc, signal.SIGINT)
            wait_for(terr, "listening on", tproc, 10, "tcpdump")

            if demo:
                say("demo: mock server 127.0.0.1:%d (cgroup %s)" % (port, cg.path))
                say("demo: metrics  http://127.0.0.1:%d/metrics" % mport)
                say("demo: alerts   http://127.0.0.1:%d/alerts  (and on this terminal, lines 'ALERT {...}')" % mport)
                say("demo: trace    %s" % os.path.join(live, "trace.ndjson"))
                say("demo: alerts   %s" % os.path.join(live, "alerts.ndjson"))
                say("demo: artefacts in %s; stops at the first farm alert or after %ds" % (out, duration or sc["duration"]))

            # the load
            start_at = time.time() + 2.5
            cpu0, t0 = proc_cpu_seconds(aproc.pid), time.time()
            scpu0 = proc_cpu_seconds(sproc.pid)
            gcmd = ["nice", "-n", str(GEN_NICE), sys.executable, LOADGEN, "--scenario", sc["_path"], "--port", str(port),
                    "--out", out, "--start-at", "%.3f" % start_at, "--scale", str(scale)]
            if duration:
                gcmd += ["--duration", str(duration)]
            say("%s: load for %ss (server 127.0.0.1:%d, agent /metrics on %d, artefacts in %s)" % (
                sc["name"], duration or sc["duration"], port, mport, out))
            gerr = open(os.path.join(out, "loadgen.stderr"), "w")
            gproc = subprocess.Popen(gcmd, stdout=subprocess.PIPE, stderr=gerr, text=True)
            stack.callback(kill_proc, gproc)
            limit = float(duration or sc["duration"]) + 330
            while gproc.poll() is None:
                if demo and tail.farm_seen.is_set():
                    say("demo: farm alert seen, stopping")
                    gproc.send_signal(signal.SIGTERM)
                    break
                if time.time() - t0 > limit:
                    gproc.kill()
                    raise RuntimeError("load generator overran its duration by 330 s")
                time.sleep(0.2)
            gout = gproc.communicate()[0]
            gerr.close()
            meta["loadgen_rc"] = gproc.returncode
            meta["loadgen_stdout"] = gout.strip()
            if gproc.returncode != 0 and not demo:
                raise RuntimeError("load generator exited %d: %s" % (
                    gproc.returncode, open(os.path.join(out, "loadgen.stderr")).read()[-3000:]))
            gen_cpu = None
            meta["generator_cpu_s"] = gen_cpu

            # stop: server first (its connections close), let closes reach the agent
            time.sleep(1.0)
            cpu1, t1 = proc_cpu_seconds(aproc.pid), time.time()
            meta["agent_cpu_s"] = cpu1 - cpu0
            meta["agent_cpu_pct"] = 100.0 * (cpu1 - cpu0) / max(t1 - t0, 1e-9)
            meta["server_cpu_pct"] = 100.0 * (proc_cpu_seconds(sproc.pid) - scpu0) / max(t1 - t0, 1e-9)
            meta["load_wall_s"] = t1 - t0
            meta["agent_rss_max_kib"] = proc_rss_max_kib(aproc.pid)
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=5) as r:
                    open(os.path.join(live, "metrics.txt"), "wb").write(r.read())
            except OSError as e:
                meta["metrics_error"] = str(e)
            kill_proc(sproc, signal.SIGKILL)
            time.sleep(0.5)
            rc = kill_proc(aproc)
            meta["agent_rc"] = rc
            if rc != 0:
                raise RuntimeError("agent exited %d: %s" % (rc, open(aerr_path).read()[-3000:]))
            tail.stop()
            # tcpdump drops what it has not written when interrupted: wait for the file to settle
            last, since = -1, time.time()
            while time.time() - since < 0.7:
                size = os.path.getsize(pcap) if os.path.exists(pcap) else 0
                if size != last:
                    last, since = size, time.time()
                time.sleep(0.1)
            kill_proc(tproc, signal.SIGINT)
            m = re.search(r"(\d+) packets dropped by kernel", open(terr).read())
            meta["tcpdump_dropped"] = int(m.group(1)) if m else None
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)

    # offline: the same pipeline over the capture
    if offline:
        ocmd = [agent, "--read", pcap] + pre + common + [
            "--trace", os.path.join(offl, "trace.ndjson"), "--alerts", os.path.join(offl, "alerts.ndjson")] + extra
        meta["offline_cmd"] = ocmd
        t = time.time()
        r = subprocess.run(ocmd, capture_output=True, text=True, timeout=900)
        meta["offline_wall_s"] = time.time() - t
        open(os.path.join(offl, "agent.stderr"), "w").write(r.stderr)
        meta["offline_rc"] = r.returncode
        if r.returncode != 0:
            raise RuntimeError("offline run exited %d: %s" % (r.returncode, r.stderr[-3000:]))
    with open(os.path.join(out, "run.json"), "w") as f:
        json.dump(meta, f, indent=1)
    res = ev.evaluate_run(out)
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump(res, f, indent=1)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("scenario", nargs="?", help="a name in tests/sim/scenarios/ or a JSON file")
    ap.add_argument("--out")
    ap.add_argument("--config")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--duration", type=float)
    ap.add_argument("--server", choices=("hwserve", "py"), default="hwserve")
    ap.add_argument("--agent-arg", action="append", default=[])
    ap.add_argument("--no-offline", action="store_true")
    ap.add_argument("--demo", action="store_true")
    ap.add_argument("--build", help="build directory (default: the repo's build/, or HW_BUILD)")
    a = ap.parse_args()
    if a.demo:
        a.scenario = a.scenario or "demo"
    if not a.scenario:
        ap.error("a scenario, or --demo")
    try:
        res = run_scenario(a.scenario, a.out, a.config, a.scale, a.duration, a.server, a.agent_arg,
                           not a.no_offline, a.demo, a.build)
    except Skip as e:
        print("SKIP %s: %s" % (a.scenario, e))
        sys.exit(0)
    except Stopped as e:
        print("stopped (%s); processes and the cgroup were cleaned up" % e)
        sys.exit(130)
    print(ev.summary_text(res))
    if a.demo:
        print("demo: done; artefacts in %s" % res["dir"])


if __name__ == "__main__":
    main()
