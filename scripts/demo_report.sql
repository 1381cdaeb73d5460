-- The short risk report of the demo (scripts/demo.sh): run after
-- scfrisk.generate_demo_data(...) and scfrisk_demo.refresh_risk().
\pset footer off
\echo
\echo '-- the data set (schema scfrisk_demo, docs/demo-data.md)'
SELECT (SELECT count(*) FROM scfrisk_demo.sellers) AS sellers,
	   (SELECT count(*) FROM scfrisk_demo.sales_monthly) AS seller_months,
	   (SELECT count(*) FROM scfrisk_demo.shipments) AS shipments_in_transit,
	   (SELECT round(sum(value)::numeric / 1e6, 1) FROM scfrisk_demo.shipments) AS in_transit_musd,
	   (SELECT count(*) FROM scfrisk_demo.loans) AS past_loans,
	   (SELECT round(avg(defaulted::int), 3) FROM scfrisk_demo.loans) AS past_default_rate;

\echo '-- the models'
SELECT name, info ->> 'kind' AS kind, trained_at::time(0) AS trained_at,
	   CASE info ->> 'kind'
			WHEN 'qrgmm_linear' THEN 'grid m = ' || (info -> 'info' ->> 'm')
			WHEN 'xgb_mlp' THEN (info -> 'info' -> 'xgb' ->> 'n_trees') || ' trees keep features '
				 || (info -> 'info' ->> 'selected') || ' of ' || (info ->> 'n_features')
				 || ', MLP ' || (info -> 'info' -> 'mlp' ->> 'layers')
			ELSE info -> 'info' ->> 'layers' END AS shape,
	   info ->> 'train_rows' AS rows
FROM scfrisk_demo.models ORDER BY name;
SELECT round((m ->> 'auc')::numeric, 3) AS credit_auc_in_sample, round((m ->> 'brier')::numeric, 4) AS brier,
	   round((m ->> 'ks')::numeric, 3) AS ks
FROM (SELECT scfrisk.binary_metrics(l.defaulted::int::float8,
			 scfrisk.demo_score_credit((SELECT model FROM scfrisk_demo.models WHERE name = 'credit'),
				 scfrisk.demo_credit_features(s.credit_features, s.log_past_sales, s.in_transit_value, l.amount))) AS m
	  FROM scfrisk_demo.loans l JOIN scfrisk_demo.sellers s USING (seller_id)) x;

\echo '-- the policy'
SELECT policy FROM scfrisk_demo.policy;

\echo '-- top 10 sellers by credit-model PD at their recommended loan'
SELECT seller_code, category_name AS category, marketplace_name AS mkt,
	   round(credit_pd::numeric, 3) AS credit_pd, round(recommended_loan) AS loan,
	   binding_constraint AS binding, round(sales_pd::numeric, 4) AS sales_pd,
	   round(el::numeric, 1) AS el, round(cvar::numeric) AS cvar
FROM scfrisk_demo.seller_risk ORDER BY credit_pd DESC LIMIT 10;

\echo '-- which constraint binds'
SELECT binding_constraint, count(*) AS sellers, round(avg(recommended_loan)) AS avg_loan,
	   round(sum(recommended_loan)::numeric / 1e6, 2) AS total_musd, round(avg(sales_pd)::numeric, 4) AS avg_sales_pd,
	   round(sum(el)::numeric) AS total_el
FROM scfrisk_demo.seller_risk GROUP BY 1 ORDER BY 2 DESC;

\echo '-- a recommended loan for each binding constraint'
SELECT DISTINCT ON (binding_constraint) binding_constraint, seller_code, round(in_transit_value) AS in_transit,
	   round(recommended_loan) AS loan, round(sales_pd::numeric, 4) AS pd, round(el::numeric, 1) AS el,
	   round(cvar::numeric) AS cvar, round(expected_profit::numeric, 1) AS profit
FROM scfrisk_demo.seller_risk ORDER BY binding_constraint, seller_id;

\echo '-- one risk curve (the seller with the median recommended loan)'
WITH s AS (SELECT seller_id, seller_code FROM scfrisk_demo.seller_risk
		   ORDER BY recommended_loan OFFSET (SELECT count(*) / 2 FROM scfrisk_demo.seller_risk) LIMIT 1)
SELECT s.seller_code, round(c.loan) AS loan, round(c.pd::numeric, 4) AS pd, round(c.el::numeric, 1) AS el,
	   round(c.cvar::numeric) AS cvar_95, round(c.expected_profit::numeric, 1) AS expected_profit
FROM s JOIN scfrisk_demo.seller_risk_curve c USING (seller_id)
ORDER BY c.loan;
