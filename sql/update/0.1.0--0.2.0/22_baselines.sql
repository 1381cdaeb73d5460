-- 0.1.0 -> 0.2.0: the paper's baselines (sql/install/22_baselines.sql, issue 15): new objects only.

-- ------------------------------------------------------------ training
CREATE FUNCTION scfrisk.tree_train_sfunc(internal, float8[], float8, jsonb)
RETURNS internal
AS 'MODULE_PATHNAME', 'tree_train_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.tree_train_sfunc(internal, float8[], float8, jsonb) IS
'transition function of tree_train: collects a row (NULL features or label skip the row; NULL or NaN elements are missing values)';

CREATE FUNCTION scfrisk.rf_train_sfunc(internal, float8[], float8, jsonb)
RETURNS internal
AS 'MODULE_PATHNAME', 'rf_train_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.rf_train_sfunc(internal, float8[], float8, jsonb) IS
'transition function of rf_train: collects a row (NULL features or label skip the row; NULL or NaN elements are missing values)';

CREATE FUNCTION scfrisk.forest_rows_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'forest_rows_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.forest_rows_serialize(internal) IS
'serialises the collected tree_train or rf_train rows for parallel aggregation';

CREATE FUNCTION scfrisk.forest_rows_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'forest_rows_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.forest_rows_deserialize(bytea, internal) IS
'reads tree_train or rf_train rows serialised by forest_rows_serialize';

CREATE FUNCTION scfrisk.forest_rows_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'forest_rows_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.forest_rows_combine(internal, internal) IS
'appends the tree_train or rf_train rows of two partial states';

