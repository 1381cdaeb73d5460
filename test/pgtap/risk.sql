-- pgTAP contracts of the loan-risk surface (issue 6): signatures, result
-- columns, volatility, strictness, parallel safety, and the SQLSTATE of
-- every bad input of the issue.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(52);

SELECT has_function('scfrisk', 'loan_risk_curve', ARRAY['bytea', 'double precision[]', 'double precision[]', 'jsonb']);
SELECT has_function('scfrisk', 'loan_risk_curve', ARRAY['double precision[]', 'double precision[]', 'jsonb']);
SELECT has_function('scfrisk', 'loan_size', ARRAY['bytea', 'double precision[]', 'jsonb']);
SELECT has_function('scfrisk', 'loan_size', ARRAY['double precision[]', 'jsonb']);
SELECT volatility_is('scfrisk', 'loan_risk_curve', ARRAY['bytea', 'double precision[]', 'double precision[]', 'jsonb'], 'immutable');
SELECT volatility_is('scfrisk', 'loan_risk_curve', ARRAY['double precision[]', 'double precision[]', 'jsonb'], 'immutable');
SELECT volatility_is('scfrisk', 'loan_size', ARRAY['bytea', 'double precision[]', 'jsonb'], 'immutable');
SELECT volatility_is('scfrisk', 'loan_size', ARRAY['double precision[]', 'jsonb'], 'immutable');
SELECT is_strict('scfrisk', 'loan_risk_curve', ARRAY['bytea', 'double precision[]', 'double precision[]', 'jsonb']);
SELECT is_strict('scfrisk', 'loan_size', ARRAY['bytea', 'double precision[]', 'jsonb']);
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'scfrisk' AND p.proname IN ('loan_risk_curve', 'loan_size')
             AND p.proparallel = 's' AND p.proretset), 4, 'all four loan functions are parallel-safe set-returning functions');
SELECT is((SELECT array_agg(a ORDER BY o)::text FROM pg_proc p,
                  unnest(p.proargnames, p.proargmodes::text[]) WITH ORDINALITY AS u(a, m, o)
           WHERE p.oid = 'scfrisk.loan_risk_curve(bytea, float8[], float8[], jsonb)'::regprocedure AND m = 't'),
          '{loan,due,pd,el,elgd,lgd_rate,var,cvar,expected_profit,tail_resolved}', 'loan_risk_curve columns');
SELECT is((SELECT array_agg(a ORDER BY o)::text FROM pg_proc p,
                  unnest(p.proargnames, p.proargmodes::text[]) WITH ORDINALITY AS u(a, m, o)
           WHERE p.oid = 'scfrisk.loan_size(bytea, float8[], jsonb)'::regprocedure AND m = 't'),
          '{loan,binding_constraint,due,pd,el,elgd,lgd_rate,var,cvar,expected_profit,tail_resolved,limits}',
          'loan_size columns');
SELECT ok(obj_description('scfrisk.loan_size(bytea, float8[], jsonb)'::regprocedure, 'pg_proc') IS NOT NULL,
          'loan_size is documented');

SELECT has_function('scfrisk', 'generate_demo_data', ARRAY['integer', 'bigint']);
SELECT volatility_is('scfrisk', 'generate_demo_data', ARRAY['integer', 'bigint'], 'volatile');
SELECT volatility_is('scfrisk', 'demo_uniform', ARRAY['bigint', 'bigint', 'bigint'], 'immutable');
SELECT is((SELECT bool_and(u > 0 AND u < 1) AND abs(avg(u) - 0.5) < 0.01
           FROM (SELECT scfrisk.demo_uniform(1, 2, k) AS u FROM generate_series(1, 20000) k) x), true,
          'demo_uniform lies in (0, 1) with mean 1/2');
SELECT is((SELECT abs(avg(z)) < 0.03 AND abs(stddev(z) - 1) < 0.03
           FROM (SELECT scfrisk.demo_normal(1, 3, k) AS z FROM generate_series(1, 20000) k) x), true,
          'demo_normal has mean 0 and sd 1');
SELECT is(scfrisk.demo_uniform(42, 7, 123456789), scfrisk.demo_uniform(42, 7, 123456789), 'demo draws are pure functions');

CREATE TEMP TABLE u AS SELECT array_agg(i::float8) AS s FROM generate_series(1, 500) i;
CREATE TEMP TABLE m AS
SELECT scfrisk.qrgmm_train(ARRAY[(i % 5)::float8], exp(7 + 0.1 * (i % 5) + 0.2 * ((i * 7919) % 997) / 997.0), '{"m": 50}') AS model
FROM generate_series(1, 2000) i;

SELECT is((SELECT count(*)::int FROM u, scfrisk.loan_risk_curve(s, ARRAY[0, 100, 200]::float8[])), 3, 'one row per loan');
SELECT is((SELECT count(*)::int FROM m, scfrisk.loan_risk_curve(model, ARRAY[2.0], ARRAY[0, 100, 200]::float8[])), 3,
          'one row per loan from a model');
SELECT is((SELECT elgd IS NULL AND lgd_rate IS NULL FROM u, scfrisk.loan_risk_curve(s, ARRAY[0]::float8[])), true,
          'ELGD and LGD rate are NULL where PD is 0');
