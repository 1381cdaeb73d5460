/*
 * deepfm_agg.c
 *	  scfrisk.qrgmm_deepfm_train(numeric float8[], categorical int[],
 *	  y float8, params jsonb): the training aggregate of QRGMM DeepFM
 *	  models, with serialise, deserialise and combine functions for parallel
 *	  aggregation.
 *
 * The transition function appends each row as n_numeric + n_categorical
 * doubles (the numeric fields, then the ids) to arrays in the aggregate
 * context: the covariate layout of every generation function.  Rows with a
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
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "scfrisk/deepfm.h"
#include "scfrisk_pg.h"
#include "deepfm_pg.h"
#include "mlp_pg.h"				/* SfJsonbHasKey */

/*
 * Interrupt callback that reports a pending cancel without throwing, so the
 * core frees its state and resets the BLAS thread count before the wrapper
 * processes the interrupt with CHECK_FOR_INTERRUPTS().
 */
static int
DeepfmInterruptNoThrow(void *ctx)
{
	(void) ctx;
	return InterruptPending && (QueryCancelPending || ProcDiePending);
}

typedef struct DeepfmTrainState
{
	int			n_numeric;		/* -1 until the first row */
	int			n_categorical;	/* -1 until the first row */
	int64		n;				/* rows stored */
	int64		cap;			/* rows allocated */
	double	   *X;				/* (cap, F) numeric fields then ids */
	double	   *y;				/* (cap) responses */
	Jsonb	   *params;			/* params of the first row, or NULL */
} DeepfmTrainState;

static inline int
Fields(const DeepfmTrainState *st)
{
	return Max(st->n_numeric, 0) + Max(st->n_categorical, 0);
}

static DeepfmTrainState *
NewState(MemoryContext agg)
{
	DeepfmTrainState *st = MemoryContextAllocZero(agg, sizeof(DeepfmTrainState));

	st->n_numeric = -1;
	st->n_categorical = -1;
	return st;
}

static void
Reserve(MemoryContext agg, DeepfmTrainState *st, int64 more)
{
	int64		need = st->n + more;
	int64		cap;
	Size		F = (Size) Max(Fields(st), 1);

	if (need <= st->cap)
		return;
	if (need > (int64) INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("qrgmm_deepfm_train: more than %d rows", INT32_MAX)));
	cap = Max(need, Max(st->cap * 2, 1024));
	if (st->X == NULL)
	{
		st->X = MemoryContextAllocHuge(agg, sizeof(double) * (Size) cap * F);
		st->y = MemoryContextAllocHuge(agg, sizeof(double) * (Size) cap);
	}
	else
	{
		st->X = repalloc_huge(st->X, sizeof(double) * (Size) cap * F);
		st->y = repalloc_huge(st->y, sizeof(double) * (Size) cap);
	}
	st->cap = cap;
}

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

/* A finite response, else an error. */
static inline double
CheckResponse(double y)
{
	if (isnan(y) || isinf(y))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("qrgmm_deepfm_train: response y is %s", isnan(y) ? "NaN" : "infinite"),
				 errhint("Filter such rows out or replace them before training.")));
	return y;
}

