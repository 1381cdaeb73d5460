/*
 * mlp_agg.c
 *	  Training aggregates of the MLP and logistic regression, and the
 *	  partial-dependence aggregate: transition, serialisation, combine and
 *	  final functions.
 *
 * The transition state is the shared row store (sf_rowstore_pg.h): float32
 * rows for the networks, float8 for logistic regression and partial
 * dependence, growing by doubling with huge allocations, so a training set
 * is limited by memory, not by 1 GB.  With a parallel plan the partial
 * states are serialised, combined (rows appended) and trained once in the
 * leader.  The final functions take the rows in the store's canonical order
 * (a hash of their content) as double matrices, so the model bytes do not
 * depend on the scan order or on the plan.
 * Rows whose features or label are NULL are skipped, as avg() skips NULLs.
 * The final functions train in their own memory context ("scfrisk mlp
 * fit"), copy the model bytes out and delete it.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "scfrisk/logreg.h"
#include "scfrisk/mlp.h"
#include "scfrisk/sf_blas.h"
#include "scfrisk/sf_rng.h"
#include "explain_pg.h"
#include "mlp_pg.h"
#include "sf_progress_pg.h"
#include "sf_train_agg.h"
#include "governance_pg.h"

bool
SfJsonbHasKey(Jsonb *jb, const char *key)
{
	JsonbValue	k;

	if (jb == NULL || !JB_ROOT_IS_OBJECT(jb))
		return false;
	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	return findJsonbValueFromContainer(&jb->root, JB_FOBJECT, &k) != NULL;
}

/*
 * Stores of this file.  Networks keep float32 rows (DESIGN.md: float32
 * matrices for networks; the MLP core trains on a float32 copy anyway);
 * logistic regression and partial dependence keep float8 (compared with
 * scikit-learn and statsmodels to tight tolerances).  mlp_train,
 * logreg_train and xgb_mlp_train share one set of serialise, deserialise and
 * combine functions; the spec id in a serialised state tells them apart.
 */
static const SfRowsSpec mlp_rows_spec = {{2, SF_ROWS_FLOAT4, 0, 1, PG_INT32_MAX}, "mlp_train"};
static const SfRowsSpec logreg_rows_spec = {{3, SF_ROWS_FLOAT8, 0, 0, PG_INT32_MAX}, "logreg_train"};
static const SfRowsSpec xgb_mlp_rows_spec = {{4, SF_ROWS_FLOAT4, 0, 1, PG_INT32_MAX}, "xgb_mlp_train"};
static const SfRowsSpec pdp_rows_spec = {{7, SF_ROWS_FLOAT8, 0, 1, PG_INT32_MAX}, "partial_dependence"};

static const SfRowsSpec *const mlp_family_specs[] = {&mlp_rows_spec, &logreg_rows_spec, &xgb_mlp_rows_spec};

/*
 * Append one row: features (NaN for missing unless rejected) and label.
 * The first row fixes the width; the label must be finite.
 */
static SfRows *
RowsAdd(FunctionCallInfo fcinfo, SfRows *st, const SfRowsSpec *spec, ArrayType *feat,
		double label, SfMissingPolicy policy)
{
	MemoryContext aggcxt = SfRowsAggContext(fcinfo, spec->what);
	const char *what = spec->what;
	int			n = SfArrayLength(feat, "features");

	if (isnan(label) || isinf(label))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: label is not finite", what)));
	st = SfTrainRowWidth(aggcxt, st, spec, n);
	SfRowsAppendArray(st, feat, policy, label, 1.0, "features");
	return st;
}

static void
RowsKeepParams(FunctionCallInfo fcinfo, SfRows *st, int argno)
{
	SfRowsKeepParams(st, PG_ARGISNULL(argno) ? NULL : PG_GETARG_JSONB_P(argno));
}

