#!/usr/bin/env python3
"""Measures the provider for bench/run.sh and prints one markdown table.

Called by bench/run.sh after the release build; see bench/README.md for what
each figure means. Standard library only; needs /usr/bin/time (GNU time) and
openssl on PATH.
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


def startup(binary, work, runs):
    """Median start-up with and without AutoMTLS, runs interleaved."""
    socket_dir = work / "sockets"
    socket_dir.mkdir(exist_ok=True)
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        COOKIE[0]: COOKIE[1],
        "PLUGIN_PROTOCOL_VERSIONS": "6",
        "PLUGIN_UNIX_SOCKET_DIR": str(socket_dir),
    }
    mtls = dict(base, PLUGIN_CLIENT_CERT=client_cert_pem(work))
    on, off = [], []
    startup_once(binary, base)  # page cache
    for _ in range(runs):
        ms, line = startup_once(binary, mtls)
        if line.rstrip().endswith(b"|"):
            raise SystemExit("AutoMTLS run printed no server certificate")
        on.append(ms)
        off.append(startup_once(binary, base)[0])
    return on, off


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

FLOOR = """
resource "terraform_data" "r" {
  for_each = local.ids
  input    = each.key
}
"""


def ids_local(n):
    return ("locals {\n  ids = toset([for i in range(%d) : tostring(%d + i)])\n}\n"
            % (n, FIRST_SEED_ID))


class Sandbox:
    def __init__(self, binary, n, work):
        args = [binary, "--listen", "127.0.0.1:0"]
        for i in range(n):
            args += ["--seed-certificate", f"{FIRST_SEED_ID + i}:30"]
        self.log = open(work / f"sandbox-{n}.log", "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("listening on "):
            raise SystemExit(f"sandbox did not start: {line!r}")
        self.url = line[len("listening on "):]

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


def whole_run(kind, n, tf, release, work, csr):
    """apply then plan of N resources; kind is 'nicsrs' or 'floor'."""
    cwd = work / f"{kind}-{n}"
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
        # A wrapper records each provider process's CPU and peak RSS.
        wrap = cwd / "wrap"
        wrap.mkdir()
        plog = cwd / "provider-time"
        plog.mkdir()
        wrapper = wrap / "terraform-provider-nicsrs"
        wrapper.write_text(
            "#!/bin/sh\n"
            f"exec /usr/bin/time -f '%e %U %S %M' -o \"{plog}/$BENCH_TAG.$$\" "
            f"\"{release}/terraform-provider-nicsrs\" \"$@\"\n")
        wrapper.chmod(0o755)
        (cwd / "dev.tfrc").write_text(
            "provider_installation {\n  dev_overrides {\n"
            f"    \"nicsrs/nicsrs\" = \"{wrap}\"\n  }}\n  direct {{}}\n}}\n")
        env["TF_CLI_CONFIG_FILE"] = str(cwd / "dev.tfrc")
        sandbox = Sandbox(str(release / "nicsrs-sandbox"), n, work)
        shutil.copy(csr, cwd / "web.csr")
        config = ("terraform {\n  required_providers {\n    nicsrs = { source = \"nicsrs/nicsrs\" }\n"
                  "  }\n}\n"
                  f"provider \"nicsrs\" {{\n  base_url  = \"{sandbox.url}\"\n"
                  f"  api_token = \"{TOKEN}\"\n}}\n" + ids_local(n) + RENEWAL)
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
        for phase, args in (("apply", ["apply", "-auto-approve", "-input=false", "-parallelism=10"]),
                            ("plan", ["plan", "-input=false", "-detailed-exitcode",
                                      "-parallelism=10"])):
            env["BENCH_TAG"] = phase
            log(f"{kind} N={n}: terraform {phase}")
            r = terraform(tf, cwd, env, args, phase)
            if r["rc"] != 0:
                raise SystemExit(f"terraform {phase} in {cwd} exited {r['rc']}; see {phase}.log")
            if kind == "nicsrs":
                p = provider_figures(cwd / "provider-time", phase)
                r["provider"] = p
                r["terraform_cpu"] = r["cpu"] - p["cpu"]
            else:
                r["provider"] = None
                r["terraform_cpu"] = r["cpu"]
            result[phase] = r
        result["state"] = state_figures(cwd / "terraform.tfstate", n)
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


# ---------------------------------------------------------------- table

def fmt_s(x):
    return f"{x:.2f} s"


def fmt_mb(kb):
    return f"{kb / 1024:.1f} MB"


def ratio(a, b):
    return f"{a / b:.2f}×" if b else "—"


def table(startup_on, startup_off, runs):
    rows = [("figure", "nicsrs", "floor", "nicsrs / floor")]
    rows.append((f"start-up to handshake line, AutoMTLS on (median of {len(startup_on)}; "
                 f"min {min(startup_on):.1f}, max {max(startup_on):.1f})",
                 f"{statistics.median(startup_on):.1f} ms", "—", "—"))
    rows.append((f"start-up to handshake line, AutoMTLS off (median of {len(startup_off)}; "
                 f"min {min(startup_off):.1f}, max {max(startup_off):.1f})",
                 f"{statistics.median(startup_off):.1f} ms", "—", "—"))
    for n, (ours, floor) in sorted(runs.items()):
        for phase in ("apply", "plan"):
            o, f = ours[phase], floor[phase]
            p = o["provider"]
            rows.append((f"N = {n}: `terraform {phase}` wall time", fmt_s(o["wall"]),
                         fmt_s(f["wall"]), ratio(o["wall"], f["wall"])))
            rows.append((f"N = {n}: {phase}, CPU of terraform (user+sys)",
                         fmt_s(o["terraform_cpu"]), fmt_s(f["terraform_cpu"]),
                         ratio(o["terraform_cpu"], f["terraform_cpu"])))
            share = 100 * p["cpu"] / o["cpu"] if o["cpu"] else 0
            rows.append((f"N = {n}: {phase}, CPU of the provider ({p['starts']} processes; "
                         f"share of all CPU)", f"{fmt_s(p['cpu'])} ({share:.1f} %)", "—", "—"))
            rows.append((f"N = {n}: {phase}, peak RSS of terraform (largest in its tree)",
                         fmt_mb(o["rss_kb"]), fmt_mb(f["rss_kb"]), ratio(o["rss_kb"], f["rss_kb"])))
            rows.append((f"N = {n}: {phase}, peak RSS of the provider", fmt_mb(p["rss_kb"]),
                         "—", "—"))
    n = max(runs)
    s, fs = runs[n][0]["state"], runs[n][1]["state"]
    rows.append((f"state bytes per resource, terraform.tfstate / N (N = {n})",
                 f"{s['file_per']:.0f} B", f"{fs['file_per']:.0f} B",
                 ratio(s["file_per"], fs["file_per"])))
    rows.append(("state bytes per resource, compact JSON of one instance",
                 f"{s['compact_per']:.0f} B", f"{fs['compact_per']:.0f} B",
                 ratio(s["compact_per"], fs["compact_per"])))
    attrs = s["attrs"]
    top = ", ".join(f"`{k}` {v:.0f}" for k, v in attrs[:6])
    top += f", {len(attrs) - 6} others {sum(v for _, v in attrs[6:]):.0f}"
    rows.append(("bytes per attribute of one renewal (compact JSON, largest first)", top, "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for i, r in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--release", required=True, type=Path)
    ap.add_argument("--terraform", required=True)
    ap.add_argument("--csr", required=True, type=Path)
    ap.add_argument("--sizes", default="100,500")
    ap.add_argument("--startup-runs", type=int, default=30)
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="nicsrs-bench") as tmp:
        work = Path(tmp)
        log(f"start-up, {a.startup_runs} runs with AutoMTLS and {a.startup_runs} without")
        on, off = startup(str(a.release / "terraform-provider-nicsrs"), work, a.startup_runs)
        runs = {}
        for n in sizes:
            ours = whole_run("nicsrs", n, a.terraform, a.release, work, a.csr)
            floor = whole_run("floor", n, a.terraform, a.release, work, a.csr)
            runs[n] = (ours, floor)
    print(table(on, off, runs))


if __name__ == "__main__":
    main()
