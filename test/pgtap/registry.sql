-- pgTAP contracts of the scfrisk registry: signatures, volatility, SECURITY
-- DEFINER, configuration tables, nothing open to PUBLIC, and the three roles
-- of docs/registry.md with the grants documented there: each can do what it
-- is meant to and nothing more (42501 otherwise).  A stored training query
-- runs as the role that registered it, not as the owner who retrains.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(61);

-- ------------------------------------------------------------ contracts
SELECT has_function('scfrisk', 'save_model', ARRAY['text', 'bytea', 'jsonb']);
SELECT function_returns('scfrisk', 'save_model', ARRAY['text', 'bytea', 'jsonb'], 'integer');
SELECT has_function('scfrisk', 'deploy', ARRAY['text', 'integer']);
SELECT has_function('scfrisk', 'rollback', ARRAY['text']);
SELECT function_returns('scfrisk', 'rollback', ARRAY['text'], 'integer');
SELECT has_function('scfrisk', 'retire', ARRAY['text', 'integer']);
SELECT has_function('scfrisk', 'register_training', ARRAY['text', 'text', 'text', 'jsonb', 'jsonb']);
SELECT has_function('scfrisk', 'model', ARRAY['text']);
SELECT volatility_is('scfrisk', 'model', ARRAY['text'], 'stable');
SELECT has_function('scfrisk', 'predict', ARRAY['text', 'double precision[]']);
SELECT volatility_is('scfrisk', 'predict', ARRAY['text', 'double precision[]'], 'stable');
SELECT is_strict('scfrisk', 'predict', ARRAY['text', 'double precision[]']);
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'scfrisk.predict(text, float8[])'::regprocedure),
		  's', 'predict by name is parallel safe');
SELECT is((SELECT prokind::text FROM pg_proc WHERE oid = 'scfrisk.retrain(text)'::regprocedure),
		  'p', 'retrain is a procedure');
SELECT is_definer('scfrisk', 'save_model', ARRAY['text', 'bytea', 'jsonb']);
SELECT is_definer('scfrisk', 'deploy', ARRAY['text', 'integer']);
SELECT is_definer('scfrisk', 'register_training', ARRAY['text', 'text', 'text', 'jsonb', 'jsonb']);
SELECT is((SELECT count(*)::int FROM pg_proc p
		   WHERE p.pronamespace = 'scfrisk'::regnamespace AND p.prosecdef
			 AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c WHERE c LIKE 'search_path=%')),
		  0, 'every SECURITY DEFINER function pins its search_path');
SELECT has_view('scfrisk', 'model_versions', 'view of versions');
SELECT has_view('scfrisk', 'model_history', 'view of history');
SELECT has_view('scfrisk', 'deployed_models', 'view of deployed models');
SELECT is((SELECT array_agg(c::regclass::text ORDER BY c::regclass::text)
		   FROM pg_extension e, unnest(e.extconfig) AS c WHERE e.extname = 'scfrisk'),
		  ARRAY['scfrisk.registry_history', 'scfrisk.registry_history_id_seq', 'scfrisk.registry_model',
				'scfrisk.registry_training', 'scfrisk.registry_version'],
		  'registry tables are extension configuration tables (pg_dump dumps their rows)');
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1)
		   FROM pg_proc p, aclexplode(p.proacl) AS a
		   WHERE p.pronamespace = 'scfrisk'::regnamespace AND a.grantee = 0
			 AND (p.proname LIKE 'registry%' OR p.proname LIKE 'retrain%'
				  OR p.oid::regprocedure::text IN ('scfrisk.save_model(text,bytea,jsonb)',
					'scfrisk.deploy(text,integer)', 'scfrisk.rollback(text)', 'scfrisk.retire(text,integer)',
					'scfrisk.model(text)', 'scfrisk.predict(text,double precision[])',
					'scfrisk.register_training(text,text,text,jsonb,jsonb)'))),
		  NULL::text[],
		  'PUBLIC may execute nothing of the registry, not even the retrain steps (issue 13.1)');

-- ------------------------------------------------------------ roles (docs/registry.md)
CREATE ROLE scf_t_reader;
CREATE ROLE scf_t_trainer;
CREATE ROLE scf_t_owner;
GRANT USAGE ON SCHEMA scfrisk TO scf_t_reader;
GRANT EXECUTE ON FUNCTION scfrisk.predict(text, float8[]) TO scf_t_reader;
GRANT SELECT ON scfrisk.model_versions, scfrisk.model_history, scfrisk.deployed_models TO scf_t_reader;
GRANT scf_t_reader TO scf_t_trainer;
GRANT EXECUTE ON FUNCTION scfrisk.model(text), scfrisk.save_model(text, bytea, jsonb),
	scfrisk.register_training(text, text, text, jsonb, jsonb) TO scf_t_trainer;
