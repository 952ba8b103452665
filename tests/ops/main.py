#!/usr/bin/env python3
"""Operations tests: what an SRE installs beside the agent (the Prometheus
rules, the Grafana dashboard, the Alertmanager configuration) against the
agent and real peers.

  HW_BUILD=build-dir python3 tests/ops/main.py      (HW_TEST=substring: some)

- every metric the rules and the dashboard name is one the agent exports
  (exporter/metrics.c's families; the end-to-end test also checks a live
  scrape);
- the dashboard is a well-formed Grafana dashboard with the sections the
  operators need;
- a real Alertmanager with deploy/alertmanager/alertmanager.yml groups farm
  alerts by farm group (not host), routes agent health apart, and inhibits
  a farm member's volume alert on the same host (no root needed);
- end to end (root, cgroup v2, BTF): two agents, each watching its own
  cgroup and port with its own host name, see a slice each of one simulated
  farm; a real Prometheus with the shipped rules fires the fleet alert; the
  shipped Alertmanager config delivers the farm alerts and the fleet alert
  to a webhook as one group; every dashboard query returns data.

Prints PASS/FAIL/SKIP per test and `ops: N passed, N failed, N skipped`.
"""
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from contextlib import ExitStack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from opslib import (PROMETHEUS_OWN, PROVISIONING, REPO, Skip, Webhook,  # noqa: E402
                    alertmanager_config, all_panels, build_dir, check, daemon,
                    dashboard_queries, exported_families, free_port, grafana_expr, http, load_dashboard,
                    load_rules, load_yaml, need, prom_query, promql_metric_names, recorded_names,
                    rule_exprs, sample_names, start_alertmanager, start_prometheus, wait_for)

sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import hwtest  # noqa: E402

SIM = os.path.join(REPO, "tests", "sim")
DRILL_CONF = os.path.join(SIM, "drill.conf")
FLEET_SCENARIO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fleet-farm.json")


# --- metric names ---------------------------------------------------------------

def unknown_names(queries, exported, recorded):
    """[(where, name)] of the names queries select that neither the agent
    exports, nor a recording rule records, nor Prometheus makes."""
    out = []
    for where, expr in queries:
        names = promql_metric_names(expr)
        check(names, "%s: no metric name found in %r", where, expr)
        for n in sorted(names - exported - PROMETHEUS_OWN - recorded):
            out.append((where, n))
    return out


def shipped_queries():
    return rule_exprs(load_rules()) + [(w, e) for w, e, _ in dashboard_queries(load_dashboard())]


def test_rules_and_dashboard_name_only_exported_metrics(tmp):
    """Every metric named in deploy/prometheus's rules and deploy/grafana's
    dashboard is one exporter/metrics.c declares (a family, or a histogram's
    _bucket/_sum/_count), a recording rule's, or Prometheus's own (up,
    ALERTS)."""
    # the name reader, on expressions written to trip it
    cases = {
        'sum by (instance, reason) (rate(a_total{job="$job",x=~"y(z)"}[5m])) / on (job) group_left (v) b offset 30m':
            {"a_total", "b"},
        'label_replace(c, "tooling_key", "$1", "key", "(.+)") or vector(0)': {"c"},
        'topk(10, sum without (le) (d_bucket)) > bool 2 unless e:rec:rate5m': {"d_bucket", "e:rec:rate5m"},
        'histogram_quantile(0.99, sum by (le) (rate(f_bucket[$__rate_interval])))': {"f_bucket"},
        'count(count by (key) (g{key_kind="tooling"})) >= 2 and on() (time() - h > 9000)': {"g", "h"},
        'max by (a, b) (ALERTS{alertname=~"X.+"})': {"ALERTS"},
    }
    for expr, want in cases.items():
        got = promql_metric_names(expr)
        check(got == want, "names in %r: %s, want %s", expr, sorted(got), sorted(want))
    fams = exported_families()
    check(len(fams) >= 40 and "hydrawatch_exchanges_total" in fams and
          fams.get("hydrawatch_request_bytes") == "histogram",
          "exporter/metrics.c's families were not read (%d found)", len(fams))
    exported = sample_names(fams)
    recorded = recorded_names(load_rules())
    queries = shipped_queries()
    check(len(queries) >= 40, "only %d queries read from the rules and the dashboard", len(queries))
    # the check reports what it should: a name nobody exports, an unrecorded rule name
    planted = unknown_names([("planted", 'sum(rate(hydrawatch_no_such_total[5m])) / hydrawatch:nothing:rate5m')],
                            exported, recorded)
    check([n for _, n in planted] == ["hydrawatch:nothing:rate5m", "hydrawatch_no_such_total"],
          "a planted unknown name was not reported: %s", planted)
    bad = unknown_names(queries, exported, recorded)
    check(not bad, "names the agent does not export: %s",
          "; ".join("%s: %s" % (w, n) for w, n in bad))
    names = set()
    for _, e in queries:
        names |= promql_metric_names(e)
    print("    %d queries name %d metrics, all exported or recorded" % (len(queries), len(names)))


