-- scfrisk update script 0.1.0 -> 0.2.0, part 40: the lending decision (issue 16).

-- The lending decision (issue 16, docs/risk.md "The lending decision"):
-- not STRICT, so a missing input is an answer (decision refer, status why),
-- not a missing row.
CREATE FUNCTION scfrisk.loan_decision(sales_model bytea, covariates float8[], credit_model bytea,
									  credit_features float8[], policy jsonb DEFAULT '{}')
RETURNS TABLE (decision text, loan float8, binding_constraint text, status text, reasons text[],
			   sales_pd float8, credit_pd float8, combined_pd float8, due float8, el float8,
			   var float8, cvar float8, expected_profit float8, tail_resolved boolean,
			   smallest_reliable_pd float8, limits jsonb)
AS 'MODULE_PATHNAME', 'loan_decision'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1;
COMMENT ON FUNCTION scfrisk.loan_decision(bytea, float8[], bytea, float8[], jsonb) IS
'lending decision (approve, refer, decline) for a seller from a QRGMM sales model and a credit model (any scfrisk.predict kind, NULL for none): the largest loan under the sales limits of loan_size, credit_pd_limit and combined_pd_limit, the binding constraint, both PDs, status and reasons; NULL inputs refer';

CREATE FUNCTION scfrisk.loan_decision(samples float8[], credit_model bytea, credit_features float8[],
									  policy jsonb DEFAULT '{}')
RETURNS TABLE (decision text, loan float8, binding_constraint text, status text, reasons text[],
			   sales_pd float8, credit_pd float8, combined_pd float8, due float8, el float8,
			   var float8, cvar float8, expected_profit float8, tail_resolved boolean,
			   smallest_reliable_pd float8, limits jsonb)
AS 'MODULE_PATHNAME', 'loan_decision_samples'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1;
COMMENT ON FUNCTION scfrisk.loan_decision(float8[], bytea, float8[], jsonb) IS
'lending decision from a float8[] of sales samples of one seller (the sample path) and a credit model';
