-- "What scfrisk offers" (scripts/demo.sh): the user-facing functions,
-- aggregates and procedures of schema scfrisk grouped by concern.  Left out:
-- the support functions of aggregates (transition, final, combine,
-- serialise), anything taking or returning internal, and the registry's
-- internal helpers (registry_*, retrain_fit, retrain_promote).
\pset footer off
WITH f AS (
	SELECT p.oid, p.proname, p.prokind,
		   -- input types only, short names: one screen line per function
		   p.proname || '(' || replace(replace(oidvectortypes(p.proargtypes), 'double precision', 'float8'),
									   'integer', 'int') || ')' AS signature,
		   obj_description(p.oid, 'pg_proc') AS what
	FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE n.nspname = 'scfrisk'
	  AND NOT EXISTS (SELECT 1 FROM pg_aggregate a
					  WHERE p.oid IN (a.aggtransfn, a.aggfinalfn, a.aggcombinefn,
									  a.aggserialfn, a.aggdeserialfn))
	  AND p.prorettype <> 'internal'::regtype
	  AND NOT 'internal'::regtype = ANY (p.proargtypes::oid[])
	  AND p.proname !~ '^(registry_|retrain_)'
	  AND coalesce(obj_description(p.oid, 'pg_proc'), '') !~ '^internal:')
SELECT substr(concern, strpos(concern, ' ') + 1) AS concern, function, kind, what
FROM (SELECT CASE
		 WHEN proname IN ('model_info', 'model_kind', 'model_kinds', 'build_info') THEN '1 core'
		 WHEN proname = 'predict' AND signature LIKE 'predict(bytea%' THEN '1 core'
		 WHEN proname ~ '^xgb_mlp' THEN '4 XGBoost-MLP hybrid'
		 WHEN proname ~ '^xgb_' THEN '2 gradient-boosted trees'
		 WHEN proname ~ '^(mlp_|partial_dependence)' THEN '3 neural network (MLP)'
		 WHEN proname ~ '^logreg_' THEN '5 logistic regression'
		 WHEN proname ~ '^(binary_metrics|roc_curve|threshold_table)' THEN '6 metrics'
		 WHEN proname ~ '^(qrgmm|crps|pinball)' THEN '7 quantile models (QRGMM)'
		 WHEN proname ~ '^loan_' THEN '8 loan risk and sizing'
		 WHEN proname IN ('save_model', 'deploy', 'rollback', 'retire', 'model', 'predict',
						  'register_training', 'retrain') THEN '9 model registry'
		 ELSE '10 demo data' END AS concern,
	   signature AS function,
	   CASE prokind WHEN 'a' THEN 'aggregate' WHEN 'p' THEN 'procedure' ELSE 'function' END AS kind,
	   left(what, 90) AS what
	  FROM f) g
ORDER BY split_part(concern, ' ', 1)::int, function;
