#!/usr/bin/env bash
# Runs every check and test, on a fresh machine too: the only things needed
# beforehand are cargo and python3 with pip (for the pinned Terraform).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy"
cargo clippy --locked --workspace --all-targets -- -D warnings

echo "==> Terraform for the end-to-end tests: the oldest and the newest we support"
terraform_oldest="$(scripts/terraform.sh --version 1.0.3)"
terraform_newest="$(scripts/terraform.sh --version 1.15.5)"
# sed reads to the end: with head, a Terraform still writing after the first
# line could die of SIGPIPE and fail this script under pipefail.
"$terraform_oldest" version | sed -n 1p
"$terraform_newest" version | sed -n 1p

# The tests record what they measure here; docs/reliability.md is checked
# against it at the end.
rm -rf target/reliability

echo "==> cargo test: every crate's tests, and end-to-end tests on Terraform 1.0.3"
# The end-to-end tests start the sandbox crate's binary.
cargo build --locked -p nicsrs-sandbox
NICSRS_TERRAFORM="$terraform_oldest" cargo test --locked --workspace --all-targets

echo "==> cargo test: end-to-end tests on Terraform 1.15.5"
NICSRS_TERRAFORM="$terraform_newest" cargo test --locked -p terraform-provider-nicsrs --test e2e

echo "==> docs/reliability.md shows what the suite measured"
cargo test --locked -p terraform-provider-nicsrs --test e2e reliability -- --ignored --exact reliability::the_reliability_page_shows_what_the_suite_measured
