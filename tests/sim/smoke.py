#!/usr/bin/env python3
"""sim-smoke: a short pass of the simulator for `make test`.

  smoke.py [--no-detection] [--config FILE] [--build DIR] [--out DIR]

Runs two small scenarios live (tests/sim/scenarios/smoke/: a proxy farm in
waves, and a trap of a NAT office, openai npm client users and a batch
customer), replays each capture offline, and asserts what holds of the
simulator today: the generator completed every request it intended, the
ground truth is complete, the agent's trace has exactly as many exchanges
per account id as the generator completed for that account's key, the
offline replay has the same exchanges per account as live, and the evaluation scores a
hand-made alert file as it should; then what holds of detection: the
targets (eval.py --check's: the farm found, the trap untouched, live and
offline flagging the same accounts), the capture read offline twice giving
byte-identical alerts, `hydrawatch verify` recomputing every farm alert
live and offline, and failing once one member's trace line is altered.
--no-detection leaves the detection targets out.
Prints PASS/FAIL/SKIP per check and a closing
`sim: N passed, N failed, N skipped` line.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval as ev  # noqa: E402
import run  # noqa: E402
from simlib import SCENARIOS, Skip, account_id, load_scenario  # noqa: E402
from scenario import LABELS  # noqa: E402

counts = {"passed": 0, "failed": 0, "skipped": 0}


def report(name, fn):
    t = time.time()
    try:
        fn()
    except Skip as e:
        counts["skipped"] += 1
        print("SKIP %s: %s" % (name, e), flush=True)
        return
    except Exception:
        counts["failed"] += 1
        print("FAIL %s (%.1fs)" % (name, time.time() - t), flush=True)
        traceback.print_exc(file=sys.stdout)
        return
    counts["passed"] += 1
    print("PASS %s (%.1fs)" % (name, time.time() - t), flush=True)


def check(cond, msg, *args):
    if not cond:
        raise AssertionError(msg % args if args else msg)


def load(d, name):
    with open(os.path.join(d, name)) as f:
        return json.load(f)


def generator_complete(res):
    g = res["generator"]
    check(g["intended"] > 0, "the generator intended no request")
    check(g["failed"] == 0, "%d requests failed: %s", g["failed"], g.get("errors"))
    check(g["sent"] == g["intended"], "sent %d of %d intended", g["sent"], g["intended"])
    check(g["completed"] == g["intended"], "completed %d of %d intended", g["completed"], g["intended"])
    for p in g["populations"]:
        check(p["completed"] > 0, "population %s completed no request", p["population"])


def ground_truth_complete(res):
    d = res["dir"]
    gt, sc, gen = load(d, "groundtruth.json"), load(d, "scenario.json"), load(d, "generator.json")
    accts = gt["accounts"]
    check({a["population"] for a in accts} == {p["name"] for p in sc["populations"]},
          "populations in the ground truth differ from the scenario's")
    check(len({a["key"] for a in accts}) == len(accts), "account keys are not unique")
    for a in accts:
        for k in ("label", "population", "key", "addresses", "first_request_ns", "requests_completed"):
            check(k in a, "account %d lacks %s", a["index"], k)
        check(a["label"] in LABELS, "account %d has label %r", a["index"], a["label"])
        check(len(a["key"]) >= 20, "account %d has a short key", a["index"])
        if a["requests_sent"]:
            check(a["addresses"] and all(x.startswith("127.") for x in a["addresses"]),
                  "account %d: addresses %r", a["index"], a["addresses"])
            check(isinstance(a["first_request_ns"], int) and
                  gt["start_at"] * 1e9 - 1e9 <= a["first_request_ns"] <= gt["start_at"] * 1e9 + 1e9 * (gen["duration"] + 5),
                  "account %d: first request time %r outside the run", a["index"], a["first_request_ns"])
    check(sum(a["requests_completed"] for a in accts) == gen["completed"],
          "ground truth counts %d completed requests, the generator %d",
          sum(a["requests_completed"] for a in accts), gen["completed"])
    # every request record belongs to an account of the ground truth, at its addresses
    by_idx = {a["index"]: a for a in accts}
    with open(os.path.join(d, "requests.ndjson")) as f:
        for line in f:
            r = json.loads(line)
            check(r["a"] in by_idx and r["src"] in by_idx[r["a"]]["addresses"], "request %r not in the ground truth", r)


def trace_matches_generator(res, mode="live"):
    m = res["modes"].get(mode)
    check(m is not None, "no %s trace", mode)
    check(m["events_lost"] == 0, "%s: %s events lost", mode, m["events_lost"])
    check(m["exchanges_without_account"] == 0, "%s: %d exchanges without an account", mode, m["exchanges_without_account"])
    check(m["exchanges_unknown_account"] == 0, "%s: %d exchanges of accounts not in the ground truth", mode,
          m["exchanges_unknown_account"])
    check(m["ids_mismatched_count"] == 0, "%s: %d account ids whose exchanges differ from their completed requests: %s",
          mode, m["ids_mismatched_count"], m["ids_mismatched"][:5])
    check(m["exchanges"] == res["generator"]["completed"], "%s: %d exchanges for %d completed requests", mode,
          m["exchanges"], res["generator"]["completed"])


def offline_matches_live(res):
    check(res.get("tcpdump_dropped") == 0, "tcpdump dropped %s packets", res.get("tcpdump_dropped"))
    trace_matches_generator(res, "offline")
    check(res.get("agree_exchanges"), "offline exchanges per account differ from live")


def evaluator_scores_hand_made_alerts(res):
    """A hand-made alert file over a finished run: every farm account but one
    flagged, plus one organic account, across two alert lines (a firing and a
    re-sent firing), a volume alert that must not count, and a resolve."""
    src = res["dir"]
    tmp = tempfile.mkdtemp(prefix="hw-sim-evaltest-")
    try:
        for f in ("groundtruth.json", "generator.json", "scenario.json", "identity.key", "run.json"):
            shutil.copy(os.path.join(src, f), tmp)
        os.makedirs(os.path.join(tmp, "live"))
        open(os.path.join(tmp, "live", "trace.ndjson"), "w").close()
        gt = load(tmp, "groundtruth.json")
        key = open(os.path.join(tmp, "identity.key"), "rb").read()
        farm = [a for a in gt["accounts"] if a["label"] == "farm" and a["requests_completed"]]
        other = [a for a in gt["accounts"] if a["label"] != "farm" and a["requests_completed"]]
        check(len(farm) >= 4 and other, "the run has too few accounts for the test")
        fid = [account_id(key, "header", a["key"]) for a in farm]
        oid = account_id(key, "header", other[0]["key"])
        start = min(a["first_request_ns"] for a in farm)
        t1 = start + 7 * 10**9
        half = len(fid) // 2
        lines = [
            {"id": "volume-1", "rule": "volume", "state": "firing", "starts_ns": start,
             "group": {"members": [oid, fid[-1]]}},
            {"id": "farm-1", "rule": "farm", "state": "firing", "starts_ns": t1 - 10**9,
             "evidence": {"window": {"start_ns": t1 - 10**9, "end_ns": t1}}, "group": {"members": fid[:half]}},
            {"id": "farm-1", "rule": "farm", "state": "firing", "starts_ns": t1 - 10**9,
             "evidence": {"window": {"start_ns": t1 + 10**9, "end_ns": t1 + 2 * 10**9}},
             "group": {"members": fid[:-1] + [oid, "0" * 24]}},
            {"id": "farm-1", "rule": "farm", "state": "resolved", "starts_ns": t1 - 10**9,
             "group": {"members": fid[:-1] + [oid]}},
        ]
        with open(os.path.join(tmp, "live", "alerts.ndjson"), "w") as f:
            for l in lines:
                f.write(json.dumps(l) + "\n")
        r = ev.evaluate_run(tmp)
        m = r["modes"]["live"]
        n = len(fid)
        check(m["farm_lines"] == 3 and m["farm_firing_lines"] == 2, "farm lines %d/%d", m["farm_lines"], m["farm_firing_lines"])
        check(m["tp"] == n - 1 and m["fp"] == 2 and m["fn"] == 1, "tp/fp/fn %d/%d/%d", m["tp"], m["fp"], m["fn"])
        check(abs(m["precision"] - (n - 1) / (n + 1)) < 1e-9, "precision %r", m["precision"])
        check(abs(m["recall"] - (n - 1) / n) < 1e-9, "recall %r", m["recall"])
        check(m["fp_by_label"] == {other[0]["label"]: 1, "unknown": 1}, "fp by label %r", m["fp_by_label"])
        ttd = m["ttd_s"][farm[0]["population"]]
        check(ttd is not None and abs(ttd - 7.0) < 1e-6, "time to detect %r, want 7.0", ttd)
        fails = ev.check_result(r)
        check(any("precision" in f for f in fails) and not any("recall" in f for f in fails),
              "check_result: %r", fails)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _verify(res, alerts, trace):
    agent = json.load(open(os.path.join(res["dir"], "run.json")))["offline_cmd"][0]
    return subprocess.run([agent, "verify", "--alerts", alerts, "--trace", trace, "--quiet"],
                          capture_output=True, text=True, timeout=300)


def verify_recomputes(res):
    """hydrawatch verify recomputes every farm alert line, live and offline"""
    for mode in ("live", "offline"):
        d = os.path.join(res["dir"], mode)
        r = _verify(res, os.path.join(d, "alerts.ndjson"), os.path.join(d, "trace.ndjson"))
        check(r.returncode == 0, "%s: verify exited %d: %s", mode, r.returncode, r.stdout[-1500:])
        last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
        check(last.startswith("verify: ") and " 0 with mismatches" in last, "%s: %s", mode, last)


def verify_catches_an_altered_line(res):
    """one exchange line of a member, as of its evaluation, altered: verify fails"""
    d = os.path.join(res["dir"], "offline")
    first = None
    for line in open(os.path.join(d, "alerts.ndjson")):
        a = json.loads(line)
        if a.get("rule") == "farm" and a.get("state") == "firing":
            first = a
            break
    check(first is not None, "no farm alert to alter a line under")
    member, m = next(iter(first["evidence"]["members"].items()))
    lines = open(os.path.join(d, "trace.ndjson")).read().splitlines()
    target = None
    for i, l in enumerate(lines):
        x = json.loads(l)
        handshake = "ja4" in x and x.get("index") == 1  # not a request (docs/FARM.md)
        if x.get("account") == member and x["ts_ns"] <= m["evaluated_ns"] and not handshake:
            target = i
    check(target is not None, "member %s has no exchange line", member)
    x = json.loads(lines[target])
    x["req_bytes"] += 700
    lines[target] = json.dumps(x, separators=(",", ":"))
    altered = os.path.join(res["dir"], "altered-trace.ndjson")
    with open(altered, "w") as f:
        f.write("\n".join(lines) + "\n")
    r = _verify(res, os.path.join(d, "alerts.ndjson"), altered)
    check(r.returncode == 1, "verify exited %d on an altered line, want 1: %s", r.returncode, r.stdout[-800:])


def offline_is_deterministic(res):
    """the same capture read offline twice gives byte-identical alerts"""
    cmd = list(json.load(open(os.path.join(res["dir"], "run.json")))["offline_cmd"])
    again = os.path.join(res["dir"], "offline-again")
    os.makedirs(again, exist_ok=True)
    for flag, name in (("--trace", "trace.ndjson"), ("--alerts", "alerts.ndjson")):
        cmd[cmd.index(flag) + 1] = os.path.join(again, name)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, "second offline read exited %d: %s", r.returncode, r.stderr[-500:])
    a = open(os.path.join(res["dir"], "offline", "alerts.ndjson"), "rb").read()
    b = open(os.path.join(again, "alerts.ndjson"), "rb").read()
    check(a == b, "the two offline reads' alerts differ (%d and %d bytes)", len(a), len(b))


def detection(res):
    fails = ev.check_result(res)
    if not res.get("agree_flagged"):
        fails.append("live and offline flagged different accounts (%d only live, %d only offline)" % (
            res.get("flagged_only_live", 0), res.get("flagged_only_offline", 0)))
    check(not fails, "; ".join(fails))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-detection", action="store_true",
                    help="leave out the detection targets (for simulator work on an agent without them)")
    ap.add_argument("--config", help="agent --config file (sim.mk passes tests/sim/drill.conf when it exists)")
    ap.add_argument("--build")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    out = a.out or tempfile.mkdtemp(prefix="hw-sim-smoke-")
    t0 = time.time()
    for name in ("smoke-farm", "smoke-trap"):
        sc = load_scenario(os.path.join(SCENARIOS, "smoke", name + ".json"))
        holder = {}

        def go():
            holder["res"] = run.run_scenario(sc["_path"], os.path.join(out, name), config=a.config, build=a.build,
                                            quiet=True)
        report("%s: run (live and offline)" % name, go)
        res = holder.get("res")
        checks = [("generator completed every request", generator_complete),
                  ("ground truth complete", ground_truth_complete),
                  ("trace exchanges per account == generator's", trace_matches_generator),
                  ("offline replay has the same exchanges as live", offline_matches_live)]
        if name == "smoke-farm":
            checks.append(("evaluation scores hand-made alerts", evaluator_scores_hand_made_alerts))
        checks.append(("detection targets", detection))
        checks.append(("offline twice: byte-identical alerts", offline_is_deterministic))
        checks.append(("verify recomputes every farm alert, live and offline", verify_recomputes))
        if name == "smoke-farm":
            checks.append(("verify fails on one altered trace line", verify_catches_an_altered_line))
        for cname, fn in checks:
            full = "%s: %s" % (name, cname)
            if res is None:
                counts["skipped"] += 1
                print("SKIP %s: the run did not finish" % full)
            elif fn is detection and a.no_detection:
                counts["skipped"] += 1
                print("SKIP %s: --no-detection" % full)
            else:
                report(full, lambda: fn(res))
        if res is not None:
            print("  %s" % ev.summary_text(res).replace("\n", "\n  "), flush=True)
    if counts["failed"] or a.out:
        print("sim-smoke: %.0f s, artefacts in %s" % (time.time() - t0, out))
    else:
        shutil.rmtree(out, ignore_errors=True)  # kept only when something failed
        print("sim-smoke: %.0f s" % (time.time() - t0))
    print("sim: %d passed, %d failed, %d skipped" % (counts["passed"], counts["failed"], counts["skipped"]))
    sys.exit(1 if counts["failed"] else 0)


if __name__ == "__main__":
    main()
