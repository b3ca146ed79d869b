#!/usr/bin/env bash
# The benchmark suite of issue 13: builds the release binaries, the peer
# (bench/peer, on the tf-provider crate) and the bench programs of bench/ours,
# measures them and prints one markdown table, which it also writes into
# bench/RESULTS.md (between the bench:begin / bench:end markers, with the
# machine it ran on). Not part of scripts/test.sh: its figures are measured,
# not asserted.
#
#   bench/run.sh                 N = 100, 500 and 1000 on Terraform 1.0.3 and 1.15.5
#   bench/run.sh --sizes 100     other sizes (comma-separated, each <= 1024)
#   bench/run.sh --terraform 1.15.5   one Terraform version (1.0.3 or 1.15.5)
#   bench/run.sh --no-micro      leave out the criterion micro-benchmarks
#   bench/run.sh --no-results    print the table only, leave RESULTS.md alone
#
# Needs cargo, python3, openssl and GNU time (/usr/bin/time); Terraform comes
# from scripts/terraform.sh; protoc (for the peer) from PATH, $PROTOC, or
# Debian's protobuf-compiler, which this script installs with apt-get when it
# runs as root and finds none.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

sizes=100,500,1000
versions=(1.0.3 1.15.5)
micro=1
write_results=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sizes) sizes="$2"; shift ;;
    --sizes=*) sizes="${1#--sizes=}" ;;
    --terraform) versions=("$2"); shift ;;
    --terraform=*) versions=("${1#--terraform=}") ;;
    --no-micro) micro=0 ;;
    --no-results) write_results=0 ;;
    -h | --help) sed -n '2,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

for tool in python3 openssl /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "error: bench/run.sh needs $tool" >&2; exit 1; }
done

# protoc for tf-provider's build script: $PROTOC, else PATH, else Debian's
# package (the include files of google/protobuf come with libprotobuf-dev).
if [[ -z ${PROTOC:-} ]] && ! command -v protoc >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "==> apt-get install protobuf-compiler libprotobuf-dev (protoc for bench/peer)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends protobuf-compiler libprotobuf-dev >&2 ||
      { apt-get update >&2 && apt-get install -y --no-install-recommends protobuf-compiler libprotobuf-dev >&2; }
  else
    echo "error: bench/run.sh needs protoc to build bench/peer: install Debian's protobuf-compiler" \
      "and libprotobuf-dev, or set PROTOC to a protoc binary" >&2
    exit 1
  fi
fi

# What is measured: the commit, and whether the code differs from it, when built.
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench/peer bench/ours Cargo.toml Cargo.lock || echo ' + uncommitted changes')"

# Three builds: the provider and the sandbox; the peer in its own target
# directory (other dependency versions); bench/ours in the provider's target
# directory, so that it reuses the provider's compiled dependencies.
echo "==> cargo build --release: the provider, the peer, bench/ours" >&2
build_start=$(date +%s)
cargo build --release --bins --locked >&2
cargo build --release --locked --manifest-path bench/peer/Cargo.toml --target-dir "$root/target/bench/peer" >&2
cargo build --release --locked --manifest-path bench/ours/Cargo.toml --target-dir "$root/target" --bins >&2
if [[ $micro == 1 ]]; then
  CARGO_TARGET_DIR="$root/target" cargo bench --locked --profile release --manifest-path bench/ours/Cargo.toml --no-run >&2
fi
build_seconds=$(($(date +%s) - build_start))
echo "    took ${build_seconds} s" >&2

terraform_args=()
terraform_versions=()
for version in "${versions[@]}"; do
  tf="$(scripts/terraform.sh --version "$version")"
  terraform_args+=(--terraform "Terraform $version=$tf")
  terraform_versions+=("$("$tf" version | sed -n 1p)")
done
micro_args=()
if [[ $micro == 1 ]]; then
  micro_args=(--micro-manifest "$root/bench/ours/Cargo.toml" --micro-target-dir "$root/target")
fi

table="$(python3 bench/bench.py --release "$root/target/release" \
  --noop "$root/target/release/terraform-provider-nicsrs-noop" \
  --peer "$root/target/bench/peer/release/terraform-provider-peer" \
  "${terraform_args[@]}" "${micro_args[@]}" \
  --csr examples/quickstart/web.csr --sizes "$sizes")"
printf '%s\n' "$table"

[[ $write_results == 1 ]] || exit 0
cpu_model="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
block="$(cat <<BLOCK
<!-- bench:begin (written by bench/run.sh; edit outside the markers) -->
Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores (${cpu_model:-unknown CPU}), $(uname -sr),
$(IFS=,; echo "${terraform_versions[*]}" | sed 's/,/ and /') (1.15.5: the in-process launcher of scripts/terraform.sh), commit ${commit};
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
