"""Shared pieces of the simulator: where things are, the cgroup and port
helpers (the integration harness's, tests/integration/hwtest.py, with the
simulator's own port range and a cgroup that kills what is left in it), and
account ids as the agent computes them."""
import hashlib
import hmac
import ipaddress
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SCENARIOS = os.path.join(HERE, "scenarios")

sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import hwtest  # noqa: E402

# the machine lacks something a run needs (root, cgroup v2, BTF, node)
Skip = hwtest.Skip
cgroup2_root = hwtest.cgroup2_root


def build_dir():
    return os.environ.get("HW_BUILD") or os.path.join(REPO, "build")


def agent_bin(build=None):
    return os.environ.get("HW_AGENT") or os.path.join(build or build_dir(), "hydrawatch")


def hwserve_bin(build=None):
    return os.environ.get("HW_SERVE") or os.path.join(build or build_dir(), "tools", "hwserve")


def preflight(need_node=False):
    """Raises Skip naming what is missing for a live run."""
    if os.geteuid() != 0:
        raise Skip("needs root (the agent loads BPF programs)")
    cgroup2_root()
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        raise Skip("kernel has no BTF (/sys/kernel/btf/vmlinux)")
    for tool in ("tcpdump", "openssl"):
        if subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode:
            raise Skip("%s is not installed" % tool)
    if need_node:
        node_ready()


def node_ready():
    if subprocess.run(["sh", "-c", "command -v node"], capture_output=True).returncode:
        raise Skip("node is not installed (the SDK population runs the openai npm client)")
    if not os.path.exists(os.path.join(HERE, "node_modules", "openai", "package.json")):
        raise Skip("tests/sim/node_modules is missing: run `make sim-deps` (npm ci)")


def free_port():
    """A port free on loopback for both families, from the simulator's range"""
    return hwtest.free_port(low=30000)


class Cgroup(hwtest.Cgroup):
    """A cgroup v2 directory of its own; remove() kills what is left in it."""

    def pids(self):
        try:
            with open(os.path.join(self.path, "cgroup.procs")) as f:
                return [int(x) for x in f.read().split()]
        except FileNotFoundError:
            return []

    def remove(self):
        for pid in self.pids():
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        super().remove()


def write_key(path):
    with open(path, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(path, 0o600)
    return path


def account_id(key_bytes, kind, value):
    """The agent's account id: hex(HMAC-SHA256(key, kind || value)[:12]).
    kind "header": value is the header's value (str or bytes), hashed as
    b"h:" + value; kind "ip": value is an address, hashed as b"ip:" + its 16
    bytes (IPv4 as ::ffff:a.b.c.d)."""
    if kind == "header":
        msg = b"h:" + (value.encode() if isinstance(value, str) else value)
    elif kind == "ip":
        a = ipaddress.ip_address(value)
        if a.version == 4:
            a = ipaddress.IPv6Address("::ffff:" + str(a))
        msg = b"ip:" + a.packed
    else:
        raise ValueError(kind)
    return hmac.new(key_bytes, msg, hashlib.sha256).digest()[:12].hex()


def read_ndjson(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                pass  # a line cut by a stop: counted by the reader's caller if it matters
    return out


def proc_cpu_seconds(pid):
    """utime+stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_max_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def load_scenario(name_or_path):
    path = name_or_path
    if not os.path.exists(path):
        path = os.path.join(SCENARIOS, name_or_path + ".json")
    with open(path) as f:
        sc = json.load(f)
    sc.setdefault("name", os.path.splitext(os.path.basename(path))[0])
    sc["_path"] = os.path.abspath(path)
    return sc


def scenario_kind(sc):
    labels = {p.get("label") for p in sc["populations"]}
    if "farm" in labels:
        return "farm"
    if "trap" in labels:
        return "trap"
    return "organic"
