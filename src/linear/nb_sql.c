/*
 * nb_sql.c
 *	  The training aggregate scfrisk.nb_train(features, label, params) of
 *	  Gaussian naive Bayes and its scorer scfrisk.nb_predict.
 *
 * The state is the shared row store (sf_rowstore_pg.h) with float8
 * features (the scores are compared with scikit-learn's to 1e-9) and no
 * weight column.  Rows whose features or label are NULL are skipped; a NULL
 * or NaN feature element is an error, as GaussianNB has no missing values.
 * Parallel plans combine the partial states; the final function sorts the
 * rows into the canonical order, so the model bytes do not depend on the
 * plan.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "scfrisk/nb.h"
#include "scfrisk_pg.h"
#include "sf_rowstore_pg.h"

static const SfRowsSpec nb_rows_spec = {{22, SF_ROWS_FLOAT8, 0, 0, NB_MAX_FEATURES}, "nb_train"};
static const SfRowsSpec *const nb_specs[] = {&nb_rows_spec};

PG_FUNCTION_INFO_V1(nb_train_sfunc);
Datum
nb_train_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = SfRowsAggContext(fcinfo, "nb_train");
	SfRows	   *st = PG_ARGISNULL(0) ? NULL : (SfRows *) PG_GETARG_POINTER(0);
	ArrayType  *feat;
	double		label;
	int			n;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	feat = PG_GETARG_ARRAYTYPE_P(1);
	label = PG_GETARG_FLOAT8(2);
	if (!isfinite(label))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("nb_train: label is not finite (%g)", label)));
	n = SfArrayLength(feat, "features");
	if (st == NULL)
	{
		if (n < 1)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("nb_train: features is an empty array")));
		if (n > NB_MAX_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("nb_train: features has %d elements, at most %d are supported",
							n, NB_MAX_FEATURES)));
		st = SfRowsNew(aggcxt, &nb_rows_spec);
		SfRowsSetWidth(st, n, 0);
	}
	else if (n != st->n_cols)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("nb_train: features has %d elements, expected %d", n, st->n_cols),
				 errdetail("Every row must have the width of the first row.")));
	if (st->params == NULL && !PG_ARGISNULL(3))
		SfRowsKeepParams(st, PG_GETARG_JSONB_P(3));
	SfRowsAppendArray(st, feat, SF_MISSING_REJECT, label, 1.0, "features");
	PG_FREE_IF_COPY(feat, 1);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(nb_rows_serialize);
Datum
nb_rows_serialize(PG_FUNCTION_ARGS)
{
	return SfRowsSerializeFn(fcinfo, "nb_rows_serialize");
}

PG_FUNCTION_INFO_V1(nb_rows_deserialize);
Datum
nb_rows_deserialize(PG_FUNCTION_ARGS)
{
	return SfRowsDeserializeFn(fcinfo, nb_specs, lengthof(nb_specs));
}

PG_FUNCTION_INFO_V1(nb_rows_combine);
Datum
nb_rows_combine(PG_FUNCTION_ARGS)
{
	return SfRowsCombineFn(fcinfo, "nb_rows_combine");
}

PG_FUNCTION_INFO_V1(nb_train_final);
Datum
nb_train_final(PG_FUNCTION_ARGS)
{
	SfRows	   *st;
	MemoryContext fitcxt,
				old;
	nb_params	p;
	nb_model	m;
	sf_env		env;
	sf_buf		b;
	bytea	   *out;
	double	   *x,
			   *y;
	const char *const *names = NULL;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("nb_train: no training rows"),
				 errdetail("Every row had NULL features or label, or the input was empty.")));
	st = (SfRows *) PG_GETARG_POINTER(0);
	fitcxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk nb fit", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(fitcxt);
	memset(&p, 0, sizeof(p));
	SfParseParams(st->params, &nb_params_table, &p);
	if (p.feature_names.n > 0)
	{
		if (p.feature_names.n != st->n_cols)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("nb_train: feature_names has %d names, features has %d elements",
							p.feature_names.n, st->n_cols)));
		names = (const char *const *) p.feature_names.v;
	}
	SfEnvInit(&env, fitcxt);
	SfRowsCanonical(st, &x, &y, NULL);
	SF_PG_CHECK(nb_fit(&env, &p, x, y, (size_t) st->n_rows, (uint32_t) st->n_cols, &m), &env, "nb_train");
	sf_buf_init(&b, &env);
	SF_PG_CHECK(nb_encode(&env, &m, &p, names, &b), &env, "nb_train");
	MemoryContextSwitchTo(old);
	out = SfBufToBytea(&b);
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(out);
}

/* scfrisk.nb_predict (the C name nb_predict is the core's scorer) */
PG_FUNCTION_INFO_V1(nb_predict_sql);
Datum
nb_predict_sql(PG_FUNCTION_ARGS)
{
	const nb_model *m = SfModelCacheGet(fcinfo, 0, SfKindDecoder(SF_KIND_GAUSSIAN_NB), "nb_predict");
	ArrayType  *feat = PG_GETARG_ARRAYTYPE_P(1);
	double	   *x = palloc(sizeof(double) * m->n_features);
	double		r;

	SfGetFeatures(feat, (int) m->n_features, x, SF_MISSING_REJECT, "features");
	r = nb_predict(m, x);
	pfree(x);
	PG_FREE_IF_COPY(feat, 1);
	PG_RETURN_FLOAT8(r);
}
