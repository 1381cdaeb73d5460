/*
 * risk_sql.c
 *	  SQL wrappers of the loan-risk core (sf_risk.h): loan_risk_curve and
 *	  loan_size, each from a QRGMM model and covariates or from an array of
 *	  sales samples (docs/risk.md).
 *
 * The functions are materialised set-returning functions: every row of the
 * curve is computed in one call, so fcinfo->flinfo->fn_extra stays free for
 * the QRGMM model cache of QrgmmCurveForArgs (qrgmm_pg.h), and a lateral
 * join over many sellers with one model decodes it once.  The model is only
 * ever reached through that entry point, so every QRGMM kind (linear,
 * DeepFM) works here unchanged.
 */
#include "postgres.h"

#include <math.h>

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

#include "scfrisk/sf_risk.h"
#include "qrgmm_pg.h"

#define RISK_CURVE_COLS	10
#define RISK_SIZE_COLS	12

/* The loan grid argument: non-empty, not too long, no NULL/NaN/inf (core checks order and sign). */
static double *
GetLoans(ArrayType *arr, int *n, const char *what)
{
	double	   *loans = SfGetFeaturesAlloc(arr, n, SF_MISSING_REJECT, "loans");

	if (*n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: loans is empty", what),
				 errhint("Pass at least one loan amount, in increasing order.")));
	if (*n > RISK_MAX_GRID)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s: loans has %d elements, more than the %d allowed", what, *n,
						RISK_MAX_GRID)));
	return loans;
}

static double *
GetSamples(ArrayType *arr, int *n, const char *what)
{
	double	   *s = SfGetFeaturesAlloc(arr, n, SF_MISSING_REJECT, "samples");

	if (*n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: samples is empty", what),
				 errhint("Pass the sales samples of one seller as a float8[].")));
	return s;
}

/* The measures of a row into values/nulls from position 'at' on. */
static void
PutMeasures(const sf_risk_row *r, Datum *values, bool *nulls, int at)
{
	values[at + 0] = Float8GetDatum(r->due);
	values[at + 1] = Float8GetDatum(r->pd);
	values[at + 2] = Float8GetDatum(r->el);
	nulls[at + 3] = isnan(r->elgd);
	values[at + 3] = Float8GetDatum(nulls[at + 3] ? 0.0 : r->elgd);
	nulls[at + 4] = isnan(r->lgd_rate);
	values[at + 4] = Float8GetDatum(nulls[at + 4] ? 0.0 : r->lgd_rate);
	values[at + 5] = Float8GetDatum(r->var);
	values[at + 6] = Float8GetDatum(r->cvar);
	values[at + 7] = Float8GetDatum(r->profit);
	values[at + 8] = BoolGetDatum(r->tail_resolved != 0);
}

/* Evaluate the curve for loans and put one tuple per loan. */
static void
EmitCurve(FunctionCallInfo fcinfo, sf_env *env, const sf_risk_eval *ev, const double *loans,
		  int n, const char *what)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	sf_risk_row *rows = palloc(sizeof(sf_risk_row) * n);
	int			i;

	SF_PG_CHECK(sf_risk_curve(env, ev, loans, (size_t) n, rows), env, what);
	for (i = 0; i < n; i++)
	{
		Datum		values[RISK_CURVE_COLS];
		bool		nulls[RISK_CURVE_COLS];

		memset(nulls, 0, sizeof(nulls));
		values[0] = Float8GetDatum(rows[i].loan);
		PutMeasures(&rows[i], values, nulls, 1);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pfree(rows);
}

PG_FUNCTION_INFO_V1(loan_risk_curve);
Datum
loan_risk_curve(PG_FUNCTION_ARGS)
{
	const char *what = "loan_risk_curve";
	sf_env		env;
	sf_qcurve	curve;
	sf_risk_terms terms;
	sf_risk_eval ev;
	double	   *loans;
	int			n;

	InitMaterializedSRF(fcinfo, 0);
	SfEnvInit(&env, CurrentMemoryContext);
	SfParseParams(PG_GETARG_JSONB_P(3), &sf_risk_terms_table, &terms);
	loans = GetLoans(PG_GETARG_ARRAYTYPE_P(2), &n, what);
	QrgmmCurveForArgs(fcinfo, 0, 1, &env, &curve);
	SF_PG_CHECK(sf_risk_eval_curve(&env, &terms, &curve, &ev), &env, what);
	EmitCurve(fcinfo, &env, &ev, loans, n, what);
	sf_risk_eval_free(&env, &ev);
	sf_qcurve_free(&env, &curve);
	pfree(loans);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(loan_risk_curve_samples);
Datum
loan_risk_curve_samples(PG_FUNCTION_ARGS)
{
	const char *what = "loan_risk_curve";
	sf_env		env;
	sf_risk_terms terms;
	sf_risk_eval ev;
	double	   *loans,
			   *s;
	int			n,
				K;

	InitMaterializedSRF(fcinfo, 0);
	SfEnvInit(&env, CurrentMemoryContext);
	SfParseParams(PG_GETARG_JSONB_P(2), &sf_risk_terms_table, &terms);
	s = GetSamples(PG_GETARG_ARRAYTYPE_P(0), &K, what);
	loans = GetLoans(PG_GETARG_ARRAYTYPE_P(1), &n, what);
	SF_PG_CHECK(sf_risk_eval_samples(&env, &terms, s, (size_t) K, &ev), &env, what);
	EmitCurve(fcinfo, &env, &ev, loans, n, what);
	sf_risk_eval_free(&env, &ev);
	pfree(s);
	pfree(loans);
	return (Datum) 0;
}

/*
 * A JSON null collateral_value would keep the default 0, which loan_size
 * reads as "no LTV cap": a missing collateral value must not lift the cap
 * silently, so under an active cap it is an error (loan_decision refers).
 */
static void
CheckCollateral(Jsonb *policy_jb, const sf_risk_policy *policy)
{
	JsonbValue *v = getKeyJsonValueFromContainer(&policy_jb->root, "collateral_value",
												 strlen("collateral_value"), NULL);

	if (v != NULL && v->type == jbvNull && policy->ltv_cap > 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("loan_size: collateral_value is null under an ltv_cap of %g", policy->ltv_cap),
				 errdetail("A missing collateral value would lift the LTV cap."),
				 errhint("Pass the collateral value, set \"ltv_cap\": 0 to size without a cap, "
						 "or use loan_decision, which refers such a seller.")));
}

