-- Loan risk curves and loan sizing (issue 6): happy paths on deterministic
-- data (rounded values and tolerance booleans), then every bad input.
SET extra_float_digits = 0;

-- A uniform sales sample 1..1000: PD(L) = share of samples below (1 + r) L.
CREATE TEMP TABLE u AS SELECT array_agg(i::float8 ORDER BY i) AS s FROM generate_series(1, 1000) i;
SELECT loan, round(due::numeric, 2) AS due, round(pd::numeric, 4) AS pd, round(el::numeric, 4) AS el,
	   round(var::numeric, 2) AS var, round(cvar::numeric, 4) AS cvar,
	   round(expected_profit::numeric, 4) AS profit, tail_resolved
FROM u, scfrisk.loan_risk_curve(s, ARRAY[0, 100, 245, 490, 980, 2000]::float8[], '{"rate": 0.02}');

-- Closed forms on the uniform sample: EL = sum of (t - s)^+ / K, CVaR over the worst 5%.
SELECT abs(c.el - (SELECT sum(greatest(c.due - i, 0)) / 1000 FROM generate_series(1, 1000) i)) < 1e-9 AS el_exact,
	   abs(c.cvar - (SELECT sum(greatest(c.due - i, 0)) / 50 FROM generate_series(1, 50) i)) < 1e-9 AS cvar_exact
FROM u, scfrisk.loan_risk_curve(s, ARRAY[300]::float8[]) c;

-- Sizing: PD limit 10% -> due at most the 101st sample (101), loan 101/1.02.
SELECT round(loan::numeric, 4) AS loan, binding_constraint, round(pd::numeric, 3) AS pd
FROM u, scfrisk.loan_size(s, '{"pd_limit": 0.1, "el_rate": 0, "profit_optimum": false}');
SELECT binding_constraint, round(loan::numeric, 2) AS loan
FROM u, scfrisk.loan_size(s, '{"pd_limit": 0.1, "el_rate": 0, "credit_line": 50, "profit_optimum": false}');
SELECT binding_constraint, round(loan::numeric, 2) AS loan
FROM u, scfrisk.loan_size(s, '{"pd_limit": 0.5, "el_rate": 0, "collateral_value": 100, "profit_optimum": false}');
SELECT binding_constraint, round(loan::numeric, 2) AS loan
FROM u, scfrisk.loan_size(s, '{"pd_limit": 0.5, "profit_optimum": false}');
SELECT binding_constraint, round(loan::numeric, 2) AS loan, cvar <= 200 AS within_budget
FROM u, scfrisk.loan_size(s, '{"pd_limit": 1, "el_rate": 0, "cvar_budget": 200, "profit_optimum": false}');
-- profit optimum: PD at the critical fractile (0.05 + 0.01 - 0.02) / 1.05
SELECT binding_constraint, round(pd::numeric, 3) AS pd, abs(pd - 0.04 / 1.05) < 0.002 AS at_fractile
FROM u, scfrisk.loan_size(s, '{"rate": 0.05, "fee": 0.01, "funding_rate": 0.02, "pd_limit": 1, "el_rate": 0}');
SELECT jsonb_object_keys(limits) AS active_limit
FROM u, scfrisk.loan_size(s, '{"credit_line": 10}') ORDER BY 1;

-- Presets: a fixed recovery of (1 - 0.5) * 200 = 100 shifts the threshold.
SELECT round(pd::numeric, 3) AS pd
FROM u, scfrisk.loan_risk_curve(s, ARRAY[300]::float8[],
	'{"rate": 0, "repayment": "sales_plus_fixed_recovery", "collateral_value": 200, "haircut": 0.5}');
SELECT round(pd::numeric, 3) AS pd, round(el::numeric, 3) AS el
FROM u, scfrisk.loan_risk_curve(s, ARRAY[500]::float8[],
	'{"rate": 0, "repayment": "sales_plus_collateral", "units": 10, "unit_price": 100, "unit_cost": 50}');

