#!/usr/bin/env bash
# Installs the system packages the project builds and tests with; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libssl-dev libcurl4-openssl-dev libb2-dev libsodium-dev libsqlite3-dev pkg-config make curl python3-oauthlib python3-pytest python3-venv
  python3-cryptography openssl tinyproxy-bin)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Servers the tests start privately, looked for by their programs (any packaged version will do):
# PostgreSQL for the fleet (scripts/lib/pg-cluster.sh), Prometheus and promtool for the metrics.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || missing+=(prometheus)

if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Rust binding's tests need cargo; the image usually has rustup's, else Debian's.
if ! command -v cargo >/dev/null 2>&1; then
  echo "bootstrap: installing cargo"
  DEBIAN_FRONTEND=noninteractive ${sudo:-} apt-get install -y -qq --no-install-recommends cargo >/dev/null
fi

# `just` is not a Debian package; PyPI ships a native build.
if ! command -v just >/dev/null 2>&1; then
  echo "bootstrap: installing just"
  python3 -m pip install --quiet --disable-pip-version-check rust-just
fi

