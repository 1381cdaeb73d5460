/*
 * xgb_mlp_sql.c
 *	  SQL surface of the XGBoost-MLP hybrid: the final function of the
 *	  scfrisk.xgb_mlp_train aggregate (its rows are collected by the MLP's
 *	  row aggregate, src/nn/mlp_agg.c), scfrisk.xgb_mlp_predict, the scorer for
 *	  scfrisk.predict, and scfrisk.xgb_mlp_selected.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type_d.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "scfrisk/sf_blas.h"
#include "scfrisk/xgb_mlp.h"
#include "explain_pg.h"
#include "mlp_pg.h"
#include "sf_progress_pg.h"
#include "governance_pg.h"

/* ------------------------------------------------------------ params */

/*
 * True when the object under 'outer' in jb has 'inner' ("mlp" / "hidden"):
 * mlp.hidden has a list default the params table cannot hold.
 */
static bool
NestedHasKey(Jsonb *jb, const char *outer, const char *inner)
{
	JsonbValue	v;
	JsonbValue	k;

	if (jb == NULL || !JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		return false;
	if (getKeyJsonValueFromContainer(&jb->root, outer, strlen(outer), &v) == NULL ||
		v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
		return false;
	k.type = jbvString;
	k.val.string.val = (char *) inner;
	k.val.string.len = strlen(inner);
	return findJsonbValueFromContainer(v.val.binary.data, JB_FOBJECT, &k) != NULL;
}

/* mlp_params_v1_defaults' question: did the user give mlp.<key>? */
static int
MlpKeyGiven(const char *key, void *ctx)
{
	return NestedHasKey((Jsonb *) ctx, "mlp", key);
}

/* True when the top-level "threshold" of jb is a string ("auto" or a mistake). */
static bool
ThresholdIsString(Jsonb *jb)
{
	JsonbValue	v;

	if (jb == NULL || !JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		return false;
	return getKeyJsonValueFromContainer(&jb->root, "threshold", strlen("threshold"), &v) != NULL &&
		v.type == jbvString;
}

/*
 * The params: "threshold" a number or "auto" (the auto view of the table
 * checks the string), mlp.hidden [64, 32] unless given, in paper mode the
 * network's 0.1.0 defaults for the keys the user did not give, so the
 * paper's pipeline trains the model 0.1.0 trained, and in stacked mode the
 * threshold XGB_MLP_STACKED_THRESHOLD unless given (blend mode too), and
 * the blend's forest XGB_MLP_BLEND_FOREST_TREES trees unless given.
 */
void
SfParseXgbMlpParams(Jsonb *jb, xgb_mlp_params *p)
{
	sf_env		env;
	bool		is_auto = ThresholdIsString(jb);

	memset(p, 0, sizeof(*p));
	SfParseParams(jb, is_auto ? &xgb_mlp_params_table_auto : &xgb_mlp_params_table, p);
	p->threshold_auto = is_auto;
	if (!NestedHasKey(jb, "mlp", "hidden"))
		mlp_params_default_hidden(&p->mlp);
	if (p->mode == XGB_MLP_MODE_PAPER)
		mlp_params_v1_defaults(&p->mlp, MlpKeyGiven, jb);
	else if (!SfJsonbHasKey(jb, "threshold"))
		p->threshold = XGB_MLP_STACKED_THRESHOLD;
	if (!NestedHasKey(jb, "rf", "n_estimators"))
		p->rf.n_estimators = XGB_MLP_BLEND_FOREST_TREES;
	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(xgb_mlp_params_check(&env, p), &env, "xgb_mlp_train");
}

/* Stage I progress as NOTICEs when xgb.verbose is set (calling thread only). */
static void
NoticeProgress(void *ctx, const gbt_progress *pr)
{
	ereport(NOTICE,
			(errmsg("xgb_mlp_train: stage I round %d/%d, train %s %.6g, validation %s %.6g",
					pr->round, pr->n_rounds, pr->metric, pr->train, pr->metric, pr->valid)));
}

/* The trees' rounds of a verbose fit, shown by the common progress listener. */
static void
StageIProgress(void *ctx, const gbt_progress *pr)
{
	sf_progress p = {"round", pr->round, pr->n_rounds, 1, pr->metric, pr->train, pr->valid};

	SfProgressNotice(ctx, &p);
}

/* ------------------------------------------------------------ training */

/* "calibrate" belongs to the hybrid, not to one of its stages. */
static void
CheckStageCalibrate(const xgb_mlp_params *p)
{
	if (p->xgb.calibrate != SF_CALIB_NONE || p->mlp.calibrate != SF_CALIB_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("xgb_mlp_train: calibrate is a key of the hybrid, not of its %s stage",
						p->xgb.calibrate != SF_CALIB_NONE ? "xgb" : "mlp"),
				 errhint("Write {\"calibrate\": \"platt\"} at the top level of the params.")));
}

PG_FUNCTION_INFO_V1(xgb_mlp_train_final);
Datum
xgb_mlp_train_final(PG_FUNCTION_ARGS)
{
	SfRows	   *st = SfRowsCheck(fcinfo, "xgb_mlp_train");
	MemoryContext fitcxt,
				old;
	xgb_mlp_params p;
	gbt_params	xgb_user;
	xgb_mlp_model m;
	sf_env		env;
	SfProgressState progress;
	sf_buf		b;
	bytea	   *out;
	double	   *x,
			   *y;
	const char *const *names;
	sf_background bg;

	SfParseXgbMlpParams(st->params, &p);
	CheckStageCalibrate(&p);
	SfRowsCheckBinary(st, "xgb_mlp_train");
	names = SfFeatureNamesParam(&p.xgb.feature_names, st->n_cols, "xgb_mlp_train", "xgb.feature_names");
	if (p.feature_names.n > 0)
		names = SfFeatureNamesParam(&p.feature_names, st->n_cols, "xgb_mlp_train", "feature_names");
	if (p.xgb.verbose)
		p.xgb.progress = NoticeProgress;
	/* verbose (or mlp.verbose): the network's epochs through env */
	fitcxt = SfFitBegin(&env, &progress, "xgb_mlp_train", p.verbose || p.mlp.verbose, false, &old);
	xgb_user = p.xgb;
	if (p.verbose)
	{
		/*
		 * The trees' rounds too: the gbt core reports only with its own verbose
		 * set, which is stored in the model, so it is set for the fit alone.
		 */
		p.xgb.verbose = 1;
		p.xgb.verbose_every = 1;
		p.xgb.progress = StageIProgress;
		p.xgb.progress_ctx = &progress;
	}
	SfRowsCanonical(st, &x, &y, NULL);
	sf_blas_set_threads(env.threads);
	SF_PG_CHECK(xgb_mlp_fit(&env, &p, x, y, (size_t) st->n_rows, (uint32_t) st->n_cols, &m),
				&env, "xgb_mlp_train");
	SfProgressFinish(&progress);
	p.xgb.verbose = xgb_user.verbose;
	p.xgb.verbose_every = xgb_user.verbose_every;
	/* the rows explanations are measured against (docs/explain.md) */
	SF_PG_CHECK(sf_background_sample(&env, x, NULL, (size_t) st->n_rows, (uint32_t) st->n_cols,
									 (uint64_t) p.mlp.seed, &bg), &env, "xgb_mlp_train");
	sf_buf_init(&b, &env);
	SF_PG_CHECK(xgb_mlp_encode(&env, &m, &p, names, (uint64_t) st->n_rows, &b), &env, "xgb_mlp_train");
	MemoryContextSwitchTo(old);
	out = SfBufToByteaWithSections(&env, &b, NULL, 0, &bg, "xgb_mlp_train");
	if (p.calibrate != SF_CALIB_NONE)
	{
		/* the folds train with the same params, quietly */
		xgb_mlp_params *quiet = palloc(sizeof(xgb_mlp_params));
		sf_kind_fold fold = {sf_kind_find(SF_KIND_XGB_MLP), quiet, (uint32) st->n_cols};

		*quiet = p;
		quiet->xgb.verbose = 0;
		quiet->xgb.progress = NULL;
		quiet->xgb.progress_ctx = NULL;
		out = SfGovAttachCalibration(out, x, y, (size_t) st->n_rows, (uint32) st->n_cols, p.calibrate,
									 p.calibrate_folds, sf_kind_fold_fit, &fold, "xgb_mlp_train");
		pfree(quiet);
	}
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(SfGovAttachDrift(out, st, "xgb_mlp_train"));
}

/* ------------------------------------------------------------ scoring */

PG_FUNCTION_INFO_V1(xgb_mlp_predict_sql);
Datum
xgb_mlp_predict_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(SfScoreRow(fcinfo, SF_KIND_XGB_MLP, "xgb_mlp_predict"));
}

/* The kept features, 1-based as SQL arrays count (the paper's Stage I result). */
PG_FUNCTION_INFO_V1(xgb_mlp_selected_sql);
Datum
xgb_mlp_selected_sql(PG_FUNCTION_ARGS)
{
	const xgb_mlp_model *m = SfModelCacheGet(fcinfo, 0, SfKindDecoder(SF_KIND_XGB_MLP), "xgb_mlp_selected");
	Datum	   *d = palloc(sizeof(Datum) * m->n_selected);
	uint32		j;

	for (j = 0; j < m->n_selected; j++)
		d[j] = Int32GetDatum((int32) m->selected[j] + 1);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, (int) m->n_selected, INT4OID, sizeof(int32), true,
										  TYPALIGN_INT));
}
