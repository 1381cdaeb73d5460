-- scfrisk install script, part 92: one gradient-boosted model over every
-- foreign partition of a sharded table, trained where the rows are
-- (xgb_train_sharded; docs/scale-out.md, issue 20).

-- Shard side: two aggregates the coordinator runs on each shard.  Immutable
-- extension members, so postgres_fdw ships them to a server whose
-- "extensions" option lists scfrisk; only their bytes cross the network.
-- The sketch aggregate reads the partition once and keeps its rows for the
-- training's session (to the end of the remote transaction); every later
-- step is one query per server over the connection postgres_fdw holds
-- (src/trees/gbt_dist_pg.c), reading no table.
CREATE FUNCTION scfrisk.xgb_shard_sketch_sfunc(internal, float8[], float8, float8, int8)
RETURNS internal
AS 'MODULE_PATHNAME', 'xgb_shard_sketch_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_shard_sketch_sfunc(internal, float8[], float8, float8, int8) IS
'transition function of xgb_shard_sketch: collects a row (NULL features, label or weight skip it)';

CREATE FUNCTION scfrisk.xgb_shard_sketch_final(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'xgb_shard_sketch_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_shard_sketch_final(internal) IS
'final function of xgb_shard_sketch: per feature the sorted distinct float32 values with their counts and weights; keeps the rows for the session';

CREATE AGGREGATE scfrisk.xgb_shard_sketch(features float8[], label float8, weight float8, session int8) (
	SFUNC = scfrisk.xgb_shard_sketch_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.xgb_shard_sketch_final,
	PARALLEL = RESTRICTED
);
COMMENT ON AGGREGATE scfrisk.xgb_shard_sketch(float8[], float8, float8, int8) IS
'shard side of xgb_train_sharded: the summary of the shard''s rows from which the coordinator computes xgb_train''s bin edges; the rows stay on the shard for the session''s steps (internal)';

CREATE FUNCTION scfrisk.xgb_shard_step_sfunc(internal, int8, bytea)
RETURNS internal
AS 'MODULE_PATHNAME', 'xgb_shard_step_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_shard_step_sfunc(internal, int8, bytea) IS
'transition function of xgb_shard_step: keeps the job';

CREATE FUNCTION scfrisk.xgb_shard_step_final(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'xgb_shard_step_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.xgb_shard_step_final(internal) IS
'final function of xgb_shard_step: the session''s answer to the job';

CREATE AGGREGATE scfrisk.xgb_shard_step(session int8, job bytea) (
	SFUNC = scfrisk.xgb_shard_step_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.xgb_shard_step_final,
	PARALLEL = RESTRICTED
);
COMMENT ON AGGREGATE scfrisk.xgb_shard_step(int8, bytea) IS
'shard side of xgb_train_sharded and logreg_train_sharded: one step of the session''s training (a tree''s root, a level''s histograms; a logistic regression''s loss or gradient and Hessian sums) from the rows its sketch or load kept (internal)';

-- One row, so that a step of logreg_train_sharded reaches the shard through
-- postgres_fdw without scanning a partition (the coordinator reads it
-- through a temporary foreign table per server).
CREATE VIEW scfrisk.shard_unit AS SELECT 1 AS one;
COMMENT ON VIEW scfrisk.shard_unit IS
'one row: what logreg_train_sharded''s steps read on a shard';
GRANT SELECT ON scfrisk.shard_unit TO PUBLIC;

-- Coordinator: checks the shards (scfrisk.check_shards), then drives the
-- rounds through one query per server and tree level.  PARALLEL UNSAFE (the
-- default, said here on purpose): its queries open remote transactions
-- through postgres_fdw, which a parallel worker must not do.
CREATE FUNCTION scfrisk.xgb_train_sharded(relation regclass, features text, label text,
										  params jsonb DEFAULT NULL, weight text DEFAULT NULL)
RETURNS bytea
AS 'MODULE_PATHNAME', 'xgb_train_sharded'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION scfrisk.xgb_train_sharded(regclass, text, text, jsonb, text) IS
'trains one gradient-boosted model (xgb_train''s params and model) over every foreign partition of a sharded table without moving its rows: per-shard sketches give xgb_train''s bin edges, per-level shard histograms grow the trees';

-- Sharded logistic regression: the shard side loads the partition's rows
-- into a session (logreg_shard_load, answering with their count, labels and
-- column sums); every Newton step's sums come back through xgb_shard_step.
CREATE FUNCTION scfrisk.logreg_shard_load_sfunc(internal, float8[], float8, int8)
RETURNS internal
AS 'MODULE_PATHNAME', 'logreg_shard_load_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.logreg_shard_load_sfunc(internal, float8[], float8, int8) IS
'transition function of logreg_shard_load: collects a row as logreg_train does (NULL features or label skip it, a missing element is an error)';

CREATE FUNCTION scfrisk.logreg_shard_load_final(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'logreg_shard_load_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.logreg_shard_load_final(internal) IS
'final function of logreg_shard_load: the count, labels 1 and column sums of the shard''s rows; keeps the rows for the session';

CREATE AGGREGATE scfrisk.logreg_shard_load(features float8[], label float8, session int8) (
	SFUNC = scfrisk.logreg_shard_load_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.logreg_shard_load_final,
	PARALLEL = RESTRICTED
);
COMMENT ON AGGREGATE scfrisk.logreg_shard_load(float8[], float8, int8) IS
'shard side of logreg_train_sharded: keeps the shard''s rows for the session''s Newton steps (reached through xgb_shard_step) and answers with their summary (internal)';

CREATE FUNCTION scfrisk.logreg_train_sharded(relation regclass, features text, label text,
											 params jsonb DEFAULT NULL)
RETURNS bytea
AS 'MODULE_PATHNAME', 'logreg_train_sharded'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION scfrisk.logreg_train_sharded(regclass, text, text, jsonb) IS
'trains one logistic regression (logreg_train''s params and model, without calibrate) over every foreign partition of a sharded table without moving its rows: logreg_train''s Newton iterations on the coordinator, each step''s gradient, Hessian and loss summed on the shards';