-- A model: deterministic sales law, QRGMM fitted in the test.
CREATE TEMP TABLE d AS
SELECT ARRAY[(i % 10)::float8] AS x,
	   exp(8 + 0.1 * (i % 10) + 0.3 * sqrt(2) * erfinv_approx) AS y
FROM (SELECT i, (((i * 7919) % 1000) + 0.5) / 1000.0 AS u FROM generate_series(1, 4000) i) s,
	 LATERAL (SELECT CASE WHEN u < 0.5 THEN -sqrt(-ln(2 * u)) ELSE sqrt(-ln(2 * (1 - u))) END AS erfinv_approx) e;
CREATE TEMP TABLE m AS SELECT scfrisk.qrgmm_train(x, y, '{"m": 100}') AS model FROM d;
-- monotone in the loan, PD in [0, 1], tails flagged
WITH c AS (
	SELECT * FROM m, scfrisk.loan_risk_curve(model, ARRAY[5.0],
		ARRAY(SELECT 200.0 * g FROM generate_series(0, 40) g)::float8[]))
SELECT count(*) AS rows,
	   bool_and(pd >= 0 AND pd <= 1) AS pd_in_range,
	   bool_and(el >= 0 AND cvar >= el AND var >= 0) AS ordered,
	   bool_or(NOT tail_resolved) AS some_unresolved,
	   bool_or(tail_resolved) AS some_resolved
FROM c;
WITH c AS (
	SELECT loan, pd, el, cvar, var, lag(pd) OVER w AS ppd, lag(el) OVER w AS pel, lag(cvar) OVER w AS pcv
	FROM m, scfrisk.loan_risk_curve(model, ARRAY[5.0],
		ARRAY(SELECT 50.0 * g FROM generate_series(0, 200) g)::float8[])
	WINDOW w AS (ORDER BY loan))
SELECT bool_and(pd >= ppd AND el >= pel AND cvar >= pcv) AS monotone FROM c WHERE ppd IS NOT NULL;
-- the PD limit on a model: PD(L) = Fhat(due), L = Qhat(alpha) / (1 + r)
SELECT binding_constraint,
	   abs(loan - scfrisk.qrgmm_quantile(model, ARRAY[5.0], 0.05) / 1.02) < 1e-6 * loan AS closed_form
FROM m, scfrisk.loan_size(model, ARRAY[5.0], '{"pd_limit": 0.05, "el_rate": 0, "profit_optimum": false}');
-- exact path and the model's own stratified samples agree
WITH e AS (SELECT * FROM m, scfrisk.loan_risk_curve(model, ARRAY[5.0], ARRAY[3000, 4000]::float8[])),
	 s AS (SELECT c.* FROM m, scfrisk.loan_risk_curve(
		 scfrisk.qrgmm_sample_array(model, ARRAY[5.0], 100000, 1, 'stratified'),
		 ARRAY[3000, 4000]::float8[]) c)
SELECT bool_and(abs(e.pd - s.pd) < 1e-4 AND abs(e.el - s.el) < 1e-3 * e.el + 1e-6) AS paths_agree
FROM e JOIN s USING (loan);

-- loan grids
SELECT scfrisk.loan_grid(100, 5) AS grid, cardinality(scfrisk.loan_grid(1e6, 50)) AS levels;

-- Bad input
SELECT scfrisk.loan_grid(-1, 5);
SELECT scfrisk.loan_grid('NaN', 5);
SELECT scfrisk.loan_grid(100, 1);
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[0, -1]::float8[]);
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[0, 'NaN']::float8[]);
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[0, 'Infinity']::float8[]);
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[10, 5]::float8[]);
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[]::float8[]);
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1, NULL]::float8[]);
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[[1, 2], [3, 4]]::float8[]);
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1]::float8[], '{"rate": -1}');
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1]::float8[], '{"rate": -1.5}');
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1]::float8[], '{"level": 1}');
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1]::float8[], '{"level": 0}');
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1]::float8[], '{"haircut": 1.5}');
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1]::float8[], '{"haircut": -0.1}');
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1]::float8[], '{"remittance": 0}');
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1]::float8[], '{"repayment": "salary"}');
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1]::float8[], '{"interest": 0.1}');
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1]::float8[], '[1]');
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1]::float8[],
	'{"repayment": "sales_plus_collateral", "units": 10, "unit_price": 10, "unit_cost": 20}');
SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1]::float8[], '{"repayment": "sales_plus_collateral"}');
SELECT * FROM scfrisk.loan_risk_curve(ARRAY[1, 'NaN']::float8[], ARRAY[1]::float8[]);
SELECT * FROM scfrisk.loan_risk_curve(ARRAY[]::float8[], ARRAY[1]::float8[]);
SELECT * FROM u, scfrisk.loan_size(s, '{"pd_limit": 1, "el_rate": 0, "profit_optimum": false}');
SELECT * FROM u, scfrisk.loan_size(s, '{"pd_limit": 0}');
SELECT * FROM u, scfrisk.loan_size(s, '{"el_rate": -0.01}');
SELECT * FROM m, scfrisk.loan_risk_curve(model, ARRAY[1.0, 2.0], ARRAY[1]::float8[]);
SELECT * FROM m, scfrisk.loan_risk_curve(model, ARRAY['NaN']::float8[], ARRAY[1]::float8[]);
SELECT * FROM scfrisk.loan_risk_curve('\x0102'::bytea, ARRAY[1.0], ARRAY[1]::float8[]);
SELECT * FROM scfrisk.loan_size('\x0102'::bytea, ARRAY[1.0]);
SELECT * FROM (SELECT scfrisk.mlp_train(ARRAY[i::float8], (i % 2)::float8, '{"epochs": 1}') AS mlp
			   FROM generate_series(1, 20) i) w, scfrisk.loan_risk_curve(mlp, ARRAY[1.0], ARRAY[1]::float8[]);
SELECT count(*) FROM scfrisk.loan_risk_curve(NULL::bytea, ARRAY[1.0], ARRAY[1]::float8[]);

-- ---------------------------------------------------------------------------
-- The lending decision (issue 16): closed forms.  Sales: the samples 10 i,
-- i = 1..1000, so PD(L) = #{10 i < 1.02 L} / 1000 and the largest loan with
-- PD <= a is 10 (1000 a + 1) / 1.02.  Credit: a logistic regression on
-- ln(loan), PD(L) = 1 / (1 + exp(-(b + w ln L))), so the largest loan with
-- PD <= c is exp((logit c - b) / w), from the fitted b and w.
CREATE TEMP TABLE ds AS SELECT ARRAY(SELECT 10.0 * i FROM generate_series(1, 1000) i)::float8[] AS s;
CREATE TEMP TABLE cr AS
SELECT ARRAY[ln(l)] AS x,
	   (scfrisk.demo_uniform(16, 2, k) < 1 / (1 + exp(28 - 4 * ln(l))))::int::float8 AS y
FROM (SELECT k, exp(4 + 5 * scfrisk.demo_uniform(16, 1, k)) AS l FROM generate_series(1, 20000) k) g;
CREATE TEMP TABLE cm AS
SELECT model, (scfrisk.model_info(model) -> 'info' ->> 'intercept')::float8 AS b,
	   (scfrisk.model_info(model) -> 'info' -> 'coef' ->> 0)::float8 AS w
FROM (SELECT scfrisk.logreg_train(x, y, '{}') AS model FROM cr) t;
SELECT w BETWEEN 3 AND 5 AS credit_pd_rises_with_the_loan FROM cm;
CREATE TEMP TABLE dp AS
SELECT '{"pd_limit": 0.05, "el_rate": 0, "profit_optimum": false, "ltv_cap": 0,
		 "credit_loan_features": [{"transform": "log"}]}'::jsonb AS p;