/* Size the loan and put the one result tuple. */
static void
EmitSize(FunctionCallInfo fcinfo, sf_env *env, const sf_risk_eval *ev,
		 const sf_risk_policy *policy, const char *what)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	sf_risk_size sz;
	Datum		values[RISK_SIZE_COLS];
	bool		nulls[RISK_SIZE_COLS];

	SF_PG_CHECK(sf_risk_size_loan(env, ev, policy, &sz), env, what);
	memset(nulls, 0, sizeof(nulls));
	values[0] = Float8GetDatum(sz.loan);
	values[1] = CStringGetTextDatum(sf_risk_binding_name(sz.binding));
	PutMeasures(&sz.at, values, nulls, 2);
	values[11] = PointerGetDatum(NULL);
	{
		/* every limit, for "why": {"pd_limit": ..., ...}, inactive ones omitted */
		StringInfoData buf;
		int			b,
					first = 1;

		initStringInfo(&buf);
		appendStringInfoChar(&buf, '{');
		for (b = 0; b < SF_BIND_COUNT; b++)
		{
			if (!isfinite(sz.limits[b]))
				continue;
			appendStringInfo(&buf, "%s\"%s\": %.17g", first ? "" : ", ",
							 sf_risk_binding_name((sf_risk_binding) b), sz.limits[b]);
			first = 0;
		}
		appendStringInfoChar(&buf, '}');
		values[11] = DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

PG_FUNCTION_INFO_V1(loan_size);
Datum
loan_size(PG_FUNCTION_ARGS)
{
	const char *what = "loan_size";
	sf_env		env;
	sf_qcurve	curve;
	sf_risk_policy policy;
	sf_risk_eval ev;

	InitMaterializedSRF(fcinfo, 0);
	SfEnvInit(&env, CurrentMemoryContext);
	SfParseParams(PG_GETARG_JSONB_P(2), &sf_risk_policy_table, &policy);
	CheckCollateral(PG_GETARG_JSONB_P(2), &policy);
	QrgmmCurveForArgs(fcinfo, 0, 1, &env, &curve);
	SF_PG_CHECK(sf_risk_eval_curve(&env, &policy.terms, &curve, &ev), &env, what);
	EmitSize(fcinfo, &env, &ev, &policy, what);
	sf_risk_eval_free(&env, &ev);
	sf_qcurve_free(&env, &curve);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(loan_size_samples);
Datum
loan_size_samples(PG_FUNCTION_ARGS)
{
	const char *what = "loan_size";
	sf_env		env;
	sf_risk_policy policy;
	sf_risk_eval ev;
	double	   *s;
	int			K;

	InitMaterializedSRF(fcinfo, 0);
	SfEnvInit(&env, CurrentMemoryContext);
	SfParseParams(PG_GETARG_JSONB_P(1), &sf_risk_policy_table, &policy);
	CheckCollateral(PG_GETARG_JSONB_P(1), &policy);
	s = GetSamples(PG_GETARG_ARRAYTYPE_P(0), &K, what);
	SF_PG_CHECK(sf_risk_eval_samples(&env, &policy.terms, s, (size_t) K, &ev), &env, what);
	EmitSize(fcinfo, &env, &ev, &policy, what);
	sf_risk_eval_free(&env, &ev);
	pfree(s);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(loan_grid);
Datum
loan_grid(PG_FUNCTION_ARGS)
{
	double		upper = PG_GETARG_FLOAT8(0);
	int32		levels = PG_GETARG_INT32(1);
	double	   *v;
	int			i;

	if (!(upper >= 0.0) || !isfinite(upper))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("loan_grid: upper must be a finite amount >= 0, got %g", upper)));
	if (levels < 2 || levels > RISK_MAX_GRID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("loan_grid: levels must be between 2 and %d, got %d", RISK_MAX_GRID, levels)));
	v = palloc(sizeof(double) * levels);
	for (i = 0; i < levels; i++)
		v[i] = upper * (double) i / (double) (levels - 1);
	v[levels - 1] = upper;
	PG_RETURN_ARRAYTYPE_P(SfMakeFloat8Array(v, levels));
}
