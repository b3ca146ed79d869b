#!/usr/bin/env bash
# Writes the release assets of one version, in the form the Terraform
# Registry and `terraform init` (from a registry or a filesystem mirror)
# expect:
#
#   scripts/release.sh VERSION [--platform OS_ARCH] [--binary PATH] [--gpg-key KEY] [--max-glibc X.Y] [--out DIR] [--zip-only | --sums-only]
#
#   VERSION            the version to release; must be the one in Cargo.toml
#   --platform OS_ARCH linux_amd64 (default), linux_arm64, darwin_amd64 or darwin_arm64;
#                      built on a machine of that platform (CI: .github/workflows/release.yml)
#   --binary PATH      package this already built binary instead of building one
#                      (the tests package the binary cargo built for them)
#   --gpg-key KEY      sign SHA256SUMS with this GPG key (an RSA key: the
#                      registry refuses others); GNUPGHOME is honoured
#   --max-glibc X.Y    Linux: build against this glibc and refuse a binary that
#                      needs a newer one [default: 2.17]
#   --out DIR          where to write the assets [default: dist/]
#   --zip-only         write only the platform's zip (one CI job per platform)
#   --sums-only        build nothing: write the manifest, and SHA256SUMS over it
#                      and every zip of VERSION already in DIR (the CI job that signs)
#
# Assets, for VERSION=0.2.0:
#   terraform-provider-nicsrs_0.2.0_linux_amd64.zip    one file, terraform-provider-nicsrs_v0.2.0, mode 0755
#   terraform-provider-nicsrs_0.2.0_manifest.json      a copy of terraform-registry-manifest.json
#   terraform-provider-nicsrs_0.2.0_SHA256SUMS         sha256sum lines of the zips and the manifest
#   terraform-provider-nicsrs_0.2.0_SHA256SUMS.sig     binary detached signature (with --gpg-key)
#
# A Linux binary is built with cargo-zigbuild for `<target>.<max-glibc>`, so it
# links against that glibc's symbols (scripts/zigbuild.sh fetches cargo-zigbuild
# and zig from PyPI into target/tools); then scripts/glibc-needed.py reads the
# newest GLIBC_ version it needs, printed and checked against --max-glibc.
# A macOS binary is built with cargo build --release.
#
# Needs bash, python3 and (for the checksums) sha256sum; gpg only with
# --gpg-key. Progress goes to stderr; stdout gets one line per asset written
# and, on Linux, the glibc line.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
name=terraform-provider-nicsrs

usage() {
  sed -n '6,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

fail() {
  echo "error: $*" >&2
  exit 1
}

version=""
platform=linux_amd64
binary=""
gpg_key=""
max_glibc="2.17"
out="$root/dist"
mode=all
while [[ $# -gt 0 ]]; do
  case "$1" in
    --platform | --binary | --gpg-key | --max-glibc | --out)
      [[ $# -ge 2 && -n "$2" ]] || {
        usage >&2
        fail "$1 needs a value"
      }
      case "$1" in
        --platform) platform="$2" ;;
        --binary) binary="$2" ;;
        --gpg-key) gpg_key="$2" ;;
        --max-glibc) max_glibc="$2" ;;
        --out) out="$2" ;;
      esac
      shift
      ;;
    --zip-only | --sums-only)
      [[ "$mode" == all || "$mode" == "${1#--}" ]] || fail "--zip-only and --sums-only exclude each other"
      mode="${1#--}"
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*)
      usage >&2
      fail "unknown option '$1'"
      ;;
    *)
      [[ -z "$version" ]] || {
        usage >&2
        fail "one VERSION only (got '$version' and '$1')"
      }
      version="$1"
      ;;
  esac
  shift
done

[[ -n "$version" ]] || {
  usage >&2
  fail "VERSION is missing: pass the version in Cargo.toml, e.g. scripts/release.sh 0.2.0"
}
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
  fail "VERSION '$version' is not a semantic version (MAJOR.MINOR.PATCH, e.g. 0.2.0); the registry only accepts those (without a leading v)"
[[ "$max_glibc" =~ ^[0-9]+\.[0-9]+$ ]] || fail "--max-glibc '$max_glibc' is not a glibc version such as 2.17"

