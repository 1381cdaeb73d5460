-- Security layer: reproductions of the registry findings of issue 13
-- (items 1-4) and of the registry flow of issue 18 (item 2).  Each check
-- failed on the code before the fix.  Roles have names of their own
-- (sfsec_repro_*) and everything runs in one transaction that is rolled back.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(38);

-- a small binary classification set: label from a noisy linear score
CREATE TABLE public.sfsec_cls AS
SELECT i, ARRAY[((i::bigint * 7919) % 1000) / 1000.0, ((i::bigint * 104729) % 997) / 997.0,
				((i::bigint * 1299709) % 991) / 991.0]::float8[] AS features, 0::float8 AS label
FROM generate_series(1, 1500) AS i;
UPDATE public.sfsec_cls SET label = CASE WHEN features[1] * 2 - features[2] + 0.5 * features[3]
									+ ((i * 31) % 100) / 100.0 > 1.2 THEN 1 ELSE 0 END;

CREATE ROLE sfsec_repro_trainers;
CREATE ROLE sfsec_repro_a IN ROLE sfsec_repro_trainers;
CREATE ROLE sfsec_repro_b IN ROLE sfsec_repro_trainers;
CREATE ROLE sfsec_repro_nobody;
GRANT USAGE ON SCHEMA scfrisk TO sfsec_repro_trainers, sfsec_repro_nobody;
GRANT EXECUTE ON FUNCTION scfrisk.model(text), scfrisk.save_model(text, bytea, jsonb),
	scfrisk.register_training(text, text, text, jsonb, jsonb) TO sfsec_repro_trainers;
GRANT SELECT ON public.sfsec_cls TO sfsec_repro_trainers;

-- ------------------------------------------------ item 1: internals closed to PUBLIC
SELECT is((SELECT count(*)::int FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
		   WHERE p.pronamespace = 'scfrisk'::regnamespace AND a.grantee = 0
			 AND (p.proname LIKE 'registry%' OR p.proname LIKE 'retrain%')),
		  0, 'PUBLIC executes no registry_* helper and no retrain step (issue 13.1)');
SET ROLE sfsec_repro_nobody;
SELECT throws_ok($$SELECT scfrisk.retrain_promote('x', 1)$$, '42501', NULL,
				 'an ordinary role cannot call retrain_promote');
SELECT throws_ok($$SELECT scfrisk.retrain_fit('x')$$, '42501', NULL, 'an ordinary role cannot call retrain_fit');
SELECT throws_ok($$SELECT scfrisk.registry_invoker()$$, '42501', NULL,
				 'an ordinary role cannot call registry_invoker');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM pg_proc p
		   WHERE p.pronamespace = 'scfrisk'::regnamespace AND p.prosecdef
			 AND p.proconfig IS DISTINCT FROM ARRAY['search_path=pg_catalog, pg_temp']),
		  0, 'every SECURITY DEFINER function runs with search_path = pg_catalog, pg_temp');
SELECT is((SELECT nspowner FROM pg_namespace WHERE nspname = 'scfrisk'),
		  (SELECT extowner FROM pg_extension WHERE extname = 'scfrisk'),
		  'the extension schema belongs to the role that installed the extension');

-- ------------------------------------------------ item 4: validation before the query runs
SET ROLE sfsec_repro_a;
SELECT throws_ok($$SELECT scfrisk.register_training('bad name!', 'logreg', 'SELECT features, label FROM public.sfsec_cls')$$,
				 '22023', NULL, 'a bad model name is 22023 at registration (issue 13.4)');
SELECT throws_ok($$SELECT scfrisk.register_training('bad name!', 'logreg', 'SELECT features, label FROM public.no_such_table')$$,
				 '22023', NULL, 'the name is checked before the query is run');
SELECT throws_ok($$SELECT scfrisk.register_training('s', 'logreg', 'SELECT features, label FROM public.sfsec_cls', '{}', '{"seed": 1e30}')$$,
				 '22023', NULL, 'a seed out of range is refused at registration');
