#!/usr/bin/env python3
"""Evaluates simulator runs against their ground truth and writes
tests/sim/RESULTS.md.

  eval.py [--scenarios a,b,...] [--config FILE] [--out DIR] [--check]
          [--results FILE] [--scale X] [--duration S]
  eval.py --from RUN_DIR [RUN_DIR ...] [--check] [--results FILE]

Without --from it runs every scenario in tests/sim/scenarios/ (live, then
offline from the live run's capture) through run.py, each into OUT/NAME
(default /tmp/hw-sim/eval-TIMESTAMP). With --from it re-evaluates finished
run directories (e.g. after editing an alerts file by hand).

Accounts: an alert names account ids, hex(HMAC-SHA256(key, kind || value)
[:12]); the ground truth's keys (or, with --identity client-ip, addresses)
are hashed with the run's identity.key to map them back. A flagged account
is a member of any alert line with "rule": "farm". Per scenario and mode:
precision and recall over accounts (farm = positive), false-positive
accounts by label, time from each farm population's first request to the
first farm alert naming one of its accounts (live: when the line appeared;
offline: the alert's own time), agent CPU and peak RSS, exchanges in the
trace against requests the generator completed, and whether live and
offline flagged the same accounts.

--check exits non-zero unless every farm scenario has precision >= 0.98,
recall >= 0.95 and a first alert within 60 s of each farm's start, in both
modes, and every other scenario (traps, organic) has no farm alert and no
flagged account in either mode.
"""
import argparse
import glob
import json
import os
import platform
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simlib import HERE, REPO, account_id, read_ndjson, scenario_kind  # noqa: E402

PRECISION_MIN, RECALL_MIN, TTD_MAX_S = 0.98, 0.95, 60.0


def alert_time_ns(a):
    """An alert line's own time: the end of its evidence window when given
    (when it could fire), else starts_ns."""
    t = a.get("starts_ns") or 0
    if a.get("state") == "resolved" and isinstance(a.get("ends_ns"), int):
        return max(t, a["ends_ns"])
    w = (a.get("evidence") or {}).get("window") or {}
    if isinstance(w.get("end_ns"), int):
        t = max(t, w["end_ns"])
    return t


def members(a):
    g = a.get("group") or {}
    return [m for m in (g.get("members") or []) if isinstance(m, str)]


def load_alerts(d, mode):
    """[(time_ns, alert)] in the order written. Live: the time each line was
    seen (alerts.seen.ndjson), falling back to the alert's own time."""
    if mode == "live" and os.path.exists(os.path.join(d, "live", "alerts.seen.ndjson")):
        seen = read_ndjson(os.path.join(d, "live", "alerts.seen.ndjson"))
        raw = read_ndjson(os.path.join(d, "live", "alerts.ndjson"))
        if len(raw) == len(seen):
            return [(s["seen_ns"], s["alert"]) for s in seen]
        # the file was edited by hand after the run: its own times then
        return [(alert_time_ns(a), a) for a in raw]
    return [(alert_time_ns(a), a) for a in read_ndjson(os.path.join(d, mode, "alerts.ndjson"))]


def id_map(gt, key):
    """account id -> ground-truth accounts behind it."""
    ids = {}
    for a in gt["accounts"]:
        if gt["identity"] == "client-ip":
            for addr in a["addresses"]:
                ids.setdefault(account_id(key, "ip", addr), []).append(a)
        else:
            ids.setdefault(account_id(key, "header", a["key"]), []).append(a)
    return ids


def id_label(accts):
    labels = {a["label"] for a in accts}
    return labels.pop() if len(labels) == 1 else "mixed(%s)" % "+".join(sorted(labels))


def ratio(a, b):
    return a / b if b else None


