#!/usr/bin/env bash
# Installs the system packages the project builds and tests with; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# postgresql: the fleet's tests start private clusters of it (scripts/lib/pg-cluster.sh); prometheus: the
# observability tests scrape the processes with a real server and check the alert rules with promtool.
packages=(libssl-dev libcurl4-openssl-dev libb2-dev libsodium-dev libsqlite3-dev pkg-config make curl python3-oauthlib python3-pytest python3-venv
  python3-cryptography postgresql postgresql-client prometheus)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

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