# --- the dashboard ----------------------------------------------------------------

def test_dashboard_is_well_formed(tmp):
    """deploy/grafana/hydrawatch.json: a Grafana dashboard whose panels
    each have a unique id, a place on the 24-column grid overlapping no
    other, the datasource variable and queries with unique refIds; the four
    sections (fleet overview, per-host health, fingerprints, alerts); every
    variable a query uses is defined; the provisioning files parse and point
    the provider at the dashboard's file name."""
    d = load_dashboard()
    for k in ("uid", "title", "schemaVersion", "panels", "templating", "time"):
        check(k in d, "dashboard lacks %s", k)
    check(d["uid"] == "hydrawatch", "uid %r", d["uid"])
    variables = {v["name"] for v in d["templating"]["list"]}
    check({"datasource", "job", "instance"} <= variables, "variables: %s", sorted(variables))
    rows = [p["title"] for p in d["panels"] if p["type"] == "row"]
    for want in ("Fleet overview", "Per-host health", "Fingerprints", "Alerts"):
        check(want in rows, "no %r row (rows: %s)", want, rows)
    ids, cells = set(), {}
    for p in all_panels(d):
        check(p["id"] not in ids, "panel id %d twice", p["id"])
        ids.add(p["id"])
        g = p["gridPos"]
        check(g["x"] >= 0 and g["w"] > 0 and g["x"] + g["w"] <= 24 and g["h"] > 0,
              "panel %r: gridPos %s off the grid", p["title"], g)
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                check((x, y) not in cells, "panels %r and %r overlap at %d,%d", cells.get((x, y)), p["title"], x, y)
                cells[(x, y)] = p["title"]
        if p["type"] == "row":
            continue
        check(p.get("title") and p["type"] in ("timeseries", "stat", "table", "state-timeline", "bargauge",
                                               "gauge", "text"), "panel %r: type %r", p.get("title"), p["type"])
        check(p.get("datasource", {}).get("uid") == "${datasource}", "panel %r: datasource %s", p["title"],
              p.get("datasource"))
        refs = [t["refId"] for t in p.get("targets", [])]
        check(refs and len(set(refs)) == len(refs), "panel %r: refIds %s", p["title"], refs)
        for t in p["targets"]:
            check(t.get("expr", "").strip(), "panel %r target %s: no expr", p["title"], t["refId"])
    for where, expr, _ in dashboard_queries(d):
        for v in re.findall(r"\$\{?([a-zA-Z_]\w*)", expr):
            check(v in variables or v.startswith("__"), "%s uses $%s, which is not defined", where, v)
    prov = load_yaml(os.path.join(PROVISIONING, "dashboards", "hydrawatch.yaml"))
    path = prov["providers"][0]["options"]["path"]
    # the Debian package installs deploy/X at /usr/share/hydrawatch/X (deploy/deb.sh)
    check(prov["apiVersion"] == 1 and path == "/usr/share/hydrawatch/grafana",
          "dashboard provider path %r: not where the package puts deploy/grafana", path)
    ds = load_yaml(os.path.join(PROVISIONING, "datasources", "prometheus.yaml"))
    check(ds["datasources"][0]["type"] == "prometheus", "datasource example: %s", ds)
    print("    %d panels, %d queries; provider path %s" % (len(ids), len(dashboard_queries(d)), path))


