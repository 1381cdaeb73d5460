/*
 * decision_sql.c
 *	  scfrisk.loan_decision: the lending decision from a QRGMM sales model
 *	  (or sales samples) and a credit model of any scoring kind (issue 16,
 *	  sf_risk_decide, docs/risk.md "The lending decision").
 *
 * Not STRICT: a NULL model, NULL covariates, a NULL credit model or
 * features, and a collateral value that is absent or JSON null under an LTV
 * cap are answers (the verdict refers and the status says why), not a
 * missing row.  Only a NULL policy is an error: it is configuration, not
 * data.
 *
 * The credit model's inputs at a loan L are credit_features followed by the
 * policy's "credit_loan_features": each {"transform": "log" | "identity",
 * "scale": a, "offset": b} adds b + a T(L) with T(L) = ln(max(L, 1)) or L,
 * so "ln(L) - h" is {"transform": "log", "offset": -h} and "L / income" is
 * {"transform": "identity", "scale": 1 / income}.  The key is taken out of
 * the policy before the rest goes through SfParseParams.
 *
 * fn_extra holds two private FmgrInfo, each carrying a decoded-model cache
 * (SfModelCacheGet): the QRGMM sales model's of QrgmmCurveForArgs and the
 * credit model's, so that a lateral join over many sellers decodes each
 * model once.  The credit model is any kind with a row scorer in the table
 * of kinds (what scfrisk.predict scores), called directly: the search costs
 * no fmgr call and no array per evaluated loan.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "scfrisk/sf_risk.h"
#include "qrgmm_pg.h"
#include "risk_pg.h"
#include "scfrisk_pg.h"

#define DECISION_COLS		16
#define LOAN_FEATURES_MAX	64

typedef struct DecisionCache
{
	FmgrInfo	sales;			/* carries the QRGMM model cache */
	FmgrInfo	credit;			/* carries the credit model cache */
} DecisionCache;

typedef struct LoanFeature
{
	bool		log;			/* T(L) = ln(max(L, 1)), else L */
	double		scale;
	double		offset;
} LoanFeature;

/* The credit model at a loan: the context of the sf_credit_pd_fn. */
typedef struct CreditCtx
{
	const sf_kind *kind;		/* NULL until the credit model is set up */
	const void *model;			/* decoded, in the call site's cache */
	double	   *x;				/* base features, then the loan features */
	int			n_base;
	LoanFeature lf[LOAN_FEATURES_MAX];
	int			n_lf;
} CreditCtx;

static DecisionCache *
GetCache(FunctionCallInfo fcinfo)
{
	DecisionCache *dc = (DecisionCache *) fcinfo->flinfo->fn_extra;

	if (dc == NULL)
	{
		dc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(DecisionCache));
		dc->sales.fn_mcxt = dc->credit.fn_mcxt = fcinfo->flinfo->fn_mcxt;
		dc->sales.fn_oid = dc->credit.fn_oid = fcinfo->flinfo->fn_oid;
		dc->sales.fn_nargs = dc->credit.fn_nargs = 2;
		dc->sales.fn_strict = dc->credit.fn_strict = true;
		fcinfo->flinfo->fn_extra = dc;
	}
	return dc;
}

static double
CreditPd(void *p, double loan)
{
	CreditCtx  *cc = (CreditCtx *) p;
	int			i;

	for (i = 0; i < cc->n_lf; i++)
	{
		const LoanFeature *f = &cc->lf[i];

		cc->x[cc->n_base + i] = f->offset + f->scale * (f->log ? log(fmax(loan, 1.0)) : loan);
	}
	return cc->kind->predict(cc->model, cc->x);
}

/*
 * The credit model of argument argno with its base features fa, decoded
 * through the cache of dc->credit, checked against the width it expects.
 * False when a base feature is missing and the kind takes no missing values.
 */
