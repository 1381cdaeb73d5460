/*
 * train_agg.c
 *	  Shared steps of the baselines' training aggregates (sf_train_agg.h):
 *	  one transition function and the start and end of a final function, so
 *	  tree_train, rf_train, nb_train, svm_train and knn_train differ only in
 *	  their row spec and their core's fit and encode calls.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "scfrisk/sf_kinds.h"
#include "sf_train_agg.h"
#include "sf_progress_pg.h"
#include "governance_pg.h"

SfRows *
SfTrainRowWidth(MemoryContext aggcxt, SfRows *st, const SfRowsSpec *spec, int n)
{
	const char *what = spec->what;

	if (st == NULL)
	{
		if (n < 1)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s: features is an empty array", what)));
		if (n > spec->kind.max_cols)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("%s: features has %d elements, at most %d are supported",
							what, n, (int) spec->kind.max_cols)));
		st = SfRowsNew(aggcxt, spec);
		SfRowsSetWidth(st, n, 0);
	}
	else if (n != st->n_cols)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: features has %d elements, expected %d", what, n, st->n_cols),
				 errdetail("Every row must have the width of the first row.")));
	return st;
}

ArrayType *
SfTrainRowBegin(FunctionCallInfo fcinfo, MemoryContext aggcxt, SfRows **st, const SfRowsSpec *spec,
				double *label)
{
	ArrayType  *feat;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return NULL;
	feat = PG_GETARG_ARRAYTYPE_P(1);
	*label = PG_GETARG_FLOAT8(2);
	if (!isfinite(*label))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: label is not finite (%g)", spec->what, *label)));
	*st = SfTrainRowWidth(aggcxt, *st, spec, SfArrayLength(feat, "features"));
	return feat;
}

Datum
SfTrainTransition(FunctionCallInfo fcinfo, const SfRowsSpec *spec, int64 max_rows,
				  const char *max_rows_hint)
{
	const char *what = spec->what;
	MemoryContext aggcxt = SfRowsAggContext(fcinfo, what);
	SfRows	   *st = PG_ARGISNULL(0) ? NULL : (SfRows *) PG_GETARG_POINTER(0);
	double		label;
	ArrayType  *feat = SfTrainRowBegin(fcinfo, aggcxt, &st, spec, &label);

	if (feat == NULL)
	{
		/* a skipped row: the state as it was */
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	if (max_rows > 0 && st->n_rows >= max_rows)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s: a model of this kind holds its training rows, at most " INT64_FORMAT,
						what, max_rows),
				 max_rows_hint ? errhint("%s", max_rows_hint) : 0));
	if (st->params == NULL && !PG_ARGISNULL(3))
		SfRowsKeepParams(st, PG_GETARG_JSONB_P(3));
	SfRowsAppendArray(st, feat, spec->kind.missing_ok ? SF_MISSING_AS_NAN : SF_MISSING_REJECT,
					  label, 1.0, "features");
	PG_FREE_IF_COPY(feat, 1);
	PG_RETURN_POINTER(st);
}

void
SfTrainStart(FunctionCallInfo fcinfo, const char *what, const sf_param_table *table, void *params,
			 SfTrainRows *tr)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: no training rows", what),
				 errdetail("Every row had NULL features or label, or the input was empty.")));
	tr->st = (SfRows *) PG_GETARG_POINTER(0);
	tr->fitcxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk baseline fit",
									   ALLOCSET_DEFAULT_SIZES);
	tr->old = MemoryContextSwitchTo(tr->fitcxt);
	SfParseParams(tr->st->params, table, params);
	SfRowsCanonical(tr->st, &tr->x, &tr->y, NULL);
}

const char *const *
SfTrainNames(const sf_str_list *names, const SfTrainRows *tr, const char *what)
{
	if (names->n == 0)
		return NULL;
	if (names->n != tr->st->n_cols)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: feature_names has %d names, features has %d elements",
						what, names->n, tr->st->n_cols)));
	return (const char *const *) names->v;
}

void *
SfTrainFit(SfTrainRows *tr, sf_env *env, uint16 kind, const void *params, bool verbose,
		   const char *what)
{
	const sf_kind *k = sf_kind_find(kind);
	SfProgressState progress;
	void	   *m;

	Assert(k != NULL && k->fit != NULL);
	SfEnvInit(env, tr->fitcxt);
	SfProgressStart(env, &progress, what, verbose);
	SF_PG_CHECK(k->fit(env, params, tr->x, tr->y, (size_t) tr->st->n_rows, (uint32_t) tr->st->n_cols, &m),
				env, what);
	SfProgressFinish(&progress);
	return m;
}

/* The int of a flag of a params struct, by its key in the table (0 when the table has none). */
static int
ParamFlag(const sf_param_table *table, const void *params, const char *key)
{
	const sf_param_spec *s = sf_params_find(table, key, strlen(key));

	return s != NULL && s->type == SF_PT_BOOL ? *(const int *) ((const char *) params + s->offset) : 0;
}

void *
SfTrainKind(FunctionCallInfo fcinfo, uint16 kind, const char *what, void *params,
			SfTrainRows *tr, sf_env *env, sf_buf *b)
{
	const sf_kind *k = sf_kind_find(kind);
	const sf_param_spec *names;
	void	   *m;

	if (k == NULL || k->encode == NULL || k->params == NULL)
		elog(ERROR, "%s: kind %u has no encoder in the table of kinds", what, (unsigned) kind);
	names = sf_params_find(k->params, "feature_names", strlen("feature_names"));
	memset(params, 0, k->params_size);
	SfTrainStart(fcinfo, what, k->params, params, tr);
	m = SfTrainFit(tr, env, kind, params, ParamFlag(k->params, params, "verbose") != 0, what);
	sf_buf_init(b, env);
	SF_PG_CHECK(k->encode(env, m, params,
						  names != NULL && names->type == SF_PT_STR_LIST ?
						  SfTrainNames((const sf_str_list *) ((const char *) params + names->offset), tr, what) :
						  NULL, b), env, what);
	return m;
}

bytea *
SfTrainFinish(SfTrainRows *tr, const sf_buf *b)
{
	bytea	   *out;

	MemoryContextSwitchTo(tr->old);
	out = SfBufToBytea(b);
	MemoryContextDelete(tr->fitcxt);
	return out;
}

bytea *
SfTrainFinishCalibrated(SfTrainRows *tr, const sf_buf *b, int method, int folds,
						sf_calib_fold_fn fit, void *ctx, const char *what)
{
	bytea	   *out;

	MemoryContextSwitchTo(tr->old);
	out = SfBufToBytea(b);
	/* the rows live in the fit context until it goes */
	out = SfGovAttachCalibration(out, tr->x, tr->y, (size_t) tr->st->n_rows, (uint32) tr->st->n_cols,
								 method, folds, fit, ctx, what);
	MemoryContextDelete(tr->fitcxt);
	return out;
}

bytea *
SfTrainFinishKind(SfTrainRows *tr, const sf_buf *b, uint16 kind, const void *params, int method,
				  int folds, const char *what)
{
	sf_kind_fold fold = {sf_kind_find(kind), params, (uint32_t) tr->st->n_cols};

	return SfTrainFinishCalibrated(tr, b, method, folds, sf_kind_fold_fit, &fold, what);
}
