-- MLP and logistic regression: training, scoring, model_info, determinism,
-- partial dependence and every error (issue 4).  Trained floats are never
-- printed raw: tolerance booleans and rounded values only.
SET extra_float_digits = 0;
CREATE TABLE mlp_t AS
SELECT i,
	   ARRAY[sin(i * 0.7) * 3 + 10, cos(i * 1.3) * 2, (i % 7)::float8]::float8[] AS x,
	   (CASE WHEN sin(i * 0.7) * 3 + cos(i * 1.3) * 2 > 0.5 THEN 1 ELSE 0 END)::float8 AS y
FROM generate_series(1, 400) i;

CREATE TABLE mlp_m AS
SELECT scfrisk.mlp_train(x, y, '{"hidden": [16, 8], "epochs": 60, "batch_size": 32, "learning_rate": 0.01, "seed": 3}') AS m
FROM mlp_t;

SELECT scfrisk.model_kind(m), scfrisk.model_info(m)->'info'->'layers' AS layers,
	   scfrisk.model_info(m)->'params'->'hidden' AS hidden,
	   scfrisk.model_info(m)->'params'->>'activation' AS activation,
	   (scfrisk.model_info(m)->>'train_rows')::int AS rows
FROM mlp_m;

-- accuracy on the training rows, scores in [0, 1]
SELECT avg(((scfrisk.mlp_predict(m, x) >= 0.5)::int = y::int)::int) > 0.95 AS accurate,
	   bool_and(scfrisk.mlp_predict(m, x) BETWEEN 0 AND 1) AS probabilities
FROM mlp_t, mlp_m;

-- same seed, same bytes; another seed, other bytes
SELECT (SELECT scfrisk.mlp_train(x, y, '{"hidden": [16, 8], "epochs": 60, "batch_size": 32, "learning_rate": 0.01, "seed": 3}') FROM mlp_t) = m AS same_seed_same_bytes,
	   (SELECT scfrisk.mlp_train(x, y, '{"hidden": [16, 8], "epochs": 60, "batch_size": 32, "learning_rate": 0.01, "seed": 4}') FROM mlp_t) <> m AS other_seed_other_bytes
FROM mlp_m;

-- defaults: hidden [64, 32]; early stopping and missing indicators
SELECT scfrisk.model_info(scfrisk.mlp_train(x, y, '{"epochs": 2}'))->'info'->'layers' AS default_layers
FROM mlp_t;
SELECT (i->>'epochs_run')::int < 500 AS stopped_early,
	   (i->>'best_epoch')::int <= (i->>'epochs_run')::int AS kept_best,
	   (i->>'missing_indicators')::int AS indicators,
	   i->'layers' AS layers
FROM (SELECT scfrisk.model_info(scfrisk.mlp_train(
			CASE WHEN t.i % 10 = 0 THEN ARRAY[NULL, x[2], x[3]]::float8[] ELSE x END, y,
			'{"hidden": [8], "epochs": 500, "early_stopping_rounds": 5, "validation_share": 0.2, "learning_rate": 0.05, "missing_indicator": true, "dropout": 0.1, "class_weight": "balanced"}'))->'info' AS i
	  FROM mlp_t t) s;
-- NULL and NaN elements are missing at scoring
SELECT scfrisk.mlp_predict(m, ARRAY[NULL, 0, 1]::float8[]) BETWEEN 0 AND 1 AS null_ok,
	   scfrisk.mlp_predict(m, ARRAY['NaN', 0, 1]::float8[]) = scfrisk.mlp_predict(m, ARRAY[NULL, 0, 1]::float8[]) AS nan_is_null
FROM mlp_m;

-- regression objective
SELECT avg((scfrisk.mlp_predict(r.m, x) - (x[1] + x[2]))^2) < 0.1 AS regression_fits
FROM mlp_t, (SELECT scfrisk.mlp_train(x, x[1] + x[2], '{"objective": "reg:squarederror", "hidden": [16], "epochs": 100, "batch_size": 16, "learning_rate": 0.01}') AS m FROM mlp_t) r;

-- bytea round trip through text
SELECT decode(encode(m, 'base64'), 'base64') = m AS round_trip,
	   scfrisk.mlp_predict(decode(encode(m, 'hex'), 'hex'), ARRAY[10, 1, 2]::float8[]) = scfrisk.mlp_predict(m, ARRAY[10, 1, 2]::float8[]) AS same_score
FROM mlp_m;

-- partial dependence: mean prediction per grid value of feature 1 rises with it
SELECT array_length(pd, 1) AS n, pd[1] < pd[3] AS rising, pd[1] BETWEEN 0 AND 1 AS bounded
FROM (SELECT scfrisk.partial_dependence(m, x, 1, ARRAY[7, 10, 13]::float8[]) AS pd FROM mlp_t, mlp_m) s;

