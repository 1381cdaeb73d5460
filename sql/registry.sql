-- scfrisk registry: save, deploy, rollback, retire, model(name), views,
-- register_training and retrain (champion / challenger), and every error
-- with its SQLSTATE leaving the registry unchanged.  Models here are valid
-- containers built byte by byte (the registry works through the container,
-- for any kind); retraining uses the QRGMM aggregate on deterministic data.
\set VERBOSITY terse

-- a small trained model of a kind and width (the registry saves only models
-- that can be scored: a header-only container is refused, issue 13)
CREATE FUNCTION pg_temp.m(kind int, n_features int) RETURNS bytea LANGUAGE sql AS $$
	SELECT CASE kind
		WHEN 1 THEN scfrisk.xgb_train(x, y, '{"n_estimators": 2, "seed": 1}')
		WHEN 2 THEN scfrisk.mlp_train(x, y, '{"hidden": [2], "epochs": 2, "seed": 1}')
		WHEN 4 THEN scfrisk.logreg_train(x, y, '{}')
		WHEN 5 THEN scfrisk.qrgmm_train(x, 10 + x[1] + (k % 7), '{"m": 4}')
		END
	FROM (SELECT k, array_agg(((k * (j + 3)) % 11)::float8 ORDER BY j) AS x, (k % 3 = 0)::int::float8 AS y
		  FROM generate_series(1, 60) k, generate_series(1, n_features) j GROUP BY k) d
$$;
-- SQLSTATE and message of a statement, or 'ok'
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- a fingerprint of the whole registry, to show that a failed call changed nothing
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $$
	SELECT md5(coalesce((SELECT string_agg(format('%s/%s/%s/%s', name, version, status, md5(model)), ',' ORDER BY name, version)
						 FROM scfrisk.registry_version), '')
			   || coalesce((SELECT string_agg(format('%s/%s/%s/%s', name, action, from_version, to_version), ',' ORDER BY id)
							FROM scfrisk.registry_history), '')
			   || coalesce((SELECT string_agg(format('%s/%s/%s', name, kind, training_query), ',' ORDER BY name)
							FROM scfrisk.registry_training), ''))
$$;

-- ---------------------------------------------------------------- save
SELECT scfrisk.save_model('pd', pg_temp.m(4, 3)) AS v1;
SELECT scfrisk.save_model('pd', pg_temp.m(1, 3), '{"auc": 0.75}') AS v2;
SELECT scfrisk.save_model('pd', pg_temp.m(2, 3)) AS v3;
SELECT scfrisk.save_model('lgd.v2-eu', pg_temp.m(5, 2)) AS other;
SELECT name, version, kind, status, n_features, bytes, created_by = current_user AS by_me, metrics
FROM scfrisk.model_versions ORDER BY name, version;

SELECT pg_temp.state() AS s0 \gset
SELECT pg_temp.err($$SELECT scfrisk.save_model('bad name', pg_temp.m(4, 3))$$);
SELECT pg_temp.err($$SELECT scfrisk.save_model('', pg_temp.m(4, 3))$$);
SELECT pg_temp.err($$SELECT scfrisk.save_model('x";drop table t;--', pg_temp.m(4, 3))$$);
SELECT pg_temp.err($$SELECT scfrisk.save_model(repeat('a', 64), pg_temp.m(4, 3))$$);
SELECT pg_temp.err($$SELECT scfrisk.save_model(NULL, pg_temp.m(4, 3))$$);
SELECT pg_temp.err($$SELECT scfrisk.save_model('pd', NULL)$$);
SELECT pg_temp.err($$SELECT scfrisk.save_model('pd', '\x00010203'::bytea)$$);
SELECT pg_temp.err($$SELECT scfrisk.save_model('pd', '\x5343465209000100000000000000000000000000000000000000000000'::bytea)$$);
SELECT pg_temp.err($$SELECT scfrisk.save_model('pd', pg_temp.m(4, 3), '[1, 2]')$$);
SELECT pg_temp.state() = :'s0' AS unchanged;

