-- The registry reads a kind's training aggregate from the one table of model
-- kinds (scfrisk.model_kinds(), sql/install/00_core.sql).
CREATE OR REPLACE FUNCTION scfrisk.registry_kind_aggregate(kind text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT k.training_aggregate FROM scfrisk.model_kinds() k WHERE k.kind = $1
$$;
