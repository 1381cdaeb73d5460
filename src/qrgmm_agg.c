/*
 * qrgmm_agg.c
 *	  scfrisk.qrgmm_train(covariates float8[], y float8, params jsonb): the
 *	  training aggregate of linear QRGMM models, with serialise, deserialise
 *	  and combine functions for parallel aggregation.
 *
 * The transition function appends each row to compact double arrays held
 * in the aggregate context (rows with a NULL covariate array or a NULL
 * response are skipped, like NULLs in any aggregate; NULL, NaN or infinite
 * elements and non-finite responses are errors).  The final function parses
 * the params, runs the pure core (src/qrgmm.c) in its own memory context
 * "scfrisk qrgmm fit", and copies the encoded model to the caller's
 * context.  Partial states combine by concatenation in input order, so a
 * parallel plan trains on the same multiset of rows (row order does not
 * change the LP optimum; it may move the interior point's final iterate
 * within the tolerance).
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "scfrisk/qrgmm.h"
#include "scfrisk/sf_blas.h"
#include "scfrisk_pg.h"

/*
 * Interrupt callback for the fit that reports a pending cancel or
 * termination without throwing: the core may be running worker threads,
 * which must be joined before control leaves it (qrgmm_levels.c).  The
 * wrapper processes the interrupt with CHECK_FOR_INTERRUPTS() afterwards.
 */
static int
QrgmmInterruptNoThrow(void *ctx)
{
	(void) ctx;
	return InterruptPending && (QueryCancelPending || ProcDiePending);
}

/* A finite response, else an error naming the function. */
static inline double
CheckResponse(double y)
{
	if (isnan(y) || isinf(y))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("qrgmm_train: response y is %s", isnan(y) ? "NaN" : "infinite"),
				 errhint("Filter such rows out or replace them before training.")));
	return y;
}

/* Transition state: the rows read so far. */
typedef struct QrgmmTrainState
{
	int			d;				/* covariates per row, -1 until the first row */
	int64		n;				/* rows stored */
	int64		cap;			/* rows allocated */
	double	   *X;				/* (cap, d) covariates */
	double	   *y;				/* (cap) responses */
	Jsonb	   *params;			/* params of the first row, or NULL */
} QrgmmTrainState;

static QrgmmTrainState *
NewState(MemoryContext agg)
{
	QrgmmTrainState *st = MemoryContextAllocZero(agg, sizeof(QrgmmTrainState));

	st->d = -1;
	return st;
}

/* Make room for 'more' rows. */
static void
Reserve(MemoryContext agg, QrgmmTrainState *st, int64 more)
{
	int64		need = st->n + more;
	int64		cap;

	if (need <= st->cap)
		return;
	if (need > (int64) INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("qrgmm_train: more than %d rows", INT32_MAX)));
	cap = Max(need, Max(st->cap * 2, 1024));
	if (st->X == NULL)
	{
		st->X = MemoryContextAllocHuge(agg, sizeof(double) * (Size) cap * Max(st->d, 1));
		st->y = MemoryContextAllocHuge(agg, sizeof(double) * (Size) cap);
	}
	else
	{
		st->X = repalloc_huge(st->X, sizeof(double) * (Size) cap * Max(st->d, 1));
		st->y = repalloc_huge(st->y, sizeof(double) * (Size) cap);
	}
	st->cap = cap;
}

