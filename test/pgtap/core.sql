-- pgTAP contracts of the scfrisk core: the schema, the function signatures,
-- their volatility and strictness, and the SQLSTATEs of bad model bytes.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(17);

SELECT has_schema('scfrisk');
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'scfrisk'), false, 'scfrisk is not relocatable');
SELECT is((SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
           WHERE e.extname = 'scfrisk'), 'scfrisk', 'scfrisk lives in schema scfrisk');

SELECT has_function('scfrisk', 'model_info', ARRAY['bytea']);
SELECT function_returns('scfrisk', 'model_info', ARRAY['bytea'], 'jsonb');
SELECT volatility_is('scfrisk', 'model_info', ARRAY['bytea'], 'immutable');
SELECT is_strict('scfrisk', 'model_info', ARRAY['bytea']);
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'scfrisk.model_info(bytea)'::regprocedure), 's',
          'model_info is parallel safe');
SELECT has_function('scfrisk', 'model_kind', ARRAY['bytea']);
SELECT volatility_is('scfrisk', 'model_kind', ARRAY['bytea'], 'immutable');
SELECT volatility_is('scfrisk', 'build_info', ARRAY[]::text[], 'stable');

-- every function of the extension has a comment
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
           JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'scfrisk'
           WHERE obj_description(p.oid, 'pg_proc') IS NULL), 0, 'every scfrisk function has a COMMENT');

SELECT throws_ok($$SELECT scfrisk.model_info('\x'::bytea)$$, 'XX001', NULL, 'empty model: data_corrupted');
SELECT throws_ok($$SELECT scfrisk.model_info('\x5343465209000100000000000000000000000000000000000000000000'::bytea)$$,
                 '0A000', NULL, 'future format version: feature_not_supported');
SELECT throws_ok($$SELECT scfrisk.model_info('\x53434652010063000000000000000000000000000000000000000000'::bytea)$$,
                 'XX001', NULL, 'unknown kind: data_corrupted');
SELECT throws_ok($$SELECT scfrisk.model_kind('\x00'::bytea)$$, 'XX001', NULL, 'model_kind of garbage: data_corrupted');
SELECT throws_ok($$SET scfrisk.bogus = 1$$, '42602', NULL, 'the scfrisk. GUC prefix is reserved');

SELECT * FROM finish();
ROLLBACK;
