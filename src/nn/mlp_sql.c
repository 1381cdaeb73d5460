/*
 * mlp_sql.c
 *	  Scoring functions of the MLP and logistic regression:
 *	  scfrisk.mlp_predict, scfrisk.logreg_predict, and their scorers for the
 *	  generic scfrisk.predict dispatch.
 *
 * A model is decoded once per call site (SfModelCacheGet); a row costs the
 * unpacking of its features and one forward pass.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/array.h"

#include "scfrisk/logreg.h"
#include "scfrisk/mlp.h"
#include "mlp_pg.h"

/* ------------------------------------------------------------ decoders */

static sf_status
MlpDecode(sf_env *env, const uint8_t *buf, size_t len, void **model)
{
	mlp_model  *m = sf_malloc(env, sizeof(mlp_model));
	sf_status	st;

	if (m == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding an mlp model");
	if ((st = mlp_decode(env, buf, len, m)) != SF_OK)
		return st;
	*model = m;
	return SF_OK;
}

static sf_status
LogregDecode(sf_env *env, const uint8_t *buf, size_t len, void **model)
{
	logreg_model *m = sf_malloc(env, sizeof(logreg_model));
	sf_status	st;

	if (m == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding a logreg model");
	if ((st = logreg_decode(env, buf, len, m)) != SF_OK)
		return st;
	*model = m;
	return SF_OK;
}

static double
MlpScore(const void *model, const double *x)
{
	return mlp_predict((const mlp_model *) model, x);
}

static uint32
MlpWidth(const void *model)
{
	return ((const mlp_model *) model)->n_features;
}

static double
LogregScore(const void *model, const double *x)
{
	const logreg_model *m = model;
	uint32		j;

	for (j = 0; j < m->n_features; j++)
		if (isnan(x[j]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("logreg models do not accept missing values (feature %u)", j + 1)));
	return logreg_predict(m, x);
}

static uint32
LogregWidth(const void *model)
{
	return ((const logreg_model *) model)->n_features;
}

const SfScorer sf_mlp_scorer = {SF_KIND_MLP, MlpDecode, MlpScore, MlpWidth};
const SfScorer sf_logreg_scorer = {SF_KIND_LOGREG, LogregDecode, LogregScore, LogregWidth};

/* ------------------------------------------------------------ predict */

PG_FUNCTION_INFO_V1(mlp_predict_sql);
Datum
mlp_predict_sql(PG_FUNCTION_ARGS)
{
	const mlp_model *m = SfModelCacheGet(fcinfo, 0, MlpDecode, "mlp_predict");
	ArrayType  *feat = PG_GETARG_ARRAYTYPE_P(1);
	double		x[NN_MAX_UNITS];
	double		r;

	SfGetFeatures(feat, (int) m->n_features, x, SF_MISSING_AS_NAN, "features");
	r = mlp_predict(m, x);
	PG_FREE_IF_COPY(feat, 1);
	PG_RETURN_FLOAT8(r);
}

PG_FUNCTION_INFO_V1(logreg_predict_sql);
Datum
logreg_predict_sql(PG_FUNCTION_ARGS)
{
	const logreg_model *m = SfModelCacheGet(fcinfo, 0, LogregDecode, "logreg_predict");
	ArrayType  *feat = PG_GETARG_ARRAYTYPE_P(1);
	double		x[LOGREG_MAX_FEATURES];
	double		r;

	SfGetFeatures(feat, (int) m->n_features, x, SF_MISSING_REJECT, "features");
	r = logreg_predict(m, x);
	PG_FREE_IF_COPY(feat, 1);
	PG_RETURN_FLOAT8(r);
}
