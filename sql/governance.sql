-- scfrisk model governance (issue 17, items 4-6): monotone constraints,
-- drift (psi, csi), calibration; every rejection with its SQLSTATE.
-- Data come from a deterministic hash-based generator; only booleans,
-- counts and rounded values are printed.

CREATE FUNCTION pg_temp.u(k int, s int) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
	SELECT ((('x' || substr(md5(k::text || ':' || s::text), 1, 13))::bit(52)::bigint)::float8 + 0.5)
		/ 4503599627370496.0
$$;

-- error text with its SQLSTATE
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

CREATE TEMP TABLE g AS
SELECT k, ARRAY[floor(10 * pg_temp.u(k, 1)), floor(10 * pg_temp.u(k, 2)), pg_temp.u(k, 3)] AS f,
	   (floor(10 * pg_temp.u(k, 1)) - floor(10 * pg_temp.u(k, 2)) + 3 * pg_temp.u(k, 4) > 1)::int::float8 AS y
FROM generate_series(1, 1000) k;

CREATE TEMP TABLE m AS
SELECT scfrisk.xgb_train(f, y, '{"n_estimators": 10, "max_depth": 3, "monotone_constraints": [1, -1]}') AS model
FROM g;

-- the constraints are kept in the params; the score never falls as feature 1 grows
SELECT scfrisk.model_info(model)->'params'->'monotone_constraints' AS constraints FROM m;
SELECT bool_and(scfrisk.predict(model, ARRAY[a + 1, b, 0.5]) >= scfrisk.predict(model, ARRAY[a, b, 0.5])
				AND scfrisk.predict(model, ARRAY[a, b + 1, 0.5]) <= scfrisk.predict(model, ARRAY[a, b, 0.5])) AS monotone
FROM m, generate_series(0, 9) a, generate_series(0, 9) b;

-- training stores the distribution; psi of the training rows is 0
SELECT (scfrisk.model_governance(model)->'drift'->>'rows')::int AS rows,
	   jsonb_array_length(scfrisk.model_governance(model)->'drift'->'features') AS features,
	   scfrisk.model_governance(model)->'calibration' AS calibration
FROM m;
SELECT (scfrisk.psi(model, scfrisk.predict(model, f))->>'psi')::float8 = 0 AS zero_on_training FROM m, g;
SELECT (scfrisk.psi(model, scfrisk.predict(model, f))->>'psi')::float8 > 0.1 AS shifted
FROM m, g WHERE f[1] >= 5;
SELECT jsonb_array_length(scfrisk.csi(model, f)->'features') AS csi_features FROM m, g;

-- calibration
CREATE TEMP TABLE c AS
SELECT scfrisk.calibrate(model, f, y, 'platt') AS platt,
	   scfrisk.calibrate(model, f, y, 'isotonic') AS iso
FROM m, g WHERE k % 2 = 0 GROUP BY model;
SELECT scfrisk.model_governance(platt)->'calibration'->>'method' AS platt,
	   scfrisk.model_governance(iso)->'calibration'->>'method' AS iso,
	   scfrisk.model_kind(platt) AS kind
FROM c;
SELECT bool_and(abs(scfrisk.predict(platt, f) - scfrisk.calibrated_score(platt, scfrisk.xgb_predict(platt, f))) = 0)
	   AS predict_applies_the_map
FROM c, g;
-- psi reads raw scores: raw_score ignores the map, so the index is that of the uncalibrated model
SELECT bool_and(scfrisk.raw_score(platt, f) = scfrisk.predict(model, f)) AS raw_is_uncalibrated,
	   (SELECT scfrisk.psi(platt, scfrisk.raw_score(platt, f))->>'psi' FROM c, g WHERE f[1] >= 5)
	   = (SELECT scfrisk.psi(model, scfrisk.predict(model, f))->>'psi' FROM m, g WHERE f[1] >= 5) AS same_psi