PG_FUNCTION_INFO_V1(qrgmm_deepfm_train_sfunc);
Datum
qrgmm_deepfm_train_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext agg;
	MemoryContext old;
	DeepfmTrainState *st;
	ArrayType  *na;
	ArrayType  *ca;
	int			nn,
				nc;
	double	   *row;

	if (!AggCheckCallContext(fcinfo, &agg))
		elog(ERROR, "qrgmm_deepfm_train_sfunc called in non-aggregate context");
	st = PG_ARGISNULL(0) ? NewState(agg) : (DeepfmTrainState *) PG_GETARG_POINTER(0);
	if (st->params == NULL && !PG_ARGISNULL(4))
	{
		old = MemoryContextSwitchTo(agg);
		st->params = DatumGetJsonbPCopy(PG_GETARG_DATUM(4));
		MemoryContextSwitchTo(old);
	}
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_POINTER(st);
	na = PG_GETARG_ARRAYTYPE_P(1);
	ca = PG_GETARG_ARRAYTYPE_P(2);
	nn = SfArrayLength(na, "numeric");
	nc = IntArrayLength(ca, "qrgmm_deepfm_train");
	if (st->n_numeric < 0)
	{
		if (nn + nc < 1 || nn + nc > DEEPFM_MAX_FIELDS)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("qrgmm_deepfm_train: numeric and categorical must have between 1 and %d elements together, got %d",
							DEEPFM_MAX_FIELDS, nn + nc)));
		st->n_numeric = nn;
		st->n_categorical = nc;
	}
	else if (nn != st->n_numeric || nc != st->n_categorical)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("qrgmm_deepfm_train: a row has %d numeric and %d categorical fields but earlier rows have %d and %d",
						nn, nc, st->n_numeric, st->n_categorical)));
	Reserve(agg, st, 1);
	row = st->X + (Size) st->n * Fields(st);
	SfGetFeatures(na, nn, row, SF_MISSING_REJECT, "numeric");
	DeepfmGetCategorical(ca, nc, row + nn, "qrgmm_deepfm_train");
	st->y[st->n] = CheckResponse(PG_GETARG_FLOAT8(3));
	st->n++;
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(qrgmm_deepfm_train_combine);
Datum
qrgmm_deepfm_train_combine(PG_FUNCTION_ARGS)
{
	MemoryContext agg;
	MemoryContext old;
	DeepfmTrainState *a;
	DeepfmTrainState *b;

	if (!AggCheckCallContext(fcinfo, &agg))
		elog(ERROR, "qrgmm_deepfm_train_combine called in non-aggregate context");
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	b = (DeepfmTrainState *) PG_GETARG_POINTER(1);
	a = PG_ARGISNULL(0) ? NewState(agg) : (DeepfmTrainState *) PG_GETARG_POINTER(0);
	if (a->params == NULL && b->params != NULL)
	{
		old = MemoryContextSwitchTo(agg);
		a->params = (Jsonb *) palloc(VARSIZE(b->params));
		memcpy(a->params, b->params, VARSIZE(b->params));
		MemoryContextSwitchTo(old);
	}
	if (b->n == 0)
		PG_RETURN_POINTER(a);
	if (a->n_numeric < 0)
	{
		a->n_numeric = b->n_numeric;
		a->n_categorical = b->n_categorical;
	}
	else if (a->n_numeric != b->n_numeric || a->n_categorical != b->n_categorical)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("qrgmm_deepfm_train: rows have %d numeric and %d categorical fields in one part and %d and %d in another",
						a->n_numeric, a->n_categorical, b->n_numeric, b->n_categorical)));
	Reserve(agg, a, b->n);
	memcpy(a->X + (Size) a->n * Fields(a), b->X, sizeof(double) * (Size) b->n * Fields(b));
	memcpy(a->y + a->n, b->y, sizeof(double) * (Size) b->n);
	a->n += b->n;
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(qrgmm_deepfm_train_serialize);
Datum
qrgmm_deepfm_train_serialize(PG_FUNCTION_ARGS)
{
	DeepfmTrainState *st = (DeepfmTrainState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	int64		i;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "qrgmm_deepfm_train_serialize called in non-aggregate context");
	pq_begintypsend(&buf);
	pq_sendint32(&buf, st->n_numeric);
	pq_sendint32(&buf, st->n_categorical);
	pq_sendint64(&buf, st->n);
	if (st->params)
	{
		pq_sendint32(&buf, VARSIZE(st->params));
		pq_sendbytes(&buf, (const char *) st->params, VARSIZE(st->params));
	}
	else
		pq_sendint32(&buf, 0);
	for (i = 0; i < st->n * Fields(st); i++)
		pq_sendfloat8(&buf, st->X[i]);
	for (i = 0; i < st->n; i++)
		pq_sendfloat8(&buf, st->y[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(qrgmm_deepfm_train_deserialize);
Datum
qrgmm_deepfm_train_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	MemoryContext agg;
	DeepfmTrainState *st;
	StringInfoData buf;
	int64		n,
				i;
	int			plen;

	if (!AggCheckCallContext(fcinfo, &agg))
		elog(ERROR, "qrgmm_deepfm_train_deserialize called in non-aggregate context");
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
	st = NewState(agg);
	st->n_numeric = pq_getmsgint(&buf, 4);
	st->n_categorical = pq_getmsgint(&buf, 4);
	n = pq_getmsgint64(&buf);
	plen = pq_getmsgint(&buf, 4);
	if (plen > 0)
	{
		st->params = MemoryContextAlloc(agg, plen);
		pq_copymsgbytes(&buf, (char *) st->params, plen);
	}
	if (n > 0)
	{
		Reserve(agg, st, n);
		for (i = 0; i < n * Fields(st); i++)
			st->X[i] = pq_getmsgfloat8(&buf);
		for (i = 0; i < n; i++)
			st->y[i] = pq_getmsgfloat8(&buf);
		st->n = n;
	}
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(qrgmm_deepfm_train_final);
Datum
qrgmm_deepfm_train_final(PG_FUNCTION_ARGS)
{
	DeepfmTrainState *st;
	deepfm_params params;
	MemoryContext fitcxt;
	MemoryContext old;
	sf_env		env;
	deepfm_model *model;
	sf_buf		b;
	bytea	   *result;
	sf_status	fst;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "qrgmm_deepfm_train_final called in non-aggregate context");
	st = PG_ARGISNULL(0) ? NULL : (DeepfmTrainState *) PG_GETARG_POINTER(0);
	/* params are checked even when there are no rows */
	SfParseParams(st ? st->params : NULL, &deepfm_params_table, &params);
	if (!SfJsonbHasKey(st ? st->params : NULL, "layers"))
		deepfm_params_default_layers(&params);
	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(deepfm_params_check(&env, &params), &env, "qrgmm_deepfm_train");
	if (st == NULL || st->n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("qrgmm_deepfm_train: no rows with non-NULL numeric, categorical and y")));

	fitcxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk qrgmm_deepfm fit",
								   ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(fitcxt);
	SfEnvInit(&env, fitcxt);
	env.interrupt.check = DeepfmInterruptNoThrow;
	env.interrupt.ctx = NULL;
	fst = deepfm_fit(&env, &params, st->X, st->y, (size_t) st->n, (uint32_t) st->n_numeric,
					 (uint32_t) st->n_categorical, &model);
	if (fst == SF_ECANCEL)
		CHECK_FOR_INTERRUPTS();
	SF_PG_CHECK(fst, &env, "qrgmm_deepfm_train");
	sf_buf_init(&b, &env);
	SF_PG_CHECK(deepfm_encode(&env, model, &b), &env, "qrgmm_deepfm_train");
	MemoryContextSwitchTo(old);
	result = SfBufToBytea(&b);
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(result);
}
