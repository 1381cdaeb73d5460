
-- ---------------------------------------------------------------------------
-- Part 35: QRGMM with a quantile DeepFM network (issue 8, docs/qrgmm-deepfm.md).
-- Models of kind qrgmm_deepfm work with every QRGMM generation and risk
-- function; their covariates float8[] are the numeric fields followed by the
-- categorical ids.
-- ---------------------------------------------------------------------------

CREATE FUNCTION scfrisk.qrgmm_deepfm_train_sfunc(internal, float8[], int[], float8, jsonb)
RETURNS internal
AS 'MODULE_PATHNAME', 'qrgmm_deepfm_train_sfunc'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_deepfm_train_sfunc(internal, float8[], int[], float8, jsonb) IS
'transition function of qrgmm_deepfm_train: appends one (numeric, categorical, y) row';

CREATE FUNCTION scfrisk.qrgmm_deepfm_train_final(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'qrgmm_deepfm_train_final'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_deepfm_train_final(internal) IS
'final function of qrgmm_deepfm_train: trains the quantile DeepFM network and encodes the model';

CREATE FUNCTION scfrisk.qrgmm_deepfm_train_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'qrgmm_deepfm_train_combine'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_deepfm_train_combine(internal, internal) IS
'combine function of qrgmm_deepfm_train: concatenates the rows of two partial states';

CREATE FUNCTION scfrisk.qrgmm_deepfm_train_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'qrgmm_deepfm_train_serialize'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_deepfm_train_serialize(internal) IS
'serialise function of qrgmm_deepfm_train for parallel aggregation';

CREATE FUNCTION scfrisk.qrgmm_deepfm_train_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'qrgmm_deepfm_train_deserialize'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_deepfm_train_deserialize(bytea, internal) IS
'deserialise function of qrgmm_deepfm_train for parallel aggregation';

CREATE AGGREGATE scfrisk.qrgmm_deepfm_train(numeric_fields float8[], categorical_ids int[], y float8,
											params jsonb) (
	SFUNC = scfrisk.qrgmm_deepfm_train_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.qrgmm_deepfm_train_final,
	COMBINEFUNC = scfrisk.qrgmm_deepfm_train_combine,
	SERIALFUNC = scfrisk.qrgmm_deepfm_train_serialize,
	DESERIALFUNC = scfrisk.qrgmm_deepfm_train_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.qrgmm_deepfm_train(float8[], int[], float8, jsonb) IS
'train a QRGMM DeepFM model: a quantile DeepFM network over numeric fields and categorical ids whose multi-output head gives the quantiles of T(y) at levels j/m (params: k, layers, m, epochs, batch_size, learning_rate, weight_decay, dropout, validation_share, patience, min_count, transform, threads, seed, feature_names)';

CREATE FUNCTION scfrisk.qrgmm_deepfm_covariates(model bytea, numeric_fields float8[], categorical_ids int[])
RETURNS float8[]
AS 'MODULE_PATHNAME', 'qrgmm_deepfm_covariates'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_deepfm_covariates(bytea, float8[], int[]) IS
'the covariates float8[] of a qrgmm_deepfm model (numeric fields, then the categorical ids), after checking both field counts against the model';

CREATE FUNCTION scfrisk.qrgmm_curve(model bytea, numeric_fields float8[], categorical_ids int[])
RETURNS float8[]
LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
RETURN scfrisk.qrgmm_curve(model, scfrisk.qrgmm_deepfm_covariates(model, numeric_fields, categorical_ids));
COMMENT ON FUNCTION scfrisk.qrgmm_curve(bytea, float8[], int[]) IS
'qrgmm_curve of a qrgmm_deepfm model with the numeric fields and categorical ids given apart';

CREATE FUNCTION scfrisk.qrgmm_quantile(model bytea, numeric_fields float8[], categorical_ids int[], tau float8)
RETURNS float8
LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
RETURN scfrisk.qrgmm_quantile(model, scfrisk.qrgmm_deepfm_covariates(model, numeric_fields, categorical_ids), tau);
COMMENT ON FUNCTION scfrisk.qrgmm_quantile(bytea, float8[], int[], float8) IS
'qrgmm_quantile of a qrgmm_deepfm model with the numeric fields and categorical ids given apart';

CREATE FUNCTION scfrisk.qrgmm_quantiles(model bytea, numeric_fields float8[], categorical_ids int[], taus float8[])
RETURNS float8[]
LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
RETURN scfrisk.qrgmm_quantiles(model, scfrisk.qrgmm_deepfm_covariates(model, numeric_fields, categorical_ids), taus);
COMMENT ON FUNCTION scfrisk.qrgmm_quantiles(bytea, float8[], int[], float8[]) IS
'qrgmm_quantiles of a qrgmm_deepfm model with the numeric fields and categorical ids given apart';

CREATE FUNCTION scfrisk.qrgmm_sample(model bytea, numeric_fields float8[], categorical_ids int[], n int,
									 seed bigint, mode text DEFAULT 'random')
RETURNS SETOF float8
LANGUAGE SQL IMMUTABLE PARALLEL SAFE
ROWS 1000
AS $$
SELECT s FROM scfrisk.qrgmm_sample(model,
	CASE WHEN model IS NULL OR numeric_fields IS NULL OR categorical_ids IS NULL THEN NULL
		 ELSE scfrisk.qrgmm_deepfm_covariates(model, numeric_fields, categorical_ids) END,
	n, seed, mode) AS s
$$;
COMMENT ON FUNCTION scfrisk.qrgmm_sample(bytea, float8[], int[], int, bigint, text) IS
'qrgmm_sample of a qrgmm_deepfm model with the numeric fields and categorical ids given apart';