CREATE FUNCTION scfrisk.tree_train_final(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'tree_train_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.tree_train_final(internal) IS
'final function of tree_train: grows the tree on the rows in canonical order and returns the model bytes';

CREATE FUNCTION scfrisk.rf_train_final(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'rf_train_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.rf_train_final(internal) IS
'final function of rf_train: grows the forest on the rows in canonical order and returns the model bytes';

CREATE AGGREGATE scfrisk.tree_train(features float8[], label float8, params jsonb) (
	SFUNC = scfrisk.tree_train_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.tree_train_final,
	SERIALFUNC = scfrisk.forest_rows_serialize,
	DESERIALFUNC = scfrisk.forest_rows_deserialize,
	COMBINEFUNC = scfrisk.forest_rows_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.tree_train(float8[], float8, jsonb) IS
'grows one CART decision tree (scikit-learn DecisionTreeClassifier/Regressor rules, histogram splits) on the rows; params: objective, criterion, max_depth, min_samples_split, min_samples_leaf, max_features, max_bin, seed, feature_names';

CREATE AGGREGATE scfrisk.rf_train(features float8[], label float8, params jsonb) (
	SFUNC = scfrisk.rf_train_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.rf_train_final,
	SERIALFUNC = scfrisk.forest_rows_serialize,
	DESERIALFUNC = scfrisk.forest_rows_deserialize,
	COMBINEFUNC = scfrisk.forest_rows_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.rf_train(float8[], float8, jsonb) IS
'grows a random forest (scikit-learn RandomForestClassifier/Regressor rules, histogram splits, trees on scfrisk.threads threads) on the rows; params: objective, criterion, n_estimators, max_depth, min_samples_split, min_samples_leaf, max_features, bootstrap, max_bin, seed, feature_names';

-- ------------------------------------------------------------ scoring
CREATE FUNCTION scfrisk.tree_predict(model bytea, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'tree_predict'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.tree_predict(bytea, float8[]) IS
'scores one row with a cart model: the share of label 1 in its leaf (binary) or the leaf mean (regression); NULL/NaN elements are missing';

CREATE FUNCTION scfrisk.rf_predict(model bytea, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'rf_predict'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.rf_predict(bytea, float8[]) IS
'scores one row with a forest model: the mean of the trees'' leaf values (probability of label 1 for binary); NULL/NaN elements are missing';

CREATE FUNCTION scfrisk.tree_importance(model bytea)
RETURNS TABLE(feature int, name text, importance float8)
AS 'MODULE_PATHNAME', 'tree_importance'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION scfrisk.tree_importance(bytea) IS
'impurity importance of every feature (1-based) of a cart or forest model, as scikit-learn''s feature_importances_ (sums to 1), with the feature names given at training';

-- ------------------------------------------------------------ Gaussian naive Bayes
CREATE FUNCTION scfrisk.nb_train_sfunc(internal, float8[], float8, jsonb)
RETURNS internal
AS 'MODULE_PATHNAME', 'nb_train_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.nb_train_sfunc(internal, float8[], float8, jsonb) IS
'transition function of nb_train: collects a row (NULL features or label skip the row; NULL or NaN elements are errors)';

CREATE FUNCTION scfrisk.nb_rows_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'nb_rows_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.nb_rows_serialize(internal) IS
'serialises the collected nb_train rows for parallel aggregation';

CREATE FUNCTION scfrisk.nb_rows_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'nb_rows_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.nb_rows_deserialize(bytea, internal) IS
'reads nb_train rows serialised by nb_rows_serialize';

CREATE FUNCTION scfrisk.nb_rows_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'nb_rows_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.nb_rows_combine(internal, internal) IS
'appends the nb_train rows of two partial states';

CREATE FUNCTION scfrisk.nb_train_final(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'nb_train_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.nb_train_final(internal) IS
'final function of nb_train: fits Gaussian naive Bayes on the rows in canonical order and returns the model bytes';

CREATE AGGREGATE scfrisk.nb_train(features float8[], label float8, params jsonb) (
	SFUNC = scfrisk.nb_train_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.nb_train_final,
	SERIALFUNC = scfrisk.nb_rows_serialize,
	DESERIALFUNC = scfrisk.nb_rows_deserialize,
	COMBINEFUNC = scfrisk.nb_rows_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.nb_train(float8[], float8, jsonb) IS
'fits Gaussian naive Bayes (scikit-learn GaussianNB) on rows with labels 0/1; params: var_smoothing, feature_names';

CREATE FUNCTION scfrisk.nb_predict(model bytea, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'nb_predict_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.nb_predict(bytea, float8[]) IS
'scores one row with a gaussian_nb model: the probability of label 1 (GaussianNB.predict_proba); NULL or NaN elements are errors';

-- ------------------------------------------------------------ linear SVM
CREATE FUNCTION scfrisk.svm_train_sfunc(internal, float8[], float8, jsonb)
RETURNS internal
AS 'MODULE_PATHNAME', 'svm_train_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.svm_train_sfunc(internal, float8[], float8, jsonb) IS
'transition function of svm_train: collects a row (NULL features or label skip the row; NULL or NaN elements are errors)';

CREATE FUNCTION scfrisk.svm_rows_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'svm_rows_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.svm_rows_serialize(internal) IS
'serialises the collected svm_train rows for parallel aggregation';

CREATE FUNCTION scfrisk.svm_rows_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'svm_rows_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.svm_rows_deserialize(bytea, internal) IS
'reads svm_train rows serialised by svm_rows_serialize';

CREATE FUNCTION scfrisk.svm_rows_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'svm_rows_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.svm_rows_combine(internal, internal) IS
'appends the svm_train rows of two partial states';

CREATE FUNCTION scfrisk.svm_train_final(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'svm_train_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.svm_train_final(internal) IS
'final function of svm_train: fits the linear SVM and its Platt scaling on the rows in canonical order and returns the model bytes';

CREATE AGGREGATE scfrisk.svm_train(features float8[], label float8, params jsonb) (
	SFUNC = scfrisk.svm_train_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.svm_train_final,
	SERIALFUNC = scfrisk.svm_rows_serialize,
	DESERIALFUNC = scfrisk.svm_rows_deserialize,
	COMBINEFUNC = scfrisk.svm_rows_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.svm_train(float8[], float8, jsonb) IS
'fits a linear SVM (LIBLINEAR dual coordinate descent, as scikit-learn LinearSVC) with Platt scaling on rows with labels 0/1; params: C, loss, fit_intercept, intercept_scaling, tol, max_iter, platt_folds, seed, feature_names';

CREATE FUNCTION scfrisk.svm_predict(model bytea, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'svm_predict_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.svm_predict(bytea, float8[]) IS
'scores one row with a linear_svm model: the Platt probability of label 1; NULL or NaN elements are errors';

CREATE FUNCTION scfrisk.svm_decision(model bytea, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'svm_decision_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.svm_decision(bytea, float8[]) IS
'the decision value w . x + b of one row under a linear_svm model (LinearSVC.decision_function)';

-- ------------------------------------------------------------ k nearest neighbours
CREATE FUNCTION scfrisk.knn_train_sfunc(internal, float8[], float8, jsonb)
RETURNS internal
AS 'MODULE_PATHNAME', 'knn_train_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.knn_train_sfunc(internal, float8[], float8, jsonb) IS
'transition function of knn_train: collects a row (NULL features or label skip the row; NULL or NaN elements are errors)';

CREATE FUNCTION scfrisk.knn_rows_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'knn_rows_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.knn_rows_serialize(internal) IS
'serialises the collected knn_train rows for parallel aggregation';

CREATE FUNCTION scfrisk.knn_rows_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'knn_rows_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.knn_rows_deserialize(bytea, internal) IS
'reads knn_train rows serialised by knn_rows_serialize';

CREATE FUNCTION scfrisk.knn_rows_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'knn_rows_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.knn_rows_combine(internal, internal) IS
'appends the knn_train rows of two partial states';

CREATE FUNCTION scfrisk.knn_train_final(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'knn_train_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.knn_train_final(internal) IS
'final function of knn_train: standardises the rows in canonical order and returns a model holding them';

CREATE AGGREGATE scfrisk.knn_train(features float8[], label float8, params jsonb) (
	SFUNC = scfrisk.knn_train_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.knn_train_final,
	SERIALFUNC = scfrisk.knn_rows_serialize,
	DESERIALFUNC = scfrisk.knn_rows_deserialize,
	COMBINEFUNC = scfrisk.knn_rows_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.knn_train(float8[], float8, jsonb) IS
'k nearest neighbours (scikit-learn KNeighborsClassifier on standardised features, exact search) on rows with labels 0/1; the model holds the rows (at most 200000 rows, 20 million numbers); params: k, weights, feature_names';

CREATE FUNCTION scfrisk.knn_predict(model bytea, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'knn_predict_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.knn_predict(bytea, float8[]) IS
'scores one row with a knn model: the (distance-weighted) share of label 1 among its k nearest training rows; NULL or NaN elements are errors';
