/*
 * forest_sql.c
 *	  The training aggregates scfrisk.tree_train(features, label, params) and
 *	  scfrisk.rf_train(features, label, params), their scorers tree_predict
 *	  and rf_predict, and tree_importance.
 *
 * The state is the shared row store (sf_rowstore_pg.h): float32 features
 * (the trees compare float32 values, as scikit-learn does), a float8 label,
 * no weight column; the transition and the start of the final function are
 * the baselines' shared ones (sf_train_agg.h).  Rows whose features or label
 * are NULL are skipped; NULL or NaN feature elements are missing values.
 * With a parallel plan the partial states are serialised, appended by the
 * combine function and trained once in the leader; the final function sorts
 * the rows into the canonical order first, so the model bytes depend neither
 * on the scan order nor on the plan.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "scfrisk/forest.h"
#include "scfrisk_pg.h"
#include "sf_train_agg.h"
#include "governance_pg.h"

static const SfRowsSpec cart_rows_spec = {{20, SF_ROWS_FLOAT4, 0, 1, FOREST_MAX_FEATURES}, "tree_train"};
static const SfRowsSpec forest_rows_spec = {{21, SF_ROWS_FLOAT4, 0, 1, FOREST_MAX_FEATURES}, "rf_train"};
static const SfRowsSpec *const forest_specs[] = {&cart_rows_spec, &forest_rows_spec};

PG_FUNCTION_INFO_V1(tree_train_sfunc);
Datum
tree_train_sfunc(PG_FUNCTION_ARGS)
{
	return SfTrainTransition(fcinfo, &cart_rows_spec, 0, NULL);
}

PG_FUNCTION_INFO_V1(rf_train_sfunc);
Datum
rf_train_sfunc(PG_FUNCTION_ARGS)
{
	return SfTrainTransition(fcinfo, &forest_rows_spec, 0, NULL);
}

/* Both aggregates share their serialise, deserialise and combine functions. */
SF_ROWS_PARALLEL_FUNCTIONS(forest_rows_serialize, forest_rows_deserialize, forest_rows_combine, forest_specs);

/* Final of either aggregate: train on the rows in canonical order. */
static Datum
Final(FunctionCallInfo fcinfo, uint16 kind, const char *what)
{
	SfTrainRows tr;
	forest_params p,
				fold_params;
	forest_model *m;
	sf_env		env;
	sf_buf		b;
	bytea	   *out;
	double	   *prob;

	memset(&p, 0, sizeof(p));
	SfTrainStart(fcinfo, what, kind == SF_KIND_CART ? &cart_params_table : &forest_params_table, &p, &tr);
	if (kind == SF_KIND_CART)
	{
		/* not keys of tree_train's table: one tree on every row */
		p.n_estimators = 1;
		p.bootstrap = 0;
	}
	SfGovCheckCalibrate(p.calibrate, p.objective == FOREST_OBJ_BINARY, what);
	m = SfTrainFit(&tr, &env, kind, &p, p.verbose, what);
	sf_buf_init(&b, &env);
	SF_PG_CHECK(forest_encode(&env, m, &p, SfTrainNames(&p.feature_names, &tr, what), &b), &env, what);
	/* the training rows' scores for the drift section, on the pool (outlives the fit context) */
	prob = MemoryContextAllocHuge(tr.old, sizeof(double) * Max(tr.st->n_rows, 1));
	forest_predict_rows(&env, m, tr.x, (size_t) tr.st->n_rows, prob);
	/* the folds: the model's params without oob_score (no fold needs it) */
	fold_params = p;
	fold_params.oob_score = 0;
	out = SfTrainFinishKind(&tr, &b, kind, &fold_params, p.calibrate, p.calibrate_folds, what);
	/* the training distributions of drift monitoring, inputs at the trees' thresholds */
	PG_RETURN_BYTEA_P(SfGovAttachDriftScores(out, tr.st, prob, what));
}

PG_FUNCTION_INFO_V1(tree_train_final);
Datum
tree_train_final(PG_FUNCTION_ARGS)
{
	return Final(fcinfo, SF_KIND_CART, "tree_train");
}

PG_FUNCTION_INFO_V1(rf_train_final);
Datum
rf_train_final(PG_FUNCTION_ARGS)
{
	return Final(fcinfo, SF_KIND_FOREST, "rf_train");
}

/* ------------------------------------------------------------ scoring */

SF_SCORE_ROW_FUNCTION(tree_predict, SF_KIND_CART, "tree_predict");

SF_SCORE_ROW_FUNCTION(rf_predict, SF_KIND_FOREST, "rf_predict");

/* ------------------------------------------------------------ importance */

PG_FUNCTION_INFO_V1(tree_importance);
Datum
tree_importance(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bytea	   *model = PG_GETARG_BYTEA_PP(0);
	sf_container c;
	forest_model *m;
	sf_env		env;
	double	   *imp;
	uint32		j;

	SfContainerFromBytea(model, &c, "tree_importance");
	if (c.kind != SF_KIND_CART && c.kind != SF_KIND_FOREST)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("tree_importance: the model is of kind %s, not cart or forest",
						sf_kind_name(c.kind) ? sf_kind_name(c.kind) : "unknown"),
				 errhint("Pass a model of tree_train or rf_train; xgb_importance reads gbt models.")));
	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(forest_decode(&env, c.kind, (const uint8_t *) VARDATA_ANY(model),
							  VARSIZE_ANY_EXHDR(model), &m), &env, "tree_importance");
	imp = palloc(sizeof(double) * m->n_features);
	SF_PG_CHECK(forest_importance(&env, m, imp), &env, "tree_importance");
	InitMaterializedSRF(fcinfo, 0);
	for (j = 0; j < m->n_features; j++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = Int32GetDatum((int32) j + 1);
		values[1] = SfFeatureNameDatum(&c, j, &nulls[1]);
		values[2] = Float8GetDatum(imp[j]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
