-- pgTAP contracts of the row store shared by the training aggregates
-- (src/rowstore.c): the memory cap of every aggregate, the float32 range of
-- float32 stores, width mismatches that only meet in a parallel plan, and
-- params that reach the leader from any worker.  (A corrupt serialised state
-- cannot be passed by hand: PostgreSQL refuses to call a function taking
-- type internal; the check behind the deserialise functions is unit-tested
-- and fuzzed in test/unit/test_rowstore.c and test/fuzz/fuzz_rowstore.c.)
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(21);

CREATE TEMP TABLE rs_wide AS
SELECT ARRAY[i, i, i, i, i, i, i, i]::float8[] AS x, (i % 2)::float8 AS y,
	   ARRAY[i % 3, i % 5]::int[] AS cat
FROM generate_series(1, 40000) i;

SET LOCAL scfrisk.max_memory_mb = 1;
SELECT throws_ok($$SELECT scfrisk.xgb_train(x, y, '{}') FROM rs_wide$$, '54000',
				 'xgb_train: training rows need more than scfrisk.max_memory_mb (1 MB)', 'xgb_train: memory cap');
SELECT throws_ok($$SELECT scfrisk.xgb_train(x, y, 2.0, '{}') FROM rs_wide$$, '54000',
				 'xgb_train: training rows need more than scfrisk.max_memory_mb (1 MB)', 'weighted xgb_train: memory cap');
SELECT throws_ok($$SELECT scfrisk.mlp_train(x, y, '{}') FROM rs_wide$$, '54000',
				 'mlp_train: training rows need more than scfrisk.max_memory_mb (1 MB)', 'mlp_train: memory cap');
SELECT throws_ok($$SELECT scfrisk.logreg_train(x, y, '{}') FROM rs_wide$$, '54000',
				 'logreg_train: training rows need more than scfrisk.max_memory_mb (1 MB)', 'logreg_train: memory cap');
SELECT throws_ok($$SELECT scfrisk.xgb_mlp_train(x, y, '{}') FROM rs_wide$$, '54000',
				 'xgb_mlp_train: training rows need more than scfrisk.max_memory_mb (1 MB)', 'xgb_mlp_train: memory cap');
SELECT throws_ok($$SELECT scfrisk.qrgmm_train(x, y, '{}') FROM rs_wide$$, '54000',
				 'qrgmm_train: training rows need more than scfrisk.max_memory_mb (1 MB)', 'qrgmm_train: memory cap');
SELECT throws_ok($$SELECT scfrisk.qrgmm_deepfm_train(x, cat, y, '{}') FROM rs_wide$$, '54000',
				 'qrgmm_deepfm_train: training rows need more than scfrisk.max_memory_mb (1 MB)', 'qrgmm_deepfm_train: memory cap');
SELECT throws_ok($$SELECT scfrisk.partial_dependence(m, x, 1, ARRAY[0.5]) FROM rs_wide,
				   (SELECT scfrisk.logreg_train(x[1:2], y, '{}') AS m FROM rs_wide WHERE x[1] < 50) s$$, '54000',
				 'partial_dependence: training rows need more than scfrisk.max_memory_mb (1 MB)', 'partial_dependence: memory cap');

-- the cap also holds in a parallel plan (workers inherit the setting)
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
CREATE TABLE rs_par (x float8[], y float8, cat int[]);
INSERT INTO rs_par SELECT * FROM rs_wide;
ALTER TABLE rs_par SET (parallel_workers = 2);
ANALYZE rs_par;
SELECT throws_ok($$SELECT scfrisk.mlp_train(x, y, '{}') FROM rs_par$$, '54000', NULL, 'mlp_train: memory cap in a parallel plan');
RESET scfrisk.max_memory_mb;

-- float32 stores: a finite value past the float32 range is an error, not infinity
SELECT throws_ok($$SELECT scfrisk.mlp_train(ARRAY[1e39, 1], 1, '{}')$$, '22000',
				 'mlp_train: element 1 of features (1e+39) is out of the float4 range training rows are stored in',
				 'mlp_train: float4 range');