SELECT is((SELECT binding_constraint FROM u, scfrisk.loan_size(s, '{"pd_limit": 0.2, "el_rate": 0, "profit_optimum": false}')),
          'pd_limit', 'PD limit binds');
SELECT is((SELECT binding_constraint FROM m, scfrisk.loan_size(model, ARRAY[2.0], '{"credit_line": 1}')),
          'credit_line', 'credit line binds from a model');

SELECT is(scfrisk.loan_grid(10, 3), ARRAY[0, 5, 10]::float8[], 'loan_grid spaces evenly from 0');
SELECT throws_ok($$SELECT scfrisk.loan_grid(-1, 3)$$, '22023', NULL, 'negative grid bound: 22023');
SELECT throws_ok($$SELECT scfrisk.loan_grid(10, 1)$$, '22023', NULL, 'one-level grid: 22023');

-- bad input and its SQLSTATE
SELECT throws_ok($$SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[-1]::float8[])$$, '22000', NULL, 'negative loan: 22000');
SELECT throws_ok($$SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY['NaN']::float8[])$$, '22000', NULL, 'NaN loan: 22000');
SELECT throws_ok($$SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[2, 1]::float8[])$$, '22000', NULL, 'unsorted loans: 22000');
SELECT throws_ok($$SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[]::float8[])$$, '22000', NULL, 'empty loans: 22000');
SELECT throws_ok($$SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1, NULL]::float8[])$$, '22004', NULL, 'NULL loan: 22004');
SELECT throws_ok($$SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[[1], [2]]::float8[])$$, '2202E', NULL, '2-D loans: 2202E');
SELECT throws_ok($$SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1]::float8[], '{"rate": -1}')$$, '22023', NULL, 'rate <= -1: 22023');
SELECT throws_ok($$SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1]::float8[], '{"level": 1}')$$, '22023', NULL, 'level 1: 22023');
SELECT throws_ok($$SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1]::float8[], '{"level": 0}')$$, '22023', NULL, 'level 0: 22023');
SELECT throws_ok($$SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1]::float8[], '{"haircut": 2}')$$, '22023', NULL, 'haircut 2: 22023');
SELECT throws_ok($$SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1]::float8[], '{"bogus": 2}')$$, '22023', NULL, 'unknown key: 22023');
SELECT throws_ok($$SELECT * FROM u, scfrisk.loan_risk_curve(s, ARRAY[1]::float8[],
                   '{"repayment": "sales_plus_collateral", "units": 1, "unit_price": 1, "unit_cost": 5}')$$,
                 '22023', NULL, 'non-monotone capacity: 22023');
SELECT throws_ok($$SELECT * FROM scfrisk.loan_risk_curve(ARRAY['NaN']::float8[], ARRAY[1]::float8[])$$, '22000', NULL, 'NaN sample: 22000');
SELECT throws_ok($$SELECT * FROM scfrisk.loan_risk_curve(ARRAY[]::float8[], ARRAY[1]::float8[])$$, '22000', NULL, 'empty samples: 22000');
SELECT throws_ok($$SELECT * FROM scfrisk.loan_size(ARRAY[]::float8[])$$, '22000', NULL, 'loan_size empty samples: 22000');
SELECT throws_ok($$SELECT * FROM u, scfrisk.loan_size(s, '{"pd_limit": 1, "el_rate": 0, "profit_optimum": false}')$$,
                 '22023', NULL, 'no limit: 22023');
SELECT throws_ok($$SELECT * FROM m, scfrisk.loan_risk_curve(model, ARRAY[1.0, 2.0], ARRAY[1]::float8[])$$, '22000', NULL,
                 'wrong covariate width: 22000');
SELECT throws_ok($$SELECT * FROM scfrisk.loan_risk_curve('\x0102'::bytea, ARRAY[1.0], ARRAY[1]::float8[])$$, 'XX001', NULL,
                 'truncated model: XX001');
SELECT throws_ok($$SELECT * FROM (SELECT scfrisk.mlp_train(ARRAY[i::float8], (i % 2)::float8, '{"epochs": 1}') AS mlp
                   FROM generate_series(1, 20) i) w, scfrisk.loan_size(mlp, ARRAY[1.0])$$, '42809', NULL, 'wrong model kind: 42809');

-- round_cents: the money columns of the demo views, equal to round(x::numeric, 2) (issue 19)
SELECT has_function('scfrisk', 'round_cents', ARRAY['double precision']);
SELECT volatility_is('scfrisk', 'round_cents', ARRAY['double precision'], 'immutable');
SELECT is_strict('scfrisk', 'round_cents', ARRAY['double precision']);
SELECT is((SELECT count(*)::int FROM unnest('{1.005,-1.005,0.125,-0.125,2.675,0.0049999999999999992,-0.0001,0,12345678.905,9999999999999.99,1e13,-1e300,NaN,Infinity,-Infinity}'::float8[]) v
           WHERE scfrisk.round_cents(v)::text IS DISTINCT FROM round(v::numeric, 2)::text), 0,
          'round_cents equals round(x::numeric, 2) at half cents, ties, the limits of the fast path, NaN and infinities');
SELECT is(scfrisk.round_cents(NULL), NULL, 'round_cents of NULL is NULL');

SELECT * FROM finish();
ROLLBACK;
