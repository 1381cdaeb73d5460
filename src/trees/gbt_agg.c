/*
 * gbt_agg.c
 *	  The training aggregate scfrisk.xgb_train(features, label [, weight],
 *	  params): transition, serialisation, combine and final functions.
 *
 * The state is the shared row store (sf_rowstore_pg.h) in the aggregate
 * memory context: features as float32 (the trees compare float32 values, as
 * XGBoost does, so nothing the model can see is lost), label and weight as
 * float8, grown by doubling with huge allocations so a training set may pass
 * 1 GB.  Rows whose features, label or weight are NULL are skipped, as avg()
 * skips NULLs; NULL or NaN feature elements are missing values.  With a
 * parallel plan the partial states are serialised, appended by the combine
 * function and trained once in the leader.  The final function sorts the
 * rows into a canonical order (by a hash of their content, ties by bytes)
 * before training, so the model bytes depend neither on the scan order nor
 * on the plan.  Training runs in its own memory context ("scfrisk gbt fit"),
 * deleted once the model bytes are copied out.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "scfrisk/gbt.h"
#include "gbt_int.h"
#include "scfrisk_pg.h"
#include "governance_pg.h"
#include "sf_rowstore_pg.h"

/*
 * The store: float32 features (the trees compare float32 values, as XGBoost
 * does, so nothing the model can see is lost), a weight column (1 for the
 * unweighted form, so both forms hash and sort rows alike).
 */
static const SfRowsSpec gbt_rows_spec = {{1, SF_ROWS_FLOAT4, 1, 1, GBT_MAX_FEATURES}, "xgb_train"};
static const SfRowsSpec *const gbt_specs[] = {&gbt_rows_spec};

/*
 * Transition: xgb_train_sfunc(state, features, label, params) and
 * xgb_train_w_sfunc(state, features, label, weight, params).
 */
static Datum
TrainTransition(FunctionCallInfo fcinfo, bool weighted)
{
	MemoryContext aggcxt = SfRowsAggContext(fcinfo, "xgb_train");
	SfRows	   *st = PG_ARGISNULL(0) ? NULL : (SfRows *) PG_GETARG_POINTER(0);
	int			pargno = weighted ? 4 : 3;
	ArrayType  *feat;
	double		label,
				weight = 1.0;
	int			n;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || (weighted && PG_ARGISNULL(3)))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	feat = PG_GETARG_ARRAYTYPE_P(1);
	label = PG_GETARG_FLOAT8(2);
	if (isnan(label) || isinf(label))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("xgb_train: label is not finite (%g)", label)));
	if (weighted)
	{
		weight = PG_GETARG_FLOAT8(3);
		if (!isfinite(weight) || weight < 0.0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("xgb_train: weight must be finite and non-negative, got %g", weight)));
	}
	n = SfArrayLength(feat, "features");
	if (st == NULL)
	{
		if (n < 1)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("xgb_train: features is an empty array")));
		if (n > GBT_MAX_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("xgb_train: features has %d elements, at most %d are supported",
							n, GBT_MAX_FEATURES)));
		st = SfRowsNew(aggcxt, &gbt_rows_spec);
		SfRowsSetWidth(st, n, 0);
	}
	else if (n != st->n_cols)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("xgb_train: features has %d elements, expected %d", n, st->n_cols),
				 errdetail("Every row must have the width of the first row.")));
	SfRowsKeepParams(st, PG_ARGISNULL(pargno) ? NULL : PG_GETARG_JSONB_P(pargno));
	SfRowsAppendArray(st, feat, SF_MISSING_AS_NAN, label, weight, "features");
	PG_FREE_IF_COPY(feat, 1);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(xgb_train_sfunc);
Datum
xgb_train_sfunc(PG_FUNCTION_ARGS)
{
	return TrainTransition(fcinfo, false);
}

PG_FUNCTION_INFO_V1(xgb_train_w_sfunc);
Datum
xgb_train_w_sfunc(PG_FUNCTION_ARGS)
{
	return TrainTransition(fcinfo, true);
}

/* ------------------------------------------------- serialise and combine */

PG_FUNCTION_INFO_V1(xgb_rows_serialize);
Datum
xgb_rows_serialize(PG_FUNCTION_ARGS)
{
	return SfRowsSerializeFn(fcinfo, "xgb_rows_serialize");
}

PG_FUNCTION_INFO_V1(xgb_rows_deserialize);
Datum
xgb_rows_deserialize(PG_FUNCTION_ARGS)
{
	return SfRowsDeserializeFn(fcinfo, gbt_specs, lengthof(gbt_specs));
}

PG_FUNCTION_INFO_V1(xgb_rows_combine);
Datum
xgb_rows_combine(PG_FUNCTION_ARGS)
{
	return SfRowsCombineFn(fcinfo, "xgb_rows_combine");
}

/* ------------------------------------------------------------ final */

/* True when every weight is 1: the core then runs its unweighted path. */
static bool
AllUnitWeights(const SfRows *st)
{
	int64		i;

	for (i = 0; i < st->n_rows; i++)
		if (st->w[i] != 1.0)
			return false;
	return true;
}

