#!/usr/bin/env bash
# Model bytes of every row-store aggregate, serial and parallel plans.
#
#   scripts/cluster.sh bench/rowstore_md5.sh > out.txt
#
# Trains each aggregate on one deterministic data set (hash-based generator,
# the same on every run) with a serial plan and with a forced parallel plan
# (2 workers plus the leader, so partial states are serialised and
# combined), and prints "<aggregate> <plan> <md5 of the model bytes>".  Run
# it on two builds (e.g. main and a branch) and diff the outputs: the bytes
# of trees, logistic regression and QRGMM must not change when only the row
# store changes.  QRGMM trains in scan order (no canonical order), so its
# parallel line may differ between runs of the same build; the script
# prints it three times to show whether it is stable.
set -euo pipefail
N=${ROWS:-20000}
psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION IF NOT EXISTS scfrisk;
CREATE FUNCTION pg_temp.u(k int, s int) RETURNS float8 LANGUAGE sql IMMUTABLE AS \$\$
	SELECT ((('x' || substr(md5(k::text || ':' || s::text), 1, 13))::bit(52)::bigint)::float8 + 0.5)
		/ 4503599627370496.0
\$\$;
DROP TABLE IF EXISTS rs_d;
CREATE TABLE rs_d AS
SELECT k,
	   ARRAY[2 * pg_temp.u(k, 1) - 1,
			 CASE WHEN k % 9 = 0 THEN NULL ELSE 2 * pg_temp.u(k, 2) - 1 END,
			 pg_temp.u(k, 3), 10 * pg_temp.u(k, 4), pg_temp.u(k, 6)] AS f,
	   ARRAY[2 * pg_temp.u(k, 1) - 1, 2 * pg_temp.u(k, 2) - 1, pg_temp.u(k, 3)] AS xq,
	   ARRAY[(k % 4), ((k / 4) % 3)]::int[] AS cat,
	   ((2 * pg_temp.u(k, 1) - 1) * (2 * pg_temp.u(k, 2) - 1)
		+ (pg_temp.u(k, 3) > 0.5)::int + 0.3 * pg_temp.u(k, 5) > 0.6)::int::float8 AS y,
	   1 + (k % 3)::float8 AS w,
	   5 + 2 * pg_temp.u(k, 1) + pg_temp.u(k, 2) + (1 + pg_temp.u(k, 3))
		 * sqrt(-2 * ln(pg_temp.u(k, 7))) * cos(2 * pi() * pg_temp.u(k, 8)) AS r
FROM generate_series(1, $N) k;
ALTER TABLE rs_d SET (parallel_workers = 2);
VACUUM ANALYZE rs_d;
SQL
run() {
	local plan=$1 name=$2 expr=$3 set
	if [ "$plan" = serial ]; then
		set="SET max_parallel_workers_per_gather = 0;"
	else
		set="SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
			 SET min_parallel_table_scan_size = 0; SET parallel_leader_participation = on;"
	fi
	local sql="$set SELECT md5($expr) FROM rs_d;"
	local m
	m=$(psql -X -q -At -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning;" -c "$set" -c "SELECT md5($expr) FROM rs_d;")
	# the plan really is parallel when asked
	if [ "$plan" = parallel ]; then
		psql -X -q -At -c "$set" -c "EXPLAIN SELECT $expr FROM rs_d;" | grep -q 'Partial Aggregate' \
			|| { echo "$name: no partial aggregate in the parallel plan" >&2; exit 1; }
	fi
	echo "$name $plan $m"
}
for plan in serial parallel; do
	run $plan xgb_train "scfrisk.xgb_train(f, y, '{\"n_estimators\": 20, \"max_depth\": 4}')"
	run $plan xgb_train_w "scfrisk.xgb_train(f, y, w, '{\"n_estimators\": 20, \"max_depth\": 4}')"
	run $plan logreg_train "scfrisk.logreg_train(xq, y, '{}')"
	run $plan qrgmm_train "scfrisk.qrgmm_train(xq, r, '{\"m\": 10, \"transform\": \"identity\"}')"
	run $plan mlp_train "scfrisk.mlp_train(f, y, '{\"hidden\": [8], \"epochs\": 5}')"
	run $plan xgb_mlp_train "scfrisk.xgb_mlp_train(f, y, '{\"xgb\": {\"n_estimators\": 5}, \"mlp\": {\"hidden\": [8], \"epochs\": 3}}')"
	run $plan qrgmm_deepfm_train "scfrisk.qrgmm_deepfm_train(xq[1:1], cat, r, '{\"k\": 4, \"layers\": [8], \"m\": 5, \"epochs\": 3, \"threads\": 1, \"transform\": \"identity\"}')"
done
run parallel qrgmm_train "scfrisk.qrgmm_train(xq, r, '{\"m\": 10, \"transform\": \"identity\"}')"
run parallel qrgmm_train "scfrisk.qrgmm_train(xq, r, '{\"m\": 10, \"transform\": \"identity\"}')"
