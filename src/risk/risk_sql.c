/*
 * risk_sql.c
 *	  SQL wrappers of the loan-risk core (sf_risk.h): loan_risk_curve and
 *	  loan_size, each from a QRGMM model and covariates or from an array of
 *	  sales samples (docs/risk.md); round_cents for the money columns of the
 *	  BI views.
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

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/tuplestore.h"

#include "scfrisk/sf_cents.h"
#include "scfrisk/sf_risk.h"
#include "qrgmm_pg.h"
#include "risk_pg.h"

#define RISK_CURVE_COLS	10
#define RISK_SIZE_COLS	12
#define SAMPLES_HINT	"Pass the sales samples of one seller as a float8[]."

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

/*
 * The terms of loan_risk_curve, parsed once per distinct jsonb value: a
 * lateral join passes the same terms for every seller, and parsing them is
 * 3% of a curve query.  The key is the jsonb's bytes (jsonb is canonical:
 * equal objects have equal bytes), the parsed struct holds only numbers, so
 * one process-wide entry is safe; a value that fails to parse is never kept.
 */
static void
TermsForArg(Jsonb *jb, sf_risk_terms *out)
{
	static char *key = NULL;
	static Size key_len = 0;
	static sf_risk_terms parsed;
	Size		len = VARSIZE(jb);

	if (key != NULL && len == key_len && memcmp(key, jb, len) == 0)
	{
		*out = parsed;
		return;
	}
	SfParseParams(jb, &sf_risk_terms_table, out);
	if (key == NULL || len > key_len)
	{
		char	   *grown = MemoryContextAlloc(TopMemoryContext, len);

		if (key != NULL)
			pfree(key);
		key = grown;
	}
	memcpy(key, jb, len);
	key_len = len;
	parsed = *out;
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

/*
 * Rows of the curve into the tuplestore.  A 5,000-seller curve query forms
 * 250,000 rows: heap_form_minimal_tuple (a size pass, then a generic fill
 * that tests every column for varlena, cstring and alignment, into palloc0'd
 * memory) was 17% of it.  Every column of the curve is a by-value,
 * fixed-size float8 or bool, and a row has one of two null patterns: none,
 * or ELGD and LGD rate both NULL (undefined at PD 0, which the small loans
 * of a grid often have).  CurveRowsInit lays out both once per call as
 * heap_form_tuple would (header with its null bitmap, each column's offset);
 * a row is then written straight from the sf_risk_row into one reused
 * buffer, which tuplestore_puttuple copies once.  Any other row (should the
 * core ever give one), or a descriptor that does not allow this, goes
 * through tuplestore_putvalues.
 */
#define CURVE_ELGD		4		/* the columns that may be NULL */
#define CURVE_LGD_RATE	5

typedef struct CurveLayout
{
	Size		hoff;			/* header size, with the null bitmap if any */
	Size		len;			/* total size of the row */
	int16		off[RISK_CURVE_COLS];	/* data offset of each column, -1 if NULL */
	HeapTupleHeader header;		/* the header bytes, ready to copy */
} CurveLayout;

typedef struct CurveRows
{
	Tuplestorestate *store;
	TupleDesc	desc;
	bool		by_hand;		/* float8 columns then a bool, all by value */
	CurveLayout full;			/* no NULL */
	CurveLayout pd0;			/* ELGD and LGD rate NULL */
	HeapTupleHeader buf;		/* room for one row with its null bitmap */
} CurveRows;

static void
CurveLayoutInit(CurveLayout *l, TupleDesc desc, bool pd0)
{
	Size		off = 0;
	int			i;

	l->hoff = MAXALIGN(SizeofHeapTupleHeader + (pd0 ? BITMAPLEN(RISK_CURVE_COLS) : 0));
	l->header = palloc0(l->hoff);
	HeapTupleHeaderSetNatts(l->header, RISK_CURVE_COLS);
	l->header->t_hoff = (uint8) l->hoff;
	if (pd0)
		l->header->t_infomask |= HEAP_HASNULL;
	for (i = 0; i < RISK_CURVE_COLS; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (pd0 && (i == CURVE_ELGD || i == CURVE_LGD_RATE))
		{
			l->off[i] = -1;
			continue;
		}
		if (pd0)
			l->header->t_bits[i >> 3] |= (bits8) (1 << (i & 7));
		off = att_align_nominal(off, att->attalign);
		l->off[i] = (int16) off;
		off += att->attlen;
	}
	l->len = l->hoff + off;
	HeapTupleHeaderSetDatumLength(l->header, l->len);
	HeapTupleHeaderSetTypeId(l->header, desc->tdtypeid);
	HeapTupleHeaderSetTypMod(l->header, desc->tdtypmod);
}

static void
CurveRowsInit(CurveRows *cr, FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	cr->store = rsinfo->setResult;
	cr->desc = rsinfo->setDesc;
	cr->by_hand = cr->desc->natts == RISK_CURVE_COLS;
	for (i = 0; i < RISK_CURVE_COLS && cr->by_hand; i++)
	{
		Form_pg_attribute att = TupleDescAttr(cr->desc, i);

		cr->by_hand = att->attbyval &&
			att->atttypid == (i < RISK_CURVE_COLS - 1 ? FLOAT8OID : BOOLOID);
	}
	if (!cr->by_hand)
		return;
	CurveLayoutInit(&cr->full, cr->desc, false);
	CurveLayoutInit(&cr->pd0, cr->desc, true);
	cr->buf = palloc(cr->full.len > cr->pd0.len ? cr->full.len : cr->pd0.len);
}

static void
CurveRowsPut(CurveRows *cr, const sf_risk_row *r)
{
	const double m[RISK_CURVE_COLS - 1] = {r->loan, r->due, r->pd, r->el, r->elgd,
	r->lgd_rate, r->var, r->cvar, r->profit};
	const CurveLayout *l = NULL;
	HeapTupleData tuple;
	char	   *data;
	int			i;

	if (cr->by_hand)
	{
		if (!isnan(r->elgd) && !isnan(r->lgd_rate))
			l = &cr->full;
		else if (isnan(r->elgd) && isnan(r->lgd_rate))
			l = &cr->pd0;
	}
	if (l == NULL)
	{
		Datum		values[RISK_CURVE_COLS];
		bool		nulls[RISK_CURVE_COLS];

		memset(nulls, 0, sizeof(nulls));
		values[0] = Float8GetDatum(r->loan);
		PutMeasures(r, values, nulls, 1);
		tuplestore_putvalues(cr->store, cr->desc, values, nulls);
		return;
	}
	memcpy(cr->buf, l->header, l->hoff);
	data = (char *) cr->buf + l->hoff;
	for (i = 0; i < RISK_CURVE_COLS - 1; i++)
		if (l->off[i] >= 0)
			memcpy(data + l->off[i], &m[i], sizeof(double));
	data[l->off[RISK_CURVE_COLS - 1]] = (char) (r->tail_resolved != 0);
	tuple.t_len = (uint32) l->len;
	ItemPointerSetInvalid(&(tuple.t_self));
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = cr->buf;
	tuplestore_puttuple(cr->store, &tuple);
}

static void
CurveRowsEnd(CurveRows *cr)
{
	if (!cr->by_hand)
		return;
	pfree(cr->full.header);
	pfree(cr->pd0.header);
	pfree(cr->buf);
}

/* Evaluate the curve for loans and put one tuple per loan. */
static void
EmitCurve(FunctionCallInfo fcinfo, sf_env *env, const sf_risk_eval *ev, const double *loans,
		  int n, const char *what)
{
	sf_risk_row *rows = palloc(sizeof(sf_risk_row) * n);
	CurveRows	cr;
	int			i;

	SF_PG_CHECK(sf_risk_curve(env, ev, loans, (size_t) n, rows), env, what);
	CurveRowsInit(&cr, fcinfo);
	for (i = 0; i < n; i++)
		CurveRowsPut(&cr, &rows[i]);
	CurveRowsEnd(&cr);
	pfree(rows);
}

/*
 * The seller's sales distribution of a risk function: the QRGMM curve of
 * the model and covariates in arguments 0 and 1, or (samples) the sales
 * samples in argument 0; then the evaluator of the terms on it, which
 * points into the curve, so both go together (RiskDistFree).
 */
typedef struct RiskDist
{
	bool		samples;
	sf_qcurve	curve;
	double	   *s;
	sf_risk_eval ev;
} RiskDist;

static void
RiskDistEval(FunctionCallInfo fcinfo, bool samples, sf_env *env, const sf_risk_terms *terms,
			 RiskDist *d, const char *what)
{
	int			K;

	d->samples = samples;
	if (samples)
	{
		d->s = SfGetSamples(PG_GETARG_ARRAYTYPE_P(0), &K, what, SAMPLES_HINT);
		SF_PG_CHECK(sf_risk_eval_samples(env, terms, d->s, (size_t) K, &d->ev), env, what);
	}
	else
	{
		QrgmmCurveForArgs(fcinfo, 0, 1, env, &d->curve);
		SF_PG_CHECK(sf_risk_eval_curve(env, terms, &d->curve, &d->ev), env, what);
	}
}

static void
RiskDistFree(sf_env *env, RiskDist *d)
{
	sf_risk_eval_free(env, &d->ev);
	if (d->samples)
		pfree(d->s);
	else
		sf_qcurve_free(env, &d->curve);
}

/*
 * loan_risk_curve(model, covariates, loans, terms) and
 * loan_risk_curve(samples, loans, terms): the arguments after the
 * distribution's are loans and terms.
 */
static Datum
RiskCurve(FunctionCallInfo fcinfo, bool samples)
{
	const char *what = "loan_risk_curve";
	int			at = samples ? 1 : 2;
	sf_env		env;
	sf_risk_terms terms;
	RiskDist	d;
	double	   *loans;
	int			n;

	SfStartResult(fcinfo);
	SfEnvInit(&env, CurrentMemoryContext);
	TermsForArg(PG_GETARG_JSONB_P(at + 1), &terms);
	loans = GetLoans(PG_GETARG_ARRAYTYPE_P(at), &n, what);
	RiskDistEval(fcinfo, samples, &env, &terms, &d, what);
	EmitCurve(fcinfo, &env, &d.ev, loans, n, what);
	RiskDistFree(&env, &d);
	pfree(loans);
	return (Datum) 0;
}

/* The C names of a risk function's two forms: body(fcinfo, samples). */
#define RISK_ENTRY(cname, body, samples) \
	PG_FUNCTION_INFO_V1(cname); \
	Datum cname(PG_FUNCTION_ARGS) { return body(fcinfo, samples); } \
	extern int	no_such_variable

RISK_ENTRY(loan_risk_curve, RiskCurve, false);
RISK_ENTRY(loan_risk_curve_samples, RiskCurve, true);

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

Datum
RiskLimitsJson(const double *limits, int n)
{
	StringInfoData buf;
	int			b,
				first = 1;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (b = 0; b < n; b++)
	{
		if (!isfinite(limits[b]))
			continue;
		appendStringInfo(&buf, "%s\"%s\": %.17g", first ? "" : ", ",
						 sf_risk_decision_binding_name(b), limits[b]);
		first = 0;
	}
	appendStringInfoChar(&buf, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
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
	values[11] = RiskLimitsJson(sz.limits, SF_BIND_COUNT);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* loan_size(model, covariates, policy) and loan_size(samples, policy) */
static Datum
RiskSize(FunctionCallInfo fcinfo, bool samples)
{
	const char *what = "loan_size";
	Jsonb	   *policy_jb = PG_GETARG_JSONB_P(samples ? 1 : 2);
	sf_env		env;
	sf_risk_policy policy;
	RiskDist	d;

	SfStartResult(fcinfo);
	SfEnvInit(&env, CurrentMemoryContext);
	SfParseParams(policy_jb, &sf_risk_policy_table, &policy);
	CheckCollateral(policy_jb, &policy);
	RiskDistEval(fcinfo, samples, &env, &policy.terms, &d, what);
	EmitSize(fcinfo, &env, &d.ev, &policy, what);
	RiskDistFree(&env, &d);
	return (Datum) 0;
}

RISK_ENTRY(loan_size, RiskSize, false);
RISK_ENTRY(loan_size_samples, RiskSize, true);

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

/*
 * round_cents(amount float8) numeric: round(amount::numeric, 2), the money
 * columns of the BI views.  float8 -> numeric prints 15 significant digits
 * and parses them back, most of the cost of reading a risk view; sf_cents
 * (src/risk/cents.c) gives the same cents from the binary value, and the
 * numeric is built from them once.  NaN, infinities and amounts from 1e13
 * on take PostgreSQL's own path, so every input gives round(amount::numeric, 2).
 */
PG_FUNCTION_INFO_V1(round_cents);
Datum
round_cents(PG_FUNCTION_ARGS)
{
	double		x = PG_GETARG_FLOAT8(0);
	int64_t		cents;

	if (sf_cents(x, &cents) == 0)
		PG_RETURN_NUMERIC(int64_div_fast_to_numeric((int64) cents, 2));
	return DirectFunctionCall2(numeric_round, DirectFunctionCall1(float8_numeric, Float8GetDatum(x)),
							   Int32GetDatum(2));
}
