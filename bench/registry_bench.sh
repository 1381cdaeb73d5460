#!/usr/bin/env bash
# Registry under load (issue 7): pgbench with 8 clients scoring by name for
# DURATION seconds (default 20) while another session retrains and promotes a
# new version every second, alternating with the same scoring by value (the
# deployed model in a scalar subquery), REPEAT times each (default 3); then a
# consistency phase where every statement scores its rows both by name and by
# value of the model it reads and records mismatches.  Reports errors,
# mismatches, lost versions and the ratio of the median throughputs by name /
# by value.  Runs under bench/benchlib.py's discipline (load before, other
# processes' CPU during the run; NOISY figures exit 3).
#
#   bench/registry_bench.sh                 throwaway cluster (scripts/cluster.sh)
#   DURATION=20 REPEAT=3 CLIENTS=8 bench/registry_bench.sh
#
# Needs a scoring classifier (scfrisk.predict(bytea, float8[]) and logreg_train,
# xgb_train or mlp_train) and scfrisk.binary_metrics.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${SF_BENCHLIB:-}" ]; then
	SF_BENCHLIB=1 exec /usr/bin/python3 bench/benchlib.py "$0" "$@"
fi
if [ -z "${PGHOST:-}${PGPORT:-}${PGDATABASE:-}" ]; then
	exec scripts/cluster.sh "$0" "$@"
fi
BIN=/usr/lib/postgresql/15/bin
DURATION=${DURATION:-20}
REPEAT=${REPEAT:-3}
CLIENTS=${CLIENTS:-8}
CHECK_DURATION=${CHECK_DURATION:-20}
EXT=${SCFRISK_TEST_EXTENSION:-scfrisk}
DB=registry_bench
WORK=$(mktemp -d /tmp/registry_bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
export PGDATABASE=$DB
"$BIN/dropdb" --if-exists "$DB" 2>/dev/null || true
"$BIN/createdb" "$DB"
psql() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

psql -c "CREATE EXTENSION $EXT"
# the first classifier the generic scfrisk.predict(bytea, float8[]) scores
kind=""
if [ "$(psql -At -c "SELECT to_regprocedure('scfrisk.predict(bytea, float8[])') IS NOT NULL
	AND to_regprocedure('scfrisk.binary_metrics(float8, float8, float8)') IS NOT NULL")" = t ]; then
	for cand in logreg:logreg_train gbt:xgb_train mlp:mlp_train; do
		if psql -At -c "SELECT scfrisk.predict((SELECT scfrisk.${cand#*:}(ARRAY[g % 3, g % 5]::float8[],
				(g % 2)::float8, '{}') FROM generate_series(1, 50) AS g), ARRAY[1, 2]::float8[])" \
				>/dev/null 2>&1; then
			kind=${cand%%:*}
			break
		fi
	done
fi
if [ -z "$kind" ]; then
	echo "registry_bench: no scoring classifier installed; nothing to measure" >&2
	exit 0
fi
params='{}'

# 20 features; 100k rows to score, 4000 to train on.  The training query
# samples 80% of its rows at random, so every version is a different model.
psql <<SQL
CREATE TABLE bench_rows AS
SELECT i AS id, array_agg(((i::bigint * (j * 7919 + 13)) % 1000) / 1000.0 ORDER BY j)::float8[] AS features
FROM generate_series(1, 100000) AS i, generate_series(1, 20) AS j GROUP BY i;
ALTER TABLE bench_rows ADD PRIMARY KEY (id);
CREATE TABLE bench_train AS
SELECT id, features,
	   CASE WHEN features[1] + features[2] - features[3] + 0.3 * features[4]
				 + ((id::bigint * 31) % 100) / 200.0 > 1.2 THEN 1 ELSE 0 END::float8 AS label
FROM bench_rows WHERE id <= 4000;
CREATE TABLE bench_check (mismatches bigint, n bigint);
ANALYZE;
SELECT scfrisk.register_training('pd_bench', '$kind',
	'SELECT features, label FROM public.bench_train WHERE random() < 0.8', '$params');
CALL scfrisk.retrain('pd_bench');
SQL
psql -At -c "SELECT 'model: ' || kind || ', ' || bytes || ' bytes' FROM scfrisk.model_versions WHERE name = 'pd_bench'"

cat >"$WORK/by_name.sql" <<'SQL'
\set a random(1, 99900)
SELECT sum(scfrisk.predict('pd_bench', features)) FROM bench_rows WHERE id BETWEEN :a AND :a + 99;
SQL
cat >"$WORK/by_value.sql" <<'SQL'
\set a random(1, 99900)
SELECT sum(scfrisk.predict((SELECT scfrisk.model('pd_bench')), features)) FROM bench_rows WHERE id BETWEEN :a AND :a + 99;
SQL
cat >"$WORK/check.sql" <<'SQL'
\set a random(1, 99900)
INSERT INTO bench_check
SELECT count(*) FILTER (WHERE scfrisk.predict('pd_bench', r.features) IS DISTINCT FROM scfrisk.predict(m.b, r.features)),
	   count(*)