-- errors
SELECT scfrisk.mlp_train(x, y, '{"hidden": []}') FROM mlp_t;
SELECT scfrisk.mlp_train(x, y, '{"hidden": [4096, 4096, 4096]}') FROM mlp_t;
SELECT scfrisk.mlp_train(x, y, '{"hidden": [0]}') FROM mlp_t;
SELECT scfrisk.mlp_train(x, y, '{"hiden": [4]}') FROM mlp_t;
SELECT scfrisk.mlp_train(x, y, '{"dropout": 1}') FROM mlp_t;
SELECT scfrisk.mlp_train(x, y + 1, '{}') FROM mlp_t;
SELECT scfrisk.mlp_train(x, 'NaN', '{}') FROM mlp_t;
SELECT scfrisk.mlp_train(x, 1, '{}') FROM mlp_t;
SELECT scfrisk.mlp_train(x[1:i % 2 + 1], y, '{}') FROM mlp_t;
SELECT scfrisk.mlp_train(x, y, '{}') FROM mlp_t WHERE false;
SELECT scfrisk.mlp_train(ARRAY[]::float8[], 1, '{}');
SELECT scfrisk.mlp_train(ARRAY[1, 'Infinity']::float8[], 1, '{}');
SELECT scfrisk.mlp_predict(m, ARRAY[1, 2]::float8[]) FROM mlp_m;
SELECT scfrisk.mlp_predict(set_byte(m, 0, 0), ARRAY[1, 2, 3]::float8[]) FROM mlp_m;
SELECT scfrisk.mlp_predict(substring(m from 1 for 20), ARRAY[1, 2, 3]::float8[]) FROM mlp_m;

-- ---------------------------------------------------------------- logistic regression
CREATE TABLE lr_m AS
SELECT scfrisk.logreg_train(x, y, '{"C": 0.5}') AS m FROM mlp_t;
SELECT scfrisk.model_kind(m), jsonb_array_length(scfrisk.model_info(m)->'info'->'coef') AS n_coef,
	   (scfrisk.model_info(m)->'info'->>'converged')::bool AS converged,
	   scfrisk.model_info(m)->'params' AS params
FROM lr_m;
SELECT avg(((scfrisk.logreg_predict(m, x) >= 0.5)::int = y::int)::int) > 0.9 AS accurate
FROM mlp_t, lr_m;
-- the logit is linear: predict matches the coefficients in model_info
SELECT abs(ln(p / (1 - p)) - (b + c1 * 10 + c2 * 1 + c3 * 2)) < 1e-9 AS coefficients_visible
FROM (SELECT scfrisk.logreg_predict(m, ARRAY[10, 1, 2]::float8[]) AS p,
			 (scfrisk.model_info(m)->'info'->>'intercept')::float8 AS b,
			 (scfrisk.model_info(m)->'info'->'coef'->>0)::float8 AS c1,
			 (scfrisk.model_info(m)->'info'->'coef'->>1)::float8 AS c2,
			 (scfrisk.model_info(m)->'info'->'coef'->>2)::float8 AS c3
	  FROM lr_m) s;
SELECT array_length(scfrisk.partial_dependence(m, x, 2, ARRAY[-1, 0, 1]::float8[]), 1) AS pd_logreg
FROM mlp_t, lr_m;
SELECT scfrisk.logreg_train(x, y, '{"C": 0}') FROM mlp_t;
SELECT scfrisk.logreg_train(ARRAY[x[1], NULL], y, '{}') FROM mlp_t;
SELECT scfrisk.logreg_train(x, 0, '{}') FROM mlp_t;
SELECT scfrisk.logreg_train(x, y * 2, '{}') FROM mlp_t;
SELECT scfrisk.logreg_predict(m, ARRAY[1, NULL, 3]::float8[]) FROM lr_m;
SELECT scfrisk.mlp_predict(m, ARRAY[1, 2, 3]::float8[]) FROM lr_m;
SELECT scfrisk.logreg_predict(m, ARRAY[1, 2, 3]::float8[]) FROM mlp_m;
SELECT scfrisk.partial_dependence(m, x, 4, ARRAY[1]::float8[]) FROM mlp_t, lr_m;
SELECT scfrisk.partial_dependence(m, x, 1, ARRAY[]::float8[]) FROM mlp_t, lr_m;
-- the memory cap covers the collected rows
SET scfrisk.max_memory_mb = 1;
SELECT scfrisk.mlp_train(ARRAY[i, i, i, i, i, i, i, i]::float8[], i % 2, '{}') FROM generate_series(1, 20000) i;
RESET scfrisk.max_memory_mb;
