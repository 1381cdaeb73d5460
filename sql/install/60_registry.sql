-- scfrisk install script, part 60: the model registry (docs/registry.md).
--
-- Named models with versions, one deployed version per name, an audit log of
-- every change, stored training definitions and champion / challenger
-- retraining.  The tables are extension configuration tables, so pg_dump
-- dumps their rows.  Only their owner reads or writes them; everyone else
-- goes through the functions below, whose EXECUTE privileges make the
-- roles of docs/registry.md (reader, trainer, owner).  Every function is
-- revoked from PUBLIC.  The writing functions are SECURITY DEFINER with a
-- fixed search_path; the role that asked is recorded with
-- scfrisk.registry_invoker().

-- ------------------------------------------------------------------ tables

CREATE TABLE scfrisk.registry_model (
	name		text PRIMARY KEY
				CONSTRAINT registry_model_name_check
				CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_.-]*$' AND length(name) <= 63),
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	text NOT NULL
);
COMMENT ON TABLE scfrisk.registry_model IS
'scfrisk registry: one row per model name';

CREATE TABLE scfrisk.registry_version (
	name		text NOT NULL REFERENCES scfrisk.registry_model (name),
	version		integer NOT NULL CHECK (version > 0),
	kind		text NOT NULL,
	status		text NOT NULL DEFAULT 'candidate'
				CHECK (status IN ('candidate', 'deployed', 'retired')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	text NOT NULL,
	n_features	integer NOT NULL,
	params		jsonb,
	train_rows	bigint,
	training_query text,
	metrics		jsonb,
	model		bytea NOT NULL,
	PRIMARY KEY (name, version)
);
-- at most one deployed version per name; scoring by name probes this index
CREATE UNIQUE INDEX registry_version_deployed ON scfrisk.registry_version (name)
	WHERE status = 'deployed';
COMMENT ON TABLE scfrisk.registry_version IS
'scfrisk registry: every saved version of every model, with its bytes';

CREATE SEQUENCE scfrisk.registry_history_id_seq;
CREATE TABLE scfrisk.registry_history (
	id			bigint PRIMARY KEY DEFAULT nextval('scfrisk.registry_history_id_seq'),
	at			timestamptz NOT NULL DEFAULT clock_timestamp(),
	name		text NOT NULL,
	action		text NOT NULL
				CHECK (action IN ('save', 'deploy', 'rollback', 'retire', 'register',
								  'retrain', 'promote', 'keep')),
	from_version integer,
	to_version	integer,
	by			text NOT NULL,
	reason		text,
	details		jsonb
);
ALTER SEQUENCE scfrisk.registry_history_id_seq OWNED BY scfrisk.registry_history.id;
COMMENT ON TABLE scfrisk.registry_history IS
'scfrisk registry: audit log of saves, deploys, rollbacks, retirements and retraining decisions';

CREATE TABLE scfrisk.registry_training (
	name		text PRIMARY KEY REFERENCES scfrisk.registry_model (name),
	kind		text NOT NULL,
	training_query text NOT NULL,
	params		jsonb NOT NULL,
	validation	jsonb NOT NULL,
	run_as		text NOT NULL,
	registered_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE scfrisk.registry_training IS
'scfrisk registry: how scfrisk.retrain trains each model; the query runs as run_as';

SELECT pg_catalog.pg_extension_config_dump('scfrisk.registry_model', '');
SELECT pg_catalog.pg_extension_config_dump('scfrisk.registry_version', '');
SELECT pg_catalog.pg_extension_config_dump('scfrisk.registry_history', '');
SELECT pg_catalog.pg_extension_config_dump('scfrisk.registry_history_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('scfrisk.registry_training', '');

-- ------------------------------------------------------------------ views

CREATE VIEW scfrisk.model_versions AS
SELECT v.name, v.version, v.kind, v.status, v.created_at, v.created_by, v.n_features,
	   v.params, v.train_rows, v.training_query, v.metrics,
	   length(v.model) AS bytes, md5(v.model) AS md5
FROM scfrisk.registry_version AS v;
COMMENT ON VIEW scfrisk.model_versions IS
'every version of every registered model, without its bytes: one row per (name, version)';

CREATE VIEW scfrisk.model_history AS
SELECT h.id, h.at, h.name, h.action, h.from_version, h.to_version, h.by, h.reason, h.details
FROM scfrisk.registry_history AS h;
COMMENT ON VIEW scfrisk.model_history IS
'audit log of the registry: saves, deploys, rollbacks, retirements, retraining decisions';

CREATE VIEW scfrisk.deployed_models AS
SELECT v.name, v.version, v.kind, v.n_features, v.metrics, v.created_at, v.created_by,
	   (SELECT max(h.at) FROM scfrisk.registry_history AS h
		WHERE h.name = v.name AND h.to_version = v.version
		  AND h.action IN ('deploy', 'rollback', 'promote')) AS deployed_at
FROM scfrisk.registry_version AS v
WHERE v.status = 'deployed';
COMMENT ON VIEW scfrisk.deployed_models IS
'the deployed version of each model: one row per name';

-- ------------------------------------------------------------------ C helpers

CREATE FUNCTION scfrisk.registry_invoker()
RETURNS text
AS 'MODULE_PATHNAME', 'registry_invoker'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION scfrisk.registry_invoker() IS
'the session role a registry function acts for (current_user is the owner inside SECURITY DEFINER functions)';

CREATE FUNCTION scfrisk.registry_query_as(run_as text, sql text, p1 jsonb, p2 bytea, p3 bytea,
										  result anyelement)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'registry_query_as'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION scfrisk.registry_query_as(text, text, jsonb, bytea, bytea, anyelement) IS
'internal: run one SELECT as role run_as (security-restricted, default search_path) with $1 jsonb, $2 and $3 bytea; one row, one column of the type of result';

CREATE FUNCTION scfrisk.registry_query_columns(run_as text, sql text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'registry_query_columns'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION scfrisk.registry_query_columns(text, text) IS
'internal: the result columns [{name, type}] of a stored query, run with LIMIT 0 as role run_as';

-- ------------------------------------------------------------------ scoring by name

CREATE FUNCTION scfrisk.predict(name text, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'registry_predict'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.predict(text, float8[]) IS
'score with the deployed version of a registered model; one version per statement (its snapshot), decoded once per call site and version';

CREATE FUNCTION scfrisk.model(name text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'registry_model'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.model(text) IS
'the bytes of the deployed version of a registered model, as of the statement''s snapshot';

-- ------------------------------------------------------------------ internals

-- Raise an error with a SQLSTATE (PL/pgSQL helper).
CREATE FUNCTION scfrisk.registry_fail(code text, msg text, hint text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF hint IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = code, MESSAGE = msg;
	END IF;
	RAISE EXCEPTION USING ERRCODE = code, MESSAGE = msg, HINT = hint;
END
$$;
COMMENT ON FUNCTION scfrisk.registry_fail(text, text, text) IS
'internal: raise an error with the given SQLSTATE';

-- Lock a model's row for a change of its deployed version.  Concurrent
-- changes of one name fail at once (55P03) instead of queueing behind each
-- other; an unknown name is 42704.
CREATE FUNCTION scfrisk.registry_lock(model_name text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM 1 FROM scfrisk.registry_model AS m WHERE m.name = model_name FOR NO KEY UPDATE NOWAIT;
	IF NOT FOUND THEN
		PERFORM scfrisk.registry_fail('42704', format('model "%s" does not exist', model_name));
	END IF;
EXCEPTION WHEN lock_not_available THEN
	PERFORM scfrisk.registry_fail('55P03',
		format('model "%s" is being changed by another session', model_name),
		'Deploys, rollbacks and promotions of one model run one at a time; try again when the other one has committed.');
END
$$;
COMMENT ON FUNCTION scfrisk.registry_lock(text) IS
'internal: lock a model for a deploy, rollback, retirement or promotion; 55P03 when another session holds it';

-- Save a version (the caller checked the arguments).  Versions of one name
-- are numbered under a transaction-level advisory lock on (SCFR, name), so
-- concurrent saves queue but never collide and never block a deploy.
CREATE FUNCTION scfrisk.registry_insert(model_name text, model_bytes bytea, model_metrics jsonb,
										query text, model_params jsonb)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	info jsonb := scfrisk.model_info(model_bytes);	-- XX001 / 0A000 on bad bytes
	who text := scfrisk.registry_invoker();
	v integer;
BEGIN
	IF model_name IS NULL OR model_name !~ '^[A-Za-z_][A-Za-z0-9_.-]*$' OR length(model_name) > 63 THEN
		PERFORM scfrisk.registry_fail('22023',
			format('invalid model name %s', coalesce(quote_literal(model_name), 'NULL')),
			'A model name is 1 to 63 letters, digits, "_", "." or "-", starting with a letter or "_".');
	END IF;
	IF model_metrics IS NOT NULL AND jsonb_typeof(model_metrics) <> 'object' THEN
		PERFORM scfrisk.registry_fail('22023', 'metrics must be a JSON object');
	END IF;
	PERFORM pg_advisory_xact_lock(1396917842, hashtext(model_name));
	INSERT INTO scfrisk.registry_model (name, created_by) VALUES (model_name, who)
		ON CONFLICT (name) DO NOTHING;
	SELECT coalesce(max(r.version), 0) + 1 INTO v
	FROM scfrisk.registry_version AS r WHERE r.name = model_name;
	INSERT INTO scfrisk.registry_version (name, version, kind, created_by, n_features, params,
										  train_rows, training_query, metrics, model)
	VALUES (model_name, v, info ->> 'kind', who, (info ->> 'n_features')::integer,
			coalesce(model_params, info -> 'params'), (info ->> 'train_rows')::bigint, query,
			model_metrics, model_bytes);
	INSERT INTO scfrisk.registry_history (name, action, to_version, by, details)
	VALUES (model_name, 'save', v, who,
			jsonb_build_object('kind', info ->> 'kind', 'md5', md5(model_bytes)));
	RETURN v;
END
$$;
COMMENT ON FUNCTION scfrisk.registry_insert(text, bytea, jsonb, text, jsonb) IS
'internal: number and insert a new version, logging it';

-- Make 'target' the deployed version (the caller holds the lock).  The
-- previous deployed version goes back to candidate, or to retired when
-- retire_previous.  The bytes are checked again (a corrupted version is
-- never deployed).
CREATE FUNCTION scfrisk.registry_activate(model_name text, target integer, why text, act text,
										  retire_previous boolean, details jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cur integer;
	st text;
	bytes bytea;
BEGIN
	SELECT r.status, r.model INTO st, bytes
	FROM scfrisk.registry_version AS r WHERE r.name = model_name AND r.version = target;
	IF NOT FOUND THEN
		PERFORM scfrisk.registry_fail('42704', format('model "%s" has no version %s', model_name, target));
	END IF;
	IF st = 'retired' THEN
		PERFORM scfrisk.registry_fail('55000',
			format('version %s of model "%s" is retired and cannot be deployed', target, model_name),
			'Save its bytes again as a new version to deploy them.');
	END IF;
	PERFORM scfrisk.model_info(bytes);	-- XX001 when the stored bytes are damaged
	SELECT r.version INTO cur
	FROM scfrisk.registry_version AS r WHERE r.name = model_name AND r.status = 'deployed';
	IF cur = target THEN
		RAISE NOTICE 'version % of model "%" is already deployed', target, model_name;
		RETURN;
	END IF;
	UPDATE scfrisk.registry_version AS r
	SET status = CASE WHEN retire_previous THEN 'retired' ELSE 'candidate' END
	WHERE r.name = model_name AND r.version = cur;
	UPDATE scfrisk.registry_version AS r SET status = 'deployed'
	WHERE r.name = model_name AND r.version = target;
	INSERT INTO scfrisk.registry_history (name, action, from_version, to_version, by, reason, details)
	VALUES (model_name, act, cur, target, scfrisk.registry_invoker(), why, details);
END
$$;
COMMENT ON FUNCTION scfrisk.registry_activate(text, integer, text, text, boolean, jsonb) IS
'internal: switch the deployed version of a locked model, logging the change';

-- Which direction is better for a metric of binary_metrics or the pinball loss.
CREATE FUNCTION scfrisk.registry_metric_higher_is_better(metric text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
		WHEN metric IN ('auc', 'accuracy', 'precision', 'recall', 'f1', 'mcc', 'ks', 'gini') THEN true
		WHEN metric IN ('logloss', 'brier', 'type1_error', 'type2_error', 'pinball') THEN false
	END
$$;
COMMENT ON FUNCTION scfrisk.registry_metric_higher_is_better(text) IS
'internal: true when a larger value of the metric is better, false when smaller is, NULL for an unknown metric';

-- Training aggregate of a kind, from the one table of model kinds.
CREATE FUNCTION scfrisk.registry_kind_aggregate(kind text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT k.training_aggregate FROM scfrisk.model_kinds() k WHERE k.kind = $1
$$;
COMMENT ON FUNCTION scfrisk.registry_kind_aggregate(text) IS
'internal: the scfrisk training aggregate (features float8[], label float8, params jsonb) of a model kind';

-- The holdout predicate of a hash split: a row is held out when the hash of
-- its features and label, seeded, falls below the fraction.  Deterministic,
-- and duplicate rows land on the same side.
CREATE FUNCTION scfrisk.registry_split_predicate(validation jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT format('(abs(pg_catalog.hashtextextended(q.features::text || ''|'' || q.label::text, %s)) %% 1000000) < %s',
				  (validation ->> 'seed')::bigint,
				  round((validation ->> 'holdout_fraction')::numeric * 1000000)::bigint)
$$;
COMMENT ON FUNCTION scfrisk.registry_split_predicate(jsonb) IS
'internal: SQL predicate on q.features and q.label that selects the holdout rows of a hash split';

-- Check the columns of a stored query, run as the registering role.
CREATE FUNCTION scfrisk.registry_check_columns(run_as text, query text, what text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cols jsonb := scfrisk.registry_query_columns(run_as, query);
	ftype text;
	ltype text;
BEGIN
	SELECT c ->> 'type' INTO ftype FROM jsonb_array_elements(cols) AS c WHERE c ->> 'name' = 'features';
	SELECT c ->> 'type' INTO ltype FROM jsonb_array_elements(cols) AS c WHERE c ->> 'name' = 'label';
	IF ftype IS NULL OR ltype IS NULL THEN
		PERFORM scfrisk.registry_fail('42703',
			format('the %s returns no column "%s"', what, CASE WHEN ftype IS NULL THEN 'features' ELSE 'label' END),
			'It must return a column "features" of type double precision[] and a numeric column "label".');
	END IF;
	IF ftype NOT IN ('double precision[]', 'real[]', 'numeric[]', 'integer[]', 'bigint[]', 'smallint[]') THEN
		PERFORM scfrisk.registry_fail('42804',
			format('column "features" of the %s has type %s, expected double precision[]', what, ftype));
	END IF;
	IF ltype NOT IN ('double precision', 'real', 'numeric', 'integer', 'bigint', 'smallint') THEN
		PERFORM scfrisk.registry_fail('42804',
			format('column "label" of the %s has type %s, expected a number', what, ltype));
	END IF;
END
$$;
COMMENT ON FUNCTION scfrisk.registry_check_columns(text, text, text) IS
'internal: a stored query must return features (a numeric array) and label (a number)';

-- Evaluate a model on the holdout rows: binary_metrics for classifiers, the
-- mean pinball loss over validation.taus for QRGMM.  Runs as run_as.
CREATE FUNCTION scfrisk.registry_evaluate(t scfrisk.registry_training, model_bytes bytea)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	val jsonb := t.validation;
	src text;
	sql text;
BEGIN
	IF val ? 'holdout_query' THEN
		src := format(E'(\n%s\n) AS q', val ->> 'holdout_query');
	ELSE
		src := format(E'(\n%s\n) AS q WHERE %s', t.training_query, scfrisk.registry_split_predicate(val));
	END IF;
	IF t.kind = 'qrgmm_linear' THEN
		sql := 'SELECT pg_catalog.jsonb_build_object(''pinball'', avg(l.loss), ''rows'', count(*)) FROM '
			|| '(SELECT (SELECT avg(scfrisk.pinball_loss(q.label::float8, u.qv, u.tau)) '
			|| 'FROM unnest(taus.a, scfrisk.qrgmm_quantiles($2, q.features::float8[], taus.a)) AS u(tau, qv)) AS loss '
			|| 'FROM (SELECT array_agg(x::float8) AS a FROM pg_catalog.jsonb_array_elements_text($1 -> ''taus'') AS x) AS taus, '
			|| src || ') AS l';
	ELSE
		sql := 'SELECT scfrisk.binary_metrics(q.label::float8, scfrisk.predict($2, q.features::float8[]), '
			|| '($1 ->> ''threshold'')::float8) FROM ' || src;
	END IF;
	RETURN scfrisk.registry_query_as(t.run_as, sql, val, model_bytes, NULL, NULL::jsonb);
END
$$;
COMMENT ON FUNCTION scfrisk.registry_evaluate(scfrisk.registry_training, bytea) IS
'internal: holdout metrics of a model for a training definition, computed as its registering role';

-- ------------------------------------------------------------------ API

CREATE FUNCTION scfrisk.save_model(name text, model bytea, metrics jsonb DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF save_model.model IS NULL THEN
		PERFORM scfrisk.registry_fail('22004', 'model must not be NULL');
	END IF;
	RETURN scfrisk.registry_insert(save_model.name, save_model.model, save_model.metrics, NULL, NULL);
END
$$;
COMMENT ON FUNCTION scfrisk.save_model(text, bytea, jsonb) IS
'save a model as the next version of a name (status candidate); returns the version';

CREATE FUNCTION scfrisk.deploy(name text, version integer)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF deploy.name IS NULL OR deploy.version IS NULL THEN
		PERFORM scfrisk.registry_fail('22004', 'deploy needs a model name and a version');
	END IF;
	PERFORM scfrisk.registry_lock(deploy.name);
	PERFORM scfrisk.registry_activate(deploy.name, deploy.version, 'deployed by hand', 'deploy', false);
END
$$;
COMMENT ON FUNCTION scfrisk.deploy(text, integer) IS
'make a version the deployed one of its model (the previous one goes back to candidate); logged';

CREATE FUNCTION scfrisk.rollback(name text)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cur integer;
	prev integer;
BEGIN
	IF rollback.name IS NULL THEN
		PERFORM scfrisk.registry_fail('22004', 'rollback needs a model name');
	END IF;
	PERFORM scfrisk.registry_lock(rollback.name);
	SELECT r.version INTO cur FROM scfrisk.registry_version AS r
	WHERE r.name = rollback.name AND r.status = 'deployed';
	IF cur IS NULL THEN
		PERFORM scfrisk.registry_fail('55000', format('model "%s" has no deployed version', rollback.name));
	END IF;
	-- the most recently deployed version that is neither the current one nor retired
	SELECT h.to_version INTO prev
	FROM scfrisk.registry_history AS h
	JOIN scfrisk.registry_version AS r ON r.name = h.name AND r.version = h.to_version
	WHERE h.name = rollback.name AND h.action IN ('deploy', 'rollback', 'promote')
	  AND h.to_version <> cur AND r.status <> 'retired'
	ORDER BY h.id DESC LIMIT 1;
	IF prev IS NULL THEN
		PERFORM scfrisk.registry_fail('55000',
			format('model "%s" has no earlier deployed version to roll back to', rollback.name));
	END IF;
	PERFORM scfrisk.registry_activate(rollback.name, prev,
		format('rolled back from version %s', cur), 'rollback', true);
	RETURN prev;
END
$$;
COMMENT ON FUNCTION scfrisk.rollback(text) IS
'deploy again the previously deployed version and retire the current one; returns the version now deployed';

CREATE FUNCTION scfrisk.retire(name text, version integer)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	st text;
BEGIN
	IF retire.name IS NULL OR retire.version IS NULL THEN
		PERFORM scfrisk.registry_fail('22004', 'retire needs a model name and a version');
	END IF;
	PERFORM scfrisk.registry_lock(retire.name);
	SELECT r.status INTO st FROM scfrisk.registry_version AS r
	WHERE r.name = retire.name AND r.version = retire.version;
	IF NOT FOUND THEN
		PERFORM scfrisk.registry_fail('42704', format('model "%s" has no version %s', retire.name, retire.version));
	ELSIF st = 'deployed' THEN
		PERFORM scfrisk.registry_fail('55000',
			format('version %s of model "%s" is deployed', retire.version, retire.name),
			'Deploy another version or roll back first.');
	ELSIF st = 'retired' THEN
		RETURN;
	END IF;
	UPDATE scfrisk.registry_version AS r SET status = 'retired'
	WHERE r.name = retire.name AND r.version = retire.version;
	INSERT INTO scfrisk.registry_history (name, action, from_version, by, reason)
	VALUES (retire.name, 'retire', retire.version, scfrisk.registry_invoker(), 'retired by hand');
END
$$;
COMMENT ON FUNCTION scfrisk.retire(text, integer) IS
'retire a candidate version so that it can never be deployed; logged';

CREATE FUNCTION scfrisk.register_training(name text, kind text, training_query text,
										  params jsonb DEFAULT '{}', validation jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who text := scfrisk.registry_invoker();
	agg text;
	val jsonb;
	k text;
	metric text;
BEGIN
	IF register_training.name IS NULL OR register_training.kind IS NULL
	   OR register_training.training_query IS NULL THEN
		PERFORM scfrisk.registry_fail('22004', 'register_training needs a name, a kind and a training query');
	END IF;
	agg := scfrisk.registry_kind_aggregate(register_training.kind);
	IF agg IS NULL THEN
		PERFORM scfrisk.registry_fail('22023', format('unknown model kind "%s"', register_training.kind),
			'Kinds: gbt, mlp, xgb_mlp, logreg, qrgmm_linear.');
	END IF;
	IF to_regprocedure(format('scfrisk.%s(double precision[], double precision, jsonb)', agg)) IS NULL THEN
		PERFORM scfrisk.registry_fail('42883',
			format('the training aggregate scfrisk.%s of kind "%s" is not installed', agg, register_training.kind));
	END IF;
	IF jsonb_typeof(coalesce(register_training.params, '{}')) <> 'object' THEN
		PERFORM scfrisk.registry_fail('22023', 'params must be a JSON object');
	END IF;
	IF jsonb_typeof(coalesce(register_training.validation, '{}')) <> 'object' THEN
		PERFORM scfrisk.registry_fail('22023', 'validation must be a JSON object');
	END IF;
	FOR k IN SELECT jsonb_object_keys(coalesce(register_training.validation, '{}')) LOOP
		IF k NOT IN ('metric', 'threshold', 'holdout_fraction', 'seed', 'holdout_query', 'tolerance', 'taus') THEN
			PERFORM scfrisk.registry_fail('22023', format('unknown validation key "%s"', k),
				'Keys: metric, threshold, holdout_fraction, seed, holdout_query, tolerance, taus.');
		END IF;
	END LOOP;
	val := jsonb_build_object(
		'metric', CASE WHEN register_training.kind = 'qrgmm_linear' THEN 'pinball' ELSE 'auc' END,
		'threshold', 0.5, 'holdout_fraction', 0.2, 'seed', 42, 'tolerance', 0)
		|| CASE WHEN register_training.kind = 'qrgmm_linear'
				THEN '{"taus": [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95]}'::jsonb ELSE '{}'::jsonb END
		|| coalesce(register_training.validation, '{}');
	metric := val ->> 'metric';
	IF scfrisk.registry_metric_higher_is_better(metric) IS NULL
	   OR (register_training.kind = 'qrgmm_linear') <> (metric = 'pinball') THEN
		PERFORM scfrisk.registry_fail('22023',
			format('validation key "metric": %s is not a metric for kind "%s"', coalesce(metric, 'null'), register_training.kind),
			'Classifiers: auc, accuracy, precision, recall, f1, mcc, ks, gini, logloss, brier, type1_error, type2_error; qrgmm_linear: pinball.');
	END IF;
	IF jsonb_typeof(val -> 'threshold') <> 'number' OR (val ->> 'threshold')::float8 NOT BETWEEN 0 AND 1 THEN
		PERFORM scfrisk.registry_fail('22023', 'validation key "threshold" must be a number in [0, 1]');
	END IF;
	IF jsonb_typeof(val -> 'holdout_fraction') <> 'number'
	   OR (val ->> 'holdout_fraction')::float8 <= 0 OR (val ->> 'holdout_fraction')::float8 >= 1 THEN
		PERFORM scfrisk.registry_fail('22023', 'validation key "holdout_fraction" must be a number in (0, 1)');
	END IF;
	IF jsonb_typeof(val -> 'seed') <> 'number' OR (val ->> 'seed')::numeric <> trunc((val ->> 'seed')::numeric) THEN
		PERFORM scfrisk.registry_fail('22023', 'validation key "seed" must be an integer');
	END IF;
	IF jsonb_typeof(val -> 'tolerance') <> 'number' OR (val ->> 'tolerance')::float8 < 0 THEN
		PERFORM scfrisk.registry_fail('22023', 'validation key "tolerance" must be a number >= 0');
	END IF;
	IF val ? 'holdout_query' AND jsonb_typeof(val -> 'holdout_query') <> 'string' THEN
		PERFORM scfrisk.registry_fail('22023', 'validation key "holdout_query" must be a string');
	END IF;
	IF val ? 'taus' AND (jsonb_typeof(val -> 'taus') <> 'array' OR jsonb_array_length(val -> 'taus') = 0
		OR EXISTS (SELECT 1 FROM jsonb_array_elements(val -> 'taus') AS x
				   WHERE jsonb_typeof(x) <> 'number' OR x::text::float8 <= 0 OR x::text::float8 >= 1)) THEN
		PERFORM scfrisk.registry_fail('22023', 'validation key "taus" must be a non-empty array of numbers in (0, 1)');
	END IF;

	-- the queries must be one SELECT returning features and label, readable by the registering role
	PERFORM scfrisk.registry_check_columns(who, register_training.training_query, 'training query');
	IF val ? 'holdout_query' THEN
		PERFORM scfrisk.registry_check_columns(who, val ->> 'holdout_query', 'holdout query');
	END IF;

	INSERT INTO scfrisk.registry_model (name, created_by) VALUES (register_training.name, who)
		ON CONFLICT ON CONSTRAINT registry_model_pkey DO NOTHING;
	INSERT INTO scfrisk.registry_training AS t (name, kind, training_query, params, validation, run_as)
	VALUES (register_training.name, register_training.kind, register_training.training_query,
			coalesce(register_training.params, '{}'), val, who)
	ON CONFLICT ON CONSTRAINT registry_training_pkey DO UPDATE
	SET kind = excluded.kind, training_query = excluded.training_query, params = excluded.params,
		validation = excluded.validation, run_as = excluded.run_as, registered_at = now();
	INSERT INTO scfrisk.registry_history (name, action, by, details)
	VALUES (register_training.name, 'register', who,
			jsonb_build_object('kind', register_training.kind, 'params', coalesce(register_training.params, '{}'),
							   'validation', val));
END
$$;
COMMENT ON FUNCTION scfrisk.register_training(text, text, text, jsonb, jsonb) IS
'store how scfrisk.retrain trains a model: kind, a SELECT returning features and label (run as the registering role), params, validation';

-- Step 1 of retrain: train, evaluate the candidate and the champion on the
-- holdout, save the candidate with its metrics.  Returns the new version.
CREATE FUNCTION scfrisk.retrain_fit(name text)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who text := scfrisk.registry_invoker();
	t scfrisk.registry_training;
	agg text;
	sql text;
	candidate bytea;
	cand jsonb;
	champ jsonb;
	champ_v integer;
	champ_bytes bytea;
	champ_err text;
	metric text;
	v integer;
	m jsonb;
BEGIN
	IF NOT has_function_privilege(who, 'scfrisk.retrain(text)', 'EXECUTE') THEN
		PERFORM scfrisk.registry_fail('42501', 'permission denied for procedure retrain');
	END IF;
	SELECT * INTO t FROM scfrisk.registry_training AS r WHERE r.name = retrain_fit.name;
	IF NOT FOUND THEN
		PERFORM scfrisk.registry_fail('42704', format('model "%s" has no registered training', retrain_fit.name),
			'Register one with scfrisk.register_training.');
	END IF;
	metric := t.validation ->> 'metric';
	agg := scfrisk.registry_kind_aggregate(t.kind);

	sql := format(E'SELECT scfrisk.%I(q.features::float8[], q.label::float8, $1) FROM (\n%s\n) AS q',
				  agg, t.training_query);
	IF NOT t.validation ? 'holdout_query' THEN
		sql := sql || ' WHERE NOT ' || scfrisk.registry_split_predicate(t.validation);
	END IF;
	candidate := scfrisk.registry_query_as(t.run_as, sql, t.params, NULL, NULL, NULL::bytea);
	IF candidate IS NULL THEN
		PERFORM scfrisk.registry_fail('22000',
			format('the training query of model "%s" gave no training rows', t.name));
	END IF;

	cand := scfrisk.registry_evaluate(t, candidate);
	IF cand IS NULL OR jsonb_typeof(cand -> metric) IS DISTINCT FROM 'number' THEN
		PERFORM scfrisk.registry_fail('22000',
			format('metric %s of the candidate of model "%s" is undefined on the holdout', metric, t.name),
			'The holdout needs rows (and both classes for a classifier).');
	END IF;

	SELECT r.version, r.model INTO champ_v, champ_bytes
	FROM scfrisk.registry_version AS r WHERE r.name = t.name AND r.status = 'deployed';
	IF champ_v IS NOT NULL THEN
		BEGIN
			champ := scfrisk.registry_evaluate(t, champ_bytes);
		EXCEPTION WHEN OTHERS THEN
			champ_err := SQLSTATE || ': ' || SQLERRM;
		END;
	END IF;

	m := jsonb_build_object('metric', metric, 'holdout', cand, 'score', cand -> metric,
							'champion_version', champ_v, 'champion_holdout', champ,
							'champion_score', champ -> metric, 'champion_error', champ_err,
							'validation', t.validation);
	v := scfrisk.registry_insert(t.name, candidate, jsonb_strip_nulls(m), t.training_query, t.params);
	INSERT INTO scfrisk.registry_history (name, action, from_version, to_version, by, reason, details)
	VALUES (t.name, 'retrain', champ_v, v, who,
			format('trained as %s; %s %s on the holdout', t.run_as, metric, cand -> metric), jsonb_strip_nulls(m));
	RETURN v;
END
$$;
COMMENT ON FUNCTION scfrisk.retrain_fit(text) IS
'step 1 of scfrisk.retrain: train a candidate with the registered training, evaluate it and the champion, save it';

-- Step 2 of retrain: champion / challenger.
CREATE FUNCTION scfrisk.retrain_promote(name text, version integer)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who text := scfrisk.registry_invoker();
	m jsonb;
	metric text;
	higher boolean;
	tol float8;
	cand float8;
	champ float8;
	champ_v integer;
	cur integer;
	why text;
BEGIN
	IF NOT has_function_privilege(who, 'scfrisk.retrain(text)', 'EXECUTE') THEN
		PERFORM scfrisk.registry_fail('42501', 'permission denied for procedure retrain');
	END IF;
	SELECT r.metrics INTO m FROM scfrisk.registry_version AS r
	WHERE r.name = retrain_promote.name AND r.version = retrain_promote.version;
	IF NOT FOUND THEN
		PERFORM scfrisk.registry_fail('42704',
			format('model "%s" has no version %s', retrain_promote.name, retrain_promote.version));
	END IF;
	metric := m ->> 'metric';
	higher := scfrisk.registry_metric_higher_is_better(metric);
	tol := coalesce((m -> 'validation' ->> 'tolerance')::float8, 0);
	cand := (m ->> 'score')::float8;
	champ := (m ->> 'champion_score')::float8;
	champ_v := (m ->> 'champion_version')::integer;

	BEGIN
		PERFORM scfrisk.registry_lock(retrain_promote.name);
	EXCEPTION WHEN lock_not_available THEN
		why := 'another session was changing the model; candidate kept';
		INSERT INTO scfrisk.registry_history (name, action, from_version, to_version, by, reason)
		VALUES (retrain_promote.name, 'keep', champ_v, retrain_promote.version, who, why);
		RETURN format('version %s kept as candidate: %s', retrain_promote.version, why);
	END;
	SELECT r.version INTO cur FROM scfrisk.registry_version AS r
	WHERE r.name = retrain_promote.name AND r.status = 'deployed';

	IF cur IS DISTINCT FROM champ_v THEN
		why := format('the deployed version changed during retraining (%s, now %s)',
					  coalesce(champ_v::text, 'none'), coalesce(cur::text, 'none'));
	ELSIF champ_v IS NULL THEN
		PERFORM scfrisk.registry_activate(retrain_promote.name, retrain_promote.version,
			format('no deployed version; %s %s', metric, cand), 'promote', false, m);
		RETURN format('version %s promoted: no version was deployed', retrain_promote.version);
	ELSIF champ IS NULL THEN
		why := format('the champion (version %s) could not be scored on the holdout (%s); deploy by hand if intended',
					  champ_v, coalesce(m ->> 'champion_error', 'no score'));
	ELSIF (higher AND cand >= champ - tol) OR (NOT higher AND cand <= champ + tol) THEN
		why := format('%s %s vs champion (version %s) %s, %s is better, tolerance %s',
					  metric, cand, champ_v, champ, CASE WHEN higher THEN 'higher' ELSE 'lower' END, tol);
		PERFORM scfrisk.registry_activate(retrain_promote.name, retrain_promote.version, why, 'promote', false, m);
		RETURN format('version %s promoted: %s', retrain_promote.version, why);
	ELSE
		why := format('%s %s is worse than the champion (version %s) %s, %s is better, tolerance %s',
					  metric, cand, champ_v, champ, CASE WHEN higher THEN 'higher' ELSE 'lower' END, tol);
	END IF;
	INSERT INTO scfrisk.registry_history (name, action, from_version, to_version, by, reason, details)
	VALUES (retrain_promote.name, 'keep', cur, retrain_promote.version, who, why, m);
	RETURN format('version %s kept as candidate: %s', retrain_promote.version, why);
END
$$;
COMMENT ON FUNCTION scfrisk.retrain_promote(text, integer) IS
'step 2 of scfrisk.retrain: promote the candidate when it is not worse than the champion by the configured metric, else keep it; logged either way';

CREATE PROCEDURE scfrisk.retrain(name text)
AS 'MODULE_PATHNAME', 'registry_retrain'
LANGUAGE C;
COMMENT ON PROCEDURE scfrisk.retrain(text) IS
'retrain a registered model: train and save a candidate (commit), then champion / challenger promotion (commit)';

-- ------------------------------------------------------------------ privileges

-- Nothing of the registry is open by default; docs/registry.md grants the
-- reader, trainer and owner roles.  The two retrain steps check the EXECUTE
-- privilege on scfrisk.retrain themselves, so granting that one suffices.
REVOKE ALL ON scfrisk.registry_model, scfrisk.registry_version, scfrisk.registry_history,
	scfrisk.registry_training, scfrisk.model_versions, scfrisk.model_history,
	scfrisk.deployed_models FROM PUBLIC;
REVOKE ALL ON SEQUENCE scfrisk.registry_history_id_seq FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION
	scfrisk.registry_invoker(), scfrisk.registry_query_as(text, text, jsonb, bytea, bytea, anyelement),
	scfrisk.registry_query_columns(text, text), scfrisk.predict(text, float8[]), scfrisk.model(text),
	scfrisk.registry_fail(text, text, text), scfrisk.registry_lock(text),
	scfrisk.registry_insert(text, bytea, jsonb, text, jsonb),
	scfrisk.registry_activate(text, integer, text, text, boolean, jsonb),
	scfrisk.registry_metric_higher_is_better(text), scfrisk.registry_kind_aggregate(text),
	scfrisk.registry_split_predicate(jsonb), scfrisk.registry_check_columns(text, text, text),
	scfrisk.registry_evaluate(scfrisk.registry_training, bytea),
	scfrisk.save_model(text, bytea, jsonb), scfrisk.deploy(text, integer), scfrisk.rollback(text),
	scfrisk.retire(text, integer), scfrisk.register_training(text, text, text, jsonb, jsonb)
FROM PUBLIC;
REVOKE EXECUTE ON PROCEDURE scfrisk.retrain(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION scfrisk.retrain_fit(text), scfrisk.retrain_promote(text, integer),
	scfrisk.registry_invoker() TO PUBLIC;
