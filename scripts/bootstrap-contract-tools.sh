#!/usr/bin/env bash
# The Python test tools from PyPI (pinned in Tests/Contract/requirements.txt; botocore for the SigV4 cross-check) in build/venv,
# a virtualenv that also sees Debian's packages (oauthlib, pytest). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh  # python3-venv among the Debian packages

venv=build/venv
requirements=Tests/Contract/requirements.txt
if [[ ! -x $venv/bin/python ]] || ! cmp -s "$requirements" "$venv/requirements.txt"; then
  echo "bootstrap: creating $venv"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
fi
