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