/* Transition of mlp_train, logreg_train and xgb_mlp_train. */
static Datum
RowsTransition(FunctionCallInfo fcinfo, const SfRowsSpec *spec, SfMissingPolicy policy)
{
	SfRows	   *st = PG_ARGISNULL(0) ? NULL : (SfRows *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		SfRowsAggContext(fcinfo, spec->what);
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	st = RowsAdd(fcinfo, st, spec, PG_GETARG_ARRAYTYPE_P(1), PG_GETARG_FLOAT8(2), policy);
	if (PG_NARGS() > 3)
		RowsKeepParams(fcinfo, st, 3);
	PG_RETURN_POINTER(st);
}

/* ------------------------------------------------------------ transitions */

PG_FUNCTION_INFO_V1(mlp_train_sfunc);
Datum
mlp_train_sfunc(PG_FUNCTION_ARGS)
{
	return RowsTransition(fcinfo, &mlp_rows_spec, SF_MISSING_AS_NAN);
}

PG_FUNCTION_INFO_V1(logreg_train_sfunc);
Datum
logreg_train_sfunc(PG_FUNCTION_ARGS)
{
	return RowsTransition(fcinfo, &logreg_rows_spec, SF_MISSING_REJECT);
}

PG_FUNCTION_INFO_V1(xgb_mlp_train_sfunc);
Datum
xgb_mlp_train_sfunc(PG_FUNCTION_ARGS)
{
	return RowsTransition(fcinfo, &xgb_mlp_rows_spec, SF_MISSING_AS_NAN);
}

/* ------------------------------------------------- serialise and combine */

SF_ROWS_PARALLEL_FUNCTIONS(mlp_rows_serialize, mlp_rows_deserialize, mlp_rows_combine, mlp_family_specs);

/* ------------------------------------------------------------ finals */

SfRows *
SfRowsCheck(FunctionCallInfo fcinfo, const char *what)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: no training rows", what),
				 errdetail("Every row had NULL features or a NULL label, or the input was empty.")));
	return (SfRows *) PG_GETARG_POINTER(0);
}

/* Labels 0/1, checked in scan order so the message names the input row. */
void
SfRowsCheckBinary(const SfRows *st, const char *what)
{
	int64		i;

	for (i = 0; i < st->n_rows; i++)
		if (st->y[i] != 0.0 && st->y[i] != 1.0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s: label of row %lld is %g, binary classification needs 0 or 1",
							what, (long long) i + 1, st->y[i]),
					 errdetail("Rows are counted in scan order, skipping rows with NULL features or label.")));
}

/* Parse MLP params from jb, defaulting hidden to [64, 32] when absent. */
void
SfParseMlpParams(Jsonb *jb, mlp_params *p)
{
	sf_env		env;

	SfParseParams(jb, &mlp_params_table, p);
	if (!SfJsonbHasKey(jb, "hidden"))
		mlp_params_default_hidden(p);
	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(mlp_params_check(&env, p), &env, "mlp_train");
}

PG_FUNCTION_INFO_V1(mlp_train_final);
Datum
mlp_train_final(PG_FUNCTION_ARGS)
{
	SfRows	   *st = SfRowsCheck(fcinfo, "mlp_train");
	MemoryContext fitcxt,
				old;
	mlp_params	p;
	mlp_model	m;
	sf_background bg;
	const char *const *names;
	sf_env		env;
	SfProgressState progress;
	sf_buf		b;
	bytea	   *out;
	void	   *x;
	double	   *y;

	SfParseMlpParams(st->params, &p);
	names = SfFeatureNamesParam(&p.feature_names, st->n_cols, "mlp_train", "feature_names");
	SfGovCheckCalibrate(p.calibrate, p.objective == MLP_OBJ_BINARY, "mlp_train");
	if (p.objective == MLP_OBJ_BINARY)
		SfRowsCheckBinary(st, "mlp_train");
	fitcxt = SfFitBegin(&env, &progress, "mlp_train", p.verbose, false, &old);
	/* float32 rows in canonical order: the core standardises them itself */
	SfRowsCanonicalRows(st, &x, &y);
	sf_blas_set_threads(env.threads);
	SF_PG_CHECK(mlp_fit_f32(&env, &p, x, y, (size_t) st->n_rows, st->n_cols, &m), &env, "mlp_train");
	SfProgressFinish(&progress);
	/* the rows explanations are measured against (docs/explain.md) */
	SF_PG_CHECK(sf_background_sample(&env, NULL, x, (size_t) st->n_rows, (uint32_t) st->n_cols,
									 (uint64_t) p.seed, &bg), &env, "mlp_train");
	sf_buf_init(&b, &env);
	SF_PG_CHECK(mlp_encode(&env, &m, &p, names, (uint64_t) st->n_rows, &b), &env, "mlp_train");
	MemoryContextSwitchTo(old);
	out = SfBufToByteaWithSections(&env, &b, NULL, 0, &bg, "mlp_train");
	if (p.calibrate != SF_CALIB_NONE)
	{
		/* folds by mlp_fit on the widened rows (mlp_fit_f32's model) */
		sf_kind_fold fold = {sf_kind_find(SF_KIND_MLP), &p, (uint32) st->n_cols};
		double	   *xd,
				   *yd;

		/* the same rows and order as the float32 copy, widened */
		SfRowsCanonical(st, &xd, &yd, NULL);
		out = SfGovAttachCalibration(out, xd, yd, (size_t) st->n_rows, (uint32) st->n_cols,
									 p.calibrate, p.calibrate_folds, sf_kind_fold_fit, &fold, "mlp_train");
		pfree(xd);
		pfree(yd);
	}
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(SfGovAttachDrift(out, st, "mlp_train"));
}

