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
#include "mlp_pg.h"

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

static void
ParseXgbMlpParams(Jsonb *jb, xgb_mlp_params *p)
{
	sf_env		env;

	memset(p, 0, sizeof(*p));
	SfParseParams(jb, &xgb_mlp_params_table, p);
	if (!NestedHasKey(jb, "mlp", "hidden"))
		mlp_params_default_hidden(&p->mlp);
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

/* ------------------------------------------------------------ training */

PG_FUNCTION_INFO_V1(xgb_mlp_train_final);
Datum
xgb_mlp_train_final(PG_FUNCTION_ARGS)
{
	SfRows	   *st = SfRowsCheck(fcinfo, "xgb_mlp_train");
	MemoryContext fitcxt,
				old;
	xgb_mlp_params p;
	xgb_mlp_model m;
	sf_env		env;
	sf_buf		b;
	bytea	   *out;
	double	   *x,
			   *y;
	const char *const *names = NULL;

	ParseXgbMlpParams(st->params, &p);
	SfRowsCheckBinary(st, "xgb_mlp_train");
	if (p.xgb.feature_names.n > 0)
	{
		if (p.xgb.feature_names.n != st->n_cols)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("xgb_mlp_train: xgb.feature_names has %d names but the features have %d elements",
							p.xgb.feature_names.n, st->n_cols)));
		names = (const char *const *) p.xgb.feature_names.v;
	}
	if (p.xgb.verbose)
		p.xgb.progress = NoticeProgress;
	fitcxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk xgb_mlp fit", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(fitcxt);
	SfEnvInit(&env, fitcxt);
	SfRowsCanonical(st, &x, &y, NULL);
	sf_blas_set_threads(env.threads);
	SF_PG_CHECK(xgb_mlp_fit(&env, &p, x, y, (size_t) st->n_rows, (uint32_t) st->n_cols, &m),
				&env, "xgb_mlp_train");
	sf_buf_init(&b, &env);
	SF_PG_CHECK(xgb_mlp_encode(&env, &m, &p, names, (uint64_t) st->n_rows, &b), &env, "xgb_mlp_train");
	MemoryContextSwitchTo(old);
	out = SfBufToBytea(&b);
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(out);
}

/* ------------------------------------------------------------ scoring */

PG_FUNCTION_INFO_V1(xgb_mlp_predict_sql);
Datum
xgb_mlp_predict_sql(PG_FUNCTION_ARGS)
{
	const xgb_mlp_model *m = SfModelCacheGet(fcinfo, 0, SfKindDecoder(SF_KIND_XGB_MLP), "xgb_mlp_predict");
	ArrayType  *feat = PG_GETARG_ARRAYTYPE_P(1);
	double		buf[256];
	double	   *x;
	double		r;

	/* the trees saw every feature, so rows may be wider than the stack buffer */
	x = m->n_features <= lengthof(buf) ? buf : palloc(sizeof(double) * m->n_features);
	SfGetFeatures(feat, (int) m->n_features, x, SF_MISSING_AS_NAN, "features");
	SfCheckFloat32Range(x, (int) m->n_features, "xgb_mlp_predict", "features");
	r = xgb_mlp_predict(m, x);
	if (x != buf)
		pfree(x);
	PG_FREE_IF_COPY(feat, 1);
	PG_RETURN_FLOAT8(r);
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
