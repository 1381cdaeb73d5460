-- scfrisk install script, part 27: cross-validation and tuning in SQL
-- (issue 14).  The training query runs as the calling role under the
-- registry's read-only checks (part 60: registry_query_as,
-- registry_check_columns), so these functions are SECURITY DEFINER only to
-- reach those internal helpers.  Docs: docs/cross-validation.md.

CREATE FUNCTION scfrisk.row_fold(features float8[], label float8, folds integer, seed bigint DEFAULT 0)
RETURNS integer
AS 'MODULE_PATHNAME', 'cv_row_fold'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.row_fold(float8[], float8, integer, bigint) IS
'the cross-validation fold (0 .. folds - 1) of a row: a seeded splitmix64 hash of its features and label, independent of scan order';

CREATE FUNCTION scfrisk.check_params(kind text, params jsonb)
RETURNS void
AS 'MODULE_PATHNAME', 'cv_check_params'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.check_params(text, jsonb) IS
'raise the error the trainer of a classifier kind (gbt, mlp, logreg, xgb_mlp) would raise for params, before any training';

CREATE FUNCTION scfrisk.cross_validate(kind text, training_query text, params jsonb DEFAULT '{}',
									   folds integer DEFAULT 5, seed integer DEFAULT 0)
RETURNS TABLE (fold integer, train_rows bigint, test_rows bigint, auc float8, metrics jsonb)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who text := scfrisk.registry_invoker();
	agg text;
	src text;
	in_fold text;
	model bytea;
	m jsonb;
	k integer;
	all_m jsonb := '[]';
