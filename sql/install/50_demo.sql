
-- ---------------------------------------------------------------------------
-- Part 50: the synthetic 3PL supply-chain-finance data set and its BI risk
-- views (issue 6, docs/demo-data.md, docs/risk.md).
--
-- scfrisk.generate_demo_data(sellers, seed) (re)creates schema scfrisk_demo
-- with plain tables (sellers, segments, sales_monthly, shipments, loans,
-- models, policy, risk tables) and the views seller_risk and
-- seller_risk_curve; scfrisk_demo.refresh_risk() (scfrisk.demo_refresh_risk)
-- trains both models and fills the views.  Every random draw is
-- scfrisk.demo_uniform / demo_normal of (seed, stream, counter), so the data
-- depend only on the arguments.
-- ---------------------------------------------------------------------------

CREATE FUNCTION scfrisk.demo_uniform(seed bigint, stream bigint, k bigint)
RETURNS float8
AS 'MODULE_PATHNAME', 'demo_uniform'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.demo_uniform(bigint, bigint, bigint) IS
'counter-based uniform draw in (0, 1): a pure function of (seed, stream, k), for reproducible synthetic data';

CREATE FUNCTION scfrisk.demo_normal(seed bigint, stream bigint, k bigint)
RETURNS float8
AS 'MODULE_PATHNAME', 'demo_normal'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.demo_normal(bigint, bigint, bigint) IS
'counter-based standard normal draw (Box-Muller on draws 2k, 2k+1 of the stream)';

-- The covariates of the QRGMM sales model: the section 8.2 design with the
-- categorical fields one-hot (category 0 and marketplace 0 are the base).
CREATE FUNCTION scfrisk.demo_sales_covariates(h float8, age_years float8, rating float8,
											  category int, marketplace int, month int)
