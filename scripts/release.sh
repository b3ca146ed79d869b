#!/usr/bin/env bash
# Writes the release assets of one version, in the form the Terraform
# Registry and `terraform init` (from a registry or a filesystem mirror)
# expect:
#
#   scripts/release.sh VERSION [--binary PATH] [--gpg-key KEY] [--max-glibc X.Y] [--out DIR]
#
#   VERSION          the version to release; must be the one in Cargo.toml
#   --binary PATH    package this already built linux_amd64 binary instead of
#                    running `cargo build --release` (the tests package the
#                    binary cargo built for them)
#   --gpg-key KEY    sign SHA256SUMS with this GPG key (an RSA key: the
#                    registry refuses others); GNUPGHOME is honoured
#   --max-glibc X.Y  refuse a binary that needs a newer glibc [default: 2.34]
#   --out DIR        where to write the assets [default: dist/]
#
# Assets, for VERSION=0.2.0:
#   terraform-provider-nicsrs_0.2.0_linux_amd64.zip    one file, terraform-provider-nicsrs_v0.2.0, mode 0755
#   terraform-provider-nicsrs_0.2.0_manifest.json      a copy of terraform-registry-manifest.json
#   terraform-provider-nicsrs_0.2.0_SHA256SUMS         sha256sum lines of the two files above
#   terraform-provider-nicsrs_0.2.0_SHA256SUMS.sig     binary detached signature (with --gpg-key)
#
# Needs bash, python3 and sha256sum; gpg only with --gpg-key. Installs nothing.
# Progress goes to stderr; stdout gets one line per asset written and the
# glibc line.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
name=terraform-provider-nicsrs
platform=linux_amd64

usage() {
  sed -n '6,15s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

fail() {
  echo "error: $*" >&2
  exit 1
}

version=""
binary=""
gpg_key=""
max_glibc="2.34"
out="$root/dist"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --binary | --gpg-key | --max-glibc | --out)
      [[ $# -ge 2 && -n "$2" ]] || { usage >&2; fail "$1 needs a value"; }
      case "$1" in
        --binary) binary="$2" ;;
        --gpg-key) gpg_key="$2" ;;
        --max-glibc) max_glibc="$2" ;;
        --out) out="$2" ;;
      esac
      shift
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
      [[ -z "$version" ]] || { usage >&2; fail "one VERSION only (got '$version' and '$1')"; }
      version="$1"
      ;;
  esac
  shift
done

[[ -n "$version" ]] || { usage >&2; fail "VERSION is missing: pass the version in Cargo.toml, e.g. scripts/release.sh 0.2.0"; }
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
  fail "VERSION '$version' is not a semantic version (MAJOR.MINOR.PATCH, e.g. 0.2.0); the registry only accepts those (without a leading v)"
[[ "$max_glibc" =~ ^[0-9]+\.[0-9]+$ ]] || fail "--max-glibc '$max_glibc' is not a glibc version such as 2.34"

# The first `version = "..."` at the start of a line is the [package] one.
crate_version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)"
[[ "$version" == "$crate_version" ]] ||
  fail "VERSION $version is not the version in Cargo.toml ($crate_version); the binary reports the Cargo.toml version, so bump it there (and let cargo update Cargo.lock) or release $crate_version"

if [[ -n "$gpg_key" ]]; then
  command -v gpg >/dev/null 2>&1 ||
    fail "--gpg-key needs gpg, which is not installed; install GnuPG, or leave out --gpg-key for unsigned assets"
  # Field 4 of a `sec` line is the public-key algorithm: 1, 2 and 3 are RSA.
  algorithm="$(gpg --batch --with-colons --list-secret-keys -- "$gpg_key" 2>/dev/null |
    awk -F: '$1 == "sec" { print $4; exit }')" || algorithm=""
  [[ -n "$algorithm" ]] || fail "--gpg-key $gpg_key: no such secret key in ${GNUPGHOME:-~/.gnupg}; list them with gpg --list-secret-keys"
  [[ "$algorithm" =~ ^[123]$ ]] ||
    fail "--gpg-key $gpg_key is not an RSA key (algorithm $algorithm); the Terraform Registry accepts only RSA signing keys: make one with gpg --quick-gen-key 'NAME <EMAIL>' rsa4096 sign"
fi

if [[ -z "$binary" ]]; then
  echo "==> cargo build --release" >&2
  (cd "$root" && cargo build --release --locked --bin "$name" >&2)
  binary="${CARGO_TARGET_DIR:-$root/target}/release/$name"
