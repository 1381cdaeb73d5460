-- Security layer, issue 13 items 5-13 (model bytes, params, resources):
-- each block reproduces a finding and asserts the refusal.  Every check
-- here failed on the code before the fix (see the commit message).
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(33);

CREATE TEMP TABLE d AS
SELECT k, ARRAY[(k % 17)::float8, (k % 5)::float8, ((k * 7) % 11)::float8] AS f,
	   ((k % 17) + (k % 5) > 10)::int::float8 AS y,
	   (100 + 3 * (k % 17) + (k % 5) + ((k * 13) % 7))::float8 AS s
FROM generate_series(1, 300) k;

-- Helpers to alter model bytes as an attacker would: change bytes of a body
-- section, then fix the header's payload length and CRC-32C (docs/format.md).
CREATE FUNCTION pg_temp.crc32c(b bytea) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	c bigint := 4294967295;
BEGIN
	FOR i IN 0 .. length(b) - 1 LOOP
		c := c # get_byte(b, i);
		FOR k IN 1 .. 8 LOOP
			IF (c & 1) = 1 THEN c := (c >> 1) # 2197175160; ELSE c := c >> 1; END IF;
		END LOOP;
	END LOOP;
	RETURN c # 4294967295;
END $$;
CREATE FUNCTION pg_temp.le(v numeric, n int) RETURNS bytea LANGUAGE sql AS $$
	SELECT string_agg(set_byte('\x00'::bytea, 0, (floor(v / 256::numeric ^ i) % 256)::int), ''::bytea ORDER BY i)
	FROM generate_series(0, n - 1) AS i