-- the credit limit binds (c = 0.01: about 350 < 500)
SELECT d.decision, d.binding_constraint, d.status,
	   abs(d.loan / exp((ln(0.01 / 0.99) - cm.b) / cm.w) - 1) < 1e-6 AS loan_is_credit_closed_form,
	   abs(d.credit_pd - 0.01) < 1e-8 AS credit_pd_at_limit,
	   d.sales_pd <= 0.05 AS sales_pd_within
FROM ds, cm, dp, scfrisk.loan_decision(ds.s, cm.model, '{}', dp.p || '{"credit_pd_limit": 0.01}') d;
-- the sales limit binds (c = 0.1: about 630 > 500)
SELECT d.decision, d.binding_constraint,
	   abs(d.loan - 10 * (1000 * 0.05 + 1) / 1.02) < 1e-6 AS loan_is_sales_closed_form,
	   abs(d.credit_pd - 1 / (1 + exp(-(cm.b + cm.w * ln(d.loan))))) < 1e-12 AS credit_pd_at_loan,
	   d.sales_pd = 0.05 AS sales_pd_at_limit, d.combined_pd = greatest(d.sales_pd, d.credit_pd) AS combined_is_max
FROM ds, cm, dp, scfrisk.loan_decision(ds.s, cm.model, '{}', dp.p || '{"credit_pd_limit": 0.1}') d;
-- a combined limit (max: both PDs <= k): min of the two closed forms, k = 0.2
SELECT d.binding_constraint,
	   abs(d.loan - least(10 * (1000 * 0.2 + 1) / 1.02, exp((ln(0.2 / 0.8) - cm.b) / cm.w))) < 1e-4 AS loan_is_closed_form
FROM ds, cm, dp, scfrisk.loan_decision(ds.s, cm.model, '{}',
	 dp.p || '{"pd_limit": 1, "credit_line": 5000, "combined_pd_limit": 0.2}') d;
-- the scan goes down to small loans (c = 1e-6: about 35), and lists every limit
SELECT d.decision, d.status, d.reasons,
	   abs(d.loan / exp((ln(1e-6 / (1 - 1e-6)) - cm.b) / cm.w) - 1) < 1e-6 AS loan_is_credit_closed_form,
	   d.limits ?& ARRAY['pd_limit', 'credit_pd_limit'] AS limits_listed
FROM ds, cm, dp, scfrisk.loan_decision(ds.s, cm.model, '{}', dp.p || '{"credit_pd_limit": 1e-6}') d;

-- NULL inputs refer with a status, never a missing row or an error
SELECT d.decision, d.status, d.reasons, d.loan IS NULL AS no_loan
FROM m, scfrisk.loan_decision(m.model, NULL, NULL, NULL, '{"ltv_cap": 0}') d;
SELECT d.decision, d.status, d.reasons
FROM m, scfrisk.loan_decision(m.model, ARRAY[1.0, NULL], NULL, NULL, '{"ltv_cap": 0}') d;
SELECT d.decision, d.status FROM scfrisk.loan_decision(NULL::bytea, ARRAY[1.0], NULL, NULL, '{"ltv_cap": 0}') d;
SELECT d.decision, d.status FROM scfrisk.loan_decision(NULL::float8[], NULL, NULL, '{"ltv_cap": 0}') d;
-- missing collateral under an LTV cap: refer, with the loan the other limits allow
SELECT d.decision, d.status, round(d.loan::numeric, 6) AS loan, d.limits ? 'ltv_cap' AS capped
FROM ds, scfrisk.loan_decision(ds.s, NULL, NULL, '{"pd_limit": 0.05, "el_rate": 0, "profit_optimum": false, "ltv_cap": 0.5}') d;
SELECT d.decision, d.status
FROM ds, scfrisk.loan_decision(ds.s, NULL, NULL,
	 '{"pd_limit": 0.05, "el_rate": 0, "profit_optimum": false, "ltv_cap": 0.5, "collateral_value": null}') d;