fi
[[ -f "$binary" && -x "$binary" ]] || fail "--binary $binary is not an executable file; pass the path of a built $name"

# The binary must be the version it is released as.
reported="$("$binary" --version 2>&1 | head -n 1)" ||
  fail "$binary --version failed ($reported); is it a $name binary for $platform?"
[[ "$reported" == "$name $version" ]] ||
  fail "$binary reports '$reported', not '$name $version'; rebuild it from this tree (Cargo.toml says $crate_version)"

# The newest glibc symbol version the binary needs, read from its ELF
# version-needs table (.gnu.version_r): what decides the oldest Linux it runs on.
needed_glibc="$(python3 - "$binary" <<'PY'
import struct
import sys

path = sys.argv[1]
with open(path, "rb") as f:
    elf = f.read()
if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
    sys.exit(f"{path} is not a 64-bit little-endian ELF file")
(machine,) = struct.unpack_from("<H", elf, 18)
if machine != 62:
    sys.exit(f"{path} is for ELF machine {machine}, not x86-64 (62)")
(shoff,) = struct.unpack_from("<Q", elf, 0x28)
shentsize, shnum = struct.unpack_from("<HH", elf, 0x3A)
sections = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
SHT_GNU_VERNEED = 0x6FFFFFFE
versions = set()
for _, kind, _, _, offset, _, link, count, _, _ in sections:
    if kind != SHT_GNU_VERNEED:
        continue
    strings = sections[link][4]

    def text(at):
        start = strings + at
        return elf[start:elf.index(b"\0", start)].decode()

    need = offset
    for _ in range(count):
        _, aux_count, _, aux, following = struct.unpack_from("<HHIII", elf, need)
        entry = need + aux
        for _ in range(aux_count):
            _, _, _, label, aux_next = struct.unpack_from("<IHHII", elf, entry)
            name = text(label)
            if name.startswith("GLIBC_") and name[6:7].isdigit():
                versions.add(tuple(int(p) for p in name[6:].split(".")))
            entry += aux_next
        need += following
if not versions:
    sys.exit(f"{path} names no GLIBC_ symbol version (static, or not linked against glibc)")
print(".".join(map(str, max(versions))))
PY
)" || fail "cannot read the glibc versions $binary needs (see above)"

newer="$(printf '%s\n%s\n' "$needed_glibc" "$max_glibc" | sort -V | tail -n 1)"
if [[ "$newer" != "$max_glibc" ]]; then
  fail "$binary needs GLIBC_$needed_glibc, newer than --max-glibc $max_glibc: it would not start on older distributions. Build against an older glibc (for example cargo zigbuild --release --target x86_64-unknown-linux-gnu.2.28) or raise --max-glibc knowingly"
fi
echo "glibc: $binary needs GLIBC_$needed_glibc at most (limit $max_glibc)"

manifest="$root/terraform-registry-manifest.json"
python3 -c '
import json, sys
data = json.load(open(sys.argv[1]))
assert data["version"] == 1 and data["metadata"]["protocol_versions"], "version 1 with protocol_versions"
' "$manifest" || fail "$manifest is not a registry manifest (version 1, metadata.protocol_versions)"

prefix="${name}_${version}"
zip_name="${prefix}_${platform}.zip"
manifest_name="${prefix}_manifest.json"
sums_name="${prefix}_SHA256SUMS"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
rm -f "$out/$zip_name" "$out/$manifest_name" "$out/$sums_name" "$out/$sums_name.sig"

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
cp "$manifest" "$out/$manifest_name"
(cd "$out" && sha256sum -- "$zip_name" "$manifest_name" >"$sums_name.partial" && mv "$sums_name.partial" "$sums_name")

if [[ -n "$gpg_key" ]]; then
  gpg --batch --yes --local-user "$gpg_key" --output "$out/$sums_name.sig" --detach-sign "$out/$sums_name" >&2 ||
    fail "gpg could not sign with --gpg-key $gpg_key (see above)"
  gpg --batch --verify "$out/$sums_name.sig" "$out/$sums_name" 2>/dev/null ||
    fail "the signature gpg just made does not verify; see gpg --verify $out/$sums_name.sig $out/$sums_name"
fi

for asset in "$zip_name" "$manifest_name" "$sums_name" "$sums_name.sig"; do
  if [[ -f "$out/$asset" ]]; then
    echo "wrote $out/$asset ($(wc -c <"$out/$asset") bytes)"
  fi
done