# --- Alertmanager -----------------------------------------------------------------

def alert_key(a):
    lb = a["labels"]
    return (lb["alertname"], lb.get("instance", ""), lb.get("alert_id", ""))


def delivered(hook):
    """{(receiver path, group labels as sorted tuple): {alert key: status}}
    over every notification so far (the latest status of each alert)."""
    out = {}
    for path, n in [(p, b) for p, b in hook.got]:
        g = out.setdefault((path, tuple(sorted(n["groupLabels"].items()))), {})
        for a in n["alerts"]:
            g[alert_key(a)] = a["status"]
    return out


def test_alertmanager_groups_and_inhibits(tmp):
    """A real Alertmanager with the shipped configuration (its receivers'
    URL pointed at a webhook the test runs, its timers cut to seconds): two
    hosts' farm alerts on one tooling key and the fleet alert arrive as one
    notification grouped by tooling_key; a farm without a tooling key by
    farm_id; a volume alert of a farm member on the same host is inhibited,
    while one on another host and one of an account in no farm are
    delivered; agent-health alerts go to the operators' receiver, per alert
    and host, and nothing crosses between the receivers."""
    with ExitStack() as st:
        hook = Webhook(st)
        am = start_alertmanager(st, tmp, alertmanager_config(tmp, hook.url))
        K, F, P = "1f2e3d4c5b6a7988", "farm-5d1c0ffee0d1c0de", "farm-0badcafe0badcafe"

        def farm(inst, fid, tooling=None):
            lb = {"alertname": "hydrawatch_farm", "rule": "farm", "severity": "warning", "alert_id": fid,
                  "instance": inst, "farm_id": fid}
            if tooling:
                lb["tooling_key"] = tooling
            return {"labels": lb, "annotations": {"summary": "farm on %s" % inst}}

        def volume(inst, vid, fid=None):
            lb = {"alertname": "hydrawatch_volume", "rule": "volume", "severity": "warning", "alert_id": vid,
                  "instance": inst}
            if fid:
                lb["farm_id"] = fid
            return {"labels": lb, "annotations": {"summary": "volume on %s" % inst}}

        alerts = [
            farm("h1", F, K), farm("h2", F, K),
            {"labels": {"alertname": "HydrawatchFleetFarm", "severity": "warning", "tooling_key": K},
             "annotations": {"summary": "one farm seen on 2 hosts"}},
            farm("h1", P),
            volume("h1", "volume-member", F),  # a member of F on h1, where F fires: inhibited
            volume("h3", "volume-elsewhere", F),  # F does not fire on h3: delivered
            volume("h2", "volume-other-farm", P),  # P fires on h1 only: delivered
            volume("h1", "volume-alone"),  # in no farm: delivered
            {"labels": {"alertname": "HydrawatchDown", "severity": "warning", "job": "hydrawatch",
                        "instance": "h1:9477"}, "annotations": {"summary": "down"}},
            {"labels": {"alertname": "HydrawatchEventsLost", "severity": "warning", "job": "hydrawatch",
                        "instance": "h2:9477"}, "annotations": {"summary": "lost"}},
        ]
        status, body = http(am + "/api/v2/alerts", alerts)
        check(status == 200, "posting alerts: HTTP %d %s", status, body)
        farm_rx, ops_rx = "/hydrawatch/farm", "/hydrawatch/ops"
        want = {
            (farm_rx, (("tooling_key", K),)): {("hydrawatch_farm", "h1", F), ("hydrawatch_farm", "h2", F),
                                               ("HydrawatchFleetFarm", "", "")},
            (farm_rx, (("farm_id", P),)): {("hydrawatch_farm", "h1", P)},
            (farm_rx, (("alertname", "hydrawatch_volume"), ("instance", "h1"))):
                {("hydrawatch_volume", "h1", "volume-alone")},
            (farm_rx, (("alertname", "hydrawatch_volume"), ("instance", "h2"))):
                {("hydrawatch_volume", "h2", "volume-other-farm")},
            (farm_rx, (("alertname", "hydrawatch_volume"), ("instance", "h3"))):
                {("hydrawatch_volume", "h3", "volume-elsewhere")},
            (ops_rx, (("alertname", "HydrawatchDown"), ("instance", "h1:9477"))):
                {("HydrawatchDown", "h1:9477", "")},
            (ops_rx, (("alertname", "HydrawatchEventsLost"), ("instance", "h2:9477"))):
                {("HydrawatchEventsLost", "h2:9477", "")},
        }

        def as_sets():
            return {g: set(a) for g, a in delivered(hook).items()}
        wait_for(lambda: all(as_sets().get(g, set()) >= a for g, a in want.items()), 30,
                 "every group at its receiver")
        time.sleep(3)  # two more group intervals: anything inhibited or misrouted would show
        got = as_sets()
        check(got == want, "notifications by receiver and group:\n got %s\nwant %s",
              json.dumps(sorted((list(k), sorted(v)) for k, v in got.items())),
              json.dumps(sorted((list(k), sorted(v)) for k, v in want.items())))
        _, body = http(am + "/api/v2/alerts?inhibited=true&silenced=false&active=true")
        member = [a for a in json.loads(body) if a["labels"].get("alert_id") == "volume-member"]
        check(member and member[0]["status"]["state"] == "suppressed" and member[0]["status"]["inhibitedBy"],
              "the farm member's volume alert is not shown inhibited: %s", member)
        print("    %d notifications, %d groups; the member's volume alert inhibited" % (len(hook.got), len(got)))


