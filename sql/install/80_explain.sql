-- scfrisk install script, part 80: per-row explanations and reason codes
-- (issue 17).  Docs: docs/explain.md.

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