PG_FUNCTION_INFO_V1(logreg_train_final);
Datum
logreg_train_final(PG_FUNCTION_ARGS)
{
	SfRows	   *st = SfRowsCheck(fcinfo, "logreg_train");
	MemoryContext fitcxt,
				old;
	logreg_params p;
	logreg_model m;
	sf_background bg;
	const char *const *names;
	sf_env		env;
	SfProgressState progress;
	sf_buf		b;
	bytea	   *out;
	double	   *x,
			   *y;

	SfParseParams(st->params, &logreg_params_table, &p);
	names = SfFeatureNamesParam(&p.feature_names, st->n_cols, "logreg_train", "feature_names");
	SfRowsCheckBinary(st, "logreg_train");
	fitcxt = SfFitBegin(&env, &progress, "logreg_train", p.verbose, false, &old);
	SfRowsCanonical(st, &x, &y, NULL);
	SF_PG_CHECK(logreg_fit(&env, &p, x, y, (size_t) st->n_rows, st->n_cols, &m), &env, "logreg_train");
	SfProgressFinish(&progress);
	/* a linear margin is explained against the training means exactly */
	SF_PG_CHECK(sf_background_mean(&env, x, (size_t) st->n_rows, (uint32_t) st->n_cols, &bg),
				&env, "logreg_train");
	sf_buf_init(&b, &env);
	SF_PG_CHECK(logreg_encode(&env, &m, &p, names, (uint64_t) st->n_rows, &b), &env, "logreg_train");
	MemoryContextSwitchTo(old);
	out = SfBufToByteaWithSections(&env, &b, NULL, 0, &bg, "logreg_train");
	{
		sf_kind_fold fold = {sf_kind_find(SF_KIND_LOGREG), &p, (uint32) st->n_cols};

		out = SfGovAttachCalibration(out, x, y, (size_t) st->n_rows, (uint32) st->n_cols,
									 p.calibrate, p.calibrate_folds, sf_kind_fold_fit, &fold,
									 "logreg_train");
	}
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(SfGovAttachDrift(out, st, "logreg_train"));
}

/* ------------------------------------------------- partial dependence */

/*
 * State of partial_dependence: the rows, plus the model, feature and grid
 * of the first row (the aggregate has no parallel support, so this wrapper
 * is never serialised).
 */
typedef struct PdpState
{
	SfRows	   *rows;			/* the feature rows (labels unused, 0) */
	bytea	   *model;			/* the model of the first row */
	struct varlena *model_raw;	/* its argument as passed (maybe a TOAST pointer) */
	struct varlena *grid_raw;	/* likewise the grid's */
	int32		feature;		/* 1-based feature to vary */
	ArrayType  *grid;			/* grid values of the first row */
} PdpState;

/* Same varlena bytes (length and content). */
static bool
SameBytes(const struct varlena *a, const struct varlena *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/* A copy of an argument as passed, when its bytes identify its value: inline
 * (maybe compressed) or an on-disk TOAST pointer (an immutable value), not an
 * in-memory pointer, whose address could be reused by another value. */
static struct varlena *
RawCopy(MemoryContext cxt, Datum d)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	struct varlena *c;

	if (VARATT_IS_EXTERNAL(v) && !VARATT_IS_EXTERNAL_ONDISK(v))
		return NULL;
	c = MemoryContextAlloc(cxt, VARSIZE_ANY(v));
	memcpy(c, v, VARSIZE_ANY(v));
	return c;
}

/* Argument d has the value whose first-row form is raw (or detoasted full). */
static bool
SameArg(Datum d, const struct varlena *raw, const struct varlena *full)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);

	/* the common case, a constant or a TOASTed column value: no detoasting */
	if (raw != NULL && VARSIZE_ANY(v) == VARSIZE_ANY(raw) && memcmp(v, raw, VARSIZE_ANY(v)) == 0)
		return true;
	return SameBytes(pg_detoast_datum_packed(v), full);
}

/*
 * The model, feature and grid of a later row must be the first row's: they
 * are the aggregate's parameters, and the result must not depend on row order.
 */
static void
PdpCheckSameArgs(FunctionCallInfo fcinfo, const PdpState *st)
{
	if (PG_GETARG_INT32(3) != st->feature ||
		!SameArg(PG_GETARG_DATUM(1), st->model_raw, (struct varlena *) st->model) ||
		!SameArg(PG_GETARG_DATUM(4), st->grid_raw, (struct varlena *) st->grid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("partial_dependence: the model, feature or grid differs between rows of one group"),
				 errhint("Pass one model, feature and grid per group (constants or a scalar subquery).")));
}

