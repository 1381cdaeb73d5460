-- pgTAP contracts of the XGBoost-MLP hybrid (issue 4): signatures,
-- volatility, parallel safety, and the SQLSTATE of every class of bad input.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(22);

SELECT is_aggregate('scfrisk', 'xgb_mlp_train', ARRAY['double precision[]', 'double precision', 'jsonb']);
SELECT function_returns('scfrisk', 'xgb_mlp_train', ARRAY['double precision[]', 'double precision', 'jsonb'], 'bytea');
SELECT has_function('scfrisk', 'xgb_mlp_predict', ARRAY['bytea', 'double precision[]']);
SELECT volatility_is('scfrisk', 'xgb_mlp_predict', ARRAY['bytea', 'double precision[]'], 'immutable');
SELECT is_strict('scfrisk', 'xgb_mlp_predict', ARRAY['bytea', 'double precision[]']);
SELECT function_returns('scfrisk', 'xgb_mlp_selected', ARRAY['bytea'], 'integer[]');
SELECT volatility_is('scfrisk', 'xgb_mlp_selected', ARRAY['bytea'], 'immutable');
SELECT is((SELECT aggcombinefn::text FROM pg_aggregate WHERE aggfnoid = 'scfrisk.xgb_mlp_train(float8[], float8, jsonb)'::regprocedure),
		  'scfrisk.mlp_rows_combine', 'xgb_mlp_train has a combine function');
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'scfrisk.xgb_mlp_train(float8[], float8, jsonb)'::regprocedure),
		  's', 'xgb_mlp_train is parallel safe');
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'scfrisk.xgb_mlp_predict(bytea, float8[])'::regprocedure),
		  's', 'xgb_mlp_predict is parallel safe');

CREATE TEMP TABLE tap_t AS
SELECT ARRAY[sin(i)::float8, cos(i)::float8, (i % 3)::float8] AS x, (sin(i) + cos(i) > 0)::int::float8 AS y
FROM generate_series(1, 80) i;
CREATE TEMP TABLE tap_m AS
SELECT (SELECT scfrisk.xgb_mlp_train(x, y, '{"xgb": {"n_estimators": 5}, "mlp": {"hidden": [4], "epochs": 2}}') FROM tap_t) AS m,
	   (SELECT scfrisk.mlp_train(x, y, '{"hidden": [4], "epochs": 1}') FROM tap_t) AS mlp;

SELECT throws_ok($$SELECT scfrisk.xgb_mlp_train(x, y, '{"threshold": 0.999}') FROM tap_t$$, '22000', NULL,
				 'a threshold that keeps no feature: data_exception');
SELECT throws_ok($$SELECT scfrisk.xgb_mlp_train(x, y, '{"threshold": -1}') FROM tap_t$$, '22023', NULL,
				 'threshold out of range: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.xgb_mlp_train(x, y, '{"xgb": {"max_depth": 0}}') FROM tap_t$$, '22023', NULL,
				 'nested tree param out of range: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.xgb_mlp_train(x, y, '{"mlp": {"hidden": []}}') FROM tap_t$$, '22023', NULL,
				 'empty hidden list: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.xgb_mlp_train(x, y, '{"xgb": {"objective": "reg:squarederror"}}') FROM tap_t$$, '22023', NULL,
				 'regression stage: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.xgb_mlp_train(x, y, '{"tree": {}}') FROM tap_t$$, '22023', NULL,
				 'unknown key: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.xgb_mlp_train(x, 'NaN', '{}') FROM tap_t$$, '22000', NULL, 'NaN label: data_exception');
SELECT throws_ok($$SELECT scfrisk.xgb_mlp_train(x, 0, '{}') FROM tap_t$$, '22000', NULL, 'one class: data_exception');
SELECT throws_ok($$SELECT scfrisk.xgb_mlp_predict(m, ARRAY[1, 2]::float8[]) FROM tap_m$$, '22000', NULL,
				 'wrong width: data_exception');
SELECT throws_ok($$SELECT scfrisk.xgb_mlp_predict(mlp, ARRAY[1, 2, 3]::float8[]) FROM tap_m$$, '42809', NULL,
				 'model of another kind: wrong_object_type');
SELECT throws_ok($$SELECT scfrisk.xgb_mlp_predict(substring(m from 1 for 60), ARRAY[1, 2, 3]::float8[]) FROM tap_m$$, 'XX001', NULL,
				 'truncated model: data_corrupted');
SELECT throws_ok($$SELECT scfrisk.xgb_mlp_selected('\x5343465201000300'::bytea)$$, 'XX001', NULL,
				 'foreign bytes: data_corrupted');

SELECT * FROM finish();
ROLLBACK;
