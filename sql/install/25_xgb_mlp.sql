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
'trains the XGBoost-MLP hybrid: gradient-boosted trees on all features (params.xgb), keeps the features whose normalised importance (params.importance_type, default gain) is at least params.threshold (a number or "auto"; default 0, 0.03 in paper mode), and trains an MLP (params.mlp) on them; in blend mode (params.mode, the default) the score is a non-negative logistic stacker over the out-of-fold margins of the trees, a random forest (params.rf), the network and a logistic regression (params.logreg), or the best part alone when the blend does not beat it out of fold; in stacked mode the network also gets the trees'' out-of-fold margin; params.feature_names names the features';

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
