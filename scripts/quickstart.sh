#!/usr/bin/env bash
# The quick start: from nothing to an issued certificate, offline, on a machine
# with cargo and python3/pip.
#
#   scripts/quickstart.sh [--terraform PATH|1.0.3|1.15.5] [--dir DIR]
#
#   --terraform   the Terraform to use: a path, or a version scripts/terraform.sh
#                 installs [default: $NICSRS_TERRAFORM, else what scripts/terraform.sh picks]
#   --dir DIR     the working directory to leave behind (must not exist or be
#                 empty) [default: a new nicsrs-quickstart.* folder in $TMPDIR or /tmp]
#
# It builds the provider and the sandbox, starts nicsrs-sandbox with a
# certificate due for renewal, points Terraform at the build (dev_overrides),
# and applies examples/first-certificate: a renewal order, one DNS record per
# domain published to the sandbox by `terraform_data` with `for_each`, and
# `nicsrs_certificate_validation` waiting for the certificate. Terraform older
# than 1.4 has no terraform_data: there it applies
# examples/dns-cname-validation/sandbox, which publishes the records from a
# provisioner. Then it prints the certificate's subject, names and expiry, and
# stops the sandbox, leaving the working directory to look around in.
#
# NICSRS_BIN_DIR=dir  use the binaries already built there (skips cargo build)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

usage() {
  sed -n '5,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

fail() {
  echo "error: $*" >&2
  exit 1
}

terraform="${NICSRS_TERRAFORM:-}"
work=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --terraform | --dir)
      [[ $# -ge 2 && -n "$2" ]] || {
        usage >&2
        fail "$1 needs a value"
      }
      if [[ "$1" == --dir ]]; then work="$2"; else terraform="$2"; fi
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      fail "unknown argument '$1'"
      ;;
  esac
  shift
done

started=$SECONDS
step() { echo "==> [$((SECONDS - started))s] $*"; }

bin_dir="${NICSRS_BIN_DIR:-}"
if [[ -z "$bin_dir" ]]; then
  step "Building the provider and the sandbox (cargo build --bins; the first build takes minutes)"
  cargo build --bins
  bin_dir="$root/target/debug"
fi
# Terraform's dev_overrides need an absolute folder.
bin_dir="$(cd "$bin_dir" 2>/dev/null && pwd)" || fail "NICSRS_BIN_DIR ${NICSRS_BIN_DIR:-} is not a folder"
for binary in terraform-provider-nicsrs nicsrs-sandbox; do
  [[ -x "$bin_dir/$binary" ]] || fail "no $binary in $bin_dir; build with cargo build --bins, or unset NICSRS_BIN_DIR"
done
started=$SECONDS

case "$terraform" in
  "") terraform="$(scripts/terraform.sh)" ;;
  [0-9]*.*) terraform="$(scripts/terraform.sh --version "$terraform")" ;;
esac
tf_version="$("$terraform" version 2>/dev/null | sed -n 's/^Terraform v\([0-9][0-9.]*\).*/\1/p')" ||
  true
[[ -n "$tf_version" ]] || fail "$terraform is not a Terraform CLI ('$terraform version' says no version); pass --terraform PATH"
newer="$(printf '%s\n1.4.0\n' "$tf_version" | sort -V | tail -n 1)"
if [[ "$tf_version" == "1.4.0" || "$newer" != "1.4.0" ]]; then
  example=first-certificate
  how="terraform_data with for_each over dns_records"
else
  example=dns-cname-validation/sandbox
  how="a local-exec provisioner (Terraform $tf_version has no terraform_data, which came in 1.4)"
fi
step "Terraform $tf_version: $terraform"

if [[ -z "$work" ]]; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/nicsrs-quickstart.XXXXXX")"
else
  mkdir -p "$work"
  [[ -z "$(ls -A "$work")" ]] || fail "--dir $work is not empty; name a new folder"
  work="$(cd "$work" && pwd)"
fi
dir="$work/certificate"

sandbox_pid=""
cleanup() {
  if [[ -n "$sandbox_pid" ]]; then
    kill "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

step "Starting nicsrs-sandbox, the local NicSRS simulator, with certificate 1234567 expiring in 30 days"
mkfifo "$work/sandbox.out"
"$bin_dir/nicsrs-sandbox" --listen 127.0.0.1:0 --seed-certificate 1234567:30 \
  --state "$work/sandbox-state.json" >"$work/sandbox.out" 2>"$work/sandbox.log" &
sandbox_pid=$!
read -r first_line <"$work/sandbox.out" || first_line=""
sandbox_url="${first_line#listening on }"
if [[ "$sandbox_url" != http://* ]]; then
  cat "$work/sandbox.log" >&2
  fail "the sandbox did not start: '$first_line'"
fi
echo "    sandbox at $sandbox_url (log: $work/sandbox.log)"

cat >"$work/dev.tfrc" <<TFRC
provider_installation {
  dev_overrides {
    "nicsrs/nicsrs" = "$bin_dir"
  }
  direct {}
}
TFRC
cp -r "examples/$example" "$dir"
cat >"$dir/terraform.tfvars" <<TFVARS
nicsrs_base_url  = "$sandbox_url"
nicsrs_api_token = "sandbox-token"
renew_id         = "1234567"
TFVARS
export TF_CLI_CONFIG_FILE="$work/dev.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1

step "terraform apply in $dir (a copy of examples/$example): renewal order, DNS records by $how, validation"
"$terraform" -chdir="$dir" apply -auto-approve -input=false

output() { "$terraform" -chdir="$dir" output "$@"; }
cert_id="$(output -raw cert_id)"
not_after="$(output -raw not_after)"
names="$(output -json names | python3 -c 'import json, sys; print(", ".join(json.load(sys.stdin)))')"
serial="$(output -raw serial_number)"
output -raw certificate_pem >"$work/certificate.pem"
if command -v openssl >/dev/null 2>&1; then
  subject="$(openssl x509 -in "$work/certificate.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject= *//')"
else
  subject="(openssl is not installed: see terraform output -raw certificate_pem)"
fi

step "Issued. Renewal order $cert_id; the certificate:"
cat <<FACTS
    subject:  $subject
    names:    $names
    expires:  $not_after
    serial:   $serial
    PEM:      $work/certificate.pem

Done in $((SECONDS - started))s after the build. The sandbox has stopped; the working directory stays:
    Terraform working directory: $dir (state: terraform.tfstate)
    CLI config (dev_overrides):  $work/dev.tfrc
    Sandbox state and log:       $work/sandbox-state.json, $work/sandbox.log
Look around (these read the state; plan and apply need the sandbox running again):
    export TF_CLI_CONFIG_FILE=$work/dev.tfrc
    $terraform -chdir=$dir output
    $terraform -chdir=$dir state list
    $terraform -chdir=$dir state show nicsrs_certificate_validation.web
    $terraform -chdir=$dir output -raw certificate_pem | openssl x509 -noout -text
FACTS
echo "cert_id=$cert_id"
