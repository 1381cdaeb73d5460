-- scfrisk baselines (issue 15): tree_train and rf_train, their scorers,
-- importance, and every error with its SQLSTATE.  Data come from a
-- deterministic hash-based generator, so the model bytes are the same on
-- every run; only rounded values and booleans are printed.

CREATE FUNCTION pg_temp.u(k int, s int) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
	SELECT ((('x' || substr(md5(k::text || ':' || s::text), 1, 13))::bit(52)::bigint)::float8 + 0.5)
		/ 4503599627370496.0
$$;

-- the SQLSTATE and message of a statement's error
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- label 1 when x1 * x2 + (x3 > 0.5) is large; x2 missing for every 9th row
CREATE TEMP TABLE g AS
SELECT k,
	   ARRAY[2 * pg_temp.u(k, 1) - 1,
			 CASE WHEN k % 9 = 0 THEN NULL ELSE 2 * pg_temp.u(k, 2) - 1 END,
			 pg_temp.u(k, 3), pg_temp.u(k, 4)] AS f,
	   ((2 * pg_temp.u(k, 1) - 1) * coalesce(2 * pg_temp.u(k, 2) - 1, 0)
		+ (pg_temp.u(k, 3) > 0.5)::int + 0.3 * pg_temp.u(k, 5) > 0.6)::int::float8 AS y
FROM generate_series(1, 2000) k;

