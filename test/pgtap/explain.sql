-- pgTAP contracts of per-row explanations (issue 17): signatures, defaults,
-- volatility, parallel safety, every kind in the table of kinds either
-- explains additively or refuses with 0A000, and the SQLSTATE of every class
-- of bad input.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(30);

SELECT function_returns('scfrisk', 'explain', ARRAY['bytea', 'double precision[]'], 'setof record');
SELECT function_returns('scfrisk', 'explain_array', ARRAY['bytea', 'double precision[]'], 'double precision[]');
SELECT function_returns('scfrisk', 'explain_std_error', ARRAY['bytea', 'double precision[]'], 'double precision[]');
SELECT function_returns('scfrisk', 'reason_codes', ARRAY['bytea', 'double precision[]', 'integer', 'text'], 'setof record');
SELECT is((SELECT pg_get_function_arguments('scfrisk.reason_codes(bytea, float8[], int, text)'::regprocedure)),
		  'model bytea, features double precision[], k integer DEFAULT 4, direction text DEFAULT ''adverse''::text',
		  'reason_codes: k defaults to 4, direction to adverse');
SELECT is((SELECT pg_get_function_result('scfrisk.explain(bytea, float8[])'::regprocedure)),
		  'TABLE(feature integer, name text, value double precision, contribution double precision)',
		  'explain returns feature, name, value, contribution');
SELECT is((SELECT array_agg(DISTINCT provolatile::text || proparallel::text || proisstrict::text) FROM pg_proc
		   WHERE pronamespace = 'scfrisk'::regnamespace
			 AND proname IN ('explain', 'explain_array', 'explain_std_error', 'reason_codes')),
		  ARRAY['istrue'], 'all four are immutable, parallel safe and strict');

CREATE TEMP TABLE tap_t AS
SELECT i, ARRAY[sin(i)::float8, cos(i)::float8, (i % 3)::float8] AS x, (sin(i) + cos(i) > 0)::int::float8 AS y
FROM generate_series(1, 120) i;
CREATE TEMP TABLE tap_m AS
SELECT 'gbt' AS kind, scfrisk.xgb_train(x, y, '{"n_estimators": 5, "max_depth": 2}') AS m FROM tap_t
UNION ALL SELECT 'logreg', scfrisk.logreg_train(x, y, '{}') FROM tap_t
UNION ALL SELECT 'mlp', scfrisk.mlp_train(x, y, '{"hidden": [4], "epochs": 3}') FROM tap_t
UNION ALL SELECT 'xgb_mlp', scfrisk.xgb_mlp_train(x, y, '{"xgb": {"n_estimators": 5}, "threshold": 0, "mlp": {"hidden": [4], "epochs": 3}}') FROM tap_t
UNION ALL SELECT 'qrgmm_linear', scfrisk.qrgmm_train(x[1:2], x[3], '{"m": 5, "transform": "identity"}') FROM tap_t
UNION ALL SELECT 'cart', scfrisk.tree_train(x, y, '{"max_depth": 3}') FROM tap_t
UNION ALL SELECT 'forest', scfrisk.rf_train(x, y, '{"n_estimators": 10, "max_depth": 3}') FROM tap_t
UNION ALL SELECT 'gaussian_nb', scfrisk.nb_train(x, y, '{}') FROM tap_t
UNION ALL SELECT 'linear_svm', scfrisk.svm_train(x, y, '{}') FROM tap_t
UNION ALL SELECT 'knn', scfrisk.knn_train(x, y, '{"k": 5}') FROM tap_t;

-- every kind of the table that scores rows is explained here (a new one fails this)
SELECT set_eq($$SELECT kind FROM scfrisk.model_kinds() WHERE scores_rows$$,
			  $$SELECT kind FROM tap_m WHERE kind <> 'qrgmm_linear'$$,
			  'every row-scoring kind of the table is covered by this suite');
SELECT ok(bool_and(abs((SELECT sum(c) FROM unnest(scfrisk.explain_array(m, x)) c)
					   - CASE kind WHEN 'gbt' THEN scfrisk.xgb_predict_margin(m, x)
						 -- trees and forests are explained on their score's scale
						 WHEN 'cart' THEN scfrisk.predict(m, x) WHEN 'forest' THEN scfrisk.predict(m, x)
						 ELSE ln(scfrisk.predict(m, x) / (1 - scfrisk.predict(m, x))) END) < 1e-5),
		  'contributions + bias = margin: ' || kind)