GRANT scf_t_trainer TO scf_t_owner;
GRANT EXECUTE ON FUNCTION scfrisk.deploy(text, integer), scfrisk.rollback(text),
	scfrisk.retire(text, integer) TO scf_t_owner;
GRANT EXECUTE ON PROCEDURE scfrisk.retrain(text) TO scf_t_owner;

-- data: the trainer may read sales, nobody but the superuser reads secret
CREATE TABLE public.reg_sales (i int, features float8[], label float8);
INSERT INTO public.reg_sales
SELECT i, ARRAY[(i % 17) / 17.0, (i % 13) / 13.0], 10 + 5 * ((i % 17) / 17.0) + ((i * 7919) % 101) / 101.0
FROM generate_series(1, 400) AS i;
GRANT SELECT ON public.reg_sales TO scf_t_trainer;
CREATE TABLE public.reg_secret (features float8[], label float8);
-- a small qrgmm_linear model of width 2 (the registry saves only models that
-- can be scored: a header-only container is refused, issue 13)
CREATE TABLE public.reg_model AS
SELECT scfrisk.qrgmm_train(features, label, '{"m": 4}') AS model FROM public.reg_sales;
GRANT SELECT ON public.reg_model TO PUBLIC;
SELECT scfrisk.save_model('pd', (SELECT model FROM public.reg_model));
SELECT scfrisk.deploy('pd', 1);

-- ------------------------------------------------------------ reader
SET ROLE scf_t_reader;
SELECT lives_ok($$SELECT * FROM scfrisk.model_versions$$, 'reader reads the versions view');
SELECT lives_ok($$SELECT * FROM scfrisk.model_history$$, 'reader reads the history view');
SELECT lives_ok($$SELECT * FROM scfrisk.deployed_models$$, 'reader reads the deployed view');
SELECT throws_ok($$SELECT scfrisk.predict('nope', ARRAY[1, 2]::float8[])$$, '42704', NULL,
				 'reader may score by name (an unknown name is 42704, not a permission error)');
SELECT throws_ok($$SELECT model FROM scfrisk.registry_version$$, '42501', NULL, 'reader cannot read the model bytes table');
SELECT throws_ok($$SELECT scfrisk.model('pd')$$, '42501', NULL, 'reader cannot fetch model bytes');
SELECT throws_ok($$SELECT scfrisk.save_model('pd', '\x'::bytea)$$, '42501', NULL, 'reader cannot save');
SELECT throws_ok($$SELECT scfrisk.deploy('pd', 1)$$, '42501', NULL, 'reader cannot deploy');
SELECT throws_ok($$SELECT scfrisk.rollback('pd')$$, '42501', NULL, 'reader cannot roll back');
SELECT throws_ok($$SELECT scfrisk.register_training('pd', 'qrgmm_linear', 'SELECT 1')$$, '42501', NULL,
				 'reader cannot register training');
SELECT throws_ok($$CALL scfrisk.retrain('pd')$$, '42501', NULL, 'reader cannot retrain');

-- ------------------------------------------------------------ trainer
SET ROLE scf_t_trainer;
SELECT is(scfrisk.save_model('pd', (SELECT model FROM public.reg_model)),
		  2, 'trainer saves a candidate');
SELECT is((SELECT created_by || '/' || status FROM scfrisk.model_versions WHERE name = 'pd' AND version = 2),
		  'scf_t_trainer/candidate', 'the version records the trainer as its author');
SELECT lives_ok($$SELECT scfrisk.model('pd')$$, 'trainer fetches the deployed bytes');
SELECT throws_ok($$SELECT scfrisk.register_training('pd', 'qrgmm_linear', 'SELECT features, label FROM public.reg_secret')$$,
				 '42501', NULL, 'a training query the trainer cannot run is refused at registration');
SELECT CASE WHEN to_regprocedure('scfrisk.qrgmm_train(float8[], float8, jsonb)') IS NULL
	THEN skip('qrgmm_train is not installed', 1)
	ELSE lives_ok($$SELECT scfrisk.register_training('pd', 'qrgmm_linear',
		'SELECT features, label FROM public.reg_sales WHERE current_user = ''scf_t_trainer''')$$,
		'trainer registers a training query') END;