# The Rust target of each platform the registry gets a zip for.
case "$platform" in
  linux_amd64) target=x86_64-unknown-linux-gnu ;;
  linux_arm64) target=aarch64-unknown-linux-gnu ;;
  darwin_amd64) target=x86_64-apple-darwin ;;
  darwin_arm64) target=aarch64-apple-darwin ;;
  *) fail "--platform '$platform' is not one of linux_amd64, linux_arm64, darwin_amd64, darwin_arm64" ;;
esac

# The first `version = "..."` at the start of a line is the [package] one.
crate_version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)"
[[ "$version" == "$crate_version" ]] ||
  fail "VERSION $version is not the version in Cargo.toml ($crate_version); the binary reports the Cargo.toml version, so bump it there (and let cargo update Cargo.lock) or release $crate_version"

if [[ -n "$gpg_key" ]]; then
  [[ "$mode" != zip-only ]] || fail "--gpg-key signs SHA256SUMS, which --zip-only does not write; sign in the --sums-only step"
  command -v gpg >/dev/null 2>&1 ||
    fail "--gpg-key needs gpg, which is not installed; install GnuPG, or leave out --gpg-key for unsigned assets"
  # Field 4 of a `sec` line is the public-key algorithm: 1, 2 and 3 are RSA.
  algorithm="$(gpg --batch --with-colons --list-secret-keys -- "$gpg_key" 2>/dev/null |
    awk -F: '$1 == "sec" { print $4; exit }')" || algorithm=""
  [[ -n "$algorithm" ]] || fail "--gpg-key $gpg_key: no such secret key in ${GNUPGHOME:-~/.gnupg}; list them with gpg --list-secret-keys"
  [[ "$algorithm" =~ ^[123]$ ]] ||
    fail "--gpg-key $gpg_key is not an RSA key (algorithm $algorithm); the Terraform Registry accepts only RSA signing keys: make one with gpg --quick-gen-key 'NAME <EMAIL>' rsa4096 sign"
fi

prefix="${name}_${version}"
zip_name="${prefix}_${platform}.zip"
manifest_name="${prefix}_manifest.json"
sums_name="${prefix}_SHA256SUMS"

mkdir -p "$out"
out="$(cd "$out" && pwd)"

# ------------------------------------------------------------ the zip

if [[ "$mode" != sums-only ]]; then
  # The binary must run here: --version is checked, and a Linux binary's
  # glibc needs are read from the file cargo built for this machine.
  case "$(uname -s)/$(uname -m)" in
    Linux/x86_64) host=linux_amd64 ;;
    Linux/aarch64 | Linux/arm64) host=linux_arm64 ;;
    Darwin/x86_64) host=darwin_amd64 ;;
    Darwin/arm64) host=darwin_arm64 ;;
    *) host="$(uname -s)/$(uname -m)" ;;
  esac
  [[ "$platform" == "$host" ]] ||
    fail "--platform $platform is built and checked on a $platform machine, and this one is $host; .github/workflows/release.yml builds every platform on its own runner"

  if [[ -z "$binary" ]]; then
    if [[ "$platform" == linux_* ]]; then
      tools="$("$root/scripts/zigbuild.sh")" || fail "could not set up cargo-zigbuild (see above)"
      echo "==> cargo zigbuild --release --target $target.$max_glibc" >&2
      (cd "$root" && PATH="$tools:$PATH" cargo zigbuild --release --locked --bin "$name" --target "$target.$max_glibc" >&2) ||
        fail "cargo zigbuild failed (see above)"
    else
      echo "==> cargo build --release --target $target" >&2
      (cd "$root" && cargo build --release --locked --bin "$name" --target "$target" >&2) ||
        fail "cargo build failed (see above)"
    fi
    binary="${CARGO_TARGET_DIR:-$root/target}/$target/release/$name"
  fi
  [[ -f "$binary" && -x "$binary" ]] || fail "--binary $binary is not an executable file; pass the path of a built $name"

  # The binary must be the version it is released as.
  reported="$("$binary" --version 2>&1 | head -n 1)" ||
    fail "$binary --version failed ($reported); is it a $name binary for $platform?"
  [[ "$reported" == "$name $version" ]] ||
    fail "$binary reports '$reported', not '$name $version'; rebuild it from this tree (Cargo.toml says $crate_version)"

  if [[ "$platform" == linux_* ]]; then
    # The newest glibc symbol version the binary needs: the oldest Linux it runs on.
    needed_glibc="$(python3 "$root/scripts/glibc-needed.py" "$binary")" ||
      fail "cannot read the glibc versions $binary needs (see above)"
    newer="$(printf '%s\n%s\n' "$needed_glibc" "$max_glibc" | sort -V | tail -n 1)"
    if [[ "$newer" != "$max_glibc" ]]; then
      fail "$binary needs GLIBC_$needed_glibc, newer than --max-glibc $max_glibc: it would not start on older distributions. Build it against an older glibc (leave out --binary: this script builds with cargo zigbuild --target $target.$max_glibc) or raise --max-glibc knowingly"
    fi
    echo "glibc: $binary needs GLIBC_$needed_glibc at most (limit $max_glibc)"
  fi

  rm -f "$out/$zip_name"
  if [[ "$mode" == all ]]; then
    rm -f "$out/$manifest_name" "$out/$sums_name" "$out/$sums_name.sig"
  fi

  # The zip holds one file whose stored Unix mode is 0755: Terraform gives the
  # extracted file the stored mode, so a zip without it installs a provider
  # that cannot run. Its time is SOURCE_DATE_EPOCH when set, else the binary's.
  python3 - "$binary" "$out/$zip_name" "${name}_v${version}" <<'PY'
