/*
 * interval_sql.c
 *	  scfrisk.loan_risk_interval(model, replicates, covariates, loan, level,
 *	  terms): the PD and EL of one loan from a QRGMM sales model with their
 *	  percentile bootstrap intervals from replicate models of the same shape
 *	  (qrgmm_bootstrap; docs/risk.md "How sure is the number").
 *
 * A materialised set-returning function of one row, like loan_size, so
 * fn_extra holds the model's cache (QrgmmCurveForArgs); the replicates are
 * decoded on every call (QrgmmCurveFromValues): a bootstrap of a few dozen
 * linear models decodes in far less time than their curves take to build.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "scfrisk/sf_bootstrap.h"
#include "scfrisk/sf_kinds.h"
#include "qrgmm_pg.h"

#define INTERVAL_COLS 18

static const char *
KindName(uint16 kind)
{
	const sf_kind *k = sf_kind_find(kind);

	return k ? k->name : "unknown";
}

/* The replicates as bytea pointers; NULL elements and too few are errors. */
static bytea **
GetReplicates(ArrayType *arr, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	bytea	  **out;
	int			i;

	deconstruct_array(arr, BYTEAOID, -1, false, TYPALIGN_INT, &elems, &nulls, n);
	if (*n < SF_BOOT_MIN_REPLICATES || *n > SF_BOOT_MAX_REPLICATES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("loan_risk_interval: replicates has %d models, an interval needs between %d and %d",
						*n, SF_BOOT_MIN_REPLICATES, SF_BOOT_MAX_REPLICATES),
				 errhint("Pass the bytea[] of scfrisk.qrgmm_bootstrap over the model's training rows.")));
	out = palloc(sizeof(bytea *) * *n);
	for (i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("loan_risk_interval: replicate %d is NULL", i + 1)));
		out[i] = DatumGetByteaPP(elems[i]);
	}
	return out;
}

/* Every replicate must be of the model's kind and width. */
static void
CheckShapes(bytea *model, bytea **reps, int n)
{
	sf_container mc;
	int			i;

	SfContainerFromBytea(model, &mc, "loan_risk_interval");
	for (i = 0; i < n; i++)
	{
		sf_container rc;
		char		what[64];

		snprintf(what, sizeof(what), "loan_risk_interval (replicate %d)", i + 1);
		SfContainerFromBytea(reps[i], &rc, what);
		if (rc.kind != mc.kind || rc.n_features != mc.n_features)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("loan_risk_interval: replicate %d is a %s model of %u covariates, the model a %s model of %u",
							i + 1, KindName(rc.kind), rc.n_features, KindName(mc.kind), mc.n_features),
					 errhint("The replicates must come from scfrisk.qrgmm_bootstrap over the model's training rows and params.")));
	}
}

/* The method argument: 'percentile' or 'bc'. */
static sf_boot_method
MethodArg(text *t)
{
	char	   *m = text_to_cstring(t);

	if (strcmp(m, "percentile") == 0)
		return SF_BOOT_PERCENTILE;
	if (strcmp(m, "bc") == 0)
		return SF_BOOT_BC;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("loan_risk_interval: unknown method \"%s\"", m),
			 errhint("Use 'percentile' (the default) or 'bc' (bias-corrected percentile).")));
	return SF_BOOT_PERCENTILE;	/* not reached */
}

PG_FUNCTION_INFO_V1(loan_risk_interval);
Datum
loan_risk_interval(PG_FUNCTION_ARGS)
{
	const char *what = "loan_risk_interval";
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	double		loan = PG_GETARG_FLOAT8(3);
	double		level = PG_GETARG_FLOAT8(4);
	sf_boot_method method = MethodArg(PG_GETARG_TEXT_PP(6));
	sf_env		env;
	sf_risk_terms terms;
	sf_qcurve	curve;
	sf_risk_eval ev;
	sf_qcurve  *rcurves;
	sf_risk_eval *revs;
	const sf_risk_eval **rptr;
	bytea	  **reps;
	int			n,
				i;
	sf_risk_interval iv;
	double		pt[SF_IV_N];
	Datum		values[INTERVAL_COLS];
	bool		nulls[INTERVAL_COLS];

	InitMaterializedSRF(fcinfo, 0);
	SfEnvInit(&env, CurrentMemoryContext);
	SfParseParams(PG_GETARG_JSONB_P(5), &sf_risk_terms_table, &terms);
	if (!(level > 0.0 && level < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("loan_risk_interval: level must be in (0, 1), got %g", level)));
	if (!isfinite(loan) || loan < 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("loan_risk_interval: loan must be a finite amount >= 0, got %g", loan)));
	reps = GetReplicates(PG_GETARG_ARRAYTYPE_P(1), &n);
	CheckShapes(PG_GETARG_BYTEA_PP(0), reps, n);

	QrgmmCurveForArgs(fcinfo, 0, 2, &env, &curve);
	SF_PG_CHECK(sf_risk_eval_curve(&env, &terms, &curve, &ev), &env, what);
	rcurves = palloc(sizeof(sf_qcurve) * n);
	revs = palloc(sizeof(sf_risk_eval) * n);
	rptr = palloc(sizeof(sf_risk_eval *) * n);
	for (i = 0; i < n; i++)
	{
		QrgmmCurveFromValues(reps[i], PG_GETARG_ARRAYTYPE_P(2), &env, &rcurves[i], what);
		SF_PG_CHECK(sf_risk_eval_curve(&env, &terms, &rcurves[i], &revs[i]), &env, what);
		rptr[i] = &revs[i];
	}
	SF_PG_CHECK(sf_risk_interval_at(&env, &ev, rptr, (size_t) n, loan, level, method,
									  &iv), &env, what);

	memset(nulls, 0, sizeof(nulls));
	values[0] = Float8GetDatum(iv.point.loan);
	/* (point, lower, upper) of PD, EL, VaR, CVaR, in the order of sf_iv_measure */
	pt[SF_IV_PD] = iv.point.pd;
	pt[SF_IV_EL] = iv.point.el;
	pt[SF_IV_VAR] = iv.point.var;
	pt[SF_IV_CVAR] = iv.point.cvar;
	for (i = 0; i < SF_IV_N; i++)
	{
		values[1 + 3 * i] = Float8GetDatum(pt[i]);
		values[2 + 3 * i] = Float8GetDatum(iv.lower[i]);
		values[3 + 3 * i] = Float8GetDatum(iv.upper[i]);
	}
	values[13] = Float8GetDatum(terms.level);
	values[14] = Float8GetDatum(iv.level);
	values[15] = Int32GetDatum((int32) iv.replicates);
	values[16] = CStringGetTextDatum(iv.method == SF_BOOT_BC ? "bc" : "percentile");
	values[17] = BoolGetDatum(iv.point.tail_resolved != 0);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}
