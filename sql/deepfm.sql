-- scfrisk QRGMM DeepFM: training, model_info, generation through the QRGMM
-- functions and the (numeric, categorical) overloads, every error.
-- Data: a law whose location and scale depend on an interaction of two
-- categorical fields, generated with a deterministic hash-based generator
-- so the data (and so the model bytes) are the same on every run.

CREATE FUNCTION pg_temp.u(k int, s int) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
	SELECT ((('x' || substr(md5(k::text || ':' || s::text), 1, 13))::bit(52)::bigint)::float8 + 0.5)
		/ 4503599627370496.0
$$;

CREATE TEMP TABLE d AS
SELECT k, ARRAY[2 * pg_temp.u(k, 1) - 1] AS num,
	   ARRAY[(k % 4), ((k / 4) % 3)]::int[] AS cat,
	   pg_temp.u(k, 2) AS u1, pg_temp.u(k, 3) AS u2
FROM generate_series(1, 1500) k;
ALTER TABLE d ADD COLUMN y float8;
-- y = 5 + x + (+-1.5 by the parity of a + b) + (0.3 + 0.5 [a = b]) Z
UPDATE d SET y = 5 + num[1] + CASE WHEN (cat[1] + cat[2]) % 2 = 0 THEN 1.5 ELSE -1.5 END
	+ (0.3 + 0.5 * (cat[1] = cat[2])::int) * sqrt(-2 * ln(u1)) * cos(2 * pi() * u2);

CREATE TEMP TABLE p AS SELECT
'{"k": 4, "layers": [32, 16], "m": 10, "epochs": 60, "batch_size": 64, "dropout": 0,
  "learning_rate": 0.005, "patience": 20, "transform": "identity", "threads": 1}'::jsonb AS params;

CREATE TEMP TABLE m AS
SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, (SELECT params FROM p)) AS model FROM d;

SELECT scfrisk.model_kind(model), i->>'n_features' AS n_features, i->'train_rows' AS rows,
	   i->'info'->'architecture' AS architecture, i->'info'->>'m' AS m,
	   i->'info'->>'transform' AS transform
FROM (SELECT model, scfrisk.model_info(model) AS i FROM m) s;
SELECT (i->>'epochs_run')::int BETWEEN 1 AND 60 AS trained,
	   (i->>'best_epoch')::int BETWEEN 1 AND (i->>'epochs_run')::int AS best_in_range,
	   jsonb_array_length(i->'log') = (i->>'epochs_run')::int AS full_log,
	   (i->'log'->0->>'train')::float8 > (i->>'best_train_loss')::float8 AS loss_fell,
	   i->>'unknown_bucket' AS unknown_bucket
FROM (SELECT scfrisk.model_info(model)->'info' AS i FROM m) s;
SELECT scfrisk.model_info(model)->'params' AS params FROM m;

-- the loan-risk functions take DeepFM models through the same curve dispatch
-- (covariates: the numeric field, then the two categorical ids)
SELECT count(*) AS levels,
	   bool_and(abs(r.pd - scfrisk.qrgmm_cdf(m.model, ARRAY[0.0, 1, 1], r.due)) < 1e-12) AS pd_is_cdf_at_due,
	   bool_and(r.pd BETWEEN 0 AND 1) AS pd_in_range
FROM m, scfrisk.loan_risk_curve(m.model, ARRAY[0.0, 1, 1], ARRAY[1, 2, 3, 4, 5]::float8[], '{}') r;
SELECT z.loan > 0 AS positive_loan, z.pd <= 0.05 + 1e-9 AS within_pd_limit
FROM m, scfrisk.loan_size(m.model, ARRAY[0.0, 1, 1], '{"pd_limit": 0.05}') z;

-- same data, params and seed: the same bytes, with 1 or 3 training threads
SELECT md5(model) = (SELECT md5(scfrisk.qrgmm_deepfm_train(num, cat, y, (SELECT params FROM p))) FROM d)
	AS deterministic,
	   md5(model) = (SELECT md5(scfrisk.qrgmm_deepfm_train(num, cat, y,
			(SELECT params || '{"threads": 3}' FROM p))) FROM d) AS same_with_threads
FROM m;

-- the curve: m + 1 sorted knots with flat tails; the overload is the same curve
SELECT array_length(c, 1) AS knots, c[1] = c[2] AS flat_low, c[10] = c[11] AS flat_high,
	   (SELECT bool_and(c[i] <= c[i + 1]) FROM generate_series(1, 10) i) AS sorted,
	   c = scfrisk.qrgmm_curve(model, ARRAY[0.2], ARRAY[1, 2]) AS overload_same
FROM (SELECT model, scfrisk.qrgmm_curve(model, ARRAY[0.2, 1, 2]) AS c FROM m) s;