FROM tap_m, tap_t WHERE kind NOT IN ('qrgmm_linear', 'knn', 'gaussian_nb', 'linear_svm') GROUP BY kind ORDER BY kind;
-- naive Bayes and the SVM can be all but certain: compared as probabilities
SELECT ok(bool_and(abs(1 / (1 + exp(-(SELECT sum(c) FROM unnest(scfrisk.explain_array(m, x)) c)))
					   - scfrisk.predict(m, x)) < 1e-9),
		  'contributions + bias = log-odds: ' || kind)
FROM tap_m, tap_t WHERE kind IN ('gaussian_nb', 'linear_svm') GROUP BY kind ORDER BY kind;
SELECT throws_ok($$SELECT scfrisk.explain_array(m, ARRAY[1, 2, 3]) FROM tap_m WHERE kind = 'knn'$$, '0A000', NULL,
				 'k nearest neighbours have no additive explanation: 0A000');
SELECT is((SELECT count(*) FROM tap_m, scfrisk.explain(m, ARRAY[0.1, 0.2, 1]) WHERE kind = 'mlp'), 4::bigint,
		  'explain: one row per feature plus the bias');
SELECT is((SELECT count(*) FROM tap_m, scfrisk.reason_codes(m, ARRAY[0.1, 0.2, 1], 3) WHERE kind = 'gbt' AND contribution <= 0),
		  0::bigint, 'reason codes are positive contributions only');

SELECT throws_ok($$SELECT scfrisk.explain_array(m, ARRAY[1, 2]) FROM tap_m WHERE kind = 'qrgmm_linear'$$, '0A000', NULL,
				 'a kind without a method: feature_not_supported');
SELECT throws_ok($$SELECT scfrisk.explain_array(m, ARRAY[1, 2]) FROM tap_m WHERE kind = 'gbt'$$, '22000', NULL,
				 'another width: data_exception');
SELECT throws_ok($$SELECT scfrisk.explain_array(m, ARRAY['NaN', 1, 2]::float8[]) FROM tap_m WHERE kind = 'logreg'$$, '22000', NULL,
				 'NaN for a kind without missing values: data_exception');
SELECT throws_ok($$SELECT scfrisk.explain_array(m, ARRAY[NULL, 1, 2]::float8[]) FROM tap_m WHERE kind = 'logreg'$$, '22004', NULL,
				 'NULL for a kind without missing values: null_value_not_allowed');
SELECT lives_ok($$SELECT scfrisk.explain_array(m, ARRAY[NULL, 1, 2]::float8[]) FROM tap_m WHERE kind IN ('gbt', 'mlp', 'xgb_mlp')$$,
				'missing values where the kind takes them');
SELECT throws_ok($$SELECT scfrisk.explain_array(m, ARRAY['Infinity', 1, 2]::float8[]) FROM tap_m WHERE kind = 'gbt'$$, '22000', NULL,
				 'an infinite feature: data_exception');
SELECT throws_ok($$SELECT * FROM tap_m, scfrisk.reason_codes(m, ARRAY[1, 2, 3], 0) WHERE kind = 'gbt'$$, '22023', NULL,
				 'k = 0: invalid_parameter_value');
SELECT throws_ok($$SELECT * FROM tap_m, scfrisk.reason_codes(m, ARRAY[1, 2, 3], 4) WHERE kind = 'gbt'$$, '22023', NULL,
				 'k above the width: invalid_parameter_value');
SELECT throws_ok($$SELECT * FROM tap_m, scfrisk.reason_codes(m, ARRAY[1, 2, 3], 2, 'worst') WHERE kind = 'gbt'$$, '22023', NULL,
				 'a bad direction: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.explain_array('\x53434652'::bytea, ARRAY[1])$$, 'XX001', NULL,
				 'a truncated model: data_corrupted');
SELECT throws_ok($$SELECT scfrisk.mlp_train(x, y, '{"feature_names": ["a", "b"]}') FROM tap_t$$, '22023', NULL,
				 'feature_names of the wrong length: invalid_parameter_value');
SELECT * FROM finish();
ROLLBACK;