RETURNS float8[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
-- Written out (no subqueries) so that it inlines into the views' queries: it
-- runs once per seller, and a call that is not inlined starts an executor for
-- its body every time (a fifth of a 5,000-seller curve query, docs/benchmarks.md).
-- Not STRICT, because PostgreSQL never inlines a strict function whose body
-- (the ARRAY constructor) is not strict; the CASE gives NULL for any NULL
-- argument, as STRICT did.
RETURN CASE WHEN h IS NULL OR age_years IS NULL OR rating IS NULL OR category IS NULL
				 OR marketplace IS NULL OR month IS NULL THEN NULL ELSE
	   ARRAY[h,
			 (age_years > 2)::int::float8,
			 (rating - 4.25) * (age_years > 2)::int,
			 sin(2 * pi() * month / 12),
			 cos(2 * pi() * month / 12),
			 (category = 1)::int, (category = 2)::int, (category = 3)::int, (category = 4)::int,
			 (category = 5)::int, (category = 6)::int, (category = 7)::int, (category = 8)::int,
			 (category = 9)::int,
			 (marketplace = 1)::int, (marketplace = 2)::int, (marketplace = 3)::int,
			 (marketplace = 4)::int]::float8[] END;
COMMENT ON FUNCTION scfrisk.demo_sales_covariates(float8, float8, float8, int, int, int) IS
'demo data: covariates of the QRGMM sales model for a seller and a calendar month (18 values)';

-- The credit model's inputs for a seller and a loan amount: the seller's
-- features (sellers.credit_features) and the loan relative to past sales and
-- to the in-transit inventory.
CREATE FUNCTION scfrisk.demo_credit_features(seller_features float8[], h float8,
											 in_transit_value float8, loan float8)
RETURNS float8[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN seller_features || ARRAY[ln(greatest(loan, 1)) - h, ln(greatest(loan, 1) / in_transit_value)];
COMMENT ON FUNCTION scfrisk.demo_credit_features(float8[], float8, float8, float8) IS
'demo data: credit-model inputs of a seller for a loan amount (16 values)';

-- The per-seller part of the decision policy: the collateral (JSON null when
-- unknown, which refers the seller under the LTV cap) and the loan-dependent
-- inputs of the credit model, the same two as demo_credit_features:
-- ln(max(loan, 1)) - h and ln(max(loan, 1)) - ln(in_transit_value).
CREATE FUNCTION scfrisk.demo_credit_loan_policy(h float8, in_transit_value float8)
RETURNS jsonb
-- STABLE as jsonb_build_object is
LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
	'collateral_value', in_transit_value,
	'credit_loan_features', jsonb_build_array(
		jsonb_build_object('transform', 'log', 'offset', -h),
		jsonb_build_object('transform', 'log', 'offset',
						   CASE WHEN in_transit_value > 0 THEN -ln(in_transit_value) END)));
COMMENT ON FUNCTION scfrisk.demo_credit_loan_policy(float8, float8) IS
'demo data: the per-seller keys of the loan_decision policy (collateral_value, credit_loan_features matching demo_credit_features); NULL inputs give JSON nulls, which refer the seller';

CREATE FUNCTION scfrisk.generate_demo_data(sellers int, seed bigint DEFAULT 42)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	result jsonb;
	prev_level text;
BEGIN
	IF sellers IS NULL OR sellers < 10 OR sellers > 10000000 THEN
		RAISE EXCEPTION 'generate_demo_data: sellers must be between 10 and 10000000, got %', sellers
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF seed IS NULL THEN
		RAISE EXCEPTION 'generate_demo_data: seed must not be NULL' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RAISE NOTICE 'generate_demo_data: % sellers, seed %, into schema scfrisk_demo', sellers, seed;
	-- quietly: CASCADE would list every object of the previous data set
	prev_level := current_setting('client_min_messages');
	PERFORM set_config('client_min_messages', 'warning', true);
	DROP SCHEMA IF EXISTS scfrisk_demo CASCADE;
	PERFORM set_config('client_min_messages', prev_level, true);
	CREATE SCHEMA scfrisk_demo;
	COMMENT ON SCHEMA scfrisk_demo IS 'scfrisk synthetic 3PL supply-chain-finance data (scfrisk.generate_demo_data)';

	-- Fixed random tables of the sales law (methods/qrgmm_scf.md 8.2).
	CREATE TABLE scfrisk_demo.segments AS
	SELECT c AS category, k AS marketplace,
		   0.3 * scfrisk.demo_normal(seed, 50, c) AS a_cat,
		   0.2 * scfrisk.demo_normal(seed, 51, k) AS a_mkt,
		   0.25 * scfrisk.demo_normal(seed, 52, c * 5 + k) AS a_cm
	FROM generate_series(0, 9) c, generate_series(0, 4) k;
	ALTER TABLE scfrisk_demo.segments ADD PRIMARY KEY (category, marketplace);

	-- Sellers: profile, platform use, financial ratios, and the true sales law.
	CREATE TABLE scfrisk_demo.sellers AS
	WITH base AS (
		SELECT s AS seller_id,
			   floor(10 * scfrisk.demo_uniform(seed, 1, s))::int AS category,
			   floor(5 * scfrisk.demo_uniform(seed, 2, s))::int AS marketplace,
			   10 + scfrisk.demo_normal(seed, 3, s) AS h,
			   0.5 + 7.5 * scfrisk.demo_uniform(seed, 4, s) AS age_years,
			   3.5 + 1.5 * scfrisk.demo_uniform(seed, 5, s) AS rating,
			   scfrisk.demo_normal(seed, 8, s) AS z_value
		FROM generate_series(1, sellers) s),
	law AS (
		SELECT b.*, g.a_cat + g.a_mkt + g.a_cm AS a_seg, g.a_cm,
			   0.9 * b.h + g.a_cat + g.a_mkt + g.a_cm
				   + 0.25 * (b.rating - 4.25) * (b.age_years > 2)::int + 0.5 AS law_mu,
			   0.25 + 0.15 * abs(g.a_cm) / 0.25 + 0.1 * (b.age_years <= 2)::int AS law_sigma
		FROM base b JOIN scfrisk_demo.segments g USING (category, marketplace))
	SELECT l.seller_id,
		   'S' || lpad(l.seller_id::text, 7, '0') AS seller_code,
		   l.category,
		   (ARRAY['electronics', 'apparel', 'home', 'beauty', 'toys', 'sports', 'auto parts',
				  'pet supplies', 'tools', 'books'])[l.category + 1] AS category_name,
		   l.marketplace,
		   (ARRAY['US', 'UK', 'DE', 'JP', 'AU'])[l.marketplace + 1] AS marketplace_name,
		   round(l.age_years::numeric, 2)::float8 AS age_years,
		   round(l.rating::numeric, 2)::float8 AS rating,
		   scfrisk.demo_uniform(seed, 6, l.seller_id) < 0.25 + 0.3 * (l.age_years > 2)::int AS uses_erp,
		   scfrisk.demo_uniform(seed, 7, l.seller_id) < 0.6 AS uses_platform_api,
		   l.h AS log_past_sales,
		   exp(l.h) AS past_period_sales,
		   exp(l.h - 0.5 + 0.3 * l.z_value) AS in_transit_value,
		   -- financial ratios: noisy signals of the seller's segment effect,
		   -- volatility and stock level (XGBoost-MLP paper's ratio families)
		   exp(0.35 + 0.8 * l.a_seg + 0.25 * scfrisk.demo_normal(seed, 10, l.seller_id)) AS current_ratio,
		   1 / (1 + exp(-(-0.4 + 2.5 * (l.law_sigma - 0.35) - l.a_seg
						 + 0.4 * scfrisk.demo_normal(seed, 11, l.seller_id)))) AS debt_to_assets,
		   0.04 + 0.08 * l.a_seg + 0.02 * (l.rating - 4.25)
			   + 0.02 * scfrisk.demo_normal(seed, 12, l.seller_id) AS roa,
		   0.06 + 0.06 * l.a_seg + 0.02 * scfrisk.demo_normal(seed, 13, l.seller_id) AS net_margin,
		   12 * exp(l.law_mu - (l.h - 0.5 + 0.3 * l.z_value)
					+ 0.25 * scfrisk.demo_normal(seed, 14, l.seller_id)) AS inventory_turnover,
		   exp(2.2 + 0.3 * scfrisk.demo_normal(seed, 15, l.seller_id)) AS receivables_turnover,
		   0.1 * l.a_seg + 0.05 * (l.age_years <= 2)::int
			   + 0.1 * scfrisk.demo_normal(seed, 16, l.seller_id) AS revenue_growth,
		   exp(0.35 + 0.8 * l.a_seg) * 0.3 * exp(0.3 * scfrisk.demo_normal(seed, 17, l.seller_id)) AS cash_ratio,
		   (ARRAY[25, 40, 60, 15, 120, 35, 80, 20, 200, 50])[l.category + 1]
			   * exp(0.2 * scfrisk.demo_normal(seed, 18, l.seller_id)) AS unit_price,
		   l.law_mu, l.law_sigma
	FROM law l;
	ALTER TABLE scfrisk_demo.sellers ADD PRIMARY KEY (seller_id);
	ALTER TABLE scfrisk_demo.sellers ADD COLUMN quick_ratio float8;
	UPDATE scfrisk_demo.sellers
	SET quick_ratio = current_ratio * (0.55 + 0.2 * scfrisk.demo_uniform(seed, 19, seller_id));
	ALTER TABLE scfrisk_demo.sellers ADD COLUMN credit_features float8[];
	UPDATE scfrisk_demo.sellers
	SET credit_features = ARRAY[log_past_sales, age_years, rating, uses_erp::int, uses_platform_api::int,
								current_ratio, quick_ratio, debt_to_assets, roa, net_margin,
								ln(inventory_turnover), receivables_turnover, revenue_growth, cash_ratio];
	COMMENT ON COLUMN scfrisk_demo.sellers.law_mu IS 'ground truth: location of log monthly sales before the month effect (not for training)';
	COMMENT ON COLUMN scfrisk_demo.sellers.law_sigma IS 'ground truth: scale of log monthly sales (not for training)';

	-- Monthly sales of 2026: the 8.2 law with its seasonal term.
	CREATE TABLE scfrisk_demo.sales_monthly AS
	SELECT s.seller_id, m AS month, make_date(2026, m, 1) AS month_start,
		   exp(s.law_mu + 0.15 * sin(2 * pi() * m / 12)
			   + s.law_sigma * scfrisk.demo_normal(seed, 20, s.seller_id::bigint * 16 + m)) AS revenue,
		   s.unit_price
	FROM scfrisk_demo.sellers s, generate_series(1, 12) m;
	ALTER TABLE scfrisk_demo.sales_monthly ADD COLUMN units int, ADD COLUMN orders int;
	UPDATE scfrisk_demo.sales_monthly
	SET units = greatest(1, round(revenue / unit_price))::int,
		orders = greatest(1, round(revenue / unit_price
								   / (1.2 + 1.5 * scfrisk.demo_uniform(seed, 21, seller_id::bigint * 16 + month))))::int;
	ALTER TABLE scfrisk_demo.sales_monthly DROP COLUMN unit_price;
	ALTER TABLE scfrisk_demo.sales_monthly ADD PRIMARY KEY (seller_id, month);

	-- In-transit inventory: 1 to 3 shipments sharing the seller's in-transit value.
	CREATE TABLE scfrisk_demo.shipments AS
	WITH sh AS (
		SELECT s.seller_id, j, s.in_transit_value, s.unit_price,
			   0.2 + scfrisk.demo_uniform(seed, 41, s.seller_id::bigint * 4 + j) AS w,
			   0.45 + 0.2 * scfrisk.demo_uniform(seed, 42, s.seller_id::bigint * 4 + j) AS cost_share,
			   scfrisk.demo_uniform(seed, 43, s.seller_id::bigint * 4 + j) AS u_ship,
			   scfrisk.demo_uniform(seed, 44, s.seller_id::bigint * 4 + j) AS u_arrive
		FROM scfrisk_demo.sellers s,
			 generate_series(1, 1 + floor(3 * scfrisk.demo_uniform(seed, 40, s.seller_id))::int) j),
	n AS (SELECT sh.*, sum(w) OVER (PARTITION BY seller_id) AS wsum FROM sh)
	SELECT seller_id * 4 + j AS shipment_id, seller_id,
		   (ARRAY['sea', 'air', 'rail'])[1 + floor(3 * u_ship)::int] AS channel,
		   date '2026-12-01' + floor(25 * u_ship)::int AS shipped_on,
		   date '2026-12-01' + floor(25 * u_ship)::int + 10 + floor(35 * u_arrive)::int AS expected_arrival,
		   greatest(1, round(in_transit_value * w / wsum / (unit_price * cost_share)))::int AS units,
		   unit_price * cost_share AS unit_cost,
		   unit_price AS unit_price
	FROM n;
	ALTER TABLE scfrisk_demo.shipments ADD COLUMN value float8;
	UPDATE scfrisk_demo.shipments SET value = units * unit_cost;
	ALTER TABLE scfrisk_demo.shipments ADD PRIMARY KEY (shipment_id);
	-- the in-transit value is what the shipments hold
	UPDATE scfrisk_demo.sellers s SET in_transit_value = v.value
	FROM (SELECT seller_id, sum(value) AS value FROM scfrisk_demo.shipments GROUP BY seller_id) v
	WHERE v.seller_id = s.seller_id;

	-- Past loans of 2026: one month each, repaid from that month's sales.
	CREATE TABLE scfrisk_demo.loans AS
	WITH l AS (
		SELECT s.seller_id, j,
			   1 + floor(12 * scfrisk.demo_uniform(seed, 31, s.seller_id::bigint * 4 + j))::int AS month,
			   s.in_transit_value * (0.3 + 0.5 * scfrisk.demo_uniform(seed, 32, s.seller_id::bigint * 4 + j)) AS amount
		FROM scfrisk_demo.sellers s,
			 generate_series(1, 1 + floor(3 * scfrisk.demo_uniform(seed, 30, s.seller_id))::int) j)
	SELECT l.seller_id * 4 + l.j AS loan_id, l.seller_id, make_date(2026, l.month, 1) AS originated_on,
		   l.month, l.amount, 0.02 AS rate, 1.02 * l.amount AS due,
		   least(m.revenue, 1.02 * l.amount) AS repaid,
		   m.revenue < 1.02 * l.amount AS defaulted,
		   greatest(1.02 * l.amount - m.revenue, 0) AS loss
	FROM l JOIN scfrisk_demo.sales_monthly m ON m.seller_id = l.seller_id AND m.month = l.month;
	ALTER TABLE scfrisk_demo.loans ADD PRIMARY KEY (loan_id);

	-- Models, policy, and the tables behind the views.
	CREATE TABLE scfrisk_demo.models (name text PRIMARY KEY, model bytea NOT NULL,
									  trained_at timestamptz NOT NULL DEFAULT now(), info jsonb);
	CREATE TABLE scfrisk_demo.policy (id int PRIMARY KEY DEFAULT 1 CHECK (id = 1), policy jsonb NOT NULL,
									  loan_levels int NOT NULL DEFAULT 20, forecast_month int NOT NULL DEFAULT 1);
	-- The lender's policy (docs/risk.md, "The lending decision"): sales-side
	-- limits, a limit on the credit model's PD of the loan, and the LTV cap on
	-- the in-transit collateral.  pd_limit stays above the sales model's
	-- smallest reliable PD (5/m: 0.032 for 2,000 sellers), or every seller
	-- would be referred.
	INSERT INTO scfrisk_demo.policy (policy)
	VALUES ('{"rate": 0.04, "fee": 0.005, "funding_rate": 0.005, "pd_limit": 0.05, "credit_pd_limit": 0.05, "el_rate": 0.01, "cvar_budget": 1500, "credit_line": 40000, "ltv_cap": 0.6}');
	CREATE TABLE scfrisk_demo.risk_result (
		seller_id int PRIMARY KEY, decision text NOT NULL, status text NOT NULL, reasons text[] NOT NULL,
		recommended_loan float8, binding_constraint text, sales_pd float8, credit_pd float8,
		combined_pd float8, el float8, cvar float8, cvar_level float8, expected_profit float8,
		tail_resolved boolean, smallest_reliable_pd float8, limits jsonb, refreshed_at timestamptz);
	CREATE TABLE scfrisk_demo.risk_curve_result (
		seller_id int, loan float8, pd float8, el float8, cvar float8, expected_profit float8,
		PRIMARY KEY (seller_id, loan));

	-- BI views: money as numeric rounded to cents (scfrisk.round_cents: the
	-- value of round(x::numeric, 2) without printing the float8, which was
	-- most of the cost of reading the views), probabilities float8, the
	-- CVaR level in a column, every column commented.  LEFT JOIN: a seller
	-- without a result row (never refreshed) still has its row.
	CREATE VIEW scfrisk_demo.seller_risk AS
	SELECT s.seller_id, s.seller_code, s.category_name, s.marketplace_name,
		   scfrisk.round_cents(s.in_transit_value) AS in_transit_value,
		   coalesce(r.decision, 'refer') AS decision, coalesce(r.status, 'not_refreshed') AS status,
		   coalesce(r.reasons, ARRAY['not_refreshed']) AS reasons,
		   scfrisk.round_cents(r.recommended_loan) AS recommended_loan, r.binding_constraint,
		   r.sales_pd, r.credit_pd, r.combined_pd,
		   scfrisk.round_cents(r.el) AS el, scfrisk.round_cents(r.cvar) AS cvar, r.cvar_level,
		   scfrisk.round_cents(r.expected_profit) AS expected_profit, r.tail_resolved,
		   r.smallest_reliable_pd, r.refreshed_at
	FROM scfrisk_demo.sellers s LEFT JOIN scfrisk_demo.risk_result r USING (seller_id);
	COMMENT ON VIEW scfrisk_demo.seller_risk IS
	'one row per seller: the lending decision (scfrisk.loan_decision) from the QRGMM sales model and the credit model, the loan, its binding constraint, both PDs and the risk at the loan';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.seller_id IS 'seller (sellers.seller_id)';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.seller_code IS 'seller code, as shown to users';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.category_name IS 'product category of the seller';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.marketplace_name IS 'marketplace of the seller';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.in_transit_value IS 'value of the inventory in transit, the collateral (currency, cents)';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.decision IS 'approve, refer (to a credit officer: an input is missing or the model cannot resolve the policy) or decline (no loan meets the policy)';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.status IS 'ok, or the first reason of the decision (missing_covariates, missing_collateral, unreliable_pd_limit, unresolved_tail, below_min_loan, not_refreshed, ...)';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.reasons IS 'every reason of the decision (empty when approved without reservation)';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.recommended_loan IS 'largest loan meeting every limit of the policy (currency, cents); NULL when nothing could be computed';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.binding_constraint IS 'the limit that sets the loan: pd_limit, el_rate, cvar_budget, ltv_cap, credit_line, profit_optimum, credit_pd_limit or combined_pd_limit';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.sales_pd IS 'probability that next month''s sales fall short of the amount due (QRGMM sales model), at the loan';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.credit_pd IS 'probability of default of a loan of this size from the credit model (XGBoost-MLP on seller features and the loan)';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.combined_pd IS 'the two PDs combined by the policy''s pd_combine (max by default: two views of one default event)';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.el IS 'expected loss at the loan (currency, cents; sales model)';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.cvar IS 'loss CVaR (expected shortfall) at cvar_level at the loan (currency, cents; sales model)';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.cvar_level IS 'level of the CVaR column (the policy''s level, 0.95 by default)';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.expected_profit IS 'expected profit of the loan to the lender (currency, cents)';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.tail_resolved IS 'false when the sales PD at the loan lies in the tail the sales model does not resolve (below 1/m)';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.smallest_reliable_pd IS 'smallest PD the sales model can tell (5/m); a PD limit below it makes the decision refer';
	COMMENT ON COLUMN scfrisk_demo.seller_risk.refreshed_at IS 'when refresh_risk() computed the row';

	CREATE VIEW scfrisk_demo.seller_risk_curve AS
	SELECT c.seller_id, s.seller_code, scfrisk.round_cents(c.loan) AS loan, c.pd,
		   scfrisk.round_cents(c.el) AS el, scfrisk.round_cents(c.cvar) AS cvar,
		   coalesce((p.policy ->> 'level')::float8, 0.95) AS cvar_level,
		   scfrisk.round_cents(c.expected_profit) AS expected_profit
	FROM scfrisk_demo.risk_curve_result c JOIN scfrisk_demo.sellers s USING (seller_id)
		 CROSS JOIN scfrisk_demo.policy p;
	COMMENT ON VIEW scfrisk_demo.seller_risk_curve IS
	'one row per seller and loan level: PD, EL, CVaR and expected profit of that loan (QRGMM sales model)';
	COMMENT ON COLUMN scfrisk_demo.seller_risk_curve.seller_id IS 'seller (sellers.seller_id)';
	COMMENT ON COLUMN scfrisk_demo.seller_risk_curve.seller_code IS 'seller code, as shown to users';
	COMMENT ON COLUMN scfrisk_demo.seller_risk_curve.loan IS 'loan amount of this level (currency, cents): policy.loan_levels levels from 0 to the past period''s sales';
	COMMENT ON COLUMN scfrisk_demo.seller_risk_curve.pd IS 'probability that sales fall short of the amount due on this loan (sales model)';
	COMMENT ON COLUMN scfrisk_demo.seller_risk_curve.el IS 'expected loss of this loan (currency, cents)';
	COMMENT ON COLUMN scfrisk_demo.seller_risk_curve.cvar IS 'loss CVaR at cvar_level of this loan (currency, cents)';
	COMMENT ON COLUMN scfrisk_demo.seller_risk_curve.cvar_level IS 'level of the CVaR column';
	COMMENT ON COLUMN scfrisk_demo.seller_risk_curve.expected_profit IS 'expected profit of this loan (currency, cents)';

	CREATE VIEW scfrisk_demo.decision_summary AS
	SELECT category_name, marketplace_name, decision, count(*) AS sellers,
		   coalesce(sum(recommended_loan) FILTER (WHERE decision = 'approve'), 0) AS approved_amount,
		   coalesce(sum(recommended_loan) FILTER (WHERE decision = 'refer'), 0) AS referred_amount,
		   coalesce(sum(el) FILTER (WHERE decision = 'approve'), 0) AS approved_el,
		   avg(combined_pd) AS avg_combined_pd
	FROM scfrisk_demo.seller_risk
	GROUP BY category_name, marketplace_name, decision;
	COMMENT ON VIEW scfrisk_demo.decision_summary IS
	'one row per segment (category, marketplace) and decision: sellers, amounts approved and referred, expected loss approved';
	COMMENT ON COLUMN scfrisk_demo.decision_summary.category_name IS 'product category (segment)';
	COMMENT ON COLUMN scfrisk_demo.decision_summary.marketplace_name IS 'marketplace (segment)';
	COMMENT ON COLUMN scfrisk_demo.decision_summary.decision IS 'approve, refer or decline';
	COMMENT ON COLUMN scfrisk_demo.decision_summary.sellers IS 'sellers of the segment with this decision';
	COMMENT ON COLUMN scfrisk_demo.decision_summary.approved_amount IS 'sum of the approved loans (currency, cents)';
	COMMENT ON COLUMN scfrisk_demo.decision_summary.referred_amount IS 'sum of the loans the policy would allow to the referred sellers, for the credit officer (currency, cents)';
	COMMENT ON COLUMN scfrisk_demo.decision_summary.approved_el IS 'expected loss of the approved loans (currency, cents)';
	COMMENT ON COLUMN scfrisk_demo.decision_summary.avg_combined_pd IS 'mean combined PD at the loan (NULL where nothing could be computed)';

	-- adverse-action reasons (docs/explain.md) of every referred or declined
	-- seller: computed when read, at the recommended loan (at the smallest
	-- loan for a seller without one)
	CREATE VIEW scfrisk_demo.seller_reason_codes AS
	SELECT r.seller_id, s.seller_code, r.decision, r.credit_pd, r.recommended_loan, c.rank,
		   c.name AS reason, c.value, c.contribution
	FROM scfrisk_demo.risk_result r
	JOIN scfrisk_demo.sellers s USING (seller_id)
	JOIN scfrisk_demo.models m ON m.name = 'credit',
		 LATERAL scfrisk.reason_codes(m.model,
									  scfrisk.demo_credit_features(s.credit_features, s.log_past_sales,
																   s.in_transit_value,
																   coalesce(r.recommended_loan, 0))) c
	WHERE r.decision IN ('refer', 'decline');
	COMMENT ON VIEW scfrisk_demo.seller_reason_codes IS
	'up to four reasons per referred or declined seller: the credit model''s features that pushed its PD at the recommended loan up the most (scfrisk.reason_codes), with their values and log-odds contributions';

	CREATE FUNCTION scfrisk_demo.refresh_risk() RETURNS jsonb LANGUAGE sql VOLATILE
	RETURN scfrisk.demo_refresh_risk();
	COMMENT ON FUNCTION scfrisk_demo.refresh_risk() IS
	'train the sales and credit models, size every loan and refresh seller_risk and seller_risk_curve (scfrisk.demo_refresh_risk)';

	ANALYZE scfrisk_demo.sellers, scfrisk_demo.sales_monthly, scfrisk_demo.shipments, scfrisk_demo.loans;
	SELECT jsonb_build_object(
		'schema', 'scfrisk_demo',
		'sellers', (SELECT count(*) FROM scfrisk_demo.sellers),
		'sales_months', (SELECT count(*) FROM scfrisk_demo.sales_monthly),
		'shipments', (SELECT count(*) FROM scfrisk_demo.shipments),
		'loans', (SELECT count(*) FROM scfrisk_demo.loans),
		'default_rate', (SELECT round(avg(defaulted::int), 4) FROM scfrisk_demo.loans))
	INTO result;
	RETURN result;
END
$fn$;
COMMENT ON FUNCTION scfrisk.generate_demo_data(int, bigint) IS
'(re)create schema scfrisk_demo with a synthetic 3PL supply-chain-finance data set (sellers, monthly sales, shipments in transit, past loans) whose sales law has closed-form risk curves; deterministic for a seed';

-- ==========================================================================
-- CREDIT MODEL of the demo: the ONE place that trains and scores it: the
-- XGBoost-MLP hybrid (scfrisk.xgb_mlp_train), scored by scfrisk.predict.
-- ==========================================================================
CREATE FUNCTION scfrisk.demo_train_credit_model()
RETURNS bytea
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	model bytea;
BEGIN
	SELECT scfrisk.xgb_mlp_train(
		scfrisk.demo_credit_features(s.credit_features, s.log_past_sales, s.in_transit_value, l.amount),
		l.defaulted::int::float8,
		'{"xgb": {"n_estimators": 100, "max_depth": 3, "eta": 0.1, "seed": 7},
		  "importance_type": "gain", "threshold": 0.03,
		  "mlp": {"hidden": [16, 8], "epochs": 150, "batch_size": 64, "learning_rate": 0.003, "weight_decay": 0.0001, "early_stopping_rounds": 15, "validation_share": 0.2, "seed": 7},
		  "feature_names": ["log_past_sales", "age_years", "rating", "uses_erp", "uses_platform_api",
							"current_ratio", "quick_ratio", "debt_to_assets", "roa", "net_margin",
							"log_inventory_turnover", "receivables_turnover", "revenue_growth", "cash_ratio",
							"log_loan_to_sales", "log_loan_to_in_transit"]}')
	INTO model
	FROM scfrisk_demo.loans l JOIN scfrisk_demo.sellers s USING (seller_id)
	WHERE s.seller_id <= 50000;	-- seller ids are random draws: a prefix is a random sample
	RETURN model;
END
$fn$;
COMMENT ON FUNCTION scfrisk.demo_train_credit_model() IS
'demo: train the credit model, the XGBoost-MLP hybrid (default of past loans on seller features and loan size)';

CREATE FUNCTION scfrisk.demo_score_credit(model bytea, features float8[])
RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN scfrisk.predict(model, features);
COMMENT ON FUNCTION scfrisk.demo_score_credit(bytea, float8[]) IS
'demo: PD of the credit model (scfrisk.predict dispatches on its kind)';
-- ======================================================= end of CREDIT MODEL

CREATE FUNCTION scfrisk.demo_train_sales_model()
RETURNS bytea
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	model bytea;
BEGIN
	SELECT scfrisk.qrgmm_train(
		scfrisk.demo_sales_covariates(s.log_past_sales, s.age_years, s.rating, s.category,
									  s.marketplace, m.month),
		-- default params: the fitted generalized Pareto lower tail, so the
		-- expected loss of small default probabilities integrates a tail
		-- fitted to the sellers' own low sales (docs/risk.md)
		m.revenue, '{}')
	INTO model
	FROM scfrisk_demo.sales_monthly m JOIN scfrisk_demo.sellers s USING (seller_id)
	-- at most 5,000 sellers' months (a random sample: seller ids are random
	-- draws) keep the refresh of a large book within seconds
	WHERE s.seller_id <= 5000;
	RETURN model;
END
$fn$;
COMMENT ON FUNCTION scfrisk.demo_train_sales_model() IS
'demo: train the QRGMM sales model (monthly revenue on the section 8.2 covariates)';

CREATE FUNCTION scfrisk.demo_refresh_risk()
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
-- the lateral risk joins are C calls: JIT-compiling them costs more than it saves
SET jit = off
AS $fn$
DECLARE
	sales bytea;
	credit bytea;
	pol jsonb;
	terms jsonb;
	levels int;
	fmonth int;
	t0 timestamptz := clock_timestamp();
	t1 timestamptz;
	timings jsonb := '{}';
BEGIN
	SELECT p.policy, p.loan_levels, p.forecast_month INTO pol, levels, fmonth FROM scfrisk_demo.policy p;
	IF levels IS NULL OR levels < 2 THEN
		RAISE EXCEPTION 'refresh_risk: scfrisk_demo.policy.loan_levels must be at least 2'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	terms := pol - ARRAY['pd_limit', 'el_rate', 'cvar_budget', 'ltv_cap', 'credit_line', 'profit_optimum',
						 'credit_pd_limit', 'pd_combine', 'combined_pd_limit', 'min_loan', 'credit_grid'];

	RAISE NOTICE 'refresh_risk: training the QRGMM sales model on % seller-months',
		(SELECT count(*) FROM scfrisk_demo.sales_monthly WHERE seller_id <= 5000);
	sales := scfrisk.demo_train_sales_model();
	INSERT INTO scfrisk_demo.models (name, model, info) VALUES ('sales', sales, scfrisk.model_info(sales))
	ON CONFLICT (name) DO UPDATE SET model = EXCLUDED.model, trained_at = now(), info = EXCLUDED.info;
	t1 := clock_timestamp();
	timings := timings || jsonb_build_object('sales_model_s', round(extract(epoch FROM t1 - t0)::numeric, 2));

	RAISE NOTICE 'refresh_risk: training the credit model on % past loans',
		(SELECT count(*) FROM scfrisk_demo.loans WHERE seller_id <= 50000);
	credit := scfrisk.demo_train_credit_model();
	INSERT INTO scfrisk_demo.models (name, model, info) VALUES ('credit', credit, scfrisk.model_info(credit))
	ON CONFLICT (name) DO UPDATE SET model = EXCLUDED.model, trained_at = now(), info = EXCLUDED.info;
	timings := timings || jsonb_build_object('credit_model_s', round(extract(epoch FROM clock_timestamp() - t1)::numeric, 2));
	t1 := clock_timestamp();

	RAISE NOTICE 'refresh_risk: sizing loans and drawing risk curves (% levels per seller)', levels;
	-- DELETE rather than TRUNCATE: TRUNCATE would lock the views' readers out
	-- until the refresh commits; with DELETE they keep reading the previous
	-- results, and a failed or cancelled refresh leaves those in place.
	DELETE FROM scfrisk_demo.risk_result;
	DELETE FROM scfrisk_demo.risk_curve_result;
	-- One row per seller: loan_decision is not STRICT, so a seller with a
	-- NULL covariate or collateral gets a refer with its reason, not no row.
	INSERT INTO scfrisk_demo.risk_result
	SELECT s.seller_id, z.decision, z.status, z.reasons, z.loan, z.binding_constraint, z.sales_pd,
		   z.credit_pd, z.combined_pd, z.el, z.cvar, coalesce((pol ->> 'level')::float8, 0.95),
		   z.expected_profit, z.tail_resolved, z.smallest_reliable_pd, z.limits, now()
	FROM scfrisk_demo.sellers s,
		 LATERAL scfrisk.loan_decision(
			 sales,
			 scfrisk.demo_sales_covariates(s.log_past_sales, s.age_years, s.rating,
										   s.category, s.marketplace, fmonth),
			 credit, s.credit_features,
			 pol || scfrisk.demo_credit_loan_policy(s.log_past_sales, s.in_transit_value)) z;
	INSERT INTO scfrisk_demo.risk_curve_result
	SELECT s.seller_id, c.loan, c.pd, c.el, c.cvar, c.expected_profit
	FROM scfrisk_demo.sellers s,
		 LATERAL scfrisk.loan_risk_curve(sales,
										 scfrisk.demo_sales_covariates(s.log_past_sales, s.age_years, s.rating,
																	   s.category, s.marketplace, fmonth),
										 scfrisk.loan_grid(s.past_period_sales, levels),
										 terms) c;
	timings := timings || jsonb_build_object('risk_s', round(extract(epoch FROM clock_timestamp() - t1)::numeric, 2));
	ANALYZE scfrisk_demo.risk_result, scfrisk_demo.risk_curve_result;
	RETURN jsonb_build_object('sellers', (SELECT count(*) FROM scfrisk_demo.risk_result),
							  'curve_rows', (SELECT count(*) FROM scfrisk_demo.risk_curve_result),
							  'seconds', timings);
END
$fn$;
COMMENT ON FUNCTION scfrisk.demo_refresh_risk() IS
'demo: train the sales and credit models on scfrisk_demo, size every seller''s loan and draw its risk curve into the tables behind seller_risk and seller_risk_curve';

-- ==========================================================================
-- MONITORING of the demo's credit model (issue 17, item 5): the PSI of the
-- current sellers' PDs and the CSI of their credit-model inputs against the
-- training distributions the model stored, banded by the 0.1 / 0.25
-- conventions (scfrisk.stability_band).  docs/governance.md.
-- ==========================================================================
CREATE FUNCTION scfrisk.demo_credit_monitoring()
RETURNS TABLE (measure text, feature int, stability_index float8, live_rows bigint, band text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	RETURN QUERY
	WITH m AS (SELECT d.model FROM scfrisk_demo.models d WHERE d.name = 'credit'),
	live AS (
		SELECT scfrisk.demo_credit_features(s.credit_features, s.log_past_sales, s.in_transit_value,
											r.recommended_loan) AS f,
			   r.credit_pd
		FROM scfrisk_demo.risk_result r JOIN scfrisk_demo.sellers s USING (seller_id)),
	-- the model as a scalar subquery, not GROUP BY m.model: grouping by a model's bytes
	-- reads the whole model (megabytes for the hybrid's default blend) once per row
	agg AS (
		SELECT scfrisk.psi((SELECT model FROM m), live.credit_pd) AS psi,
			   scfrisk.csi((SELECT model FROM m), live.f) AS csi
		FROM live)
	SELECT 'psi'::text, NULL::int, (agg.psi ->> 'psi')::float8, (agg.psi ->> 'rows')::bigint,
		   scfrisk.stability_band((agg.psi ->> 'psi')::float8)
	FROM agg
	UNION ALL
	SELECT 'csi'::text, (e ->> 'feature')::int, (e ->> 'csi')::float8, (e ->> 'rows')::bigint,
		   scfrisk.stability_band((e ->> 'csi')::float8)
	FROM agg, jsonb_array_elements(agg.csi -> 'features') AS e;
END
$fn$;
COMMENT ON FUNCTION scfrisk.demo_credit_monitoring() IS
'demo: PSI of the credit model''s current PDs and CSI of each of its inputs at the recommended loans, against the training distributions stored in the model, with the conventional bands';
