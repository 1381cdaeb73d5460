#!/usr/bin/env bash
# Run every benchmark in bench/ against a throwaway cluster (or the server in
# PG* variables).  Each prints its figures; copy them into docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
run_all() {
	for b in bench/*_bench.py; do
		[ -f "$b" ] || continue
		echo "== $b"
		createdb "b_$(basename "$b" .py)" 2>/dev/null || true
		PGDATABASE="b_$(basename "$b" .py)" /usr/bin/python3 "$b"
	done
	for b in bench/*_bench.sh; do
		[ -f "$b" ] || continue
		echo "== $b"
		bash "$b"
	done
}
export -f run_all
scripts/cluster.sh bash -c run_all
