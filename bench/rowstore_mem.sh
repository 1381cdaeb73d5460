#!/usr/bin/env bash
# Peak memory of one training call on ROWS x COLS rows (default 1M x 20).
#
#   scripts/cluster.sh bench/rowstore_mem.sh                 # mlp_train
#   AGG=deepfm ROWS=200000 scripts/cluster.sh bench/rowstore_mem.sh
#
# Loads the rows into a table, then in a fresh serial backend reads the
# backend's peak resident set (VmHWM of /proc/self/status) before and after
# the call (1 epoch and a small network, so the row store and its copies
# dominate, not the network): mlp_train on the COLS features, or
# qrgmm_deepfm_train on COLS - 2 numeric features and 2 categorical ids.
# Prints the rise in MB.  Run it on two builds to compare the row stores.
set -euo pipefail
AGG=${AGG:-mlp}
ROWS=${ROWS:-1000000}
COLS=${COLS:-20}
psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION IF NOT EXISTS scfrisk;
DROP TABLE IF EXISTS rs_mem;
SELECT setseed(0.5);
CREATE TABLE rs_mem AS
SELECT (SELECT array_agg(random()) FROM generate_series(1, $COLS) j WHERE i > 0) AS f,
	   (random() < 0.3)::int::float8 AS y
FROM generate_series(1, $ROWS) i;
VACUUM ANALYZE rs_mem;
SQL
if [ "$AGG" = deepfm ]; then
	CALL="scfrisk.qrgmm_deepfm_train(f[1:$((COLS - 2))], ARRAY[(f[1] * 50)::int, (f[2] * 7)::int], 1 + y + f[3], '{\"k\": 4, \"layers\": [8], \"m\": 5, \"epochs\": 1, \"transform\": \"identity\", \"threads\": 1}')"
else
	CALL="scfrisk.mlp_train(f, y, '{\"hidden\": [8], \"epochs\": 1}')"
fi
psql -X -q -At -v ON_ERROR_STOP=1 -v call="$CALL" -v agg="$AGG" <<'SQL'
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE hwm(at text, kb bigint, t timestamptz);
INSERT INTO hwm SELECT 'before', substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\s+(\d+) kB')::bigint, clock_timestamp();
SELECT length(:call) > 0 AS trained FROM rs_mem \gset
INSERT INTO hwm SELECT 'after', substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\s+(\d+) kB')::bigint, clock_timestamp();
SELECT format('%s %s rows: peak RSS before %s MB, after %s MB, rise %s MB, %s s', :'agg',
			  (SELECT count(*) FROM rs_mem),
			  round(b.kb / 1024.0), round(a.kb / 1024.0), round((a.kb - b.kb) / 1024.0),
			  round(extract(epoch FROM a.t - b.t)::numeric, 2))
FROM hwm a, hwm b WHERE a.at = 'after' AND b.at = 'before';
SQL