FROM m, c, g;
-- a second calibration replaces the first
SELECT scfrisk.model_governance(scfrisk.calibrate(iso, f, y, 'platt'))->'calibration'->>'method' AS recalibrated
FROM c, g GROUP BY iso;
SELECT (t->>'rows')::int AS rows, jsonb_array_length(t->'bins') AS bins, (t->>'ece')::float8 < 0.5 AS ece_small
FROM (SELECT scfrisk.calibration_table(y, scfrisk.predict(platt, f), 5) AS t FROM c, g) s;

-- the registry records the PSI of the holdout at each retrain, for the candidate and the champion
-- (in a transaction rolled back, so the registry tests that follow see an empty registry)
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE TABLE gov_reg AS SELECT k, f AS features, y AS label FROM g;
SELECT scfrisk.register_training('gov', 'gbt', 'SELECT features, label FROM gov_reg WHERE k % 5 <> 0',
	'{"n_estimators": 5, "max_depth": 2}', '{"holdout_query": "SELECT features, label FROM gov_reg WHERE k % 5 = 0"}');
SELECT scfrisk.retrain_fit('gov') AS v1 \gset
SELECT scfrisk.deploy('gov', :v1);
-- new training rows (a retrain on unchanged rows would record 'unchanged' and no version)
DELETE FROM gov_reg WHERE k % 5 <> 0 AND k % 11 = 0;
SELECT scfrisk.retrain_fit('gov') AS v2 \gset
SELECT version, (metrics -> 'holdout' ->> 'psi')::float8 BETWEEN 0 AND 0.1 AS candidate_psi_small,
	   (metrics -> 'champion_holdout' ->> 'psi') IS NOT NULL AS champion_psi_recorded
FROM scfrisk.model_versions WHERE name = 'gov' ORDER BY version;
ROLLBACK;

