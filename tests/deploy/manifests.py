#!/usr/bin/env python3
"""The Kubernetes manifests in deploy/kubernetes (DaemonSet, Service,
ServiceMonitor) against what they must agree with: the agent's options
(its --help and its own parser), the capabilities and files the agent
needs at start (read from agent/ and the systemd unit), the image name
`make image` gives, and the job the Prometheus rules select on.
Prints PASS/FAIL lines and a closing `manifests: N passed, N failed`."""
import os
import re
import subprocess
import sys

import yaml

repo, agent = sys.argv[1], sys.argv[2]
passed = failed = 0


def check(desc, ok, why=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS {desc}")
    else:
        failed += 1
        print(f"FAIL {desc}" + (f": {why}" if why else ""))
    return ok


def read(path):
    with open(os.path.join(repo, path), encoding="utf-8") as f:
        return f.read()


def load(name):
    try:
        docs = [d for d in yaml.safe_load_all(read(f"deploy/kubernetes/{name}")) if d]
    except (OSError, yaml.YAMLError) as e:
        check(f"{name} parses", False, str(e))
        return None
    check(f"{name} parses as one YAML document", len(docs) == 1, f"{len(docs)} documents")
    return docs[0] if docs else None


def dig(obj, *keys):
    for k in keys:
        if isinstance(obj, dict):
            obj = obj.get(k)
        elif isinstance(obj, list) and isinstance(k, int) and k < len(obj):
            obj = obj[k]
        else:
            return None
    return obj


def subset(small, big):
    return bool(small) and all(big.get(k) == v for k, v in small.items())


ds, svc, sm = load("daemonset.yaml"), load("service.yaml"), load("servicemonitor.yaml")
if not (ds and svc and sm):
    print(f"manifests: {passed} passed, {failed + 1} failed")
    sys.exit(1)

version = read("VERSION").strip()
agent_src = {p: read(p) for p in
             ["agent/source/loader.c", "agent/source/listeners.c", "agent/main.c",
              "exporter/server.c"]}
all_agent = ""
for d in ["agent", "agent/source", "exporter", "bpf"]:
    for n in sorted(os.listdir(os.path.join(repo, d))):
        if n.endswith((".c", ".h")):
            all_agent += read(f"{d}/{n}")

# --- DaemonSet: required fields
check("DaemonSet: apiVersion apps/v1, kind DaemonSet",
      ds.get("apiVersion") == "apps/v1" and ds.get("kind") == "DaemonSet")
check("DaemonSet: metadata.name and namespace",
      bool(dig(ds, "metadata", "name")) and bool(dig(ds, "metadata", "namespace")))
pod_labels = dig(ds, "spec", "template", "metadata", "labels") or {}
check("DaemonSet: selector matches the pod template's labels",
      subset(dig(ds, "spec", "selector", "matchLabels") or {}, pod_labels))
containers = dig(ds, "spec", "template", "spec", "containers") or []
check("DaemonSet: one container", len(containers) == 1, f"{len(containers)} containers")
c = containers[0] if containers else {}
pod = dig(ds, "spec", "template", "spec") or {}

# --- the image make image builds (deploy/package.mk: IMAGE ?= ...)
m = re.search(r"^IMAGE \?= (\S+)", read("deploy/package.mk"), re.M)
image = m.group(1).replace("$(VERSION)", version) if m else None
check(f"DaemonSet: image is {image}, the name make image gives it", c.get("image") == image,
      f"image: {c.get('image')}")

# --- args: the agent's own parser accepts them
args = c.get("args") or []
try:
    r = subprocess.run([agent, *args, "--version"], capture_output=True, text=True)
    ok, why = r.returncode == 0, r.stderr.strip()
except OSError as e:
    ok, why = False, str(e)
check(f"DaemonSet: the agent accepts its args {' '.join(args)}", ok, why)
listen = args[args.index("--listen") + 1] if "--listen" in args else "127.0.0.1:9477"
listen_host, _, listen_port = listen.rpartition(":")
check("DaemonSet: --listen on the pod's address (not loopback: probes and Prometheus "
      "reach it there)", listen_host in ("", "0.0.0.0", "[::]"), f"--listen {listen}")
ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
check("DaemonSet: containerPort 'metrics' is the --listen port",
      str(ports.get("metrics")) == listen_port, f"{ports} vs --listen {listen}")

# --- capabilities: what the loader says it needs, the same set as the unit's
sc = c.get("securityContext") or {}
add = set(dig(sc, "capabilities", "add") or [])
drop = set(dig(sc, "capabilities", "drop") or [])
needed = {x[4:] for x in re.findall(r"CAP_[A-Z_]+", agent_src["agent/source/loader.c"])}
check(f"DaemonSet: adds the capabilities the loader names ({', '.join(sorted(needed))})",
      bool(needed) and needed <= add, f"add: {sorted(add)}")
unit = read("deploy/hydrawatch.service")
unit_caps = {}
for key in ("CapabilityBoundingSet", "AmbientCapabilities"):
    m = re.search(rf"^{key}=(.*)$", unit, re.M)
    unit_caps[key] = {x[4:] for x in m.group(1).split()} if m else set()
check("DaemonSet: capabilities equal the systemd unit's CapabilityBoundingSet and "
      "AmbientCapabilities",
      add == unit_caps["CapabilityBoundingSet"] == unit_caps["AmbientCapabilities"],
      f"DaemonSet {sorted(add)}, unit {unit_caps}")
check("DaemonSet: drops ALL other capabilities, not privileged, no SYS_ADMIN",
      "ALL" in drop and sc.get("privileged") in (False, None) and "SYS_ADMIN" not in add)
check("DaemonSet: runs as root (Kubernetes gives added capabilities to root only)",
      sc.get("runAsUser") in (0, None) and not sc.get("runAsNonRoot"))
check("DaemonSet: seccomp Unconfined (older runtimes' default profiles allow bpf() only "
      "with CAP_SYS_ADMIN)", dig(sc, "seccompProfile", "type") == "Unconfined")

# --- mounts: the files the agent opens at start, and nothing it does not use
vols = {v.get("name"): v for v in pod.get("volumes") or []}
mounts = {m.get("mountPath"): m for m in c.get("volumeMounts") or []}


def host_mount(path):
    """the volumeMount at path, if it is the host's path, read-only"""
    m = mounts.get(path)
    v = vols.get(m.get("name")) if m else None
    return m and v and dig(v, "hostPath", "path") == path and m.get("readOnly") is True


check("DaemonSet: every volumeMount names a volume",
      all(m.get("name") in vols for m in mounts.values()))
btf = re.search(r'"(/sys/kernel/btf)/vmlinux"', agent_src["agent/source/loader.c"])
check("DaemonSet: the host's /sys/kernel/btf, read-only (the loader needs "
      "/sys/kernel/btf/vmlinux)", bool(btf) and host_mount("/sys/kernel/btf"))
check("DaemonSet: the host's /sys/fs/cgroup at /sys/fs/cgroup, read-only (the agent "
      "finds the cgroup2 mount in /proc/mounts and attaches there)",
      "/proc/mounts" in read("agent/source/cgroup.c") and host_mount("/sys/fs/cgroup"))
for path, what in [("/sys/fs/bpf", "bpffs: nothing is pinned"),
                   ("/sys/kernel/tracing", "tracefs: no kprobes or tracepoints"),
                   ("/sys/kernel/debug", "debugfs")]:
    used = path in all_agent
    mounted = any(p == path or p.startswith(path + "/") for p in mounts)
    check(f"DaemonSet: {path} mounted only if the agent uses it ({what})", used == mounted,
          f"used by the agent: {used}, mounted: {mounted}")
scans_pids = "/proc/%s/net" in agent_src["agent/source/listeners.c"]
check("DaemonSet: hostPID as the listener scan needs (/proc/PID/net of every pod)",
      bool(pod.get("hostPID")) == scans_pids, f"hostPID {pod.get('hostPID')}")

# --- probes
serves = '"/healthz"' in agent_src["exporter/server.c"]
for probe in ("livenessProbe", "readinessProbe"):
    hg = dig(c, probe, "httpGet") or {}
    port = hg.get("port")
    check(f"DaemonSet: {probe} GETs /healthz on the metrics port",
          serves and hg.get("path") == "/healthz" and
          (port == "metrics" or str(port) == listen_port), f"httpGet {hg}")

# --- Service
check("Service: apiVersion v1, kind Service, in the DaemonSet's namespace",
      svc.get("apiVersion") == "v1" and svc.get("kind") == "Service" and
      dig(svc, "metadata", "namespace") == dig(ds, "metadata", "namespace"))
check("Service: selects the DaemonSet's pods", subset(dig(svc, "spec", "selector") or {},
                                                      pod_labels))
sports = dig(svc, "spec", "ports") or []
sp = next((p for p in sports if p.get("name") == "metrics"), {})
check("Service: port 'metrics' targets the container's metrics port",
      sp.get("targetPort") in ("metrics", ports.get("metrics")), f"ports {sports}")
check("Service: headless (every agent scraped, none behind a virtual IP)",
      dig(svc, "spec", "clusterIP") == "None")

# --- ServiceMonitor
check("ServiceMonitor: apiVersion monitoring.coreos.com/v1, kind ServiceMonitor",
      sm.get("apiVersion") == "monitoring.coreos.com/v1" and sm.get("kind") == "ServiceMonitor")
check("ServiceMonitor: selects the Service",
      subset(dig(sm, "spec", "selector", "matchLabels") or {},
             dig(svc, "metadata", "labels") or {}))
ns_sel = dig(sm, "spec", "namespaceSelector") or {}
check("ServiceMonitor: looks in the Service's namespace",
      ns_sel.get("any") is True or
      dig(svc, "metadata", "namespace") in (ns_sel.get("matchNames") or []) or
      (not ns_sel and dig(sm, "metadata", "namespace") == dig(svc, "metadata", "namespace")))
eps = dig(sm, "spec", "endpoints") or []
check("ServiceMonitor: scrapes /metrics on the Service's 'metrics' port",
      len(eps) >= 1 and eps[0].get("port") == "metrics" and
      eps[0].get("path", "/metrics") == "/metrics", f"endpoints {eps}")
# the operator names the job after the Service unless spec.jobLabel says otherwise
job = dig(svc, "metadata", "name")
rules_jobs = set()
for f in sorted(os.listdir(os.path.join(repo, "deploy/prometheus"))):
    if f.endswith(".yml") and ".test." not in f:
        rules_jobs |= set(re.findall(r'job\s*=~?\s*"([^"]+)"', read(f"deploy/prometheus/{f}")))
check(f"ServiceMonitor: job \"{job}\" is the one the Prometheus rules select "
      f"({', '.join(sorted(rules_jobs)) or 'none'})",
      not dig(sm, "spec", "jobLabel") and rules_jobs <= {job}, f"rules select {rules_jobs}")

print(f"manifests: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
