#!/usr/bin/env bash
# Run a command against a PostgreSQL server.
#
#   scripts/cluster.sh CMD [ARGS...]
#
# When PGHOST, PGPORT or PGDATABASE is set, the command runs against that
# server as it is.  Otherwise a throwaway cluster is made: initdb into a
# temporary directory (as the unprivileged user "postgres" when run as root),
# a free port, a Unix socket in that directory, started, the command run with
# PGHOST/PGPORT/PGUSER/PGDATABASE pointing at it, then stopped and removed,
# also when the command fails.  Extra postgresql.conf lines can be passed in
# SCFRISK_CLUSTER_CONF (e.g. "shared_preload_libraries = 'pg_cron'").
# With SCFRISK_PGROOT set, the private server copy of scripts/pgroot.sh runs.
set -euo pipefail
# PostgreSQL 15 explicitly, even where other major versions are installed.
if [ -z "${PG_CONFIG:-}" ] && [ -x /usr/lib/postgresql/15/bin/pg_config ]; then
	export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
fi

if [ $# -eq 0 ]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi
if [ -n "${PGHOST:-}${PGPORT:-}${PGDATABASE:-}" ]; then
	exec "$@"
fi

# With SCFRISK_PGROOT set, the server is the private copy scripts/build.sh
# installed into (scripts/pgroot.sh).
BINDIR=$("$(dirname "$0")/pgroot.sh")$("${PG_CONFIG:-pg_config}" --bindir)
dir=$(mktemp -d /tmp/scfrisk-pg.XXXXXX)
chmod 755 "$dir"
as_user=()
if [ "$(id -u)" -eq 0 ]; then
	id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
	chown postgres "$dir"
	as_user=(runuser -u postgres --)
fi

# The server tools run from a directory their user can read ("could not
# change directory to /root/...: Permission denied" otherwise).
as_pg() { (cd "$dir" && "${as_user[@]}" "$@"); }

cleanup() {
	as_pg "$BINDIR/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$BINDIR/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync \
	-E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
cat >>"$dir/data/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 60
${SCFRISK_CLUSTER_CONF:-}
CONF
as_pg "$BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
	|| { cat "$dir/server.log" >&2; exit 1; }

export PGHOST="$dir" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres
export SCFRISK_SERVER_LOG="$dir/server.log"
set +e
"$@"
rc=$?
set -e
exit $rc
