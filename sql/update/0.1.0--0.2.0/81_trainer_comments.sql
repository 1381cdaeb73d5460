-- scfrisk update 0.1.0 -> 0.2.0: the trainers' comments as 0.2.0 writes them
-- (feature_names in every trainer, the MLP's skip and refit, the hybrid's modes).
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

