"""Scenario files -> a plan: the accounts (with their ground-truth label,
key, addresses, tooling) and, for every population whose arrivals are not
decided at run time, each account's request times and request parameters.

Everything is drawn from the scenario's seed, so a scenario file names one
workload. Times are seconds from the run's start. The format is described
in tests/sim/README.md; validate() rejects what the generator cannot do.
"""
import bisect
import math
import random
import string

PROCESSES = ("human", "poisson", "periodic", "waves")
DRIVERS = ("raw", "node-openai")
LABELS = ("farm", "organic", "trap")
# address blocks: population p draws from 127.(20+p).0.0/16
ADDR_BLOCK0 = 20


class ScenarioError(ValueError):
    pass


def validate(sc):
    for k in ("duration", "populations"):
        if k not in sc:
            raise ScenarioError("scenario %s: missing %r" % (sc.get("name"), k))
    names = set()
    for p in sc["populations"]:
        where = "scenario %s, population %s" % (sc.get("name"), p.get("name"))
        if p.get("name") in names or not p.get("name"):
            raise ScenarioError(where + ": every population needs a unique name")
        names.add(p["name"])
        if p.get("label") not in LABELS:
            raise ScenarioError(where + ": label must be one of %s" % (LABELS,))
        if int(p.get("accounts", 0)) < 1:
            raise ScenarioError(where + ": accounts must be >= 1")
        proc = p.get("arrival", {}).get("process")
        if proc not in PROCESSES:
            raise ScenarioError(where + ": arrival.process must be one of %s" % (PROCESSES,))
        if p.get("driver", "raw") not in DRIVERS:
            raise ScenarioError(where + ": driver must be one of %s" % (DRIVERS,))
        if p.get("driver") == "node-openai":
            if proc == "waves":
                raise ScenarioError(where + ": the node SDK population takes precomputed schedules, not waves")
            if p.get("rotate"):
                raise ScenarioError(where + ": the node SDK population cannot rotate tooling")
            if p.get("endpoint", "openai") != "openai":
                raise ScenarioError(where + ": the openai SDK speaks the openai endpoint only")
        mode = p.get("addresses", {}).get("mode", "per-account")
        if mode not in ("per-account", "pool", "single"):
            raise ScenarioError(where + ": addresses.mode must be per-account, pool or single")
    if len(sc["populations"]) > 200:
        raise ScenarioError("at most 200 populations")
    if sc.get("identity", "header:x-api-key") not in ("header:x-api-key", "client-ip"):
        raise ScenarioError("identity must be header:x-api-key or client-ip")


# --- distributions -------------------------------------------------------

def draw(spec, rng, scale=1.0):
    """One value from a size distribution spec (see README)."""
    if spec is None:
        return None
    if isinstance(spec, (int, float)):
        return spec
    d = spec.get("dist", "fixed")
    if d == "none":
        return None
    if d == "fixed":
        v = spec["value"]
    elif d == "choice":
        vals, w = spec["values"], spec.get("weights")
        v = rng.choices(vals, weights=w)[0] if w else rng.choice(vals)
    elif d == "template":
        j = spec.get("jitter", 0.01)
        v = rng.choice(spec["sizes"]) * (1 + rng.uniform(-j, j))
    elif d == "uniform":
        v = rng.uniform(spec["min"], spec["max"])
    elif d == "lognormal":
        v = spec["median"] * scale * math.exp(rng.gauss(0, spec.get("sigma", 1.0)))
    else:
        raise ScenarioError("unknown distribution %r" % d)
    lo, hi = spec.get("min"), spec.get("max")
    if lo is not None:
        v = max(lo, v)
    if hi is not None:
        v = min(hi, v)
    return int(round(v))


def account_scale(spec, rng):
    """Per-account multiplier of a lognormal distribution (account_sigma):
    organic users differ from one another, not just request to request."""
    if isinstance(spec, dict) and spec.get("dist") == "lognormal" and spec.get("account_sigma"):
        return math.exp(rng.gauss(0, spec["account_sigma"]))
    return 1.0


def pick(dist, rng):
    """A key of a {value: weight} dict, or the value itself."""
    if isinstance(dist, str):
        return dist
    keys = sorted(dist)
    return rng.choices(keys, weights=[dist[k] for k in keys])[0]


# --- time warping for rate profiles -------------------------------------

