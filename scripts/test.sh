#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs (Debian packages for the
# integration suite, a venv with the pinned PyPI packages), then runs ruff, mypy and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(prometheus prometheus-node-exporter prometheus-postgres-exporter prometheus-redis-exporter
              prometheus-nginx-exporter prometheus-alertmanager prometheus-blackbox-exporter postgresql redis-server
              nginx victoria-metrics openssl)

if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for package in "${APT_PACKAGES[@]}"; do
    # "install ok installed" only: a removed package keeps a dpkg entry for its config files.
    [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" = "install ok installed" ] || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "test.sh: installing Debian packages: ${missing[*]}"
    # The tests start their own instances on free loopback ports: keep the packages'
    # system services from starting (and from holding the default ports).
    created_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
      $sudo chmod +x /usr/sbin/policy-rc.d
      created_policy=1
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ -z "$created_policy" ] || $sudo rm -f /usr/sbin/policy-rc.d
  fi
else
  echo "test.sh: no apt-get here: the integration suite will say what to install and skip (it never skips in CI)"
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt

# Lint and types first: quick, and a failure names the line (settings in pyproject.toml).
echo "test.sh: ruff check"
.venv/bin/ruff check .
echo "test.sh: mypy"
.venv/bin/mypy

exec .venv/bin/python -m pytest "$@"