-- ---------------------------------------------------------------- deploy, model(name)
SELECT pg_temp.err($$SELECT scfrisk.model('pd')$$);
SELECT pg_temp.err($$SELECT scfrisk.predict('pd', ARRAY[1, 2, 3]::float8[])$$);
SELECT scfrisk.deploy('pd', 1);
SELECT scfrisk.model('pd') = pg_temp.m(4, 3) AS model_is_v1;
SELECT scfrisk.deploy('pd', 2);
SELECT scfrisk.model('pd') = pg_temp.m(1, 3) AS model_is_v2;
SELECT scfrisk.deploy('pd', 2);		-- already deployed: a notice, no change
SELECT name, version, kind, metrics, deployed_at IS NOT NULL AS dated FROM scfrisk.deployed_models;
SELECT version, status FROM scfrisk.model_versions WHERE name = 'pd' ORDER BY version;

SELECT pg_temp.state() AS s1 \gset
SELECT pg_temp.err($$SELECT scfrisk.deploy('pd', 9)$$);
SELECT pg_temp.err($$SELECT scfrisk.deploy('nope', 1)$$);
SELECT pg_temp.err($$SELECT scfrisk.deploy('pd', NULL)$$);
SELECT pg_temp.err($$SELECT scfrisk.model('nope')$$);
SELECT pg_temp.err($$SELECT scfrisk.model('')$$);
SELECT pg_temp.err($$SELECT scfrisk.predict('nope', ARRAY[1, 2, 3]::float8[])$$);
SELECT pg_temp.err($$SELECT scfrisk.rollback('nope')$$);
SELECT pg_temp.err($$SELECT scfrisk.rollback('lgd.v2-eu')$$);
SELECT pg_temp.state() = :'s1' AS unchanged;

-- a version whose stored bytes were damaged is never deployed
UPDATE scfrisk.registry_version SET model = overlay(model placing '\x07'::bytea from 25 for 1)
WHERE name = 'pd' AND version = 3;
SELECT pg_temp.state() AS s2 \gset
-- (the CRCs depend on the trained bytes: masked as "...")
SELECT regexp_replace(pg_temp.err($$SELECT scfrisk.deploy('pd', 3)$$), 'stored \w+, computed \w+', 'stored ..., computed ...');
SELECT pg_temp.state() = :'s2' AS unchanged;
UPDATE scfrisk.registry_version SET model = pg_temp.m(2, 3) WHERE name = 'pd' AND version = 3;

-- ---------------------------------------------------------------- rollback, retire
SELECT scfrisk.deploy('pd', 3);
SELECT scfrisk.rollback('pd') AS now_deployed;		-- back to 2, 3 retired
SELECT scfrisk.rollback('pd') AS now_deployed;		-- back to 1, 2 retired
SELECT version, status FROM scfrisk.model_versions WHERE name = 'pd' ORDER BY version;
SELECT pg_temp.state() AS s3 \gset
SELECT pg_temp.err($$SELECT scfrisk.rollback('pd')$$);
SELECT pg_temp.err($$SELECT scfrisk.deploy('pd', 2)$$);
SELECT pg_temp.err($$SELECT scfrisk.retire('pd', 1)$$);
SELECT pg_temp.err($$SELECT scfrisk.retire('pd', 7)$$);
SELECT pg_temp.state() = :'s3' AS unchanged;
SELECT scfrisk.save_model('pd', (SELECT model FROM scfrisk.registry_version WHERE name = 'pd' AND version = 2)) AS v4;
SELECT scfrisk.retire('pd', 4);
SELECT scfrisk.retire('pd', 4);		-- already retired: no change
SELECT scfrisk.deploy('lgd.v2-eu', 1);
SELECT name, version, status FROM scfrisk.model_versions ORDER BY name, version;

-- the audit log
SELECT name, action, from_version, to_version, by = current_user AS by_me, reason
FROM scfrisk.model_history ORDER BY id;

-- ---------------------------------------------------------------- register_training
CREATE TABLE reg_sales (i int PRIMARY KEY, features float8[], label float8);
INSERT INTO reg_sales
SELECT i, ARRAY[(i % 17) / 17.0, (i % 13) / 13.0],
	   10 + 5 * ((i % 17) / 17.0) - 2 * ((i % 13) / 13.0) + ((i * 7919) % 101) / 101.0
