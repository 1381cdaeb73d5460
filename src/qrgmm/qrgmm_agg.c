/*
 * qrgmm_agg.c
 *	  scfrisk.qrgmm_train(covariates float8[], y float8, params jsonb): the
 *	  training aggregate of linear QRGMM models, with serialise, deserialise
 *	  and combine functions for parallel aggregation.
 *
 * The transition function appends each row to the shared float8 row store
 * (sf_rowstore_pg.h) in the aggregate context (rows with a NULL covariate array or a NULL
 * response are skipped, like NULLs in any aggregate; NULL, NaN or infinite
 * elements and non-finite responses are errors).  The final function parses
 * the params, runs the pure core (src/qrgmm/qrgmm.c) in its own memory context
 * "scfrisk qrgmm fit", and copies the encoded model to the caller's
 * context.  Partial states combine by concatenation, so a parallel plan
 * holds the same multiset of rows in another order; the fit reads them in
 * the store's canonical order, because the interior point's final iterate
 * (within its tolerance) and the preprocessing subsample depend on row
 * order, and the model bytes must not depend on the plan.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "scfrisk/qrgmm.h"
#include "scfrisk/sf_blas.h"
#include "scfrisk_pg.h"
#include "explain_pg.h"
#include "sf_rowstore_pg.h"
#include "sf_progress_pg.h"
#include "sf_train_agg.h"

/*
 * The store: float8 covariates (the linear quantile regressions are compared
 * with statsmodels to tight tolerances), no missing values.  The state
 * exists from the first call, even before a non-NULL row, so the final
 * function checks params given only with NULL rows.
 */
static const SfRowsSpec qrgmm_rows_spec = {{5, SF_ROWS_FLOAT8, 0, 0, QRGMM_MAX_FEATURES}, "qrgmm_train"};
static const SfRowsSpec *const qrgmm_specs[] = {&qrgmm_rows_spec};

PG_FUNCTION_INFO_V1(qrgmm_train_sfunc);
Datum
qrgmm_train_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext agg = SfRowsAggContext(fcinfo, "qrgmm_train_sfunc");
	SfRows	   *st;
	ArrayType  *xa;
	int			len;

	st = PG_ARGISNULL(0) ? SfRowsNew(agg, &qrgmm_rows_spec) : (SfRows *) PG_GETARG_POINTER(0);
	SfRowsKeepParams(st, PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);
	xa = PG_GETARG_ARRAYTYPE_P(1);
	len = SfArrayLength(xa, "covariates");
	if (st->n_cols == 0)
	{
		if (len < 1 || len > QRGMM_MAX_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("qrgmm_train: covariates must have between 1 and %d elements, got %d",
							QRGMM_MAX_FEATURES, len)));
		SfRowsSetWidth(st, len, 0);
	}
	else if (len != st->n_cols)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("qrgmm_train: covariates has %d elements but earlier rows have %d",
						len, st->n_cols)));
	SfRowsAppendArray(st, xa, SF_MISSING_REJECT, SfRowsFiniteResponse(st, PG_GETARG_FLOAT8(2)), 1.0, "covariates");
	PG_RETURN_POINTER(st);
}

SF_ROWS_PARALLEL_FUNCTIONS(qrgmm_train_serialize, qrgmm_train_deserialize, qrgmm_train_combine, qrgmm_specs);

PG_FUNCTION_INFO_V1(qrgmm_train_final);
Datum
qrgmm_train_final(PG_FUNCTION_ARGS)
{
	SfRows	   *st;
	sf_qrgmm_params params;
	MemoryContext fitcxt;
	MemoryContext old;
	sf_env		env;
	SfProgressState progress;
	sf_qrgmm_model *model;
	sf_buf		b;
	bytea	   *result;
	const char *const *names;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "qrgmm_train_final called in non-aggregate context");
	st = PG_ARGISNULL(0) ? NULL : (SfRows *) PG_GETARG_POINTER(0);
	/* params are checked even when there are no rows */
	SfParseParams(st ? st->params : NULL, &sf_qrgmm_param_table, &params);
	if (st == NULL || st->n_rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("qrgmm_train: no rows with non-NULL covariates and y")));
	names = SfFeatureNamesParam(&params.feature_names, st->n_cols, "qrgmm_train", "feature_names");

	fitcxt = SfFitBegin(&env, &progress, "qrgmm_train", params.verbose, true, &old);

	/*
	 * Parallelism comes from the level threads (scfrisk.threads); BLAS runs
	 * single-threaded so the reduction order, and so the model bytes, do not
	 * depend on the thread count.
	 */
	sf_blas_set_threads(1);
	{
		void	   *x;
		double	   *y;
		sf_status	fst;

		/* a float8 store's rows are the (n, d) double matrix the core takes */
		SfRowsCanonicalRows(st, &x, &y);
		fst = sf_qrgmm_fit(&env, &params, (const double *) x, y, (size_t) st->n_rows,
						   (uint32_t) st->n_cols, &model);

		SfCheckNoThrow(fst, &env, "qrgmm_train");
		SfProgressFinish(&progress);
	}
	sf_buf_init(&b, &env);
	SF_PG_CHECK(sf_qrgmm_encode(&env, model, &b), &env, "qrgmm_train");
	MemoryContextSwitchTo(old);
	/* the encoder writes no names: added as the common section */
	result = SfBufToByteaWithSections(&env, &b, names, (uint32) st->n_cols, NULL, "qrgmm_train");
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(result);
}
