-- pgTAP contracts of the gradient-boosted trees: signatures, volatility,
-- strictness, parallel safety, the aggregates' parallel support, and the
-- SQLSTATE of every error class of issue 3.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(47);

SELECT has_function('scfrisk', 'xgb_train', ARRAY['double precision[]', 'double precision', 'jsonb']);
SELECT is_aggregate('scfrisk', 'xgb_train', ARRAY['double precision[]', 'double precision', 'jsonb']);
SELECT is_aggregate('scfrisk', 'xgb_train', ARRAY['double precision[]', 'double precision', 'double precision', 'jsonb']);
SELECT is((SELECT bool_and(aggcombinefn::text <> '-' AND aggserialfn::text <> '-' AND aggdeserialfn::text <> '-')
           FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
           JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'scfrisk' AND p.proname = 'xgb_train'),
          true, 'both xgb_train forms have combine, serial and deserial functions');
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'scfrisk' AND (p.proname LIKE 'xgb%' OR p.proname = 'predict')
             AND p.proname <> 'xgb_train_sharded' AND p.proname NOT IN ('xgb_shard_sketch', 'xgb_shard_step')
             AND p.proparallel <> 's'), 0, 'every gbt function is parallel safe (but sharded training''s, test/pgtap/sharded.sql)');

SELECT function_returns('scfrisk', 'xgb_predict', ARRAY['bytea', 'double precision[]'], 'double precision');
SELECT volatility_is('scfrisk', 'xgb_predict', ARRAY['bytea', 'double precision[]'], 'immutable');
SELECT is_strict('scfrisk', 'xgb_predict', ARRAY['bytea', 'double precision[]']);
SELECT function_returns('scfrisk', 'xgb_predict_margin', ARRAY['bytea', 'double precision[]'], 'double precision');
SELECT volatility_is('scfrisk', 'xgb_predict_margin', ARRAY['bytea', 'double precision[]'], 'immutable');
SELECT is_strict('scfrisk', 'xgb_predict_margin', ARRAY['bytea', 'double precision[]']);
SELECT function_returns('scfrisk', 'predict', ARRAY['bytea', 'double precision[]'], 'double precision');
SELECT volatility_is('scfrisk', 'predict', ARRAY['bytea', 'double precision[]'], 'immutable');
SELECT is_strict('scfrisk', 'predict', ARRAY['bytea', 'double precision[]']);
SELECT function_returns('scfrisk', 'xgb_importance', ARRAY['bytea', 'text'],
						'setof record');
SELECT volatility_is('scfrisk', 'xgb_importance', ARRAY['bytea', 'text'], 'immutable');
SELECT function_returns('scfrisk', 'xgb_select', ARRAY['bytea', 'double precision', 'text'], 'integer[]');
SELECT volatility_is('scfrisk', 'xgb_select', ARRAY['bytea', 'double precision', 'text'], 'immutable');

CREATE TEMP TABLE d AS
SELECT k, ARRAY[(k % 17)::float8, (k % 5)::float8, CASE WHEN k % 4 = 0 THEN NULL ELSE (k % 11)::float8 END] AS f,
	   ((k % 17) + (k % 5) > 10)::int::float8 AS y
FROM generate_series(1, 400) k;
CREATE TEMP TABLE m AS SELECT scfrisk.xgb_train(f, y, '{"n_estimators": 5}') AS model FROM d;

SELECT is((SELECT scfrisk.model_kind(model) FROM m), 'gbt', 'xgb_train makes a gbt model');
SELECT is((SELECT count(*)::int FROM m, scfrisk.xgb_importance(model)), 3, 'one importance row per feature');
SELECT is((SELECT scfrisk.xgb_predict(model, ARRAY[1, 2, 3]) = scfrisk.predict(model, ARRAY[1, 2, 3]) FROM m),
          true, 'predict dispatches to the gbt scorer');
SELECT ok((SELECT (scfrisk.model_info(model)->'info'->>'rounds_run')::int = 5 FROM m), 'model_info shows the rounds run');

-- errors with their SQLSTATEs
SELECT throws_ok($$SELECT scfrisk.xgb_train(f, y, '{}') FROM d WHERE false$$, '22000', NULL, 'empty input');
SELECT throws_ok($$SELECT scfrisk.xgb_train(f, 0.0, '{}') FROM d$$, '22000', NULL, 'one-class classifier');
SELECT throws_ok($$SELECT scfrisk.xgb_train(CASE WHEN k = 3 THEN ARRAY[1.0] ELSE f END, y, '{}') FROM d$$,
                 '22000', NULL, 'inconsistent width');