import os
import shutil
import sys
import time
import zipfile

binary, archive, member = sys.argv[1:4]
stamp = int(os.environ.get("SOURCE_DATE_EPOCH") or os.stat(binary).st_mtime)
info = zipfile.ZipInfo(member, date_time=time.gmtime(max(stamp, 315532800))[:6])
info.create_system = 3  # Unix: readers take the mode from external_attr
info.external_attr = 0o100755 << 16  # regular file, rwxr-xr-x
info.compress_type = zipfile.ZIP_DEFLATED
partial = archive + ".partial"
with zipfile.ZipFile(partial, "w") as zf, open(binary, "rb") as source:
    with zf.open(info, "w") as target:
        shutil.copyfileobj(source, target, 1 << 20)
os.replace(partial, archive)
PY
fi

# -------------------------------------------- manifest, checksums, signature

if [[ "$mode" != zip-only ]]; then
  manifest="$root/terraform-registry-manifest.json"
  python3 -c '
import json, sys
data = json.load(open(sys.argv[1]))
assert data["version"] == 1 and data["metadata"]["protocol_versions"], "version 1 with protocol_versions"
' "$manifest" || fail "$manifest is not a registry manifest (version 1, metadata.protocol_versions)"

  # The zips covered: the one just written, or with --sums-only every zip of
  # this version in DIR (the CI jobs' downloads).
  if [[ "$mode" == all ]]; then
    zips="$zip_name"
  else
    zips="$(cd "$out" && for zip in "${prefix}"_*_*.zip; do [[ -f "$zip" ]] && echo "$zip"; done | LC_ALL=C sort)" || true
    [[ -n "$zips" ]] || fail "--sums-only: no ${prefix}_OS_ARCH.zip in $out; put the zips of the platform jobs there first"
    rm -f "$out/$manifest_name" "$out/$sums_name" "$out/$sums_name.sig"
  fi

  cp "$manifest" "$out/$manifest_name"
  # Word splitting is wanted: asset names have no spaces.
  # shellcheck disable=SC2086
  (cd "$out" && sha256sum -- $zips "$manifest_name" >"$sums_name.partial" && mv "$sums_name.partial" "$sums_name")

  if [[ -n "$gpg_key" ]]; then
    gpg --batch --yes --local-user "$gpg_key" --output "$out/$sums_name.sig" --detach-sign "$out/$sums_name" >&2 ||
      fail "gpg could not sign with --gpg-key $gpg_key (see above)"
    gpg --batch --verify "$out/$sums_name.sig" "$out/$sums_name" 2>/dev/null ||
      fail "the signature gpg just made does not verify; see gpg --verify $out/$sums_name.sig $out/$sums_name"
  fi
fi

case "$mode" in
  all) assets="$zip_name $manifest_name $sums_name $sums_name.sig" ;;
  zip-only) assets="$zip_name" ;;
  sums-only) assets="$manifest_name $sums_name $sums_name.sig" ;;
esac
for asset in $assets; do
  if [[ -f "$out/$asset" ]]; then
    echo "wrote $out/$asset ($(wc -c <"$out/$asset" | tr -d ' ') bytes)"
  fi
done