def evaluate_mode(d, mode, gt, ids, positives, farm_pops):
    out = {"mode": mode}
    alerts = load_alerts(d, mode)
    farm = [(t, a) for t, a in alerts if a.get("rule") == "farm"]
    out["alert_lines"] = len(alerts)
    out["farm_lines"] = len(farm)
    out["farm_firing_lines"] = sum(1 for _, a in farm if a.get("state") == "firing")
    out["farm_alert_ids"] = len({a.get("id") for _, a in farm})
    flagged = set()
    for _, a in farm:
        flagged.update(members(a))
    tp = flagged & positives
    fp = flagged - positives
    out["flagged"] = sorted(flagged)
    out["tp"], out["fp"], out["fn"] = len(tp), len(fp), len(positives - flagged)
    out["precision"] = ratio(len(tp), len(flagged))
    out["recall"] = ratio(len(tp), len(positives))
    fpl = {}
    for i in fp:
        lab = id_label(ids[i]) if i in ids else "unknown"
        fpl[lab] = fpl.get(lab, 0) + 1
    out["fp_by_label"] = fpl
    fpp = {}
    for i in fp:
        for pop in sorted({a["population"] for a in ids.get(i, [])}) or ["unknown"]:
            fpp[pop] = fpp.get(pop, 0) + 1
    out["fp_by_population"] = fpp
    # time to detect, per farm population
    ttd = {}
    for pop, (start_ns, pids) in farm_pops.items():
        first = None  # lines are in the order written: the first that names the farm
        for t, a in farm:
            if pids & set(members(a)):
                first = t
                break
        ttd[pop] = None if first is None else (first - start_ns) / 1e9
    out["ttd_s"] = ttd
    # the trace against what the generator completed
    trace_path = os.path.join(d, mode, "trace.ndjson")
    per_id, n_exch, no_acct, stats = {}, 0, 0, None
    if os.path.exists(trace_path):
        with open(trace_path) as f:
            for line in f:
                if '"type":"exchange"' in line:
                    n_exch += 1
                    o = json.loads(line)
                    acct = o.get("account")
                    if acct is None:
                        no_acct += 1
                    else:
                        per_id[acct] = per_id.get(acct, 0) + 1
                elif '"type":"stats"' in line:
                    stats = json.loads(line)
    out["exchanges"] = n_exch
    out["exchanges_without_account"] = no_acct
    out["exchanges_unknown_account"] = sum(n for i, n in per_id.items() if i not in ids)
    out["events_lost"] = (stats or {}).get("events_lost")
    out["stats"] = stats
    match, mism = 0, []
    for i, accts in ids.items():
        want = sum(a["requests_completed"] for a in accts)
        got = per_id.get(i, 0)
        # a TLS connection's handshake adds exchanges: there, at least one per request
        if want == got or (gt.get("tls") and got >= want):
            match += 1
        else:
            mism.append({"id": i, "population": accts[0]["population"], "completed": want, "exchanges": got})
    out["ids_matching"] = match
    out["ids_total"] = len(ids)
    out["ids_mismatched"] = mism[:20]
    out["ids_mismatched_count"] = len(mism)
    out["per_id"] = per_id
    return out