SELECT throws_ok($$SELECT scfrisk.deploy('pd', 2)$$, '42501', NULL, 'trainer cannot deploy');
SELECT throws_ok($$SELECT scfrisk.rollback('pd')$$, '42501', NULL, 'trainer cannot roll back');
SELECT throws_ok($$SELECT scfrisk.retire('pd', 2)$$, '42501', NULL, 'trainer cannot retire');
SELECT throws_ok($$CALL scfrisk.retrain('pd')$$, '42501', NULL, 'trainer cannot retrain');
SELECT throws_ok($$SELECT scfrisk.retrain_fit('pd')$$, '42501', NULL, 'trainer cannot run a retrain step');
SELECT throws_ok($$SELECT scfrisk.retrain_promote('pd', 2)$$, '42501', NULL, 'trainer cannot run the promotion step');
SELECT throws_ok($$UPDATE scfrisk.registry_version SET status = 'deployed'$$, '42501', NULL,
				 'trainer cannot write the registry tables');
SELECT throws_ok($$SELECT scfrisk.registry_query_as('postgres', 'SELECT 1', NULL, NULL, NULL, NULL::int)$$,
				 '42501', NULL, 'trainer cannot run queries as another role');

-- ------------------------------------------------------------ owner
SET ROLE scf_t_owner;
SET client_min_messages = warning;
SELECT lives_ok($$SELECT scfrisk.deploy('pd', 2)$$, 'owner deploys');
SELECT is(scfrisk.rollback('pd'), 1, 'owner rolls back');
SELECT CASE WHEN to_regprocedure('scfrisk.qrgmm_train(float8[], float8, jsonb)') IS NULL
	THEN skip('qrgmm_train is not installed', 1)
	ELSE lives_ok($$CALL scfrisk.retrain('pd')$$, 'owner retrains (in a transaction block: one transaction)') END;
SELECT CASE WHEN to_regprocedure('scfrisk.qrgmm_train(float8[], float8, jsonb)') IS NULL
	THEN skip('qrgmm_train is not installed', 1)
	ELSE is((SELECT reason LIKE 'trained as scf_t_trainer;%' FROM scfrisk.model_history
			 WHERE name = 'pd' AND action = 'retrain'), true,
			'the stored query ran as the trainer who registered it, not as the owner') END;
SELECT throws_ok($$INSERT INTO scfrisk.registry_history (name, action, by) VALUES ('pd', 'deploy', 'x')$$,
				 '42501', NULL, 'owner cannot write the audit log directly');
SELECT throws_ok($$SELECT scfrisk.registry_query_as('scf_t_trainer', 'SELECT 1', NULL, NULL, NULL, NULL::int)$$,
				 '42501', NULL, 'owner cannot run queries as another role directly');
SELECT throws_ok($$SELECT scfrisk.registry_activate('pd', 2, 'x', 'deploy', false)$$, '42501', NULL,
				 'owner cannot call the internal helpers');
RESET ROLE;

-- ------------------------------------------------------------ injection
SELECT throws_ok($$SELECT scfrisk.register_training('pd', 'qrgmm_linear', 'SELECT features, label FROM public.reg_sales; DROP TABLE public.reg_secret')$$,
				 '22023', NULL, 'a second statement is refused');
SELECT throws_ok($$SELECT scfrisk.register_training('pd', 'qrgmm_linear', 'SELECT features, label FROM public.reg_sales) q; DROP TABLE public.reg_secret; SELECT (1')$$,
				 '42601', NULL, 'breaking out of the wrapping subquery is a syntax error');
SELECT throws_ok($$SELECT scfrisk.save_model('pd''; DROP TABLE public.reg_secret; --', '\x'::bytea)$$,
				 'XX001', NULL, 'a hostile name never reaches SQL text (the bytes are checked first)');
SELECT throws_ok($$SELECT scfrisk.save_model('pd''; DROP TABLE public.reg_secret; --',
				 (SELECT model FROM public.reg_model))$$,
				 '22023', NULL, 'a hostile name is refused');
SELECT has_table('public', 'reg_secret', 'the table survived');
SELECT throws_ok($$SELECT scfrisk.deploy('pd', 99)$$, '42704', NULL, 'unknown version');
SELECT throws_ok($$SELECT scfrisk.model('nope')$$, '42704', NULL, 'unknown name');

SELECT * FROM finish();
ROLLBACK;
