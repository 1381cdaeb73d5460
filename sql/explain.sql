-- Per-row explanations and reason codes (issue 17): feature names, the
-- background section, additivity for every kind, explain's rows, reason
-- codes, and every error with its SQLSTATE.  Trained floats are never
-- printed raw: tolerance booleans only.  docs/explain.md.
SET extra_float_digits = 0;
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

CREATE TABLE ex_t AS
SELECT i,
	   ARRAY[sin(i * 0.7) * 3, cos(i * 1.3) * 2, (i % 7)::float8 - 3, sin(i * 0.1)]::float8[] AS x,
	   (CASE WHEN sin(i * 0.7) * 3 + cos(i * 1.3) * 2 > 0.5 THEN 1 ELSE 0 END)::float8 AS y
FROM generate_series(1, 300) i;

CREATE TABLE ex_m AS
SELECT 'gbt' AS kind,
	   scfrisk.xgb_train(x, y, '{"n_estimators": 20, "max_depth": 3, "feature_names": ["a", "b", "c", "d"]}') AS m
FROM ex_t
UNION ALL
SELECT 'logreg', scfrisk.logreg_train(x, y, '{"feature_names": ["a", "b", "c", "d"]}') FROM ex_t
UNION ALL
SELECT 'mlp', scfrisk.mlp_train(x, y, '{"hidden": [8], "epochs": 20, "seed": 1, "feature_names": ["a", "b", "c", "d"]}')
FROM ex_t
UNION ALL
SELECT 'xgb_mlp', scfrisk.xgb_mlp_train(x, y, '{"xgb": {"n_estimators": 20, "max_depth": 3}, "threshold": 0.01,
	"mlp": {"hidden": [8], "epochs": 20}, "feature_names": ["a", "b", "c", "d"]}')
FROM ex_t;

-- every trainer keeps the names; the model-agnostic kinds keep a background sample
SELECT kind, scfrisk.model_info(m)->'feature_names' AS names,
	   scfrisk.model_info(m)->'sections' @> '[{"name": "background"}]' AS has_background
FROM ex_m ORDER BY kind;

-- contributions plus the bias add up to the margin, for every kind
SELECT kind,
	   bool_and(abs((SELECT sum(c) FROM unnest(scfrisk.explain_array(m, x)) c)
					- CASE kind WHEN 'gbt' THEN scfrisk.xgb_predict_margin(m, x)
					  ELSE ln(scfrisk.predict(m, x) / (1 - scfrisk.predict(m, x))) END) < 1e-5) AS adds_up,
	   bool_and(cardinality(scfrisk.explain_array(m, x)) = 5) AS width_plus_bias
FROM ex_m, ex_t GROUP BY kind ORDER BY kind;

-- explain's rows: the bias (feature 0, no value) then every feature with its name and value
SELECT kind, array_agg(feature ORDER BY feature) AS features, array_agg(name ORDER BY feature) AS names,
	   bool_and((feature = 0) = (value IS NULL)) AS bias_has_no_value,
	   array_agg(value ORDER BY feature) AS vals
FROM ex_m, scfrisk.explain(m, ARRAY[1, -1, 2, 0.5]) GROUP BY kind ORDER BY kind;

-- missing values where the kind takes them (NULL and NaN alike)
SELECT kind, count(*) AS rows,
	   (SELECT scfrisk.explain_array(m, ARRAY[NULL, 1, 2, 0.5]::float8[])
		= scfrisk.explain_array(m, ARRAY['NaN', 1, 2, 0.5]::float8[])) AS null_is_nan
FROM ex_m, scfrisk.explain(m, ARRAY[NULL, 1, 2, 0.5]::float8[])
WHERE kind <> 'logreg' GROUP BY kind, m ORDER BY kind;

-- reason codes: at most k, ranked, only contributions in the asked direction
SELECT kind, count(*) <= 2 AS at_most_k, bool_and(contribution > 0) AS adverse,
	   max(rank) = count(*) AND count(DISTINCT rank) = count(*) AS ranked
FROM ex_m, scfrisk.reason_codes(m, ARRAY[1, -1, 2, 0.5], 2) GROUP BY kind ORDER BY kind;
SELECT kind, bool_and(contribution < 0) AS favorable
FROM ex_m, scfrisk.reason_codes(m, ARRAY[1, -1, 2, 0.5], 4, 'favorable') GROUP BY kind ORDER BY kind;
-- the adverse codes are explain's largest positive contributions, in order
SELECT kind,
	   (SELECT array_agg(feature ORDER BY rank) FROM scfrisk.reason_codes(m, ARRAY[1, -1, 2, 0.5], 4))
	   IS NOT DISTINCT FROM
	   (SELECT array_agg(feature ORDER BY contribution DESC, feature)
		FROM scfrisk.explain(m, ARRAY[1, -1, 2, 0.5]) WHERE feature > 0 AND contribution > 0) AS same_order
FROM ex_m ORDER BY kind;

-- the exact methods report no standard error
SELECT kind, scfrisk.explain_std_error(m, ARRAY[1, -1, 2, 0.5]) AS std_error FROM ex_m ORDER BY kind;

