-- pgTAP contracts of the QRGMM surface: signatures, volatility, strictness,
-- parallel safety, the aggregate's parallel support, and the SQLSTATE of
-- every error class of issue 5.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(46);

SELECT has_function('scfrisk', 'qrgmm_train', ARRAY['double precision[]', 'double precision', 'jsonb']);
SELECT is_aggregate('scfrisk', 'qrgmm_train', ARRAY['double precision[]', 'double precision', 'jsonb']);
SELECT is((SELECT aggcombinefn::text <> '-' AND aggserialfn::text <> '-' AND aggdeserialfn::text <> '-'
           FROM pg_aggregate WHERE aggfnoid = 'scfrisk.qrgmm_train(float8[], float8, jsonb)'::regprocedure),
          true, 'qrgmm_train has combine, serial and deserial functions');
SELECT is((SELECT proparallel::text FROM pg_proc
           WHERE oid = 'scfrisk.qrgmm_train(float8[], float8, jsonb)'::regprocedure), 's',
          'qrgmm_train is parallel safe');

SELECT function_returns('scfrisk', 'qrgmm_curve', ARRAY['bytea', 'double precision[]'], 'double precision[]');
SELECT volatility_is('scfrisk', 'qrgmm_curve', ARRAY['bytea', 'double precision[]'], 'immutable');
SELECT is_strict('scfrisk', 'qrgmm_curve', ARRAY['bytea', 'double precision[]']);
SELECT function_returns('scfrisk', 'qrgmm_quantile', ARRAY['bytea', 'double precision[]', 'double precision'], 'double precision');
SELECT volatility_is('scfrisk', 'qrgmm_quantile', ARRAY['bytea', 'double precision[]', 'double precision'], 'immutable');
SELECT is_strict('scfrisk', 'qrgmm_quantile', ARRAY['bytea', 'double precision[]', 'double precision']);
SELECT function_returns('scfrisk', 'qrgmm_quantiles', ARRAY['bytea', 'double precision[]', 'double precision[]'], 'double precision[]');
SELECT function_returns('scfrisk', 'qrgmm_cdf', ARRAY['bytea', 'double precision[]', 'double precision'], 'double precision');
SELECT function_returns('scfrisk', 'qrgmm_sample', ARRAY['bytea', 'double precision[]', 'integer', 'bigint', 'text'], 'setof double precision');
SELECT isnt_strict('scfrisk', 'qrgmm_sample', ARRAY['bytea', 'double precision[]', 'integer', 'bigint', 'text']);
SELECT volatility_is('scfrisk', 'qrgmm_sample', ARRAY['bytea', 'double precision[]', 'integer', 'bigint', 'text'], 'immutable');
SELECT function_returns('scfrisk', 'qrgmm_sample_array', ARRAY['bytea', 'double precision[]', 'integer', 'bigint', 'text'], 'double precision[]');
SELECT function_returns('scfrisk', 'pinball_loss', ARRAY['double precision', 'double precision', 'double precision'], 'double precision');
SELECT function_returns('scfrisk', 'crps', ARRAY['double precision[]', 'double precision'], 'double precision');
SELECT function_returns('scfrisk', 'qrgmm_crps', ARRAY['bytea', 'double precision[]', 'double precision'], 'double precision');
SELECT is_aggregate('scfrisk', 'crps_mean', ARRAY['bytea', 'double precision[]', 'double precision']);
SELECT is_aggregate('scfrisk', 'crps_mean', ARRAY['double precision[]', 'double precision']);
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'scfrisk' AND (p.proname LIKE 'qrgmm%' OR p.proname LIKE 'crps%'
                                            OR p.proname = 'pinball_loss')
             AND p.proparallel <> 's'), 0, 'every QRGMM function is parallel safe');

CREATE TEMP TABLE d AS
SELECT ARRAY[(k % 97) / 10.0, ((k * 37) % 101) / 10.0]::float8[] AS x,
       1 + 0.5 * ((k % 97) / 10.0) + ((k * 7919) % 1000) / 1000.0 AS y
FROM generate_series(1, 500) k;
CREATE TEMP TABLE md AS SELECT scfrisk.qrgmm_train(x, y, '{"m": 10}') AS model FROM d;

