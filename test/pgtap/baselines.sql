-- pgTAP contracts of the paper's baselines (issue 15): signatures, volatility,
-- parallel safety, combine functions, the kinds written, and the SQLSTATE of
-- every class of bad input.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(51);

SELECT is_aggregate('scfrisk', 'tree_train', ARRAY['double precision[]', 'double precision', 'jsonb']);
SELECT function_returns('scfrisk', 'tree_train', ARRAY['double precision[]', 'double precision', 'jsonb'], 'bytea');
SELECT is((SELECT aggcombinefn::text FROM pg_aggregate WHERE aggfnoid = 'scfrisk.tree_train(float8[], float8, jsonb)'::regprocedure),
		  'scfrisk.forest_rows_combine', 'tree_train has a combine function');
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'scfrisk.tree_train(float8[], float8, jsonb)'::regprocedure),
		  's', 'tree_train is parallel safe');
SELECT volatility_is('scfrisk', 'tree_predict', ARRAY['bytea', 'double precision[]'], 'immutable');
SELECT is_strict('scfrisk', 'tree_predict', ARRAY['bytea', 'double precision[]']);
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'scfrisk.tree_predict(bytea, float8[])'::regprocedure),
		  's', 'tree_predict is parallel safe');
SELECT is_aggregate('scfrisk', 'rf_train', ARRAY['double precision[]', 'double precision', 'jsonb']);
SELECT function_returns('scfrisk', 'rf_train', ARRAY['double precision[]', 'double precision', 'jsonb'], 'bytea');
SELECT is((SELECT aggcombinefn::text FROM pg_aggregate WHERE aggfnoid = 'scfrisk.rf_train(float8[], float8, jsonb)'::regprocedure),
		  'scfrisk.forest_rows_combine', 'rf_train has a combine function');
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'scfrisk.rf_train(float8[], float8, jsonb)'::regprocedure),
		  's', 'rf_train is parallel safe');
SELECT volatility_is('scfrisk', 'rf_predict', ARRAY['bytea', 'double precision[]'], 'immutable');
SELECT is_strict('scfrisk', 'rf_predict', ARRAY['bytea', 'double precision[]']);
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'scfrisk.rf_predict(bytea, float8[])'::regprocedure),
		  's', 'rf_predict is parallel safe');
SELECT is_aggregate('scfrisk', 'nb_train', ARRAY['double precision[]', 'double precision', 'jsonb']);
SELECT function_returns('scfrisk', 'nb_train', ARRAY['double precision[]', 'double precision', 'jsonb'], 'bytea');
SELECT is((SELECT aggcombinefn::text FROM pg_aggregate WHERE aggfnoid = 'scfrisk.nb_train(float8[], float8, jsonb)'::regprocedure),
		  'scfrisk.nb_rows_combine', 'nb_train has a combine function');
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'scfrisk.nb_train(float8[], float8, jsonb)'::regprocedure),
		  's', 'nb_train is parallel safe');
SELECT volatility_is('scfrisk', 'nb_predict', ARRAY['bytea', 'double precision[]'], 'immutable');
SELECT is_strict('scfrisk', 'nb_predict', ARRAY['bytea', 'double precision[]']);
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'scfrisk.nb_predict(bytea, float8[])'::regprocedure),
		  's', 'nb_predict is parallel safe');
SELECT is_aggregate('scfrisk', 'svm_train', ARRAY['double precision[]', 'double precision', 'jsonb']);
SELECT function_returns('scfrisk', 'svm_train', ARRAY['double precision[]', 'double precision', 'jsonb'], 'bytea');
SELECT is((SELECT aggcombinefn::text FROM pg_aggregate WHERE aggfnoid = 'scfrisk.svm_train(float8[], float8, jsonb)'::regprocedure),
		  'scfrisk.svm_rows_combine', 'svm_train has a combine function');
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'scfrisk.svm_train(float8[], float8, jsonb)'::regprocedure),
		  's', 'svm_train is parallel safe');
SELECT volatility_is('scfrisk', 'svm_predict', ARRAY['bytea', 'double precision[]'], 'immutable');
SELECT is_strict('scfrisk', 'svm_predict', ARRAY['bytea', 'double precision[]']);
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'scfrisk.svm_predict(bytea, float8[])'::regprocedure),
		  's', 'svm_predict is parallel safe');
SELECT is_aggregate('scfrisk', 'knn_train', ARRAY['double precision[]', 'double precision', 'jsonb']);
SELECT function_returns('scfrisk', 'knn_train', ARRAY['double precision[]', 'double precision', 'jsonb'], 'bytea');
SELECT is((SELECT aggcombinefn::text FROM pg_aggregate WHERE aggfnoid = 'scfrisk.knn_train(float8[], float8, jsonb)'::regprocedure),
		  'scfrisk.knn_rows_combine', 'knn_train has a combine function');
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'scfrisk.knn_train(float8[], float8, jsonb)'::regprocedure),
		  's', 'knn_train is parallel safe');