def verify_mode(d, mode, run):
    """`hydrawatch verify` over the mode's alerts and trace: "ok (N lines)",
    "N of M lines differ", or why it could not run"""
    alerts, trace = os.path.join(d, mode, "alerts.ndjson"), os.path.join(d, mode, "trace.ndjson")
    agent = (run.get("offline_cmd") or run.get("agent_cmd") or [None])[0]
    if not agent or not os.path.exists(alerts):
        return "not run"
    try:
        r = subprocess.run([agent, "verify", "--alerts", alerts, "--trace", trace, "--quiet"],
                           capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "not run (%s)" % e
    m = re.search(r"verify: (\d+) alert lines checked, (\d+) ok, (\d+) with mismatches", r.stdout)
    if not m:
        return "failed (exit %d)" % r.returncode
    checked, bad = int(m.group(1)), int(m.group(3))
    return "ok (%d lines)" % checked if not bad else "%d of %d lines differ" % (bad, checked)


def evaluate_run(d):
    d = os.path.abspath(d)
    with open(os.path.join(d, "groundtruth.json")) as f:
        gt = json.load(f)
    with open(os.path.join(d, "generator.json")) as f:
        gen = json.load(f)
    run = {}
    if os.path.exists(os.path.join(d, "run.json")):
        with open(os.path.join(d, "run.json")) as f:
            run = json.load(f)
    with open(os.path.join(d, "scenario.json")) as f:
        sc = json.load(f)
    with open(os.path.join(d, "identity.key"), "rb") as f:
        key = f.read()
    ids = id_map(gt, key)
    positives = {i for i, accts in ids.items()
                 if any(a["label"] == "farm" for a in accts) and any(a["requests_completed"] for a in accts)}
    farm_pops = {}
    for a in gt["accounts"]:
        if a["label"] != "farm" or not a["first_request_ns"]:
            continue
        start, pids = farm_pops.get(a["population"], (None, set()))
        start = a["first_request_ns"] if start is None else min(start, a["first_request_ns"])
        if gt["identity"] == "client-ip":
            pids |= {account_id(key, "ip", x) for x in a["addresses"]}
        else:
            pids.add(account_id(key, "header", a["key"]))
        farm_pops[a["population"]] = (start, pids)
    res = {"scenario": sc.get("name") or gt["scenario"], "kind": scenario_kind(sc), "dir": d,
           "identity": gt["identity"], "tls": gt.get("tls"),
           "description": sc.get("description", ""),
           "accounts": {}, "ids": len(ids), "positives": len(positives)}
    for a in gt["accounts"]:
        res["accounts"][a["label"]] = res["accounts"].get(a["label"], 0) + 1
    mixed = [i for i, accts in ids.items() if len({a["label"] for a in accts}) > 1]
    res["mixed_ids"] = len(mixed)
    span = gen["duration"]
    res["generator"] = {k: gen.get(k) for k in ("intended", "sent", "completed", "failed", "errors",
                                                 "wall_seconds", "cpu_s", "node_cpu_s", "stopped_early")}
    res["generator"]["intended_rate"] = gen["intended"] / span
    res["generator"]["achieved_rate"] = gen["completed"] / span
    res["generator"]["late_p99_s"] = max((p["late_p99_s"] for p in gen["populations"]), default=0.0)
    res["generator"]["populations"] = gen["populations"]
    wall = run.get("load_wall_s") or gen.get("wall_seconds") or span
    res["generator"]["cpu_pct"] = 100.0 * ((gen.get("cpu_s") or 0) + (gen.get("node_cpu_s") or 0)) / wall
    res["agent"] = {"cpu_pct": run.get("agent_cpu_pct"), "rss_max_mib": (run.get("agent_rss_max_kib") or 0) / 1024,
                    "rc": run.get("agent_rc")}
    res["server_cpu_pct"] = run.get("server_cpu_pct")
    res["server"] = run.get("server")
    res["tcpdump_dropped"] = run.get("tcpdump_dropped")
    res["offline_wall_s"] = run.get("offline_wall_s")
    res["modes"] = {}
    for mode in ("live", "offline"):
        if os.path.exists(os.path.join(d, mode, "trace.ndjson")):
            res["modes"][mode] = evaluate_mode(d, mode, gt, ids, positives, farm_pops)
            res["modes"][mode]["verify"] = verify_mode(d, mode, run)
    if "live" in res["modes"] and "offline" in res["modes"]:
        lv, of = res["modes"]["live"], res["modes"]["offline"]
        res["agree_flagged"] = lv["flagged"] == of["flagged"]
        res["flagged_only_live"] = len(set(lv["flagged"]) - set(of["flagged"]))
        res["flagged_only_offline"] = len(set(of["flagged"]) - set(lv["flagged"]))
        res["agree_exchanges"] = lv["per_id"] == of["per_id"]
    for m in res["modes"].values():
        del m["per_id"]
    return res


def check_result(res):
    """Failures of the detection targets, as strings (empty: passes)."""
    fails = []
    name = res["scenario"]
    for mode, m in res["modes"].items():
        if res["kind"] == "farm":
            if m["precision"] is None or m["precision"] < PRECISION_MIN:
                fails.append("%s %s: precision %s < %.2f" % (name, mode, fmt(m["precision"]), PRECISION_MIN))
            if m["recall"] is None or m["recall"] < RECALL_MIN:
                fails.append("%s %s: recall %s < %.2f" % (name, mode, fmt(m["recall"]), RECALL_MIN))
            for pop, t in m["ttd_s"].items():
                if t is None or t > TTD_MAX_S:
                    fails.append("%s %s: farm %s first alert %s (limit %d s)" % (
                        name, mode, pop, "never" if t is None else "after %.1f s" % t, TTD_MAX_S))
        else:
            if m["farm_lines"] or m["flagged"]:
                fails.append("%s %s: %d farm alert lines, %d accounts flagged (want none)" % (
                    name, mode, m["farm_lines"], len(m["flagged"])))
    for mode, m in res["modes"].items():
        v = m.get("verify", "")
        if "differ" in v or v.startswith("failed"):
            fails.append("%s %s: hydrawatch verify: %s" % (name, mode, v))
    if not res["modes"]:
        fails.append("%s: no trace in either mode" % name)
    return fails


def fmt(x, nd=2):
    if x is None:
        return "–"
    if isinstance(x, float):
        return "%.*f" % (nd, x)
    return str(x)


def summary_text(res):
    L = ["%s (%s, %s): %d accounts %s; generator %d/%d completed (%d failed), %.1f/%.1f req/s achieved/intended" % (
        res["scenario"], res["kind"], res["identity"], sum(res["accounts"].values()),
        json.dumps(res["accounts"]), res["generator"]["completed"], res["generator"]["intended"],
        res["generator"]["failed"], res["generator"]["achieved_rate"], res["generator"]["intended_rate"])]
    for mode, m in res["modes"].items():
        L.append("  %-7s farm lines %d, flagged %d, precision %s, recall %s, FP %s, TTD %s, exchanges %d "
                 "(ids matching the generator %d/%d)" % (
                     mode, m["farm_lines"], len(m["flagged"]), fmt(m["precision"]), fmt(m["recall"]),
                     json.dumps(m["fp_by_label"]), json.dumps({k: fmt(v, 1) for k, v in m["ttd_s"].items()}),
                     m["exchanges"], m["ids_matching"], m["ids_total"]))
    if res["agent"]["cpu_pct"] is not None:
        L.append("  agent %.1f%% of a core, peak RSS %.1f MiB; server %.1f%%; generator %.1f%%" % (
            res["agent"]["cpu_pct"], res["agent"]["rss_max_mib"], res["server_cpu_pct"] or 0,
            res["generator"]["cpu_pct"]))
    L.append("  artefacts: %s" % res["dir"])
    return "\n".join(L)


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    osname = "?"
    if os.path.exists("/etc/os-release"):
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                osname = line.split("=", 1)[1].strip().strip('"')
    return "%s, %d cores (%s), %d MiB, Linux %s" % (osname, os.cpu_count(), cpu, mem, platform.release())


def agent_versions(results):
    seen = []
    for r in results:
        try:
            with open(os.path.join(r["dir"], "run.json")) as f:
                path = json.load(f).get("agent")
        except (OSError, ValueError):
            continue
        if path and path not in [p for p, _ in seen]:
            v = subprocess.run([path, "--version"], capture_output=True, text=True).stdout.strip() if os.path.exists(path) else "?"
            seen.append((path, v))
    return "; ".join("`%s` (%s)" % pv for pv in seen) or "?"


def write_results(results, errors, path, command, wall):
    rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    L = ["# Simulator results", "",
         "Written by `tests/sim/eval.py`; do not edit by hand. How to read it: tests/sim/README.md.", "",
         "- command: `%s`" % command,
         "- date: %s" % time.strftime("%Y-%m-%d %H:%M:%S %Z"),
         "- machine: %s" % machine(),
         "- revision: %s (work tree)" % (rev or "?"),
         "- agent: %s" % agent_versions(results),
         "- wall time of the whole evaluation: %.0f s" % wall, ""]
    L.append("Targets (`--check`): farm scenarios precision ≥ %.2f, recall ≥ %.2f, first farm alert within %d s of "
             "each farm's first request, in both modes; trap and organic scenarios no farm alert and no flagged "
             "account. A dash is a ratio with nothing to divide by (no account flagged: precision; never alerted: "
             "time to detect)." % (PRECISION_MIN, RECALL_MIN, TTD_MAX_S))
    L.append("")
    L.append("## Detection")
    L.append("")
    L.append("| scenario | kind | mode | accounts farm / other | farm alert lines | flagged | precision | recall | "
             "false positives by label | time to detect (s) | live = offline | verify | meets target |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        other = sum(v for k, v in r["accounts"].items() if k != "farm")
        fails = check_result(r)
        for mode, m in r["modes"].items():
            ttd = ", ".join("%s %s" % (k, fmt(v, 1)) for k, v in m["ttd_s"].items()) or "n/a"
            agree = ("yes" if r.get("agree_flagged") else "no (%d/%d only live/offline)" % (
                r.get("flagged_only_live", 0), r.get("flagged_only_offline", 0))) if "agree_flagged" in r else "n/a"
            mfails = [f for f in fails if (" %s:" % mode) in f]
            L.append("| %s | %s | %s | %d / %d | %d | %d | %s | %s | %s | %s | %s | %s | %s |" % (
                r["scenario"], r["kind"], mode, r["accounts"].get("farm", 0), other, m["farm_lines"],
                len(m["flagged"]), fmt(m["precision"]), fmt(m["recall"]),
                ", ".join("%s %d" % kv for kv in sorted(m["fp_by_label"].items())) or "0", ttd, agree,
                m.get("verify", "not run"), "yes" if not mfails else "**no**"))
    L.append("")
    L.append("## Agent, trace and generator")
    L.append("")
    L.append("Agent CPU is utime+stime from /proc over the load (from just before the first request to 1 s after "
             "the last), as % of one core; RSS is the peak (VmHWM). Exchanges: lines in the trace against requests "
             "the generator completed; `ids` counts account ids whose exchange count equals their completed "
             "requests (a TLS connection's handshake adds exchanges of its own, so on TLS runs an id matches when "
             "it has at least one exchange per completed request). Rates are requests a second over the scenario's duration; late p99 is how far behind its "
             "schedule the generator's 99th percentile request started.")
    L.append("")
    L.append("| scenario | agent CPU % | agent RSS MiB | server CPU % | generator CPU % | exchanges live / offline / "
             "completed | ids matching live / offline | events lost | intended req/s | achieved req/s | late p99 s | "
             "failed | offline replay s |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        lv, of = r["modes"].get("live", {}), r["modes"].get("offline", {})
        g = r["generator"]
        L.append("| %s | %s | %s | %s | %s | %s / %s / %d | %s / %s of %d | %s | %.1f | %.1f | %.3f | %d | %s |" % (
            r["scenario"], fmt(r["agent"]["cpu_pct"], 1), fmt(r["agent"]["rss_max_mib"], 1),
            fmt(r["server_cpu_pct"], 1), fmt(g["cpu_pct"], 1), lv.get("exchanges", "–"), of.get("exchanges", "–"),
            g["completed"], lv.get("ids_matching", "–"), of.get("ids_matching", "–"), r["ids"],
            fmt(lv.get("events_lost")), g["intended_rate"], g["achieved_rate"], g["late_p99_s"], g["failed"],
            fmt(r.get("offline_wall_s"), 1)))
    L.append("")
    L.append("## Scenarios")
    L.append("")
    for r in results:
        L.append("- **%s** (%s): %s Populations: %s. Artefacts: `%s`." % (
            r["scenario"], r["kind"], r["description"].rstrip(".") + ".",
            "; ".join("%s (%s, %s, %d accounts, %s, %d/%d completed)" % (
                p["population"], p["label"], p["driver"], p["accounts"], p["process"], p["completed"], p["intended"])
                for p in r["generator"]["populations"]), r["dir"]))
    if errors:
        L.append("")
        L.append("## Runs that did not finish")
        L.append("")
        for name, e in errors:
            L.append("- %s: %s" % (name, e))
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def all_scenarios():
    return sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(HERE, "scenarios", "*.json"))
                  if not os.path.basename(p).startswith("demo"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--scenarios", help="comma-separated names (default: every file in tests/sim/scenarios/)")
    ap.add_argument("--config")
    ap.add_argument("--out")
    ap.add_argument("--from", dest="from_dirs", nargs="+", metavar="RUN_DIR")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--duration", type=float)
    ap.add_argument("--server", default="hwserve", choices=("hwserve", "py"))
    ap.add_argument("--build")
    a = ap.parse_args()
    t0 = time.time()
    results, errors = [], []
    if a.from_dirs:
        for d in a.from_dirs:
            results.append(evaluate_run(d))
            print(summary_text(results[-1]), flush=True)
    else:
        import run
        from simlib import Skip
        out = a.out or "/tmp/hw-sim/eval-%s" % time.strftime("%Y%m%d-%H%M%S")
        names = a.scenarios.split(",") if a.scenarios else all_scenarios()
        for name in names:
            t = time.time()
            try:
                res = run.run_scenario(name, os.path.join(out, name), a.config, a.scale, a.duration, a.server,
                                       build=a.build)
            except Skip as e:
                print("SKIP %s: %s" % (name, e), flush=True)
                errors.append((name, "skipped: %s" % e))
                continue
            except run.Stopped:
                raise
            except Exception as e:  # one broken scenario does not hide the others' results
                print("ERROR %s: %s" % (name, e), flush=True)
                errors.append((name, "%s: %s" % (type(e).__name__, str(e)[:500])))
                continue
            results.append(res)
            print(summary_text(res), flush=True)
            print("  (%.0f s)" % (time.time() - t), flush=True)
    cmd = " ".join(["python3", os.path.relpath(os.path.abspath(__file__), REPO)] + sys.argv[1:])
    write_results(results, errors, a.results, cmd, time.time() - t0)
    print("eval: wrote %s (%d scenarios, %d did not run, %.0f s)" % (a.results, len(results), len(errors), time.time() - t0))
    if a.check:
        fails = [f for r in results for f in check_result(r)] + ["%s: %s" % e for e in errors]
        for f in fails:
            print("CHECK FAIL " + f)
        print("eval check: %d scenarios, %d failures" % (len(results) + len(errors), len(fails)))
        sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