SELECT d.decision, d.binding_constraint, round(d.loan::numeric, 6) AS loan
FROM ds, scfrisk.loan_decision(ds.s, NULL, NULL,
	 '{"pd_limit": 0.05, "el_rate": 0, "profit_optimum": false, "ltv_cap": 0.5, "collateral_value": 600}') d;
SELECT d.decision, d.binding_constraint, d.status, d.loan
FROM ds, scfrisk.loan_decision(ds.s, NULL, NULL,
	 '{"pd_limit": 0.05, "el_rate": 0, "profit_optimum": false, "ltv_cap": 0.5, "collateral_value": 0}') d;
-- a credit limit without a credit model, or without its features: refer
SELECT d.decision, d.status
FROM ds, dp, scfrisk.loan_decision(ds.s, NULL, NULL, dp.p || '{"credit_pd_limit": 0.1}') d;
SELECT d.decision, d.status
FROM ds, cm, dp, scfrisk.loan_decision(ds.s, cm.model, NULL, dp.p || '{"credit_pd_limit": 0.1}') d;
SELECT d.decision, d.status
FROM ds, cm, dp, scfrisk.loan_decision(ds.s, cm.model, '{}',
	 dp.p || '{"credit_pd_limit": 0.1, "credit_loan_features": [{"transform": "log", "offset": null}]}') d;
-- a NULL credit feature for a kind without missing values (logreg): refer
SELECT d.decision, d.status
FROM ds, cm, scfrisk.loan_decision(ds.s, cm.model, ARRAY[NULL]::float8[],
	 '{"pd_limit": 0.05, "el_rate": 0, "profit_optimum": false, "ltv_cap": 0, "credit_pd_limit": 0.1}') d;
-- a PD limit below the sales model's smallest reliable PD (5/m): refer
SELECT d.decision, d.status, d.smallest_reliable_pd, d.loan IS NOT NULL AS computed
FROM m, scfrisk.loan_decision(m.model, ARRAY[1.0], NULL, NULL,
	 jsonb_build_object('pd_limit', 0.5 / (scfrisk.model_info(m.model) -> 'info' ->> 'm')::int, 'ltv_cap', 0)) d;
-- loan_size keeps its STRICT contract, but a JSON null collateral under a cap is an error
SELECT count(*) FROM scfrisk.loan_size(NULL::float8[]);
SELECT * FROM u, scfrisk.loan_size(s, '{"collateral_value": null}');
-- bad decision input
SELECT * FROM ds, scfrisk.loan_decision(ds.s, NULL, NULL, NULL);
SELECT * FROM ds, scfrisk.loan_decision(ds.s, NULL, NULL, '{"credit_pd_limit": 0}');
SELECT * FROM ds, scfrisk.loan_decision(ds.s, NULL, NULL, '{"pd_combine": "min"}');
SELECT * FROM ds, scfrisk.loan_decision(ds.s, NULL, NULL, '{"credit_loan_features": {"transform": "log"}}');
SELECT * FROM ds, scfrisk.loan_decision(ds.s, NULL, NULL, '{"credit_loan_features": [{"transform": "sqrt"}]}');
SELECT * FROM ds, scfrisk.loan_decision(ds.s, NULL, NULL, '{"credit_loan_features": [{"log": true}]}');
SELECT * FROM ds, scfrisk.loan_decision(ds.s, NULL, NULL, '{"ltv_cap": 0, "pd_limit": 1, "el_rate": 0, "profit_optimum": false}');
SELECT * FROM ds, cm, dp, scfrisk.loan_decision(ds.s, cm.model, ARRAY[1.0], dp.p || '{"credit_pd_limit": 0.1}');
SELECT * FROM ds, scfrisk.loan_decision(ds.s, '\x0102'::bytea, ARRAY[1.0], '{"ltv_cap": 0, "credit_pd_limit": 0.1}');
SELECT * FROM ds, scfrisk.loan_decision(ds.s, NULL, NULL, '[1]');
SELECT * FROM ds, m, scfrisk.loan_decision(ds.s, m.model, ARRAY[1.0], '{"ltv_cap": 0, "credit_pd_limit": 0.1}');
