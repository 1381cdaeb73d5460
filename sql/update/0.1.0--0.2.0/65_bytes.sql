-- Model bytes (issue 13), as sql/install/65_bytes.sql: container_info, and
-- model_info (same C symbol, now decoding the whole model) described anew.
CREATE FUNCTION scfrisk.container_info(model bytea)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'container_info'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.container_info(bytea) IS
'model_info from the container alone (header, sections, params, names, info) without decoding the body: for inspecting damaged or hand-made bytes';

COMMENT ON FUNCTION scfrisk.model_info(bytea) IS
'header and metadata of an scfrisk model that can be scored: kind, format version, width, sizes, checksum, params, feature names, rows, seed, diagnostics; the whole model is decoded and its params and info must agree with the body (XX001 otherwise)';

-- Params per group (issue 13 item 10): what used to come from the first row
-- must now be the same on every row.
COMMENT ON AGGREGATE scfrisk.binary_metrics(float8, float8, float8) IS
'binary classification metrics at the given threshold (the same on every row of a group, 22023 otherwise): tp, fp, tn, fn, accuracy, precision, recall, type1_error, type2_error, f1, mcc, auc, ks, gini, brier, logloss';
COMMENT ON FUNCTION scfrisk.partial_dependence_sfunc(internal, bytea, float8[], int, float8[]) IS
'transition function of partial_dependence: collects the rows; model, feature and grid must be the same on every row (22023 otherwise)';
