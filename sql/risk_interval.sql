-- Bootstrap replicates of QRGMM and the interval of a loan's PD and EL
-- (issue 16, docs/risk.md "How sure is the number"): shapes, determinism,
-- the point against loan_risk_curve, then every error with its SQLSTATE.
-- Trained floats are never printed raw: booleans only.
SET extra_float_digits = 0;
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- log sales = 6 + 0.1 x + 0.3 z on 600 deterministic rows
CREATE TEMP TABLE bd AS
SELECT i, ARRAY[(i % 10)::float8] AS x,
	   exp(6 + 0.1 * (i % 10) + 0.3 * (CASE WHEN u < 0.5 THEN -sqrt(-2 * ln(2 * u)) ELSE sqrt(-2 * ln(2 * (1 - u))) END)) AS y
FROM (SELECT i, (((i * 7919) % 600) + 0.5) / 600.0 AS u FROM generate_series(1, 600) i) s;
CREATE TEMP TABLE bm AS
SELECT (SELECT scfrisk.qrgmm_train(x, y, '{"m": 20}') FROM bd) AS model,
	   (SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 20}', 8, 3) FROM (SELECT * FROM bd ORDER BY i) o) AS reps,
	   (SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 20}', 8, 3) FROM (SELECT * FROM bd ORDER BY i DESC) o) AS reps_desc,
	   (SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 20}', 8, 4) FROM bd) AS reps_seed4;

-- 8 ordinary qrgmm_linear models; the same bytes in any scan order; another seed, other bytes
SELECT array_length(reps, 1) AS replicates,
	   (SELECT bool_and(scfrisk.model_info(r)->>'kind' = 'qrgmm_linear') FROM unnest(reps) r) AS all_qrgmm,
	   reps = reps_desc AS order_free,
	   reps <> reps_seed4 AS seed_matters,
	   (SELECT count(DISTINCT r) FROM unnest(reps) r) = 8 AS distinct_replicates
FROM bm;
-- the same bytes for any thread count (the fits' levels run on scfrisk.threads workers)
SET scfrisk.threads = 1;
CREATE TEMP TABLE bt1 AS SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 20}', 8, 3) AS reps FROM bd;
SET scfrisk.threads = 2;
CREATE TEMP TABLE bt2 AS SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 20}', 8, 3) AS reps FROM bd;
RESET scfrisk.threads;
SELECT bt1.reps = bt2.reps AS thread_free, bt1.reps = bm.reps AS same_as_before FROM bt1, bt2, bm;
-- the defaults: 100 replicates
SELECT array_length(scfrisk.qrgmm_bootstrap(x, y, '{"m": 5}'), 1) AS default_replicates FROM bd WHERE i <= 100;
SELECT array_length(scfrisk.qrgmm_bootstrap(x, y, '{"m": 5}', 3), 1) AS three FROM bd WHERE i <= 100;

-- the point is the model's (loan_risk_curve at the same loan); the intervals are ordered
SELECT i.replicates, i.level, i.tail_resolved = c.tail_resolved AS same_flag,
	   i.pd = c.pd AND i.el = c.el AS point_is_the_model,
	   i.pd_lower <= i.pd_upper AND i.pd_lower >= 0 AND i.pd_upper <= 1 AS pd_ordered,
	   i.el_lower <= i.el_upper AND i.el_lower >= 0 AS el_ordered,
	   i.pd_lower < i.pd_upper AS pd_varies
FROM bm, scfrisk.loan_risk_interval(model, reps, ARRAY[5.0], 450, 0.8, '{"rate": 0.02}') i,
	 scfrisk.loan_risk_curve(model, ARRAY[5.0], ARRAY[450.0], '{"rate": 0.02}') c;
