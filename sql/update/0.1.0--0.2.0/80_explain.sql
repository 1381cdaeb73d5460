-- Update 0.1.0 -> 0.2.0, part 80: per-row explanations and reason codes
-- (issue 17), the same objects as sql/install/80_explain.sql.

CREATE FUNCTION scfrisk.explain(model bytea, features float8[])
RETURNS TABLE(feature int, name text, value float8, contribution float8)
AS 'MODULE_PATHNAME', 'explain_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 17;
COMMENT ON FUNCTION scfrisk.explain(bytea, float8[]) IS
'contributions of each feature to the model''s margin (log-odds) for one row, plus a bias row (feature 0) so that they add up to the margin: TreeSHAP for gbt, exact linear for logreg, Shapley values against the stored background sample for mlp and xgb_mlp (docs/explain.md)';

CREATE FUNCTION scfrisk.explain_array(model bytea, features float8[])
RETURNS float8[]
AS 'MODULE_PATHNAME', 'explain_array'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.explain_array(bytea, float8[]) IS
'the contributions of scfrisk.explain as an array, one per feature then the bias (XGBoost pred_contribs layout), for bulk use';

CREATE FUNCTION scfrisk.explain_std_error(model bytea, features float8[])
RETURNS float8[]
AS 'MODULE_PATHNAME', 'explain_std_error'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.explain_std_error(bytea, float8[]) IS
'standard errors of the contributions of scfrisk.explain_array (0 for the exact methods; the Monte Carlo error of the permutation estimator of mlp and xgb_mlp models with more than 8 features in play)';

CREATE FUNCTION scfrisk.reason_codes(model bytea, features float8[], k int DEFAULT 4,
									 direction text DEFAULT 'adverse')
RETURNS TABLE(rank int, feature int, name text, value float8, contribution float8)
AS 'MODULE_PATHNAME', 'reason_codes'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 4;
COMMENT ON FUNCTION scfrisk.reason_codes(bytea, float8[], int, text) IS
'the at most k features whose contributions pushed this row''s score furthest towards default (direction adverse: largest positive contributions) or away from it (favorable: most negative), with names, values and contributions';

-- The trainers' comments name their new feature_names parameter.
COMMENT ON AGGREGATE scfrisk.mlp_train(float8[], float8, jsonb) IS
'trains a multi-layer perceptron (standardised inputs, Adam, a linear skip starting at logistic regression, early stopping then a refit) on the rows; params: objective, hidden, activation, epochs, batch_size, learning_rate, weight_decay, dropout, early_stopping_rounds, validation_share, class_weight, scale_pos_weight, missing_indicator, seed, linear_skip, refit, feature_names';
COMMENT ON AGGREGATE scfrisk.logreg_train(float8[], float8, jsonb) IS
'fits L2-regularised logistic regression (as scikit-learn LogisticRegression(C=...)); params: C, fit_intercept, max_iter, tol, feature_names';
COMMENT ON AGGREGATE scfrisk.xgb_mlp_train(float8[], float8, jsonb) IS
'trains the XGBoost-MLP hybrid: gradient-boosted trees on all features (params.xgb), keeps the features whose normalised importance (params.importance_type, default gain) is at least params.threshold (a number or "auto"; default 0 in stacked mode, 0.03 in paper mode), and trains an MLP (params.mlp) on them, in stacked mode (params.mode, the default) with the trees'' out-of-fold margin as one more input; params.feature_names names the features';
COMMENT ON AGGREGATE scfrisk.qrgmm_train(float8[], float8, jsonb) IS
'train a linear QRGMM model: exact quantile regressions of T(y) on the covariates at levels j/m (params: m, degree, transform, tol, max_iter, seed, feature_names)';
COMMENT ON AGGREGATE scfrisk.qrgmm_deepfm_train(float8[], int[], float8, jsonb) IS
'train a QRGMM DeepFM model: a quantile DeepFM network over numeric fields and categorical ids whose multi-output head gives the quantiles of T(y) at levels j/m (params: k, layers, m, epochs, batch_size, learning_rate, weight_decay, dropout, validation_share, patience, min_count, transform, threads, seed, feature_names)';

-- The demo's functions (feature names, the reason-codes view) are replaced
-- with every other demo function by 95_demo.sql.