static bool
SetUpCredit(FunctionCallInfo fcinfo, DecisionCache *dc, int argno, ArrayType *fa, CreditCtx *cc)
{
	bytea	   *head = PG_GETARG_BYTEA_P_SLICE(argno, 0, SF_HEADER_LEN);
	int			nb = SfArrayLength(fa, "credit_features");
	const sf_kind *k;
	sf_container c;
	sf_env		env;
	uint32		width;
	int			i;

	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(sf_container_read_header(&env, (const uint8_t *) VARDATA_ANY(head),
										 VARSIZE_ANY_EXHDR(head), &c), &env, "loan_decision");
	k = SfKindOrError(c.kind, "loan_decision");
	if (k->predict == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("loan_decision: the credit model is of kind %s, which has no row scorer", k->name),
				 errhint("Pass a classifier that scfrisk.predict scores (gbt, mlp, logreg, xgb_mlp).")));
	{
		LOCAL_FCINFO(inner, 2);

		InitFunctionCallInfoData(*inner, &dc->credit, 2, InvalidOid, NULL, NULL);
		inner->args[0] = fcinfo->args[argno];
		inner->args[1] = fcinfo->args[argno + 1];
		cc->model = SfModelCacheGet(inner, 0, k->decode, "loan_decision");
	}
	width = k->n_features(cc->model);
	if (width != (uint32) (nb + cc->n_lf))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("loan_decision: the credit model expects %u features, got %d credit_features "
						"and %d credit_loan_features", width, nb, cc->n_lf),
				 errhint("The credit model's inputs are credit_features followed by one value per "
						 "element of the policy's credit_loan_features.")));
	cc->kind = k;
	cc->n_base = nb;
	cc->x = palloc(sizeof(double) * Max(width, 1));
	if (nb > 0)
		SfGetFeatures(fa, nb, cc->x, SF_MISSING_AS_NAN, "credit_features");
	if (!k->accepts_missing)
		for (i = 0; i < nb; i++)
			if (isnan(cc->x[i]))
				return false;
	return true;
}

static void
BadLoanFeature(int i, const char *msg)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("loan_decision: credit_loan_features[%d] %s", i + 1, msg),
			 errhint("Each element is {\"transform\": \"log\" or \"identity\", \"scale\": number, "
					 "\"offset\": number}: the credit feature offset + scale * T(loan).")));
}

/* One {"transform", "scale", "offset"} object; false when a number is JSON null. */
static bool
ParseLoanFeature(JsonbContainer *obj, int i, LoanFeature *f)
{
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;
	bool		present = true;

	f->log = true;
	f->scale = 1.0;
	f->offset = 0.0;
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE)
			continue;
		if (strcmp(key, "transform") == 0)
		{
			if (v.type != jbvString)
				BadLoanFeature(i, "has a \"transform\" that is not a string");
			if (v.val.string.len == 3 && strncmp(v.val.string.val, "log", 3) == 0)
				f->log = true;
			else if (v.val.string.len == 8 && strncmp(v.val.string.val, "identity", 8) == 0)
				f->log = false;
			else
				BadLoanFeature(i, "has an unknown \"transform\" (expected \"log\" or \"identity\")");
		}
		else if (strcmp(key, "scale") == 0 || strcmp(key, "offset") == 0)
		{
			double		d;

			if (v.type == jbvNull)
			{
				present = false;	/* a seller's value is missing: refer */
				continue;
			}
			if (v.type != jbvNumeric)
				BadLoanFeature(i, "has a \"scale\" or \"offset\" that is not a number");
			d = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v.val.numeric)));
			if (!isfinite(d))
				BadLoanFeature(i, "has a \"scale\" or \"offset\" that is not finite");
			if (key[0] == 's')
				f->scale = d;
			else
				f->offset = d;
		}
		else
			BadLoanFeature(i, psprintf("has an unknown key \"%s\"", key));
	}
	return present;
}

/*
 * Take "credit_loan_features" out of *policy into cc; false when one of its
 * numbers is JSON null (missing credit features).
 */
static bool
TakeLoanFeatures(Jsonb **policy, CreditCtx *cc)
{
	JsonbValue *arr;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	bool		present = true;

	cc->n_lf = 0;
	if (!JsonContainerIsObject(&(*policy)->root))
		return true;			/* SfParseParams reports a policy that is not an object */
	arr = getKeyJsonValueFromContainer(&(*policy)->root, "credit_loan_features",
									   strlen("credit_loan_features"), NULL);
	if (arr == NULL)
		return true;
	*policy = DatumGetJsonbP(DirectFunctionCall2(jsonb_delete, JsonbPGetDatum(*policy),
												 CStringGetTextDatum("credit_loan_features")));
	if (arr->type != jbvBinary || !JsonContainerIsArray(arr->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("loan_decision: credit_loan_features must be a JSON array of objects")));
	it = JsonbIteratorInit(arr->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		if (cc->n_lf >= LOAN_FEATURES_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("loan_decision: credit_loan_features has more than %d elements",
							LOAN_FEATURES_MAX)));
		if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
			BadLoanFeature(cc->n_lf, "is not an object");
		present &= ParseLoanFeature(v.val.binary.data, cc->n_lf, &cc->lf[cc->n_lf]);
		cc->n_lf++;
	}
	return present;
}