-- tail rules: the same network with an exponential lower tail; only the curve's
-- outer knots differ from the flat model's (the first below the second)
SELECT i->>'tail' AS tail, i->>'tail_caveat' AS tail_caveat,
	   c[1] < c[2] AS sloped_low, c[11] > c[10] AS sloped_high, c[2:10] = f[2:10] AS same_inner,
	   scfrisk.model_info(m.model)->'info'->>'tail' AS flat_tail
FROM m, (SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, (SELECT params || '{"tail": "exponential"}' FROM p))
		 AS e FROM d) t,
	 LATERAL (SELECT scfrisk.model_info(e)->'info' AS i, scfrisk.qrgmm_curve(e, ARRAY[0.2, 1, 2]) AS c,
			  scfrisk.qrgmm_curve(m.model, ARRAY[0.2, 1, 2]) AS f) s;

-- the interaction: medians near 5 + x +- 1.5, spread wider when a = b (true ratio of the
-- 0.2..0.8 spreads: 0.8 / 0.3 = 2.67; 1,500 rows recover a good part of it)
SELECT a, b, abs(scfrisk.qrgmm_quantile(model, ARRAY[0.0], ARRAY[a, b], 0.5)
				 - (5 + CASE WHEN (a + b) % 2 = 0 THEN 1.5 ELSE -1.5 END)) < 0.4 AS median_close
FROM m, (VALUES (0, 0), (0, 1), (1, 2), (2, 2), (3, 1)) v(a, b) ORDER BY a, b;
SELECT (q1[2] - q1[1]) > 1.3 * (q2[2] - q2[1]) AS wider_when_equal
FROM (SELECT scfrisk.qrgmm_quantiles(model, ARRAY[0.0], ARRAY[1, 1], ARRAY[0.2, 0.8]) AS q1,
			 scfrisk.qrgmm_quantiles(model, ARRAY[0.0], ARRAY[1, 2], ARRAY[0.2, 0.8]) AS q2 FROM m) s;

-- every QRGMM function takes the model; the covariates are numeric then ids
SELECT scfrisk.qrgmm_quantiles(model, ARRAY[0.1, 3, 0], ARRAY[0.3, 0.6])
	   = scfrisk.qrgmm_quantiles(model, ARRAY[0.1], ARRAY[3, 0], ARRAY[0.3, 0.6]) AS quantiles_same,
	   scfrisk.qrgmm_cdf(model, ARRAY[0.1, 3, 0], 1e6) AS cdf_above,
	   scfrisk.qrgmm_cdf(model, ARRAY[0.1, 3, 0], -1e6) AS cdf_below,
	   array_length(scfrisk.qrgmm_sample_array(model, ARRAY[0.1, 3, 0], 100, 7), 1) AS draws,
	   scfrisk.qrgmm_crps(model, ARRAY[0.1, 3, 0], 5.0) > 0 AS crps_positive
FROM m;
SELECT count(*) AS n, array_agg(s ORDER BY s) = (SELECT array_agg(s ORDER BY s)
	FROM m, scfrisk.qrgmm_sample(model, ARRAY[0.1, 3, 0], 50, 7) s) AS overload_same
FROM m, scfrisk.qrgmm_sample(model, ARRAY[0.1], ARRAY[3, 0], 50, 7) s;
SELECT round(scfrisk.crps_mean(model, num || cat::float8[], y)::numeric, 1) < 0.6 AS crps_small
FROM m, d WHERE k <= 300;

-- ids never seen in training share the unknown bucket
SELECT scfrisk.qrgmm_quantile(model, ARRAY[0.0], ARRAY[99, 1], 0.5) IS NOT NULL AS unknown_id_scores,
	   scfrisk.qrgmm_quantile(model, ARRAY[0.0, 99, 1000000], 0.5) IS NOT NULL AS unknown_ids_scores
FROM m;

-- min_count: ids with fewer rows go to the unknown bucket
SELECT scfrisk.model_info(scfrisk.qrgmm_deepfm_train(num, cat, y,
	'{"k": 2, "layers": [4], "m": 4, "epochs": 1, "min_count": 400, "patience": 0}'))
	->'info'->'architecture'->'vocabulary_sizes' AS vocab FROM d;

-- refit: exact linear quantile regressions on the learned features, a finer grid
CREATE TEMP TABLE mr AS
SELECT scfrisk.qrgmm_deepfm_train(num, cat, y,
	(SELECT params || '{"refit": true, "refit_m": 30}' FROM p)) AS model FROM d;
