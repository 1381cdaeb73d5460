-- scfrisk QRGMM: training, generation, evaluation, errors.
-- Data: Test Problem 1 of the QRGMM authors (normal, heteroscedastic, linear
-- quantiles), generated with a deterministic hash-based generator so the
-- data (and so the model bytes) are the same on every run.

-- uniform in (0,1) from an integer key and a stream
CREATE FUNCTION pg_temp.u(k int, s int) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
	SELECT ((('x' || substr(md5(k::text || ':' || s::text), 1, 13))::bit(52)::bigint)::float8 + 0.5)
		/ 4503599627370496.0
$$;

CREATE TEMP TABLE tp1 AS
SELECT k,
	   ARRAY[10 * pg_temp.u(k, 1), 10 * pg_temp.u(k, 2) - 5, 5 * pg_temp.u(k, 3)] AS x,
	   pg_temp.u(k, 4) AS u1, pg_temp.u(k, 5) AS u2
FROM generate_series(1, 3000) k;
ALTER TABLE tp1 ADD COLUMN y float8;
-- Box-Muller normal, Y = mean + sd * Z
UPDATE tp1 SET y = 5 + x[1] + 2 * x[2] + 0.5 * x[3]
	+ (1 + 0.1 * x[1] + 0.2 * x[2] + 0.05 * x[3]) * sqrt(-2 * ln(u1)) * cos(2 * pi() * u2);

CREATE TEMP TABLE m AS
SELECT scfrisk.qrgmm_train(x, y, '{"m": 20, "transform": "identity", "tail": "flat"}') AS model FROM tp1;

SELECT scfrisk.model_kind(model), length(model) > 500 AS has_body FROM m;
SELECT i->>'m' AS m, i->>'levels' AS levels, i->>'p' AS p, i->>'degree' AS degree,
	   i->>'transform' AS transform, i->>'solver' AS solver,
	   (i->>'max_gap')::float8 < 1e-9 AS converged,
	   (i->>'crossing_rate')::float8 < 0.01 AS few_crossings,
	   (i->>'iterations_total')::int > 0 AS iterated
FROM (SELECT scfrisk.model_info(model)->'info' AS i FROM m) s;
SELECT scfrisk.model_info(model)->'params' AS params,
	   scfrisk.model_info(model)->'train_rows' AS rows FROM m;

-- same data and params, same bytes
SELECT md5(model) = (SELECT md5(scfrisk.qrgmm_train(x, y, '{"m": 20, "transform": "identity", "tail": "flat"}')) FROM tp1)
	AS deterministic FROM m;

-- the curve: m + 1 sorted knots with flat tails
SELECT array_length(c, 1) AS knots, c[1] = c[2] AS flat_low, c[20] = c[21] AS flat_high,
	   (SELECT bool_and(c[i] <= c[i + 1]) FROM generate_series(1, 20) i) AS sorted
FROM (SELECT scfrisk.qrgmm_curve(model, ARRAY[6, 1, 2]) AS c FROM m) s;

-- linear tails: the same fit, outer knots extending the first and last fitted
-- segments, no atom at the first knot (P(S < q_1) = 1/m)
SELECT abs((c[2] - c[1]) - (c[3] - c[2])) < 1e-9 AS low_extends, abs((c[21] - c[20]) - (c[20] - c[19])) < 1e-9 AS high_extends,
	   abs(scfrisk.qrgmm_cdf(lm, ARRAY[6, 1, 2], c[2]) - 1.0 / 20) < 1e-12 AS no_atom,
	   scfrisk.qrgmm_cdf(model, ARRAY[6, 1, 2], (scfrisk.qrgmm_curve(model, ARRAY[6, 1, 2]))[2]) = 0 AS flat_atom,
	   scfrisk.model_info(lm)->'info'->>'tail' AS tail
