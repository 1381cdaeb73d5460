/*
 * deepfm_agg.c
 *	  scfrisk.qrgmm_deepfm_train(numeric float8[], categorical int[],
 *	  y float8, params jsonb): the training aggregate of QRGMM DeepFM
 *	  models, with serialise, deserialise and combine functions for parallel
 *	  aggregation.
 *
 * The transition function appends each row as n_numeric + n_categorical
 * columns (the numeric fields as float32, then the ids exactly) to the
 * shared row store (sf_rowstore_pg.h) in the aggregate context: the
 * covariate layout of every generation function, read by the core as
 * float32 rows (deepfm_fit_f32: the model is the one of the widened rows).  Rows with a
 * NULL array or a NULL response are skipped like NULLs in any aggregate;
 * NULL, NaN or infinite numeric elements, NULL or negative ids, field counts
 * that change between rows and non-finite responses are errors.  The final
 * function parses the params, runs the pure core (deepfm_fit.c) in its own
 * memory context "scfrisk qrgmm_deepfm fit", and copies the encoded model to
 * the caller's context.  Partial states combine by concatenation in input
 * order; the core sorts the rows into a canonical order before training,
 * so a parallel plan gives the same model bytes as a serial one.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "scfrisk/deepfm.h"
#include "scfrisk_pg.h"
#include "explain_pg.h"
#include "deepfm_pg.h"
#include "mlp_pg.h"				/* SfJsonbHasKey */
#include "sf_rowstore_pg.h"
#include "sf_progress_pg.h"
#include "sf_train_agg.h"

/*
 * The store: float32 rows (a network: DESIGN.md's float32 matrices), the
 * numeric fields then the categorical ids as the store's id columns (int32
 * bits, exact for every id).  The state exists from the first call so the
 * final function checks params given only with NULL rows.
 */
static const SfRowsSpec deepfm_rows_spec = {{6, SF_ROWS_FLOAT4, 0, 0, DEEPFM_MAX_FIELDS}, "qrgmm_deepfm_train"};
static const SfRowsSpec *const deepfm_specs[] = {&deepfm_rows_spec};

/* Number of elements of a one-dimensional int[] (names the argument otherwise). */
static int
IntArrayLength(ArrayType *arr, const char *what)
{
	if (ARR_ELEMTYPE(arr) != INT4OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s: categorical must be an int[] array", what)));
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s: categorical must be a one-dimensional array, not %d-dimensional",
						what, ARR_NDIM(arr))));
	return ARR_NDIM(arr) == 0 ? 0 : ARR_DIMS(arr)[0];
}

void
DeepfmGetCategorical(ArrayType *arr, int n, double *out, const char *what)
{
	const int32 *data = (const int32 *) ARR_DATA_PTR(arr);
	bits8	   *nulls = ARR_NULLBITMAP(arr);
	int			i;

	if (IntArrayLength(arr, what) != n)
		elog(ERROR, "%s: categorical length changed", what);
	for (i = 0; i < n; i++)
	{
		int32		v;

		if (nulls != NULL && !(nulls[i / 8] & (1 << (i % 8))))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s: element %d of categorical is NULL", what, i + 1),
					 errhint("Map missing categories to an id of their own.")));
		v = *data++;
		if (v < 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s: element %d of categorical is the negative id %d", what, i + 1, v),
					 errhint("Categorical ids are integers >= 0.")));
		out[i] = (double) v;
	}
}

int
DeepfmCategoricalLength(ArrayType *arr, const char *what)
{
	return IntArrayLength(arr, what);
}