PG_FUNCTION_INFO_V1(partial_dependence_sfunc);
Datum
partial_dependence_sfunc(PG_FUNCTION_ARGS)
{
	PdpState   *st = PG_ARGISNULL(0) ? NULL : (PdpState *) PG_GETARG_POINTER(0);
	MemoryContext aggcxt = SfRowsAggContext(fcinfo, "partial_dependence");

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	if (st == NULL)
	{
		bytea	   *model = PG_GETARG_BYTEA_PP(1);
		ArrayType  *grid = PG_GETARG_ARRAYTYPE_P(4);
		int			ng = SfArrayLength(grid, "grid");
		double	   *tmp;

		if (ng < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("partial_dependence: grid is an empty array")));
		tmp = palloc(sizeof(double) * ng);
		SfGetFeatures(grid, ng, tmp, SF_MISSING_REJECT, "grid");
		pfree(tmp);
		st = MemoryContextAllocZero(aggcxt, sizeof(PdpState));
		st->rows = RowsAdd(fcinfo, NULL, &pdp_rows_spec, PG_GETARG_ARRAYTYPE_P(2), 0.0,
						   SF_MISSING_AS_NAN);
		st->model_raw = RawCopy(aggcxt, PG_GETARG_DATUM(1));
		st->grid_raw = RawCopy(aggcxt, PG_GETARG_DATUM(4));
		st->model = MemoryContextAlloc(aggcxt, VARSIZE_ANY(model));
		memcpy(st->model, model, VARSIZE_ANY(model));
		st->grid = MemoryContextAlloc(aggcxt, VARSIZE(grid));
		memcpy(st->grid, grid, VARSIZE(grid));
		st->feature = PG_GETARG_INT32(3);
		if (st->feature < 1 || st->feature > st->rows->n_cols)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("partial_dependence: feature %d is out of range 1..%d",
							st->feature, st->rows->n_cols)));
	}
	else
	{
		PdpCheckSameArgs(fcinfo, st);
		RowsAdd(fcinfo, st->rows, &pdp_rows_spec, PG_GETARG_ARRAYTYPE_P(2), 0.0, SF_MISSING_AS_NAN);
	}
	PG_RETURN_POINTER(st);
}

/*
 * Mean of scfrisk.predict(model, x with x[feature] = g) over the rows, for
 * each grid value g (Friedman 2001, eq. 40).  The model is decoded once and
 * scored directly through its kind's row scorer in the table of kinds
 * (src/core/kinds.c), so every kind scfrisk.predict scores is supported.
 */
PG_FUNCTION_INFO_V1(partial_dependence_final);
Datum
partial_dependence_final(PG_FUNCTION_ARGS)
{
	PdpState   *pst;
	const SfRows *st;
	int			ng,
				g;
	int64		i;
	double	   *grid,
			   *mean,
			   *xrow;
	const sf_kind *k;
	sf_container c;
	sf_env		env;
	void	   *model;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	pst = (PdpState *) PG_GETARG_POINTER(0);
	st = pst->rows;
	grid = SfGetFeaturesAlloc(pst->grid, &ng, SF_MISSING_REJECT, "grid");
	mean = palloc0(sizeof(double) * ng);
	xrow = palloc(sizeof(double) * st->n_cols);
	SfContainerFromBytea(pst->model, &c, "partial_dependence");
	if (c.n_features != (uint32) st->n_cols)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("partial_dependence: features has %d elements, the model expects %u",
						st->n_cols, c.n_features)));
	k = SfKindOrError(c.kind, "partial_dependence");
	if (k->predict == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("partial_dependence: models of kind %s have no row scorer", k->name),
				 errhint("Partial dependence averages scfrisk.predict; QRGMM models give curves instead.")));
	if (!k->accepts_missing)
		for (i = 0; i < st->n_rows * st->n_cols; i++)
			if (isnan(((const double *) st->x)[i]))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("partial_dependence: %s models do not accept missing values (row %lld)",
								k->name, (long long) (i / st->n_cols + 1))));

	if (k->float32_inputs)
	{
		SfCheckFloat32Range((const double *) st->x, (size_t) st->n_rows * st->n_cols,
							"partial_dependence", "the rows");
		SfCheckFloat32Range(grid, ng, "partial_dependence", "grid");
	}

	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(k->decode(&env, (const uint8_t *) VARDATA_ANY(pst->model),
						  VARSIZE_ANY_EXHDR(pst->model), &model), &env, "partial_dependence");
	for (g = 0; g < ng; g++)
	{
		double		s = 0.0;

		for (i = 0; i < st->n_rows; i++)
		{
			if ((i & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
			memcpy(xrow, (const double *) st->x + i * st->n_cols, sizeof(double) * st->n_cols);
			xrow[pst->feature - 1] = grid[g];
			s += k->predict(model, xrow);
		}
		mean[g] = s / (double) st->n_rows;
	}
	PG_RETURN_ARRAYTYPE_P(SfMakeFloat8Array(mean, ng));
}
