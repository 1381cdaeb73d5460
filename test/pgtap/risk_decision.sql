-- pgTAP contracts of the lending decision (issue 16): signatures, result
-- columns, not STRICT (NULL inputs answer refer with a status), the
-- closed-form loans with either limit binding, the missing-collateral and
-- missing-credit cases, the demo's one row per seller, and the SQLSTATE of
-- every bad input.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(34);

SELECT has_function('scfrisk', 'loan_decision', ARRAY['bytea', 'double precision[]', 'bytea', 'double precision[]', 'jsonb']);
SELECT has_function('scfrisk', 'loan_decision', ARRAY['double precision[]', 'bytea', 'double precision[]', 'jsonb']);
SELECT isnt_strict('scfrisk', 'loan_decision', ARRAY['bytea', 'double precision[]', 'bytea', 'double precision[]', 'jsonb']);
SELECT isnt_strict('scfrisk', 'loan_decision', ARRAY['double precision[]', 'bytea', 'double precision[]', 'jsonb']);
SELECT volatility_is('scfrisk', 'loan_decision', ARRAY['bytea', 'double precision[]', 'bytea', 'double precision[]', 'jsonb'], 'immutable');
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'scfrisk' AND p.proname = 'loan_decision' AND p.proparallel = 's' AND p.proretset),
          2, 'both loan_decision forms are parallel-safe set-returning functions');
SELECT is((SELECT array_agg(a ORDER BY o)::text FROM pg_proc p,
                  unnest(p.proargnames, p.proargmodes::text[]) WITH ORDINALITY AS u(a, m, o)
           WHERE p.oid = 'scfrisk.loan_decision(bytea, float8[], bytea, float8[], jsonb)'::regprocedure AND m = 't'),
          '{decision,loan,binding_constraint,status,reasons,sales_pd,credit_pd,combined_pd,due,el,var,cvar,expected_profit,tail_resolved,smallest_reliable_pd,limits}',
          'loan_decision columns');
SELECT ok(obj_description('scfrisk.loan_decision(bytea, float8[], bytea, float8[], jsonb)'::regprocedure, 'pg_proc') IS NOT NULL,
          'loan_decision is documented');

-- closed forms: sales samples 10 i (largest loan with PD <= a: 10 (1000 a + 1) / 1.02),
-- a logistic credit model on ln(loan) (largest loan with PD <= c: exp((logit c - b) / w))
CREATE TEMP TABLE ds AS SELECT ARRAY(SELECT 10.0 * i FROM generate_series(1, 1000) i)::float8[] AS s;
CREATE TEMP TABLE cm AS
SELECT model, (scfrisk.model_info(model) -> 'info' ->> 'intercept')::float8 AS b,
	   (scfrisk.model_info(model) -> 'info' -> 'coef' ->> 0)::float8 AS w
FROM (SELECT scfrisk.logreg_train(ARRAY[ln(l)], (scfrisk.demo_uniform(61, 2, k) < 1 / (1 + exp(28 - 4 * ln(l))))::int::float8, '{}') AS model
	  FROM (SELECT k, exp(4 + 5 * scfrisk.demo_uniform(61, 1, k)) AS l FROM generate_series(1, 20000) k) g) t;
CREATE TEMP TABLE dp AS
SELECT '{"pd_limit": 0.05, "el_rate": 0, "profit_optimum": false, "ltv_cap": 0,
		 "credit_loan_features": [{"transform": "log"}]}'::jsonb AS p;
SELECT ok((SELECT w > 1 FROM cm), 'the fitted credit PD rises with the loan');
SELECT is((SELECT d.binding_constraint || ' ' || d.decision FROM ds, cm, dp,
                  scfrisk.loan_decision(ds.s, cm.model, '{}', dp.p || '{"credit_pd_limit": 0.01}') d),
          'credit_pd_limit approve', 'a tight credit limit binds');
SELECT cmp_ok((SELECT abs(d.loan / exp((ln(0.01 / 0.99) - cm.b) / cm.w) - 1) FROM ds, cm, dp,
                      scfrisk.loan_decision(ds.s, cm.model, '{}', dp.p || '{"credit_pd_limit": 0.01}') d),
              '<', 1e-6::float8, 'credit-bound loan = exp((logit c - b) / w)');
SELECT is((SELECT d.binding_constraint FROM ds, cm, dp,
                  scfrisk.loan_decision(ds.s, cm.model, '{}', dp.p || '{"credit_pd_limit": 0.1}') d),
          'pd_limit', 'a loose credit limit leaves the sales limit binding');
SELECT cmp_ok((SELECT abs(d.loan - 10 * (1000 * 0.05 + 1) / 1.02) FROM ds, cm, dp,
                      scfrisk.loan_decision(ds.s, cm.model, '{}', dp.p || '{"credit_pd_limit": 0.1}') d),
              '<', 1e-6::float8, 'sales-bound loan = 10 (1000 a + 1) / 1.02');
SELECT ok((SELECT d.credit_pd <= 0.1 AND d.sales_pd <= 0.05 FROM ds, cm, dp,
                  scfrisk.loan_decision(ds.s, cm.model, '{}', dp.p || '{"credit_pd_limit": 0.1}') d),
          'the approved loan meets both PD limits');