# --- end to end: two agents, Prometheus, Alertmanager ----------------------------

def preflight_live():
    if os.geteuid() != 0:
        raise Skip("needs root (the agents load BPF programs)")
    hwtest.cgroup2_root()
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        raise Skip("kernel has no BTF (/sys/kernel/btf/vmlinux)")
    need("prometheus", "prometheus-alertmanager", "unshare", "openssl", "nice")
    b = build_dir()
    for f in ("hydrawatch", "tools/hwserve"):
        if not os.access(os.path.join(b, f), os.X_OK):
            raise Skip("no %s in %s (make OUTPUT=%s all)" % (f, b, b))


def read_alerts(path):
    out = []
    if os.path.exists(path):
        for line in open(path):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass  # a line being written
    return out


def make_cert(tmp):
    key, crt = os.path.join(tmp, "tls.key"), os.path.join(tmp, "tls.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=ops.test"],
                   check=True, capture_output=True)
    return crt, key


def tls_requests(port, n=6):
    """A few TLS clients (their JA4 is what the dashboard's JA4 panel shows)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for i in range(n):
        raw = socket.create_connection(("127.0.0.1", port))
        s = ctx.wrap_socket(raw, server_hostname="ops.test")
        for _ in range(2):
            hwtest.http_request(s, "GET", "/bytes?n=300", extra_headers=["x-api-key: tls-%d" % i])
        s.close()


def test_fleet_end_to_end(tmp):
    """Two agents (cgroups, ports and host names of their own, one identity
    key) each see a slice of one farm from the simulator's load generator
    under tests/sim/drill.conf. Each raises a farm alert with the same
    tooling key; a real Prometheus scraping both with the shipped rules
    fires HydrawatchFleetFarm on that key; a real Alertmanager with the
    shipped configuration delivers both farm alerts and the fleet alert to
    the farm receiver as one group (tooling_key), none to the operators';
    every rule evaluates without error; every metric the rules and the
    dashboard name is in both agents' live /metrics; every dashboard query
    (panels, annotations, variables) parses and returns data."""
    preflight_live()
    sys.path.insert(0, SIM)
    import simlib
    b = build_dir()
    agent, hwserve = os.path.join(b, "hydrawatch"), os.path.join(b, "tools", "hwserve")
    t_start = time.time()
    with ExitStack() as st:
        hook = Webhook(st)
        am = start_alertmanager(st, tmp, alertmanager_config(tmp, hook.url))
        key = simlib.write_key(os.path.join(tmp, "identity.key"))  # one key for the fleet: one id per account
        crt, tkey = make_cert(tmp)
        hosts = {}
        for name in ("host-a", "host-b"):
            cg = simlib.Cgroup("hw-ops-" + name)
            st.callback(cg.remove)
            h = {"port": free_port(), "mport": free_port(), "alerts": os.path.join(tmp, name + ".alerts.ndjson")}
            srv = [hwserve, "127.0.0.1", str(h["port"]), "--ttft-ms", "20", "--token-rate", "800",
                   "--default-tokens", "64"]
            servers = [srv]
            ports = [str(h["port"])]
            if name == "host-b":  # and a TLS endpoint, for the JA4 panel
                h["tls_port"] = free_port()
                servers.append([hwserve, "127.0.0.1", str(h["tls_port"]), "--tls", crt, tkey])
                ports.append(str(h["tls_port"]))
            for cmd in servers:
                p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     preexec_fn=cg.enter_fn())
                st.callback(lambda p=p: (p.kill(), p.wait()))
                check(p.stdout.readline().strip() == b"ready", "hwserve did not start: %s", cmd)
            # a host name of its own (a UTS namespace): the agent labels its
            # Alertmanager alerts instance=<host name>, as on a real fleet
            acmd = ["unshare", "--uts", "--", "sh", "-c", 'hostname "$0" && exec "$@"', name, agent,
                    "--config", DRILL_CONF, "--cgroup", cg.path, "--ports", ",".join(ports),
                    "--identity", "header:x-api-key", "--identity-key", key,
                    "--listen", "127.0.0.1:%d" % h["mport"], "--alerts", h["alerts"], "--alertmanager", am]
            err = os.path.join(tmp, name + ".agent.log")
            ap = daemon(st, acmd, err)
            wait_for(lambda: "watching" in open(err).read() or ap.poll() is not None, 20, name + " agent start")
            check(ap.poll() is None, "%s agent exited: %s", name, open(err).read()[-1500:])
            hosts[name] = h
        prom = start_prometheus(st, tmp, {n: "127.0.0.1:%d" % h["mport"] for n, h in hosts.items()}, am)
        t_prom = time.time()

        # the farm: the same population on both hosts, its accounts split between them
        with open(FLEET_SCENARIO) as f:
            base = json.load(f)
        start_at = time.time() + 1.0
        for i, (name, h) in enumerate(sorted(hosts.items())):
            sc = dict(base, name="fleet-slice-%s" % name, seed=base["seed"] + i)
            path = os.path.join(tmp, "%s.scenario.json" % name)
            with open(path, "w") as f:
                json.dump(sc, f)
            out = os.path.join(tmp, "load-" + name)
            lg = daemon(st, ["nice", "-n", "5", sys.executable, os.path.join(SIM, "loadgen.py"), "--scenario", path,
                             "--port", str(h["port"]), "--out", out, "--start-at", "%.3f" % start_at],
                        os.path.join(tmp, name + ".loadgen.log"))
            h["loadgen"] = lg
        tls_requests(hosts["host-b"]["tls_port"])

        # each host's farm alert, with one tooling key
        def farm_keys():
            keys = {}
            for name, h in hosts.items():
                for a in read_alerts(h["alerts"]):
                    if a.get("rule") == "farm" and a.get("state") == "firing" and a["group"].get("tooling_key"):
                        keys[name] = (a["group"]["tooling_key"], a["id"], a.get("farm_id"))
            return len(keys) == len(hosts) and keys
        keys = wait_for(farm_keys, 60, "a farm alert with a tooling key on both hosts", every=0.5)
        t_farm = time.time()
        check(len({k for k, _, _ in keys.values()}) == 1, "the hosts' farm alerts differ in tooling key: %s", keys)
        K = keys["host-a"][0]
        for name, (_, aid, fid) in keys.items():
            check(fid == aid, "%s: farm alert %s has farm_id %r, want its id", name, aid, fid)
        print("    farm alerts on both hosts %.1f s after the load began, tooling key %s" % (t_farm - start_at, K))

        # Prometheus: the fleet alert on that key
        def fleet_firing():
            r = prom_query(prom, 'ALERTS{alertname="HydrawatchFleetFarm",alertstate="firing"}')["result"]
            return r
        fired = wait_for(fleet_firing, 20, "HydrawatchFleetFarm firing in Prometheus")
        check([x["metric"].get("tooling_key") for x in fired] == [K], "fleet alerts: %s", fired)
        t_fleet = time.time()

        # Alertmanager: one group at the farm receiver with both hosts' alerts and the fleet alert
        group = ("/hydrawatch/farm", (("tooling_key", K),))
        want = {("hydrawatch_farm", "host-a", keys["host-a"][1]), ("hydrawatch_farm", "host-b", keys["host-b"][1]),
                ("HydrawatchFleetFarm", "", "")}
        wait_for(lambda: set(delivered(hook).get(group, {})) >= want, 20,
                 "the farm group (both hosts and the fleet alert) at the webhook")
        t_hook = time.time()
        got = delivered(hook)
        check(not [g for g in got if g[0] != "/hydrawatch/farm"], "alerts reached the operators' receiver: %s",
              [g for g in got if g[0] != "/hydrawatch/farm"])
        # grouped by the farm, never by host; the agents' alerts carry the farm's id
        for n in hook.notifications("/hydrawatch/farm"):
            for a in n["alerts"]:
                lb = a["labels"]
                if lb["alertname"] in ("hydrawatch_farm", "HydrawatchFleetFarm"):
                    check(n["groupLabels"] == {"tooling_key": K}, "%s of %s notified in group %s",
                          lb["alertname"], lb.get("instance"), n["groupLabels"])
                if lb["alertname"] == "hydrawatch_farm":
                    check(lb.get("farm_id") == lb.get("alert_id") and lb.get("tooling_key") == K,
                          "farm alert labels: %s", lb)
        print("    fleet alert in Prometheus +%.1f s, farm group at the webhook +%.1f s" % (
            t_fleet - t_farm, t_hook - t_farm))

        # every rule evaluates without error on the agents' real series
        _, body = http(prom + "/api/v1/rules")
        bad = [(r["name"], r.get("lastError")) for g in json.loads(body)["data"]["groups"] for r in g["rules"]
               if r.get("health") != "ok"]
        check(not bad, "rules in error: %s", bad)

        # the names the rules and the dashboard use, in each agent's live exposition
        recorded = recorded_names(load_rules())
        used = set()
        for _, e in shipped_queries():
            used |= promql_metric_names(e)
        used -= recorded | PROMETHEUS_OWN
        for name, h in hosts.items():
            _, text = http("http://127.0.0.1:%d/metrics" % h["mport"])
            samples = hwtest.parse_metrics(text)
            live = {n for n, _ in samples}
            check(used <= live, "%s: names used but not in its /metrics: %s", name, sorted(used - live))
            fp = sum(1 for n, _ in samples if n.startswith("hydrawatch_fingerprint_"))
            print("    %s exports %d series (%d of them per fingerprint)" % (name, len(samples), fp))

        # every dashboard query, as Grafana would send it
        d = load_dashboard()
        # a range query's last step must lie after the fleet alert's first
        # evaluation: two evaluations on, and steps that end at `now`
        time.sleep(max(0.0, t_fleet + 2 - time.time()))
        now = time.time()
        first = now - int(now - t_prom)
        empty, failed = [], []
        for where, expr, instant in dashboard_queries(d):
            q = grafana_expr(expr, {"job": "hydrawatch", "instance": ".+", "datasource": "prometheus"}, "10s")
            try:
                data = (prom_query(prom, q) if instant else
                        prom_query(prom, q, instant=False, start=first, end=now, step="1s"))
            except AssertionError as e:
                failed.append("%s: %s" % (where, e))
                continue
            if not data["result"]:
                empty.append("%s: %s" % (where, q))
        check(not failed, "dashboard queries that failed:\n  %s", "\n  ".join(failed))
        check(not empty, "dashboard queries without data:\n  %s", "\n  ".join(empty))
        print("    %d dashboard queries returned data; %.0f s in all" % (
            len(dashboard_queries(d)), time.time() - t_start))
        for h in hosts.values():
            h["loadgen"].send_signal(signal.SIGTERM)


TESTS = [
    test_rules_and_dashboard_name_only_exported_metrics,
    test_dashboard_is_well_formed,
    test_alertmanager_groups_and_inhibits,
    test_fleet_end_to_end,
]


def main():
    passed, failed, skipped = hwtest.run(TESTS, prefix="hw-ops-")
    print("ops: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
