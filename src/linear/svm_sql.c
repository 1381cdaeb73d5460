/*
 * svm_sql.c
 *	  The training aggregate scfrisk.svm_train(features, label, params) of
 *	  the linear SVM and its scorers scfrisk.svm_predict (Platt probability)
 *	  and scfrisk.svm_decision (decision value).
 *
 * The state is the shared row store (sf_rowstore_pg.h) with float8
 * features (decision values are compared with LinearSVC's to 1e-4) and no
 * weight column.  Rows whose features or label are NULL are skipped; a NULL
 * or NaN feature element is an error, as LinearSVC has no missing values.
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

#include "scfrisk/svm.h"
#include "scfrisk_pg.h"
#include "sf_rowstore_pg.h"

static const SfRowsSpec svm_rows_spec = {{23, SF_ROWS_FLOAT8, 0, 0, SVM_MAX_FEATURES}, "svm_train"};
static const SfRowsSpec *const svm_specs[] = {&svm_rows_spec};

PG_FUNCTION_INFO_V1(svm_train_sfunc);
Datum
svm_train_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = SfRowsAggContext(fcinfo, "svm_train");
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
				 errmsg("svm_train: label is not finite (%g)", label)));
	n = SfArrayLength(feat, "features");
	if (st == NULL)
	{
		if (n < 1)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("svm_train: features is an empty array")));
		if (n > SVM_MAX_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("svm_train: features has %d elements, at most %d are supported",
							n, SVM_MAX_FEATURES)));
		st = SfRowsNew(aggcxt, &svm_rows_spec);
		SfRowsSetWidth(st, n, 0);
	}
	else if (n != st->n_cols)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("svm_train: features has %d elements, expected %d", n, st->n_cols),
				 errdetail("Every row must have the width of the first row.")));
	if (st->params == NULL && !PG_ARGISNULL(3))
		SfRowsKeepParams(st, PG_GETARG_JSONB_P(3));
	SfRowsAppendArray(st, feat, SF_MISSING_REJECT, label, 1.0, "features");
	PG_FREE_IF_COPY(feat, 1);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(svm_rows_serialize);
Datum
svm_rows_serialize(PG_FUNCTION_ARGS)
{
	return SfRowsSerializeFn(fcinfo, "svm_rows_serialize");
}

PG_FUNCTION_INFO_V1(svm_rows_deserialize);
Datum
svm_rows_deserialize(PG_FUNCTION_ARGS)
{
	return SfRowsDeserializeFn(fcinfo, svm_specs, lengthof(svm_specs));
}

PG_FUNCTION_INFO_V1(svm_rows_combine);
Datum
svm_rows_combine(PG_FUNCTION_ARGS)
{
	return SfRowsCombineFn(fcinfo, "svm_rows_combine");
}

PG_FUNCTION_INFO_V1(svm_train_final);
Datum
svm_train_final(PG_FUNCTION_ARGS)
{
	SfRows	   *st;
	MemoryContext fitcxt,
				old;
	svm_params	p;
	svm_model	m;
	sf_env		env;
	sf_buf		b;
	bytea	   *out;
	double	   *x,
			   *y;
	const char *const *names = NULL;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("svm_train: no training rows"),
				 errdetail("Every row had NULL features or label, or the input was empty.")));
	st = (SfRows *) PG_GETARG_POINTER(0);
	fitcxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk svm fit", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(fitcxt);
	memset(&p, 0, sizeof(p));
	SfParseParams(st->params, &svm_params_table, &p);
	if (p.feature_names.n > 0)
	{
		if (p.feature_names.n != st->n_cols)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("svm_train: feature_names has %d names, features has %d elements",
							p.feature_names.n, st->n_cols)));
		names = (const char *const *) p.feature_names.v;
	}
	SfEnvInit(&env, fitcxt);
	SfRowsCanonical(st, &x, &y, NULL);
	SF_PG_CHECK(svm_fit(&env, &p, x, y, (size_t) st->n_rows, (uint32_t) st->n_cols, &m), &env, "svm_train");
	if (!m.converged)
		ereport(WARNING,
				(errmsg("svm_train: the solver stopped after max_iter = %d passes before reaching tol = %g",
						p.max_iter, p.tol),
				 errhint("Raise max_iter, or scale the features (the dual converges slowly on "
						 "features of very different scales).")));
	sf_buf_init(&b, &env);
	SF_PG_CHECK(svm_encode(&env, &m, &p, names, &b), &env, "svm_train");
	MemoryContextSwitchTo(old);
	out = SfBufToBytea(&b);
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(out);
}

/* Score argument 1 with the cached model of argument 0: decision value or probability. */
static double
ScoreRow(FunctionCallInfo fcinfo, bool decision, const char *what)
{
	const svm_model *m = SfModelCacheGet(fcinfo, 0, SfKindDecoder(SF_KIND_LINEAR_SVM), what);
	ArrayType  *feat = PG_GETARG_ARRAYTYPE_P(1);
	double	   *x = palloc(sizeof(double) * m->n_features);
	double		r;

	SfGetFeatures(feat, (int) m->n_features, x, SF_MISSING_REJECT, "features");
	r = decision ? svm_decision(m, x) : svm_predict(m, x);
	pfree(x);
	PG_FREE_IF_COPY(feat, 1);
	return r;
}

/* scfrisk.svm_predict (the C name svm_predict is the core's scorer) */
PG_FUNCTION_INFO_V1(svm_predict_sql);
Datum
svm_predict_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(ScoreRow(fcinfo, false, "svm_predict"));
}

/* scfrisk.svm_decision (svm_decision is the core's) */
PG_FUNCTION_INFO_V1(svm_decision_sql);
Datum
svm_decision_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(ScoreRow(fcinfo, true, "svm_decision"));
}
