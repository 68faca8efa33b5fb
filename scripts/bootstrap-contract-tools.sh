#!/usr/bin/env bash
# The contract tests' Python tools (PyPI, pinned in tests/contract/requirements.txt) in build/venv,
# a virtualenv that also sees Debian's packages (oauthlib, pytest). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi

venv=build/venv
requirements=tests/contract/requirements.txt
if ! dpkg-query -W -f='${Status}' python3-venv 2>/dev/null | grep -q "install ok installed"; then
  echo "bootstrap: installing python3-venv"
  DEBIAN_FRONTEND=noninteractive ${sudo:-} apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
if [[ ! -x $venv/bin/python ]] || ! cmp -s "$requirements" "$venv/requirements.txt"; then
  echo "bootstrap: creating $venv"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
fi
