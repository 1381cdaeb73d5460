-- The synthetic demo data set and the BI risk views (issue 6): shape,
-- determinism for a seed, the sales law's default rate, refresh, bad input.
SET client_min_messages = warning;
SELECT scfrisk.generate_demo_data(300, 7) - 'default_rate' AS created;
SELECT (SELECT avg(defaulted::int) FROM scfrisk_demo.loans) BETWEEN 0.05 AND 0.2 AS default_rate_plausible,
	   (SELECT bool_and(value > 0 AND units >= 1 AND expected_arrival > shipped_on) FROM scfrisk_demo.shipments) AS shipments_sane,
	   (SELECT bool_and(revenue > 0 AND orders >= 1) FROM scfrisk_demo.sales_monthly) AS sales_sane,
	   (SELECT count(DISTINCT category) = 10 AND count(DISTINCT marketplace) = 5 FROM scfrisk_demo.sellers) AS all_segments;
CREATE TEMP TABLE h1 AS
SELECT (SELECT md5(string_agg(s::text, ',' ORDER BY seller_id)) FROM scfrisk_demo.sellers s) AS sellers,
	   (SELECT md5(string_agg(m::text, ',' ORDER BY seller_id, month)) FROM scfrisk_demo.sales_monthly m) AS sales,
	   (SELECT md5(string_agg(l::text, ',' ORDER BY loan_id)) FROM scfrisk_demo.loans l) AS loans;
SELECT scfrisk.generate_demo_data(300, 7) IS NOT NULL AS regenerated;
SELECT h1.sellers = (SELECT md5(string_agg(s::text, ',' ORDER BY seller_id)) FROM scfrisk_demo.sellers s) AS same_sellers,
	   h1.sales = (SELECT md5(string_agg(m::text, ',' ORDER BY seller_id, month)) FROM scfrisk_demo.sales_monthly m) AS same_sales,
	   h1.loans = (SELECT md5(string_agg(l::text, ',' ORDER BY loan_id)) FROM scfrisk_demo.loans l) AS same_loans
FROM h1;
SELECT scfrisk.generate_demo_data(300, 8) IS NOT NULL AS other_seed;
SELECT h1.sellers <> (SELECT md5(string_agg(s::text, ',' ORDER BY seller_id)) FROM scfrisk_demo.sellers s) AS other_data
FROM h1;
-- refresh: one row per seller, the curve grid, monotone curves, binding constraints named
SELECT (scfrisk_demo.refresh_risk()) - 'seconds' AS refreshed;
SELECT count(*) AS sellers, count(DISTINCT seller_id) = 300 AS one_row_per_seller,
	   bool_and(credit_pd BETWEEN 0 AND 1) AS credit_pd_in_range,
	   bool_and(recommended_loan >= 0) AS loans_non_negative,
	   bool_and(binding_constraint IN ('pd_limit', 'el_rate', 'cvar_budget', 'ltv_cap', 'credit_line', 'profit_optimum',
									   'credit_pd_limit', 'combined_pd_limit')) AS named,
	   bool_and(decision IN ('approve', 'refer', 'decline')) AS decided,
	   bool_and(recommended_loan <= 0.6 * in_transit_value + 0.01) AS ltv_respected
FROM scfrisk_demo.seller_risk;
-- the lender's decision: no approved seller above either PD limit
SELECT count(*) FILTER (WHERE decision = 'approve') > 0 AS some_approved,
	   count(*) FILTER (WHERE decision = 'approve' AND sales_pd > (p.policy ->> 'pd_limit')::float8 + 1e-12) AS approved_above_sales_limit,
	   count(*) FILTER (WHERE decision = 'approve' AND credit_pd > (p.policy ->> 'credit_pd_limit')::float8 + 1e-12) AS approved_above_credit_limit,
	   bool_and(status = 'ok') FILTER (WHERE decision = 'approve') AS approved_ok,
	   bool_and(status <> 'ok') FILTER (WHERE decision <> 'approve') AS others_say_why
FROM scfrisk_demo.seller_risk, scfrisk_demo.policy p;
-- the decision view adds up to the sellers
SELECT sum(sellers) = 300 AS all_sellers, sum(approved_amount) = (SELECT sum(recommended_loan) FROM scfrisk_demo.seller_risk WHERE decision = 'approve') AS amounts_add_up
FROM scfrisk_demo.decision_summary;
-- every view column is commented
SELECT c.table_name, count(*) FILTER (WHERE col_description(('scfrisk_demo.' || c.table_name)::regclass, c.ordinal_position) IS NULL) AS uncommented
FROM information_schema.columns c
WHERE c.table_schema = 'scfrisk_demo' AND c.table_name IN ('seller_risk', 'seller_risk_curve', 'decision_summary')
GROUP BY 1 ORDER BY 1;
WITH c AS (SELECT seller_id, pd, el, cvar, lag(pd) OVER w AS p0, lag(el) OVER w AS e0, lag(cvar) OVER w AS c0
		   FROM scfrisk_demo.seller_risk_curve WINDOW w AS (PARTITION BY seller_id ORDER BY loan))
SELECT count(*) = 300 * 19 AS grid_complete, bool_and(pd >= p0 AND el >= e0 AND cvar >= c0) AS monotone
FROM c WHERE p0 IS NOT NULL;
-- no seller dropped, nothing silently uncapped: a NULL covariate refers the
-- seller (missing_covariates), a NULL collateral under the LTV cap too
UPDATE scfrisk_demo.sellers SET rating = NULL WHERE seller_id = 11;
UPDATE scfrisk_demo.sellers SET in_transit_value = NULL WHERE seller_id = 12;
SELECT (scfrisk_demo.refresh_risk()) -> 'sellers' AS refreshed_sellers;
SELECT seller_id, decision, status, reasons, recommended_loan IS NULL AS no_loan
FROM scfrisk_demo.seller_risk WHERE seller_id IN (11, 12) ORDER BY seller_id;
SELECT count(*) AS sellers FROM scfrisk_demo.seller_risk;
-- bad input (terse: no PL/pgSQL context lines)
\set VERBOSITY terse
SELECT scfrisk.generate_demo_data(5, 1);
SELECT scfrisk.generate_demo_data(100, NULL);
UPDATE scfrisk_demo.policy SET loan_levels = 1;
SELECT scfrisk_demo.refresh_risk();
UPDATE scfrisk_demo.policy SET loan_levels = 20, policy = policy || '{"pd_limit": 2}';
SELECT scfrisk_demo.refresh_risk();
DROP SCHEMA scfrisk_demo CASCADE;
