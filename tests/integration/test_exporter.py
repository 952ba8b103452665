#!/usr/bin/env python3
"""The exporter and the alert sinks against real peers: Prometheus scrapes
the agent, promtool lints the exposition, Alertmanager receives a volume
alert and its resolve, an Alertmanager that is down costs the event loop
nothing, memory stays bounded at a million accounts, and a scrape during
heavy ingest is never torn."""
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack

sys.path.insert(0, os.path.dirname(__file__))
from hwtest import (main, BUILD, HWLOAD, Skip, check, connect, free_port, http_request,  # noqa: E402
                    lines_of, make_key, metric, parse_metrics, run, wait_for)
from test_dataplane import start_agent, start_server, world  # noqa: E402
from test_fingerprints import need  # noqa: E402


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def daemon(st, cmd, tmp, name):
    log = open(os.path.join(tmp, name + ".log"), "w")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    st.callback(log.close)
    st.callback(p.wait)
    st.callback(p.kill)
    return p


def test_prometheus_scrapes_and_promtool_is_clean(tmp):
    """Debian's Prometheus scrapes the agent; its query API sees exactly the
    exchanges the test made; promtool check metrics prints nothing."""
    need("prometheus", "promtool")
    with ExitStack() as st:
        cg = world(st, "hw-prom")
        port, mport, pport = free_port(), free_port(), free_port()
        start_server(st, "127.0.0.1", port, cg)
        start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port),
                    "--listen", "127.0.0.1:%d" % mport)
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: hydrawatch\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % mport)
        daemon(st, ["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(tmp, "tsdb"),
                    "--web.listen-address=127.0.0.1:%d" % pport], tmp, "prometheus")
        wait_for(lambda: get("http://127.0.0.1:%d/-/ready" % pport)[0] == 200, 30, "prometheus ready")
        requests = 137
        for i in range(requests // 10 + 1):
            s = connect("127.0.0.1", port, "127.0.0.%d" % (i + 2))
            for _ in range(min(10, requests - 10 * i)):
                http_request(s, "GET", "/bytes?n=300")
            s.close()

        def scraped():
            _, body = get("http://127.0.0.1:%d/api/v1/query?query=hydrawatch_exchanges_total" % pport)
            res = json.loads(body)["data"]["result"]
            return res and int(float(res[0]["value"][1])) == requests and res
        res = wait_for(scraped, 30, "Prometheus to see %d exchanges" % requests)
        print("    Prometheus: hydrawatch_exchanges_total = %s" % res[0]["value"][1])
        status, text = get("http://127.0.0.1:%d/metrics" % mport)
        check(status == 200, "metrics status %d", status)
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        check(r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(),
              "promtool check metrics: rc %d: %s %s", r.returncode, r.stdout, r.stderr)
        for family in ("hydrawatch_build_info", "hydrawatch_connections_opened_total",
                       "hydrawatch_connections_active", "hydrawatch_request_bytes_bucket",
                       "hydrawatch_response_bytes_bucket", "hydrawatch_time_to_first_byte_seconds_bucket",
                       "hydrawatch_exchange_duration_seconds_bucket", "hydrawatch_accounts_active",
                       "hydrawatch_fingerprint_exchanges_total{kind=", "hydrawatch_fingerprint_accounts{kind=",
                       "hydrawatch_events_total{type=", "hydrawatch_events_lost_total",
                       "hydrawatch_parse_errors_total{parser=", "hydrawatch_table_entries{table=",
                       "hydrawatch_table_evictions_total{table=", "hydrawatch_bpf_run_seconds_total{program=",
                       "hydrawatch_bpf_runs_total{program=", "hydrawatch_alerts_total{rule=",
                       "process_cpu_seconds_total", "process_resident_memory_bytes"):
            check(("\n" + family) in text, "family %s missing from /metrics", family)
        check('fingerprint="other"' in text, "no other bucket")
        status, body = get("http://127.0.0.1:%d/healthz" % mport)
        check(status == 200 and body == "ok\n", "healthz %d %r", status, body)


def am_alerts(amport):
    _, body = get("http://127.0.0.1:%d/api/v2/alerts" % amport)
    return json.loads(body)


class VolumeLoad:
    """Traffic that makes the volume detector fire for one account under
    --volume-interval 1 --volume-min 20: six steady accounts at 3 exchanges
    a second, a heavy but constant one at 40 (its baseline is its own
    rate), and burst-key, one of the steady ones until burst() sends it as
    fast as the server answers. Counts the requests it made."""

    def __init__(self, port):
        self.port = port
        self.stop_all, self.stop_burst = threading.Event(), threading.Event()
        self.errors, self.made = [], []
        self.threads = [threading.Thread(target=self._steady, args=("steady-%d" % i, 3, self.stop_all))
                        for i in range(6)]
        self.threads.append(threading.Thread(target=self._steady, args=("burst-key", 3, self.stop_burst)))
        self.threads.append(threading.Thread(target=self._steady, args=("batch-user", 40, self.stop_all)))

    def _steady(self, key, per_second, until):
        made = 0
        try:
            s = connect("127.0.0.1", self.port)
            while not until.is_set():
                t0 = time.time()
                for _ in range(per_second):
                    http_request(s, "GET", "/bytes?n=200", extra_headers=["x-api-key: " + key])
                    made += 1
                time.sleep(max(0, 1 - (time.time() - t0)))
            s.close()
        except Exception as e:  # noqa: BLE001
            self.errors.append(e)
        self.made.append(made)

    def start(self, warmup=6):
        for t in self.threads:
            t.start()
        time.sleep(warmup)

    def burst(self, seconds=3):
        self.stop_burst.set()
        made = 0
        s = connect("127.0.0.1", self.port)
        t0 = time.time()
        while time.time() - t0 < seconds:
            http_request(s, "GET", "/bytes?n=200", extra_headers=["x-api-key: burst-key"])
            made += 1
            time.sleep(0.005)
        s.close()
        self.made.append(made)

    def stop(self):
        """Stops every client; returns the requests made in all."""
        self.stop_all.set()
        for t in self.threads:
            t.join()
        check(not self.errors, "clients failed: %s", self.errors)
        return sum(self.made)


def read_ndjson(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def test_volume_alert_reaches_alertmanager_and_resolves(tmp):
    """One account bursts far above its own past and above everyone else:
    the NDJSON stream and a real Alertmanager get it firing, then resolved.
    The steady accounts, one of them busy all along, never fire."""
    # the bursting account is one of the steady ones until it bursts
    need("prometheus-alertmanager")
    with ExitStack() as st:
        cg = world(st, "hw-am")
        port, mport, amport = free_port(), free_port(), free_port()
        start_server(st, "127.0.0.1", port, cg)
        cfg = os.path.join(tmp, "am.yml")
        with open(cfg, "w") as f:
            f.write("route:\n  receiver: sink\n  group_wait: 1s\n  group_interval: 1s\n"
                    "receivers:\n  - name: sink\n")
        daemon(st, ["prometheus-alertmanager", "--config.file=" + cfg,
                    "--storage.path=" + os.path.join(tmp, "am"), "--cluster.listen-address=",
                    "--web.listen-address=127.0.0.1:%d" % amport], tmp, "alertmanager")
        wait_for(lambda: get("http://127.0.0.1:%d/-/ready" % amport)[0] == 200, 30, "alertmanager ready")
        alerts_path = os.path.join(tmp, "alerts.ndjson")
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port),
                            "--identity", "header:x-api-key", "--identity-key", make_key(tmp),
                            "--listen", "127.0.0.1:%d" % mport, "--alerts", alerts_path,
                            "--alertmanager", "http://127.0.0.1:%d" % amport,
                            "--volume-interval", "1", "--volume-min", "20", "--volume-resolve", "2")
        load = VolumeLoad(port)
        load.start()
        load.burst()

        def firing_in_am():
            mine = [a for a in am_alerts(amport) if a["labels"].get("alertname") == "hydrawatch_volume"]
            return mine
        listed = wait_for(firing_in_am, 20, "the volume alert in Alertmanager")
        check(len(listed) == 1, "want one volume alert in Alertmanager, got %s", listed)
        alert_id = listed[0]["labels"]["alert_id"]
        print("    Alertmanager lists %s (%s)" % (alert_id, listed[0]["annotations"]["summary"]))
        # quiet: the burst account stops; resolve after two quiet bins
        wait_for(lambda: not firing_in_am(), 30, "Alertmanager to drop the resolved alert")
        load.stop()
        _, mtext = get("http://127.0.0.1:%d/metrics" % mport)
        agent.stop()

    lines = read_ndjson(alerts_path)
    mine = [l for l in lines if l["id"] == alert_id]
    check([l["state"] for l in mine] == ["firing", "resolved"], "NDJSON for %s: %s", alert_id, mine)
    check(len(lines) == 2, "only the burst account may fire: %s", [l["summary"] for l in lines])
    a = mine[0]
    for k in ("id", "rule", "severity", "state", "starts_at", "ends_at", "summary", "group", "evidence"):
        check(k in a, "alert lacks %s: %s", k, a)
    check(a["rule"] == "volume" and a["group"]["size"] == 1 and len(a["group"]["members"]) == 1,
          "alert group: %s", a["group"])
    ev = a["evidence"]
    check(ev["statistics"]["exchanges"] >= 20 and ev["thresholds"]["min_exchanges"] == 20 and
          ev["window"]["seconds"] == 1, "evidence: %s", ev)
    check(ev["statistics"]["exchanges"] > ev["thresholds"]["population_threshold"] and
          ev["statistics"]["exchanges"] > ev["thresholds"]["own_threshold"], "thresholds not exceeded: %s", ev)
    check(mine[1]["ends_at"] and mine[1]["evidence"]["resolution"]["reason"] == "quiet", "resolve: %s", mine[1])
    m = parse_metrics(mtext)
    check(metric(m, "hydrawatch_alerts_total", rule="volume", severity="warning") == 1, "alerts_total metric")
    check(metric(m, "hydrawatch_alertmanager_sent_total") > 0, "nothing reached Alertmanager per metrics")


