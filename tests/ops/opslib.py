"""What the operations tests share: where the shipped files are, metric
names read from PromQL (rules, dashboard) and from the exporter's source,
Grafana's variables put into a dashboard query, and the real peers the
tests run (Prometheus, Alertmanager, a webhook receiver), each on a free
loopback port of the ops tests' own range (10000-19999) and stopped with
the test.
"""
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import yaml
except ImportError:  # python3-yaml, in make test-deps
    yaml = None

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import hwtest  # noqa: E402

Skip = hwtest.Skip
check = hwtest.check
wait_for = hwtest.wait_for

RULES = os.path.join(REPO, "deploy", "prometheus", "hydrawatch-rules.yml")
ALERTMANAGER_YML = os.path.join(REPO, "deploy", "alertmanager", "alertmanager.yml")
DASHBOARD = os.path.join(REPO, "deploy", "grafana", "hydrawatch.json")
PROVISIONING = os.path.join(REPO, "deploy", "grafana", "provisioning")
METRICS_C = os.path.join(REPO, "exporter", "metrics.c")
# the URL prefix of the shipped receivers, replaced by the test's webhook
RECEIVER_PREFIX = "http://127.0.0.1:5001"


def build_dir():
    return os.path.abspath(os.environ.get("HW_BUILD") or os.path.join(REPO, "build"))


def free_port():
    return hwtest.free_port(low=10000)


def need(*tools):
    for t in tools:
        if subprocess.run(["sh", "-c", "command -v " + t], capture_output=True).returncode:
            raise Skip("%s is not installed (make test-deps installs it)" % t)


# --- metric names in PromQL --------------------------------------------------

AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
                "bottomk", "topk", "quantile"}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
            "offset", "bool", "atan2", "inf", "nan", "start", "end"}
# series Prometheus makes itself
PROMETHEUS_OWN = {"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped",
                  "scrape_samples_post_metric_relabeling", "scrape_series_added"}


def promql_metric_names(expr):
    """The metric names an expression selects: identifiers that are not
    functions, aggregations, keywords, label names or numbers."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', " ", expr)  # strings
    e = re.sub(r"\{[^}]*\}", " ", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)  # ranges, subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)  # label lists
    e = re.sub(r"\$\{?\w+\}?", " ", e)  # Grafana variables outside strings ($__interval...)
    names = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)", e):
        name = m.group(1)
        if name in KEYWORDS or name in AGGREGATIONS:
            continue
        if re.match(r"\s*\(", e[m.end():]):
            continue  # a function call
        names.add(name)
    return names


def need_yaml():
    if yaml is None:
        raise Skip("python3 has no yaml module (make test-deps installs python3-yaml)")


def load_yaml(path):
    need_yaml()
    with open(path) as f:
        return yaml.safe_load(f)


def load_rules(path=RULES):
    need_yaml()
    with open(path) as f:
        return yaml.safe_load(f)


def rule_exprs(rules):
    """[(where, expr)] of every rule's expr, and every query in an
    annotation's template ({{ printf "EXPR" ... | query }})."""
    out = []
    for g in rules["groups"]:
        for r in g["rules"]:
            name = r.get("record") or r.get("alert")
            out.append(("rule %s" % name, r["expr"]))
            for k, text in (r.get("annotations") or {}).items():
                for q in re.findall(r'printf\s+"((?:[^"\\]|\\.)*)"[^}]*\|\s*query', text, re.S):
                    out.append(("rule %s annotation %s" % (name, k), q.replace("'", '"')))
    return out


def recorded_names(rules):
    return {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}


def load_dashboard(path=DASHBOARD):
    with open(path) as f:
        return json.load(f)


def all_panels(dash):
    for p in dash["panels"]:
        yield p
        for q in p.get("panels", []):  # a collapsed row keeps its panels
            yield q


def dashboard_queries(dash):
    """[(where, expr, instant)] of every panel target, annotation and
    template variable query (label_values(SELECTOR, label): its selector)."""
    out = []
    for p in all_panels(dash):
        for t in p.get("targets", []):
            out.append(("panel %d %r target %s" % (p["id"], p["title"], t["refId"]), t["expr"],
                        bool(t.get("instant"))))
    for a in dash.get("annotations", {}).get("list", []):
        if "expr" in a:
            out.append(("annotation %r" % a["name"], a["expr"], False))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            m = re.match(r"label_values\((.*),\s*(\w+)\)$", q)
            check(m, "variable %s: query %r is not label_values(SELECTOR, LABEL)", v["name"], q)
            out.append(("variable %s" % v["name"], m.group(1), True))
    return out


def exported_families(path=METRICS_C):
    """{name: type} of the families exporter/metrics.c declares: family(b,
    "NAME", "TYPE", ...) and histogram(b, "NAME", ...)."""
    with open(path) as f:
        src = f.read()
    fams = {m.group(1): m.group(2) for m in
            re.finditer(r'\bfamily\(\s*&?b,\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)",\s*"(\w+)"', src)}
    for m in re.finditer(r'\bhistogram\(\s*&?b,\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"', src):
        fams[m.group(1)] = "histogram"
    return fams


def sample_names(families):
    """The sample names a set of families can expose (a histogram's
    _bucket, _sum and _count)."""
    out = set()
    for name, typ in families.items():
        if typ == "histogram":
            out |= {name + "_bucket", name + "_sum", name + "_count"}
        else:
            out.add(name)
    return out


