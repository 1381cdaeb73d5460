/*
 * metrics_sql.c
 *	  scfrisk.binary_metrics aggregate and the set-returning
 *	  scfrisk.roc_curve and scfrisk.threshold_table.
 *
 * binary_metrics collects (label, score) pairs in the shared row store
 * (one float8 column: the score; the label as the row's label) and computes
 * everything in its final function; rows with a NULL label or
 * score are skipped.  The set-returning forms take arrays (array_agg of
 * labels and scores) so a BI tool can plot the rows directly.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "scfrisk/metrics.h"
#include "mlp_pg.h"

static inline void
CheckLabel(double y, const char *what)
{
	if (y != 0.0 && y != 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: label must be 0 or 1, got %g", what, y)));
}

static inline void
CheckScore(double s, const char *what)
{
	if (!isfinite(s))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: score must be finite, got %g", what, s)));
}

/* binary_metrics has no parallel support: its store is never serialised */
static const SfRowsSpec metrics_rows_spec = {{8, SF_ROWS_FLOAT8, 0, 0, 1}, "binary_metrics"};

/* State of binary_metrics: the (score, label) rows and the threshold. */
typedef struct MetricsState
{
	SfRows	   *rows;			/* x: scores (one column), y: labels */
	double		threshold;		/* classification threshold of the first row */
} MetricsState;

PG_FUNCTION_INFO_V1(metrics_binary_sfunc);
Datum
metrics_binary_sfunc(PG_FUNCTION_ARGS)
{
	MetricsState *st = PG_ARGISNULL(0) ? NULL : (MetricsState *) PG_GETARG_POINTER(0);
	MemoryContext aggcxt;
	double		y,
				s;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "metrics_binary_sfunc called in non-aggregate context");
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	y = PG_GETARG_FLOAT8(1);
	s = PG_GETARG_FLOAT8(2);
	CheckLabel(y, "binary_metrics");
	CheckScore(s, "binary_metrics");
	if (st == NULL)
	{
		st = MemoryContextAllocZero(aggcxt, sizeof(MetricsState));
		st->rows = SfRowsNew(aggcxt, &metrics_rows_spec);
		SfRowsSetWidth(st->rows, 1, 0);
		st->threshold = 0.5;
		if (PG_NARGS() > 3)
		{
			if (PG_ARGISNULL(3))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("binary_metrics: threshold must not be NULL")));
			st->threshold = PG_GETARG_FLOAT8(3);
			if (isnan(st->threshold))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("binary_metrics: threshold must not be NaN")));
		}
	}
	else if (PG_NARGS() > 3 && (PG_ARGISNULL(3) || PG_GETARG_FLOAT8(3) != st->threshold))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("binary_metrics: the threshold differs between rows of one group"),
				 errhint("Pass one threshold for the group (a constant); the metrics must not depend on row order.")));
	SfRowsAppend(st->rows, &s, y, 1.0, "score");
	PG_RETURN_POINTER(st);
}

static void
AppendNum(StringInfo b, const char *key, double v, bool defined)
{
	appendStringInfo(b, "%s\"%s\": ", b->len > 1 ? ", " : "", key);
	if (!defined)
		appendStringInfoString(b, "null");
	else
		appendStringInfoString(b, float8out_internal(v));
}

PG_FUNCTION_INFO_V1(metrics_binary_final);
Datum
metrics_binary_final(PG_FUNCTION_ARGS)
{
	MetricsState *st;
	metrics_binary_result r;
	sf_env		env;
	StringInfoData b;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (MetricsState *) PG_GETARG_POINTER(0);
	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(metrics_binary(&env, st->rows->y, (const double *) st->rows->x,
							   (size_t) st->rows->n_rows, st->threshold, &r),
				&env, "binary_metrics");
	initStringInfo(&b);
	appendStringInfoChar(&b, '{');
	AppendNum(&b, "n", (double) r.n, true);
	AppendNum(&b, "threshold", st->threshold, true);
	AppendNum(&b, "tp", r.tp, true);
	AppendNum(&b, "fp", r.fp, true);
	AppendNum(&b, "tn", r.tn, true);
	AppendNum(&b, "fn", r.fn, true);
	AppendNum(&b, "accuracy", r.accuracy, true);
	AppendNum(&b, "precision", r.precision, true);
	AppendNum(&b, "recall", r.recall, true);
	AppendNum(&b, "type1_error", r.type1_error, true);
	AppendNum(&b, "type2_error", r.type2_error, true);
	AppendNum(&b, "f1", r.f1, true);
	AppendNum(&b, "mcc", r.mcc, true);
	AppendNum(&b, "auc", r.auc, r.has_ranking);
	AppendNum(&b, "ks", r.ks, r.has_ranking);
	AppendNum(&b, "gini", r.gini, r.has_ranking);
	AppendNum(&b, "brier", r.brier, r.has_prob);
	AppendNum(&b, "logloss", r.logloss, r.has_prob);
	appendStringInfoChar(&b, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(b.data)));
}