FROM m, (SELECT scfrisk.qrgmm_train(x, y, '{"m": 20, "transform": "identity", "tail": "linear"}') AS lm FROM tp1) l,
	 LATERAL scfrisk.qrgmm_curve(lm, ARRAY[6, 1, 2]) AS c;

-- exponential lower tail: with m = 20 it is fitted to the two lowest knots,
-- slope b = (q_2 - q_1) / ln 2; on the identity scale the outer segment
-- drops by 2 b (its mean is the tail's, q_1 - b); the upper tail as linear
SELECT abs((c[2] - c[1]) - 2 * (c[3] - c[2]) / ln(2)) < 1e-9 AS low_exponential,
	   abs((c[21] - c[20]) - (c[20] - c[19])) < 1e-9 AS high_extends,
	   scfrisk.model_info(em)->'info'->>'tail' AS tail
FROM (SELECT scfrisk.qrgmm_train(x, y, '{"m": 20, "transform": "identity", "tail": "exponential"}') AS em FROM tp1) e,
	 LATERAL scfrisk.qrgmm_curve(em, ARRAY[6, 1, 2]) AS c;
-- generalized Pareto lower tail: with m = 20 the threshold is knot 2 (level
-- 0.1) and the spacing that of knots 2 and 10; the knot below is the GPD's
-- quantile q_2 - scale (q_10 - q_2) ((1/2)^-shape - 1) / shape (to the 6 digits of
-- model_info), 10% of the 3,000 rows lie below it; the upper tail as linear
SELECT abs(c[2] - (c[3] - (i->>'gpd_scale')::float8 * (c[11] - c[3])
					* (power(0.5, -(i->>'gpd_shape')::float8) - 1) / (i->>'gpd_shape')::float8)) < 1e-4 AS low_gpd,
	   abs((c[21] - c[20]) - (c[20] - c[19])) < 1e-9 AS high_extends,
	   i->>'tail' AS tail, (i->>'gpd_threshold_level')::float8 AS threshold,
	   (i->>'gpd_spacing_level')::float8 AS spacing, (i->>'gpd_shape')::float8 BETWEEN -0.5 AND 0.5 AS shape_in_range,
	   (i->>'gpd_exceedances')::int BETWEEN 200 AND 400 AS exceedances
FROM (SELECT scfrisk.qrgmm_train(x, y, '{"m": 20, "transform": "identity", "tail": "gpd"}') AS gm FROM tp1) g,
	 LATERAL scfrisk.qrgmm_curve(gm, ARRAY[6, 1, 2]) AS c,
	 LATERAL (SELECT scfrisk.model_info(gm)->'info') AS mi(i);
-- the gpd tail is the default (issue 16): the same bytes without "tail"
SELECT md5(scfrisk.qrgmm_train(x, y, '{"m": 20, "transform": "identity", "tail": "gpd"}'))
	   = md5(scfrisk.qrgmm_train(x, y, '{"m": 20, "transform": "identity"}')) AS gpd_by_default
FROM tp1;
-- the gpd rule tests the pooling of the exceedances: when 20% of the rows
-- (covariate 1 = 1) have a lower tail far heavier relative to their body
-- (e^2 instead of e, e exponential), one shape and scale cannot serve both,
-- and the model takes the exponential tail and says why; "gpd_pooled" keeps
-- the pooled GPD (the F statistic is about 14 against the critical 7.07)
CREATE TEMP TABLE tpg AS
SELECT ARRAY[(k % 5 = 0)::int::float8, ((k * 7919) % 1000) / 1000.0] AS x,
	   20 + 2 * ((k * 7919) % 1000) / 1000.0
	   - CASE WHEN k % 5 = 0 THEN power(-ln(((k * 104729) % 9973 + 0.5) / 9973.0), 2)
			  ELSE -ln(((k * 104729) % 9973 + 0.5) / 9973.0) END AS y
FROM generate_series(1, 3000) k;
SELECT r AS rule, i->>'tail' AS tail, i->>'gpd_pooling' LIKE 'rejected: the mean exceedance moves%' AS pooling_rejected,
	   (i->>'gpd_shape') IS NOT NULL AS has_shape
FROM (VALUES ('gpd'), ('gpd_pooled')) AS v(r),
	 LATERAL (SELECT scfrisk.model_info(scfrisk.qrgmm_train(x, y, jsonb_build_object('m', 20, 'transform', 'identity', 'tail', r)))->'info'
			  FROM tpg) AS mi(i)
ORDER BY r;
-- a grid too coarse for a threshold below the median keeps the exponential rule
SELECT scfrisk.model_info(scfrisk.qrgmm_train(x, y, '{"m": 4, "transform": "identity"}'))->'info'->>'tail' AS coarse_tail
FROM tp1;

-- quantiles against the truth at x0 = (6, 1, 2): mean 14, sd 1.9
SELECT t, abs(scfrisk.qrgmm_quantile(model, ARRAY[6, 1, 2], t) - (14 + 1.9 * z)) < 0.4 AS close
FROM m, (VALUES (0.1, -1.2815515655), (0.25, -0.6744897502), (0.5, 0.0),
				(0.75, 0.6744897502), (0.9, 1.2815515655)) v(t, z)
ORDER BY t;
SELECT scfrisk.qrgmm_quantiles(model, ARRAY[6, 1, 2], ARRAY[0.25, 0.5])
	= ARRAY[scfrisk.qrgmm_quantile(model, ARRAY[6, 1, 2], 0.25),
			scfrisk.qrgmm_quantile(model, ARRAY[6, 1, 2], 0.5)] AS same FROM m;

-- cdf inverts the quantile on the increasing part, is 0 / 1 outside
SELECT round(scfrisk.qrgmm_cdf(model, ARRAY[6, 1, 2],
							   scfrisk.qrgmm_quantile(model, ARRAY[6, 1, 2], 0.37))::numeric, 9) AS f,
	   scfrisk.qrgmm_cdf(model, ARRAY[6, 1, 2], -1e6) AS below,
	   scfrisk.qrgmm_cdf(model, ARRAY[6, 1, 2], 1e6) AS above
FROM m;

-- sampling: seeded and reproducible, SETOF and array agree
SELECT count(*) AS n, abs(avg(s) - 14) < 0.1 AS mean_ok
FROM m, scfrisk.qrgmm_sample(model, ARRAY[6, 1, 2], 20000, 7) s;
SELECT (SELECT array_agg(s) FROM scfrisk.qrgmm_sample(model, ARRAY[6, 1, 2], 1000, 7) s)
	= scfrisk.qrgmm_sample_array(model, ARRAY[6, 1, 2], 1000, 7) AS setof_eq_array,
	   scfrisk.qrgmm_sample_array(model, ARRAY[6, 1, 2], 1000, 7)
	= scfrisk.qrgmm_sample_array(model, ARRAY[6, 1, 2], 1000, 7) AS reproducible,
	   scfrisk.qrgmm_sample_array(model, ARRAY[6, 1, 2], 1000, 7)
	<> scfrisk.qrgmm_sample_array(model, ARRAY[6, 1, 2], 1000, 8) AS seed_matters
FROM m;
-- stratified: sorted draws at (k - 0.5)/n, seed ignored (may be NULL)
SELECT a = (SELECT array_agg(scfrisk.qrgmm_quantile(model, ARRAY[6, 1, 2], (k - 0.5) / 5)
							 ORDER BY k) FROM generate_series(1, 5) k) AS on_curve
FROM m, LATERAL (SELECT scfrisk.qrgmm_sample_array(model, ARRAY[6, 1, 2], 5, NULL, 'stratified') a) s;
SELECT count(*) FROM m, scfrisk.qrgmm_sample(model, ARRAY[6, 1, 2], 0, 1) s;
SELECT scfrisk.qrgmm_sample_array(model, ARRAY[6, 1, 2], 0, 1) FROM m;

-- evaluation
SELECT round(scfrisk.pinball_loss(3, 1, 0.9)::numeric, 12) AS under,
	   round(scfrisk.pinball_loss(1, 3, 0.9)::numeric, 12) AS over;
SELECT round(scfrisk.crps(ARRAY[1, 2, 3, 4], 2.5)::numeric, 6) AS crps_samples;
-- exact CRPS of the model vs the sample CRPS of 20000 stratified draws
SELECT abs(scfrisk.qrgmm_crps(model, ARRAY[6, 1, 2], 15)
		   - scfrisk.crps(scfrisk.qrgmm_sample_array(model, ARRAY[6, 1, 2], 20000, NULL, 'stratified'), 15))
	   < 1e-3 AS crps_agree
FROM m;
SELECT abs(scfrisk.crps_mean(model, x, y) -
		   avg(scfrisk.qrgmm_crps(model, x, y))) < 1e-12 AS agg_ok,
	   scfrisk.crps_mean(model, x, y) < 1.5 AS plausible
FROM m, (SELECT x, y FROM tp1 WHERE k <= 200) t GROUP BY model;
SELECT scfrisk.crps_mean(s, y) IS NULL AS empty_is_null
FROM (SELECT ARRAY[1.0::float8] s, 1.0::float8 y WHERE false) e;

-- log1p (default) keeps sales above -1 and matches exp-scale quantiles
CREATE TEMP TABLE sales AS
SELECT ARRAY[pg_temp.u(k, 6) * 4] AS x, exp(2 + pg_temp.u(k, 6) + 0.3 * (pg_temp.u(k, 7) - 0.5)) - 1 AS s
FROM generate_series(1, 1000) k;
CREATE TEMP TABLE ms AS SELECT scfrisk.qrgmm_train(x, s, '{"m": 10}') AS model FROM sales;
SELECT scfrisk.model_info(model)->'info'->>'transform' AS transform,
	   abs(scfrisk.qrgmm_quantile(model, ARRAY[0.5], 0.5)
		   - (exp((scfrisk.qrgmm_curve(model, ARRAY[0.5]))[6]) - 1)) < 1e-9 AS back_transformed,
	   (SELECT min(v) FROM scfrisk.qrgmm_sample(model, ARRAY[0.5], 1000, 1) v) > -1 AS above_minus_one
FROM ms;

-- GROUP BY gives one model per segment; the cubic basis
SELECT g, scfrisk.model_info(scfrisk.qrgmm_train(x, y, '{"m": 10, "degree": 2, "transform": "identity"}'))->'info'->>'p' AS p
FROM (SELECT k % 2 AS g, x, y FROM tp1) t GROUP BY g ORDER BY g;

-- ---------------------------------------------------------------- errors
-- bad params
SELECT scfrisk.qrgmm_train(x, y, '{"m": 1}') FROM tp1;
SELECT scfrisk.qrgmm_train(x, y, '{"degree": 4}') FROM tp1;
SELECT scfrisk.qrgmm_train(x, y, '{"transform": "log"}') FROM tp1;
SELECT scfrisk.qrgmm_train(x, y, '{"nope": 1}') FROM tp1;
-- m too large for n names the largest usable m
SELECT scfrisk.qrgmm_train(x, y, '{"m": 2000, "transform": "identity"}') FROM tp1 WHERE k <= 100;
-- NaN and infinite responses, log1p below -1
SELECT scfrisk.qrgmm_train(x, y, '{}') FROM (VALUES (ARRAY[1.0::float8], 'NaN'::float8)) v(x, y);
SELECT scfrisk.qrgmm_train(x, y, '{}') FROM (VALUES (ARRAY[1.0::float8], 'Infinity'::float8)) v(x, y);
SELECT scfrisk.qrgmm_train(x, y - 100, '{"m": 10}') FROM tp1;
-- p > n, constant and duplicate columns, width changes, NULL elements, no rows
SELECT scfrisk.qrgmm_train(x, y, '{"transform": "identity"}') FROM tp1 WHERE k <= 3;
SELECT scfrisk.qrgmm_train(ARRAY[x[1], 2.0], y, '{"m": 10, "transform": "identity"}') FROM tp1;
SELECT scfrisk.qrgmm_train(ARRAY[x[1], x[2], x[1]], y, '{"m": 10, "transform": "identity"}') FROM tp1;
SELECT scfrisk.qrgmm_train(CASE WHEN k = 5 THEN ARRAY[1.0::float8] ELSE x END, y, '{}') FROM tp1;
SELECT scfrisk.qrgmm_train(ARRAY[NULL::float8], 1.0, '{}');
SELECT scfrisk.qrgmm_train(x, y, '{}') FROM tp1 WHERE false;
-- NULL rows are skipped
SELECT scfrisk.qrgmm_train(x, CASE WHEN k = 5 THEN NULL ELSE y END, '{"m": 10, "transform": "identity"}') IS NOT NULL
	AS null_skipped FROM tp1;
-- scoring errors: tau, width, NaN, NULL n and seed, mode, kind, corruption
SELECT scfrisk.qrgmm_quantile(model, ARRAY[6, 1, 2], 1.0) FROM m;
SELECT scfrisk.qrgmm_quantile(model, ARRAY[6, 1, 2], 0) FROM m;
SELECT scfrisk.qrgmm_quantiles(model, ARRAY[6, 1, 2], ARRAY[0.5, 'NaN']) FROM m;
SELECT scfrisk.qrgmm_quantile(model, ARRAY[6, 1], 0.5) FROM m;
SELECT scfrisk.qrgmm_quantile(model, ARRAY[6, 'NaN', 2]::float8[], 0.5) FROM m;
SELECT scfrisk.qrgmm_quantile(model, ARRAY[6, NULL, 2], 0.5) FROM m;
SELECT scfrisk.qrgmm_cdf(model, ARRAY[6, 1, 2], 'NaN') FROM m;
SELECT count(*) FROM m, scfrisk.qrgmm_sample(model, ARRAY[6, 1, 2], NULL, 1) s;
SELECT count(*) FROM m, scfrisk.qrgmm_sample(model, ARRAY[6, 1, 2], 10, NULL) s;
SELECT scfrisk.qrgmm_sample_array(model, ARRAY[6, 1, 2], NULL, 1) FROM m;
SELECT scfrisk.qrgmm_sample_array(model, ARRAY[6, 1, 2], -1, 1) FROM m;
SELECT scfrisk.qrgmm_sample_array(model, ARRAY[6, 1, 2], 10, 1, 'sobol') FROM m;
SELECT scfrisk.qrgmm_sample_array(NULL, ARRAY[6, 1, 2], 10, 1) IS NULL AS null_model;
SELECT scfrisk.pinball_loss(1, 2, 1.5);
SELECT scfrisk.crps(ARRAY[]::float8[], 1);
-- a model of another kind
SELECT scfrisk.qrgmm_quantile(decode('5343465201000100000000000100000000000000000000000000000000', 'hex')
	|| ''::bytea, ARRAY[1.0], 0.5);
-- corrupted bytes: a flipped body byte fails the checksum, truncation fails the length
CREATE FUNCTION pg_temp.sqlstate(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ' ' || (SQLERRM LIKE '%checksum mismatch%' OR SQLERRM LIKE '%payload of%')::text;
END $$;
SELECT pg_temp.sqlstate('SELECT scfrisk.qrgmm_quantile(set_byte(model, length(model) - 3, '
						'get_byte(model, length(model) - 3) # 1), ARRAY[6, 1, 2], 0.5) FROM m') AS flipped;
SELECT pg_temp.sqlstate('SELECT scfrisk.qrgmm_quantile(substr(model, 1, 100), ARRAY[6, 1, 2], 0.5) FROM m') AS truncated;
SELECT scfrisk.qrgmm_curve('\x00'::bytea, ARRAY[1.0]);