SELECT volatility_is('scfrisk', 'knn_predict', ARRAY['bytea', 'double precision[]'], 'immutable');
SELECT is_strict('scfrisk', 'knn_predict', ARRAY['bytea', 'double precision[]']);
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'scfrisk.knn_predict(bytea, float8[])'::regprocedure),
		  's', 'knn_predict is parallel safe');

SELECT volatility_is('scfrisk', 'svm_decision', ARRAY['bytea', 'double precision[]'], 'immutable');
SELECT function_returns('scfrisk', 'tree_importance', ARRAY['bytea'], 'setof record');

CREATE TEMP TABLE tap_t AS
SELECT ARRAY[sin(i)::float8, cos(i)::float8, (i % 3)::float8] AS x, (sin(i) + cos(i) > 0)::int::float8 AS y
FROM generate_series(1, 80) i;
CREATE TEMP TABLE tap_m AS
SELECT (SELECT scfrisk.tree_train(x, y, '{}') FROM tap_t) AS tree,
	   (SELECT scfrisk.rf_train(x, y, '{"n_estimators": 3}') FROM tap_t) AS forest,
	   (SELECT scfrisk.nb_train(x, y, '{}') FROM tap_t) AS nb,
	   (SELECT scfrisk.svm_train(x, y, '{}') FROM tap_t) AS svm,
	   (SELECT scfrisk.knn_train(x, y, '{}') FROM tap_t) AS knn;

SELECT is((SELECT array_agg(scfrisk.model_kind(m) ORDER BY o) FROM tap_m,
				  unnest(ARRAY[tree, forest, nb, svm, knn]) WITH ORDINALITY AS u(m, o)),
		  ARRAY['cart', 'forest', 'gaussian_nb', 'linear_svm', 'knn'], 'each aggregate writes its own kind');
SELECT ok((SELECT bool_and(scfrisk.predict(m, x) BETWEEN 0 AND 1) FROM tap_m, tap_t,
				  unnest(ARRAY[tree, forest, nb, svm, knn]) AS u(m)),
		  'scfrisk.predict scores every new kind with a probability');
SELECT throws_ok($$SELECT scfrisk.rf_train(x, y, '{"n_estimators": 0}') FROM tap_t$$, '22023', NULL,
				 'n_estimators 0: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.tree_train(x, y, '{"max_depth": 65}') FROM tap_t$$, '22023', NULL,
				 'max_depth beyond the cap: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.knn_train(x, y, '{"k": 81}') FROM tap_t$$, '22023', NULL,
				 'k larger than the rows: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.knn_train(ARRAY[i::float8], (i % 2)::float8, '{}') FROM generate_series(1, 200001) i$$,
				 '54000', NULL, 'knn_train past its row cap: program_limit_exceeded');
SELECT throws_ok($$SELECT scfrisk.nb_train(x, 1, '{}') FROM tap_t$$, '22000', NULL,
				 'one class: data_exception');
SELECT throws_ok($$SELECT scfrisk.svm_train(x, y, '{"C": -1}') FROM tap_t$$, '22023', NULL,
				 'C out of range: invalid_parameter_value');
SELECT throws_ok($$SELECT scfrisk.nb_predict(tree, ARRAY[1, 2, 3]) FROM tap_m$$, '42809', NULL,
				 'another kind: wrong_object_type');
SELECT throws_ok($$SELECT scfrisk.knn_predict(knn, ARRAY[1, NULL, 3]) FROM tap_m$$, '22004', NULL,
				 'a NULL element for k-NN: null_value_not_allowed');
SELECT lives_ok($$SELECT scfrisk.rf_predict(forest, ARRAY[1, NULL, 3]) FROM tap_m$$,
				'the trees take missing values');
SELECT throws_ok($$SELECT scfrisk.rf_predict('\x00'::bytea, ARRAY[1, 2, 3])$$, 'XX001', NULL,
				 'corrupt bytes: data_corrupted');

-- a cancel (here statement_timeout) stops training between trees and between solver passes
CREATE TEMP TABLE tap_big AS
SELECT ARRAY[random(), random(), random(), random()] AS x, (random() < 0.5)::int::float8 AS y
FROM generate_series(1, 3000);
-- (query_canceled is not caught by throws_ok's WHEN OTHERS: catch it by name)
CREATE FUNCTION pg_temp.canceled(q text) RETURNS bool LANGUAGE plpgsql AS $f$
BEGIN
	EXECUTE q;
	RETURN false;
EXCEPTION WHEN query_canceled THEN
	RETURN true;
END $f$;
SET LOCAL statement_timeout = '300ms';
SELECT ok(pg_temp.canceled($$SELECT scfrisk.rf_train(x, y, '{"n_estimators": 10000}') FROM tap_big$$),
		  'rf_train stops on a cancel (57014)');
SELECT ok(pg_temp.canceled($$SELECT scfrisk.svm_train(x, y, '{"C": 1000000, "tol": 1e-12,
								"max_iter": 100000000, "platt_folds": 0}') FROM tap_big$$),
		  'svm_train stops on a cancel (57014)');
RESET statement_timeout;

SELECT * FROM finish();
ROLLBACK;