SELECT throws_ok($$SELECT scfrisk.register_training('s', 'gbt', 'SELECT features, label FROM public.sfsec_cls', '{"max_dept": 3}')$$,
				 '22023', NULL, 'an unknown params key of the kind is refused at registration');
SELECT throws_ok($$SELECT scfrisk.register_training('s', 'gbt', 'SELECT features, label FROM public.sfsec_cls', '{"max_depth": 0}')$$,
				 '22023', NULL, 'a params value out of the kind''s range is refused at registration');
SELECT throws_ok($$SELECT scfrisk.register_training('s', 'mlp', 'SELECT features, label FROM public.sfsec_cls', '{"hidden": []}')$$,
				 '22023', NULL, 'the kind''s cross-checks run at registration (mlp: an empty hidden list)');
SELECT throws_ok($$SELECT scfrisk.register_training('s', 'xgb_mlp', 'SELECT features, label FROM public.sfsec_cls', '{"mlp": {"hidden": []}}')$$,
				 '22023', NULL, 'and for nested params (xgb_mlp: mlp.hidden)');
SELECT is((SELECT array_agg(k.kind ORDER BY k.kind) FROM scfrisk.model_kinds() AS k
		   WHERE k.training_aggregate IS NOT NULL AND NOT EXISTS (
			   SELECT 1 FROM (SELECT scfrisk.registry_check_params(k.kind, '{}')) AS c)),
		  NULL, 'every kind the registry retrains has its params checked at registration');
SELECT lives_ok($$SELECT scfrisk.register_training('sfsec_ok', 'xgb_mlp', 'SELECT features, label FROM public.sfsec_cls', '{"mlp": {"hidden": [8]}, "xgb": {"n_estimators": 5}}')$$,
				'valid nested params are accepted');

-- ------------------------------------------------ item 2: only the registering role changes a training
SELECT lives_ok($$SELECT scfrisk.register_training('sfsec_pd', 'logreg', 'SELECT features, label FROM public.sfsec_cls')$$,
				'trainer A registers a training');
SET ROLE sfsec_repro_b;
SELECT throws_ok($$SELECT scfrisk.register_training('sfsec_pd', 'logreg', 'SELECT features, 1 - label AS label FROM public.sfsec_cls', '{}', '{"tolerance": 1e300}')$$,
				 '42501', NULL, 'trainer B cannot overwrite trainer A''s training (issue 13.2)');
SELECT throws_ok($$SELECT scfrisk.register_training('sfsec_pd', 'logreg', 'SELECT features, 1 - label AS label FROM public.sfsec_cls')$$,
				 '42501', NULL, 'not even with settings in range');
SELECT throws_ok($$SELECT scfrisk.register_training('sfsec_b', 'logreg', 'SELECT features, label FROM public.sfsec_cls', '{}', '{"tolerance": 1e300}')$$,
				 '22023', NULL, 'a tolerance out of its documented range is refused');
SELECT throws_ok($$SELECT scfrisk.register_training('sfsec_b', 'logreg', 'SELECT features, label FROM public.sfsec_cls', '{}', '{"holdout_fraction": 0.99}')$$,
				 '22023', NULL, 'a holdout fraction out of its documented range is refused');
RESET ROLE;
SELECT is((SELECT run_as || '/' || (validation ->> 'tolerance') FROM scfrisk.registry_training WHERE name = 'sfsec_pd'),
		  'sfsec_repro_a/0', 'trainer A''s definition is unchanged');
SET ROLE sfsec_repro_a;
SELECT lives_ok($$SELECT scfrisk.save_model('sfsec_hand', (SELECT scfrisk.logreg_train(features, label, '{}') FROM public.sfsec_cls))$$,
				'trainer A saves a model by hand');
-- the first training of a model belongs to whoever registers it: B attaches one, A cannot change it
SET ROLE sfsec_repro_b;
SELECT lives_ok($$SELECT scfrisk.register_training('sfsec_hand', 'logreg', 'SELECT features, label FROM public.sfsec_cls')$$,
				'trainer B attaches the first training to a model without one');
