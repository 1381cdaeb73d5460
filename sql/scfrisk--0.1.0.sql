-- scfrisk install script, part 00: the core.
-- The install script sql/scfrisk--<version>.sql is the concatenation of
-- sql/install/*.sql in name order; each concern owns one fragment.

\echo Use "CREATE EXTENSION scfrisk" to load this file. \quit

CREATE FUNCTION scfrisk.model_info(model bytea)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'model_info'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.model_info(bytea) IS
'header and metadata of an scfrisk model: kind, format version, width, sizes, checksum, params, feature names, rows, seed, diagnostics';

CREATE FUNCTION scfrisk.model_kind(model bytea)
RETURNS text
AS 'MODULE_PATHNAME', 'model_kind'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.model_kind(bytea) IS
'kind of an scfrisk model (gbt, mlp, xgb_mlp, logreg, qrgmm_linear, qrgmm_deepfm), read from its header alone';

CREATE FUNCTION scfrisk.build_info()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'scfrisk_build_info'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.build_info() IS
'how this scfrisk was built: version, BLAS backend, and the scfrisk.threads setting in force';
-- scfrisk install script, part 10: gradient-boosted trees (issue 3) and the
-- generic scfrisk.predict dispatch.  Docs: docs/gbt.md.

-- ------------------------------------------------------------ training
CREATE FUNCTION scfrisk.xgb_train_sfunc(internal, float8[], float8, jsonb)
RETURNS internal
AS 'MODULE_PATHNAME', 'xgb_train_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_train_sfunc(internal, float8[], float8, jsonb) IS
'transition function of xgb_train: collects a row (NULL features or label skip the row; NULL or NaN elements are missing values)';

CREATE FUNCTION scfrisk.xgb_train_w_sfunc(internal, float8[], float8, float8, jsonb)
RETURNS internal
AS 'MODULE_PATHNAME', 'xgb_train_w_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_train_w_sfunc(internal, float8[], float8, float8, jsonb) IS
'transition function of the weighted xgb_train: collects a row with its weight (NULL weight skips the row)';

CREATE FUNCTION scfrisk.xgb_rows_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'xgb_rows_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_rows_serialize(internal) IS
'serialises the collected xgb_train rows for parallel aggregation';

CREATE FUNCTION scfrisk.xgb_rows_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'xgb_rows_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_rows_deserialize(bytea, internal) IS
'reads xgb_train rows serialised by xgb_rows_serialize';

CREATE FUNCTION scfrisk.xgb_rows_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'xgb_rows_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_rows_combine(internal, internal) IS
'appends the xgb_train rows of two partial states';

CREATE FUNCTION scfrisk.xgb_train_final(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'xgb_train_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_train_final(internal) IS
'final function of xgb_train: trains the trees on the rows in canonical order and returns the model bytes';

CREATE AGGREGATE scfrisk.xgb_train(features float8[], label float8, params jsonb) (
	SFUNC = scfrisk.xgb_train_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.xgb_train_final,
	SERIALFUNC = scfrisk.xgb_rows_serialize,
	DESERIALFUNC = scfrisk.xgb_rows_deserialize,
	COMBINEFUNC = scfrisk.xgb_rows_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.xgb_train(float8[], float8, jsonb) IS
'trains gradient-boosted trees (XGBoost hist semantics) on the rows; params: objective, n_estimators, max_depth, eta, lambda, alpha, gamma, min_child_weight, max_delta_step, subsample, colsample_bytree, colsample_bylevel, max_bin, scale_pos_weight, base_score, seed, early_stopping_rounds, validation_share, eval_metric, verbose, verbose_every, feature_names';

CREATE AGGREGATE scfrisk.xgb_train(features float8[], label float8, weight float8, params jsonb) (
	SFUNC = scfrisk.xgb_train_w_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.xgb_train_final,
	SERIALFUNC = scfrisk.xgb_rows_serialize,
	DESERIALFUNC = scfrisk.xgb_rows_deserialize,
	COMBINEFUNC = scfrisk.xgb_rows_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.xgb_train(float8[], float8, float8, jsonb) IS
'trains gradient-boosted trees with a non-negative weight per row (same params as the unweighted form)';

-- ------------------------------------------------------------ scoring
CREATE FUNCTION scfrisk.xgb_predict(model bytea, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'xgb_predict'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_predict(bytea, float8[]) IS
'scores one row with a gbt model: probability of label 1 (binary:logistic) or the value (reg:squarederror); NULL/NaN elements are missing';

CREATE FUNCTION scfrisk.xgb_predict_margin(model bytea, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'xgb_predict_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_predict_margin(bytea, float8[]) IS
'raw margin of one row under a gbt model: base margin plus the leaf values (the log-odds for binary:logistic)';

CREATE FUNCTION scfrisk.predict(model bytea, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'scfrisk_predict'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.predict(bytea, float8[]) IS
'scores one row with a model of any scoring kind (gbt, mlp, logreg), dispatching on the kind in its header';

-- ------------------------------------------------------------ importance
CREATE FUNCTION scfrisk.xgb_importance(model bytea, type text DEFAULT 'gain')
RETURNS TABLE(feature int, name text, importance float8, normalized float8)
AS 'MODULE_PATHNAME', 'xgb_importance'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION scfrisk.xgb_importance(bytea, text) IS
'importance of every feature (1-based) of a gbt model: weight, gain, total_gain, cover or total_cover as XGBoost defines them, raw and normalised to sum 1, with the feature names given at training';

CREATE FUNCTION scfrisk.xgb_select(model bytea, threshold float8, type text DEFAULT 'gain')
RETURNS int[]
AS 'MODULE_PATHNAME', 'xgb_select'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_select(bytea, float8, text) IS
'1-based indices of the features whose normalised importance is at least threshold (Stage I of XGBoost-MLP)';

-- ------------------------------------------------------------ XGBoost JSON interop
CREATE FUNCTION scfrisk.xgb_to_json(model bytea)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'xgb_to_json'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_to_json(bytea) IS
'a gbt model in XGBoost 1.7''s JSON model format (Booster.load_model reads it and predicts the same)';

CREATE FUNCTION scfrisk.xgb_from_json(model jsonb)
RETURNS bytea
AS 'MODULE_PATHNAME', 'xgb_from_json'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_from_json(jsonb) IS
'a gbt model from XGBoost 1.7 JSON model text (Booster.save_model(''m.json'')): gbtree booster, binary:logistic or reg:squarederror, numeric splits';
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
'trains a multi-layer perceptron (standardised inputs, Adam, early stopping) on the rows; params: objective, hidden, activation, epochs, batch_size, learning_rate, weight_decay, dropout, early_stopping_rounds, validation_share, class_weight, scale_pos_weight, missing_indicator, seed';

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
'fits L2-regularised logistic regression (as scikit-learn LogisticRegression(C=...)); params: C, fit_intercept, max_iter, tol';

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
-- scfrisk install script, part 25: the XGBoost-MLP hybrid (issue 4, needs
-- the trees of part 10).  Docs: docs/xgboost-mlp.md.

CREATE FUNCTION scfrisk.xgb_mlp_train_sfunc(internal, float8[], float8, jsonb)
RETURNS internal
AS 'MODULE_PATHNAME', 'xgb_mlp_train_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_mlp_train_sfunc(internal, float8[], float8, jsonb) IS
'transition function of xgb_mlp_train: collects a row (NULL features or label skip the row)';

CREATE FUNCTION scfrisk.xgb_mlp_train_final(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'xgb_mlp_train_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_mlp_train_final(internal) IS
'final function of xgb_mlp_train: trains the trees, selects features, trains the network';

CREATE AGGREGATE scfrisk.xgb_mlp_train(features float8[], label float8, params jsonb) (
	SFUNC = scfrisk.xgb_mlp_train_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.xgb_mlp_train_final,
	SERIALFUNC = scfrisk.mlp_rows_serialize,
	DESERIALFUNC = scfrisk.mlp_rows_deserialize,
	COMBINEFUNC = scfrisk.mlp_rows_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.xgb_mlp_train(float8[], float8, jsonb) IS
'trains the XGBoost-MLP hybrid: gradient-boosted trees on all features (params.xgb), keeps the features whose normalised importance (params.importance_type, default gain) is at least params.threshold (default 0.03), and trains an MLP (params.mlp) on them';

CREATE FUNCTION scfrisk.xgb_mlp_predict(model bytea, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'xgb_mlp_predict_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_mlp_predict(bytea, float8[]) IS
'probability of default from an xgb_mlp model (NULL or NaN elements are missing values)';

CREATE FUNCTION scfrisk.xgb_mlp_selected(model bytea)
RETURNS int[]
AS 'MODULE_PATHNAME', 'xgb_mlp_selected_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_mlp_selected(bytea) IS
'the features (1-based) the trees of an xgb_mlp model selected for its network';

-- ---------------------------------------------------------------------------
-- Part 30: linear quantile regression and QRGMM (issue 5, docs/qrgmm.md).
-- ---------------------------------------------------------------------------

CREATE FUNCTION scfrisk.qrgmm_train_sfunc(internal, float8[], float8, jsonb)
RETURNS internal
AS 'MODULE_PATHNAME', 'qrgmm_train_sfunc'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_train_sfunc(internal, float8[], float8, jsonb) IS
'transition function of qrgmm_train: appends one (covariates, y) row';

CREATE FUNCTION scfrisk.qrgmm_train_final(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'qrgmm_train_final'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_train_final(internal) IS
'final function of qrgmm_train: fits the quantile regressions and encodes the model';

CREATE FUNCTION scfrisk.qrgmm_train_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'qrgmm_train_combine'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_train_combine(internal, internal) IS
'combine function of qrgmm_train: concatenates the rows of two partial states';

CREATE FUNCTION scfrisk.qrgmm_train_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'qrgmm_train_serialize'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_train_serialize(internal) IS
'serialise function of qrgmm_train for parallel aggregation';

CREATE FUNCTION scfrisk.qrgmm_train_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'qrgmm_train_deserialize'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_train_deserialize(bytea, internal) IS
'deserialise function of qrgmm_train for parallel aggregation';

CREATE AGGREGATE scfrisk.qrgmm_train(covariates float8[], y float8, params jsonb) (
	SFUNC = scfrisk.qrgmm_train_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.qrgmm_train_final,
	COMBINEFUNC = scfrisk.qrgmm_train_combine,
	SERIALFUNC = scfrisk.qrgmm_train_serialize,
	DESERIALFUNC = scfrisk.qrgmm_train_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.qrgmm_train(float8[], float8, jsonb) IS
'train a linear QRGMM model: exact quantile regressions of T(y) on the covariates at levels j/m (params: m, degree, transform, tol, max_iter, seed)';

CREATE FUNCTION scfrisk.qrgmm_curve(model bytea, covariates float8[])
RETURNS float8[]
AS 'MODULE_PATHNAME', 'qrgmm_curve'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_curve(bytea, float8[]) IS
'the m+1 rearranged knots of the conditional quantile curve at u = j/m, on the transformed (y) scale, flat tails included';

CREATE FUNCTION scfrisk.qrgmm_quantile(model bytea, covariates float8[], tau float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'qrgmm_quantile'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_quantile(bytea, float8[], float8) IS
'conditional quantile of sales at level tau in (0, 1), exact on the piecewise-linear QRGMM curve';

CREATE FUNCTION scfrisk.qrgmm_quantiles(model bytea, covariates float8[], taus float8[])
RETURNS float8[]
AS 'MODULE_PATHNAME', 'qrgmm_quantiles'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_quantiles(bytea, float8[], float8[]) IS
'conditional quantiles of sales at several levels, one curve build for all';

CREATE FUNCTION scfrisk.qrgmm_cdf(model bytea, covariates float8[], s float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'qrgmm_cdf'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_cdf(bytea, float8[], float8) IS
'P(S < s | covariates) under the QRGMM curve (left limit: the flat tails are atoms of mass 1/m), exact';

CREATE FUNCTION scfrisk.qrgmm_sample(model bytea, covariates float8[], n int, seed bigint,
									 mode text DEFAULT 'random')
RETURNS SETOF float8
AS 'MODULE_PATHNAME', 'qrgmm_sample'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
ROWS 1000;
COMMENT ON FUNCTION scfrisk.qrgmm_sample(bytea, float8[], int, bigint, text) IS
'n draws of sales from the QRGMM conditional law: mode random (inverse transform with the seeded xoshiro256** stream) or stratified (Qhat((k - 0.5)/n), sorted, seed ignored)';

CREATE FUNCTION scfrisk.qrgmm_sample_array(model bytea, covariates float8[], n int, seed bigint,
										   mode text DEFAULT 'random')
RETURNS float8[]
AS 'MODULE_PATHNAME', 'qrgmm_sample_array'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_sample_array(bytea, float8[], int, bigint, text) IS
'the draws of qrgmm_sample as one float8[] (the same values for the same arguments)';

CREATE FUNCTION scfrisk.pinball_loss(y float8, q float8, tau float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'pinball_loss'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.pinball_loss(float8, float8, float8) IS
'pinball (check) loss rho_tau(y - q) of a quantile forecast q at level tau';

CREATE FUNCTION scfrisk.crps(samples float8[], y float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'crps'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.crps(float8[], float8) IS
'continuous ranked probability score of an ensemble of samples at the observation y (lower is better)';

CREATE FUNCTION scfrisk.qrgmm_crps(model bytea, covariates float8[], y float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'qrgmm_crps'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_crps(bytea, float8[], float8) IS
'CRPS of the QRGMM conditional law at the observation y, 2 * integral of the pinball loss over tau, computed on the curve without sampling';

CREATE FUNCTION scfrisk.qrgmm_crps_sfunc(float8[], bytea, float8[], float8)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'qrgmm_crps_sfunc'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_crps_sfunc(float8[], bytea, float8[], float8) IS
'transition function of crps_mean(model, covariates, y)';

CREATE FUNCTION scfrisk.crps_samples_sfunc(float8[], float8[], float8)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'crps_samples_sfunc'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.crps_samples_sfunc(float8[], float8[], float8) IS
'transition function of crps_mean(samples, y)';

CREATE FUNCTION scfrisk.crps_combine(float8[], float8[])
RETURNS float8[]
AS 'MODULE_PATHNAME', 'crps_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.crps_combine(float8[], float8[]) IS
'combine function of the crps_mean aggregates';

CREATE FUNCTION scfrisk.crps_final(float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'crps_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.crps_final(float8[]) IS
'final function of the crps_mean aggregates: the mean CRPS, NULL without rows';

CREATE AGGREGATE scfrisk.crps_mean(model bytea, covariates float8[], y float8) (
	SFUNC = scfrisk.qrgmm_crps_sfunc,
	STYPE = float8[],
	INITCOND = '{0,0}',
	FINALFUNC = scfrisk.crps_final,
	COMBINEFUNC = scfrisk.crps_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.crps_mean(bytea, float8[], float8) IS
'mean CRPS of a QRGMM model over held-out rows (exact on the curve)';

CREATE AGGREGATE scfrisk.crps_mean(samples float8[], y float8) (
	SFUNC = scfrisk.crps_samples_sfunc,
	STYPE = float8[],
	INITCOND = '{0,0}',
	FINALFUNC = scfrisk.crps_final,
	COMBINEFUNC = scfrisk.crps_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.crps_mean(float8[], float8) IS
'mean CRPS of per-row ensembles of samples against observations';

CREATE FUNCTION scfrisk.qrgmm_coefficients(model bytea,
										   OUT level int, OUT tau float8, OUT coefficients float8[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'qrgmm_coefficients'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
ROWS 100;
COMMENT ON FUNCTION scfrisk.qrgmm_coefficients(bytea) IS
'the coefficient matrix of a linear QRGMM model: one row per level tau = level/m, coefficients on the raw basis (intercept first)';

-- ---------------------------------------------------------------------------
-- Part 35: QRGMM with a quantile DeepFM network (issue 8, docs/qrgmm-deepfm.md).
-- Models of kind qrgmm_deepfm work with every QRGMM generation and risk
-- function; their covariates float8[] are the numeric fields followed by the
-- categorical ids.
-- ---------------------------------------------------------------------------

CREATE FUNCTION scfrisk.qrgmm_deepfm_train_sfunc(internal, float8[], int[], float8, jsonb)
RETURNS internal
AS 'MODULE_PATHNAME', 'qrgmm_deepfm_train_sfunc'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_deepfm_train_sfunc(internal, float8[], int[], float8, jsonb) IS
'transition function of qrgmm_deepfm_train: appends one (numeric, categorical, y) row';

CREATE FUNCTION scfrisk.qrgmm_deepfm_train_final(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'qrgmm_deepfm_train_final'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_deepfm_train_final(internal) IS
'final function of qrgmm_deepfm_train: trains the quantile DeepFM network and encodes the model';

CREATE FUNCTION scfrisk.qrgmm_deepfm_train_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'qrgmm_deepfm_train_combine'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_deepfm_train_combine(internal, internal) IS
'combine function of qrgmm_deepfm_train: concatenates the rows of two partial states';

CREATE FUNCTION scfrisk.qrgmm_deepfm_train_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'qrgmm_deepfm_train_serialize'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_deepfm_train_serialize(internal) IS
'serialise function of qrgmm_deepfm_train for parallel aggregation';

CREATE FUNCTION scfrisk.qrgmm_deepfm_train_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'qrgmm_deepfm_train_deserialize'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_deepfm_train_deserialize(bytea, internal) IS
'deserialise function of qrgmm_deepfm_train for parallel aggregation';

CREATE AGGREGATE scfrisk.qrgmm_deepfm_train(numeric_fields float8[], categorical_ids int[], y float8,
											params jsonb) (
	SFUNC = scfrisk.qrgmm_deepfm_train_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.qrgmm_deepfm_train_final,
	COMBINEFUNC = scfrisk.qrgmm_deepfm_train_combine,
	SERIALFUNC = scfrisk.qrgmm_deepfm_train_serialize,
	DESERIALFUNC = scfrisk.qrgmm_deepfm_train_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.qrgmm_deepfm_train(float8[], int[], float8, jsonb) IS
'train a QRGMM DeepFM model: a quantile DeepFM network over numeric fields and categorical ids whose multi-output head gives the quantiles of T(y) at levels j/m (params: k, layers, m, epochs, batch_size, learning_rate, weight_decay, dropout, validation_share, patience, min_count, transform, threads, seed)';

CREATE FUNCTION scfrisk.qrgmm_deepfm_covariates(model bytea, numeric_fields float8[], categorical_ids int[])
RETURNS float8[]
AS 'MODULE_PATHNAME', 'qrgmm_deepfm_covariates'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_deepfm_covariates(bytea, float8[], int[]) IS
'the covariates float8[] of a qrgmm_deepfm model (numeric fields, then the categorical ids), after checking both field counts against the model';

CREATE FUNCTION scfrisk.qrgmm_curve(model bytea, numeric_fields float8[], categorical_ids int[])
RETURNS float8[]
LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
RETURN scfrisk.qrgmm_curve(model, scfrisk.qrgmm_deepfm_covariates(model, numeric_fields, categorical_ids));
COMMENT ON FUNCTION scfrisk.qrgmm_curve(bytea, float8[], int[]) IS
'qrgmm_curve of a qrgmm_deepfm model with the numeric fields and categorical ids given apart';

CREATE FUNCTION scfrisk.qrgmm_quantile(model bytea, numeric_fields float8[], categorical_ids int[], tau float8)
RETURNS float8
LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
RETURN scfrisk.qrgmm_quantile(model, scfrisk.qrgmm_deepfm_covariates(model, numeric_fields, categorical_ids), tau);
COMMENT ON FUNCTION scfrisk.qrgmm_quantile(bytea, float8[], int[], float8) IS
'qrgmm_quantile of a qrgmm_deepfm model with the numeric fields and categorical ids given apart';

CREATE FUNCTION scfrisk.qrgmm_quantiles(model bytea, numeric_fields float8[], categorical_ids int[], taus float8[])
RETURNS float8[]
LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
RETURN scfrisk.qrgmm_quantiles(model, scfrisk.qrgmm_deepfm_covariates(model, numeric_fields, categorical_ids), taus);
COMMENT ON FUNCTION scfrisk.qrgmm_quantiles(bytea, float8[], int[], float8[]) IS
'qrgmm_quantiles of a qrgmm_deepfm model with the numeric fields and categorical ids given apart';

CREATE FUNCTION scfrisk.qrgmm_sample(model bytea, numeric_fields float8[], categorical_ids int[], n int,
									 seed bigint, mode text DEFAULT 'random')
RETURNS SETOF float8
LANGUAGE SQL IMMUTABLE PARALLEL SAFE
ROWS 1000
AS $$
SELECT s FROM scfrisk.qrgmm_sample(model,
	CASE WHEN model IS NULL OR numeric_fields IS NULL OR categorical_ids IS NULL THEN NULL
		 ELSE scfrisk.qrgmm_deepfm_covariates(model, numeric_fields, categorical_ids) END,
	n, seed, mode) AS s
$$;
COMMENT ON FUNCTION scfrisk.qrgmm_sample(bytea, float8[], int[], int, bigint, text) IS
'qrgmm_sample of a qrgmm_deepfm model with the numeric fields and categorical ids given apart';

-- ---------------------------------------------------------------------------
-- Part 40: loan risk curves and loan sizing (issue 6, docs/risk.md).
-- ---------------------------------------------------------------------------

CREATE FUNCTION scfrisk.loan_risk_curve(model bytea, covariates float8[], loans float8[],
										terms jsonb DEFAULT '{}')
RETURNS TABLE (loan float8, due float8, pd float8, el float8, elgd float8, lgd_rate float8,
			   var float8, cvar float8, expected_profit float8, tail_resolved boolean)
AS 'MODULE_PATHNAME', 'loan_risk_curve'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 200;
COMMENT ON FUNCTION scfrisk.loan_risk_curve(bytea, float8[], float8[], jsonb) IS
'risk of each loan amount (sorted, >= 0) for a seller, from a QRGMM sales model at the covariates: due, PD, EL, ELGD, LGD rate, VaR, CVaR, expected profit; exact on the quantile curve (terms: rate, fee, funding_rate, remittance, collateral_value, haircut, units, unit_price, unit_cost, level, repayment, samples)';

CREATE FUNCTION scfrisk.loan_risk_curve(samples float8[], loans float8[], terms jsonb DEFAULT '{}')
RETURNS TABLE (loan float8, due float8, pd float8, el float8, elgd float8, lgd_rate float8,
			   var float8, cvar float8, expected_profit float8, tail_resolved boolean)
AS 'MODULE_PATHNAME', 'loan_risk_curve_samples'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 200;
COMMENT ON FUNCTION scfrisk.loan_risk_curve(float8[], float8[], jsonb) IS
'risk of each loan amount (sorted, >= 0) from a float8[] of sales samples of one seller (the sample path)';

CREATE FUNCTION scfrisk.loan_size(model bytea, covariates float8[], policy jsonb DEFAULT '{}')
RETURNS TABLE (loan float8, binding_constraint text, due float8, pd float8, el float8,
			   elgd float8, lgd_rate float8, var float8, cvar float8, expected_profit float8,
			   tail_resolved boolean, limits jsonb)
AS 'MODULE_PATHNAME', 'loan_size'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1;
COMMENT ON FUNCTION scfrisk.loan_size(bytea, float8[], jsonb) IS
'largest loan that the policy allows for a seller, from a QRGMM sales model at the covariates: the loan, the binding constraint (pd_limit, el_rate, cvar_budget, ltv_cap, credit_line, profit_optimum), the risk at that loan and every limit';

CREATE FUNCTION scfrisk.loan_size(samples float8[], policy jsonb DEFAULT '{}')
RETURNS TABLE (loan float8, binding_constraint text, due float8, pd float8, el float8,
			   elgd float8, lgd_rate float8, var float8, cvar float8, expected_profit float8,
			   tail_resolved boolean, limits jsonb)
AS 'MODULE_PATHNAME', 'loan_size_samples'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1;
COMMENT ON FUNCTION scfrisk.loan_size(float8[], jsonb) IS
'largest loan that the policy allows, from a float8[] of sales samples of one seller (the sample path)';

CREATE FUNCTION scfrisk.loan_grid(upper float8, levels int)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'loan_grid'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.loan_grid(float8, int) IS
'levels evenly spaced loan amounts from 0 to upper (a sorted loan grid for loan_risk_curve)';

-- ---------------------------------------------------------------------------
-- Part 50: the synthetic 3PL supply-chain-finance data set and its BI risk
-- views (issue 6, docs/demo-data.md, docs/risk.md).
--
-- scfrisk.generate_demo_data(sellers, seed) (re)creates schema scfrisk_demo
-- with plain tables (sellers, segments, sales_monthly, shipments, loans,
-- models, policy, risk tables) and the views seller_risk and
-- seller_risk_curve; scfrisk_demo.refresh_risk() (scfrisk.demo_refresh_risk)
-- trains both models and fills the views.  Every random draw is
-- scfrisk.demo_uniform / demo_normal of (seed, stream, counter), so the data
-- depend only on the arguments.
-- ---------------------------------------------------------------------------

CREATE FUNCTION scfrisk.demo_uniform(seed bigint, stream bigint, k bigint)
RETURNS float8
AS 'MODULE_PATHNAME', 'demo_uniform'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.demo_uniform(bigint, bigint, bigint) IS
'counter-based uniform draw in (0, 1): a pure function of (seed, stream, k), for reproducible synthetic data';

CREATE FUNCTION scfrisk.demo_normal(seed bigint, stream bigint, k bigint)
RETURNS float8
AS 'MODULE_PATHNAME', 'demo_normal'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.demo_normal(bigint, bigint, bigint) IS
'counter-based standard normal draw (Box-Muller on draws 2k, 2k+1 of the stream)';

-- The covariates of the QRGMM sales model: the section 8.2 design with the
-- categorical fields one-hot (category 0 and marketplace 0 are the base).
CREATE FUNCTION scfrisk.demo_sales_covariates(h float8, age_years float8, rating float8,
											  category int, marketplace int, month int)
RETURNS float8[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
-- written out (no subqueries) so that it inlines: it runs once per seller in the views
RETURN ARRAY[h,
			 (age_years > 2)::int::float8,
			 (rating - 4.25) * (age_years > 2)::int,
			 sin(2 * pi() * month / 12),
			 cos(2 * pi() * month / 12),
			 (category = 1)::int, (category = 2)::int, (category = 3)::int, (category = 4)::int,
			 (category = 5)::int, (category = 6)::int, (category = 7)::int, (category = 8)::int,
			 (category = 9)::int,
			 (marketplace = 1)::int, (marketplace = 2)::int, (marketplace = 3)::int,
			 (marketplace = 4)::int]::float8[];
COMMENT ON FUNCTION scfrisk.demo_sales_covariates(float8, float8, float8, int, int, int) IS
'demo data: covariates of the QRGMM sales model for a seller and a calendar month (18 values)';

-- The credit model's inputs for a seller and a loan amount: the seller's
-- features (sellers.credit_features) and the loan relative to past sales and
-- to the in-transit inventory.
CREATE FUNCTION scfrisk.demo_credit_features(seller_features float8[], h float8,
											 in_transit_value float8, loan float8)
RETURNS float8[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN seller_features || ARRAY[ln(greatest(loan, 1)) - h, ln(greatest(loan, 1) / in_transit_value)];
COMMENT ON FUNCTION scfrisk.demo_credit_features(float8[], float8, float8, float8) IS
'demo data: credit-model inputs of a seller for a loan amount (16 values)';

CREATE FUNCTION scfrisk.generate_demo_data(sellers int, seed bigint DEFAULT 42)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	result jsonb;
	prev_level text;
BEGIN
	IF sellers IS NULL OR sellers < 10 OR sellers > 10000000 THEN
		RAISE EXCEPTION 'generate_demo_data: sellers must be between 10 and 10000000, got %', sellers
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF seed IS NULL THEN
		RAISE EXCEPTION 'generate_demo_data: seed must not be NULL' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RAISE NOTICE 'generate_demo_data: % sellers, seed %, into schema scfrisk_demo', sellers, seed;
	-- quietly: CASCADE would list every object of the previous data set
	prev_level := current_setting('client_min_messages');
	PERFORM set_config('client_min_messages', 'warning', true);
	DROP SCHEMA IF EXISTS scfrisk_demo CASCADE;
	PERFORM set_config('client_min_messages', prev_level, true);
	CREATE SCHEMA scfrisk_demo;
	COMMENT ON SCHEMA scfrisk_demo IS 'scfrisk synthetic 3PL supply-chain-finance data (scfrisk.generate_demo_data)';

	-- Fixed random tables of the sales law (methods/qrgmm_scf.md 8.2).
	CREATE TABLE scfrisk_demo.segments AS
	SELECT c AS category, k AS marketplace,
		   0.3 * scfrisk.demo_normal(seed, 50, c) AS a_cat,
		   0.2 * scfrisk.demo_normal(seed, 51, k) AS a_mkt,
		   0.25 * scfrisk.demo_normal(seed, 52, c * 5 + k) AS a_cm
	FROM generate_series(0, 9) c, generate_series(0, 4) k;
	ALTER TABLE scfrisk_demo.segments ADD PRIMARY KEY (category, marketplace);

	-- Sellers: profile, platform use, financial ratios, and the true sales law.
	CREATE TABLE scfrisk_demo.sellers AS
	WITH base AS (
		SELECT s AS seller_id,
			   floor(10 * scfrisk.demo_uniform(seed, 1, s))::int AS category,
			   floor(5 * scfrisk.demo_uniform(seed, 2, s))::int AS marketplace,
			   10 + scfrisk.demo_normal(seed, 3, s) AS h,
			   0.5 + 7.5 * scfrisk.demo_uniform(seed, 4, s) AS age_years,
			   3.5 + 1.5 * scfrisk.demo_uniform(seed, 5, s) AS rating,
			   scfrisk.demo_normal(seed, 8, s) AS z_value
		FROM generate_series(1, sellers) s),
	law AS (
		SELECT b.*, g.a_cat + g.a_mkt + g.a_cm AS a_seg, g.a_cm,
			   0.9 * b.h + g.a_cat + g.a_mkt + g.a_cm
				   + 0.25 * (b.rating - 4.25) * (b.age_years > 2)::int + 0.5 AS law_mu,
			   0.25 + 0.15 * abs(g.a_cm) / 0.25 + 0.1 * (b.age_years <= 2)::int AS law_sigma
		FROM base b JOIN scfrisk_demo.segments g USING (category, marketplace))
	SELECT l.seller_id,
		   'S' || lpad(l.seller_id::text, 7, '0') AS seller_code,
		   l.category,
		   (ARRAY['electronics', 'apparel', 'home', 'beauty', 'toys', 'sports', 'auto parts',
				  'pet supplies', 'tools', 'books'])[l.category + 1] AS category_name,
		   l.marketplace,
		   (ARRAY['US', 'UK', 'DE', 'JP', 'AU'])[l.marketplace + 1] AS marketplace_name,
		   round(l.age_years::numeric, 2)::float8 AS age_years,
		   round(l.rating::numeric, 2)::float8 AS rating,
		   scfrisk.demo_uniform(seed, 6, l.seller_id) < 0.25 + 0.3 * (l.age_years > 2)::int AS uses_erp,
		   scfrisk.demo_uniform(seed, 7, l.seller_id) < 0.6 AS uses_platform_api,
		   l.h AS log_past_sales,
		   exp(l.h) AS past_period_sales,
		   exp(l.h - 0.5 + 0.3 * l.z_value) AS in_transit_value,
		   -- financial ratios: noisy signals of the seller's segment effect,
		   -- volatility and stock level (XGBoost-MLP paper's ratio families)
		   exp(0.35 + 0.8 * l.a_seg + 0.25 * scfrisk.demo_normal(seed, 10, l.seller_id)) AS current_ratio,
		   1 / (1 + exp(-(-0.4 + 2.5 * (l.law_sigma - 0.35) - l.a_seg
						 + 0.4 * scfrisk.demo_normal(seed, 11, l.seller_id)))) AS debt_to_assets,
		   0.04 + 0.08 * l.a_seg + 0.02 * (l.rating - 4.25)
			   + 0.02 * scfrisk.demo_normal(seed, 12, l.seller_id) AS roa,
		   0.06 + 0.06 * l.a_seg + 0.02 * scfrisk.demo_normal(seed, 13, l.seller_id) AS net_margin,
		   12 * exp(l.law_mu - (l.h - 0.5 + 0.3 * l.z_value)
					+ 0.25 * scfrisk.demo_normal(seed, 14, l.seller_id)) AS inventory_turnover,
		   exp(2.2 + 0.3 * scfrisk.demo_normal(seed, 15, l.seller_id)) AS receivables_turnover,
		   0.1 * l.a_seg + 0.05 * (l.age_years <= 2)::int
			   + 0.1 * scfrisk.demo_normal(seed, 16, l.seller_id) AS revenue_growth,
		   exp(0.35 + 0.8 * l.a_seg) * 0.3 * exp(0.3 * scfrisk.demo_normal(seed, 17, l.seller_id)) AS cash_ratio,
		   (ARRAY[25, 40, 60, 15, 120, 35, 80, 20, 200, 50])[l.category + 1]
			   * exp(0.2 * scfrisk.demo_normal(seed, 18, l.seller_id)) AS unit_price,
		   l.law_mu, l.law_sigma
	FROM law l;
	ALTER TABLE scfrisk_demo.sellers ADD PRIMARY KEY (seller_id);
	ALTER TABLE scfrisk_demo.sellers ADD COLUMN quick_ratio float8;
	UPDATE scfrisk_demo.sellers
	SET quick_ratio = current_ratio * (0.55 + 0.2 * scfrisk.demo_uniform(seed, 19, seller_id));
	ALTER TABLE scfrisk_demo.sellers ADD COLUMN credit_features float8[];
	UPDATE scfrisk_demo.sellers
	SET credit_features = ARRAY[log_past_sales, age_years, rating, uses_erp::int, uses_platform_api::int,
								current_ratio, quick_ratio, debt_to_assets, roa, net_margin,
								ln(inventory_turnover), receivables_turnover, revenue_growth, cash_ratio];
	COMMENT ON COLUMN scfrisk_demo.sellers.law_mu IS 'ground truth: location of log monthly sales before the month effect (not for training)';
	COMMENT ON COLUMN scfrisk_demo.sellers.law_sigma IS 'ground truth: scale of log monthly sales (not for training)';

	-- Monthly sales of 2026: the 8.2 law with its seasonal term.
	CREATE TABLE scfrisk_demo.sales_monthly AS
	SELECT s.seller_id, m AS month, make_date(2026, m, 1) AS month_start,
		   exp(s.law_mu + 0.15 * sin(2 * pi() * m / 12)
			   + s.law_sigma * scfrisk.demo_normal(seed, 20, s.seller_id::bigint * 16 + m)) AS revenue,
		   s.unit_price
	FROM scfrisk_demo.sellers s, generate_series(1, 12) m;
	ALTER TABLE scfrisk_demo.sales_monthly ADD COLUMN units int, ADD COLUMN orders int;
	UPDATE scfrisk_demo.sales_monthly
	SET units = greatest(1, round(revenue / unit_price))::int,
		orders = greatest(1, round(revenue / unit_price
								   / (1.2 + 1.5 * scfrisk.demo_uniform(seed, 21, seller_id::bigint * 16 + month))))::int;
	ALTER TABLE scfrisk_demo.sales_monthly DROP COLUMN unit_price;
	ALTER TABLE scfrisk_demo.sales_monthly ADD PRIMARY KEY (seller_id, month);

	-- In-transit inventory: 1 to 3 shipments sharing the seller's in-transit value.
	CREATE TABLE scfrisk_demo.shipments AS
	WITH sh AS (
		SELECT s.seller_id, j, s.in_transit_value, s.unit_price,
			   0.2 + scfrisk.demo_uniform(seed, 41, s.seller_id::bigint * 4 + j) AS w,
			   0.45 + 0.2 * scfrisk.demo_uniform(seed, 42, s.seller_id::bigint * 4 + j) AS cost_share,
			   scfrisk.demo_uniform(seed, 43, s.seller_id::bigint * 4 + j) AS u_ship,
			   scfrisk.demo_uniform(seed, 44, s.seller_id::bigint * 4 + j) AS u_arrive
		FROM scfrisk_demo.sellers s,
			 generate_series(1, 1 + floor(3 * scfrisk.demo_uniform(seed, 40, s.seller_id))::int) j),
	n AS (SELECT sh.*, sum(w) OVER (PARTITION BY seller_id) AS wsum FROM sh)
	SELECT seller_id * 4 + j AS shipment_id, seller_id,
		   (ARRAY['sea', 'air', 'rail'])[1 + floor(3 * u_ship)::int] AS channel,
		   date '2026-12-01' + floor(25 * u_ship)::int AS shipped_on,
		   date '2026-12-01' + floor(25 * u_ship)::int + 10 + floor(35 * u_arrive)::int AS expected_arrival,
		   greatest(1, round(in_transit_value * w / wsum / (unit_price * cost_share)))::int AS units,
		   unit_price * cost_share AS unit_cost,
		   unit_price AS unit_price
	FROM n;
	ALTER TABLE scfrisk_demo.shipments ADD COLUMN value float8;
	UPDATE scfrisk_demo.shipments SET value = units * unit_cost;
	ALTER TABLE scfrisk_demo.shipments ADD PRIMARY KEY (shipment_id);
	-- the in-transit value is what the shipments hold
	UPDATE scfrisk_demo.sellers s SET in_transit_value = v.value
	FROM (SELECT seller_id, sum(value) AS value FROM scfrisk_demo.shipments GROUP BY seller_id) v
	WHERE v.seller_id = s.seller_id;

	-- Past loans of 2026: one month each, repaid from that month's sales.
	CREATE TABLE scfrisk_demo.loans AS
	WITH l AS (
		SELECT s.seller_id, j,
			   1 + floor(12 * scfrisk.demo_uniform(seed, 31, s.seller_id::bigint * 4 + j))::int AS month,
			   s.in_transit_value * (0.3 + 0.5 * scfrisk.demo_uniform(seed, 32, s.seller_id::bigint * 4 + j)) AS amount
		FROM scfrisk_demo.sellers s,
			 generate_series(1, 1 + floor(3 * scfrisk.demo_uniform(seed, 30, s.seller_id))::int) j)
	SELECT l.seller_id * 4 + l.j AS loan_id, l.seller_id, make_date(2026, l.month, 1) AS originated_on,
		   l.month, l.amount, 0.02 AS rate, 1.02 * l.amount AS due,
		   least(m.revenue, 1.02 * l.amount) AS repaid,
		   m.revenue < 1.02 * l.amount AS defaulted,
		   greatest(1.02 * l.amount - m.revenue, 0) AS loss
	FROM l JOIN scfrisk_demo.sales_monthly m ON m.seller_id = l.seller_id AND m.month = l.month;
	ALTER TABLE scfrisk_demo.loans ADD PRIMARY KEY (loan_id);

	-- Models, policy, and the tables behind the views.
	CREATE TABLE scfrisk_demo.models (name text PRIMARY KEY, model bytea NOT NULL,
									  trained_at timestamptz NOT NULL DEFAULT now(), info jsonb);
	CREATE TABLE scfrisk_demo.policy (id int PRIMARY KEY DEFAULT 1 CHECK (id = 1), policy jsonb NOT NULL,
									  loan_levels int NOT NULL DEFAULT 20, forecast_month int NOT NULL DEFAULT 1);
	INSERT INTO scfrisk_demo.policy (policy)
	VALUES ('{"rate": 0.03, "fee": 0.005, "funding_rate": 0.005, "pd_limit": 0.02, "el_rate": 0.0015, "cvar_budget": 1500, "credit_line": 40000, "ltv_cap": 0.6}');
	CREATE TABLE scfrisk_demo.risk_result (
		seller_id int PRIMARY KEY, credit_pd float8, recommended_loan float8, binding_constraint text,
		sales_pd float8, el float8, cvar float8, expected_profit float8, tail_resolved boolean,
		limits jsonb, refreshed_at timestamptz);
	CREATE TABLE scfrisk_demo.risk_curve_result (
		seller_id int, loan float8, pd float8, el float8, cvar float8, expected_profit float8,
		PRIMARY KEY (seller_id, loan));

	CREATE VIEW scfrisk_demo.seller_risk AS
	SELECT s.seller_id, s.seller_code, s.category_name, s.marketplace_name, s.in_transit_value,
		   r.credit_pd, r.recommended_loan, r.binding_constraint, r.sales_pd, r.el, r.cvar,
		   r.expected_profit, r.tail_resolved, r.refreshed_at
	FROM scfrisk_demo.sellers s JOIN scfrisk_demo.risk_result r USING (seller_id);
	COMMENT ON VIEW scfrisk_demo.seller_risk IS
	'one row per seller: PD from the credit model at the recommended loan, the loan, its binding constraint, and the QRGMM risk at it';
	CREATE VIEW scfrisk_demo.seller_risk_curve AS
	SELECT seller_id, loan, pd, el, cvar, expected_profit FROM scfrisk_demo.risk_curve_result;
	COMMENT ON VIEW scfrisk_demo.seller_risk_curve IS
	'one row per seller and loan level: PD, EL, CVaR and expected profit of that loan (QRGMM sales model)';

	CREATE FUNCTION scfrisk_demo.refresh_risk() RETURNS jsonb LANGUAGE sql VOLATILE
	RETURN scfrisk.demo_refresh_risk();
	COMMENT ON FUNCTION scfrisk_demo.refresh_risk() IS
	'train the sales and credit models, size every loan and refresh seller_risk and seller_risk_curve (scfrisk.demo_refresh_risk)';

	ANALYZE scfrisk_demo.sellers, scfrisk_demo.sales_monthly, scfrisk_demo.shipments, scfrisk_demo.loans;
	SELECT jsonb_build_object(
		'schema', 'scfrisk_demo',
		'sellers', (SELECT count(*) FROM scfrisk_demo.sellers),
		'sales_months', (SELECT count(*) FROM scfrisk_demo.sales_monthly),
		'shipments', (SELECT count(*) FROM scfrisk_demo.shipments),
		'loans', (SELECT count(*) FROM scfrisk_demo.loans),
		'default_rate', (SELECT round(avg(defaulted::int), 4) FROM scfrisk_demo.loans))
	INTO result;
	RETURN result;
END
$fn$;
COMMENT ON FUNCTION scfrisk.generate_demo_data(int, bigint) IS
'(re)create schema scfrisk_demo with a synthetic 3PL supply-chain-finance data set (sellers, monthly sales, shipments in transit, past loans) whose sales law has closed-form risk curves; deterministic for a seed';

-- ==========================================================================
-- CREDIT MODEL of the demo: the ONE place that trains and scores it: the
-- XGBoost-MLP hybrid (scfrisk.xgb_mlp_train), scored by scfrisk.predict.
-- ==========================================================================
CREATE FUNCTION scfrisk.demo_train_credit_model()
RETURNS bytea
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	model bytea;
BEGIN
	SELECT scfrisk.xgb_mlp_train(
		scfrisk.demo_credit_features(s.credit_features, s.log_past_sales, s.in_transit_value, l.amount),
		l.defaulted::int::float8,
		'{"xgb": {"n_estimators": 100, "max_depth": 3, "eta": 0.1, "seed": 7},
		  "importance_type": "gain", "threshold": 0.03,
		  "mlp": {"hidden": [16, 8], "epochs": 150, "batch_size": 64, "learning_rate": 0.003, "weight_decay": 0.0001, "early_stopping_rounds": 15, "validation_share": 0.2, "seed": 7}}')
	INTO model
	FROM scfrisk_demo.loans l JOIN scfrisk_demo.sellers s USING (seller_id)
	WHERE s.seller_id <= 50000;	-- seller ids are random draws: a prefix is a random sample
	RETURN model;
END
$fn$;
COMMENT ON FUNCTION scfrisk.demo_train_credit_model() IS
'demo: train the credit model, the XGBoost-MLP hybrid (default of past loans on seller features and loan size)';

CREATE FUNCTION scfrisk.demo_score_credit(model bytea, features float8[])
RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN scfrisk.predict(model, features);
COMMENT ON FUNCTION scfrisk.demo_score_credit(bytea, float8[]) IS
'demo: PD of the credit model (scfrisk.predict dispatches on its kind)';
-- ======================================================= end of CREDIT MODEL

CREATE FUNCTION scfrisk.demo_train_sales_model()
RETURNS bytea
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	model bytea;
BEGIN
	SELECT scfrisk.qrgmm_train(
		scfrisk.demo_sales_covariates(s.log_past_sales, s.age_years, s.rating, s.category,
									  s.marketplace, m.month),
		-- an exponential lower tail: the expected loss of small default
		-- probabilities integrates the tail below the first level (docs/risk.md)
		m.revenue, '{"tail": "exponential"}')
	INTO model
	FROM scfrisk_demo.sales_monthly m JOIN scfrisk_demo.sellers s USING (seller_id)
	-- at most 5,000 sellers' months (a random sample: seller ids are random
	-- draws) keep the refresh of a large book within seconds
	WHERE s.seller_id <= 5000;
	RETURN model;
END
$fn$;
COMMENT ON FUNCTION scfrisk.demo_train_sales_model() IS
'demo: train the QRGMM sales model (monthly revenue on the section 8.2 covariates)';

CREATE FUNCTION scfrisk.demo_refresh_risk()
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
-- the lateral risk joins are C calls: JIT-compiling them costs more than it saves
SET jit = off
AS $fn$
DECLARE
	sales bytea;
	credit bytea;
	pol jsonb;
	terms jsonb;
	levels int;
	fmonth int;
	t0 timestamptz := clock_timestamp();
	t1 timestamptz;
	timings jsonb := '{}';
BEGIN
	SELECT p.policy, p.loan_levels, p.forecast_month INTO pol, levels, fmonth FROM scfrisk_demo.policy p;
	IF levels IS NULL OR levels < 2 THEN
		RAISE EXCEPTION 'refresh_risk: scfrisk_demo.policy.loan_levels must be at least 2'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	terms := pol - ARRAY['pd_limit', 'el_rate', 'cvar_budget', 'ltv_cap', 'credit_line', 'profit_optimum'];

	RAISE NOTICE 'refresh_risk: training the QRGMM sales model on % seller-months',
		(SELECT count(*) FROM scfrisk_demo.sales_monthly WHERE seller_id <= 5000);
	sales := scfrisk.demo_train_sales_model();
	INSERT INTO scfrisk_demo.models (name, model, info) VALUES ('sales', sales, scfrisk.model_info(sales))
	ON CONFLICT (name) DO UPDATE SET model = EXCLUDED.model, trained_at = now(), info = EXCLUDED.info;
	t1 := clock_timestamp();
	timings := timings || jsonb_build_object('sales_model_s', round(extract(epoch FROM t1 - t0)::numeric, 2));

	RAISE NOTICE 'refresh_risk: training the credit model on % past loans',
		(SELECT count(*) FROM scfrisk_demo.loans WHERE seller_id <= 50000);
	credit := scfrisk.demo_train_credit_model();
	INSERT INTO scfrisk_demo.models (name, model, info) VALUES ('credit', credit, scfrisk.model_info(credit))
	ON CONFLICT (name) DO UPDATE SET model = EXCLUDED.model, trained_at = now(), info = EXCLUDED.info;
	timings := timings || jsonb_build_object('credit_model_s', round(extract(epoch FROM clock_timestamp() - t1)::numeric, 2));
	t1 := clock_timestamp();

	RAISE NOTICE 'refresh_risk: sizing loans and drawing risk curves (% levels per seller)', levels;
	-- DELETE rather than TRUNCATE: TRUNCATE would lock the views' readers out
	-- until the refresh commits; with DELETE they keep reading the previous
	-- results, and a failed or cancelled refresh leaves those in place.
	DELETE FROM scfrisk_demo.risk_result;
	DELETE FROM scfrisk_demo.risk_curve_result;
	INSERT INTO scfrisk_demo.risk_result
	SELECT s.seller_id,
		   scfrisk.demo_score_credit(credit, scfrisk.demo_credit_features(s.credit_features, s.log_past_sales,
																		  s.in_transit_value, z.loan)),
		   z.loan, z.binding_constraint, z.pd, z.el, z.cvar, z.expected_profit, z.tail_resolved, z.limits, now()
	FROM scfrisk_demo.sellers s,
		 LATERAL scfrisk.loan_size(sales,
								   scfrisk.demo_sales_covariates(s.log_past_sales, s.age_years, s.rating,
																 s.category, s.marketplace, fmonth),
								   pol || jsonb_build_object('collateral_value', s.in_transit_value)) z;
	INSERT INTO scfrisk_demo.risk_curve_result
	SELECT s.seller_id, c.loan, c.pd, c.el, c.cvar, c.expected_profit
	FROM scfrisk_demo.sellers s,
		 LATERAL scfrisk.loan_risk_curve(sales,
										 scfrisk.demo_sales_covariates(s.log_past_sales, s.age_years, s.rating,
																	   s.category, s.marketplace, fmonth),
										 scfrisk.loan_grid(s.past_period_sales, levels),
										 terms) c;
	timings := timings || jsonb_build_object('risk_s', round(extract(epoch FROM clock_timestamp() - t1)::numeric, 2));
	ANALYZE scfrisk_demo.risk_result, scfrisk_demo.risk_curve_result;
	RETURN jsonb_build_object('sellers', (SELECT count(*) FROM scfrisk_demo.risk_result),
							  'curve_rows', (SELECT count(*) FROM scfrisk_demo.risk_curve_result),
							  'seconds', timings);
END
$fn$;
COMMENT ON FUNCTION scfrisk.demo_refresh_risk() IS
'demo: train the sales and credit models on scfrisk_demo, size every seller''s loan and draw its risk curve into the tables behind seller_risk and seller_risk_curve';
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

-- Training aggregate of a kind.
CREATE FUNCTION scfrisk.registry_kind_aggregate(kind text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE kind
		WHEN 'gbt' THEN 'xgb_train'
		WHEN 'mlp' THEN 'mlp_train'
		WHEN 'xgb_mlp' THEN 'xgb_mlp_train'
		WHEN 'logreg' THEN 'logreg_train'
		WHEN 'qrgmm_linear' THEN 'qrgmm_train'
	END
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
