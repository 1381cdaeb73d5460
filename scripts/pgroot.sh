#!/usr/bin/env bash
# Print the root under which scfrisk is installed and its server run.
#
# Normally "" (the system's PostgreSQL 15).  When SCFRISK_PGROOT is set, it
# names a private, relocated copy of the PostgreSQL 15 server files (bin, lib,
# share), made here on first use: scripts/build.sh installs into it with
# DESTDIR and scripts/cluster.sh starts its postgres.  PostgreSQL finds its
# share and lib directories relative to its binary, so the copy is
# self-contained and several working trees can build, install and test at the
# same time without overwriting each other's scfrisk.so.
set -euo pipefail
root=${SCFRISK_PGROOT:-}
[ -n "$root" ] || { echo ""; exit 0; }
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)
if [ ! -x "$root$bindir/postgres" ]; then
	mkdir -p "$(dirname "${root%/}")"
	exec 8>"${root%/}.lock"
	flock 8
	if [ ! -x "$root$bindir/postgres" ]; then
		for d in "$(dirname "$bindir")" "$("$PG_CONFIG" --sharedir)"; do
			mkdir -p "$root$(dirname "$d")"
			cp -a "$d" "$root$(dirname "$d")/"
		done
		chmod 755 "$root"
	fi
fi
echo "$root"