-- VaR and CVaR (at the terms' level) are the model's too; every interval is ordered
SELECT i.var = c.var AND i.cvar = c.cvar AS var_cvar_are_the_model, i.var_level,
	   i.var_lower <= i.var_upper AND i.cvar_lower <= i.cvar_upper AS var_cvar_ordered,
	   i.var_lower >= 0 AND i.cvar_lower >= i.var_lower AS cvar_above_var,
	   i.method
FROM bm, scfrisk.loan_risk_interval(model, reps, ARRAY[5.0], 450, 0.8, '{"rate": 0.02, "level": 0.9}') i,
	 scfrisk.loan_risk_curve(model, ARRAY[5.0], ARRAY[450.0], '{"rate": 0.02, "level": 0.9}') c;
-- the percentile interval (the default) and the bias-corrected one: the same point and
-- replicates, ends read at other quantiles of the same replicates
SELECT p.method, b.method, p.pd = b.pd AND p.el = b.el AND p.cvar = b.cvar AS same_point,
	   b.pd_lower >= (SELECT min(r.pd) FROM unnest(reps) u(m), scfrisk.loan_risk_curve(m, ARRAY[5.0], ARRAY[450.0]) r)
	   AND b.pd_upper <= (SELECT max(r.pd) FROM unnest(reps) u(m), scfrisk.loan_risk_curve(m, ARRAY[5.0], ARRAY[450.0]) r)
		   AS bc_within_replicates
FROM bm, scfrisk.loan_risk_interval(model, reps, ARRAY[5.0], 450, 0.9, '{}', 'percentile') p,
	 scfrisk.loan_risk_interval(model, reps, ARRAY[5.0], 450, 0.9, '{}', 'bc') b;
-- a wider level gives a wider interval
SELECT w.pd_lower <= n.pd_lower AND w.pd_upper >= n.pd_upper AS nested
FROM bm, scfrisk.loan_risk_interval(model, reps, ARRAY[5.0], 450, 0.95) w,
	 scfrisk.loan_risk_interval(model, reps, ARRAY[5.0], 450, 0.5) n;
-- STRICT: a NULL argument gives no row
SELECT count(*) AS rows FROM bm, scfrisk.loan_risk_interval(NULL, reps, ARRAY[5.0], 450);

-- the cluster bootstrap: 30 clusters of 20 rows; the bytes depend on the keys' content,
-- not the scan order nor the key's type (keys are compared by their text form)
CREATE TEMP TABLE bc AS
SELECT (SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 20}', 6, 3, i % 30) FROM (SELECT * FROM bd ORDER BY i) o) AS reps,
	   (SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 20}', 6, 3, i % 30) FROM (SELECT * FROM bd ORDER BY i DESC) o) AS reps_desc,
	   (SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 20}', 6, 3, (i % 30)::text) FROM bd) AS reps_text,
	   (SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 20}', 6, 3, 'seller ' || (i % 30)) FROM bd) AS reps_other_keys,
	   (SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 20}', 6, 3) FROM bd) AS reps_rows;
SELECT array_length(reps, 1) AS replicates,
	   (SELECT bool_and(scfrisk.model_info(r)->>'kind' = 'qrgmm_linear') FROM unnest(reps) r) AS all_qrgmm,
	   reps = reps_desc AS order_free, reps = reps_text AS same_text_same_bytes,
	   reps <> reps_other_keys AS keys_matter, reps <> reps_rows AS not_the_row_bootstrap
FROM bc;
-- a replicate holds whole clusters: 30 clusters of 20 rows always give 600 rows; the 24
-- clusters of 3, 5, 7, ... rows of floor(sqrt(i)) give replicates of other sizes
SELECT bool_and((scfrisk.model_info(r)->>'train_rows')::int = 600) AS equal_clusters_600_rows
FROM bc, unnest(reps) r;
SELECT count(DISTINCT (scfrisk.model_info(r)->>'train_rows')::int) > 1 AS unequal_clusters_vary
FROM (SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 5}', 6, 3, floor(sqrt(i))::int) AS reps FROM bd) b,
	 unnest(reps) r;
SELECT count(*) AS rows FROM bm, bc, scfrisk.loan_risk_interval(bm.model, bc.reps, ARRAY[5.0], 450);

-- errors of the aggregate
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 5}', 1) FROM bd$$);
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 5}', 10001) FROM bd$$);
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 5}', NULL) FROM bd$$);
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 5}', 5, NULL) FROM bd$$);
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 5}', 2 + (i % 2)) FROM bd$$);
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 5}', 5, i) FROM bd$$);
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 5}') FROM bd WHERE false$$);
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 0.5}') FROM bd$$);
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(CASE WHEN i = 3 THEN ARRAY[1.0, 2.0] ELSE x END, y, '{"m": 5}', 2) FROM bd$$);
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(ARRAY['NaN'::float8], y, '{"m": 5}', 2) FROM bd$$);
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 500}', 2) FROM bd WHERE i <= 50$$);
-- errors of the cluster bootstrap: a NULL key, too few clusters, replicates out of range, an untyped key
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 5}', 5, 0, CASE WHEN i = 7 THEN NULL ELSE i % 30 END) FROM bd$$);
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 5}', 5, 0, i % 9) FROM bd$$);
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 5}', 5, 0, 1) FROM bd$$);
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 5}', 1, 0, i % 30) FROM bd$$);
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 5}', 10001, 0, i % 30) FROM bd$$);
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 5}', NULL, 0, i % 30) FROM bd$$);
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 5}', 5, 0, i % 30) FROM bd WHERE false$$);
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_bootstrap(x, y, '{"m": 5}', 5, 0, 'a') FROM bd$$);

