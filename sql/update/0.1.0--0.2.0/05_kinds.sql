-- The one table of model kinds as rows (sql/install/00_core.sql).
CREATE FUNCTION scfrisk.model_kinds(
	OUT kind text, OUT tag int, OUT format_version int, OUT training_aggregate text,
	OUT scores_rows bool, OUT gives_curves bool, OUT accepts_missing bool, OUT docs text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'model_kinds'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.model_kinds() IS
'the model kinds this build knows: name, header tag, newest format version, the training aggregate (features float8[], label float8, params jsonb) the registry retrains with, whether scfrisk.predict scores its rows, whether it gives quantile curves, whether its scorer takes missing values, its docs page';
