-- scfrisk cross-validation and tuning (issue 14): row_fold, cross_validate,
-- tune, the hybrid's new params, and every error with its SQLSTATE.
-- Models and metrics here come from deterministic data; only structure and
-- errors are printed (the figures are compared with peers in
-- test/peer/test_models.py).
\set VERBOSITY terse

-- SQLSTATE and message of a statement, or 'ok'
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

CREATE TABLE cv_t AS
SELECT ARRAY[(i % 17) / 17.0, (i % 5) / 5.0, (i % 11)::float8]::float8[] AS features,
	   ((i % 17) / 17.0 + (i % 5) / 5.0 > 1.0)::int::float8 AS label
FROM generate_series(1, 300) AS i;
INSERT INTO cv_t VALUES (NULL, 1), (ARRAY[1, 2, 3]::float8[], NULL);

-- folds: a function of the content only, in range, all used
SELECT scfrisk.row_fold(ARRAY[1, 2]::float8[], 1, 5, 0) = scfrisk.row_fold(ARRAY[1, 2]::float8[], 1, 5, 0) AS same,
	   scfrisk.row_fold(ARRAY[1, NULL]::float8[], 1, 5, 0) = scfrisk.row_fold(ARRAY[1, 'NaN']::float8[], 1, 5, 0) AS null_is_nan,
	   scfrisk.row_fold(NULL, 1, 5, 0) IS NULL AS null_row;
SELECT count(DISTINCT scfrisk.row_fold(features, label, 5, 3)) AS folds_used,
	   min(scfrisk.row_fold(features, label, 5, 3)) AS lo, max(scfrisk.row_fold(features, label, 5, 3)) AS hi
FROM cv_t;

-- cross_validate: one row per fold and the mean row (fold NULL); rows with a
-- NULL feature array or label are skipped
SELECT fold, train_rows + test_rows AS rows_seen, test_rows > 0 AS has_test, auc BETWEEN 0 AND 1 AS auc_ok,
	   metrics ? 'ks' AS has_ks
FROM scfrisk.cross_validate('logreg', 'SELECT features, label FROM cv_t', '{}', 3, 1);
-- NOTICEs shown once above; the rest prints structure only
SET client_min_messages = warning;
SELECT sum(test_rows) FILTER (WHERE fold IS NOT NULL) = max(test_rows) FILTER (WHERE fold IS NULL) AS mean_row_sums,
	   abs(avg(auc) FILTER (WHERE fold IS NOT NULL) - max(auc) FILTER (WHERE fold IS NULL)) < 1e-12 AS mean_row_means
FROM scfrisk.cross_validate('gbt', 'SELECT features, label FROM cv_t', '{"n_estimators": 5}', 4, 0);

-- tune: every candidate, one best
SELECT candidate, params, auc BETWEEN 0 AND 1 AS auc_ok
FROM scfrisk.tune('gbt', 'SELECT features, label FROM cv_t', '{"max_depth": [1, 3], "n_estimators": 5}', 3, 0);
SELECT count(*) FILTER (WHERE best) AS n_best FROM scfrisk.tune('logreg', 'SELECT features, label FROM cv_t', '{"C": [0.1, 1]}', 3, 0);

-- the hybrid's params: "auto", the modes, folds
SELECT p->'threshold' AS threshold, p->'mode' AS mode, p->'folds' AS folds
FROM (SELECT scfrisk.model_info(scfrisk.xgb_mlp_train(features, label,
		'{"threshold": "auto", "folds": 3, "xgb": {"n_estimators": 5}, "mlp": {"hidden": [4], "epochs": 3}}'))->'params' AS p
	  FROM cv_t) s;
SELECT p ? 'mode' AS has_mode, p->'mlp' ? 'linear_skip' AS has_skip, p->'threshold' AS threshold
FROM (SELECT scfrisk.model_info(scfrisk.xgb_mlp_train(features, label,
		'{"mode": "paper", "xgb": {"n_estimators": 5}, "mlp": {"hidden": [4], "epochs": 3}}'))->'params' AS p
	  FROM cv_t) s;