def test_minted_accounts_do_not_flush_an_alert(tmp):
    """Eviction is not amnesty: while one account's volume alert fires, a
    client mints 400 fresh keys against a table of 16 accounts. The firing
    account is passed over (kept), so its alert resolves only when it goes
    quiet, never because it was evicted; the burst of new accounts shows in
    hydrawatch_table_inserts_total."""
    with ExitStack() as st:
        cg = world(st, "hw-mint")
        port, mport = free_port(), free_port()
        start_server(st, "127.0.0.1", port, cg)
        alerts_path = os.path.join(tmp, "alerts.ndjson")
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port),
                            "--identity", "header:x-api-key", "--identity-key", make_key(tmp),
                            "--listen", "127.0.0.1:%d" % mport, "--alerts", alerts_path,
                            "--max-accounts", "16", "--volume-interval", "1",
                            # the flood can starve the burst's connection for a
                            # second or two: not quiet enough to resolve
                            "--volume-min", "20", "--volume-resolve", "6")
        load = VolumeLoad(port)
        load.start()
        minted = []

        def mint():
            s = connect("127.0.0.1", port)
            for i in range(400):
                http_request(s, "GET", "/bytes?n=10", extra_headers=["x-api-key: minted-%d" % i])
                minted.append(i)
            s.close()
        burst = threading.Thread(target=load.burst, kwargs={"seconds": 5})
        burst.start()
        wait_for(lambda: json.loads(get("http://127.0.0.1:%d/alerts" % mport)[1])["firing"], 10,
                 "the burst account to fire")
        mint()
        burst.join()
        wait_for(lambda: any(l["state"] == "resolved" for l in read_ndjson(alerts_path)), 30,
                 "the burst account's alert to resolve")
        load.stop()
        _, mtext = get("http://127.0.0.1:%d/metrics" % mport)
        agent.stop()
    check(len(minted) == 400, "minting stopped early: %d", len(minted))
    lines = [l for l in read_ndjson(alerts_path) if l["rule"] == "volume"]
    check(lines, "no volume alert")
    # the burst account's alert (others may fire later: an honest account
    # the flood evicted comes back without its baseline)
    mine = [l for l in lines if l["id"] == lines[0]["id"]]
    states = [l["state"] for l in mine]
    check(states == ["firing", "resolved"], "the burst account's alert fired and resolved, got %s",
          states)
    res = mine[1]["evidence"]["resolution"]
    check(res["reason"] == "quiet" and not res.get("evicted"), "resolved by eviction: %s", res)
    m = parse_metrics(mtext)
    check(metric(m, "hydrawatch_table_kept_total", table="accounts") > 0,
          "no eviction passed over the firing account")
    check(metric(m, "hydrawatch_table_inserts_total", table="accounts") >= 400,
          "the minted accounts are not counted")
    check(metric(m, "hydrawatch_table_evictions_total", table="accounts") >= 380,
          "the table did not evict minted accounts")
    print("    kept %d times, %d accounts created, %d evicted" % (
        metric(m, "hydrawatch_table_kept_total", table="accounts"),
        metric(m, "hydrawatch_table_inserts_total", table="accounts"),
        metric(m, "hydrawatch_table_evictions_total", table="accounts")))


