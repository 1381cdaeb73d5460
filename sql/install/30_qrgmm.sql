
-- ---------------------------------------------------------------------------
-- Part 30: linear quantile regression and QRGMM (issue 5, docs/qrgmm.md).
-- ---------------------------------------------------------------------------

CREATE FUNCTION scfrisk.qrgmm_train_sfunc(internal, float8[], float8, jsonb)
RETURNS internal
AS 'MODULE_PATHNAME', 'qrgmm_train_sfunc'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_train_sfunc(internal, float8[], float8, jsonb) IS
'transition function of qrgmm_train: appends one (covariates, y) row';

CREATE FUNCTION scfrisk.qrgmm_train_final(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'qrgmm_train_final'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_train_final(internal) IS
'final function of qrgmm_train: fits the quantile regressions and encodes the model';

CREATE FUNCTION scfrisk.qrgmm_train_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'qrgmm_train_combine'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_train_combine(internal, internal) IS
'combine function of qrgmm_train: concatenates the rows of two partial states';

CREATE FUNCTION scfrisk.qrgmm_train_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'qrgmm_train_serialize'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_train_serialize(internal) IS
'serialise function of qrgmm_train for parallel aggregation';

CREATE FUNCTION scfrisk.qrgmm_train_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'qrgmm_train_deserialize'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_train_deserialize(bytea, internal) IS
'deserialise function of qrgmm_train for parallel aggregation';

CREATE AGGREGATE scfrisk.qrgmm_train(covariates float8[], y float8, params jsonb) (
	SFUNC = scfrisk.qrgmm_train_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.qrgmm_train_final,
	COMBINEFUNC = scfrisk.qrgmm_train_combine,
	SERIALFUNC = scfrisk.qrgmm_train_serialize,
	DESERIALFUNC = scfrisk.qrgmm_train_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.qrgmm_train(float8[], float8, jsonb) IS
'train a linear QRGMM model: exact quantile regressions of T(y) on the covariates at levels j/m (params: m, degree, transform, tol, max_iter, seed, feature_names)';

CREATE FUNCTION scfrisk.qrgmm_curve(model bytea, covariates float8[])
RETURNS float8[]
AS 'MODULE_PATHNAME', 'qrgmm_curve'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_curve(bytea, float8[]) IS
'the m+1 rearranged knots of the conditional quantile curve at u = j/m, on the transformed (y) scale, flat tails included';

CREATE FUNCTION scfrisk.qrgmm_quantile(model bytea, covariates float8[], tau float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'qrgmm_quantile'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_quantile(bytea, float8[], float8) IS
'conditional quantile of sales at level tau in (0, 1), exact on the piecewise-linear QRGMM curve';

CREATE FUNCTION scfrisk.qrgmm_quantiles(model bytea, covariates float8[], taus float8[])
RETURNS float8[]
AS 'MODULE_PATHNAME', 'qrgmm_quantiles'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_quantiles(bytea, float8[], float8[]) IS
'conditional quantiles of sales at several levels, one curve build for all';

CREATE FUNCTION scfrisk.qrgmm_cdf(model bytea, covariates float8[], s float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'qrgmm_cdf'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_cdf(bytea, float8[], float8) IS
'P(S < s | covariates) under the QRGMM curve (left limit: the flat tails are atoms of mass 1/m), exact';

CREATE FUNCTION scfrisk.qrgmm_sample(model bytea, covariates float8[], n int, seed bigint,
									 mode text DEFAULT 'random')
RETURNS SETOF float8
AS 'MODULE_PATHNAME', 'qrgmm_sample'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
ROWS 1000;
COMMENT ON FUNCTION scfrisk.qrgmm_sample(bytea, float8[], int, bigint, text) IS
'n draws of sales from the QRGMM conditional law: mode random (inverse transform with the seeded xoshiro256** stream) or stratified (Qhat((k - 0.5)/n), sorted, seed ignored)';

CREATE FUNCTION scfrisk.qrgmm_sample_array(model bytea, covariates float8[], n int, seed bigint,
										   mode text DEFAULT 'random')
RETURNS float8[]
AS 'MODULE_PATHNAME', 'qrgmm_sample_array'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_sample_array(bytea, float8[], int, bigint, text) IS
'the draws of qrgmm_sample as one float8[] (the same values for the same arguments)';

CREATE FUNCTION scfrisk.pinball_loss(y float8, q float8, tau float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'pinball_loss'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.pinball_loss(float8, float8, float8) IS
'pinball (check) loss rho_tau(y - q) of a quantile forecast q at level tau';

CREATE FUNCTION scfrisk.crps(samples float8[], y float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'crps'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.crps(float8[], float8) IS
'continuous ranked probability score of an ensemble of samples at the observation y (lower is better)';

CREATE FUNCTION scfrisk.qrgmm_crps(model bytea, covariates float8[], y float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'qrgmm_crps'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_crps(bytea, float8[], float8) IS
'CRPS of the QRGMM conditional law at the observation y, 2 * integral of the pinball loss over tau, computed on the curve without sampling';

CREATE FUNCTION scfrisk.qrgmm_crps_sfunc(float8[], bytea, float8[], float8)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'qrgmm_crps_sfunc'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_crps_sfunc(float8[], bytea, float8[], float8) IS
'transition function of crps_mean(model, covariates, y)';

CREATE FUNCTION scfrisk.crps_samples_sfunc(float8[], float8[], float8)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'crps_samples_sfunc'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.crps_samples_sfunc(float8[], float8[], float8) IS
'transition function of crps_mean(samples, y)';

CREATE FUNCTION scfrisk.crps_combine(float8[], float8[])
RETURNS float8[]
AS 'MODULE_PATHNAME', 'crps_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.crps_combine(float8[], float8[]) IS
'combine function of the crps_mean aggregates';

CREATE FUNCTION scfrisk.crps_final(float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'crps_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.crps_final(float8[]) IS
'final function of the crps_mean aggregates: the mean CRPS, NULL without rows';

CREATE AGGREGATE scfrisk.crps_mean(model bytea, covariates float8[], y float8) (
	SFUNC = scfrisk.qrgmm_crps_sfunc,
	STYPE = float8[],
	INITCOND = '{0,0}',
	FINALFUNC = scfrisk.crps_final,
	COMBINEFUNC = scfrisk.crps_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.crps_mean(bytea, float8[], float8) IS
'mean CRPS of a QRGMM model over held-out rows (exact on the curve)';

CREATE AGGREGATE scfrisk.crps_mean(samples float8[], y float8) (
	SFUNC = scfrisk.crps_samples_sfunc,
	STYPE = float8[],
	INITCOND = '{0,0}',
	FINALFUNC = scfrisk.crps_final,
	COMBINEFUNC = scfrisk.crps_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.crps_mean(float8[], float8) IS
'mean CRPS of per-row ensembles of samples against observations';

CREATE FUNCTION scfrisk.qrgmm_coefficients(model bytea,
										   OUT level int, OUT tau float8, OUT coefficients float8[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'qrgmm_coefficients'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
ROWS 100;
COMMENT ON FUNCTION scfrisk.qrgmm_coefficients(bytea) IS
'the coefficient matrix of a linear QRGMM model: one row per level tau = level/m, coefficients on the raw basis (intercept first)';