/* Labels and scores arrays of equal length, checked; returns n. */
static int
GetLabelsScores(ArrayType *la, ArrayType *sa, double **y, double **s, const char *what)
{
	int			n = SfArrayLength(la, "labels");
	int			i;

	if (SfArrayLength(sa, "scores") != n)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: labels has %d elements but scores has %d", what, n,
						SfArrayLength(sa, "scores"))));
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: no rows to evaluate", what)));
	*y = palloc(sizeof(double) * n);
	*s = palloc(sizeof(double) * n);
	SfGetFeatures(la, n, *y, SF_MISSING_REJECT, "labels");
	SfGetFeatures(sa, n, *s, SF_MISSING_REJECT, "scores");
	for (i = 0; i < n; i++)
		CheckLabel((*y)[i], what);
	return n;
}

PG_FUNCTION_INFO_V1(metrics_roc_curve);
Datum
metrics_roc_curve(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	double	   *y,
			   *s,
			   *thr,
			   *fpr,
			   *tpr;
	size_t		npts,
				k;
	int			n;
	sf_env		env;

	n = GetLabelsScores(PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_ARRAYTYPE_P(1), &y, &s, "roc_curve");
	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(metrics_roc(&env, y, s, (size_t) n, &thr, &fpr, &tpr, &npts), &env, "roc_curve");
	InitMaterializedSRF(fcinfo, 0);
	for (k = 0; k < npts; k++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = Float8GetDatum(thr[k]);
		values[1] = Float8GetDatum(fpr[k]);
		values[2] = Float8GetDatum(tpr[k]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(metrics_threshold_table);
Datum
metrics_threshold_table(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *ta = PG_GETARG_ARRAYTYPE_P(2);
	double	   *y,
			   *s,
			   *t,
			   *tp,
			   *fp,
			   *tn,
			   *fn;
	int			n,
				nt,
				k;
	sf_env		env;

	n = GetLabelsScores(PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_ARRAYTYPE_P(1), &y, &s, "threshold_table");
	t = SfGetFeaturesAlloc(ta, &nt, SF_MISSING_REJECT, "thresholds");
	tp = palloc(sizeof(double) * Max(nt, 1));
	fp = palloc(sizeof(double) * Max(nt, 1));
	tn = palloc(sizeof(double) * Max(nt, 1));
	fn = palloc(sizeof(double) * Max(nt, 1));
	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(metrics_confusion_at(&env, y, s, (size_t) n, t, (size_t) nt, tp, fp, tn, fn),
				&env, "threshold_table");
	InitMaterializedSRF(fcinfo, 0);
	for (k = 0; k < nt; k++)
	{
		metrics_binary_result r;
		Datum		values[12];
		bool		nulls[12];

		memset(&r, 0, sizeof(r));
		memset(nulls, 0, sizeof(nulls));
		r.tp = tp[k];
		r.fp = fp[k];
		r.tn = tn[k];
		r.fn = fn[k];
		metrics_from_counts(&r);
		values[0] = Float8GetDatum(t[k]);
		values[1] = Int64GetDatum((int64) r.tp);
		values[2] = Int64GetDatum((int64) r.fp);
		values[3] = Int64GetDatum((int64) r.tn);
		values[4] = Int64GetDatum((int64) r.fn);
		values[5] = Float8GetDatum(r.accuracy);
		values[6] = Float8GetDatum(r.precision);
		values[7] = Float8GetDatum(r.recall);
		values[8] = Float8GetDatum(r.type1_error);
		values[9] = Float8GetDatum(r.type2_error);
		values[10] = Float8GetDatum(r.f1);
		values[11] = Float8GetDatum(r.mcc);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
