#!/usr/bin/env bash
# Build with warnings as errors and install, holding a lock so that parallel
# invocations in one tree never race.  With SCFRISK_PGROOT set, installs into
# that private server copy instead (scripts/pgroot.sh).
# Usage: scripts/build.sh [make args]
set -euo pipefail
# PostgreSQL 15 explicitly, even where other major versions are installed.
if [ -z "${PG_CONFIG:-}" ] && [ -x /usr/lib/postgresql/15/bin/pg_config ]; then
	export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
fi
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
mkdir -p build
exec 9>build/.lock
flock 9
make -s WERROR=1 PG_CONFIG="${PG_CONFIG:-pg_config}" "$@"
# SCFRISK_PGROOT: install into a private copy of the server (scripts/pgroot.sh)
root=$(scripts/pgroot.sh)
if [ -n "$root" ]; then
	make -s install PG_CONFIG="${PG_CONFIG:-pg_config}" DESTDIR="$root" "$@" >/dev/null
else
	$SUDO make -s install PG_CONFIG="${PG_CONFIG:-pg_config}" "$@" >/dev/null
fi
