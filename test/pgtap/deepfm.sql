-- pgTAP contracts of the QRGMM DeepFM surface: signatures, volatility,
-- strictness, parallel safety, the aggregate's parallel support, and the
-- SQLSTATE of every error class of issue 8.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(47);

SELECT has_function('scfrisk', 'qrgmm_deepfm_train', ARRAY['double precision[]', 'integer[]', 'double precision', 'jsonb']);
SELECT is_aggregate('scfrisk', 'qrgmm_deepfm_train', ARRAY['double precision[]', 'integer[]', 'double precision', 'jsonb']);
SELECT is((SELECT aggcombinefn::text <> '-' AND aggserialfn::text <> '-' AND aggdeserialfn::text <> '-'
           FROM pg_aggregate WHERE aggfnoid = 'scfrisk.qrgmm_deepfm_train(float8[], int[], float8, jsonb)'::regprocedure),
          true, 'qrgmm_deepfm_train has combine, serial and deserial functions');
SELECT is((SELECT proparallel::text FROM pg_proc
           WHERE oid = 'scfrisk.qrgmm_deepfm_train(float8[], int[], float8, jsonb)'::regprocedure), 's',
          'qrgmm_deepfm_train is parallel safe');
SELECT function_returns('scfrisk', 'qrgmm_deepfm_covariates', ARRAY['bytea', 'double precision[]', 'integer[]'], 'double precision[]');
SELECT volatility_is('scfrisk', 'qrgmm_deepfm_covariates', ARRAY['bytea', 'double precision[]', 'integer[]'], 'immutable');
SELECT is_strict('scfrisk', 'qrgmm_deepfm_covariates', ARRAY['bytea', 'double precision[]', 'integer[]']);
SELECT function_returns('scfrisk', 'qrgmm_curve', ARRAY['bytea', 'double precision[]', 'integer[]'], 'double precision[]');
SELECT volatility_is('scfrisk', 'qrgmm_curve', ARRAY['bytea', 'double precision[]', 'integer[]'], 'immutable');
SELECT is_strict('scfrisk', 'qrgmm_curve', ARRAY['bytea', 'double precision[]', 'integer[]']);
SELECT function_returns('scfrisk', 'qrgmm_quantile', ARRAY['bytea', 'double precision[]', 'integer[]', 'double precision'], 'double precision');
SELECT is_strict('scfrisk', 'qrgmm_quantile', ARRAY['bytea', 'double precision[]', 'integer[]', 'double precision']);
SELECT function_returns('scfrisk', 'qrgmm_quantiles', ARRAY['bytea', 'double precision[]', 'integer[]', 'double precision[]'], 'double precision[]');
SELECT function_returns('scfrisk', 'qrgmm_sample', ARRAY['bytea', 'double precision[]', 'integer[]', 'integer', 'bigint', 'text'], 'setof double precision');
SELECT isnt_strict('scfrisk', 'qrgmm_sample', ARRAY['bytea', 'double precision[]', 'integer[]', 'integer', 'bigint', 'text']);
SELECT volatility_is('scfrisk', 'qrgmm_sample', ARRAY['bytea', 'double precision[]', 'integer[]', 'integer', 'bigint', 'text'], 'immutable');
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'scfrisk' AND p.proname LIKE 'qrgmm_deepfm%' AND p.proparallel <> 's'),
          0, 'every DeepFM function is parallel safe');

CREATE TEMP TABLE d AS
SELECT ARRAY[((k * 37) % 101) / 100.0]::float8[] AS num, ARRAY[k % 3, (k / 3) % 2]::int[] AS cat,
       2 + ((k * 37) % 101) / 100.0 + (k % 3) * ((k / 3) % 2) + ((k * 7919) % 1000) / 1000.0 AS y
FROM generate_series(1, 400) k;
CREATE TEMP TABLE md AS
SELECT scfrisk.qrgmm_deepfm_train(num, cat, y,
	'{"k": 3, "layers": [8], "m": 8, "epochs": 5, "batch_size": 50, "patience": 0}') AS model FROM d;

SELECT is((SELECT scfrisk.model_kind(model) FROM md), 'qrgmm_deepfm', 'trained model is qrgmm_deepfm');
SELECT is((SELECT (scfrisk.model_info(model)->>'n_features')::int FROM md), 3, 'n_features = numeric + categorical');
SELECT is((SELECT (scfrisk.model_info(model)->'info'->>'epochs_run')::int FROM md), 5, 'patience 0 trains every epoch');
SELECT ok((SELECT scfrisk.qrgmm_quantile(model, ARRAY[0.5], ARRAY[1, 1], 0.2)
                  <= scfrisk.qrgmm_quantile(model, ARRAY[0.5], ARRAY[1, 1], 0.8) FROM md),
          'quantiles increase in tau');
SELECT is((SELECT array_length(scfrisk.qrgmm_curve(model, ARRAY[0.5, 1, 1]), 1) FROM md), 9, 'curve has m + 1 knots');
SELECT ok((SELECT scfrisk.qrgmm_quantile(model, ARRAY[0.5], ARRAY[7, 1], 0.5) IS NOT NULL FROM md),
          'an unseen id scores through the unknown bucket');
