-- The one table of model kinds, seen from SQL: every kind is wired into
-- every use (scoring or curves, the registry's aggregate, model_kind).
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS scfrisk;
BEGIN;
SELECT plan(7);

SELECT has_function('scfrisk', 'model_kinds', ARRAY[]::text[], 'scfrisk.model_kinds() exists');
SELECT ok((SELECT count(*) FROM scfrisk.model_kinds()) >= 6, 'model_kinds lists at least the six kinds of 0.1.0');
SELECT is_empty($$
	SELECT kind FROM scfrisk.model_kinds()
	WHERE training_aggregate IS NOT NULL
	  AND to_regprocedure(format('scfrisk.%s(double precision[], double precision, jsonb)',
								 training_aggregate)) IS NULL
$$, 'every training aggregate the table names is installed with the registry''s signature');
SELECT is_empty($$
	SELECT kind FROM scfrisk.model_kinds()
	WHERE scfrisk.registry_kind_aggregate(kind) IS DISTINCT FROM training_aggregate
$$, 'the registry reads each kind''s aggregate from the table');
SELECT is_empty($$
	SELECT kind FROM scfrisk.model_kinds() WHERE scores_rows = gives_curves
$$, 'every kind either scores rows (scfrisk.predict) or gives curves (qrgmm_quantile, loan_risk_curve)');
SELECT is(
	(SELECT array_agg(kind ORDER BY tag) FROM scfrisk.model_kinds() WHERE tag <= 6),
	ARRAY['gbt', 'mlp', 'xgb_mlp', 'logreg', 'qrgmm_linear', 'qrgmm_deepfm'],
	'tags 1-6 keep their names (they are on disk)');
SELECT is(
	(SELECT scfrisk.model_kind(scfrisk.logreg_train(ARRAY[i / 10.0, (i % 3)::float8], (i > 5)::int::float8, NULL))
	 FROM generate_series(1, 10) i),
	'logreg', 'model_kind names a trained model''s kind from the table');

SELECT * FROM finish();
ROLLBACK;
