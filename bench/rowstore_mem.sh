#!/usr/bin/env bash
# Peak memory of one mlp_train call on ROWS x COLS rows (default 1M x 20).
#
#   scripts/cluster.sh bench/rowstore_mem.sh
#
# Loads the rows into a table, then in a fresh serial backend reads the
# backend's peak resident set (VmHWM of /proc/self/status) before and after
# mlp_train (1 epoch, one hidden layer of 8 units, so the row store and its
# copies dominate, not the network).  Prints the rise in MB.  Run it on two
# builds to compare the row stores.
set -euo pipefail
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
psql -X -q -At -v ON_ERROR_STOP=1 <<'SQL'
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE hwm(at text, kb bigint);
INSERT INTO hwm SELECT 'before', substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\s+(\d+) kB')::bigint;
SELECT length(scfrisk.mlp_train(f, y, '{"hidden": [8], "epochs": 1}')) > 0 AS trained FROM rs_mem \gset
INSERT INTO hwm SELECT 'after', substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\s+(\d+) kB')::bigint;
SELECT format('mlp_train %s rows: peak RSS before %s MB, after %s MB, rise %s MB',
			  (SELECT count(*) FROM rs_mem),
			  round(b.kb / 1024.0), round(a.kb / 1024.0), round((a.kb - b.kb) / 1024.0))
FROM hwm a, hwm b WHERE a.at = 'after' AND b.at = 'before';
SQL