-- rejections: monotone constraints
SELECT pg_temp.err($$SELECT scfrisk.xgb_train(f, y, '{"monotone_constraints": [1, 2]}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.xgb_train(f, y, '{"monotone_constraints": [0.5]}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.xgb_train(f, y, '{"monotone_constraints": "(1,-1)"}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.xgb_train(f, y, '{"monotone_constraints": [1, 0, 0, -1]}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.xgb_mlp_train(f, y, '{"xgb": {"monotone_constraints": [1]}}') FROM g$$);
-- rf_train and tree_train take XGBoost's semantics too; the same rejections
SELECT pg_temp.err($$SELECT scfrisk.rf_train(f, y, '{"monotone_constraints": [1, 2]}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.tree_train(f, y, '{"monotone_constraints": [1, 0, 0, -1]}') FROM g$$);
-- the first feature constrained up: the tree's score never falls as it grows
SELECT bool_and(scfrisk.predict(t.model, ARRAY[a + 1, b, 0.5]) >= scfrisk.predict(t.model, ARRAY[a, b, 0.5])) AS tree_monotone
FROM (SELECT scfrisk.tree_train(f, y, '{"max_depth": 6, "monotone_constraints": [1]}') AS model FROM g) t,
	 generate_series(0, 8) a, generate_series(0, 9) b;
-- and says so in model_info
SELECT scfrisk.model_info(scfrisk.xgb_mlp_train(f, y, '{"xgb": {"n_estimators": 3}, "mlp": {"hidden": [4], "epochs": 2}}'))
	   -> 'info' -> 'monotone' AS hybrid_monotone
FROM g;

-- calibrate as a training parameter: fitted on out-of-fold scores, stored, applied by predict
SELECT scfrisk.model_governance(scfrisk.nb_train(f, y, '{"calibrate": "isotonic"}')) -> 'calibration' ->> 'method' AS method
FROM g;
SELECT bool_and(scfrisk.predict(c.model, g.f) BETWEEN 0 AND 1) AS calibrated_probabilities
FROM g, (SELECT scfrisk.tree_train(f, y, '{"max_depth": 3, "calibrate": "platt"}') AS model FROM g) c;
-- rejections: calibrate
SELECT pg_temp.err($$SELECT scfrisk.tree_train(f, y, '{"calibrate": "sigmoid"}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.xgb_train(f, y, '{"calibrate": true}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.rf_train(f, y, '{"calibrate": "platt", "calibrate_folds": 1}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.rf_train(f, y, '{"calibrate": "platt", "calibrate_folds": 21}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.tree_train(f, y, '{"calibrate": "platt", "objective": "regression"}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.mlp_train(f, y, '{"calibrate": "isotonic", "objective": "reg:squarederror"}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.xgb_mlp_train(f, y, '{"xgb": {"calibrate": "platt"}}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.xgb_train(f, y, 1 + k % 2, '{"calibrate": "platt"}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.nb_train(f, y, '{"calibrate": "platt", "calibrate_folds": 20}') FROM g WHERE k <= 25$$);

-- rejections: drift
SELECT pg_temp.err($$SELECT scfrisk.psi(scfrisk.xgb_from_json(scfrisk.xgb_to_json(model)), 0.5) FROM m$$);
SELECT pg_temp.err($$SELECT scfrisk.psi(model, 1.5) FROM m$$);
SELECT pg_temp.err($$SELECT scfrisk.psi(NULL::bytea, 0.5)$$);
SELECT pg_temp.err($$SELECT scfrisk.psi(CASE WHEN k = 1 THEN model ELSE platt END, 0.5) FROM m, c, g$$);
SELECT pg_temp.err($$SELECT scfrisk.psi('\x00'::bytea, 0.5)$$);
SELECT pg_temp.err($$SELECT scfrisk.csi(model, ARRAY[1, 2]) FROM m$$);
SELECT pg_temp.err($$SELECT scfrisk.csi(model, NULL) FROM m$$);
SELECT pg_temp.err($$SELECT scfrisk.psi(q, 0.5)
	FROM (SELECT scfrisk.qrgmm_train(ARRAY[f[1]], f[3], '{}') AS q FROM g) s$$);

-- rejections: calibration
SELECT pg_temp.err($$SELECT scfrisk.calibration_table(2, 0.5)$$);
SELECT pg_temp.err($$SELECT scfrisk.calibration_table(1, 1.5)$$);
SELECT pg_temp.err($$SELECT scfrisk.calibration_table(1, 0.5, 0)$$);
SELECT pg_temp.err($$SELECT scfrisk.calibration_table(1, 0.5, NULL)$$);
SELECT pg_temp.err($$SELECT scfrisk.calibration_table(y, 0.5, k % 2 + 2) FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.calibrate(model, f, y, 'beta') FROM m, g GROUP BY model$$);
SELECT pg_temp.err($$SELECT scfrisk.calibrate(model, f, y, NULL) FROM m, g GROUP BY model$$);
SELECT pg_temp.err($$SELECT scfrisk.calibrate(model, f, 1, 'platt') FROM m, g GROUP BY model$$);
SELECT pg_temp.err($$SELECT scfrisk.calibrate(model, f, 0.5, 'platt') FROM m, g GROUP BY model$$);
SELECT pg_temp.err($$SELECT scfrisk.calibrate(model, ARRAY[1, 2], y, 'platt') FROM m, g GROUP BY model$$);
SELECT pg_temp.err($$SELECT scfrisk.calibrate(r, f, y, 'platt')
	FROM (SELECT scfrisk.xgb_train(f, y, '{"objective": "reg:squarederror", "n_estimators": 2}') AS r FROM g) s, g GROUP BY r$$);
SELECT pg_temp.err($$SELECT scfrisk.calibrated_score(model, 2) FROM m$$);
SELECT pg_temp.err($$SELECT scfrisk.raw_score(model, ARRAY[1]) FROM m$$);
