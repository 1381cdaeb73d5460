-- scfrisk update script 0.1.0 -> 0.2.0, part 85: model governance (issue 17,
-- items 4-6).  The same objects as sql/install/45_governance.sql, the
-- demo's monitoring function (end of sql/install/50_demo.sql) and the
-- registry's evaluation with the PSI (sql/install/60_registry.sql), so that
-- an updated 0.1.0 installation equals a fresh 0.2.0 one.  Monotone
-- constraints are a parameter of xgb_train: no SQL object changes.

-- ------------------------------------------------------------ drift
CREATE FUNCTION scfrisk.psi_sfunc(internal, bytea, float8)
RETURNS internal
AS 'MODULE_PATHNAME', 'scfrisk_psi_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.psi_sfunc(internal, bytea, float8) IS
'transition function of psi(model, score)';

CREATE FUNCTION scfrisk.psi_final(internal)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'scfrisk_psi_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.psi_final(internal) IS
'final function of psi: the index and its bin table as jsonb';

CREATE AGGREGATE scfrisk.psi(model bytea, score float8) (
	SFUNC = scfrisk.psi_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.psi_final
);
COMMENT ON AGGREGATE scfrisk.psi(bytea, float8) IS
'population stability index of live scores (as scfrisk.raw_score returns them; scfrisk.predict for a model without calibration) against the training score deciles stored in the model: {"psi", "rows", "bins": [{bin, lower, upper, expected, count, actual, contribution}]}; a NULL score counts as missing';

CREATE FUNCTION scfrisk.csi_sfunc(internal, bytea, float8[])
RETURNS internal
AS 'MODULE_PATHNAME', 'scfrisk_csi_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.csi_sfunc(internal, bytea, float8[]) IS
'transition function of csi(model, features)';

CREATE FUNCTION scfrisk.csi_final(internal)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'scfrisk_csi_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.csi_final(internal) IS
'final function of csi: one index and bin table per feature as jsonb';

CREATE AGGREGATE scfrisk.csi(model bytea, features float8[]) (
	SFUNC = scfrisk.csi_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.csi_final
);
COMMENT ON AGGREGATE scfrisk.csi(bytea, float8[]) IS
'characteristic stability index of every feature of live rows against the training deciles stored in the model: {"features": [{feature, csi, rows, bins}]}; NULL elements count as missing';

-- ------------------------------------------------------------ calibration
CREATE FUNCTION scfrisk.calibration_table_sfunc(internal, float8, float8)
RETURNS internal
AS 'MODULE_PATHNAME', 'scfrisk_calibration_table_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.calibration_table_sfunc(internal, float8, float8) IS
'transition function of calibration_table(label, score)';

CREATE FUNCTION scfrisk.calibration_table_sfunc(internal, float8, float8, int)
RETURNS internal
AS 'MODULE_PATHNAME', 'scfrisk_calibration_table_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.calibration_table_sfunc(internal, float8, float8, int) IS
'transition function of calibration_table(label, score, bins)';

CREATE FUNCTION scfrisk.calibration_table_final(internal)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'scfrisk_calibration_table_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.calibration_table_final(internal) IS
'final function of calibration_table: reliability rows, ECE and MCE as jsonb';

CREATE AGGREGATE scfrisk.calibration_table(label float8, score float8) (
	SFUNC = scfrisk.calibration_table_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.calibration_table_final
);
COMMENT ON AGGREGATE scfrisk.calibration_table(float8, float8) IS
'reliability table over 10 equal-width bins of [0, 1]: {"rows", "ece", "mce", "bins": [{bin, lower, upper, rows, mean_score, observed_rate}]}';

CREATE AGGREGATE scfrisk.calibration_table(label float8, score float8, bins int) (
	SFUNC = scfrisk.calibration_table_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.calibration_table_final
);
COMMENT ON AGGREGATE scfrisk.calibration_table(float8, float8, int) IS
'reliability table over the given number of equal-width bins of [0, 1] (1 to 1000, taken from the first row)';

CREATE FUNCTION scfrisk.calibrate_sfunc(internal, bytea, float8[], float8, text)
RETURNS internal
AS 'MODULE_PATHNAME', 'scfrisk_calibrate_sfunc'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.calibrate_sfunc(internal, bytea, float8[], float8, text) IS
'transition function of calibrate(model, features, label, method)';

CREATE FUNCTION scfrisk.calibrate_final(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'scfrisk_calibrate_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.calibrate_final(internal) IS
'final function of calibrate: the model with its calibration map';

CREATE AGGREGATE scfrisk.calibrate(model bytea, features float8[], label float8, method text) (
	SFUNC = scfrisk.calibrate_sfunc,
	STYPE = internal,
	FINALFUNC = scfrisk.calibrate_final
);
COMMENT ON AGGREGATE scfrisk.calibrate(bytea, float8[], float8, text) IS
'fits a calibration map ("platt" or "isotonic") of the model''s margin on held-out rows and returns the model with it; scfrisk.predict then returns calibrated probabilities';

CREATE FUNCTION scfrisk.calibrated_score(model bytea, score float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'scfrisk_calibrated_score'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.calibrated_score(bytea, float8) IS
'a raw probability of the model (as its kind''s own predict function returns it) through the model''s calibration map; the score itself when the model has none';

CREATE FUNCTION scfrisk.model_governance(model bytea)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'scfrisk_model_governance'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.model_governance(bytea) IS
'the governance sections of a model: training distributions of score and features (drift) and the calibration map, null where absent';

CREATE FUNCTION scfrisk.raw_score(model bytea, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'scfrisk_raw_score'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.raw_score(bytea, float8[]) IS
'the score of one row as the model''s kind computes it, without a calibration map: what psi compares with the training distribution (equal to scfrisk.predict for a model without calibration)';

CREATE FUNCTION scfrisk.stability_band(stability_index float8)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN stability_index < 0.1 THEN 'stable'
			WHEN stability_index < 0.25 THEN 'monitor'
			ELSE 'shift' END;
COMMENT ON FUNCTION scfrisk.stability_band(float8) IS
'the usual reading of a PSI or CSI: below 0.1 stable, 0.1 to 0.25 monitor, 0.25 and above shift; conventions of credit scoring practice, not statistical thresholds';

-- registry: PSI at each retrain is in registry_evaluate, replaced with the
-- rest of the registry by 60_registry.sql (generated from the install fragment).

-- The demo's monitoring function (demo_credit_monitoring) is created with
-- every other demo function by 95_demo.sql.