class Warp:
    """Maps operational time (constant unit rate) to wall time under a
    piecewise-constant rate multiplier [[t, m], ...]: a multiplier of 2 from
    t packs twice the events into each second after t."""

    def __init__(self, profile):
        pts = sorted((float(t), float(m)) for t, m in (profile or [[0, 1]]))
        if pts[0][0] > 0:
            pts.insert(0, (0.0, 1.0))
        self.t = [p[0] for p in pts]
        self.m = [p[1] for p in pts]
        self.L = [0.0]
        for i in range(1, len(pts)):
            self.L.append(self.L[-1] + self.m[i - 1] * (self.t[i] - self.t[i - 1]))

    def op(self, t):
        i = bisect.bisect_right(self.t, t) - 1
        return self.L[i] + self.m[i] * (t - self.t[i])

    def wall(self, tau):
        i = bisect.bisect_right(self.L, tau) - 1
        return self.t[i] + (tau - self.L[i]) / self.m[i]

    def mult(self, t):
        return self.m[bisect.bisect_right(self.t, t) - 1]


# --- arrivals ---------------------------------------------------------------

def think_time(spec, rng):
    d = spec.get("dist", "pareto")
    if d == "pareto":
        v = spec.get("min", 2.0) * (1 - rng.random()) ** (-1.0 / spec.get("alpha", 1.5))
    elif d == "lognormal":
        v = spec.get("median", 5.0) * math.exp(rng.gauss(0, spec.get("sigma", 1.0)))
    elif d == "exp":
        v = rng.expovariate(1.0 / spec.get("mean", 5.0))
    else:
        raise ScenarioError("unknown think-time distribution %r" % d)
    return min(v, spec.get("max", 120.0))


def arrivals(arr, start, end, warp, rng, acct_rate_scale=1.0):
    """Request times in [start, end) for one account (not for waves)."""
    proc = arr["process"]
    a, b = warp.op(start), warp.op(end)
    out = []
    if proc == "poisson":
        rate = arr["rate"] * acct_rate_scale
        tau = a + rng.expovariate(rate)
        while tau < b:
            out.append(tau)
            tau += rng.expovariate(rate)
    elif proc == "periodic":
        period = arr["period"] * (1 + rng.uniform(-1, 1) * arr.get("period_spread", 0.0))
        jitter = arr.get("jitter", 0.0)
        tau = a + rng.uniform(0, period) if arr.get("random_phase", True) else a
        while tau < b:
            out.append(tau + (rng.uniform(-jitter, jitter) if jitter else 0.0))
            tau += period
    elif proc == "human":
        idle = arr.get("idle_mean", 30.0) / acct_rate_scale
        per_session = arr.get("requests_per_session", 4.0)
        think = arr.get("think", {"dist": "pareto", "min": 2.0, "alpha": 1.5, "max": 60})
        tau = a + rng.uniform(0, arr.get("first_within", idle))
        while tau < b:
            n = 1 + int(rng.expovariate(1.0 / max(per_session - 1, 1e-9))) if per_session > 1 else 1
            for _ in range(n):
                if tau >= b:
                    break
                out.append(tau)
                tau += think_time(think, rng)
            tau += rng.expovariate(1.0 / idle)
    else:
        raise ScenarioError("no precomputed arrivals for process %r" % proc)
    return sorted(max(start, min(warp.wall(x), end - 1e-3)) for x in out if a <= x < b)


# --- the plan ---------------------------------------------------------------

def make_key(rng, prefix="sk-proj-"):
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(rng.choice(alphabet) for _ in range(48))


