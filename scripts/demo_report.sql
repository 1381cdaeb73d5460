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

\echo '-- the two PDs of a loan: sales_pd is the QRGMM sales model''s probability that next'
\echo '-- month''s sales fall short of the amount due; credit_pd is the credit model''s'
\echo '-- probability that a loan of this size to this seller defaults, learnt from past loans.'
\echo '-- The policy limits both (pd_limit, credit_pd_limit): scfrisk.loan_decision lends the'
\echo '-- largest loan under every limit, and refers the seller when an input is missing or'
\echo '-- the sales model cannot resolve the policy (docs/risk.md, "The lending decision").'
SELECT p.policy ->> 'pd_limit' AS pd_limit, p.policy ->> 'credit_pd_limit' AS credit_pd_limit,
	   (SELECT round((info -> 'info' ->> 'smallest_reliable_pd')::numeric, 4) FROM scfrisk_demo.models
		WHERE name = 'sales') AS sales_smallest_reliable_pd
FROM scfrisk_demo.policy p;

\echo '-- decisions by reason'
SELECT decision, status AS reason, count(*) AS sellers, sum(recommended_loan) AS amount,
	   round(avg(sales_pd)::numeric, 4) AS avg_sales_pd, round(avg(credit_pd)::numeric, 4) AS avg_credit_pd
FROM scfrisk_demo.seller_risk GROUP BY 1, 2 ORDER BY 1, 3 DESC;

\echo '-- approved loans by binding constraint'
SELECT binding_constraint, count(*) AS sellers, round(avg(recommended_loan)) AS avg_loan,
	   round(sum(recommended_loan) / 1e6, 2) AS total_musd, round(avg(sales_pd)::numeric, 4) AS avg_sales_pd,
	   round(avg(credit_pd)::numeric, 4) AS avg_credit_pd, sum(el) AS total_el
FROM scfrisk_demo.seller_risk WHERE decision = 'approve' GROUP BY 1 ORDER BY 2 DESC;

\echo '-- no approved seller above either PD limit (both counts must be 0)'
SELECT count(*) FILTER (WHERE r.sales_pd > (p.policy ->> 'pd_limit')::float8) AS approved_above_pd_limit,
	   count(*) FILTER (WHERE r.credit_pd > (p.policy ->> 'credit_pd_limit')::float8) AS approved_above_credit_pd_limit,
	   count(*) AS approved
FROM scfrisk_demo.seller_risk r, scfrisk_demo.policy p WHERE r.decision = 'approve';

\echo '-- top 10 approved sellers by credit PD at their loan'
SELECT seller_code, category_name AS category, marketplace_name AS mkt,
	   round(credit_pd::numeric, 4) AS credit_pd, round(sales_pd::numeric, 4) AS sales_pd,
	   round(recommended_loan) AS loan, binding_constraint AS binding, el, cvar
FROM scfrisk_demo.seller_risk WHERE decision = 'approve' ORDER BY credit_pd DESC LIMIT 10;

\echo '-- the decision by marketplace (scfrisk_demo.decision_summary, per category and marketplace)'
SELECT marketplace_name AS mkt, decision, sum(sellers) AS sellers, sum(approved_amount) AS approved_amount,
	   sum(referred_amount) AS referred_amount, sum(approved_el) AS approved_el
FROM scfrisk_demo.decision_summary GROUP BY 1, 2 ORDER BY 1, 2;

\echo '-- one risk curve (the seller with the median recommended loan)'
WITH s AS (SELECT seller_id, seller_code FROM scfrisk_demo.seller_risk
		   ORDER BY recommended_loan OFFSET (SELECT count(*) / 2 FROM scfrisk_demo.seller_risk) LIMIT 1)
SELECT c.seller_code, round(c.loan) AS loan, round(c.pd::numeric, 4) AS pd, c.el, c.cvar,
	   c.cvar_level, c.expected_profit
FROM s JOIN scfrisk_demo.seller_risk_curve c USING (seller_id)
ORDER BY c.loan;
