#!/usr/bin/env bash
# Builds every Swift product once (debug), in a stable environment: SwiftPM plans the build anew
# whenever the environment differs from the last build's (about 25 s here), so a start script that
# passes its settings to `swift build` would pay that on every start. Up to date, this takes ~1 s.
# Usage: scripts/build.sh [swift build arguments]; prints the binary folder on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh >&2
env -i HOME="$HOME" PATH="$PATH" swift build "$@" >&2
echo "$PWD/.build/debug"
