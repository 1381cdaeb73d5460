-- pgTAP: the unpacking of a row's float8[] that every row scorer shares
-- (SfGetFeatures, src/core/array_sql.c): NULL elements anywhere (first,
-- last, in runs, all of them) score as NaN elements do, and a bad element
-- is reported by its own position whatever NULLs come before or after it.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(20);

-- 10 features; every fourth row misses feature 3 (the trees learn a direction for it)
CREATE TEMP TABLE d AS
SELECT k, ARRAY[(k % 17)::float8, (k % 5)::float8, CASE WHEN k % 4 = 0 THEN NULL ELSE (k % 11)::float8 END,
				(k % 7)::float8, (k % 3)::float8, (k % 13)::float8, (k % 2)::float8, (k % 19)::float8,
				(k % 23)::float8, (k % 29)::float8] AS f,
	   ((k % 17) + (k % 5) + (k % 7) > 14)::int::float8 AS y
FROM generate_series(1, 600) k;
CREATE TEMP TABLE m AS
SELECT (SELECT scfrisk.xgb_train(f, y, '{"n_estimators": 20, "max_depth": 4, "seed": 1}') FROM d) AS g,
	   (SELECT scfrisk.logreg_train(f, y, '{}') FROM d WHERE k % 4 <> 0) AS l;

-- every 10-bit NULL mask over rows of the table: NULL as NaN, bitmap or not
CREATE TEMP TABLE masked AS
SELECT k, mask,
	   ARRAY(SELECT CASE WHEN mask & (1 << (i - 1)) <> 0 THEN NULL ELSE coalesce(f[i], 'NaN') END
			 FROM generate_series(1, 10) i ORDER BY i) AS with_nulls,
	   ARRAY(SELECT CASE WHEN mask & (1 << (i - 1)) <> 0 THEN 'NaN'::float8 ELSE coalesce(f[i], 'NaN') END
			 FROM generate_series(1, 10) i ORDER BY i) AS with_nans
FROM d, generate_series(0, 1023) mask
WHERE k = 1 + mask % 600;

SELECT is((SELECT count(*)::int FROM masked), 1024, 'every NULL mask of 10 features is tried');
SELECT is((SELECT count(*)::int FROM masked, m
		   WHERE scfrisk.xgb_predict(g, with_nulls) IS DISTINCT FROM scfrisk.xgb_predict(g, with_nans)),
		  0, 'xgb_predict: NULL elements anywhere score as NaN elements');
SELECT is((SELECT count(*)::int FROM masked, m
		   WHERE scfrisk.predict(g, with_nulls) IS DISTINCT FROM scfrisk.xgb_predict(g, with_nans)),
		  0, 'predict: the same');
SELECT is((SELECT scfrisk.xgb_predict(g, ARRAY[NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL]::float8[]) FROM m),
		  (SELECT scfrisk.xgb_predict(g, array_fill('NaN'::float8, ARRAY[10])) FROM m),
		  'all elements NULL: every tree takes its missing direction');
SELECT is((SELECT scfrisk.xgb_predict(g, f) FROM m, d WHERE k = 7),
		  (SELECT scfrisk.xgb_predict(g, f || '{}'::float8[]) FROM m, d WHERE k = 7),
		  'a row without NULLs is unchanged');

-- the first bad element is named, before or after NULLs
SELECT throws_ok($$SELECT scfrisk.xgb_predict(g, ARRAY[NULL, 'Infinity', NULL, 1, 1, 1, 1, 1, 1, 1]::float8[]) FROM m$$,
				 '22000', 'element 2 of features is infinite', 'infinity after a NULL');
SELECT throws_ok($$SELECT scfrisk.xgb_predict(g, ARRAY[1, NULL, 1, 1, 1, 1, 1, 1, NULL, '-Infinity']::float8[]) FROM m$$,
				 '22000', 'element 10 of features is infinite', 'infinity last, after NULLs');