SELECT i->'refit'->>'m' AS refit_m, i->'refit'->>'levels' AS refit_levels,
	   (i->'refit'->>'features')::int + (i->'refit'->>'dropped_features')::int
		= (i->'architecture'->>'head_inputs')::int AS features_accounted,
	   array_length(scfrisk.qrgmm_curve(model, ARRAY[0.2, 1, 2]), 1) AS knots
FROM (SELECT model, scfrisk.model_info(model)->'info' AS i FROM mr) s;
SELECT a, b, abs(scfrisk.qrgmm_quantile(model, ARRAY[0.0], ARRAY[a, b], 0.5)
				 - (5 + CASE WHEN (a + b) % 2 = 0 THEN 1.5 ELSE -1.5 END)) < 0.4 AS refit_median_close
FROM mr, (VALUES (0, 0), (1, 2)) v(a, b) ORDER BY a, b;
SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"refit_m": 10}') FROM d;
-- the largest usable refit_m depends on how many learned features survive: SQLSTATE only
\set VERBOSITY sqlstate
SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"refit": true, "refit_m": 1000, "layers": [4], "epochs": 1}') FROM d;
\set VERBOSITY default

-- bad input
SELECT scfrisk.qrgmm_deepfm_train(num, ARRAY[-1, 0], y, '{}') FROM d;
SELECT scfrisk.qrgmm_deepfm_train(num, ARRAY[NULL, 0]::int[], y, '{}') FROM d;
SELECT scfrisk.qrgmm_deepfm_train(num, CASE WHEN k = 5 THEN ARRAY[1] ELSE cat END, y, '{}') FROM d;
SELECT scfrisk.qrgmm_deepfm_train(ARRAY[NULL::float8], cat, y, '{}') FROM d;
SELECT scfrisk.qrgmm_deepfm_train(num, cat, 'NaN', '{}') FROM d;
SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{}') FROM d WHERE false;
SELECT scfrisk.qrgmm_deepfm_train(ARRAY[]::float8[], ARRAY[]::int[], y, '{}') FROM d;
SELECT scfrisk.qrgmm_deepfm_train(num, cat, -5, '{}') FROM d;
SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"embedding": 4}') FROM d;
SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"k": 0}') FROM d;
SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"k": 100000}') FROM d;
SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"layers": []}') FROM d;
SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"layers": [0]}') FROM d;
SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"layers": [100000]}') FROM d;
SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"layers": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}') FROM d;
SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"m": 1}') FROM d;
SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"learning_rate": 0}') FROM d;
SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"validation_share": 0}') FROM d;
SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"tail": "bogus"}') FROM d;
SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{"k": 256, "layers": [8]}')
FROM (SELECT array_fill(0.5::float8, ARRAY[20]) AS num, cat, y FROM d LIMIT 10) s;
-- scoring
SELECT scfrisk.qrgmm_quantile(model, ARRAY[0.0, 1], 0.5) FROM m;
SELECT scfrisk.qrgmm_quantile(model, ARRAY[0.0, -1, 1], 0.5) FROM m;
SELECT scfrisk.qrgmm_quantile(model, ARRAY[0.0, 1.5, 1], 0.5) FROM m;
SELECT scfrisk.qrgmm_quantile(model, ARRAY[0.0, 'NaN', 1], 0.5) FROM m;
SELECT scfrisk.qrgmm_quantile(model, ARRAY[0.0, 1, 3e9], 0.5) FROM m;
SELECT scfrisk.qrgmm_quantile(model, ARRAY[0.0], ARRAY[-2, 1], 0.5) FROM m;
SELECT scfrisk.qrgmm_quantile(model, ARRAY[0.0], ARRAY[NULL, 1]::int[], 0.5) FROM m;
SELECT scfrisk.qrgmm_quantile(model, ARRAY[0.0, 1.0], ARRAY[1], 0.5) FROM m;
SELECT scfrisk.qrgmm_quantile(model, ARRAY[0.0], ARRAY[1, 1], 1.5) FROM m;
SELECT scfrisk.qrgmm_curve(substring(model from 1 for 20), ARRAY[0.0, 1, 1]) FROM m;
-- sizes and checksums depend on the trained weights: print the SQLSTATE only
\set VERBOSITY sqlstate
SELECT scfrisk.qrgmm_curve(substring(model from 1 for length(model) - 10), ARRAY[0.0, 1, 1]) FROM m;
SELECT scfrisk.qrgmm_curve(overlay(model placing '\xffff'::bytea from 200), ARRAY[0.0, 1, 1]) FROM m;
\set VERBOSITY default
SELECT scfrisk.qrgmm_deepfm_covariates(scfrisk.qrgmm_train(x, y, '{"m": 4}'), ARRAY[0.0], ARRAY[1])
FROM (SELECT ARRAY[num[1], k::float8] AS x, y FROM d) s;
SELECT scfrisk.qrgmm_coefficients(model) FROM m;