class AddressBook:
    """Each population's addresses: 127.(20+p).x.y, handed out in order."""

    def __init__(self, pop_index):
        self.block = ADDR_BLOCK0 + pop_index
        self.next = 0

    def take(self, n=1):
        out = []
        for _ in range(n):
            k = self.next
            self.next += 1
            if k >= 250 * 250:
                raise ScenarioError("population address block exhausted")
            out.append("127.%d.%d.%d" % (self.block, k // 250, k % 250 + 1))
        return out


def churn_windows(p, start, end, n0, rng):
    """(start, end) of each account of a population: n0 from `start`, and
    with churn every E seconds a fraction of the active ones retired and as
    many fresh ones appearing within the following fifth of E."""
    wins = [[start, end] for _ in range(n0)]
    ch = p.get("churn")
    if not ch:
        return wins
    every, frac = float(ch["every"]), float(ch["fraction"])
    t = start + every
    while t < end - 1:
        active = [i for i, w in enumerate(wins) if w[0] <= t < w[1]]
        k = int(round(frac * len(active)))
        for i in rng.sample(active, k):
            wins[i][1] = t
        for _ in range(k):
            s = t + rng.uniform(0, every * ch.get("arrive_within", 0.2))
            wins.append([s, end])
        t += every
    return wins


def make_plan(sc, scale=1.0, duration=None):
    """The whole plan: {"accounts": [...], "populations": [...]}.
    scale multiplies account counts; duration overrides the scenario's."""
    validate(sc)
    rng = random.Random(sc.get("seed", 1))
    dur = float(duration or sc["duration"])
    accounts, pops = [], []
    for pi, p in enumerate(sc["populations"]):
        prng = random.Random(rng.getrandbits(64))
        book = AddressBook(pi)
        start = float(p.get("start", 0.0))
        end = min(float(p.get("stop", dur)), dur)
        if start >= end:
            continue
        n0 = max(1, int(round(int(p["accounts"]) * scale)))
        addr = p.get("addresses", {"mode": "per-account"})
        mode = addr.get("mode", "per-account")
        rot = p.get("rotate") or {}
        epochs = int(math.ceil((end - start) / rot["every"])) if rot.get("every") else 1
        # pools of shared addresses, one per rotation epoch when rotating addresses
        pools = []
        if mode in ("pool", "single"):
            count = 1 if mode == "single" else int(addr["count"])
            for e in range(epochs if rot.get("addresses") else 1):
                pools.append(book.take(count))
        warp = Warp(p.get("rate_profile"))
        tooling = p.get("tooling", "openai-python")
        wins = churn_windows(p, start, end, n0, prng)
        pop = {"name": p["name"], "label": p["label"], "index": pi, "start": start, "end": end,
               "driver": p.get("driver", "raw"), "process": p["arrival"]["process"],
               "accounts": [], "spec": p, "pools": pools}
        pops.append(pop)
        for ai, (s, e) in enumerate(wins):
            arng = random.Random(prng.getrandbits(64))
            acct = {"index": len(accounts), "population": p["name"], "label": p["label"],
                    "key": make_key(arng), "start": s, "end": e, "driver": pop["driver"],
                    "concurrency": int(p.get("concurrency", 1))}
            acct["stream"] = arng.random() < float(p.get("stream", 0.5))
            acct["tools"] = ([pick(tooling, arng)] if not rot.get("tooling")
                             else list(rot["tooling"]))
            # addresses: per account (one per rotation epoch when rotating), or a pool
            if mode == "per-account":
                acct["addr_epochs"] = book.take(epochs if rot.get("addresses") else 1)
            else:
                acct["pool_slot"] = arng.randrange(1 << 30)
            acct["sticky"] = bool(addr.get("sticky", mode != "pool"))
            sw = p.get("model_switch")
            if sw and arng.random() < sw.get("adopt", 1.0):
                if sw.get("spread_dist", "uniform") == "exp":
                    acct["switch_at"] = sw["at"] + arng.expovariate(1.0 / max(sw.get("spread", 1.0), 1e-9))
                else:
                    acct["switch_at"] = sw["at"] + arng.uniform(0, sw.get("spread", 0.0))
            acct["prompt_scale"] = account_scale(p.get("prompt"), arng)
            acct["tokens_scale"] = account_scale(p.get("max_tokens"), arng)
            acct["rate_scale"] = (math.exp(arng.gauss(0, p["arrival"]["account_sigma"]))
                                  if p["arrival"].get("account_sigma") else 1.0)
            acct["rng_seed"] = arng.getrandbits(64)
            if pop["process"] != "waves":
                times = arrivals(p["arrival"], s, e, warp, arng, acct["rate_scale"])
                acct["schedule"] = [request_params(pop, acct, t, arng) for t in times]
            accounts.append(acct)
            pop["accounts"].append(acct["index"])
    return {"name": sc.get("name"), "duration": dur, "accounts": accounts, "populations": pops,
            "identity": sc.get("identity", "header:x-api-key"), "tls": bool(sc.get("tls", False))}


def epoch_of(pop, t):
    rot = pop["spec"].get("rotate") or {}
    if not rot.get("every"):
        return 0
    return max(0, int((t - pop["start"]) // rot["every"]))


def source_address(pop, acct, t, rng):
    """The source address an account uses for a request at t."""
    e = epoch_of(pop, t)
    if "addr_epochs" in acct:
        return acct["addr_epochs"][min(e, len(acct["addr_epochs"]) - 1)]
    pool = pop["pools"][min(e, len(pop["pools"]) - 1)]
    if acct["sticky"]:
        return pool[acct["pool_slot"] % len(pool)]
    return rng.choice(pool)


def tool_at(pop, acct, t):
    return acct["tools"][epoch_of(pop, t) % len(acct["tools"])]


def request_params(pop, acct, t, rng):
    """One request at t: [t, model, prompt chars, max_tokens or None, stream,
    source address, tool]."""
    p = pop["spec"]
    models = p.get("models", {"gpt-4o-mini": 1.0})
    sw = p.get("model_switch")
    if sw and acct.get("switch_at") is not None and t >= acct["switch_at"]:
        models = sw["to"]
    return [round(t, 4), pick(models, rng),
            draw(p.get("prompt", {"dist": "lognormal", "median": 600, "sigma": 1.0, "min": 20,
                                  "max": 20000}), rng, acct["prompt_scale"]),
            draw(p.get("max_tokens", {"dist": "choice", "values": [64, 128, 256]}), rng,
                 acct["tokens_scale"]),
            acct["stream"], source_address(pop, acct, t, rng), tool_at(pop, acct, t)]