typedef struct GbtProgressCtx
{
	instr_time	start;
} GbtProgressCtx;

/* NOTICE every verbose_every rounds; called by the core from this thread. */
static void
GbtProgress(void *ctx, const gbt_progress *pr)
{
	GbtProgressCtx *pc = ctx;
	instr_time	now;
	char		tr[32],
				va[32];

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, pc->start);
	if (isnan(pr->train))
		snprintf(tr, sizeof(tr), "-");
	else
		snprintf(tr, sizeof(tr), "%.6f", pr->train);
	if (isnan(pr->valid))
		snprintf(va, sizeof(va), "-");
	else
		snprintf(va, sizeof(va), "%.6f", pr->valid);
	ereport(NOTICE,
			(errmsg("xgb_train: round %d/%d train-%s %s valid-%s %s elapsed %.2f s",
					pr->round, pr->n_rounds, pr->metric, tr, pr->metric, va,
					INSTR_TIME_GET_DOUBLE(now))));
}

/*
 * The drift section from what the trainer kept (gbt_train_rows): every
 * row's score, bit for bit what the model's scorer gives, and each
 * feature's rows per bin code, so the section needs no second pass of the
 * model over the rows.  Without them (early stopping holds rows out of
 * training) the rows are scored again.
 */
static bytea *
AttachDriftKept(bytea *model, const SfRows *st, const gbt_train_rows *kept)
{
	sf_dist_codes *codes;
	uint32		j;

	if (kept->score == NULL || kept->n != (size_t) st->n_rows || kept->p != (uint32) st->n_cols)
		return SfGovAttachDrift(model, st, "xgb_train");
	codes = palloc(sizeof(sf_dist_codes) * kept->p);
	for (j = 0; j < kept->p; j++)
	{
		codes[j].n_codes = kept->n_bins[j];
		codes[j].upper = kept->cuts + kept->off[j];
		codes[j].lower = kept->min_val[j];
		codes[j].count = kept->count + kept->off[j];
		codes[j].missing = kept->count[kept->off[j] + kept->n_bins[j]];
	}
	model = SfGovAttachDriftCoded(model, st, kept->score, codes, "xgb_train");
	pfree(codes);
	return model;
}

PG_FUNCTION_INFO_V1(xgb_train_final);
Datum
xgb_train_final(PG_FUNCTION_ARGS)
{
	SfRows	   *st;
	MemoryContext fitcxt,
				old;
	gbt_params	p;
	gbt_model  *m;
	sf_env		env;
	sf_buf		b;
	bytea	   *out;
	double	   *x,
			   *y,
			   *w;
	GbtProgressCtx pc;
	const char *const *names = NULL;
	gbt_params	quiet;
	sf_kind_fold fold;
	gbt_train_rows kept;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("xgb_train: no training rows"),
				 errdetail("Every row had NULL features, label or weight, or the input was empty.")));
	st = (SfRows *) PG_GETARG_POINTER(0);
	fitcxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk gbt fit", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(fitcxt);
	SfParseParams(st->params, &gbt_params_table, &p);
	if (p.feature_names.n > 0)
	{
		if (p.feature_names.n != st->n_cols)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("xgb_train: feature_names has %d names, features has %d elements",
							p.feature_names.n, st->n_cols)));
		names = (const char *const *) p.feature_names.v;
	}
	INSTR_TIME_SET_CURRENT(pc.start);
	p.progress = GbtProgress;
	p.progress_ctx = &pc;
	SfEnvInit(&env, fitcxt);
	SfRowsCanonical(st, &x, &y, &w);
	if (AllUnitWeights(st))
	{
		/* unit weights change nothing; the unweighted path skips them */
		pfree(w);
		w = NULL;
	}
	SfGovCheckCalibrate(p.calibrate, p.objective == GBT_OBJ_BINARY, "xgb_train");
	if (p.calibrate != SF_CALIB_NONE && w != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("xgb_train: calibrate does not take row weights"),
				 errhint("Train without weights, or calibrate afterwards with scfrisk.calibrate on held-out rows.")));
	SF_PG_CHECK(gbt_train_keep(&env, x, y, w, (size_t) st->n_rows, (uint32_t) st->n_cols, &p, &m,
							   &kept), &env, "xgb_train");
	sf_buf_init(&b, &env);
	SF_PG_CHECK(gbt_encode(&env, m, &p, names, m->train_rows, &b), &env, "xgb_train");
	MemoryContextSwitchTo(old);
	out = SfBufToBytea(&b);
	/* the folds train with the same params, quietly */
	quiet = p;
	quiet.verbose = 0;
	quiet.progress = NULL;
	quiet.progress_ctx = NULL;
	fold.kind = sf_kind_find(SF_KIND_GBT);
	fold.params = &quiet;
	fold.p = (uint32) st->n_cols;
	out = SfGovAttachCalibration(out, x, y, (size_t) st->n_rows, (uint32) st->n_cols, p.calibrate,
								 p.calibrate_folds, sf_kind_fold_fit, &fold, "xgb_train");
	out = AttachDriftKept(out, st, &kept);
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(out);
}
