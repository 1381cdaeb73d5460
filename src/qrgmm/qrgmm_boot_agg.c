/*
 * qrgmm_boot_agg.c
 *	  scfrisk.qrgmm_bootstrap(covariates float8[], y float8, params jsonb
 *	  [, replicates int [, seed int]]): bootstrap replicates of qrgmm_train,
 *	  a bytea[] of ordinary qrgmm_linear models (docs/risk.md).
 *
 * Rows go to the float8 row store as in qrgmm_train (the same checks and
 * messages); replicates and seed live in a thin wrapper state and must be
 * the same on every row (22023), like the params.  The aggregate has no
 * combine function (the wrapper is never serialised), so it runs in the
 * leader; the fits are the expensive part and use the level threads.  The
 * final function takes the rows in the store's canonical order, so the
 * replicates depend on the rows, params, replicates and seed only.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "scfrisk/sf_bootstrap.h"
#include "scfrisk/sf_blas.h"
#include "scfrisk_pg.h"
#include "explain_pg.h"
#include "sf_rowstore_pg.h"

typedef struct QrgmmBootState
{
	SfRows	   *rows;
	int32		replicates;
	int32		seed;
} QrgmmBootState;

static const SfRowsSpec boot_rows_spec = {{30, SF_ROWS_FLOAT8, 0, 0, QRGMM_MAX_FEATURES}, "qrgmm_bootstrap"};

/* See qrgmm_agg.c: the fit may run worker threads, so the callback never throws. */
static int
BootInterruptNoThrow(void *ctx)
{
	(void) ctx;
	return InterruptPending && (QueryCancelPending || ProcDiePending);
}

/* Argument argno as an int, its default when absent; NULL is an error. */
static int32
IntArg(FunctionCallInfo fcinfo, int argno, int32 dflt, const char *name)
{
	if (PG_NARGS() <= argno)
		return dflt;
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("qrgmm_bootstrap: %s must not be NULL", name)));
	return PG_GETARG_INT32(argno);
}

PG_FUNCTION_INFO_V1(qrgmm_bootstrap_sfunc);
Datum
qrgmm_bootstrap_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext agg = SfRowsAggContext(fcinfo, "qrgmm_bootstrap_sfunc");
	QrgmmBootState *st;
	int32		reps = IntArg(fcinfo, 4, SF_BOOT_DEFAULT_REPLICATES, "replicates");
	int32		seed = IntArg(fcinfo, 5, 0, "seed");
	ArrayType  *xa;
	int			len;

	if (PG_ARGISNULL(0))
	{
		if (reps < SF_BOOT_MIN_REPLICATES || reps > SF_BOOT_MAX_REPLICATES)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("qrgmm_bootstrap: replicates must be between %d and %d, got %d",
							SF_BOOT_MIN_REPLICATES, SF_BOOT_MAX_REPLICATES, reps)));
		st = MemoryContextAllocZero(agg, sizeof(QrgmmBootState));
		st->rows = SfRowsNew(agg, &boot_rows_spec);
		st->replicates = reps;
		st->seed = seed;
	}
	else
	{
		st = (QrgmmBootState *) PG_GETARG_POINTER(0);
		if (reps != st->replicates || seed != st->seed)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("qrgmm_bootstrap: replicates and seed must be the same on every row"),
					 errdetail("The first row had replicates %d and seed %d, this one %d and %d.",
							   st->replicates, st->seed, reps, seed)));
	}
	SfRowsKeepParams(st->rows, PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);
	xa = PG_GETARG_ARRAYTYPE_P(1);
	len = SfArrayLength(xa, "covariates");
	if (st->rows->n_cols == 0)
	{
		if (len < 1 || len > QRGMM_MAX_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("qrgmm_bootstrap: covariates must have between 1 and %d elements, got %d",
							QRGMM_MAX_FEATURES, len)));
		SfRowsSetWidth(st->rows, len, 0);
	}
	else if (len != st->rows->n_cols)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("qrgmm_bootstrap: covariates has %d elements but earlier rows have %d",
						len, st->rows->n_cols)));
	SfRowsAppendArray(st->rows, xa, SF_MISSING_REJECT,
					  SfRowsFiniteResponse(st->rows, PG_GETARG_FLOAT8(2)), 1.0, "covariates");
	PG_RETURN_POINTER(st);
}

/* Fit replicate r in its own context and return its model bytes in 'into'. */
static bytea *
FitReplicate(const sf_qrgmm_params *params, const double *x, const double *y, SfRows *rows,
			 uint64 seed, int r, const char *const *names, MemoryContext into)
{
	MemoryContext fitcxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk qrgmm bootstrap fit",
												 ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(fitcxt);
	sf_env		env;
	sf_qrgmm_model *model;
	sf_status	fst;
	sf_buf		b;
	bytea	   *result;
	char		what[64];

	snprintf(what, sizeof(what), "qrgmm_bootstrap (replicate %d)", r + 1);
	SfEnvInit(&env, fitcxt);
	env.interrupt.check = BootInterruptNoThrow;
	env.interrupt.ctx = NULL;
	fst = sf_qrgmm_boot_fit(&env, params, x, y, (size_t) rows->n_rows, (uint32_t) rows->n_cols,
							seed, (uint32_t) r, &model);
	if (fst == SF_ECANCEL)
		CHECK_FOR_INTERRUPTS();
	SF_PG_CHECK(fst, &env, what);
	sf_buf_init(&b, &env);
	SF_PG_CHECK(sf_qrgmm_encode(&env, model, &b), &env, what);
	MemoryContextSwitchTo(into);
	result = SfBufToByteaWithSections(&env, &b, names, (uint32) rows->n_cols, NULL, what);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(fitcxt);
	return result;
}

PG_FUNCTION_INFO_V1(qrgmm_bootstrap_final);
Datum
qrgmm_bootstrap_final(PG_FUNCTION_ARGS)
{
	QrgmmBootState *st;
	sf_qrgmm_params params;
	const char *const *names;
	void	   *x;
	double	   *y;
	Datum	   *models;
	int			r;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "qrgmm_bootstrap_final called in non-aggregate context");
	st = PG_ARGISNULL(0) ? NULL : (QrgmmBootState *) PG_GETARG_POINTER(0);
	SfParseParams(st ? st->rows->params : NULL, &sf_qrgmm_param_table, &params);
	if (st == NULL || st->rows->n_rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("qrgmm_bootstrap: no rows with non-NULL covariates and y")));
	names = SfFeatureNamesParam(&params.feature_names, st->rows->n_cols, "qrgmm_bootstrap",
								"feature_names");
	params.verbose = 0;
	/* BLAS single-threaded: the bytes must not depend on the thread count (qrgmm_agg.c) */
	sf_blas_set_threads(1);
	SfRowsCanonicalRows(st->rows, &x, &y);
	models = palloc(sizeof(Datum) * st->replicates);
	for (r = 0; r < st->replicates; r++)
	{
		CHECK_FOR_INTERRUPTS();
		models[r] = PointerGetDatum(FitReplicate(&params, (const double *) x, y, st->rows,
												 (uint64) (int64) st->seed, r, names,
												 CurrentMemoryContext));
	}
	pfree(x);
	pfree(y);
	PG_RETURN_ARRAYTYPE_P(construct_array(models, st->replicates, BYTEAOID, -1, false,
										  TYPALIGN_INT));
}