def test_alertmanager_down_never_blocks(tmp):
    """Alertmanager unreachable (a port nothing listens on): the volume
    alert still fires to the NDJSON stream; the sender's failed pushes are
    counted and keep growing with its retries, nothing counts as sent, and
    every alert is either queued for the retry or counted dropped. The
    event loop never waits on it (/healthz stays fresh, every exchange is
    counted), and SIGTERM stops the agent cleanly within a bound."""
    with ExitStack() as st:
        cg = world(st, "hw-amdown")
        port, mport, closed = free_port(), free_port(), free_port()
        start_server(st, "127.0.0.1", port, cg)
        alerts_path = os.path.join(tmp, "alerts.ndjson")
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port),
                            "--identity", "header:x-api-key", "--identity-key", make_key(tmp),
                            "--listen", "127.0.0.1:%d" % mport, "--alerts", alerts_path,
                            "--alertmanager", "http://127.0.0.1:%d" % closed,
                            "--volume-interval", "1", "--volume-min", "20", "--volume-resolve", "2")
        load = VolumeLoad(port)
        load.start()
        load.burst()

        def scrape():
            return parse_metrics(get("http://127.0.0.1:%d/metrics" % mport)[1])

        def am(m, what):
            return metric(m, "hydrawatch_alertmanager_%s" % what)

        def accounted():
            # the stream and the sender get every state change; within a
            # minute no firing alert is re-sent, so they must agree
            m, lines = scrape(), read_ndjson(alerts_path)
            ok = (lines and am(m, "failures_total") >= 1 and am(m, "sent_total") == 0 and
                  am(m, "queue_length") + am(m, "dropped_total") == len(lines))
            return ok and (m, lines)
        m, lines = wait_for(accounted, 30, "the volume alert queued for an Alertmanager that is down")
        check(any(l["rule"] == "volume" and l["state"] == "firing" for l in lines),
              "no volume alert fired: %s", lines)
        check(metric(m, "hydrawatch_alerts_total", rule="volume", severity="warning") >= 1,
              "alerts_total metric")
        failures = am(m, "failures_total")
        # each failure is retried (1, 2, 4 ... s later) and counted again
        wait_for(lambda: am(scrape(), "failures_total") > failures, 20, "a retry that fails too")
        status, body = get("http://127.0.0.1:%d/healthz" % mport)
        check(status == 200 and body == "ok\n", "healthz %d %r", status, body)
        made = load.stop()
        wait_for(lambda: metric(scrape(), "hydrawatch_exchanges_total") == made, 10,
                 "all %d exchanges counted" % made)
        # quiet now (the burst's alert may have resolved since): still every
        # state change queued or dropped, none sent
        m, lines = wait_for(accounted, 10, "every alert state change queued or dropped")
        print("    %d alert state change(s), %d failed pushes, %d queued, %d dropped" % (
            len(lines), am(m, "failures_total"), am(m, "queue_length"), am(m, "dropped_total")))
        t0 = time.time()
        agent.stop(settle=0)  # raises unless it exits 0
        took = time.time() - t0
        check(took < 10, "SIGTERM to exit took %.1fs with Alertmanager down", took)
        print("    stopped %.2fs after SIGTERM" % took)