/* Whether the policy gives a collateral value (a JSON null gives none). */
static bool
HasCollateral(Jsonb *policy)
{
	JsonbValue *v = getKeyJsonValueFromContainer(&policy->root, "collateral_value",
												 strlen("collateral_value"), NULL);

	return v != NULL && v->type != jbvNull;
}

static Datum
ReasonsArray(unsigned why, const char **status)
{
	Datum		elems[SF_WHY_COUNT];
	int			b,
				n = 0;

	*status = "ok";
	for (b = 0; b < SF_WHY_COUNT; b++)
		if (why & (1u << b))
		{
			if (n == 0)
				*status = sf_risk_reason_name(b);
			elems[n++] = CStringGetTextDatum(sf_risk_reason_name(b));
		}
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

static void
EmitDecision(FunctionCallInfo fcinfo, const sf_risk_decision *d)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[DECISION_COLS];
	bool		nulls[DECISION_COLS];
	const char *status;
	bool		computed = !isnan(d->loan);
	int			i;

	memset(nulls, 0, sizeof(nulls));
	values[0] = CStringGetTextDatum(sf_verdict_name(d->verdict));
	values[4] = ReasonsArray(d->why, &status);
	values[3] = CStringGetTextDatum(status);
	if (!computed)
	{
		for (i = 0; i < DECISION_COLS; i++)
			nulls[i] = !(i == 0 || i == 3 || i == 4);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		return;
	}
	values[1] = Float8GetDatum(d->loan);
	nulls[2] = d->binding < 0;
	values[2] = nulls[2] ? (Datum) 0 : CStringGetTextDatum(sf_risk_decision_binding_name(d->binding));
	values[5] = Float8GetDatum(d->at.pd);
	nulls[6] = isnan(d->credit_pd);
	values[6] = Float8GetDatum(nulls[6] ? 0.0 : d->credit_pd);
	values[7] = Float8GetDatum(d->combined_pd);
	values[8] = Float8GetDatum(d->at.due);
	values[9] = Float8GetDatum(d->at.el);
	values[10] = Float8GetDatum(d->at.var);
	values[11] = Float8GetDatum(d->at.cvar);
	values[12] = Float8GetDatum(d->at.profit);
	values[13] = BoolGetDatum(d->at.tail_resolved != 0);
	values[14] = Float8GetDatum(d->reliable_pd);
	/* every active limit, the credit ones capped at the sales-side loan */
	values[15] = RiskLimitsJson(d->limits, SF_DBIND_COUNT);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* The parsed policy and the credit side of one call. */
typedef struct DecisionArgs
{
	sf_risk_decision_policy policy;
	CreditCtx	cc;
	unsigned	why;			/* SF_WHY_* of missing inputs */
} DecisionArgs;

/*
 * The policy argument: "credit_loan_features" taken out, the rest parsed,
 * the collateral checked.  A NULL policy is an error: configuration, not data.
 */
static void
PreparePolicy(FunctionCallInfo fcinfo, int argno, DecisionArgs *a)
{
	Jsonb	   *jb;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("loan_decision: policy must not be NULL"),
				 errhint("Pass '{}' for the default policy.")));
	jb = PG_GETARG_JSONB_P(argno);
	memset(a, 0, sizeof(*a));
	if (!TakeLoanFeatures(&jb, &a->cc))
		a->why |= SF_WHY_MISSING_CREDIT;
	SfParseParams(jb, &sf_risk_decision_table, &a->policy);
	if (a->policy.base.ltv_cap > 0.0 && !HasCollateral(jb))
		a->why |= SF_WHY_MISSING_COLLATERAL;
}

/*
 * The shared part of both forms: the credit side, the decision, the row.
 * ev is NULL when the sales side is missing (a->why says which).
 */