-- errors: feature_names of the trainers
SELECT pg_temp.err($$SELECT scfrisk.mlp_train(x, y, '{"feature_names": ["a"]}') FROM ex_t$$);
SELECT pg_temp.err($$SELECT scfrisk.logreg_train(x, y, '{"feature_names": ["a", "b", "c", "d", "e"]}') FROM ex_t$$);
SELECT pg_temp.err($$SELECT scfrisk.xgb_mlp_train(x, y, '{"feature_names": ["a"]}') FROM ex_t$$);
SELECT pg_temp.err($$SELECT scfrisk.xgb_mlp_train(x, y, '{"feature_names": ["a", "b", "c", "d"],
	"xgb": {"feature_names": ["a", "b", "c", "e"]}}') FROM ex_t$$);
SELECT pg_temp.err($$SELECT scfrisk.xgb_mlp_train(x, y, '{"mlp": {"feature_names": ["a", "b", "c", "d"]}}') FROM ex_t$$);
SELECT pg_temp.err($$SELECT scfrisk.logreg_train(x, y, '{"feature_names": "a"}') FROM ex_t$$);

-- errors: explain and reason codes
SELECT pg_temp.err($$SELECT * FROM ex_m, scfrisk.explain(m, ARRAY[1, 2]) WHERE kind = 'gbt'$$);
SELECT pg_temp.err($$SELECT * FROM ex_m, scfrisk.explain(m, ARRAY['NaN', 1, 2, 3]::float8[]) WHERE kind = 'logreg'$$);
SELECT pg_temp.err($$SELECT * FROM ex_m, scfrisk.reason_codes(m, ARRAY[NULL, 1, 2, 3]::float8[]) WHERE kind = 'logreg'$$);
SELECT pg_temp.err($$SELECT * FROM ex_m, scfrisk.explain(m, ARRAY[1, 'Infinity', 2, 3]::float8[]) WHERE kind = 'mlp'$$);
SELECT pg_temp.err($$SELECT * FROM ex_m, scfrisk.reason_codes(m, ARRAY[1, 1, 2, 3], 0) WHERE kind = 'gbt'$$);
SELECT pg_temp.err($$SELECT * FROM ex_m, scfrisk.reason_codes(m, ARRAY[1, 1, 2, 3], 5) WHERE kind = 'mlp'$$);
SELECT pg_temp.err($$SELECT * FROM ex_m, scfrisk.reason_codes(m, ARRAY[1, 1, 2, 3], 2, 'up') WHERE kind = 'gbt'$$);
SELECT pg_temp.err($$SELECT scfrisk.explain_array(scfrisk.qrgmm_train(x[1:2], x[3], '{"m": 5, "transform": "identity"}'), ARRAY[1, 2]) FROM ex_t$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.explain('\x00'::bytea, ARRAY[1, 2])$$);
-- (the checksums themselves are masked: they change with every change of the model bytes)
SELECT regexp_replace(pg_temp.err($$SELECT * FROM ex_m, scfrisk.explain(overlay(m placing '\xff'::bytea from 40), ARRAY[1, 2, 3, 4]) WHERE kind = 'mlp'$$),
					  '[0-9a-f]{8}', 'xxxxxxxx', 'g') AS err;
-- a logreg model as scfrisk 0.1.0 wrote it: no background section
SELECT pg_temp.err($$SELECT scfrisk.explain_array('\x534346520100040000000000020000003901000000000000b681d25f010053000000000000007b2243223a20312c20226669745f696e74657263657074223a20747275652c20226d61785f69746572223a203130302c2022746f6c223a2031652d31302c2022666561747572655f6e616d6573223a205b5d7d03000800000000000000140000000000000005009d000000000000007b22696e74657263657074223a20302e343237393437383230393135313439362c2022636f6566223a205b2d302e3032393530313735343730393136303832322c202d302e31313236333239373633333836333530325d2c2022697465726174696f6e73223a20332c2022636f6e766572676564223a20747275652c20226f626a656374697665223a2031332e3736313335383335323931393138317d1000190000000000000001ee66ce417f63db3f1d129a3eb5359ebf2959d3c583d5bcbf'::bytea, ARRAY[3, 1])$$);
SELECT scfrisk.predict('\x534346520100040000000000020000003901000000000000b681d25f010053000000000000007b2243223a20312c20226669745f696e74657263657074223a20747275652c20226d61785f69746572223a203130302c2022746f6c223a2031652d31302c2022666561747572655f6e616d6573223a205b5d7d03000800000000000000140000000000000005009d000000000000007b22696e74657263657074223a20302e343237393437383230393135313439362c2022636f6566223a205b2d302e3032393530313735343730393136303832322c202d302e31313236333239373633333836333530325d2c2022697465726174696f6e73223a20332c2022636f6e766572676564223a20747275652c20226f626a656374697665223a2031332e3736313335383335323931393138317d1000190000000000000001ee66ce417f63db3f1d129a3eb5359ebf2959d3c583d5bcbf'::bytea, ARRAY[3, 1]) BETWEEN 0 AND 1 AS old_model_still_scores;

-- the QRGMM trainers keep names too (their encoders write none: the section is added)
SELECT scfrisk.model_info(scfrisk.qrgmm_train(x[1:2], x[3], '{"m": 5, "transform": "identity", "feature_names": ["s", "c"]}'))->'feature_names' AS qrgmm_names
FROM ex_t;
SELECT scfrisk.model_info(scfrisk.qrgmm_deepfm_train(x[1:2], ARRAY[i % 3], x[3],
	'{"m": 5, "epochs": 2, "layers": [4], "transform": "identity", "feature_names": ["s", "c", "group"]}'))->'feature_names' AS deepfm_names
FROM ex_t;
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_train(x[1:2], x[3], '{"transform": "identity", "feature_names": ["s"]}') FROM ex_t$$);
SELECT pg_temp.err($$SELECT scfrisk.qrgmm_deepfm_train(x[1:2], ARRAY[i % 3], x[3], '{"transform": "identity", "feature_names": ["s", "c"]}') FROM ex_t$$);