-- errors of the interval: shapes of the replicates
CREATE TEMP TABLE other AS
SELECT (SELECT scfrisk.qrgmm_train(ARRAY[x[1], (i % 7)::float8], y, '{"m": 5}') FROM bd) AS wide,
	   (SELECT scfrisk.logreg_train(x, (i % 2)::float8, '{}') FROM bd) AS logreg;
SELECT pg_temp.err($$SELECT * FROM bm, other, scfrisk.loan_risk_interval(model, reps || wide, ARRAY[5.0], 450)$$);
SELECT pg_temp.err($$SELECT * FROM bm, other, scfrisk.loan_risk_interval(model, ARRAY[logreg] || reps, ARRAY[5.0], 450)$$);
SELECT pg_temp.err($$SELECT * FROM bm, other, scfrisk.loan_risk_interval(logreg, ARRAY[logreg, logreg], ARRAY[5.0], 450)$$);
SELECT pg_temp.err($$SELECT * FROM bm, scfrisk.loan_risk_interval(model, reps[1:1], ARRAY[5.0], 450)$$);
SELECT pg_temp.err($$SELECT * FROM bm, scfrisk.loan_risk_interval(model, '{}'::bytea[], ARRAY[5.0], 450)$$);
SELECT pg_temp.err($$SELECT * FROM bm, scfrisk.loan_risk_interval(model, reps || NULL::bytea, ARRAY[5.0], 450)$$);
SELECT pg_temp.err($$SELECT * FROM bm, scfrisk.loan_risk_interval(model, reps || '\x00'::bytea, ARRAY[5.0], 450)$$);
-- the other arguments
SELECT pg_temp.err($$SELECT * FROM bm, scfrisk.loan_risk_interval(model, reps, ARRAY[5.0, 1.0], 450)$$);
SELECT pg_temp.err($$SELECT * FROM bm, scfrisk.loan_risk_interval(model, reps, ARRAY[5.0], -1)$$);
SELECT pg_temp.err($$SELECT * FROM bm, scfrisk.loan_risk_interval(model, reps, ARRAY[5.0], 'NaN')$$);
SELECT pg_temp.err($$SELECT * FROM bm, scfrisk.loan_risk_interval(model, reps, ARRAY[5.0], 450, 1)$$);
SELECT pg_temp.err($$SELECT * FROM bm, scfrisk.loan_risk_interval(model, reps, ARRAY[5.0], 450, 0)$$);
SELECT pg_temp.err($$SELECT * FROM bm, scfrisk.loan_risk_interval(model, reps, ARRAY[5.0], 450, 0.9, '{"rate": -2}')$$);
SELECT pg_temp.err($$SELECT * FROM bm, scfrisk.loan_risk_interval(model, reps, ARRAY[5.0], 450, 0.9, '{"nope": 1}')$$);
SELECT pg_temp.err($$SELECT * FROM bm, scfrisk.loan_risk_interval(model, reps, ARRAY[5.0], 450, 0.9, '{}', 'bca')$$);
SELECT count(*) AS rows FROM bm, scfrisk.loan_risk_interval(model, reps, ARRAY[5.0], 450, 0.9, '{}', NULL);