PG_FUNCTION_INFO_V1(qrgmm_deepfm_train_sfunc);
Datum
qrgmm_deepfm_train_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext agg = SfRowsAggContext(fcinfo, "qrgmm_deepfm_train_sfunc");
	SfRows	   *st;
	ArrayType  *na;
	ArrayType  *ca;
	int			nn,
				nc;
	double		row[DEEPFM_MAX_FIELDS];

	st = PG_ARGISNULL(0) ? SfRowsNew(agg, &deepfm_rows_spec) : (SfRows *) PG_GETARG_POINTER(0);
	SfRowsKeepParams(st, PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_POINTER(st);
	na = PG_GETARG_ARRAYTYPE_P(1);
	ca = PG_GETARG_ARRAYTYPE_P(2);
	nn = SfArrayLength(na, "numeric");
	nc = IntArrayLength(ca, "qrgmm_deepfm_train");
	if (st->n_cols == 0)
	{
		if (nn + nc < 1 || nn + nc > DEEPFM_MAX_FIELDS)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("qrgmm_deepfm_train: numeric and categorical must have between 1 and %d elements together, got %d",
							DEEPFM_MAX_FIELDS, nn + nc)));
		SfRowsSetWidth(st, nn + nc, nc);
	}
	else if (nn != st->n_cols - st->n_cat || nc != st->n_cat)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("qrgmm_deepfm_train: a row has %d numeric and %d categorical fields but earlier rows have %d and %d",
						nn, nc, st->n_cols - st->n_cat, st->n_cat)));
	SfGetFeatures(na, nn, row, SF_MISSING_REJECT, "numeric");
	DeepfmGetCategorical(ca, nc, row + nn, "qrgmm_deepfm_train");
	SfRowsAppend(st, row, SfRowsFiniteResponse(st, PG_GETARG_FLOAT8(3)), 1.0, "numeric");
	PG_RETURN_POINTER(st);
}

SF_ROWS_PARALLEL_FUNCTIONS(qrgmm_deepfm_train_serialize, qrgmm_deepfm_train_deserialize, qrgmm_deepfm_train_combine, deepfm_specs);

PG_FUNCTION_INFO_V1(qrgmm_deepfm_train_final);
Datum
qrgmm_deepfm_train_final(PG_FUNCTION_ARGS)
{
	SfRows	   *st;
	deepfm_params params;
	MemoryContext fitcxt;
	MemoryContext old;
	sf_env		env;
	SfProgressState progress;
	deepfm_model *model;
	sf_buf		b;
	bytea	   *result;
	sf_status	fst;
	const char *const *names;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "qrgmm_deepfm_train_final called in non-aggregate context");
	st = PG_ARGISNULL(0) ? NULL : (SfRows *) PG_GETARG_POINTER(0);
	/* params are checked even when there are no rows */
	SfParseParams(st ? st->params : NULL, &deepfm_params_table, &params);
	if (!SfJsonbHasKey(st ? st->params : NULL, "layers"))
		deepfm_params_default_layers(&params);
	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(deepfm_params_check(&env, &params), &env, "qrgmm_deepfm_train");
	if (st == NULL || st->n_rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("qrgmm_deepfm_train: no rows with non-NULL numeric, categorical and y")));
	names = SfFeatureNamesParam(&params.feature_names, st->n_cols, "qrgmm_deepfm_train", "feature_names");

	fitcxt = SfFitBegin(&env, &progress, "qrgmm_deepfm_train", params.verbose, true, &old);
	/* the store's float32 rows as they are: the core sorts them into its own double copy */
	fst = deepfm_fit_f32(&env, &params, (const float *) st->x, st->y, (size_t) st->n_rows,
						 (uint32_t) (st->n_cols - st->n_cat), (uint32_t) st->n_cat, &model);
	SfCheckNoThrow(fst, &env, "qrgmm_deepfm_train");
	SfProgressFinish(&progress);
	sf_buf_init(&b, &env);
	SF_PG_CHECK(deepfm_encode(&env, model, &b), &env, "qrgmm_deepfm_train");
	MemoryContextSwitchTo(old);
	/* the encoder writes no names: added as the common section */
	result = SfBufToByteaWithSections(&env, &b, names, (uint32) st->n_cols, NULL, "qrgmm_deepfm_train");
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(result);
}