def grafana_expr(expr, variables, rate_interval):
    """A dashboard expression as Grafana would send it: $__rate_interval and
    the like replaced, and the template variables by the given values."""
    for k in ("__rate_interval", "__interval", "__range"):
        expr = expr.replace("$" + k, rate_interval).replace("${%s}" % k, rate_interval)
    for k, v in variables.items():
        expr = expr.replace("${%s}" % k, v).replace("$" + k, v)
    check("$" not in expr.replace("$1", ""), "unreplaced variable in %r", expr)
    return expr


# --- HTTP and processes -------------------------------------------------------

def http(url, data=None, timeout=5):
    """(status, body) of a GET, or of a POST of JSON when data is given."""
    req = urllib.request.Request(url)
    if data is not None:
        req.data = json.dumps(data).encode()
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def daemon(stack, cmd, log_path, **kw):
    """Starts cmd with its output in log_path; killed when the stack closes."""
    log = open(log_path, "w")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, **kw)

    def stop():
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()
    stack.callback(stop)
    return p


class Webhook:
    """An Alertmanager webhook receiver on loopback: keeps every
    notification (its path and JSON body) in arrival order."""

    def __init__(self, stack):
        self.lock = threading.Lock()
        self.got = []
        hook = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(n) or b"null")
                with hook.lock:
                    hook.got.append((self.path, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), H)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        stack.callback(self.server.server_close)
        stack.callback(self.server.shutdown)
        self.url = "http://127.0.0.1:%d" % self.port

    def notifications(self, path=None):
        with self.lock:
            return [b for p, b in self.got if path is None or p == path]

    def paths(self):
        with self.lock:
            return [p for p, _ in self.got]


def alertmanager_config(tmp, receiver_url, fast=True):
    """The shipped alertmanager.yml with its receivers' URL prefix replaced
    by receiver_url and, when fast, its timers shortened to seconds (group_wait
    1s, group_interval 2s: a test cannot wait minutes). Routes, matchers,
    grouping and inhibit rules stay as shipped. Returns the file's path."""
    with open(ALERTMANAGER_YML) as f:
        text = f.read()
    check(RECEIVER_PREFIX in text, "the shipped config has no receiver URL under %s", RECEIVER_PREFIX)
    text = text.replace(RECEIVER_PREFIX, receiver_url)
    if fast:
        text = re.sub(r"(group_wait:)\s*\S+", r"\1 1s", text)
        text = re.sub(r"(group_interval:)\s*\S+", r"\1 2s", text)
    path = os.path.join(tmp, "alertmanager.yml")
    with open(path, "w") as f:
        f.write(text)
    return path


def start_alertmanager(stack, tmp, config):
    need("prometheus-alertmanager")
    port = free_port()
    daemon(stack, ["prometheus-alertmanager", "--config.file=" + config,
                   "--storage.path=" + os.path.join(tmp, "am-data"), "--cluster.listen-address=",
                   "--web.listen-address=127.0.0.1:%d" % port], os.path.join(tmp, "alertmanager.log"))
    url = "http://127.0.0.1:%d" % port
    wait_for(lambda: http(url + "/-/ready")[0] == 200, 30, "Alertmanager ready")
    return url


def start_prometheus(stack, tmp, targets, alertmanager_url, rules=RULES, interval="1s"):
    """Prometheus scraping targets ({instance label: host:port}) as job
    hydrawatch every interval, evaluating the shipped rules as often and
    sending alerts to Alertmanager."""
    need("prometheus")
    port = free_port()
    cfg = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval, "scrape_timeout": interval},
        "rule_files": [rules],
        "alerting": {"alertmanagers": [{"static_configs": [
            {"targets": [alertmanager_url.split("//", 1)[1]]}]}]},
        "scrape_configs": [{"job_name": "hydrawatch", "static_configs": [
            {"targets": [addr], "labels": {"instance": inst}} for inst, addr in sorted(targets.items())]}],
    }
    path = os.path.join(tmp, "prometheus.yml")
    with open(path, "w") as f:
        json.dump(cfg, f)  # YAML is a superset of JSON
    daemon(stack, ["prometheus", "--config.file=" + path, "--storage.tsdb.path=" + os.path.join(tmp, "tsdb"),
                   "--web.listen-address=127.0.0.1:%d" % port], os.path.join(tmp, "prometheus.log"))
    url = "http://127.0.0.1:%d" % port
    wait_for(lambda: http(url + "/-/ready")[0] == 200, 30, "Prometheus ready")
    return url


def prom_query(url, expr, instant=True, start=None, end=None, step="1s"):
    """The query API's answer (its "data"), raising on an error status."""
    if instant:
        q = urllib.parse.urlencode({"query": expr})
        status, body = http("%s/api/v1/query?%s" % (url, q))
    else:
        q = urllib.parse.urlencode({"query": expr, "start": "%.3f" % start, "end": "%.3f" % end, "step": step})
        status, body = http("%s/api/v1/query_range?%s" % (url, q))
    res = json.loads(body)
    if status != 200 or res.get("status") != "success":
        raise AssertionError("query %r: HTTP %d %s: %s" % (expr, status, res.get("errorType"), res.get("error")))
    return res["data"]