FROM generate_series(1, 600) AS i;
CREATE TABLE reg_secret (x int);

SELECT pg_temp.state() AS s4 \gset
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'svm', 'SELECT features, label FROM reg_sales')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', NULL)$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales', '[]')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales', '{}', '{"holdout": 1}')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales', '{}', '{"metric": "auc"}')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales', '{}', '{"holdout_fraction": 1.5}')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales', '{}', '{"threshold": "x"}')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales', '{}', '{"seed": 1.5}')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales', '{}', '{"tolerance": -1}')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales', '{}', '{"taus": [0.5, 1]}')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales', '{}', '{"holdout_query": 3}')$$);
-- every setting within its documented range, checked before the query runs
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales', '{}', '{"seed": 1e30}')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales', '{}', '{"holdout_fraction": 0.99}')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales', '{}', '{"tolerance": 1e300}')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales', '{}', '{"incomparable_champion": "maybe"}')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales', '{"levels": 3}')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('bad name', 'qrgmm_linear', 'SELECT features, label FROM no_such_table')$$);
-- one SELECT only: no second statement, no other command, no data-modifying WITH, no INTO
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales; DROP TABLE reg_secret')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'DELETE FROM reg_secret RETURNING x AS features, x AS label')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'WITH d AS (DELETE FROM reg_secret RETURNING x) SELECT features, label FROM reg_sales')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label INTO junk FROM reg_sales')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales) AS q; DROP TABLE reg_secret; SELECT (1')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELEC features FROM reg_sales')$$);
-- wrong columns
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label AS y FROM reg_sales')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT i AS features, label FROM reg_sales')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label::text AS label FROM reg_sales')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM no_such_table')$$);
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales', '{}', '{"holdout_query": "SELECT features FROM reg_sales"}')$$);
SELECT pg_temp.state() = :'s4' AS unchanged;
SELECT pg_temp.err($$CALL scfrisk.retrain('q')$$);
SELECT pg_temp.err($$CALL scfrisk.retrain(NULL)$$);
SELECT pg_temp.state() = :'s4' AS unchanged;