SELECT is((SELECT count(*)::int FROM md, scfrisk.qrgmm_sample(model, ARRAY[0.5], ARRAY[1, 0], 25, 3)), 25,
          'sample overload gives n draws');
SELECT is((SELECT count(*)::int FROM md, scfrisk.qrgmm_sample(model, NULL::float8[], ARRAY[1, 0], 25, 3)), 0,
          'sample overload with NULL fields gives no rows');

-- training errors
SELECT throws_ok($$SELECT scfrisk.qrgmm_deepfm_train(num, ARRAY[-1, 0], y, '{}') FROM d$$,
                 '22000', NULL, 'negative id: data_exception');
SELECT throws_ok($$SELECT scfrisk.qrgmm_deepfm_train(num, ARRAY[NULL, 0]::int[], y, '{}') FROM d$$,
                 '22004', NULL, 'NULL id: null_value_not_allowed');
SELECT throws_ok($$SELECT scfrisk.qrgmm_deepfm_train(num, CASE WHEN y > 3 THEN ARRAY[1] ELSE cat END, y, '{}') FROM d$$,
                 '22000', NULL, 'field counts that change: data_exception');
SELECT throws_ok($$SELECT scfrisk.qrgmm_deepfm_train(num, cat, 'NaN', '{}') FROM d$$,
                 '22000', NULL, 'NaN response: data_exception');
SELECT throws_ok($$SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{}') FROM d WHERE false$$,
                 '22000', NULL, 'no rows: data_exception');
SELECT throws_ok($$SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"embedding_size": 4}') FROM d$$,
                 '22023', NULL, 'unknown key: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"k": 100000}') FROM d$$,
                 '22023', NULL, 'absurd embedding size: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"layers": []}') FROM d$$,
                 '22023', NULL, 'empty layer list: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"layers": [-3]}') FROM d$$,
                 '22023', NULL, 'absurd layer width: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.qrgmm_deepfm_train(array_fill(0.5::float8, ARRAY[30]), cat, y, '{"k": 200}') FROM d$$,
                 '54000', NULL, 'too many MLP inputs: program_limit_exceeded');

SELECT throws_ok($$SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"refit_m": 10}') FROM d$$,
                 '22023', NULL, 'refit_m without refit: invalid_parameter_value');
SELECT ok((SELECT (scfrisk.model_info(scfrisk.qrgmm_deepfm_train(num, cat, y,
	'{"k": 3, "layers": [8], "m": 8, "epochs": 3, "patience": 0, "refit": true, "refit_m": 6}'))->'info'->'refit'->>'m')::int = 6
           FROM d), 'a refit model reports its grid');
SELECT throws_ok($$SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"tail": "bogus"}') FROM d$$,
                 '22023', NULL, 'unknown tail rule: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"tail": 2}') FROM d$$,
                 '22023', NULL, 'tail rule as a number: invalid_parameter_value');
SELECT is((SELECT scfrisk.model_info(scfrisk.qrgmm_deepfm_train(num, cat, y,
	'{"k": 3, "layers": [8], "m": 8, "epochs": 3, "patience": 0, "refit": true, "refit_m": 6, "tail": "linear"}'))->'info'->>'tail'
           FROM d), 'linear', 'a refit model keeps its tail rule');

-- scoring errors
SELECT throws_ok($$SELECT scfrisk.qrgmm_quantile(model, ARRAY[0.5, 1], 0.5) FROM md$$,
                 '22000', NULL, 'wrong covariate width: data_exception');
SELECT throws_ok($$SELECT scfrisk.qrgmm_quantile(model, ARRAY[0.5, -1, 1], 0.5) FROM md$$,
                 '22000', NULL, 'negative id in covariates: data_exception');
SELECT throws_ok($$SELECT scfrisk.qrgmm_quantile(model, ARRAY[0.5, 0.5, 1], 0.5) FROM md$$,
                 '22000', NULL, 'fractional id in covariates: data_exception');
SELECT throws_ok($$SELECT scfrisk.qrgmm_quantile(model, ARRAY[0.5], ARRAY[1, 1, 1], 0.5) FROM md$$,
                 '22000', NULL, 'field counts differ from training: data_exception');
SELECT throws_ok($$SELECT scfrisk.qrgmm_quantile(model, ARRAY[0.5], ARRAY[1, NULL]::int[], 0.5) FROM md$$,
                 '22004', NULL, 'NULL id in the overload: null_value_not_allowed');
SELECT throws_ok($$SELECT scfrisk.qrgmm_curve(substring(model from 1 for 100), ARRAY[0.5, 1, 1]) FROM md$$,
                 'XX001', NULL, 'truncated model: data_corrupted');
SELECT throws_ok($$SELECT scfrisk.qrgmm_deepfm_covariates(scfrisk.qrgmm_train(ARRAY[num[1], cat[1]], y, '{"m": 4}'), ARRAY[0.5], ARRAY[1]) FROM d$$,
                 '42809', NULL, 'a linear model where a DeepFM one is needed: wrong_object_type');

SELECT * FROM finish();
ROLLBACK;
