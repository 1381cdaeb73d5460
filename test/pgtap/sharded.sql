-- pgTAP contracts of sharded training (xgb_train_sharded, logreg_train_sharded, docs/scale-out.md):
-- signatures, volatility and parallel safety, the shard aggregates being
-- shippable (immutable extension members), and the errors raised before any
-- shard is asked.  test/session/test_sharded_train.py and test_sharded_logreg.py
-- run them on three shards.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(33);

SELECT has_function('scfrisk', 'xgb_train_sharded', ARRAY['regclass', 'text', 'text', 'jsonb', 'text']);
SELECT function_returns('scfrisk', 'xgb_train_sharded', ARRAY['regclass', 'text', 'text', 'jsonb', 'text'], 'bytea');
SELECT volatility_is('scfrisk', 'xgb_train_sharded', ARRAY['regclass', 'text', 'text', 'jsonb', 'text'], 'volatile');
SELECT is((SELECT proparallel::text FROM pg_proc
           WHERE oid = 'scfrisk.xgb_train_sharded(regclass, text, text, jsonb, text)'::regprocedure), 'u',
          'xgb_train_sharded is parallel unsafe (it opens remote transactions through postgres_fdw)');
SELECT is_aggregate('scfrisk', 'xgb_shard_sketch', ARRAY['double precision[]', 'double precision', 'double precision', 'bigint']);
SELECT is_aggregate('scfrisk', 'xgb_shard_step', ARRAY['bigint', 'bytea']);
-- the shard aggregates keep the session's rows in the backend that runs them: never in a worker
SELECT is((SELECT string_agg(proname || ' ' || proparallel::text, ', ' ORDER BY proname) FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'scfrisk' AND proname IN ('xgb_shard_sketch', 'xgb_shard_step')),
          'xgb_shard_sketch r, xgb_shard_step r', 'the shard aggregates are parallel restricted (their session lives in the backend)');
-- a step reaches a shard through the one-row view, readable by every role postgres_fdw maps to
SELECT is((SELECT count(*)::int FROM scfrisk.shard_unit), 1, 'scfrisk.shard_unit has one row');
SELECT ok(has_table_privilege('public', 'scfrisk.shard_unit', 'SELECT'), 'every role may read scfrisk.shard_unit');
-- postgres_fdw ships only immutable functions: the aggregates and their support functions
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'scfrisk' AND p.proname LIKE 'xgb_shard%' AND p.provolatile <> 'i'), 0,
          'the shard aggregates and their support functions are immutable (shippable)');

CREATE TABLE plain_t (f float8[], y float8);
SELECT throws_ok($$SELECT scfrisk.xgb_train_sharded('plain_t', 'f', 'y')$$, '22023', NULL,
                 'a table that is not partitioned: 22023');
CREATE TABLE local_t (seg text, f float8[], y float8) PARTITION BY LIST (seg);
CREATE TABLE local_t_a PARTITION OF local_t FOR VALUES IN ('a');
SELECT throws_ok($$SELECT scfrisk.xgb_train_sharded('local_t', 'f', 'y')$$, '42809', NULL,
                 'a local partition: 42809');
SELECT throws_ok($$SELECT scfrisk.xgb_train_sharded('local_t', 'f', 'nope')$$, '42703', NULL,
                 'a label column that does not exist: 42703');
SELECT throws_ok($$SELECT scfrisk.xgb_train_sharded('local_t', 'f', 'seg')$$, '42804', NULL,
                 'a label column that is not a number: 42804');
SELECT throws_ok($$SELECT scfrisk.xgb_train_sharded('local_t', 'f', 'y', '{"subsample": 0.5}')$$, '0A000', NULL,
                 'subsample below 1: 0A000');
SELECT throws_ok($$SELECT scfrisk.xgb_train_sharded('local_t', 'f', 'y', '{"max_depth": 0}')$$, '22023', NULL,
                 'params out of range: 22023');
