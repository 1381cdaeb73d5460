-- The XGBoost-MLP hybrid: training, selection, scoring, model_info,
-- determinism and every error (issue 4).  Trained floats are never printed
-- raw: tolerance booleans and rounded values only.
SET extra_float_digits = 0;
-- the label depends on features 2 and 4 only; 1, 3, 5 are noise, 3 is
-- sometimes missing
CREATE TABLE hyb_t AS
SELECT i,
	   ARRAY[sin(i * 1.1), cos(i * 0.37) * 3,
			 CASE WHEN i % 9 = 0 THEN NULL ELSE sin(i * 2.3) END,
			 sin(i * 0.53) * 2 + 10, cos(i * 1.9)]::float8[] AS x,
	   (CASE WHEN cos(i * 0.37) * 3 + (sin(i * 0.53) * 2) ^ 2 > 1.5 THEN 1 ELSE 0 END)::float8 AS y
FROM generate_series(1, 600) i;

CREATE TABLE hyb_m AS
SELECT scfrisk.xgb_mlp_train(x, y, '{"xgb": {"n_estimators": 40, "max_depth": 3, "feature_names": ["a", "b", "c", "d", "e"]},
	"mlp": {"hidden": [16], "epochs": 80, "batch_size": 32, "learning_rate": 0.01, "seed": 2},
	"threshold": 0.1}') AS m
FROM hyb_t;

SELECT scfrisk.model_kind(m), scfrisk.xgb_mlp_selected(m) AS selected,
	   scfrisk.model_info(m)->'info'->'mlp'->'layers' AS layers,
	   scfrisk.model_info(m)->'params'->>'importance_type' AS importance_type,
	   scfrisk.model_info(m)->'params'->'mlp'->'hidden' AS hidden,
	   scfrisk.model_info(m)->'feature_names' AS names,
	   (scfrisk.model_info(m)->>'train_rows')::int AS rows
FROM hyb_m;

-- the normalised importances sum to 1 and the kept ones reach the threshold
SELECT round(sum(v::float8)::numeric, 9) AS importance_sum,
	   bool_and(v::float8 >= 0.1) FILTER (WHERE o::int IN (2, 4)) AS kept_reach_threshold
FROM hyb_m, jsonb_array_elements_text(scfrisk.model_info(m)->'info'->'importance') WITH ORDINALITY AS e(v, o);

-- accuracy on the training rows; predict dispatches; missing values score
SELECT avg(((scfrisk.xgb_mlp_predict(m, x) >= 0.5)::int = y::int)::int) > 0.9 AS accurate,
	   bool_and(scfrisk.xgb_mlp_predict(m, x) = scfrisk.predict(m, x)) AS predict_dispatches,
	   bool_and(scfrisk.xgb_mlp_predict(m, x) BETWEEN 0 AND 1) AS probabilities
FROM hyb_t, hyb_m;
SELECT scfrisk.xgb_mlp_predict(m, ARRAY[NULL, NULL, NULL, NULL, NULL]::float8[]) BETWEEN 0 AND 1 AS missing_ok
FROM hyb_m;

-- same params, same bytes; the defaults (threshold 0.03, hidden [64, 32])
SELECT (SELECT scfrisk.xgb_mlp_train(x, y, '{"xgb": {"n_estimators": 40, "max_depth": 3, "feature_names": ["a", "b", "c", "d", "e"]},
	"mlp": {"hidden": [16], "epochs": 80, "batch_size": 32, "learning_rate": 0.01, "seed": 2},
	"threshold": 0.1}') FROM hyb_t) = m AS same_bytes
FROM hyb_m;
SELECT i->'mlp'->'layers'->-2 AS last_hidden, (i->>'threshold')::float8 AS threshold
FROM (SELECT scfrisk.model_info(scfrisk.xgb_mlp_train(x, y, '{"mlp": {"epochs": 2}}'))->'info' AS i FROM hyb_t) s;

-- GROUP BY trains one model per group
SELECT i % 2 AS part, scfrisk.model_kind(scfrisk.xgb_mlp_train(x, y, '{"xgb": {"n_estimators": 10}, "mlp": {"epochs": 2}, "threshold": 0.05}'))
FROM hyb_t GROUP BY i % 2 ORDER BY 1;

-- errors
SELECT scfrisk.xgb_mlp_train(x, y, '{"threshold": 0.99}') FROM hyb_t;
SELECT scfrisk.xgb_mlp_train(x, y, '{"threshold": 1.5}') FROM hyb_t;
SELECT scfrisk.xgb_mlp_train(x, y, '{"xgb": {"objective": "reg:squarederror"}}') FROM hyb_t;
SELECT scfrisk.xgb_mlp_train(x, y, '{"mlp": {"objective": "reg:squarederror"}}') FROM hyb_t;
-- the blend's forest classifies too, and keeps no monotonicity (its network does not)
SELECT scfrisk.xgb_mlp_train(x, y, '{"rf": {"objective": "regression"}}') FROM hyb_t;
SELECT scfrisk.xgb_mlp_train(x, y, '{"rf": {"monotone_constraints": [1]}}') FROM hyb_t;
SELECT scfrisk.xgb_mlp_train(x, y, '{"rf": {"trees": 10}}') FROM hyb_t;
SELECT scfrisk.xgb_mlp_train(x, y, '{"logreg": {"C": 0}}') FROM hyb_t;
SELECT scfrisk.xgb_mlp_train(x, y, '{"xgb": {"depth": 3}}') FROM hyb_t;
SELECT scfrisk.xgb_mlp_train(x, y, '{"importance_type": "shap"}') FROM hyb_t;
SELECT scfrisk.xgb_mlp_train(x, y, '{"xgb": {"feature_names": ["a"]}}') FROM hyb_t;
SELECT scfrisk.xgb_mlp_train(x, 1.0, '{}') FROM hyb_t;
SELECT scfrisk.xgb_mlp_train(x, y + 1, '{}') FROM hyb_t;
SELECT scfrisk.xgb_mlp_train(x, y, '{}') FROM hyb_t WHERE false;
SELECT scfrisk.xgb_mlp_train(CASE WHEN i = 7 THEN x[1:4] ELSE x END, y, '{}') FROM hyb_t;
SELECT scfrisk.xgb_mlp_predict(m, ARRAY[1, 2, 3]::float8[]) FROM hyb_m;
SELECT scfrisk.xgb_mlp_predict(m, ARRAY[1, 2, 'Infinity', 4, 5]::float8[]) FROM hyb_m;
SELECT scfrisk.xgb_mlp_predict((SELECT scfrisk.mlp_train(x, y, '{"epochs": 1}') FROM hyb_t), ARRAY[1, 2, 3, 4, 5]::float8[]);
-- corrupted bytes (the messages name sizes and checksums of trained bytes, so
-- only the SQLSTATE is shown)
DO $$
BEGIN
	PERFORM scfrisk.xgb_mlp_selected(substring(m from 1 for 40)) FROM hyb_m;
EXCEPTION WHEN data_corrupted THEN
	RAISE NOTICE 'truncated model refused with SQLSTATE %', SQLSTATE;
END $$;
DO $$
BEGIN
	PERFORM scfrisk.xgb_mlp_predict(overlay(m placing '\xff'::bytea from 60 for 1), ARRAY[1, 2, 3, 4, 5]::float8[]) FROM hyb_m;
EXCEPTION WHEN data_corrupted THEN
	RAISE NOTICE 'flipped byte refused with SQLSTATE %', SQLSTATE;
END $$;
