#!/usr/bin/env bash
# Build with warnings as errors and install, holding a lock so that parallel
# invocations in one tree never race.  Usage: scripts/build.sh [make args]
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
exec 9>/tmp/scfrisk-build.lock
flock 9
make -s WERROR=1 "$@"
$SUDO make -s install "$@" >/dev/null