CREATE TEMP TABLE m AS
SELECT (SELECT scfrisk.tree_train(f, y, '{"max_depth": 5, "min_samples_leaf": 5,
			"feature_names": ["a", "b", "c", "noise"]}') FROM g WHERE k <= 1500) AS tree,
	   (SELECT scfrisk.rf_train(f, y, '{"n_estimators": 30, "min_samples_leaf": 2, "seed": 7,
			"feature_names": ["a", "b", "c", "noise"]}') FROM g WHERE k <= 1500) AS forest;

SELECT scfrisk.model_kind(tree) AS tree_kind, scfrisk.model_kind(forest) AS forest_kind,
	   scfrisk.model_info(tree)->'info'->'n_trees' AS tree_trees,
	   scfrisk.model_info(forest)->'info'->'n_trees' AS forest_trees,
	   scfrisk.model_info(forest)->'info'->'criterion' AS criterion,
	   scfrisk.model_info(forest)->'params'->'max_features' AS max_features,
	   scfrisk.model_info(tree)->'params' ? 'n_estimators' AS tree_has_n_estimators,
	   scfrisk.model_info(forest)->'train_rows' AS rows
FROM m;

-- same data, params and seed: same bytes; another seed: another forest
SELECT md5(forest) = (SELECT md5(scfrisk.rf_train(f, y, '{"n_estimators": 30, "min_samples_leaf": 2,
		"seed": 7, "feature_names": ["a", "b", "c", "noise"]}')) FROM g WHERE k <= 1500) AS deterministic,
	   md5(forest) <> (SELECT md5(scfrisk.rf_train(f, y, '{"n_estimators": 30, "min_samples_leaf": 2,
		"seed": 8, "feature_names": ["a", "b", "c", "noise"]}')) FROM g WHERE k <= 1500) AS seed_matters
FROM m;

-- held-out AUC, and the scorers agree with scfrisk.predict
SELECT (scfrisk.binary_metrics(y, scfrisk.tree_predict(tree, f))->>'auc')::float8 > 0.85 AS tree_auc,
	   (scfrisk.binary_metrics(y, scfrisk.rf_predict(forest, f))->>'auc')::float8 > 0.9 AS forest_auc
FROM g, m WHERE k > 1500;
SELECT bool_and(scfrisk.tree_predict(tree, f) = scfrisk.predict(tree, f)) AS tree_dispatches,
	   bool_and(scfrisk.rf_predict(forest, f) = scfrisk.predict(forest, f)) AS forest_dispatches,
	   bool_and(scfrisk.rf_predict(forest, f) BETWEEN 0 AND 1) AS probabilities
FROM g, m;
-- NULL and NaN elements are the same missing value
SELECT scfrisk.rf_predict(forest, ARRAY[0.5, NULL, 0.7, 0.1])
	 = scfrisk.rf_predict(forest, ARRAY[0.5, 'NaN', 0.7, 0.1]) AS null_is_nan FROM m;

-- importance: names, sums to 1, the noise feature ranks last in the forest
SELECT feature, name, importance > 0 AS used FROM m, scfrisk.tree_importance(forest) ORDER BY feature;
SELECT round(sum(importance)::numeric, 9) AS total,
	   (array_agg(feature ORDER BY importance))[1] = 4 AS noise_least
FROM m, scfrisk.tree_importance(forest);

-- regression: leaf means stay within the labels' range
SELECT min(p) >= 0 AND max(p) <= 3 AS within_range
FROM (SELECT scfrisk.predict(r.model, f) AS p
	  FROM g, (SELECT scfrisk.rf_train(f, y * 3, '{"objective": "regression", "n_estimators": 5}') AS model
			   FROM g) r) s;

-- rows with NULL features or label are skipped
SELECT scfrisk.model_info(scfrisk.tree_train(f, y, '{}'))->'train_rows' AS rows_without_nulls
FROM (SELECT f, y FROM g WHERE k <= 100 UNION ALL SELECT NULL, 1 UNION ALL SELECT f, NULL FROM g WHERE k = 1) s;

-- ------------------------------------------------------------ errors
SELECT pg_temp.err($$SELECT scfrisk.tree_train(f, y, '{}') FROM g WHERE false$$);
SELECT pg_temp.err($$SELECT scfrisk.rf_train(f, 1, '{}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.tree_train(f, 0.5, '{}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.tree_train(f, 'NaN', '{}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.rf_train(CASE WHEN k = 5 THEN ARRAY[1, 2] ELSE f END, y, '{}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.rf_train(ARRAY[1, 'Infinity'::float8], 0, '{}')$$);
SELECT pg_temp.err($$SELECT scfrisk.rf_train('{}'::float8[], 0, '{}')$$);
SELECT pg_temp.err($$SELECT scfrisk.rf_train(f, y, '{"n_estimators": 0}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.rf_train(f, y, '{"n_estimators": 10001}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.tree_train(f, y, '{"max_depth": 65}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.tree_train(f, y, '{"min_samples_leaf": 0}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.tree_train(f, y, '{"min_samples_split": 1}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.tree_train(f, y, '{"n_estimators": 5}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.rf_train(f, y, '{"criterion": "squared_error"}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.rf_train(f, y, '{"objective": "regression", "criterion": "gini"}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.rf_train(f, y, '{"max_features": "half"}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.rf_train(f, y, '{"feature_names": ["a"]}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.rf_train(f, y, '[1]') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.rf_predict(tree, ARRAY[1, 2, 3, 4]) FROM m$$);
SELECT pg_temp.err($$SELECT scfrisk.tree_predict(tree, ARRAY[1, 2]) FROM m$$);
SELECT pg_temp.err($$SELECT scfrisk.rf_predict(forest, ARRAY[1, 2, 'Infinity'::float8, 4]) FROM m$$);
SELECT pg_temp.err($$SELECT scfrisk.rf_predict('\x00'::bytea, ARRAY[1, 2, 3, 4])$$);
SELECT pg_temp.err($$SELECT scfrisk.rf_predict(substr(forest, 1, length(forest) - 3), ARRAY[1, 2, 3, 4]) FROM m$$);
SELECT pg_temp.err($$SELECT * FROM scfrisk.tree_importance((SELECT scfrisk.xgb_train(f, y, '{"n_estimators": 2}') FROM g))$$);

-- ------------------------------------------------------------ Gaussian naive Bayes
-- (rows without missing values: naive Bayes takes none)
CREATE TEMP TABLE nbm AS
SELECT scfrisk.nb_train(f, y, '{"feature_names": ["a", "b", "c", "noise"]}') AS model
FROM g WHERE k <= 1500 AND k % 9 <> 0;
SELECT scfrisk.model_kind(model), scfrisk.model_info(model)->'info'->'class_prior' AS priors,
	   scfrisk.model_info(model)->'params' AS params, scfrisk.model_info(model)->'train_rows' AS rows
FROM nbm;
SELECT (scfrisk.binary_metrics(y, scfrisk.nb_predict(model, f))->>'auc')::float8 > 0.6 AS nb_auc,
	   bool_and(scfrisk.nb_predict(model, f) = scfrisk.predict(model, f)) AS nb_dispatches
FROM g, nbm WHERE k > 1500 AND k % 9 <> 0;
SELECT pg_temp.err($$SELECT scfrisk.nb_train(f, y, '{}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.nb_train(f, y, '{"var_smoothing": -1}') FROM g WHERE k % 9 <> 0$$);
SELECT pg_temp.err($$SELECT scfrisk.nb_train(ARRAY[1, 1], y, '{}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.nb_train(f, 2, '{}') FROM g WHERE k % 9 <> 0$$);
SELECT pg_temp.err($$SELECT scfrisk.nb_predict(model, ARRAY[1, NULL, 3, 4]) FROM nbm$$);
SELECT pg_temp.err($$SELECT scfrisk.predict(model, ARRAY[1, 'NaN'::float8, 3, 4]) FROM nbm$$);
SELECT pg_temp.err($$SELECT scfrisk.nb_predict(tree, ARRAY[1, 2, 3, 4]) FROM m$$);

-- ------------------------------------------------------------ linear SVM
CREATE TEMP TABLE svmm AS
SELECT scfrisk.svm_train(f, y, '{"C": 0.5, "seed": 3}') AS model
FROM g WHERE k <= 1500 AND k % 9 <> 0;
SELECT scfrisk.model_kind(model), scfrisk.model_info(model)->'info'->'converged' AS converged,
	   scfrisk.model_info(model)->'params'->'loss' AS loss, scfrisk.model_info(model)->'train_rows' AS rows
FROM svmm;
SELECT (scfrisk.binary_metrics(y, scfrisk.svm_predict(model, f))->>'auc')::float8 > 0.6 AS svm_auc,
	   bool_and(scfrisk.svm_predict(model, f) = scfrisk.predict(model, f)) AS svm_dispatches,
	   -- Platt's sigmoid is increasing in the decision value
	   corr(scfrisk.svm_decision(model, f), scfrisk.svm_predict(model, f)) > 0.9 AS monotone
FROM g, svmm WHERE k > 1500 AND k % 9 <> 0;
-- max_iter reached: a warning, and the model says so
SELECT scfrisk.model_info(scfrisk.svm_train(f, y, '{"max_iter": 1, "tol": 1e-12}'))->'info'->'converged' AS converged
FROM g WHERE k % 9 <> 0;
SELECT pg_temp.err($$SELECT scfrisk.svm_train(f, y, '{"C": 0}') FROM g WHERE k % 9 <> 0$$);
SELECT pg_temp.err($$SELECT scfrisk.svm_train(f, y, '{"loss": "log"}') FROM g WHERE k % 9 <> 0$$);
SELECT pg_temp.err($$SELECT scfrisk.svm_train(f, y, '{"platt_folds": 1}') FROM g WHERE k % 9 <> 0$$);
SELECT pg_temp.err($$SELECT scfrisk.svm_train(f, y, '{"platt_folds": 5}') FROM g WHERE k % 9 <> 0 AND k <= 4$$);
SELECT pg_temp.err($$SELECT scfrisk.svm_train(f, 0, '{}') FROM g WHERE k % 9 <> 0$$);
SELECT pg_temp.err($$SELECT scfrisk.svm_train(f, y, '{}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.svm_decision(model, ARRAY[1, 2, 3]) FROM svmm$$);
SELECT pg_temp.err($$SELECT scfrisk.svm_predict(model, ARRAY[1, 2, 3, 4]) FROM nbm$$);

-- ------------------------------------------------------------ k nearest neighbours
CREATE TEMP TABLE knnm AS
SELECT scfrisk.knn_train(f, y, '{"k": 15, "weights": "distance"}') AS model
FROM g WHERE k <= 1500 AND k % 9 <> 0;
SELECT scfrisk.model_kind(model), scfrisk.model_info(model)->'info' AS info,
	   scfrisk.model_info(model)->'train_rows' AS rows
FROM knnm;
SELECT (scfrisk.binary_metrics(y, scfrisk.knn_predict(model, f))->>'auc')::float8 > 0.8 AS knn_auc,
	   bool_and(scfrisk.knn_predict(model, f) = scfrisk.predict(model, f)) AS knn_dispatches
FROM g, knnm WHERE k > 1500 AND k % 9 <> 0;
-- k = 1 with uniform weights: a training row is its own nearest neighbour
SELECT bool_and(scfrisk.knn_predict(m.model, g.f) = g.y) AS memorises
FROM g, (SELECT scfrisk.knn_train(f, y, '{"k": 1}') AS model FROM g WHERE k <= 300 AND k % 9 <> 0) m
WHERE g.k <= 300 AND g.k % 9 <> 0;
SELECT pg_temp.err($$SELECT scfrisk.knn_train(f, y, '{"k": 20}') FROM g WHERE k <= 19 AND k % 9 <> 0$$);
SELECT pg_temp.err($$SELECT scfrisk.knn_train(f, y, '{"k": 0}') FROM g WHERE k % 9 <> 0$$);
SELECT pg_temp.err($$SELECT scfrisk.knn_train(f, y, '{"k": 1001}') FROM g WHERE k % 9 <> 0$$);
SELECT pg_temp.err($$SELECT scfrisk.knn_train(f, y, '{"weights": "gaussian"}') FROM g WHERE k % 9 <> 0$$);
SELECT pg_temp.err($$SELECT scfrisk.knn_train(ARRAY[i::float8], (i % 2)::float8, '{}') FROM generate_series(1, 200001) i$$);
SELECT pg_temp.err($$SELECT scfrisk.knn_train(array_fill(1::float8, ARRAY[1001]), 1, '{}')$$);
SELECT pg_temp.err($$SELECT scfrisk.knn_train(f, y, '{}') FROM g$$);
SELECT pg_temp.err($$SELECT scfrisk.knn_predict(model, ARRAY[1, 2, 3, 'NaN'::float8]) FROM knnm$$);
SELECT pg_temp.err($$SELECT scfrisk.knn_predict(model, ARRAY[1, 2, 3, 4]) FROM svmm$$);

-- ------------------------------------------------------------ partial dependence on every new kind
-- the mean score over the rows with feature 3 set to each grid value: it rises with x3 for
-- every kind (the label rises with x3 > 0.5)
SELECT u.kind, (pd[3] > pd[1]) AS rises_with_x3
FROM (SELECT 'cart' AS kind, scfrisk.partial_dependence(tree, f, 3, ARRAY[0.1, 0.5, 0.9]) AS pd
	  FROM g, m WHERE k % 9 <> 0
	  UNION ALL
	  SELECT 'forest', scfrisk.partial_dependence(forest, f, 3, ARRAY[0.1, 0.5, 0.9]) FROM g, m WHERE k % 9 <> 0
	  UNION ALL
	  SELECT 'gaussian_nb', scfrisk.partial_dependence(model, f, 3, ARRAY[0.1, 0.5, 0.9]) FROM g, nbm WHERE k % 9 <> 0
	  UNION ALL
	  SELECT 'linear_svm', scfrisk.partial_dependence(model, f, 3, ARRAY[0.1, 0.5, 0.9]) FROM g, svmm WHERE k % 9 <> 0
	  UNION ALL
	  SELECT 'knn', scfrisk.partial_dependence(model, f, 3, ARRAY[0.1, 0.5, 0.9]) FROM g, knnm WHERE k % 9 <> 0) u
ORDER BY u.kind;