SET ROLE sfsec_repro_a;
SELECT throws_ok($$SELECT scfrisk.register_training('sfsec_hand', 'logreg', 'SELECT features, 1 - label AS label FROM public.sfsec_cls')$$,
				 '42501', NULL, 'then trainer A cannot change trainer B''s training');
RESET ROLE;
-- the registry owner (the extension's owner) may change it, and the history says who did and what was there
SELECT lives_ok($$SELECT scfrisk.register_training('sfsec_pd', 'logreg', 'SELECT features, label FROM public.sfsec_cls', '{}', '{"tolerance": 0.01}')$$,
				'the registry owner changes trainer A''s training');
SELECT is((SELECT by || '/' || (details -> 'previous' ->> 'run_as') FROM scfrisk.model_history
		   WHERE name = 'sfsec_pd' AND action = 'register' ORDER BY id DESC LIMIT 1),
		  current_user || '/sfsec_repro_a', 'the history records who changed the definition and whose it was');

-- ------------------------------------------------ issue 18.2: the registry flow
-- a champion trained by hand on every row, so also on the rows retrain holds out
SET client_min_messages = warning;
SELECT is(scfrisk.save_model('sfsec_flow', (SELECT scfrisk.logreg_train(features, label, '{}') FROM public.sfsec_cls)),
		  1, 'hand-saved champion is version 1');
SELECT lives_ok($$SELECT scfrisk.deploy('sfsec_flow', 1)$$, 'and deployed');
SELECT lives_ok($$SELECT scfrisk.register_training('sfsec_flow', 'logreg', 'SELECT features, label FROM public.sfsec_cls')$$,
				'a training is registered for it');
CALL scfrisk.retrain('sfsec_flow');
SELECT is((SELECT (metrics ->> 'champion_comparable')::boolean FROM scfrisk.registry_version
		   WHERE name = 'sfsec_flow' AND version = 2),
		  false, 'the comparison says the hand-saved champion was not trained under this split');
SELECT is((SELECT status FROM scfrisk.registry_version WHERE name = 'sfsec_flow' AND version = 2),
		  'deployed', 'the documented rule for an incomparable champion promotes the challenger');
SELECT is((SELECT metrics -> 'holdout' ->> 'rows' FROM scfrisk.registry_version WHERE name = 'sfsec_flow' AND version = 2),
		  (SELECT metrics -> 'champion_holdout' ->> 'rows' FROM scfrisk.registry_version WHERE name = 'sfsec_flow' AND version = 2),
		  'champion and challenger were scored on the same rows');
SELECT is(scfrisk.rollback('sfsec_flow'), 1, 'rollback after the first retrain returns to the hand-saved version');
-- retraining twice on unchanged data: the second gives the deployed bytes again
CALL scfrisk.retrain('sfsec_flow');
SELECT is((SELECT status FROM scfrisk.registry_version WHERE name = 'sfsec_flow' AND version = 3),
		  'deployed', 'a retrain after the rollback is promoted again');
CALL scfrisk.retrain('sfsec_flow');
SELECT is((SELECT max(version) FROM scfrisk.registry_version WHERE name = 'sfsec_flow'),
		  3, 'a retrain whose bytes equal the deployed version saves no new version');
SELECT is((SELECT action || '/' || to_version FROM scfrisk.model_history WHERE name = 'sfsec_flow' ORDER BY id DESC LIMIT 1),
		  'unchanged/3', 'and records unchanged');
-- the first retrain of a model with nothing deployed: rollback has nothing to return to
SELECT lives_ok($$SELECT scfrisk.register_training('sfsec_first', 'logreg', 'SELECT features, label FROM public.sfsec_cls')$$,
				'a training for a new model');
CALL scfrisk.retrain('sfsec_first');
SELECT throws_ok($$SELECT scfrisk.rollback('sfsec_first')$$, '55000', NULL,
				 'rollback after a first retrain of a new model: nothing earlier to return to (55000)');
RESET client_min_messages;

SELECT * FROM finish();
ROLLBACK;
