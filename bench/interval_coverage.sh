#!/usr/bin/env bash
# Coverage of the bootstrap intervals (docs/risk.md "How sure is the number"):
# test/peer/test_risk_interval.py with more data sets and replicates than the
# suite can afford.  Part 1 compares the percentile and bias-corrected
# intervals at 100 replicates on independent rows (the closed-form design);
# part 2 the row and cluster bootstraps on sellers of 10 correlated months.
# Fits: S (1 + B) in part 1, S2 (1 + 2 B) in part 2, of 1000 and 600 rows.
# Usage (against a database, PG* variables, or under scripts/cluster.sh):
#   bench/interval_coverage.sh [S] [B] [S2]
set -euo pipefail
cd "$(dirname "$0")/.."
export SCFRISK_INTERVAL_S="${1:-60}" SCFRISK_INTERVAL_B="${2:-100}" SCFRISK_INTERVAL_CLUSTER_S="${3:-40}"
createdb interval_bench 2>/dev/null || true
PGDATABASE=interval_bench /usr/bin/python3 test/peer/test_risk_interval.py | grep -E '^#|^not ok'
dropdb interval_bench