BEGIN
	IF kind IS NULL OR training_query IS NULL OR folds IS NULL OR seed IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'cross_validate: kind, training_query, folds and seed must not be NULL';
	END IF;
	IF folds < 2 OR folds > 100 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('cross_validate: folds must be between 2 and 100, got %s', folds);
	END IF;
	-- the classifiers: the kinds of the table of kinds that score rows
	agg := (SELECT k.training_aggregate FROM scfrisk.model_kinds() k
			WHERE k.kind = cross_validate.kind AND k.scores_rows);
	IF agg IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('cross_validate: unknown classifier kind "%s"', kind),
			HINT = 'The classifiers are the kinds of scfrisk.model_kinds() that score rows.';
	END IF;
	params := coalesce(params, '{}');
	PERFORM scfrisk.check_params(kind, params);
	PERFORM scfrisk.registry_check_columns(who, training_query, 'training query');
	src := format(E'(\n%s\n) AS q', training_query);
	in_fold := format('scfrisk.row_fold(q.features::float8[], q.label::float8, %s, %s)', folds, seed);
	FOR k IN 0 .. folds - 1 LOOP
		model := scfrisk.registry_query_as(who,
			format('SELECT scfrisk.%I(q.features::float8[], q.label::float8, $1) FROM %s WHERE %s <> %s',
				   agg, src, in_fold, k),
			params, NULL, NULL, NULL::bytea);
		IF model IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = '22000',
				MESSAGE = format('cross_validate: fold %s of %s has no training rows', k + 1, folds),
				HINT = 'The training query returns too few rows (rows with NULL features or label are skipped).';
		END IF;
		m := scfrisk.registry_query_as(who,
			format('SELECT scfrisk.binary_metrics(q.label::float8, scfrisk.predict($2, q.features::float8[])) '
				   'FROM %s WHERE %s = %s', src, in_fold, k),
			NULL, model, NULL, NULL::jsonb);
		IF m IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = '22000',
				MESSAGE = format('cross_validate: fold %s of %s has no test rows', k + 1, folds),
				HINT = 'Use fewer folds or more rows.';
		END IF;
		fold := k;
		train_rows := (scfrisk.model_info(model) ->> 'train_rows')::bigint;
		test_rows := (m ->> 'n')::bigint;
		auc := (m ->> 'auc')::float8;
		metrics := m;
		RAISE NOTICE 'cross_validate: fold %/% of %: % training rows, % test rows, auc %',
			k + 1, folds, kind, train_rows, test_rows, coalesce(round(auc::numeric, 4)::text, 'undefined');
		all_m := all_m || jsonb_build_array(m);
		RETURN NEXT;
	END LOOP;
	-- the mean row: fold NULL, the mean of each numeric metric over the folds
	fold := NULL;
	train_rows := NULL;
	SELECT sum((e ->> 'n')::bigint) INTO test_rows FROM jsonb_array_elements(all_m) AS e;
	SELECT jsonb_object_agg(key, mean) INTO metrics
	FROM (SELECT kv.key, avg((kv.value #>> '{}')::float8) AS mean
		  FROM jsonb_array_elements(all_m) AS e, jsonb_each(e) AS kv
		  WHERE jsonb_typeof(kv.value) = 'number'
		  GROUP BY kv.key) AS s;
	auc := (metrics ->> 'auc')::float8;
	RETURN NEXT;
END
$$;
COMMENT ON FUNCTION scfrisk.cross_validate(text, text, jsonb, integer, integer) IS
'k-fold cross-validation of a classifier kind on the rows of a read-only query (features, label), run as the caller: binary_metrics per fold (folds by row_fold) and their mean (fold NULL)';

CREATE FUNCTION scfrisk.tune(kind text, training_query text, grid jsonb,
							 folds integer DEFAULT 5, seed integer DEFAULT 0)
RETURNS TABLE (candidate integer, params jsonb, auc float8, auc_sd float8, best boolean)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cands jsonb[] := ARRAY['{}'::jsonb];
	key text;
	vals jsonb;
	c jsonb;
	i integer;
	results jsonb := '[]';
	mean_auc float8;
	sd_auc float8;
	best_i integer;
	best_auc float8;
BEGIN
	IF grid IS NULL OR jsonb_typeof(grid) <> 'object' OR grid = '{}' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'tune: grid must be a non-empty JSON object of parameter names and lists of values',
			HINT = 'For example {"max_depth": [2, 4], "eta": [0.05, 0.3]}.';
	END IF;
	IF kind IS NULL OR NOT EXISTS (SELECT 1 FROM scfrisk.model_kinds() k
								   WHERE k.kind = tune.kind AND k.scores_rows
									 AND k.training_aggregate IS NOT NULL) THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('tune: unknown classifier kind "%s"', kind),
			HINT = 'The classifiers are the kinds of scfrisk.model_kinds() that score rows.';
	END IF;
	FOR key, vals IN SELECT g.key, g.value FROM jsonb_each(grid) AS g ORDER BY g.key LOOP
		IF jsonb_typeof(vals) <> 'array' THEN
			vals := jsonb_build_array(vals);
		END IF;
		IF jsonb_array_length(vals) = 0 THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('tune: grid key "%s" lists no value', key);
		END IF;
		cands := ARRAY(SELECT cc || jsonb_build_object(key, v)
					   FROM unnest(cands) WITH ORDINALITY AS a(cc, ci),
							jsonb_array_elements(vals) WITH ORDINALITY AS b(v, vi)
					   ORDER BY ci, vi);
		IF cardinality(cands) > 1000 THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = 'tune: the grid has more than 1000 candidates';
		END IF;
	END LOOP;
	-- every candidate must parse before anything trains (unknown keys, ranges)
	FOREACH c IN ARRAY cands LOOP
		PERFORM scfrisk.check_params(kind, c);
	END LOOP;
	FOR i IN 1 .. cardinality(cands) LOOP
		SELECT max(cv.auc) FILTER (WHERE cv.fold IS NULL), stddev_samp(cv.auc) FILTER (WHERE cv.fold IS NOT NULL)
		INTO mean_auc, sd_auc
		FROM scfrisk.cross_validate(kind, training_query, cands[i], folds, seed) AS cv;
		RAISE NOTICE 'tune: candidate %/% %: mean auc %', i, cardinality(cands), cands[i],
			coalesce(round(mean_auc::numeric, 4)::text, 'undefined');
		results := results || jsonb_build_array(jsonb_build_object('auc', mean_auc, 'sd', sd_auc));
		IF mean_auc IS NOT NULL AND (best_auc IS NULL OR mean_auc > best_auc) THEN
			best_auc := mean_auc;
			best_i := i;
		END IF;
	END LOOP;
	FOR i IN 1 .. cardinality(cands) LOOP
		candidate := i;
		params := cands[i];
		auc := (results -> (i - 1) ->> 'auc')::float8;
		auc_sd := (results -> (i - 1) ->> 'sd')::float8;
		best := i = best_i;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION scfrisk.tune(text, text, jsonb, integer, integer) IS
'grid search: cross_validate every combination of the grid''s values (same folds), the mean out-of-fold AUC of each, best = the highest (the first on ties)';
