-- pgTAP contracts of cross-validation in SQL (issue 14): signatures, the
-- training query running with the caller's privileges under the registry's
-- read-only checks, and the SQLSTATE of every class of bad input.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(14);

SELECT has_function('scfrisk', 'cross_validate', ARRAY['text', 'text', 'jsonb', 'integer', 'integer']);
SELECT has_function('scfrisk', 'tune', ARRAY['text', 'text', 'jsonb', 'integer', 'integer']);
SELECT has_function('scfrisk', 'row_fold', ARRAY['double precision[]', 'double precision', 'integer', 'bigint']);
SELECT volatility_is('scfrisk', 'row_fold', ARRAY['double precision[]', 'double precision', 'integer', 'bigint'], 'immutable');
SELECT is_strict('scfrisk', 'row_fold', ARRAY['double precision[]', 'double precision', 'integer', 'bigint']);

CREATE TABLE cv_secret AS
SELECT ARRAY[i % 7, i % 3]::float8[] AS features, (i % 7 > 3)::int::float8 AS label
FROM generate_series(1, 120) AS i;
CREATE ROLE cv_tap_user NOLOGIN;
GRANT USAGE ON SCHEMA scfrisk TO cv_tap_user;
CREATE TABLE cv_open AS SELECT * FROM cv_secret;
GRANT SELECT ON cv_open TO cv_tap_user;

SET LOCAL ROLE cv_tap_user;
SELECT throws_ok($$SELECT * FROM scfrisk.cross_validate('logreg', 'SELECT features, label FROM public.cv_secret', '{}', 3)$$,
				 '42501', NULL, 'the query runs with the caller''s privileges, not the definer''s: insufficient_privilege');
SELECT is((SELECT count(*) FROM scfrisk.cross_validate('logreg', 'SELECT features, label FROM public.cv_open', '{}', 3)),
		  4::bigint, 'a granted table cross-validates: 3 folds and the mean row');
-- refused by the registry's checks (their SQLSTATE is the registry's: 22023 or 0A000)
SELECT throws_ok($$SELECT * FROM scfrisk.cross_validate('logreg', 'WITH d AS (DELETE FROM public.cv_open RETURNING *) SELECT features, label FROM d')$$);
SELECT throws_ok($$SELECT * FROM scfrisk.cross_validate('logreg', 'SELECT features, label FROM public.cv_open FOR UPDATE')$$);
RESET ROLE;
SELECT is((SELECT count(*) FROM cv_open), 120::bigint, 'the table is unchanged');

SELECT throws_ok($$SELECT * FROM scfrisk.cross_validate('logreg', 'SELECT features FROM public.cv_open')$$,
				 '42703', NULL, 'no label column: undefined_column');
SELECT throws_ok($$SELECT * FROM scfrisk.cross_validate('logreg', 'SELECT features, label FROM public.cv_open', '{"C": 0}')$$,
				 '22023', NULL, 'bad params: invalid_parameter_value');
SELECT throws_ok($$SELECT * FROM scfrisk.tune('logreg', 'SELECT features, label FROM public.cv_open', '{"c": [1]}')$$,
				 '22023', NULL, 'unknown grid key: invalid_parameter_value');
SELECT throws_ok($$SELECT * FROM scfrisk.tune('logreg', 'SELECT features, label FROM public.cv_open', '{}')$$,
				 '22023', NULL, 'empty grid: invalid_parameter_value');

SELECT * FROM finish();
ROLLBACK;
