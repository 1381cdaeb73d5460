-- scfrisk install script, part 20: MLP, logistic regression, metrics,
-- partial dependence (issue 4).  Docs: docs/mlp.md, docs/metrics.md.

-- ------------------------------------------------------------ row state
CREATE FUNCTION scfrisk.mlp_train_sfunc(internal, float8[], float8, jsonb)
RETURNS internal
AS 'MODULE_PATHNAME', 'mlp_train_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.mlp_train_sfunc(internal, float8[], float8, jsonb) IS
'transition function of mlp_train: collects a row (NULL features or label skip the row)';

CREATE FUNCTION scfrisk.logreg_train_sfunc(internal, float8[], float8, jsonb)
RETURNS internal
AS 'MODULE_PATHNAME', 'logreg_train_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.logreg_train_sfunc(internal, float8[], float8, jsonb) IS
'transition function of logreg_train: collects a row, rejecting missing values';

CREATE FUNCTION scfrisk.mlp_rows_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'mlp_rows_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.mlp_rows_serialize(internal) IS
'serialises the collected training rows for parallel aggregation';

CREATE FUNCTION scfrisk.mlp_rows_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'mlp_rows_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.mlp_rows_deserialize(bytea, internal) IS
'reads training rows serialised by mlp_rows_serialize';

CREATE FUNCTION scfrisk.mlp_rows_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'mlp_rows_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.mlp_rows_combine(internal, internal) IS
'appends the training rows of two partial states';

-- ------------------------------------------------------------ MLP
CREATE FUNCTION scfrisk.mlp_train_final(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'mlp_train_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.mlp_train_final(internal) IS
'final function of mlp_train: trains the network and returns the model bytes';

CREATE AGGREGATE scfrisk.mlp_train(features float8[], label float8, params jsonb) (
	SFUNC = scfrisk.mlp_train_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.mlp_train_final,
	SERIALFUNC = scfrisk.mlp_rows_serialize,
	DESERIALFUNC = scfrisk.mlp_rows_deserialize,
	COMBINEFUNC = scfrisk.mlp_rows_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.mlp_train(float8[], float8, jsonb) IS
'trains a multi-layer perceptron (standardised inputs, Adam, a linear skip starting at logistic regression, early stopping then a refit) on the rows; params: objective, hidden, activation, epochs, batch_size, learning_rate, weight_decay, dropout, early_stopping_rounds, validation_share, class_weight, scale_pos_weight, missing_indicator, seed, linear_skip, refit, feature_names';

CREATE FUNCTION scfrisk.mlp_predict(model bytea, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'mlp_predict_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.mlp_predict(bytea, float8[]) IS
'scores one row with an mlp model: probability of label 1 (binary:logistic) or the regression value; NULL/NaN elements are missing';

-- ------------------------------------------------------------ logistic regression
CREATE FUNCTION scfrisk.logreg_train_final(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'logreg_train_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.logreg_train_final(internal) IS
'final function of logreg_train: fits by Newton and returns the model bytes';

CREATE AGGREGATE scfrisk.logreg_train(features float8[], label float8, params jsonb) (
	SFUNC = scfrisk.logreg_train_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.logreg_train_final,
	SERIALFUNC = scfrisk.mlp_rows_serialize,
	DESERIALFUNC = scfrisk.mlp_rows_deserialize,
	COMBINEFUNC = scfrisk.mlp_rows_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.logreg_train(float8[], float8, jsonb) IS
'fits L2-regularised logistic regression (as scikit-learn LogisticRegression(C=...)); params: C, fit_intercept, max_iter, tol, feature_names';

CREATE FUNCTION scfrisk.logreg_predict(model bytea, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'logreg_predict_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.logreg_predict(bytea, float8[]) IS
'probability of label 1 of one row under a logreg model (missing values are errors)';

-- ------------------------------------------------------------ metrics
CREATE FUNCTION scfrisk.metrics_binary_sfunc(internal, float8, float8)
RETURNS internal
AS 'MODULE_PATHNAME', 'metrics_binary_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.metrics_binary_sfunc(internal, float8, float8) IS
'transition function of binary_metrics(label, score)';

CREATE FUNCTION scfrisk.metrics_binary_sfunc(internal, float8, float8, float8)
RETURNS internal
AS 'MODULE_PATHNAME', 'metrics_binary_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.metrics_binary_sfunc(internal, float8, float8, float8) IS
'transition function of binary_metrics(label, score, threshold)';

CREATE FUNCTION scfrisk.metrics_binary_final(internal)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'metrics_binary_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.metrics_binary_final(internal) IS
'final function of binary_metrics: computes the metrics as jsonb';

CREATE AGGREGATE scfrisk.binary_metrics(label float8, score float8) (
	SFUNC = scfrisk.metrics_binary_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.metrics_binary_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.binary_metrics(float8, float8) IS
'binary classification metrics at threshold 0.5 (score >= threshold is positive): tp, fp, tn, fn, accuracy, precision, recall, type1_error, type2_error, f1, mcc, auc, ks, gini, brier, logloss';

CREATE AGGREGATE scfrisk.binary_metrics(label float8, score float8, threshold float8) (
	SFUNC = scfrisk.metrics_binary_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.metrics_binary_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.binary_metrics(float8, float8, float8) IS
'binary classification metrics at the given threshold (taken from the first row): tp, fp, tn, fn, accuracy, precision, recall, type1_error, type2_error, f1, mcc, auc, ks, gini, brier, logloss';

CREATE FUNCTION scfrisk.roc_curve(labels float8[], scores float8[])
RETURNS TABLE (threshold float8, fpr float8, tpr float8)
AS 'MODULE_PATHNAME', 'metrics_roc_curve'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION scfrisk.roc_curve(float8[], float8[]) IS
'ROC curve points, thresholds decreasing, one per distinct score after the (0, 0) point at +infinity';

CREATE FUNCTION scfrisk.threshold_table(labels float8[], scores float8[], thresholds float8[])
RETURNS TABLE (threshold float8, tp bigint, fp bigint, tn bigint, fn bigint, accuracy float8,
			   "precision" float8, recall float8, type1_error float8, type2_error float8,
			   f1 float8, mcc float8)
AS 'MODULE_PATHNAME', 'metrics_threshold_table'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION scfrisk.threshold_table(float8[], float8[], float8[]) IS
'confusion matrix and threshold metrics at each given threshold (score >= threshold is positive)';

-- ------------------------------------------------------------ partial dependence
CREATE FUNCTION scfrisk.partial_dependence_sfunc(internal, bytea, float8[], int, float8[])
RETURNS internal
AS 'MODULE_PATHNAME', 'partial_dependence_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.partial_dependence_sfunc(internal, bytea, float8[], int, float8[]) IS
'transition function of partial_dependence: collects the rows; model, feature and grid come from the first row';

CREATE FUNCTION scfrisk.partial_dependence_final(internal)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'partial_dependence_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.partial_dependence_final(internal) IS
'final function of partial_dependence: mean scfrisk.predict per grid value';

CREATE AGGREGATE scfrisk.partial_dependence(model bytea, features float8[], feature int, grid float8[]) (
	SFUNC = scfrisk.partial_dependence_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.partial_dependence_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.partial_dependence(bytea, float8[], int, float8[]) IS
'Friedman partial dependence: for each grid value g, the mean of scfrisk.predict(model, x with x[feature] = g) over the rows; works for every kind scfrisk.predict scores';