SELECT is((SELECT scfrisk.model_kind(model) FROM md), 'qrgmm_linear', 'trained model is qrgmm_linear');
SELECT ok((SELECT (scfrisk.model_info(model)->'info'->>'max_gap')::float8 < 1e-9 FROM md), 'every level converged');
SELECT ok((SELECT scfrisk.qrgmm_quantile(model, ARRAY[1.0, 2.0], 0.2) <= scfrisk.qrgmm_quantile(model, ARRAY[1.0, 2.0], 0.8) FROM md),
          'quantiles increase in tau');

-- training errors
SELECT throws_ok($$SELECT scfrisk.qrgmm_train(x, y, '{"m": 1}') FROM d$$, '22023', NULL, 'm = 1: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.qrgmm_train(x, y, '{"m": 400}') FROM d$$, '22023', NULL, 'm too large: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.qrgmm_train(x, y, '{"bogus": 1}') FROM d$$, '22023', NULL, 'unknown key: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.qrgmm_train(x, 'NaN', '{}') FROM d$$, '22000', NULL, 'NaN response: data_exception');
SELECT throws_ok($$SELECT scfrisk.qrgmm_train(x, 'Infinity', '{}') FROM d$$, '22000', NULL, 'infinite response: data_exception');
SELECT throws_ok($$SELECT scfrisk.qrgmm_train(x, -5, '{}') FROM d$$, '22000', NULL, 'log1p below -1: data_exception');
SELECT throws_ok($$SELECT scfrisk.qrgmm_train(x, y, '{}') FROM (SELECT * FROM d LIMIT 2) s$$, '22000', NULL, 'p > n: data_exception');
SELECT throws_ok($$SELECT scfrisk.qrgmm_train(ARRAY[x[1], 1.0], y, '{"m": 10}') FROM d$$, '22000', NULL, 'constant column: data_exception');
SELECT throws_ok($$SELECT scfrisk.qrgmm_train(ARRAY[x[1], x[1]], y, '{"m": 10}') FROM d$$, '22000', NULL, 'duplicate column: data_exception');
SELECT throws_ok($$SELECT scfrisk.qrgmm_train(x, y, '{}') FROM d WHERE false$$, '22000', NULL, 'no rows: data_exception');

-- scoring errors
SELECT throws_ok($$SELECT scfrisk.qrgmm_quantile(model, ARRAY[1.0, 2.0], 1.5) FROM md$$, '22023', NULL, 'tau > 1: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.qrgmm_quantile(model, ARRAY[1.0, 2.0], 0) FROM md$$, '22023', NULL, 'tau = 0: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.qrgmm_quantile(model, ARRAY[1.0], 0.5) FROM md$$, '22000', NULL, 'wrong width: data_exception');
SELECT throws_ok($$SELECT scfrisk.qrgmm_quantile(model, ARRAY[1.0, 'Infinity'], 0.5) FROM md$$, '22000', NULL, 'infinite covariate: data_exception');
SELECT throws_ok($$SELECT scfrisk.qrgmm_sample_array(model, ARRAY[1.0, 2.0], NULL, 1) FROM md$$, '22004', NULL, 'n NULL: null_value_not_allowed');
SELECT throws_ok($$SELECT scfrisk.qrgmm_sample_array(model, ARRAY[1.0, 2.0], 5, NULL) FROM md$$, '22004', NULL, 'seed NULL: null_value_not_allowed');
SELECT throws_ok($$SELECT count(*) FROM md, scfrisk.qrgmm_sample(model, ARRAY[1.0, 2.0], NULL, 1)$$, '22004', NULL, 'SETOF n NULL: null_value_not_allowed');
SELECT throws_ok($$SELECT scfrisk.qrgmm_sample_array(model, ARRAY[1.0, 2.0], 200000000, 1) FROM md$$, '54000', NULL, 'array too large: program_limit_exceeded');
SELECT throws_ok($$SELECT scfrisk.qrgmm_quantile(substr(model, 1, 60), ARRAY[1.0, 2.0], 0.5) FROM md$$, 'XX001', NULL, 'truncated model: data_corrupted');
SELECT throws_ok($$SELECT scfrisk.qrgmm_quantile('\x5343465201000100000000000200000000000000000000000000000000'::bytea, ARRAY[1.0, 2.0], 0.5)$$,
                 '42809', NULL, 'model of another kind: wrong_object_type');
SELECT throws_ok($$SELECT scfrisk.qrgmm_quantile('\x5343465209000500000000000200000000000000000000000000000000'::bytea, ARRAY[1.0, 2.0], 0.5)$$,
                 '0A000', NULL, 'future format version: feature_not_supported');

SELECT * FROM finish();
ROLLBACK;