SELECT throws_ok($$SELECT scfrisk.xgb_predict(g, ARRAY['Infinity', 1, 1, 1, 1, 1, 1, 1, NULL, NULL]::float8[]) FROM m$$,
				 '22000', 'element 1 of features is infinite', 'infinity first, NULLs trailing');
SELECT throws_ok($$SELECT scfrisk.xgb_predict(g, ARRAY[1, 1, 1, 1, 1, 1, 'Infinity', 1, 1, 1]::float8[]) FROM m$$,
				 '22000', 'element 7 of features is infinite', 'infinity without NULLs');
SELECT throws_ok($$SELECT scfrisk.xgb_predict(g, ARRAY[1, NULL, 1]::float8[]) FROM m$$,
				 '22000', 'features has 3 elements but the model expects 10', 'wrong length with NULLs');

-- a NaN does not hide a later infinity, and the largest finite values are
-- no error (a check by magnitude must stop at infinity, not at DBL_MAX)
SELECT throws_ok($$SELECT scfrisk.xgb_predict(g, ARRAY['NaN', '-Infinity', 1, 1, 1, 1, 1, 1, 1, 1]::float8[]) FROM m$$,
				 '22000', 'element 2 of features is infinite', 'infinity after a NaN');
SELECT throws_ok($$SELECT scfrisk.xgb_predict(g, ARRAY[NULL, 'NaN', 1, 1, 1, 1, 1, 1, 1, 'Infinity']::float8[]) FROM m$$,
				 '22000', 'element 10 of features is infinite', 'infinity after a NULL and a NaN');
SELECT is((SELECT scfrisk.xgb_predict(g, ARRAY[NULL, '1.7976931348623157e308', '-1.7976931348623157e308', 1, 1, 1, 1, 1, 1, 1]::float8[]) FROM m),
		  (SELECT scfrisk.xgb_predict(g, ARRAY['NaN', '1.7976931348623157e308', '-1.7976931348623157e308', 1, 1, 1, 1, 1, 1, 1]::float8[]) FROM m),
		  'the largest finite values score, NULL or not');
SELECT ok((SELECT scfrisk.xgb_predict(g, ARRAY['1.7976931348623157e308', 1, 1, 1, 1, 1, 1, 1, 1, '-1.7976931348623157e308']::float8[]) FROM m) BETWEEN 0 AND 1,
		  'the largest finite values score without NULLs');

-- a kind that refuses missing values (logreg): NULL or NaN named where it is
SELECT throws_ok($$SELECT scfrisk.predict(l, ARRAY[1, 1, NULL, 1, 1, 1, 1, 1, 1, 1]::float8[]) FROM m$$,
				 '22004', 'element 3 of features is NULL', 'logreg: a NULL');
SELECT throws_ok($$SELECT scfrisk.predict(l, ARRAY[1, 'NaN', NULL, 1, 1, 1, 1, 1, 1, 1]::float8[]) FROM m$$,
				 '22000', 'element 2 of features is NaN', 'logreg: NaN before a NULL');
SELECT throws_ok($$SELECT scfrisk.predict(l, ARRAY[1, 1, 1, 1, 1, 1, 1, 1, 1, NULL]::float8[]) FROM m$$,
				 '22004', 'element 10 of features is NULL', 'logreg: a trailing NULL');
SELECT throws_ok($$SELECT scfrisk.predict(l, array_fill(NULL::float8, ARRAY[10])) FROM m$$,
				 '22004', 'element 1 of features is NULL', 'logreg: all NULL');
SELECT throws_ok($$SELECT scfrisk.predict(l, ARRAY[1, 1, 1, 1, 'NaN', 1, 1, 1, 1, 1]::float8[]) FROM m$$,
				 '22000', 'element 5 of features is NaN', 'logreg: NaN without NULLs');
SELECT ok((SELECT scfrisk.predict(l, f) FROM m, d WHERE k = 7) BETWEEN 0 AND 1, 'logreg: a complete row scores');

SELECT * FROM finish();
ROLLBACK;
