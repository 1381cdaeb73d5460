
-- ---------------------------------------------------------------------------
-- Part 43: bootstrap replicates of QRGMM and the interval of a loan's PD and
-- EL (issue 16, docs/risk.md "How sure is the number").
-- ---------------------------------------------------------------------------

CREATE FUNCTION scfrisk.qrgmm_bootstrap_sfunc(internal, float8[], float8, jsonb)
RETURNS internal
AS 'MODULE_PATHNAME', 'qrgmm_bootstrap_sfunc'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_bootstrap_sfunc(internal, float8[], float8, jsonb) IS
'transition function of qrgmm_bootstrap (100 replicates, seed 0): appends one (covariates, y) row';

CREATE FUNCTION scfrisk.qrgmm_bootstrap_sfunc(internal, float8[], float8, jsonb, int)
RETURNS internal
AS 'MODULE_PATHNAME', 'qrgmm_bootstrap_sfunc'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_bootstrap_sfunc(internal, float8[], float8, jsonb, int) IS
'transition function of qrgmm_bootstrap (seed 0): appends one (covariates, y) row';

CREATE FUNCTION scfrisk.qrgmm_bootstrap_sfunc(internal, float8[], float8, jsonb, int, int)
RETURNS internal
AS 'MODULE_PATHNAME', 'qrgmm_bootstrap_sfunc'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_bootstrap_sfunc(internal, float8[], float8, jsonb, int, int) IS
'transition function of qrgmm_bootstrap: appends one (covariates, y) row';

CREATE FUNCTION scfrisk.qrgmm_bootstrap_sfunc(internal, float8[], float8, jsonb, int, int, anyelement)
RETURNS internal
AS 'MODULE_PATHNAME', 'qrgmm_bootstrap_sfunc'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_bootstrap_sfunc(internal, float8[], float8, jsonb, int, int, anyelement) IS
'transition function of the cluster bootstrap qrgmm_bootstrap: appends one (covariates, y) row with its cluster key';

CREATE FUNCTION scfrisk.qrgmm_bootstrap_final(internal)
RETURNS bytea[]
AS 'MODULE_PATHNAME', 'qrgmm_bootstrap_final'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.qrgmm_bootstrap_final(internal) IS
'final function of qrgmm_bootstrap: one QRGMM fit per multinomial resample of the rows';

CREATE AGGREGATE scfrisk.qrgmm_bootstrap(covariates float8[], y float8, params jsonb) (
	SFUNC = scfrisk.qrgmm_bootstrap_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.qrgmm_bootstrap_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.qrgmm_bootstrap(float8[], float8, jsonb) IS
'100 bootstrap replicates (seed 0) of qrgmm_train: a bytea[] of qrgmm_linear models, each fitted on a seeded multinomial resample of the rows';

CREATE AGGREGATE scfrisk.qrgmm_bootstrap(covariates float8[], y float8, params jsonb, replicates int) (
	SFUNC = scfrisk.qrgmm_bootstrap_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.qrgmm_bootstrap_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.qrgmm_bootstrap(float8[], float8, jsonb, int) IS
'bootstrap replicates (seed 0) of qrgmm_train: a bytea[] of qrgmm_linear models, each fitted on a seeded multinomial resample of the rows';

CREATE AGGREGATE scfrisk.qrgmm_bootstrap(covariates float8[], y float8, params jsonb, replicates int, seed int) (
	SFUNC = scfrisk.qrgmm_bootstrap_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.qrgmm_bootstrap_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.qrgmm_bootstrap(float8[], float8, jsonb, int, int) IS
'bootstrap replicates of qrgmm_train: a bytea[] of qrgmm_linear models, each fitted on a multinomial resample of the rows drawn from the seed (same bytes for the same rows in any order)';

CREATE AGGREGATE scfrisk.qrgmm_bootstrap(covariates float8[], y float8, params jsonb, replicates int, seed int, cluster anyelement) (
	SFUNC = scfrisk.qrgmm_bootstrap_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.qrgmm_bootstrap_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE scfrisk.qrgmm_bootstrap(float8[], float8, jsonb, int, int, anyelement) IS
'cluster bootstrap replicates of qrgmm_train: a bytea[] of qrgmm_linear models, each fitted on a multinomial resample of the clusters (all rows of a drawn cluster, as often as it is drawn) drawn from the seed; use it when the rows of one key (a seller''s months) are dependent';

CREATE FUNCTION scfrisk.loan_risk_interval(model bytea, replicates bytea[], covariates float8[],
										   loan float8, level float8 DEFAULT 0.9,
										   terms jsonb DEFAULT '{}', method text DEFAULT 'percentile')
RETURNS TABLE (loan float8, pd float8, pd_lower float8, pd_upper float8, el float8,
			   el_lower float8, el_upper float8, var float8, var_lower float8, var_upper float8,
			   cvar float8, cvar_lower float8, cvar_upper float8, var_level float8,
			   level float8, replicates int, method text, tail_resolved boolean)
AS 'MODULE_PATHNAME', 'loan_risk_interval'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1;
COMMENT ON FUNCTION scfrisk.loan_risk_interval(bytea, bytea[], float8[], float8, float8, jsonb, text) IS
'PD, EL, VaR and CVaR (at the terms'' level, var_level) of one loan for a seller from a QRGMM sales model at the covariates, with their bootstrap intervals at level (method percentile, the default, or bc: bias-corrected percentile) from replicate models of the same kind and width (qrgmm_bootstrap); terms as loan_risk_curve';
