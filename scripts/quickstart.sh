#!/usr/bin/env bash
# The quick start, on a fresh machine with cargo and python3/pip:
# builds the provider and the sandbox, starts nicsrs-sandbox with a
# certificate that is due for renewal, points Terraform at the local build
# (dev_overrides), applies examples/quickstart, prints the cert_id, and
# stops the sandbox.
#
# NICSRS_BIN_DIR=dir  use binaries already built there (skips cargo build)
# NICSRS_TERRAFORM=x  use this terraform binary
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bin_dir="${NICSRS_BIN_DIR:-}"
if [[ -z "$bin_dir" ]]; then
  echo "==> Building the provider and the sandbox"
  cargo build --bins
  bin_dir="$root/target/debug"
fi
terraform="${NICSRS_TERRAFORM:-$(scripts/terraform.sh)}"

work="$(mktemp -d "${TMPDIR:-/tmp}/nicsrs-quickstart.XXXXXX")"
sandbox_pid=""
cleanup() {
  if [[ -n "$sandbox_pid" ]]; then
    kill "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

echo "==> Starting nicsrs-sandbox (certificate 1234567 expires in 30 days)"
mkfifo "$work/sandbox.out"
"$bin_dir/nicsrs-sandbox" --listen 127.0.0.1:0 --seed-certificate 1234567:30 \
  --state "$work/sandbox-state.json" >"$work/sandbox.out" 2>"$work/sandbox.log" &
sandbox_pid=$!
read -r first_line <"$work/sandbox.out"
sandbox_url="${first_line#listening on }"
if [[ "$sandbox_url" != http://* ]]; then
  echo "error: the sandbox did not start: $first_line" >&2
  cat "$work/sandbox.log" >&2
  exit 1
fi
echo "    sandbox at $sandbox_url"

cat >"$work/dev.tfrc" <<TFRC
provider_installation {
  dev_overrides {
    "nicsrs/nicsrs" = "$bin_dir"
  }
  direct {}
}
TFRC
cp -r examples/quickstart "$work/quickstart"

echo "==> terraform apply (examples/quickstart)"
export TF_CLI_CONFIG_FILE="$work/dev.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
"$terraform" -chdir="$work/quickstart" apply -auto-approve -input=false \
  -var "nicsrs_base_url=$sandbox_url" -var "nicsrs_api_token=sandbox-token" -var "renew_id=1234567"

cert_id="$("$terraform" -chdir="$work/quickstart" output -raw cert_id)"
cat <<DONE

==> Done. The sandbox placed renewal order: $cert_id
    Terraform working directory: $work/quickstart (state: terraform.tfstate)
    CLI config (dev_overrides):  $work/dev.tfrc
    Sandbox state and log:       $work/sandbox-state.json, $work/sandbox.log
    Try: TF_CLI_CONFIG_FILE=$work/dev.tfrc $terraform -chdir=$work/quickstart output dns_records
DONE
echo "cert_id=$cert_id"
