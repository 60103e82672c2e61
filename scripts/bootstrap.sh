#!/usr/bin/env bash
# Install what shelfsense needs, idempotently, on Debian 12 with Python >= 3.11.
#
#   system (root only): mosquitto, postgresql, chromium (+ make, python3-venv when missing).
#       Their system services are never used: tests and `shelfsense demo` start private copies
#       on free loopback ports. Not root: what is missing is printed, and the tests that need it
#       fail with a message that says so.
#   .venv: created with the first python3 >= 3.11 found, then `pip install -e '.[dev]'`,
#       skipped while pyproject.toml is unchanged since the last successful install.
#
# Downloads only through apt and pip. Never runs `playwright install`: browser tests use
# Debian's /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.shelfsense-install-stamp"

log() { printf 'bootstrap: %s\n' "$*" >&2; }

have_mosquitto() { command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; }
have_postgresql() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null \
    || { command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; }
}
have_chromium() { command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; }

find_python() {
  local candidate
  for candidate in python3.11 python3 python3.12 python3.13; do
    if command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

missing_apt_packages() {
  local python="$1"
  have_mosquitto || echo mosquitto
  have_postgresql || echo postgresql
  have_chromium || echo chromium
  command -v make >/dev/null 2>&1 || echo make
  if [[ "$python" == /usr/bin/* ]] && ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    echo python3-venv
  fi
}

install_system_packages() {
  local python="$1" missing
  missing=$(missing_apt_packages "$python" | tr '\n' ' ')
  missing=${missing% }
  [ -n "$missing" ] || return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "not root, so not installing: $missing (tests that need them will fail and say so)"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "no apt-get on this machine; install by hand: $missing"
    return 0
  fi
  log "apt-get install $missing"
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086  # $missing is a list of package names
  if ! { apt-get -o DPkg::Lock::Timeout=600 update -qq \
    && apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing; }; then
    log "apt-get failed; continuing without: $missing"
  fi
}

ensure_venv() {
  local python="$1"
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'pass' 2>/dev/null; then
    return 0
  fi
  log "creating $VENV with $python ($("$python" --version 2>&1))"
  "$python" -m venv --clear "$VENV"
}

install_project() {
  local wanted
  wanted="$(sha256sum pyproject.toml | cut -d' ' -f1) $("$VENV/bin/python" -V 2>&1)"
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$wanted" ] && [ -x "$VENV/bin/shelfsense" ]; then
    log "$VENV is up to date with pyproject.toml"
    return 0
  fi
  log "pip install -e '.[dev]'"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install -q -e '.[dev]'
  printf '%s' "$wanted" >"$STAMP"
}

main() {
  local python
  if ! python=$(find_python); then
    log "no python3 >= 3.11 on PATH: install Python 3.11 first"
    exit 1
  fi
  install_system_packages "$python"
  ensure_venv "$python"
  install_project
}

main "$@"
