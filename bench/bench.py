#!/usr/bin/env python3
"""Measures the provider for bench/run.sh and prints one markdown table.

Called by bench/run.sh after the release builds; see bench/README.md for what
each figure means. Standard library only; needs /usr/bin/time (GNU time),
openssl and cargo on PATH.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

# src/plugin/handshake.rs: MAGIC_COOKIE_KEY / MAGIC_COOKIE_VALUE.
COOKIE = ("TF_PLUGIN_MAGIC_COOKIE",
          "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2")
TOKEN = "sandbox-token"
FIRST_SEED_ID = 7000000


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- start-up

def client_cert_pem(work):
    """A certificate shaped like Terraform's AutoMTLS one: ECDSA P-521, CA."""
    key, cert = work / "client.key", work / "client.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp521r1",
         "-sha512", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/O=HashiCorp/CN=localhost", "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert.read_text()


def startup_once(binary, env):
    """Milliseconds from spawn to the first stdout line; then SIGTERM."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = proc.stdout.readline()
    elapsed = (time.perf_counter() - t0) * 1000
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if not line.startswith(b"1|6|"):
        raise SystemExit(f"unexpected handshake line from {binary}: {line!r}")
    return elapsed, line


def startup(binaries, work, runs):
    """Start-ups with and without AutoMTLS of each binary, all interleaved:
    {binary: (on, off)} in milliseconds."""
    socket_dir = work / "sockets"
    socket_dir.mkdir(exist_ok=True)
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        COOKIE[0]: COOKIE[1],
        "PLUGIN_PROTOCOL_VERSIONS": "6",
        "PLUGIN_UNIX_SOCKET_DIR": str(socket_dir),
    }
    mtls = dict(base, PLUGIN_CLIENT_CERT=client_cert_pem(work))
    times = {binary: ([], []) for binary in binaries}
    for binary in binaries:
        startup_once(binary, base)  # page cache
    for _ in range(runs):
        for binary in binaries:
            on, off = times[binary]
            ms, line = startup_once(binary, mtls)
            if line.rstrip().endswith(b"|"):
                raise SystemExit(f"{binary}: AutoMTLS run printed no server certificate")
            on.append(ms)
            off.append(startup_once(binary, base)[0])
    return times


# ---------------------------------------------------------------- whole runs

RENEWAL = """
resource "nicsrs_certificate_renewal" "r" {
  for_each = local.ids
  renew_id = each.key
  years    = 1
  csr      = file("${path.module}/web.csr")
  server   = "nginx"

  domain_info {
    domain_name = "example.com"
    dcv_method  = "CNAME_CSR_HASH"
  }
  domain_info {
    domain_name = "www.example.com"
    dcv_method  = "CNAME_CSR_HASH"
  }

  administrator {
    job          = "CTO"
    city         = "Shanghai"
    email        = "ops@example.com"
    state        = "Shanghai"
    mobile       = "18111111111"
    address      = "1 Example Road"
    country      = "CN"
    last_name    = "Zhang"
    post_code    = "401320"
    first_name   = "Nick"
    organization = "Example Ltd"
  }
}
"""

PEER = """
resource "peer_noop" "r" {
  for_each = local.ids
  input    = each.key
}
"""

FLOOR = """
resource "terraform_data" "r" {
  for_each = local.ids
  input    = each.key
}
"""

# What each kind of whole run runs: (provider address, the binary dev_overrides
# points at through the timing wrapper, the configuration after `locals`).
KINDS = ("nicsrs", "noop", "peer", "floor")
KIND_TITLES = {
    "nicsrs": "nicsrs",
    "noop": "no-op, our schema",
    "peer": "peer no-op",
    "floor": "`terraform_data`",
}


def ids_local(n):
    return ("locals {\n  ids = toset([for i in range(%d) : tostring(%d + i)])\n}\n"
            % (n, FIRST_SEED_ID))


class Sandbox:
    def __init__(self, binary, n, work):
        args = [binary, "--listen", "127.0.0.1:0"]
        for i in range(n):
            args += ["--seed-certificate", f"{FIRST_SEED_ID + i}:30"]
        self.log = open(work / f"sandbox-{n}.log", "a")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("listening on "):
            raise SystemExit(f"sandbox did not start: {line!r}")
        self.url = line[len("listening on "):]

    def admin(self, method, path):
        req = urllib.request.Request(self.url + path, method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def take_counts(self):
        """(TCP connections accepted, /ssl/* requests) since the last call;
        this call's own connection is not counted."""
        connections = self.admin("GET", "/sandbox/connections")["accepted"] - 1
        requests = sum(self.admin("GET", "/sandbox/requests")["counts"].values())
        self.admin("DELETE", "/sandbox/requests")
        self.admin("DELETE", "/sandbox/connections")
        return connections, requests

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        self.log.close()


def gnu_time(path):
    """(wall s, user s, sys s, max RSS kB) from a `/usr/bin/time -f '%e %U %S %M'` file."""
    last = path.read_text().strip().splitlines()[-1].split()
    return float(last[0]), float(last[1]), float(last[2]), int(last[3])


def terraform(tf, cwd, env, args, tag):
    """Runs one Terraform command under GNU time; returns its figures."""
    out = cwd / f"{tag}.time"
    cmd = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", str(out), tf] + args
    with open(cwd / f"{tag}.log", "w") as logf:
        rc = subprocess.run(cmd, cwd=cwd, env=env, stdout=logf, stderr=subprocess.STDOUT).returncode
    wall, user, sys_, rss = gnu_time(out)
    return {"rc": rc, "wall": wall, "cpu": user + sys_, "rss_kb": rss}


def provider_figures(log_dir, tag):
    """Sum of CPU and the largest peak RSS over every provider process of one command."""
    cpu, rss, count = 0.0, 0, 0
    for f in sorted(log_dir.glob(f"{tag}.*")):
        _, user, sys_, kb = gnu_time(f)
        cpu += user + sys_
        rss = max(rss, kb)
        count += 1
    return {"cpu": cpu, "rss_kb": rss, "starts": count}


def provider_setup(cwd, env, address, binary):
    """dev_overrides for `address`, pointing at a wrapper that runs `binary`
    under GNU time (one file per provider process in provider-time/)."""
    wrap = cwd / "wrap"
    wrap.mkdir()
    plog = cwd / "provider-time"
    plog.mkdir()
    wrapper = wrap / f"terraform-provider-{address.split('/')[1]}"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"exec /usr/bin/time -f '%e %U %S %M' -o \"{plog}/$BENCH_TAG.$$\" \"{binary}\" \"$@\"\n")
    wrapper.chmod(0o755)
    (cwd / "dev.tfrc").write_text(
        "provider_installation {\n  dev_overrides {\n"
        f"    \"{address}\" = \"{wrap}\"\n  }}\n  direct {{}}\n}}\n")
    env["TF_CLI_CONFIG_FILE"] = str(cwd / "dev.tfrc")
    local = address.split("/")[1]
    return ("terraform {\n  required_providers {\n"
            f"    {local} = {{ source = \"{address}\" }}\n  }}\n}}\n")


def whole_run(kind, n, tf, tf_tag, bins, work, csr, state_file=None):
    """apply then plan of N resources of one kind (see KINDS)."""
    cwd = work / f"{tf_tag}-{kind}-{n}"
    cwd.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(work),
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
    }
    sandbox = None
    if kind == "nicsrs":
        header = provider_setup(cwd, env, "nicsrs/nicsrs", bins["nicsrs"])
        sandbox = Sandbox(str(bins["sandbox"]), n, work)
        shutil.copy(csr, cwd / "web.csr")
        config = (header + f"provider \"nicsrs\" {{\n  base_url  = \"{sandbox.url}\"\n"
                  f"  api_token = \"{TOKEN}\"\n}}\n" + ids_local(n) + RENEWAL)
    elif kind == "noop":
        header = provider_setup(cwd, env, "nicsrs/nicsrs", bins["noop"])
        env["NICSRS_BENCH_STATE"] = str(state_file)
        shutil.copy(csr, cwd / "web.csr")
        config = header + ids_local(n) + RENEWAL
    elif kind == "peer":
        header = provider_setup(cwd, env, "bench/peer", bins["peer"])
        config = header + ids_local(n) + PEER
    else:
        (cwd / "empty.tfrc").write_text("")
        env["TF_CLI_CONFIG_FILE"] = str(cwd / "empty.tfrc")
        config = ids_local(n) + FLOOR
        (cwd / "main.tf").write_text(config)
        subprocess.run([tf, "init", "-input=false"], cwd=cwd, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    (cwd / "main.tf").write_text(config)
    result = {}
    try:
        if sandbox:
            sandbox.take_counts()
        for phase, args in (("apply", ["apply", "-auto-approve", "-input=false", "-parallelism=10"]),
                            ("plan", ["plan", "-input=false", "-detailed-exitcode",
                                      "-parallelism=10"])):
            env["BENCH_TAG"] = phase
            log(f"{tf_tag} {kind} N={n}: terraform {phase}")
            r = terraform(tf, cwd, env, args, phase)
            if r["rc"] != 0:
                raise SystemExit(f"terraform {phase} in {cwd} exited {r['rc']}; see {phase}.log")
            if kind == "floor":
                r["provider"] = None
                r["terraform_cpu"] = r["cpu"]
            else:
                p = provider_figures(cwd / "provider-time", phase)
                r["provider"] = p
                r["terraform_cpu"] = r["cpu"] - p["cpu"]
            if sandbox:
                r["connections"], r["requests"] = sandbox.take_counts()
            result[phase] = r
        result["state"] = state_figures(cwd / "terraform.tfstate", n)
        result["state_file"] = cwd / "terraform.tfstate"
    finally:
        if sandbox:
            sandbox.stop()
    return result


def state_figures(path, n):
    """State bytes per resource, and the compact-JSON bytes of each attribute."""
    raw = path.read_bytes()
    state = json.loads(raw)
    per_attr = {}
    instances = [i for r in state["resources"] if r["mode"] == "managed" for i in r["instances"]]
    for inst in instances:
        for key, value in inst["attributes"].items():
            size = len(json.dumps({key: value}, separators=(",", ":"))) - 2
            per_attr[key] = per_attr.get(key, 0) + size
    compact = sum(len(json.dumps(i, separators=(",", ":"))) for i in instances)
    return {
        "file_per": len(raw) / n,
        "compact_per": compact / len(instances),
        "attrs": sorted(((k, v / len(instances)) for k, v in per_attr.items()),
                        key=lambda kv: -kv[1]),
    }


# ------------------------------------------------------- micro-benchmarks

def micro(manifest, target_dir, state_file, work):
    """Runs the criterion benchmarks of bench/ours; [(id, median, low, high)] in ns,
    `low`-`high` being criterion's 95 % confidence interval of the median."""
    home = work / "criterion"
    env = dict(os.environ, NICSRS_BENCH_STATE=str(state_file), CRITERION_HOME=str(home),
               CARGO_TARGET_DIR=str(target_dir))
    log("criterion micro-benchmarks (bench/ours/benches/micro.rs)")
    subprocess.run(["cargo", "bench", "--locked", "--profile", "release", "--manifest-path",
                    str(manifest), "--bench",
                    "micro", "--", "--warm-up-time", "1", "--measurement-time", "3"],
                   env=env, check=True, stdout=sys.stderr)
    found = []
    for bench in sorted(home.glob("**/new/benchmark.json")):
        full_id = json.loads(bench.read_text())["full_id"]
        median = json.loads((bench.parent / "estimates.json").read_text())["median"]
        ci = median["confidence_interval"]
        found.append((full_id, median["point_estimate"], ci["lower_bound"], ci["upper_bound"]))
    return found


# ---------------------------------------------------------------- table

def fmt_s(x):
    return f"{x:.2f} s"


def fmt_mb(kb):
    return f"{kb / 1024:.1f} MB"


def fmt_ns(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def ratio(a, b):
    return f"{a / b:.2f}×" if a is not None and b else "—"


COLUMNS = ("figure", "nicsrs", "no-op, our schema", "peer no-op", "`terraform_data`",
           "nicsrs / peer", "nicsrs / no-op")


def row(figure, values, fmt, numbers=None):
    """One table row: `values` maps a kind to what `fmt` shows (or None); the
    ratios divide `numbers` (default: `values`)."""
    numbers = values if numbers is None else numbers
    cells = [figure] + [fmt(values[k]) if values.get(k) is not None else "—" for k in KINDS]
    cells.append(ratio(numbers.get("nicsrs"), numbers.get("peer")))
    cells.append(ratio(numbers.get("nicsrs"), numbers.get("noop")))
    return tuple(cells)


def median_text(xs):
    return f"median of {len(xs)}; min {min(xs):.1f}, max {max(xs):.1f}"


def table(starts, runs, micro_results):
    """starts: {kind: (on, off)}; runs: {(tf label, n): {kind: result}}."""
    rows = [COLUMNS]
    for i, mode in enumerate(("on", "off")):
        rows.append(row(f"start-up to handshake line, AutoMTLS {mode} (ms; nicsrs "
                        f"{median_text(starts['nicsrs'][i])}; peer {median_text(starts['peer'][i])})",
                        {k: statistics.median(v[i]) for k, v in starts.items()},
                        lambda x: f"{x:.1f} ms"))
    for (label, n), by_kind in runs.items():
        for phase in ("apply", "plan"):
            get = {k: r[phase] for k, r in by_kind.items()}
            pre = f"{label}, N = {n}: {phase}"
            rows.append(row(f"{pre}, wall time", {k: g["wall"] for k, g in get.items()}, fmt_s))
            rows.append(row(f"{pre}, CPU of terraform (user+sys)",
                            {k: g["terraform_cpu"] for k, g in get.items()}, fmt_s))
            rows.append(row(f"{pre}, CPU of the provider (processes; share of all CPU)",
                            {k: g for k, g in get.items() if g["provider"]},
                            lambda g: (f"{g['provider']['cpu']:.2f} s ({g['provider']['starts']}; "
                                       f"{100 * g['provider']['cpu'] / g['cpu']:.1f} %)"),
                            {k: g["provider"]["cpu"] for k, g in get.items() if g["provider"]}))
            rows.append(row(f"{pre}, peak RSS of terraform (largest in its tree)",
                            {k: g["rss_kb"] for k, g in get.items()}, fmt_mb))
            rows.append(row(f"{pre}, peak RSS of the provider (largest process)",
                            {k: g["provider"]["rss_kb"] for k, g in get.items() if g["provider"]},
                            fmt_mb))
            ours = get["nicsrs"]
            rows.append((f"{pre}, TCP connections to the API / API requests",
                         f"{ours['connections']} / {ours['requests']}", "—", "—", "—", "", ""))
    if runs:
        # The largest N, on the last Terraform version that has it (the newest).
        label, n = [key for key in runs if key[1] == max(k[1] for k in runs)][-1]
        by_kind = runs[(label, n)]
        rows.append(row(f"state bytes per resource, terraform.tfstate / N ({label}, N = {n})",
                        {k: r["state"]["file_per"] for k, r in by_kind.items()},
                        lambda x: f"{x:.0f} B"))
        rows.append(row("state bytes per resource, compact JSON of one instance",
                        {k: r["state"]["compact_per"] for k, r in by_kind.items()},
                        lambda x: f"{x:.0f} B"))
        attrs = by_kind["nicsrs"]["state"]["attrs"]
        top = ", ".join(f"`{k}` {v:.0f}" for k, v in attrs[:6])
        top += f", {len(attrs) - 6} others {sum(v for _, v in attrs[6:]):.0f}"
        rows.append(("bytes per attribute of one renewal (compact JSON, largest first)", top,
                     "", "", "", "", ""))
    for full_id, median, low, high in micro_results:
        rows.append((f"criterion `{full_id}` (median; 95 % CI {fmt_ns(low)}–{fmt_ns(high)})",
                     fmt_ns(median), "—", "—", "—", "—", "—"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = []
    for i, r in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--release", required=True, type=Path,
                    help="target/release: the provider and nicsrs-sandbox")
    ap.add_argument("--noop", required=True, type=Path, help="terraform-provider-nicsrs-noop")
    ap.add_argument("--peer", required=True, type=Path, help="terraform-provider-peer")
    ap.add_argument("--terraform", required=True, action="append",
                    help="LABEL=PATH, once per Terraform version; the floor runs on >= 1.4 only")
    ap.add_argument("--csr", required=True, type=Path)
    ap.add_argument("--sizes", default="100,500,1000")
    ap.add_argument("--startup-runs", type=int, default=30)
    ap.add_argument("--micro-manifest", type=Path, help="bench/ours/Cargo.toml")
    ap.add_argument("--micro-target-dir", type=Path)
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (its path is logged) to read the logs")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",") if s]
    terraforms = [t.split("=", 1) for t in a.terraform]
    release = a.release.resolve()
    bins = {"nicsrs": release / "terraform-provider-nicsrs",
            "sandbox": release / "nicsrs-sandbox", "noop": a.noop.resolve(),
            "peer": a.peer.resolve()}
    with tempfile.TemporaryDirectory(prefix="nicsrs-bench") as tmp:
        work = Path(tempfile.mkdtemp(prefix="nicsrs-bench-kept-")) if a.keep else Path(tmp)
        log(f"work directory: {work}")
        log(f"start-up, {a.startup_runs} runs with AutoMTLS and {a.startup_runs} without, "
            "ours and the peer's interleaved")
        times = startup([str(bins["nicsrs"]), str(bins["peer"])], work, a.startup_runs)
        starts = {"nicsrs": times[str(bins["nicsrs"])], "peer": times[str(bins["peer"])]}
        runs = {}
        state_file = None
        micro_results = []
        # SIGTERM (or Ctrl-C) ends the whole runs early: the table then shows
        # those that finished.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            for label, tf in terraforms:
                floor_ok = not label.startswith("Terraform 1.0.")  # terraform_data came in 1.4
                tag = label.split()[-1]
                for n in sizes:
                    by_kind = runs.setdefault((label, n), {})
                    by_kind["nicsrs"] = whole_run("nicsrs", n, tf, tag, bins, work, a.csr)
                    state_file = by_kind["nicsrs"]["state_file"]
                    by_kind["noop"] = whole_run("noop", n, tf, tag, bins, work, a.csr, state_file)
                    by_kind["peer"] = whole_run("peer", n, tf, tag, bins, work, a.csr)
                    if floor_ok:
                        by_kind["floor"] = whole_run("floor", n, tf, tag, bins, work, a.csr)
            if a.micro_manifest:
                micro_results = micro(a.micro_manifest, a.micro_target_dir, state_file, work)
        except KeyboardInterrupt:
            log("interrupted: the table shows the runs that finished")
            runs = {key: by_kind for key, by_kind in runs.items() if "nicsrs" in by_kind}
    print(table(starts, runs, micro_results))


if __name__ == "__main__":
    main()