-- ---------------------------------------------------------------- retrain
-- (retrain's NOTICE quotes the metrics: hidden here, the decisions are in the log)
SET client_min_messages = warning;
-- a trailing comment cannot swallow the wrapping: the query sits on its own lines
SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales -- all of it');
SELECT scfrisk.register_training('q', 'qrgmm_linear',
	'SELECT features, label FROM reg_sales WHERE i % 5 <> 0', '{}',
	'{"holdout_query": "SELECT features, label FROM reg_sales WHERE i % 5 = 0"}');
SELECT kind, training_query, params, validation, run_as = current_user AS run_as_me
FROM scfrisk.registry_training;
CALL scfrisk.retrain('q');		-- nothing deployed: promoted
CALL scfrisk.retrain('q');		-- same data, same model: unchanged, no new version
CALL scfrisk.retrain('q');
SELECT version, status, kind, training_query IS NOT NULL AS has_query, train_rows,
	   metrics ->> 'metric' AS metric, (metrics ->> 'score')::float8 > 0 AS scored,
	   (metrics ->> 'score') = (metrics ->> 'champion_score') AS same_as_champion
FROM scfrisk.model_versions WHERE name = 'q' ORDER BY version;

-- a challenger trained on scrambled labels is worse on the holdout: kept
SELECT scfrisk.register_training('q', 'qrgmm_linear',
	'SELECT features, ((i * 37) % 11)::float8 AS label FROM reg_sales WHERE i % 5 <> 0', '{}',
	'{"holdout_query": "SELECT features, label FROM reg_sales WHERE i % 5 = 0"}');
CALL scfrisk.retrain('q');
SELECT version, status, (metrics ->> 'score')::float8 > (metrics ->> 'champion_score')::float8 AS worse
FROM scfrisk.model_versions WHERE name = 'q' ORDER BY version;
-- a tolerance is bounded: at most 0.1, for pinball a share of the champion's loss
SELECT pg_temp.err($$SELECT scfrisk.register_training('q', 'qrgmm_linear',
	'SELECT features, ((i * 37) % 11)::float8 AS label FROM reg_sales WHERE i % 5 <> 0', '{}',
	'{"holdout_query": "SELECT features, label FROM reg_sales WHERE i % 5 = 0", "tolerance": 1000}')$$);
-- a challenger whose quantiles are shifted by 0.05 (linear quantile regression
-- with an intercept is shift-equivariant) is a little worse than the champion:
-- kept without a tolerance, promoted with 0.1 when within 10 % of its loss
SELECT scfrisk.register_training('q', 'qrgmm_linear',
	'SELECT features, label + 0.05 AS label FROM reg_sales WHERE i % 5 <> 0', '{}',
	'{"holdout_query": "SELECT features, label FROM reg_sales WHERE i % 5 = 0"}');
CALL scfrisk.retrain('q');
SELECT scfrisk.register_training('q', 'qrgmm_linear',
	'SELECT features, label + 0.05 AS label FROM reg_sales WHERE i % 5 <> 0', '{}',
	'{"holdout_query": "SELECT features, label FROM reg_sales WHERE i % 5 = 0", "tolerance": 0.1}');
CALL scfrisk.retrain('q');
SELECT v.version, v.status, (v.metrics ->> 'score')::float8 > (v.metrics ->> 'champion_score')::float8 AS worse,
	   (v.metrics ->> 'score')::float8 <= 1.1 * (v.metrics ->> 'champion_score')::float8 AS within_10_percent,
	   h.action
FROM scfrisk.model_versions AS v
JOIN scfrisk.model_history AS h ON h.name = v.name AND h.to_version = v.version AND h.action IN ('promote', 'keep')
WHERE v.name = 'q' AND v.version IN (3, 4) ORDER BY v.version;
-- a hash split of the training query itself, inside a transaction block (one transaction)
SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales',
	'{}', '{"holdout_fraction": 0.25, "seed": 7, "taus": [0.25, 0.5, 0.75]}');
BEGIN;
CALL scfrisk.retrain('q');
COMMIT;
SELECT version, status, train_rows, (metrics -> 'holdout' ->> 'rows')::int AS holdout_rows, params
FROM scfrisk.model_versions WHERE name = 'q' ORDER BY version;
SELECT action, from_version, to_version FROM scfrisk.model_history WHERE name = 'q' ORDER BY id;

-- a training query that fails at run time changes nothing
SELECT scfrisk.register_training('q', 'qrgmm_linear',
	'SELECT features, label / (i - i) AS label FROM reg_sales');
SELECT pg_temp.state() AS s5 \gset
SELECT pg_temp.err($$CALL scfrisk.retrain('q')$$);
SELECT pg_temp.state() = :'s5' AS unchanged;
-- and one whose table lost a column since it was registered
SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT * FROM reg_sales');
ALTER TABLE reg_sales RENAME COLUMN label TO y;
SELECT pg_temp.state() AS s7 \gset
SELECT pg_temp.err($$CALL scfrisk.retrain('q')$$);
SELECT pg_temp.state() = :'s7' AS unchanged;
ALTER TABLE reg_sales RENAME COLUMN y TO label;
-- so does one that gives no training rows
SELECT scfrisk.register_training('q', 'qrgmm_linear', 'SELECT features, label FROM reg_sales WHERE false');
SELECT pg_temp.state() AS s6 \gset
SELECT left(pg_temp.err($$CALL scfrisk.retrain('q')$$), 5) AS sqlstate;
SELECT pg_temp.state() = :'s6' AS unchanged;

-- the deployed model scores by value like the version it is
SELECT scfrisk.model('q') = (SELECT model FROM scfrisk.registry_version WHERE name = 'q' AND status = 'deployed')
	AS model_is_deployed;

-- leave the database as it was for the tests that follow
DROP TABLE reg_sales, reg_secret;
TRUNCATE scfrisk.registry_training, scfrisk.registry_version, scfrisk.registry_history, scfrisk.registry_model;