SELECT cmp_ok((SELECT abs(d.combined_pd - (1 - (1 - d.sales_pd) * (1 - d.credit_pd))) FROM ds, cm, dp,
                      scfrisk.loan_decision(ds.s, cm.model, '{}', dp.p || '{"pd_combine": "independent"}') d),
              '<', 1e-15::float8, 'pd_combine independent reports 1 - (1 - ps)(1 - pc)');

-- NULL inputs and missing collateral: refer, never a missing row
SELECT is((SELECT d.decision || ' ' || d.status FROM scfrisk.loan_decision(NULL::bytea, NULL, NULL, NULL, '{"ltv_cap": 0}') d),
          'refer no_model', 'NULL sales model: refer no_model');
SELECT is((SELECT d.decision || ' ' || d.status FROM ds,
                  scfrisk.loan_decision(ds.s, NULL, NULL, '{"pd_limit": 0.05, "ltv_cap": 0.6}') d),
          'refer missing_collateral', 'no collateral under an LTV cap: refer');
SELECT is((SELECT d.decision || ' ' || d.status FROM ds,
                  scfrisk.loan_decision(ds.s, NULL, NULL, '{"pd_limit": 0.05, "ltv_cap": 0.6, "collateral_value": null}') d),
          'refer missing_collateral', 'a JSON null collateral under an LTV cap: refer');
SELECT is((SELECT d.decision FROM ds,
                  scfrisk.loan_decision(ds.s, NULL, NULL, '{"pd_limit": 0.05, "ltv_cap": 0.6, "collateral_value": 100}') d),
          'approve', 'with the collateral: approve at the cap');
SELECT is((SELECT d.status FROM ds, cm, dp,
                  scfrisk.loan_decision(ds.s, cm.model, NULL, dp.p || '{"credit_pd_limit": 0.1}') d),
          'missing_credit_features', 'NULL credit features under a credit limit: refer');
SELECT is((SELECT d.status FROM ds, dp, scfrisk.loan_decision(ds.s, NULL, NULL, dp.p || '{"credit_pd_limit": 0.1}') d),
          'no_credit_model', 'a credit limit without a credit model: refer');
SELECT throws_ok($$SELECT * FROM scfrisk.loan_size(ARRAY[1.0, 2.0], '{"collateral_value": null}')$$,
                 '22004', NULL, 'loan_size: a null collateral under a cap is an error, not an uncapped loan');

-- the demo: one seller_risk row per seller, NULL covariate and collateral referred
SET LOCAL client_min_messages = warning;
SELECT lives_ok($$SELECT scfrisk.generate_demo_data(200, 3)$$, 'demo data');
UPDATE scfrisk_demo.sellers SET rating = NULL WHERE seller_id = 5;
UPDATE scfrisk_demo.sellers SET in_transit_value = NULL WHERE seller_id = 6;
SELECT lives_ok($$SELECT scfrisk_demo.refresh_risk()$$, 'refresh with a NULL covariate and a NULL collateral');
SELECT is((SELECT count(*)::int FROM scfrisk_demo.seller_risk), 200, 'seller_risk has one row per seller');
SELECT is((SELECT decision || ' ' || status FROM scfrisk_demo.seller_risk WHERE seller_id = 5),
          'refer missing_covariates', 'a NULL rating refers the seller');
SELECT is((SELECT decision || ' ' || status FROM scfrisk_demo.seller_risk WHERE seller_id = 6),
          'refer missing_collateral', 'a NULL collateral refers the seller');
SELECT is((SELECT count(*)::int FROM scfrisk_demo.seller_risk r, scfrisk_demo.policy p
           WHERE r.decision = 'approve' AND (r.sales_pd > (p.policy ->> 'pd_limit')::float8
                                             OR r.credit_pd > (p.policy ->> 'credit_pd_limit')::float8)),
          0, 'no approved seller above either PD limit');

-- bad input
SELECT throws_ok($$SELECT * FROM scfrisk.loan_decision(ARRAY[1.0], NULL, NULL, NULL)$$, '22004', NULL, 'NULL policy');
SELECT throws_ok($$SELECT * FROM scfrisk.loan_decision(ARRAY[1.0], NULL, NULL, '{"credit_pd_limit": 1.5}')$$, '22023', NULL, 'credit_pd_limit out of range');
SELECT throws_ok($$SELECT * FROM scfrisk.loan_decision(ARRAY[1.0], NULL, NULL, '{"pd_combine": "min"}')$$, '22023', NULL, 'unknown pd_combine');
SELECT throws_ok($$SELECT * FROM scfrisk.loan_decision(ARRAY[1.0], NULL, NULL, '{"credit_loan_features": [{"transform": "sqrt"}]}')$$,
                 '22023', NULL, 'unknown loan-feature transform');
SELECT throws_ok($$SELECT * FROM scfrisk.loan_decision(ARRAY[1.0], NULL, NULL, '{"ltv_cap": 0, "pd_limit": 1, "el_rate": 0, "profit_optimum": false}')$$,
                 '22023', NULL, 'a policy that bounds nothing');
SELECT throws_ok($$SELECT * FROM scfrisk.loan_decision(ARRAY[1.0], '\x0102'::bytea, ARRAY[1.0], '{"ltv_cap": 0, "credit_pd_limit": 0.1}')$$,
                 'XX001', NULL, 'corrupted credit model');

SELECT * FROM finish();
ROLLBACK;
