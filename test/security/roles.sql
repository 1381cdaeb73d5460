-- Security layer: every documented role of docs/security.md at its boundary.
-- PUBLIC (a role with no grant), reader, trainer and owner, set up with the
-- grants docs/registry.md gives; each does what it is meant to and each
-- boundary is tried by the role that would cross it, with the SQLSTATE it
-- gets.  Roles are named sfsec_roles_*; everything is rolled back.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(53);

CREATE ROLE sfsec_roles_public;
CREATE ROLE sfsec_roles_reader;
CREATE ROLE sfsec_roles_trainer;
CREATE ROLE sfsec_roles_trainer2;
CREATE ROLE sfsec_roles_owner;
GRANT USAGE ON SCHEMA scfrisk TO sfsec_roles_reader;
GRANT EXECUTE ON FUNCTION scfrisk.predict(text, float8[]) TO sfsec_roles_reader;
GRANT SELECT ON scfrisk.model_versions, scfrisk.model_history, scfrisk.deployed_models TO sfsec_roles_reader;
GRANT sfsec_roles_reader TO sfsec_roles_trainer, sfsec_roles_trainer2;
GRANT EXECUTE ON FUNCTION scfrisk.model(text), scfrisk.save_model(text, bytea, jsonb),
	scfrisk.register_training(text, text, text, jsonb, jsonb) TO sfsec_roles_trainer, sfsec_roles_trainer2;
GRANT sfsec_roles_trainer TO sfsec_roles_owner;
GRANT EXECUTE ON FUNCTION scfrisk.deploy(text, integer), scfrisk.rollback(text),
	scfrisk.retire(text, integer) TO sfsec_roles_owner;
GRANT EXECUTE ON PROCEDURE scfrisk.retrain(text) TO sfsec_roles_owner;

CREATE TABLE public.sfsec_roles_data AS
SELECT i, ARRAY[((i::bigint * 7919) % 1000) / 1000.0, ((i::bigint * 104729) % 997) / 997.0]::float8[] AS features,
	   CASE WHEN ((i::bigint * 7919) % 1000) / 1000.0 + ((i * 31) % 100) / 200.0 > 0.7 THEN 1 ELSE 0 END::float8 AS label
FROM generate_series(1, 800) AS i;
GRANT SELECT ON public.sfsec_roles_data TO sfsec_roles_trainer, sfsec_roles_trainer2;
CREATE TABLE public.sfsec_roles_secret AS SELECT features, label FROM public.sfsec_roles_data;
SET client_min_messages = warning;
SELECT is(scfrisk.save_model('sfsec_roles_pd', (SELECT scfrisk.logreg_train(features, label, '{}') FROM public.sfsec_roles_data)),
		  1, 'setup: the registry owner saves version 1');
SELECT lives_ok($$SELECT scfrisk.deploy('sfsec_roles_pd', 1)$$, 'setup: and deploys it');
-- the score of version 1 by value, for the reader to compare with
CREATE TABLE public.sfsec_roles_expected AS
SELECT scfrisk.predict(model, ARRAY[0.3, 0.6]::float8[]) AS score
FROM scfrisk.registry_version WHERE name = 'sfsec_roles_pd' AND version = 1;
GRANT SELECT ON public.sfsec_roles_expected TO sfsec_roles_reader;

-- ------------------------------------------------------------ PUBLIC: nothing of the registry
SET ROLE sfsec_roles_public;
SELECT throws_ok($$SELECT scfrisk.predict('sfsec_roles_pd', ARRAY[0.1, 0.2]::float8[])$$, '42501', NULL, 'PUBLIC cannot score by name');
SELECT throws_ok($$SELECT scfrisk.model('sfsec_roles_pd')$$, '42501', NULL, 'PUBLIC cannot read model bytes');
SELECT throws_ok($$SELECT * FROM scfrisk.model_versions$$, '42501', NULL, 'PUBLIC cannot read the versions view');
SELECT throws_ok($$SELECT * FROM scfrisk.registry_version$$, '42501', NULL, 'PUBLIC cannot read the tables');
SELECT throws_ok($$SELECT scfrisk.save_model('x', '\x00'::bytea)$$, '42501', NULL, 'PUBLIC cannot save');
SELECT throws_ok($$SELECT scfrisk.deploy('sfsec_roles_pd', 1)$$, '42501', NULL, 'PUBLIC cannot deploy');
SELECT throws_ok($$SELECT scfrisk.register_training('x', 'logreg', 'SELECT 1')$$, '42501', NULL, 'PUBLIC cannot register');
SELECT throws_ok($$CALL scfrisk.retrain('sfsec_roles_pd')$$, '42501', NULL, 'PUBLIC cannot retrain');
SELECT throws_ok($$SELECT scfrisk.retrain_fit('sfsec_roles_pd')$$, '42501', NULL, 'PUBLIC cannot run the training step');
SELECT throws_ok($$SELECT scfrisk.retrain_promote('sfsec_roles_pd', 1)$$, '42501', NULL, 'PUBLIC cannot run the promotion step');
SELECT throws_ok($$SELECT scfrisk.registry_invoker()$$, '42501', NULL, 'PUBLIC cannot call registry helpers');
SELECT throws_ok($$SELECT scfrisk.registry_query_as('postgres', 'SELECT 1', NULL, NULL, NULL, NULL::int)$$, '42501', NULL,
				 'PUBLIC cannot run a query as another role');
