-- pgTAP contracts of the MLP, logistic regression, metrics and partial
-- dependence (issue 4): signatures, volatility, parallel safety, and the
-- SQLSTATE of every class of bad input.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(36);

SELECT has_function('scfrisk', 'mlp_train', ARRAY['double precision[]', 'double precision', 'jsonb']);
SELECT is_aggregate('scfrisk', 'mlp_train', ARRAY['double precision[]', 'double precision', 'jsonb']);
SELECT function_returns('scfrisk', 'mlp_train', ARRAY['double precision[]', 'double precision', 'jsonb'], 'bytea');
SELECT has_function('scfrisk', 'mlp_predict', ARRAY['bytea', 'double precision[]']);
SELECT volatility_is('scfrisk', 'mlp_predict', ARRAY['bytea', 'double precision[]'], 'immutable');
SELECT is_strict('scfrisk', 'mlp_predict', ARRAY['bytea', 'double precision[]']);
SELECT is_aggregate('scfrisk', 'logreg_train', ARRAY['double precision[]', 'double precision', 'jsonb']);
SELECT volatility_is('scfrisk', 'logreg_predict', ARRAY['bytea', 'double precision[]'], 'immutable');
SELECT is_aggregate('scfrisk', 'binary_metrics', ARRAY['double precision', 'double precision']);
SELECT is_aggregate('scfrisk', 'binary_metrics', ARRAY['double precision', 'double precision', 'double precision']);
SELECT function_returns('scfrisk', 'binary_metrics', ARRAY['double precision', 'double precision'], 'jsonb');
SELECT has_function('scfrisk', 'roc_curve', ARRAY['double precision[]', 'double precision[]']);
SELECT has_function('scfrisk', 'threshold_table', ARRAY['double precision[]', 'double precision[]', 'double precision[]']);
SELECT is_aggregate('scfrisk', 'partial_dependence', ARRAY['bytea', 'double precision[]', 'integer', 'double precision[]']);
SELECT function_returns('scfrisk', 'partial_dependence', ARRAY['bytea', 'double precision[]', 'integer', 'double precision[]'], 'double precision[]');
SELECT is((SELECT aggcombinefn::text FROM pg_aggregate WHERE aggfnoid = 'scfrisk.mlp_train(float8[], float8, jsonb)'::regprocedure),
		  'scfrisk.mlp_rows_combine', 'mlp_train has a combine function');
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'scfrisk.mlp_train(float8[], float8, jsonb)'::regprocedure),
		  's', 'mlp_train is parallel safe');
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'scfrisk.mlp_predict(bytea, float8[])'::regprocedure),
		  's', 'mlp_predict is parallel safe');

CREATE TEMP TABLE tap_t AS
SELECT ARRAY[sin(i)::float8, cos(i)::float8] AS x, (sin(i) > 0)::int::float8 AS y FROM generate_series(1, 50) i;
CREATE TEMP TABLE tap_m AS
SELECT (SELECT scfrisk.mlp_train(x, y, '{"hidden": [4], "epochs": 2}') FROM tap_t) AS mlp,
	   (SELECT scfrisk.logreg_train(x, y, '{}') FROM tap_t) AS lr;

SELECT throws_ok($$SELECT scfrisk.mlp_train(x, y, '{"hidden": []}') FROM tap_t$$, '22023', NULL, 'empty hidden list: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.mlp_train(x, y, '{"hidden": [4096, 4096, 4096]}') FROM tap_t$$, '54000', NULL, 'absurd hidden list: program_limit_exceeded');
SELECT throws_ok($$SELECT scfrisk.mlp_train(x, y, '{"epochs": 0}') FROM tap_t$$, '22023', NULL, 'epochs 0: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.mlp_train(x, 'NaN', '{}') FROM tap_t$$, '22000', NULL, 'NaN label: data_exception');
SELECT throws_ok($$SELECT scfrisk.mlp_train(x, y * 3, '{}') FROM tap_t$$, '22000', NULL, 'label 3: data_exception');
SELECT throws_ok($$SELECT scfrisk.mlp_train(x, 0, '{}') FROM tap_t$$, '22000', NULL, 'one class: data_exception');
SELECT throws_ok($$SELECT scfrisk.mlp_train(x, y, '{}') FROM tap_t WHERE false$$, '22000', NULL, 'no rows: data_exception');
SELECT throws_ok($$SELECT scfrisk.mlp_predict(mlp, ARRAY[1]::float8[]) FROM tap_m$$, '22000', NULL, 'wrong width: data_exception');
SELECT throws_ok($$SELECT scfrisk.mlp_predict(set_byte(mlp, 40, get_byte(mlp, 40) # 1), ARRAY[1, 2]::float8[]) FROM tap_m$$, 'XX001', NULL, 'corrupted mlp: data_corrupted');
SELECT throws_ok($$SELECT scfrisk.mlp_predict(lr, ARRAY[1, 2]::float8[]) FROM tap_m$$, '42809', NULL, 'logreg model to mlp_predict: wrong_object_type');
SELECT throws_ok($$SELECT scfrisk.logreg_predict(mlp, ARRAY[1, 2]::float8[]) FROM tap_m$$, '42809', NULL, 'mlp model to logreg_predict: wrong_object_type');
SELECT throws_ok($$SELECT scfrisk.logreg_predict(substring(lr from 1 for 30), ARRAY[1, 2]::float8[]) FROM tap_m$$, 'XX001', NULL, 'truncated logreg: data_corrupted');
SELECT throws_ok($$SELECT scfrisk.logreg_train(x, y, '{"C": -1}') FROM tap_t$$, '22023', NULL, 'negative C: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.binary_metrics(3, 0.5)$$, '22000', NULL, 'metric label 3: data_exception');
SELECT throws_ok($$SELECT * FROM scfrisk.roc_curve(ARRAY[0, 0], ARRAY[0.1, 0.2])$$, '22000', NULL, 'roc with one class: data_exception');
SELECT throws_ok($$SELECT scfrisk.partial_dependence(mlp, x, 9, ARRAY[0]::float8[]) FROM tap_t, tap_m$$, '22023', NULL, 'pdp feature out of range: invalid_parameter_value');
SELECT ok((SELECT scfrisk.mlp_predict(mlp, ARRAY[0.5, 0.5]::float8[]) BETWEEN 0 AND 1 FROM tap_m), 'mlp scores a probability');
SELECT ok((SELECT (scfrisk.binary_metrics(y, scfrisk.logreg_predict(lr, x))->>'auc')::float8 > 0.9 FROM tap_t, tap_m), 'logreg ranks its training rows');

SELECT * FROM finish();
ROLLBACK;