def test_memory_bounded_at_a_million_accounts(tmp):
    """1,000,000 distinct accounts through the real pipeline with
    --max-accounts 100000: RSS within the documented bound, evictions
    counted, /metrics small and fast."""
    synth = os.path.join(BUILD, "tools", "hwsynth")
    mport = free_port()
    p = subprocess.Popen([synth, "--listen", "127.0.0.1:%d" % mport, "--max-accounts", "100000",
                          "--identity", "header:x-api-key", "--", "1000000", "60"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        check(line.startswith("{"), "hwsynth: %s %s", line, p.stderr.read() if p.poll() is not None else "")
        res = json.loads(line)
        t0 = time.time()
        status, text = get("http://127.0.0.1:%d/metrics" % mport)
        elapsed = time.time() - t0
        with open("/proc/%d/status" % p.pid) as f:
            rss = int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) * 1024
    finally:
        p.terminate()
        p.wait(timeout=30)
    bound = res["table_memory_bytes"] + 24 * 1024 * 1024
    print("    RSS %.1f MiB (bound %.1f MiB), evictions %d, /metrics %d bytes in %.1f ms" % (
        rss / 2**20, bound / 2**20, res["evictions"], len(text), elapsed * 1000))
    check(res["fed"] == 1000000 and res["accounts"] == 100000, "synth: %s", res)
    check(rss <= bound, "RSS %d above the documented bound %d", rss, bound)
    check(res["evictions"] == 900000, "evictions %d", res["evictions"])
    check(metric(parse_metrics(text), "hydrawatch_table_evictions_total", table="accounts") == 900000,
          "evictions not exported")
    check(len(text.encode()) < 1 << 20, "/metrics is %d bytes", len(text))
    check(elapsed < 0.5, "/metrics took %.3fs", elapsed)
    active = float(re.search(r"\nhydrawatch_accounts_active (\S+)", text).group(1))
    check(abs(active - 1e6) / 1e6 < 0.05, "accounts_active %f, want ~1e6", active)


SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? '
                    r'[-+]?([0-9.]+([eE][-+]?[0-9]+)?|Inf|NaN)$')