-- errors
SELECT pg_temp.err($$SELECT scfrisk.row_fold(ARRAY[1]::float8[], 1, 1, 0)$$);
SELECT pg_temp.err($$SELECT scfrisk.row_fold(ARRAY[1, 'Infinity']::float8[], 1, 5, 0)$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.cross_validate(NULL, 'SELECT features, label FROM cv_t')$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.cross_validate('logreg', 'SELECT features, label FROM cv_t', '{}', 1)$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.cross_validate('qrgmm_linear', 'SELECT features, label FROM cv_t')$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.cross_validate('qrgmm_linear', 'SELECT features, label FROM cv_t')$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.cross_validate('logreg', 'SELECT features, label FROM cv_t', '{"C": -1}')$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.cross_validate('mlp', 'SELECT features, label FROM cv_t', '{"hiden": [3]}')$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.cross_validate('logreg', 'DELETE FROM cv_t RETURNING features, label')$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.cross_validate('logreg', 'SELECT 1; SELECT 2')$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.cross_validate('logreg', 'SELECT features FROM cv_t')$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.cross_validate('logreg', 'SELECT features, ''x''::text AS label FROM cv_t')$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.cross_validate('logreg', 'SELECT features, label FROM cv_t WHERE false')$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.cross_validate('logreg', 'SELECT features, label FROM cv_t LIMIT 1', '{}', 5)$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.cross_validate('logreg', 'SELECT features, 2.0::float8 AS label FROM cv_t')$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.cross_validate('logreg', 'SELECT ARRAY[''NaN'']::float8[] AS features, label FROM cv_t')$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.tune('gbt', 'SELECT features, label FROM cv_t', '{}')$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.tune('gbt', 'SELECT features, label FROM cv_t', '[1]')$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.tune('gbt', 'SELECT features, label FROM cv_t', NULL)$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.tune('gbt', 'SELECT features, label FROM cv_t', '{"max_depht": [2, 3]}')$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.tune('gbt', 'SELECT features, label FROM cv_t', '{"max_depth": []}')$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.tune('gbt', 'SELECT features, label FROM cv_t', '{"max_depth": [2, 0]}')$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.tune('qrgmm_linear', 'SELECT features, label FROM cv_t', '{"max_depth": [2]}')$$);
SELECT pg_temp.err($$SELECT scfrisk.xgb_mlp_train(features, label, '{"threshold": "autox"}') FROM cv_t$$);
SELECT pg_temp.err($$SELECT scfrisk.xgb_mlp_train(features, label, '{"threshold": 2}') FROM cv_t$$);
SELECT pg_temp.err($$SELECT scfrisk.xgb_mlp_train(features, label, '{"mode": "hybrid"}') FROM cv_t$$);
SELECT pg_temp.err($$SELECT scfrisk.xgb_mlp_train(features, label, '{"folds": 1}') FROM cv_t$$);
SELECT pg_temp.err($$SELECT scfrisk.xgb_mlp_train(features, label, '{"folds": 21}') FROM cv_t$$);
SELECT pg_temp.err($$SELECT scfrisk.xgb_mlp_train(features, label, '{"xgb": {"n_estimators": 3}}') FROM ((SELECT * FROM cv_t WHERE label = 0) UNION ALL (SELECT * FROM cv_t WHERE label = 1 LIMIT 3)) s$$);
SELECT pg_temp.err($$SELECT scfrisk.mlp_train(features, label, '{"linear_skip": 1}') FROM cv_t$$);
SELECT pg_temp.err($$SELECT scfrisk.mlp_train(features, label, '{"refit": "yes"}') FROM cv_t$$);
SELECT pg_temp.err($$SELECT scfrisk.check_params(NULL, '{}')$$);