SELECT throws_ok($$CREATE FUNCTION scfrisk.registry_invoker2() RETURNS text LANGUAGE sql AS 'SELECT 1::text'$$, '42501', NULL,
				 'PUBLIC cannot create objects in the extension''s schema');
SELECT throws_ok($$ALTER SCHEMA scfrisk RENAME TO scfrisk_x$$, '42501', NULL, 'PUBLIC cannot rename the extension''s schema');
SELECT throws_ok($$SELECT scfrisk.model_kind(decode('53434652010005000000000002000000000000000000000000000000', 'hex'))$$,
				 '42501', NULL, 'PUBLIC has no USAGE on the extension''s schema until the administrator grants it');
RESET ROLE;

-- ------------------------------------------------------------ reader: scores and reads the views
SET ROLE sfsec_roles_reader;
SELECT is(scfrisk.predict('sfsec_roles_pd', ARRAY[0.3, 0.6]::float8[]), (SELECT score FROM public.sfsec_roles_expected),
		  'reader scores by name: the deployed version''s score');
SELECT is((SELECT count(*)::int FROM scfrisk.deployed_models WHERE name = 'sfsec_roles_pd'), 1, 'reader reads the deployed view');
SELECT lives_ok($$SELECT * FROM scfrisk.model_history$$, 'reader reads the history view');
SELECT throws_ok($$SELECT model FROM scfrisk.registry_version$$, '42501', NULL, 'reader cannot read the bytes table');
SELECT throws_ok($$SELECT scfrisk.model('sfsec_roles_pd')$$, '42501', NULL, 'reader cannot fetch model bytes');
SELECT throws_ok($$SELECT scfrisk.save_model('sfsec_roles_pd', '\x00'::bytea)$$, '42501', NULL, 'reader cannot save');
SELECT throws_ok($$SELECT scfrisk.deploy('sfsec_roles_pd', 1)$$, '42501', NULL, 'reader cannot deploy');
SELECT throws_ok($$SELECT scfrisk.rollback('sfsec_roles_pd')$$, '42501', NULL, 'reader cannot roll back');
SELECT throws_ok($$SELECT scfrisk.register_training('sfsec_roles_pd', 'logreg', 'SELECT 1')$$, '42501', NULL, 'reader cannot register');
SELECT throws_ok($$CALL scfrisk.retrain('sfsec_roles_pd')$$, '42501', NULL, 'reader cannot retrain');
SELECT throws_ok($$UPDATE scfrisk.registry_version SET status = 'retired'$$, '42501', NULL, 'reader cannot write the tables');
RESET ROLE;

-- ------------------------------------------------------------ trainer: saves candidates and registers trainings
SET ROLE sfsec_roles_trainer;
SELECT is(scfrisk.save_model('sfsec_roles_pd', (SELECT scfrisk.logreg_train(features, label, '{"C": 2}') FROM public.sfsec_roles_data)),
		  2, 'trainer saves a candidate');
SELECT lives_ok($$SELECT scfrisk.model('sfsec_roles_pd')$$, 'trainer fetches the deployed bytes');
SELECT lives_ok($$SELECT scfrisk.register_training('sfsec_roles_pd', 'logreg', 'SELECT features, label FROM public.sfsec_roles_data WHERE current_user = ''sfsec_roles_trainer''')$$,
				'trainer registers a training');
SELECT throws_ok($$SELECT scfrisk.register_training('sfsec_roles_other', 'logreg', 'SELECT features, label FROM public.sfsec_roles_secret')$$,
				 '42501', NULL, 'a stored query may not read what the trainer cannot (checked at registration)');