SELECT throws_ok($$SELECT scfrisk.xgb_train(f, 'NaN', '{}') FROM d$$, '22000', NULL, 'NaN label');
SELECT throws_ok($$SELECT scfrisk.xgb_train(f, y, -2.0, '{}') FROM d$$, '22000', NULL, 'negative weight');
SELECT throws_ok($$SELECT scfrisk.xgb_train(f, y, '{"depth": 3}') FROM d$$, '22023', NULL, 'unknown parameter');
SELECT throws_ok($$SELECT scfrisk.xgb_train(f, y, '{"max_bin": 1}') FROM d$$, '22023', NULL, 'out-of-range parameter');
SELECT throws_ok($$SELECT scfrisk.xgb_train(f, y, '{"eta": "fast"}') FROM d$$, '22023', NULL, 'wrongly typed parameter');
SELECT throws_ok($$SELECT scfrisk.xgb_train(f, y, '{"base_score": 0}') FROM d$$, '22023', NULL, 'base_score outside (0, 1)');
SELECT throws_ok($$SELECT scfrisk.xgb_predict(model, ARRAY[1.0]) FROM m$$, '22000', NULL, 'wrong width when scoring');
SELECT throws_ok($$SELECT scfrisk.xgb_predict(substr(model, 1, length(model) - 1), ARRAY[1, 2, 3]) FROM m$$,
                 'XX001', NULL, 'truncated model');
SELECT throws_ok($$SELECT scfrisk.xgb_predict(overlay(model placing '\x00'::bytea from 40), ARRAY[1, 2, 3]) FROM m$$,
                 'XX001', NULL, 'corrupted model');
SELECT throws_ok($$SELECT scfrisk.xgb_predict('\x00010203'::bytea, ARRAY[1, 2, 3])$$, 'XX001', NULL, 'foreign bytea');
SELECT throws_ok($$SELECT scfrisk.xgb_predict(scfrisk.logreg_train(f[1:2], y, '{}'), ARRAY[1, 2]) FROM d$$,
                 '42809', NULL, 'model of another kind');
SELECT throws_ok($$SELECT scfrisk.predict(scfrisk.qrgmm_train(f[1:1], f[2], '{"m": 5}'), ARRAY[1]) FROM d$$,
                 '42809', NULL, 'predict on a kind without a scorer');
SELECT throws_ok($$SELECT * FROM scfrisk.xgb_importance((SELECT model FROM m), 'split')$$, '22023', NULL,
                 'unknown importance type');
SELECT throws_ok($$SELECT scfrisk.xgb_select(model, -0.1) FROM m$$, '22023', NULL, 'threshold out of range');
SELECT throws_ok($$SELECT scfrisk.xgb_train(ARRAY[1, 'Infinity']::float8[], 1.0, '{}')$$, '22000', NULL, 'infinite feature');
SELECT function_returns('scfrisk', 'xgb_to_json', ARRAY['bytea'], 'jsonb');
SELECT function_returns('scfrisk', 'xgb_from_json', ARRAY['jsonb'], 'bytea');
SELECT volatility_is('scfrisk', 'xgb_from_json', ARRAY['jsonb'], 'immutable');
SELECT throws_ok($$SELECT scfrisk.xgb_from_json('{"learner": {}}')$$, '22000', NULL, 'JSON that is not an XGBoost model');
SELECT throws_ok($$SELECT scfrisk.xgb_from_json(jsonb_set(scfrisk.xgb_to_json(model),
				 '{learner,gradient_booster,model,trees,0,right_children,0}', '-5')) FROM m$$,
				 'XX001', NULL, 'JSON model with broken trees');
SELECT throws_ok($$SELECT scfrisk.xgb_to_json(scfrisk.logreg_train(f[1:2], y, '{}')) FROM d$$,
                 '42809', NULL, 'xgb_to_json of another kind');
SELECT lives_ok($$SELECT scfrisk.xgb_predict(model, ARRAY[NULL, 'NaN', 1]::float8[]) FROM m$$, 'missing values score');

SELECT * FROM finish();
ROLLBACK;