static void
Decide(FunctionCallInfo fcinfo, DecisionCache *dc, sf_env *env, const sf_risk_eval *ev,
	   int credit_argno, DecisionArgs *a)
{
	sf_risk_decision_in in;
	sf_risk_decision d;
	CreditCtx  *cc = &a->cc;

	memset(&in, 0, sizeof(in));
	in.ev = ev;
	in.why = a->why;
	if (!PG_ARGISNULL(credit_argno) && PG_ARGISNULL(credit_argno + 1))
		in.why |= SF_WHY_MISSING_CREDIT;
	if (!PG_ARGISNULL(credit_argno) && !(in.why & SF_WHY_MISSING_CREDIT))
	{
		if (SetUpCredit(fcinfo, dc, credit_argno, PG_GETARG_ARRAYTYPE_P(credit_argno + 1), cc))
		{
			in.credit_pd = CreditPd;
			in.credit_ctx = cc;
		}
		else
			in.why |= SF_WHY_MISSING_CREDIT;
	}
	SF_PG_CHECK(sf_risk_decide(env, &in, &a->policy, &d), env, "loan_decision");
	EmitDecision(fcinfo, &d);
}

/* The start of both decision functions: the result, env, the policy of argument policy_argno, the cache. */
static DecisionCache *
BeginDecision(FunctionCallInfo fcinfo, int policy_argno, DecisionArgs *a, sf_env *env)
{
	DecisionCache *dc = GetCache(fcinfo);

	SfStartResult(fcinfo);
	SfEnvInit(env, CurrentMemoryContext);
	PreparePolicy(fcinfo, policy_argno, a);
	return dc;
}

PG_FUNCTION_INFO_V1(loan_decision);
Datum
loan_decision(PG_FUNCTION_ARGS)
{
	DecisionArgs a;
	sf_env		env;
	DecisionCache *dc = BeginDecision(fcinfo, 4, &a, &env);

	if (PG_ARGISNULL(0))
		a.why |= SF_WHY_NO_MODEL;
	else if (PG_ARGISNULL(1) || array_contains_nulls(PG_GETARG_ARRAYTYPE_P(1)))
		a.why |= SF_WHY_MISSING_COVARIATES;
	if (a.why & (SF_WHY_NO_MODEL | SF_WHY_MISSING_COVARIATES))
		Decide(fcinfo, dc, &env, NULL, 2, &a);
	else
	{
		sf_qcurve	curve;
		sf_risk_eval ev;
		LOCAL_FCINFO(inner, 2);

		/* the curve through the private FmgrInfo that carries the QRGMM cache */
		InitFunctionCallInfoData(*inner, &dc->sales, 2, InvalidOid, NULL, NULL);
		inner->args[0] = fcinfo->args[0];
		inner->args[1] = fcinfo->args[1];
		QrgmmCurveForArgs(inner, 0, 1, &env, &curve);
		SF_PG_CHECK(sf_risk_eval_curve(&env, &a.policy.base.terms, &curve, &ev), &env, "loan_decision");
		Decide(fcinfo, dc, &env, &ev, 2, &a);
		sf_risk_eval_free(&env, &ev);
		sf_qcurve_free(&env, &curve);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(loan_decision_samples);
Datum
loan_decision_samples(PG_FUNCTION_ARGS)
{
	DecisionArgs a;
	sf_risk_eval ev;
	sf_env		env;
	DecisionCache *dc = BeginDecision(fcinfo, 3, &a, &env);
	double	   *s;
	int			K;

	if (PG_ARGISNULL(0))
	{
		a.why |= SF_WHY_NO_MODEL;
		Decide(fcinfo, dc, &env, NULL, 1, &a);
		return (Datum) 0;
	}
	s = SfGetSamples(PG_GETARG_ARRAYTYPE_P(0), &K, "loan_decision",
					 "Pass the sales samples of one seller as a float8[], or NULL to refer.");
	SF_PG_CHECK(sf_risk_eval_samples(&env, &a.policy.base.terms, s, (size_t) K, &ev), &env,
				"loan_decision");
	Decide(fcinfo, dc, &env, &ev, 1, &a);
	sf_risk_eval_free(&env, &ev);
	pfree(s);
	return (Datum) 0;
}
