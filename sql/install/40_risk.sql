
-- ---------------------------------------------------------------------------
-- Part 40: loan risk curves and loan sizing (issue 6, docs/risk.md).
-- ---------------------------------------------------------------------------

CREATE FUNCTION scfrisk.loan_risk_curve(model bytea, covariates float8[], loans float8[],
										terms jsonb DEFAULT '{}')
RETURNS TABLE (loan float8, due float8, pd float8, el float8, elgd float8, lgd_rate float8,
			   var float8, cvar float8, expected_profit float8, tail_resolved boolean)
AS 'MODULE_PATHNAME', 'loan_risk_curve'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 200;
COMMENT ON FUNCTION scfrisk.loan_risk_curve(bytea, float8[], float8[], jsonb) IS
'risk of each loan amount (sorted, >= 0) for a seller, from a QRGMM sales model at the covariates: due, PD, EL, ELGD, LGD rate, VaR, CVaR, expected profit; exact on the quantile curve (terms: rate, fee, funding_rate, remittance, collateral_value, haircut, units, unit_price, unit_cost, level, repayment, samples)';

CREATE FUNCTION scfrisk.loan_risk_curve(samples float8[], loans float8[], terms jsonb DEFAULT '{}')
RETURNS TABLE (loan float8, due float8, pd float8, el float8, elgd float8, lgd_rate float8,
			   var float8, cvar float8, expected_profit float8, tail_resolved boolean)
AS 'MODULE_PATHNAME', 'loan_risk_curve_samples'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 200;
COMMENT ON FUNCTION scfrisk.loan_risk_curve(float8[], float8[], jsonb) IS
'risk of each loan amount (sorted, >= 0) from a float8[] of sales samples of one seller (the sample path)';

CREATE FUNCTION scfrisk.loan_size(model bytea, covariates float8[], policy jsonb DEFAULT '{}')
RETURNS TABLE (loan float8, binding_constraint text, due float8, pd float8, el float8,
			   elgd float8, lgd_rate float8, var float8, cvar float8, expected_profit float8,
			   tail_resolved boolean, limits jsonb)
AS 'MODULE_PATHNAME', 'loan_size'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1;
COMMENT ON FUNCTION scfrisk.loan_size(bytea, float8[], jsonb) IS
'largest loan that the policy allows for a seller, from a QRGMM sales model at the covariates: the loan, the binding constraint (pd_limit, el_rate, cvar_budget, ltv_cap, credit_line, profit_optimum), the risk at that loan and every limit';

CREATE FUNCTION scfrisk.loan_size(samples float8[], policy jsonb DEFAULT '{}')
RETURNS TABLE (loan float8, binding_constraint text, due float8, pd float8, el float8,
			   elgd float8, lgd_rate float8, var float8, cvar float8, expected_profit float8,
			   tail_resolved boolean, limits jsonb)
AS 'MODULE_PATHNAME', 'loan_size_samples'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1;
COMMENT ON FUNCTION scfrisk.loan_size(float8[], jsonb) IS
'largest loan that the policy allows, from a float8[] of sales samples of one seller (the sample path)';

CREATE FUNCTION scfrisk.loan_grid(upper float8, levels int)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'loan_grid'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.loan_grid(float8, int) IS
'levels evenly spaced loan amounts from 0 to upper (a sorted loan grid for loan_risk_curve)';

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

-- Money columns of the BI views (issue 19): round(amount::numeric, 2) without
-- the decimal text float8 -> numeric goes through (src/risk/cents.c).
CREATE FUNCTION scfrisk.round_cents(amount float8)
RETURNS numeric
AS 'MODULE_PATHNAME', 'round_cents'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.round_cents(float8) IS
'an amount as numeric rounded to cents: the same value as round(amount::numeric, 2), computed from the float8''s binary value without printing it (the money columns of the demo views)';