PG_FUNCTION_INFO_V1(qrgmm_train_sfunc);
Datum
qrgmm_train_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext agg;
	MemoryContext old;
	QrgmmTrainState *st;
	ArrayType  *xa;
	int			len;

	if (!AggCheckCallContext(fcinfo, &agg))
		elog(ERROR, "qrgmm_train_sfunc called in non-aggregate context");
	st = PG_ARGISNULL(0) ? NewState(agg) : (QrgmmTrainState *) PG_GETARG_POINTER(0);
	if (st->params == NULL && !PG_ARGISNULL(3))
	{
		old = MemoryContextSwitchTo(agg);
		st->params = DatumGetJsonbPCopy(PG_GETARG_DATUM(3));
		MemoryContextSwitchTo(old);
	}
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);
	xa = PG_GETARG_ARRAYTYPE_P(1);
	len = SfArrayLength(xa, "covariates");
	if (st->d < 0)
	{
		if (len < 1 || len > QRGMM_MAX_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("qrgmm_train: covariates must have between 1 and %d elements, got %d",
							QRGMM_MAX_FEATURES, len)));
		st->d = len;
	}
	else if (len != st->d)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("qrgmm_train: covariates has %d elements but earlier rows have %d",
						len, st->d)));
	Reserve(agg, st, 1);
	SfGetFeatures(xa, st->d, st->X + (Size) st->n * st->d, SF_MISSING_REJECT, "covariates");
	st->y[st->n] = CheckResponse(PG_GETARG_FLOAT8(2));
	st->n++;
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(qrgmm_train_combine);
Datum
qrgmm_train_combine(PG_FUNCTION_ARGS)
{
	MemoryContext agg;
	MemoryContext old;
	QrgmmTrainState *a;
	QrgmmTrainState *b;

	if (!AggCheckCallContext(fcinfo, &agg))
		elog(ERROR, "qrgmm_train_combine called in non-aggregate context");
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	b = (QrgmmTrainState *) PG_GETARG_POINTER(1);
	a = PG_ARGISNULL(0) ? NewState(agg) : (QrgmmTrainState *) PG_GETARG_POINTER(0);
	if (a->params == NULL && b->params != NULL)
	{
		old = MemoryContextSwitchTo(agg);
		a->params = (Jsonb *) palloc(VARSIZE(b->params));
		memcpy(a->params, b->params, VARSIZE(b->params));
		MemoryContextSwitchTo(old);
	}
	if (b->n == 0)
		PG_RETURN_POINTER(a);
	if (a->d < 0)
		a->d = b->d;
	else if (a->d != b->d)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("qrgmm_train: covariates have %d elements in one part and %d in another",
						a->d, b->d)));
	Reserve(agg, a, b->n);
	memcpy(a->X + (Size) a->n * a->d, b->X, sizeof(double) * (Size) b->n * b->d);
	memcpy(a->y + a->n, b->y, sizeof(double) * (Size) b->n);
	a->n += b->n;
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(qrgmm_train_serialize);
Datum
qrgmm_train_serialize(PG_FUNCTION_ARGS)
{
	QrgmmTrainState *st = (QrgmmTrainState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	int64		i;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "qrgmm_train_serialize called in non-aggregate context");
	pq_begintypsend(&buf);
	pq_sendint32(&buf, st->d);
	pq_sendint64(&buf, st->n);
	if (st->params)
	{
		pq_sendint32(&buf, VARSIZE(st->params));
		pq_sendbytes(&buf, (const char *) st->params, VARSIZE(st->params));
	}
	else
		pq_sendint32(&buf, 0);
	for (i = 0; i < st->n * Max(st->d, 0); i++)
		pq_sendfloat8(&buf, st->X[i]);
	for (i = 0; i < st->n; i++)
		pq_sendfloat8(&buf, st->y[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(qrgmm_train_deserialize);
Datum
qrgmm_train_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	MemoryContext agg;
	QrgmmTrainState *st;
	StringInfoData buf;
	int64		n,
				i;
	int			plen;

	if (!AggCheckCallContext(fcinfo, &agg))
		elog(ERROR, "qrgmm_train_deserialize called in non-aggregate context");
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
	st = NewState(agg);
	st->d = pq_getmsgint(&buf, 4);
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
		for (i = 0; i < n * st->d; i++)
			st->X[i] = pq_getmsgfloat8(&buf);
		for (i = 0; i < n; i++)
			st->y[i] = pq_getmsgfloat8(&buf);
		st->n = n;
	}
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(qrgmm_train_final);
Datum
qrgmm_train_final(PG_FUNCTION_ARGS)
{
	QrgmmTrainState *st;
	sf_qrgmm_params params;
	MemoryContext fitcxt;
	MemoryContext old;
	sf_env		env;
	sf_qrgmm_model *model;
	sf_buf		b;
	bytea	   *result;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "qrgmm_train_final called in non-aggregate context");
	st = PG_ARGISNULL(0) ? NULL : (QrgmmTrainState *) PG_GETARG_POINTER(0);
	/* params are checked even when there are no rows */
	SfParseParams(st ? st->params : NULL, &sf_qrgmm_param_table, &params);
	if (st == NULL || st->n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("qrgmm_train: no rows with non-NULL covariates and y")));

	fitcxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk qrgmm fit",
								   ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(fitcxt);
	SfEnvInit(&env, fitcxt);
	env.interrupt.check = QrgmmInterruptNoThrow;
	env.interrupt.ctx = NULL;

	/*
	 * Parallelism comes from the level threads (scfrisk.threads); BLAS runs
	 * single-threaded so the reduction order, and so the model bytes, do not
	 * depend on the thread count.
	 */
	sf_blas_set_threads(1);
	{
		sf_status	fst = sf_qrgmm_fit(&env, &params, st->X, st->y, (size_t) st->n,
									   (uint32_t) st->d, &model);

		if (fst == SF_ECANCEL)
			CHECK_FOR_INTERRUPTS();
		SF_PG_CHECK(fst, &env, "qrgmm_train");
	}
	sf_buf_init(&b, &env);
	SF_PG_CHECK(sf_qrgmm_encode(&env, model, &b), &env, "qrgmm_train");
	MemoryContextSwitchTo(old);
	result = SfBufToBytea(&b);
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(result);
}
