#!/usr/bin/env bash
# The benchmark suite of issue 13: builds the release binaries, measures them
# and prints one markdown table, which it also writes into bench/RESULTS.md
# (between the bench:begin / bench:end markers, with the machine it ran on).
# Not part of scripts/test.sh: its figures are measured, not asserted.
#
#   bench/run.sh                 N = 100 and 500, 30 start-ups each way
#   bench/run.sh --sizes 100     other sizes (comma-separated, each <= 1024)
#   bench/run.sh --no-results    print the table only, leave RESULTS.md alone
#
# Needs cargo, python3, openssl and GNU time (/usr/bin/time); Terraform 1.15.5
# comes from scripts/terraform.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

sizes=100,500
write_results=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sizes) sizes="$2"; shift ;;
    --sizes=*) sizes="${1#--sizes=}" ;;
    --no-results) write_results=0 ;;
    -h | --help) sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

for tool in python3 openssl /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "error: bench/run.sh needs $tool" >&2; exit 1; }
done

# What is measured: the commit, and whether src/ differs from it, when built.
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo ' + uncommitted changes')"

echo "==> cargo build --release --bins" >&2
build_start=$(date +%s)
cargo build --release --bins --locked >&2
build_seconds=$(($(date +%s) - build_start))
echo "    took ${build_seconds} s" >&2

terraform_newest="$(scripts/terraform.sh --version 1.15.5)"
terraform_version="$("$terraform_newest" version | sed -n 1p)"

table="$(python3 bench/bench.py --release "$root/target/release" --terraform "$terraform_newest" \
  --csr examples/quickstart/web.csr --sizes "$sizes")"
printf '%s\n' "$table"

[[ $write_results == 1 ]] || exit 0
cpu_model="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
block="$(cat <<BLOCK
<!-- bench:begin (written by bench/run.sh; edit outside the markers) -->
Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores (${cpu_model:-unknown CPU}), $(uname -sr),
${terraform_version} (in-process launcher of scripts/terraform.sh), commit ${commit};
release build took ${build_seconds} s (0 s means it was already up to date); whole runs at -parallelism=10.

${table}
<!-- bench:end -->
BLOCK
)"
results=bench/RESULTS.md
if [[ -f $results ]] && grep -q '^<!-- bench:begin' "$results"; then
  python3 - "$results" "$block" <<'PY'
import re, sys
path, block = sys.argv[1], sys.argv[2]
text = open(path).read()
text = re.sub(r"<!-- bench:begin.*?<!-- bench:end -->", lambda _: block, text, count=1, flags=re.S)
open(path, "w").write(text)
PY
else
  printf '# Benchmark results\n\n%s\n' "$block" >"$results"
fi
echo "==> wrote $results" >&2