def test_metrics_never_torn_under_load(tmp):
    """Scrapes while 5,000 exchanges/s stream in: every response is a whole
    exposition (every family, histograms consistent, counters monotonic)."""
    with ExitStack() as st:
        cg = world(st, "hw-torn")
        port, mport = free_port(), free_port()
        start_server(st, "127.0.0.1", port, cg)
        agent = start_agent(st, tmp, "--cgroup", cg.path, "--ports", str(port),
                            "--listen", "127.0.0.1:%d" % mport)
        load = subprocess.Popen([HWLOAD, "127.0.0.1", str(port), "8", "5000", "6", "100"],
                                stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        scrapes, last, t = [], -1, []
        while load.poll() is None:
            _, text = get("http://127.0.0.1:%d/metrics" % mport)
            scrapes.append(text)
            t.append(time.time())
            time.sleep(0.05)
        load.wait()
        agent.stop()
    check(len(scrapes) > 20, "only %d scrapes", len(scrapes))
    families = None
    for text in scrapes:
        check(text.endswith("\n") and "\nprocess_open_fds " in text, "scrape cut short: %r", text[-200:])
        fams = re.findall(r"^# TYPE (\S+)", text, re.M)
        check(len(fams) == len(set(fams)), "a family twice")
        families = families or fams
        check(fams == families, "families changed between scrapes")
        for line in text.splitlines():
            if not line.startswith("#"):
                check(SAMPLE.match(line), "malformed sample line %r", line)
        for h in ("hydrawatch_request_bytes", "hydrawatch_exchange_duration_seconds"):
            inf = re.search(r'\n%s_bucket\{le="\+Inf"\} (\d+)' % h, text).group(1)
            cnt = re.search(r"\n%s_count (\d+)" % h, text).group(1)
            check(inf == cnt, "%s: +Inf bucket %s != count %s", h, inf, cnt)
        ex = int(re.search(r"\nhydrawatch_exchanges_total (\d+)", text).group(1))
        hist = int(re.search(r"\nhydrawatch_request_bytes_count (\d+)", text).group(1))
        check(ex == hist, "exchanges_total %d != request_bytes_count %d in one scrape", ex, hist)
        check(ex >= last, "exchanges_total went backwards")
        last = ex

    def drains(text):
        return (int(re.search(r"\nhydrawatch_ring_drains_total (\d+)", text).group(1)),
                float(re.search(r"\nhydrawatch_ring_drain_seconds_total (\S+)", text).group(1)))
    (n0, s0), (n1, s1) = drains(scrapes[0]), drains(scrapes[-1])
    per_s = (n1 - n0) / (t[-1] - t[0])
    # 5,000 exchanges/s is light: drains stay near every --poll-ms (100/s),
    # and never come more often than every 1 ms
    check(n1 > n0 and s1 > s0, "drain counters did not grow: %s -> %s", (n0, s0), (n1, s1))
    check(20 <= per_s <= 1000, "%.0f drains/s", per_s)
    print("    %d scrapes during load, last exchanges_total %d, %.0f drains/s of %.0f us" % (
        len(scrapes), last, per_s, (s1 - s0) / (n1 - n0) * 1e6))


TESTS = [
    test_prometheus_scrapes_and_promtool_is_clean,
    test_volume_alert_reaches_alertmanager_and_resolves,
    test_minted_accounts_do_not_flush_an_alert,
    test_alertmanager_down_never_blocks,
    test_memory_bounded_at_a_million_accounts,
    test_metrics_never_torn_under_load,
]

if __name__ == "__main__":
    main(TESTS)