SELECT throws_ok($$SELECT scfrisk.xgb_train(ARRAY[1, -1e39], 1, '{}')$$, '22000',
				 'xgb_train: element 2 of features (-1e+39) is out of the float4 range training rows are stored in',
				 'xgb_train: float4 range');
SELECT throws_ok($$SELECT scfrisk.qrgmm_deepfm_train(ARRAY[1e39], ARRAY[1], 1, '{}')$$, '22000', NULL,
				 'qrgmm_deepfm_train: float4 range');

-- widths that differ between parts of a parallel scan meet in the leader's
-- combine: a Parallel Append of two non-partial scans gives each table to
-- one worker (each sleeps on its first row so the other worker starts and
-- takes the other table)
CREATE TABLE rs_a AS SELECT x[1:2] AS x, y, cat, ARRAY[x[1]] AS num FROM rs_wide WHERE x[1] <= 2000;
CREATE TABLE rs_b AS SELECT x[1:3] AS x, y, cat[1:1] AS cat, x[1:2] AS num FROM rs_wide WHERE x[1] <= 2000;
ALTER TABLE rs_a SET (parallel_workers = 0);
ALTER TABLE rs_b SET (parallel_workers = 0);
ANALYZE rs_a;
ANALYZE rs_b;
SET LOCAL parallel_leader_participation = off;
CREATE VIEW rs_mixed AS
SELECT * FROM rs_a WHERE x[1] > 1 OR pg_sleep(1) IS NOT NULL
UNION ALL
SELECT * FROM rs_b WHERE x[1] > 1 OR pg_sleep(1) IS NOT NULL;
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r text;
	s text := '';
BEGIN
	FOR r IN EXECUTE 'EXPLAIN ' || q LOOP
		s := s || r || E'\n';
	END LOOP;
	RETURN s;
END $$;
SELECT matches(pg_temp.plan_of($$SELECT scfrisk.logreg_train(x, y, '{}') FROM rs_mixed$$),
			   'Partial Aggregate(.|\n)*Parallel Append', 'the mixed-width scan is a partial aggregate over a parallel append');
-- (the part that reaches the leader first is "one part": either order)
SELECT throws_ok($$SELECT scfrisk.logreg_train(x, y, '{}') FROM rs_mixed$$, '22000', NULL,
				 'logreg_train: widths differ between partial states: data_exception');
SELECT throws_matching($$SELECT scfrisk.logreg_train(x, y, '{}') FROM rs_mixed$$,
					   '^logreg_train: rows have [23] elements in one part of the parallel scan and [23] in another$',
					   'logreg_train: the leader''s combine names both widths');
SELECT throws_ok($$SELECT scfrisk.xgb_train(x, y, '{}') FROM rs_mixed$$, '22000', NULL,
				 'xgb_train: widths differ between partial states');
SELECT throws_ok($$SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{}') FROM rs_mixed$$, '22000', NULL,
				 'qrgmm_deepfm_train: field counts differ between partial states: data_exception');
SELECT throws_matching($$SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{}') FROM rs_mixed$$,
					   '^qrgmm_deepfm_train: rows have [12] numeric and [12] categorical fields in one part of the parallel scan and [12] and [12] in another$',
					   'qrgmm_deepfm_train: the leader''s combine names both field counts');
RESET parallel_leader_participation;

-- params travel through the partial states to the final function; params
-- that differ between rows (here given on one row only) are an error in
-- whichever part of the scan or combine step meets the difference (issue 13)
SELECT matches(pg_temp.plan_of($$SELECT scfrisk.logreg_train(x, y, '{}') FROM rs_par$$), 'Partial Aggregate',
			   'the params check runs as a parallel partial aggregate');
SELECT is((SELECT scfrisk.model_info(scfrisk.logreg_train(x[1:2], y, '{"C": 0.5}'))->'params'->>'C' FROM rs_par),
		  '0.5', 'logreg_train: the params reach the model in a parallel plan');
SELECT throws_ok($$SELECT scfrisk.logreg_train(x[1:2], y, CASE WHEN x[1] = 39999 THEN '{"C": 0.5}'::jsonb END) FROM rs_par$$,
				 '22023', NULL, 'logreg_train: params on one row only are an error in a parallel plan');

SELECT * FROM finish();
ROLLBACK;