FROM bench_rows r, (SELECT scfrisk.model('pd_bench') AS b) AS m WHERE r.id BETWEEN :a AND :a + 99;
SQL

# The promoter: every second retrain (champion / challenger) and, when the
# challenger was kept, deploy it anyway, so a new version goes live each second.
promoter() {
	local until=$1 n=0 fail=0
	while [ "$(date +%s)" -lt "$until" ]; do
		local t0
		t0=$(date +%s.%N)
		if PGOPTIONS="-c client_min_messages=warning" psql -c "CALL scfrisk.retrain('pd_bench')" 2>>"$WORK/promoter.err" \
			&& PGOPTIONS="-c client_min_messages=warning" psql -c "SELECT scfrisk.deploy('pd_bench', (SELECT max(version) FROM scfrisk.registry_version WHERE name = 'pd_bench'))" \
				>/dev/null 2>>"$WORK/promoter.err"; then
			n=$((n + 1))
		else
			fail=$((fail + 1))
		fi
		sleep "$(/usr/bin/python3 -c "import sys; print(max(0.0, 1.0 - ($(date +%s.%N) - $t0)))")"
	done
	echo "$n $fail" >"$WORK/promoter.$until"
}

run_phase() {
	local name=$1 script=$2 secs=$3
	local until=$(($(date +%s) + secs))
	promoter "$until" &
	local pid=$!
	set +e
	"$BIN/pgbench" -n -c "$CLIENTS" -j "$CLIENTS" -T "$secs" -f "$script" >"$WORK/$name.out" 2>&1
	local rc=$?
	set -e
	wait "$pid"
	local tps failed aborted
	tps=$(grep -oE 'tps = [0-9.]+' "$WORK/$name.out" | head -1 | awk '{print $3}')
	failed=$(grep -oE 'number of failed transactions: [0-9]+' "$WORK/$name.out" | awk '{print $5}')
	aborted=$(grep -c 'aborted' "$WORK/$name.out" || true)
	read -r promoted pfail <"$WORK/promoter.$until"
	echo "$name: tps ${tps:-?}, pgbench exit $rc, failed ${failed:-?}, aborted clients $aborted, new versions deployed $promoted (promoter failures $pfail)"
	[ "$rc" -eq 0 ] || { tail -20 "$WORK/$name.out"; }
	echo "${tps:-0}" >>"$WORK/tps.$4"
}

echo "== $CLIENTS clients, ${DURATION} s per phase, $REPEAT phases each way alternately, one new version per second"
for r in $(seq 1 "$REPEAT"); do
	run_phase "by_name_$r" "$WORK/by_name.sql" "$DURATION" by_name
	run_phase "by_value_$r" "$WORK/by_value.sql" "$DURATION" by_value
done
run_phase check "$WORK/check.sql" "$CHECK_DURATION" check

psql -At <<'SQL'
SELECT 'consistency: ' || count(*) || ' statements, ' || sum(n) || ' rows, ' || sum(mismatches)
	   || ' rows scored by name differently from the version read by value in the same statement'
FROM bench_check;
SELECT 'versions: ' || count(*) || ' saved, numbered 1..' || max(version)
	   || CASE WHEN count(*) = max(version) THEN ' without gaps' ELSE ' WITH GAPS' END
	   || ', ' || (SELECT count(*) FROM scfrisk.registry_history WHERE name = 'pd_bench'
				   AND action IN ('deploy', 'promote')) || ' deploys logged'
	   || ', deployed: ' || (SELECT version FROM scfrisk.deployed_models WHERE name = 'pd_bench')
FROM scfrisk.registry_version WHERE name = 'pd_bench';
SQL
if [ -s "$WORK/promoter.err" ]; then
	echo "promoter errors:"; sort "$WORK/promoter.err" | uniq -c | head
fi
/usr/bin/python3 - "$WORK" <<'PY'
import statistics, sys
tps = {k: [float(x) for x in open("%s/tps.%s" % (sys.argv[1], k)).read().split()] for k in ("by_name", "by_value")}
for k, v in tps.items():
    print("%s: %.0f statements/s median (spread %.0f-%.0f, n=%d)" % (k, statistics.median(v), min(v), max(v), len(v)))
print("throughput ratio by name / by value (medians): %.3f" % (statistics.median(tps["by_name"]) / statistics.median(tps["by_value"])))
PY