$$;
-- offset (0-based) of the data of the first section with this tag
CREATE FUNCTION pg_temp.section_at(m bytea, tag int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	p int := 28;
	t int;
	len bigint;
BEGIN
	WHILE p < length(m) LOOP
		t := get_byte(m, p) + 256 * get_byte(m, p + 1);
		len := 0;
		FOR i IN REVERSE 7 .. 0 LOOP len := len * 256 + get_byte(m, p + 2 + i); END LOOP;
		IF t = tag THEN RETURN p + 10; END IF;
		p := p + 10 + len::int;
	END LOOP;
	RETURN NULL;
END $$;
-- byte at offset o XOR x, header CRC fixed
CREATE FUNCTION pg_temp.flip(m bytea, o int, x int) RETURNS bytea LANGUAGE sql AS $$
	SELECT overlay(b placing pg_temp.le(pg_temp.crc32c(substr(b, 29)), 4) from 25)
	FROM (SELECT set_byte(m, o, get_byte(m, o) # x) AS b) s
$$;
-- scoring result as text: the value, or the SQLSTATE it was refused with
CREATE FUNCTION pg_temp.score(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r float8;
BEGIN
	EXECUTE q INTO r;
	RETURN r::text;
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END $$;

-- 5. a header-only logreg container (valid CRC, no body) is refused before
-- anything is written: model_info, save_model (and so deploy) run the full decoder
SELECT throws_ok($$SELECT scfrisk.model_info('\x53434652010004000000000004000000000000000000000000000000'::bytea)$$,
				 'XX001', NULL, '5: model_info of a header-only logreg container is XX001');
SELECT throws_ok($$SELECT scfrisk.save_model('bytes_header_only',
				 '\x53434652010004000000000004000000000000000000000000000000'::bytea)$$,
				 'XX001', NULL, '5: save_model refuses a model that cannot be scored');
SELECT is((SELECT count(*)::int FROM scfrisk.registry_version WHERE name = 'bytes_header_only'), 0,
		  '5: nothing was written');

-- 7. network kinds: finite input beyond the float32 range is refused (22000),
-- as training refuses it, never NaN
CREATE TEMP TABLE nets AS
SELECT scfrisk.mlp_train(f, y, '{"hidden": [4], "epochs": 5, "seed": 1}') AS mlp,
	   scfrisk.xgb_mlp_train(f, y, '{"xgb": {"n_estimators": 3}, "mlp": {"hidden": [4], "epochs": 5, "seed": 1}, "threshold": 0}') AS hyb
FROM d;
SELECT throws_ok($$SELECT scfrisk.mlp_predict(mlp, ARRAY[1e39, -1e39, 0]) FROM nets$$,
				 '22000', NULL, '7: mlp_predict refuses input beyond float32');
SELECT throws_ok($$SELECT scfrisk.predict(mlp, ARRAY[1e39, -1e39, 0]) FROM nets$$,
				 '22000', NULL, '7: predict (mlp) refuses input beyond float32');
SELECT throws_ok($$SELECT scfrisk.xgb_mlp_predict(hyb, ARRAY[1e39, -1e39, 0]) FROM nets$$,
				 '22000', NULL, '7: xgb_mlp_predict refuses input beyond float32');
-- within float32 but far outside the training data: finite (double precision path)
SELECT ok((SELECT scfrisk.mlp_predict(mlp, ARRAY[3e38, -3e38, 3e38]) FROM nets) BETWEEN 0 AND 1,
		  '7: mlp_predict at the float32 edge is a probability, not NaN');
SELECT ok((SELECT scfrisk.xgb_mlp_predict(hyb, ARRAY[3e38, -3e38, 3e38]) FROM nets) BETWEEN 0 AND 1,
		  '7: xgb_mlp_predict at the float32 edge is a probability, not NaN');

-- 6. bytes with a valid CRC cannot score silently wrong: model_info reads
-- what the decoder reads, decoders refuse non-finite or overflowing values
CREATE TEMP TABLE g6 AS SELECT scfrisk.xgb_train(f, y, '{"n_estimators": 3}') AS model FROM d;
CREATE TEMP TABLE g6x AS   -- the objective byte (first of the meta section, tag 16) flipped
SELECT pg_temp.flip(model, pg_temp.section_at(model, 16), 1) AS model FROM g6;
SELECT is((SELECT scfrisk.model_info(model)->'info'->>'objective' FROM g6), 'binary:logistic',
		  '6: the genuine model reports binary:logistic');
SELECT throws_ok($$SELECT scfrisk.model_info(model) FROM g6x$$, 'XX001', NULL,
				 '6: a GBT whose objective byte was changed no longer passes model_info');
SELECT throws_ok($$SELECT scfrisk.save_model('bytes_objective', model) FROM g6x$$, 'XX001', NULL,
				 '6: nor save_model');
CREATE TEMP TABLE n6 AS SELECT scfrisk.mlp_train(f, y, '{"hidden": [4], "epochs": 5, "seed": 1}') AS model FROM d;
-- the top byte of feature 1's scale (f64 at input section + 9 + 8): one
-- exponent bit flipped so that the scale becomes tiny (0x40 -> 0x00, 0x3f -> 0x1f)
CREATE TEMP TABLE n6x AS
SELECT pg_temp.flip(model, o, CASE WHEN get_byte(model, o) >= 64 THEN 64 ELSE 32 END) AS model
FROM (SELECT model, pg_temp.section_at(model, 16) + 9 + 8 + 7 AS o FROM n6) s;
SELECT ok(pg_temp.score($$SELECT scfrisk.mlp_predict(model, ARRAY[16.0, 4, 10]) FROM n6x$$) IN ('XX001')
		  OR pg_temp.score($$SELECT scfrisk.mlp_predict(model, ARRAY[16.0, 4, 10]) FROM n6x$$) NOT IN ('NaN', 'Infinity', '-Infinity'),
		  '6: an MLP with one flipped exponent bit in a feature scale is refused or scores finite, never NaN');
SELECT lives_ok($$SELECT scfrisk.model_info(model) FROM n6$$, '6: genuine mlp passes model_info');
SELECT lives_ok($$SELECT scfrisk.model_info(hyb) FROM nets$$, '6: genuine xgb_mlp passes model_info');
SELECT lives_ok($$SELECT scfrisk.model_info(scfrisk.logreg_train(f, y, '{}')) FROM d$$, '6: genuine logreg passes model_info');

-- 8. xgb_from_json refuses a num_trees that disagrees with the trees
CREATE TEMP TABLE g AS SELECT scfrisk.xgb_train(f, y, '{"n_estimators": 3}') AS model FROM d;
SELECT throws_ok($$SELECT scfrisk.xgb_from_json(jsonb_set(scfrisk.xgb_to_json(model),
				 '{learner,gradient_booster,model,gbtree_model_param,num_trees}', '"2"')) FROM g$$,
				 '22023', NULL, '8: num_trees below the trees given is refused');
SELECT throws_ok($$SELECT scfrisk.xgb_from_json(jsonb_set(scfrisk.xgb_to_json(model),
				 '{learner,gradient_booster,model,gbtree_model_param,num_trees}', '"7"')) FROM g$$,
				 '22023', NULL, '8: num_trees above the trees given is refused');
SELECT lives_ok($$SELECT scfrisk.model_info(scfrisk.xgb_from_json(scfrisk.xgb_to_json(model))) FROM g$$,
				'8: consistent JSON still loads');

-- 9. qrgmm_sample: a documented cap (54000 beyond it) and rows that stream
-- in the select list, so LIMIT ends the work
CREATE TEMP TABLE q AS SELECT scfrisk.qrgmm_train(f[1:2], s, '{"m": 8}') AS model FROM d;
SELECT lives_ok($$SELECT scfrisk.model_info(model) FROM q$$, '6: genuine qrgmm_linear passes model_info');
SET LOCAL statement_timeout = '60s';
SELECT throws_ok($$SELECT count(*) FROM q, scfrisk.qrgmm_sample(model, ARRAY[1.0, 2.0], 2147483647, 1)$$,
				 '54000', NULL, '9: n past the cap is 54000, not hours of temp files');
SELECT is((SELECT count(*)::int FROM (SELECT scfrisk.qrgmm_sample(model, ARRAY[1.0, 2.0], 100000000, 1) FROM q LIMIT 3) t),
		  3, '9: at the cap, LIMIT 3 in the select list returns at once');
RESET statement_timeout;

-- 10. params that differ between rows of one group are an error (22023),
-- whatever the row order, in every training aggregate
SELECT throws_ok($$SELECT scfrisk.xgb_train(f, y, CASE WHEN k = 1 THEN '{"max_depth": 1}'::jsonb ELSE '{"max_depth": 6}' END ORDER BY k) FROM d$$,
				 '22023', NULL, '10: xgb_train, differing params, row 1 first');
SELECT throws_ok($$SELECT scfrisk.xgb_train(f, y, CASE WHEN k = 1 THEN '{"max_depth": 1}'::jsonb ELSE '{"max_depth": 6}' END ORDER BY k DESC) FROM d$$,
				 '22023', NULL, '10: xgb_train, differing params, row 1 last');
SELECT throws_ok($$SELECT scfrisk.mlp_train(f, y, CASE WHEN k = 7 THEN '{"epochs": 1}'::jsonb ELSE '{"epochs": 2}' END) FROM d$$,
				 '22023', NULL, '10: mlp_train, differing params');
SELECT throws_ok($$SELECT scfrisk.qrgmm_train(f[1:2], s, CASE WHEN k = 300 THEN '{"m": 4}'::jsonb ELSE '{"m": 8}' END) FROM d$$,
				 '22023', NULL, '10: qrgmm_train, differing params');
SELECT lives_ok($$SELECT scfrisk.xgb_train(f, y, ('{"max_depth": ' || 2 || '}')::jsonb) FROM d$$,
				'10: equal params built per row are accepted');
SELECT throws_ok($$SELECT scfrisk.binary_metrics(y, (k % 10) / 10.0, CASE WHEN k = 5 THEN 0.3 ELSE 0.5 END) FROM d$$,
				 '22023', NULL, '10: binary_metrics, a threshold that differs between rows');
SELECT throws_ok($$SELECT scfrisk.partial_dependence(model, f, 1, CASE WHEN k = 9 THEN ARRAY[1.0] ELSE ARRAY[1.0, 2.0] END)
				 FROM d, g$$, '22023', NULL, '10: partial_dependence, a grid that differs between rows');
SELECT lives_ok($$SELECT scfrisk.partial_dependence(model, f, 1, ARRAY[1.0, 2.0]) FROM d, g$$,
				'10: partial_dependence with one model and grid');

-- 11. the scfrisk prefix is reserved once the library is loaded
SELECT scfrisk.build_info() IS NOT NULL AS loaded \gset
SELECT throws_ok($$SET LOCAL scfrisk.treads = 2$$, '42602', NULL, '11: a misspelt scfrisk setting is an error');

-- 12. training memory has a default cap that protects a shared server
SELECT ok((SELECT setting::int FROM pg_settings WHERE name = 'scfrisk.max_memory_mb') > 0, '12: scfrisk.max_memory_mb has a finite default');

-- 13. negative sales samples are refused (22023)
SELECT throws_ok($$SELECT * FROM scfrisk.loan_risk_curve(ARRAY[-5.0, 10, 20], ARRAY[0.0, 5])$$,
				 '22023', NULL, '13: loan_risk_curve refuses negative sales samples');
SELECT throws_ok($$SELECT * FROM scfrisk.loan_size(ARRAY[-5.0, 10, 20], '{}')$$,
				 '22023', NULL, '13: loan_size refuses negative sales samples');

SELECT * FROM finish();
ROLLBACK;