SELECT throws_ok($$SELECT scfrisk.xgb_shard_sketch(f, y, 1, NULL) FROM (VALUES (ARRAY[1.0]::float8[], 1.0::float8)) v(f, y)$$,
                 '22004', NULL, 'the sketch aggregate without a session: 22004');
SELECT throws_ok($$SELECT scfrisk.xgb_shard_step(42, '\x00'::bytea) FROM scfrisk.shard_unit$$,
                 '55000', 'xgb_shard_step: this shard holds no training 42', 'a step of a training the shard does not hold: 55000');

-- logreg_train_sharded: the same contracts, its load aggregate, and its sessions
-- reached through xgb_shard_step
SELECT has_function('scfrisk', 'logreg_train_sharded', ARRAY['regclass', 'text', 'text', 'jsonb']);
SELECT function_returns('scfrisk', 'logreg_train_sharded', ARRAY['regclass', 'text', 'text', 'jsonb'], 'bytea');
SELECT volatility_is('scfrisk', 'logreg_train_sharded', ARRAY['regclass', 'text', 'text', 'jsonb'], 'volatile');
SELECT is((SELECT proparallel::text FROM pg_proc
           WHERE oid = 'scfrisk.logreg_train_sharded(regclass, text, text, jsonb)'::regprocedure), 'u',
          'logreg_train_sharded is parallel unsafe (it opens remote transactions through postgres_fdw)');
SELECT is_aggregate('scfrisk', 'logreg_shard_load', ARRAY['double precision[]', 'double precision', 'bigint']);
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'scfrisk.logreg_shard_load(float8[], float8, int8)'::regprocedure),
          'r', 'the logreg load aggregate is parallel restricted (its session lives in the backend)');
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'scfrisk' AND p.proname LIKE 'logreg_shard%' AND p.provolatile <> 'i'), 0,
          'the logreg load aggregate and its support functions are immutable (shippable)');
SELECT throws_ok($$SELECT scfrisk.logreg_train_sharded('plain_t', 'f', 'y')$$, '22023', NULL,
                 'logreg_train_sharded, a table that is not partitioned: 22023');
SELECT throws_ok($$SELECT scfrisk.logreg_train_sharded('local_t', 'f', 'y')$$, '42809', NULL,
                 'logreg_train_sharded, a local partition: 42809');
SELECT throws_ok($$SELECT scfrisk.logreg_train_sharded('local_t', 'f', 'seg')$$, '42804', NULL,
                 'logreg_train_sharded, a label column that is not a number: 42804');
SELECT throws_ok($$SELECT scfrisk.logreg_train_sharded('local_t', 'f', 'y', '{"calibrate": "platt"}')$$, '0A000', NULL,
                 'logreg_train_sharded, calibrate: 0A000');
SELECT throws_ok($$SELECT scfrisk.logreg_train_sharded('local_t', 'f', 'y', '{"C": -1}')$$, '22023', NULL,
                 'logreg_train_sharded, params out of range: 22023');
SELECT throws_ok($$SELECT scfrisk.logreg_shard_load(f, y, NULL) FROM (VALUES (ARRAY[1.0]::float8[], 1.0::float8)) v(f, y)$$,
                 '22004', NULL, 'the load aggregate without a session: 22004');
SELECT isnt((SELECT scfrisk.logreg_shard_load(f, y, 77) FROM (VALUES (ARRAY[1.0, 2.0]::float8[], 1.0::float8),
             (ARRAY[0.5, 1.0], 0.0)) v(f, y)), NULL, 'a load keeps the rows as session 77 and answers their summary');
SELECT throws_ok($$SELECT scfrisk.xgb_shard_step(77, '\x00'::bytea) FROM scfrisk.shard_unit$$,
                 'XX001', NULL, 'a malformed job to a logreg session: XX001');

SELECT * FROM finish();
ROLLBACK;
