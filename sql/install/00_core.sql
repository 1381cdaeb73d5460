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

CREATE FUNCTION scfrisk.model_kinds(
	OUT kind text, OUT tag int, OUT format_version int, OUT training_aggregate text,
	OUT scores_rows bool, OUT gives_curves bool, OUT accepts_missing bool, OUT docs text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'model_kinds'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.model_kinds() IS
'the model kinds this build knows: name, header tag, newest format version, the training aggregate (features float8[], label float8, params jsonb) the registry retrains with, whether scfrisk.predict scores its rows, whether it gives quantile curves, whether its scorer takes missing values, its docs page';
