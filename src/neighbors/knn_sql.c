/*
 * knn_sql.c
 *	  The training aggregate scfrisk.knn_train(features, label, params) of
 *	  k nearest neighbours and its scorer scfrisk.knn_predict.
 *
 * The state is the shared row store (sf_rowstore_pg.h) with float8
 * features (the model keeps the standardised rows) and no weight column.
 * A model holds its training rows, so the transition stops (54000) at the
 * first row past KNN_MAX_ROWS instead of collecting rows it cannot keep.
 * Rows whose features or label are NULL are skipped; a NULL or NaN feature
 * element is an error, as KNeighborsClassifier has no missing values.
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

#include "scfrisk/knn.h"
#include "scfrisk_pg.h"
#include "sf_rowstore_pg.h"

static const SfRowsSpec knn_rows_spec = {{24, SF_ROWS_FLOAT8, 0, 0, KNN_MAX_FEATURES}, "knn_train"};
static const SfRowsSpec *const knn_specs[] = {&knn_rows_spec};

PG_FUNCTION_INFO_V1(knn_train_sfunc);
Datum
knn_train_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = SfRowsAggContext(fcinfo, "knn_train");
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
				 errmsg("knn_train: label is not finite (%g)", label)));
	n = SfArrayLength(feat, "features");
	if (st == NULL)
	{
		if (n < 1)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("knn_train: features is an empty array")));
		if (n > KNN_MAX_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("knn_train: features has %d elements, at most %d are supported",
							n, KNN_MAX_FEATURES)));
		st = SfRowsNew(aggcxt, &knn_rows_spec);
		SfRowsSetWidth(st, n, 0);
	}
	else if (n != st->n_cols)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("knn_train: features has %d elements, expected %d", n, st->n_cols),
				 errdetail("Every row must have the width of the first row.")));
	if (st->n_rows >= KNN_MAX_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("knn_train: a knn model holds its training rows, at most %d", KNN_MAX_ROWS),
				 errhint("Train on a sample of the rows (TABLESAMPLE), or use rf_train or xgb_train.")));
	if (st->params == NULL && !PG_ARGISNULL(3))
		SfRowsKeepParams(st, PG_GETARG_JSONB_P(3));
	SfRowsAppendArray(st, feat, SF_MISSING_REJECT, label, 1.0, "features");
	PG_FREE_IF_COPY(feat, 1);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(knn_rows_serialize);
Datum
knn_rows_serialize(PG_FUNCTION_ARGS)
{
	return SfRowsSerializeFn(fcinfo, "knn_rows_serialize");
}

PG_FUNCTION_INFO_V1(knn_rows_deserialize);
Datum
knn_rows_deserialize(PG_FUNCTION_ARGS)
{
	return SfRowsDeserializeFn(fcinfo, knn_specs, lengthof(knn_specs));
}

PG_FUNCTION_INFO_V1(knn_rows_combine);
Datum
knn_rows_combine(PG_FUNCTION_ARGS)
{
	return SfRowsCombineFn(fcinfo, "knn_rows_combine");
}

PG_FUNCTION_INFO_V1(knn_train_final);
Datum
knn_train_final(PG_FUNCTION_ARGS)
{
	SfRows	   *st;
	MemoryContext fitcxt,
				old;
	knn_params	p;
	knn_model	m;
	sf_env		env;
	sf_buf		b;
	bytea	   *out;
	double	   *x,
			   *y;
	const char *const *names = NULL;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("knn_train: no training rows"),
				 errdetail("Every row had NULL features or label, or the input was empty.")));
	st = (SfRows *) PG_GETARG_POINTER(0);
	fitcxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk knn fit", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(fitcxt);
	memset(&p, 0, sizeof(p));
	SfParseParams(st->params, &knn_params_table, &p);
	if (p.feature_names.n > 0)
	{
		if (p.feature_names.n != st->n_cols)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("knn_train: feature_names has %d names, features has %d elements",
							p.feature_names.n, st->n_cols)));
		names = (const char *const *) p.feature_names.v;
	}
	SfEnvInit(&env, fitcxt);
	SfRowsCanonical(st, &x, &y, NULL);
	SF_PG_CHECK(knn_fit(&env, &p, x, y, (size_t) st->n_rows, (uint32_t) st->n_cols, &m), &env, "knn_train");
	sf_buf_init(&b, &env);
	SF_PG_CHECK(knn_encode(&env, &m, &p, names, &b), &env, "knn_train");
	MemoryContextSwitchTo(old);
	out = SfBufToBytea(&b);
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(out);
}

/* scfrisk.knn_predict (the C name knn_predict is the core's scorer) */
PG_FUNCTION_INFO_V1(knn_predict_sql);
Datum
knn_predict_sql(PG_FUNCTION_ARGS)
{
	const knn_model *m = SfModelCacheGet(fcinfo, 0, SfKindDecoder(SF_KIND_KNN), "knn_predict");
	ArrayType  *feat = PG_GETARG_ARRAYTYPE_P(1);
	double	   *x = palloc(sizeof(double) * m->n_features);
	double		r;

	SfGetFeatures(feat, (int) m->n_features, x, SF_MISSING_REJECT, "features");
	r = knn_predict(m, x);
	pfree(x);
	PG_FREE_IF_COPY(feat, 1);
	PG_RETURN_FLOAT8(r);
}