SELECT throws_ok($$SELECT scfrisk.deploy('sfsec_roles_pd', 2)$$, '42501', NULL, 'trainer cannot deploy');
SELECT throws_ok($$SELECT scfrisk.rollback('sfsec_roles_pd')$$, '42501', NULL, 'trainer cannot roll back');
SELECT throws_ok($$SELECT scfrisk.retire('sfsec_roles_pd', 2)$$, '42501', NULL, 'trainer cannot retire');
SELECT throws_ok($$CALL scfrisk.retrain('sfsec_roles_pd')$$, '42501', NULL, 'trainer cannot retrain');
SELECT throws_ok($$SELECT scfrisk.retrain_promote('sfsec_roles_pd', 2)$$, '42501', NULL, 'trainer cannot promote through the internal step');
SELECT throws_ok($$INSERT INTO scfrisk.registry_history (name, action, by) VALUES ('sfsec_roles_pd', 'deploy', 'x')$$,
				 '42501', NULL, 'trainer cannot write the audit log');
SELECT throws_ok($$SELECT scfrisk.registry_activate('sfsec_roles_pd', 2, 'x', 'deploy', false)$$, '42501', NULL,
				 'trainer cannot call the internal deploy');
SET ROLE sfsec_roles_trainer2;
SELECT throws_ok($$SELECT scfrisk.register_training('sfsec_roles_pd', 'logreg', 'SELECT features, 1 - label AS label FROM public.sfsec_roles_data')$$,
				 '42501', NULL, 'another trainer cannot change the training');
RESET ROLE;

-- ------------------------------------------------------------ owner: deploys, rolls back, retires, retrains
SET ROLE sfsec_roles_owner;
SELECT lives_ok($$SELECT scfrisk.deploy('sfsec_roles_pd', 2)$$, 'owner deploys');
SELECT is(scfrisk.rollback('sfsec_roles_pd'), 1, 'owner rolls back');
SELECT lives_ok($$CALL scfrisk.retrain('sfsec_roles_pd')$$, 'owner retrains');
SELECT is((SELECT reason LIKE 'trained as sfsec_roles_trainer;%' FROM scfrisk.model_history
		   WHERE name = 'sfsec_roles_pd' AND action = 'retrain' ORDER BY id DESC LIMIT 1), true,
		  'the stored query ran as the trainer who registered it, not as the owner');
SELECT is((SELECT by FROM scfrisk.model_history WHERE name = 'sfsec_roles_pd' AND action = 'rollback'),
		  'sfsec_roles_owner', 'the audit log records the session role, not the definer');
-- the owner role is a member of the trainer role (docs/registry.md): it has the
-- trainer's privileges, so it may change the training the trainer role registered
SELECT lives_ok($$SELECT scfrisk.register_training('sfsec_roles_pd', 'logreg', 'SELECT features, label FROM public.sfsec_roles_data WHERE current_user = ''sfsec_roles_owner''', '{}', '{"tolerance": 0.05}')$$,
				'owner, a member of the trainer role, changes the trainer''s training');
SELECT is((SELECT by || '/' || (details -> 'previous' ->> 'run_as') FROM scfrisk.model_history
		   WHERE name = 'sfsec_roles_pd' AND action = 'register' ORDER BY id DESC LIMIT 1),
		  'sfsec_roles_owner/sfsec_roles_trainer', 'the history records who changed it and whose it was');
SET ROLE sfsec_roles_trainer;
SELECT throws_ok($$SELECT scfrisk.register_training('sfsec_roles_pd', 'logreg', 'SELECT features, label FROM public.sfsec_roles_data')$$,
				 '42501', NULL, 'now the trainer, not a member of the owner role, cannot change it back');
SET ROLE sfsec_roles_owner;
SELECT throws_ok($$SELECT scfrisk.registry_query_as('sfsec_roles_trainer', 'SELECT 1', NULL, NULL, NULL, NULL::int)$$, '42501', NULL,
				 'owner cannot run queries as the trainer directly');
SELECT throws_ok($$SELECT scfrisk.retrain_fit('sfsec_roles_pd')$$, '42501', NULL, 'owner cannot call the internal steps directly');
SELECT throws_ok($$UPDATE scfrisk.registry_training SET run_as = 'postgres'$$, '42501', NULL,
				 'owner cannot make a stored query run as another role');
SELECT throws_ok($$DROP FUNCTION scfrisk.deploy(text, integer)$$, '42501', NULL, 'owner cannot drop the extension''s functions');
RESET ROLE;

-- the registry owner (the extension's owner) may change the training
SELECT lives_ok($$SELECT scfrisk.register_training('sfsec_roles_pd', 'logreg', 'SELECT features, label FROM public.sfsec_roles_data', '{}', '{"tolerance": 0.05}')$$,
				'the registry owner changes the trainer''s training');

SELECT * FROM finish();
ROLLBACK;
