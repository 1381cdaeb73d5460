/*
 * qrgmm_sql.c
 *	  SQL scoring of QRGMM models: the rearranged curve, exact quantiles and
 *	  CDF, seeded random and stratified generation (SETOF and array forms),
 *	  the pinball loss and the CRPS (exact from a model, or from samples),
 *	  and QrgmmCurveForArgs for the loan-risk functions (qrgmm_pg.h).
 *
 * Every function takes the model as bytea; the decoded model is cached per
 * call site (SfModelCacheGet), except in the set-returning qrgmm_sample
 * whose fn_extra belongs to the SRF machinery: it decodes once per call into
 * the multi-call context.  Decoding dispatches on the kind in the header
 * through the table of kinds (src/core/kinds.c): every kind with a curve
 * is a QRGMM kind here.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "scfrisk/qrgmm.h"
#include "scfrisk/sf_qscore.h"
#include "scfrisk/sf_rng.h"
#include "qrgmm_pg.h"

/* ------------------------------------------------------------ dispatch */

/* A decoded QRGMM model of any kind, as kept in the cache. */
typedef struct QrgmmAny
{
	const sf_kind *k;			/* its entry in the table of kinds */
	void	   *model;
} QrgmmAny;

static sf_status
qrgmm_any_decode(sf_env *env, const uint8_t *buf, size_t len, void **out)
{
	sf_container hdr;
	const sf_kind *k;
	QrgmmAny   *any;
	sf_status	st;

	st = sf_container_read_header(env, buf, len, &hdr);
	if (st != SF_OK)
		return st;
	k = sf_kind_find(hdr.kind);
	if (k == NULL || k->curve == NULL)
		return sf_fail(env, SF_EKIND, "model of kind %s is not a QRGMM model (expected qrgmm_linear or qrgmm_deepfm)",
					   sf_kind_name(hdr.kind) ? sf_kind_name(hdr.kind) : "unknown");
	any = sf_malloc(env, sizeof(QrgmmAny));
	if (any == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory");
	any->k = k;
	st = k->decode(env, buf, len, &any->model);
	if (st != SF_OK)
		return st;
	*out = any;
	return SF_OK;
}

/* Covariates of argument x_argno for a model, checked; palloc'd. */
static double *
GetCovariates(FunctionCallInfo fcinfo, int x_argno, const QrgmmAny *any)
{
	ArrayType  *xa = PG_GETARG_ARRAYTYPE_P(x_argno);
	uint32		width = any->k->n_features(any->model);
	double	   *x = palloc(sizeof(double) * Max(width, 1));

	SfGetFeatures(xa, (int) width, x, SF_MISSING_REJECT, "covariates");
	return x;
}

static void
CurveForArgs(FunctionCallInfo fcinfo, int model_argno, int x_argno, sf_env *env,
			 sf_qcurve *out, const char *what)
{
	QrgmmAny   *any = SfModelCacheGet(fcinfo, model_argno, qrgmm_any_decode, what);
	double	   *x = GetCovariates(fcinfo, x_argno, any);

	SF_PG_CHECK(any->k->curve(env, any->model, x, out), env, what);
	pfree(x);
}

void
QrgmmCurveForArgs(FunctionCallInfo fcinfo, int model_argno, int x_argno, sf_env *env,
				  sf_qcurve *out)
{
	/* errors name the function the user called (loan_risk_curve, ...) */
	CurveForArgs(fcinfo, model_argno, x_argno, env, out, SfFuncName(fcinfo, "qrgmm"));
}

void
QrgmmCurveFromValues(bytea *model, ArrayType *x, sf_env *env, sf_qcurve *out, const char *what)
{
	void	   *p;
	QrgmmAny   *any;
	uint32		width;
	double	   *xs;

	SF_PG_CHECK(qrgmm_any_decode(env, (const uint8_t *) VARDATA_ANY(model),
								 VARSIZE_ANY_EXHDR(model), &p), env, what);
	any = (QrgmmAny *) p;
	width = any->k->n_features(any->model);
	xs = palloc(sizeof(double) * Max(width, 1));
	SfGetFeatures(x, (int) width, xs, SF_MISSING_REJECT, "covariates");
	SF_PG_CHECK(any->k->curve(env, any->model, xs, out), env, what);
	pfree(xs);
}

/* ------------------------------------------------------------ checks */

static inline double
CheckTau(double tau, const char *what)
{
	if (!(tau > 0.0 && tau < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: tau must be in (0, 1), got %g", what, tau)));
	return tau;
}

/* A per-row environment in the current (per-tuple) context. */
static inline void
RowEnv(sf_env *env)
{
	SfEnvInit(env, CurrentMemoryContext);
}

/* ------------------------------------------------------------ curve, quantiles, cdf */

PG_FUNCTION_INFO_V1(qrgmm_curve);
Datum
qrgmm_curve(PG_FUNCTION_ARGS)
{
	sf_env		env;
	sf_qcurve	c;

	RowEnv(&env);
	CurveForArgs(fcinfo, 0, 1, &env, &c, "qrgmm_curve");
	PG_RETURN_ARRAYTYPE_P(SfMakeFloat8Array(c.qa, c.m + 1));
}

/*
 * One number of the curve of (model, x) in arguments 0 and 1: its quantile,
 * CDF or CRPS at v (f), for the scalar functions of a curve.
 */
static double
CurveAt(FunctionCallInfo fcinfo, double (*f) (const sf_qcurve *c, double v), double v,
		const char *what)
{
	sf_env		env;
	sf_qcurve	c;
	double		r;

	RowEnv(&env);
	CurveForArgs(fcinfo, 0, 1, &env, &c, what);
	r = f(&c, v);
	sf_qcurve_free(&env, &c);
	return r;
}

PG_FUNCTION_INFO_V1(qrgmm_quantile);
Datum
qrgmm_quantile(PG_FUNCTION_ARGS)
{
	double		tau = CheckTau(PG_GETARG_FLOAT8(2), "qrgmm_quantile");

	PG_RETURN_FLOAT8(CurveAt(fcinfo, sf_qcurve_quantile, tau, "qrgmm_quantile"));
}

PG_FUNCTION_INFO_V1(qrgmm_quantiles);
Datum
qrgmm_quantiles(PG_FUNCTION_ARGS)
{
	ArrayType  *ta = PG_GETARG_ARRAYTYPE_P(2);
	int			n;
	double	   *taus = SfGetFeaturesAlloc(ta, &n, SF_MISSING_REJECT, "taus");
	sf_env		env;
	sf_qcurve	c;
	int			i;

	for (i = 0; i < n; i++)
		CheckTau(taus[i], "qrgmm_quantiles");
	RowEnv(&env);
	CurveForArgs(fcinfo, 0, 1, &env, &c, "qrgmm_quantiles");
	for (i = 0; i < n; i++)
		taus[i] = sf_qcurve_quantile(&c, taus[i]);
	sf_qcurve_free(&env, &c);
	PG_RETURN_ARRAYTYPE_P(SfMakeFloat8Array(taus, n));
}

PG_FUNCTION_INFO_V1(qrgmm_cdf);
Datum
qrgmm_cdf(PG_FUNCTION_ARGS)
{
	double		s = PG_GETARG_FLOAT8(2);

	if (isnan(s))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("qrgmm_cdf: s is NaN")));
	PG_RETURN_FLOAT8(CurveAt(fcinfo, sf_qcurve_cdf, s, "qrgmm_cdf"));
}

/* ------------------------------------------------------------ sampling */

#define QRGMM_MAX_SAMPLES_ARRAY	100000000	/* 800 MB of float8 */
/*
 * Draws of one set-returning call.  In the select list the rows stream (one
 * per call: LIMIT ends the work, memory does not grow with n); in FROM,
 * PostgreSQL stores the whole set in a tuplestore (spilling to temp files)
 * before the first row is read, so n itself must be bounded: the array
 * form's cap, a few GB of temp files at most.
 */
#define QRGMM_MAX_SAMPLES_SET	QRGMM_MAX_SAMPLES_ARRAY

typedef enum QrgmmSampleMode
{
	QRGMM_SAMPLE_RANDOM,
	QRGMM_SAMPLE_STRATIFIED
} QrgmmSampleMode;

/* Unpack (n, seed, mode) of qrgmm_sample; NULLs and bad values are errors. */
static void
GetSampleArgs(FunctionCallInfo fcinfo, const char *what, int64 *n, int64 *seed,
			  QrgmmSampleMode *mode)
{
	char	   *m;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s: n must not be NULL", what)));
	*n = PG_GETARG_INT32(2);
	if (*n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: n must be >= 0, got %lld", what, (long long) *n)));
	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s: mode must not be NULL", what)));
	m = text_to_cstring(PG_GETARG_TEXT_PP(4));
	if (strcmp(m, "random") == 0)
		*mode = QRGMM_SAMPLE_RANDOM;
	else if (strcmp(m, "stratified") == 0)
		*mode = QRGMM_SAMPLE_STRATIFIED;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: mode must be \"random\" or \"stratified\", got \"%s\"", what, m)));
	if (PG_ARGISNULL(3))
	{
		if (*mode == QRGMM_SAMPLE_RANDOM)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s: seed must not be NULL in random mode", what),
					 errhint("Pass a seed for reproducible draws, or use mode \"stratified\".")));
		*seed = 0;
	}
	else
		*seed = PG_GETARG_INT64(3);
}

/* Decode the model argument without the fn_extra cache (SRF context). */
static QrgmmAny *
DecodeUncached(FunctionCallInfo fcinfo, int argno, const char *what)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(argno);
	sf_env		env;
	void	   *any;

	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(qrgmm_any_decode(&env, (const uint8_t *) VARDATA_ANY(b),
								 VARSIZE_ANY_EXHDR(b), &any), &env, what);
	return (QrgmmAny *) any;
}

typedef struct QrgmmSampleState
{
	sf_qcurve	curve;
	sf_rng		rng;
	QrgmmSampleMode mode;
	int64		n;
} QrgmmSampleState;

PG_FUNCTION_INFO_V1(qrgmm_sample);
Datum
qrgmm_sample(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	QrgmmSampleState *st;
	double		u;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext old;
		int64		n,
					seed;
		QrgmmSampleMode mode;
		sf_env		env;

		funcctx = SRF_FIRSTCALL_INIT();
		if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
			SRF_RETURN_DONE(funcctx);
		GetSampleArgs(fcinfo, "qrgmm_sample", &n, &seed, &mode);
		if (n > QRGMM_MAX_SAMPLES_SET)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("qrgmm_sample: n = %lld exceeds the limit of %d draws per call",
							(long long) n, QRGMM_MAX_SAMPLES_SET),
					 errdetail("In FROM, PostgreSQL stores every row of a set-returning function before reading the first."),
					 errhint("Draw in several calls with different seeds; in the select list the draws stream, so LIMIT stops them early.")));
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		st = palloc0(sizeof(QrgmmSampleState));
		SfEnvInit(&env, funcctx->multi_call_memory_ctx);
		QrgmmCurveFromValues(PG_GETARG_BYTEA_PP(0), PG_GETARG_ARRAYTYPE_P(1), &env, &st->curve,
							 "qrgmm_sample");
		sf_rng_init(&st->rng, (uint64) seed, 0);
		st->mode = mode;
		st->n = n;
		funcctx->user_fctx = st;
		MemoryContextSwitchTo(old);
	}
	funcctx = SRF_PERCALL_SETUP();
	st = funcctx->user_fctx;
	if (st == NULL || (int64) funcctx->call_cntr >= st->n)
		SRF_RETURN_DONE(funcctx);
	if (st->mode == QRGMM_SAMPLE_RANDOM)
		u = sf_rng_uniform(&st->rng);
	else
		u = ((double) funcctx->call_cntr + 0.5) / (double) st->n;
	SRF_RETURN_NEXT(funcctx, Float8GetDatum(sf_qcurve_quantile(&st->curve, u)));
}

PG_FUNCTION_INFO_V1(qrgmm_sample_array);
Datum
qrgmm_sample_array(PG_FUNCTION_ARGS)
{
	int64		n,
				seed;
	QrgmmSampleMode mode;
	sf_env		env;
	sf_qcurve	c;
	ArrayType  *result;
	double	   *out;
	size_t		nbytes;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	GetSampleArgs(fcinfo, "qrgmm_sample_array", &n, &seed, &mode);
	if (n > QRGMM_MAX_SAMPLES_ARRAY)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("qrgmm_sample_array: n = %lld exceeds the array limit of %d draws",
						(long long) n, QRGMM_MAX_SAMPLES_ARRAY),
				 errhint("Draw in several calls with different seeds and combine them.")));
	RowEnv(&env);
	CurveForArgs(fcinfo, 0, 1, &env, &c, "qrgmm_sample_array");

	/* build the array in place: header, then the draws written directly */
	nbytes = ARR_OVERHEAD_NONULLS(1) + sizeof(double) * (size_t) n;
	result = (ArrayType *) palloc_extended(nbytes, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	SET_VARSIZE(result, nbytes);
	result->ndim = 1;
	result->dataoffset = 0;
	result->elemtype = FLOAT8OID;
	ARR_DIMS(result)[0] = (int) n;
	ARR_LBOUND(result)[0] = 1;
	out = (double *) ARR_DATA_PTR(result);
	if (n > 0)
	{
		if (mode == QRGMM_SAMPLE_RANDOM)
		{
			sf_rng		rng;
			size_t		done = 0;

			sf_rng_init(&rng, (uint64) seed, 0);
			/* chunks so that a cancel lands within a fraction of a second */
			while (done < (size_t) n)
			{
				size_t		chunk = Min((size_t) n - done, (size_t) 1 << 20);

				CHECK_FOR_INTERRUPTS();
				sf_qcurve_sample(&c, &rng, out + done, chunk);
				done += chunk;
			}
		}
		else
			sf_qcurve_stratified(&c, out, (size_t) n);
	}
	if (n == 0)
		result = construct_empty_array(FLOAT8OID);
	sf_qcurve_free(&env, &c);
	PG_RETURN_ARRAYTYPE_P(result);
}

/* ------------------------------------------------------------ evaluation */

PG_FUNCTION_INFO_V1(pinball_loss);
Datum
pinball_loss(PG_FUNCTION_ARGS)
{
	double		y = SfCheckFinite(PG_GETARG_FLOAT8(0), "y");
	double		q = SfCheckFinite(PG_GETARG_FLOAT8(1), "q");
	double		tau = CheckTau(PG_GETARG_FLOAT8(2), "pinball_loss");

	PG_RETURN_FLOAT8(sf_pinball(y, q, tau));
}

double *
SfGetSamples(ArrayType *arr, int *n, const char *what, const char *hint)
{
	double	   *s = SfGetFeaturesAlloc(arr, n, SF_MISSING_REJECT, "samples");

	if (*n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: samples is empty", what),
				 hint ? errhint("%s", hint) : 0));
	return s;
}

PG_FUNCTION_INFO_V1(crps);
Datum
crps(PG_FUNCTION_ARGS)
{
	ArrayType  *za = PG_GETARG_ARRAYTYPE_P(0);
	double		y = SfCheckFinite(PG_GETARG_FLOAT8(1), "y");
	int			K;
	double	   *z = SfGetSamples(za, &K, "crps", NULL);

	PG_RETURN_FLOAT8(sf_crps_samples(z, K, y));
}

PG_FUNCTION_INFO_V1(qrgmm_crps);
Datum
qrgmm_crps(PG_FUNCTION_ARGS)
{
	double		y = SfCheckFinite(PG_GETARG_FLOAT8(2), "y");

	PG_RETURN_FLOAT8(CurveAt(fcinfo, sf_crps_curve, y, "qrgmm_crps"));
}

/*
 * CRPS aggregates: state float8[2] = {sum, count}, updated in place inside
 * the aggregate context (as float8_accum does).  The state functions take a
 * float8[] a user can pass by hand, so a misuse is a user error with a
 * SQLSTATE, not an internal one.
 */
static void
CheckCrpsState(ArrayType *st, const char *what)
{
	if (ARR_NDIM(st) != 1 || ARR_DIMS(st)[0] != 2 || ARR_HASNULL(st) ||
		ARR_ELEMTYPE(st) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: the state must be a float8[2] {sum, count} without NULLs", what)));
}

static ArrayType *
CrpsState(FunctionCallInfo fcinfo, const char *what)
{
	ArrayType  *st = PG_GETARG_ARRAYTYPE_P(0);

	if (!AggCheckCallContext(fcinfo, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s is the state function of scfrisk.crps_mean and runs only inside that aggregate",
						what)));
	CheckCrpsState(st, what);
	return st;
}

PG_FUNCTION_INFO_V1(qrgmm_crps_sfunc);
Datum
qrgmm_crps_sfunc(PG_FUNCTION_ARGS)
{
	ArrayType  *st = CrpsState(fcinfo, "qrgmm_crps_sfunc");
	double	   *acc = (double *) ARR_DATA_PTR(st);
	double		y = SfCheckFinite(PG_GETARG_FLOAT8(3), "y");
	sf_env		env;
	sf_qcurve	c;

	RowEnv(&env);
	CurveForArgs(fcinfo, 1, 2, &env, &c, "crps_mean");
	acc[0] += sf_crps_curve(&c, y);
	acc[1] += 1.0;
	sf_qcurve_free(&env, &c);
	PG_RETURN_ARRAYTYPE_P(st);
}

PG_FUNCTION_INFO_V1(crps_samples_sfunc);
Datum
crps_samples_sfunc(PG_FUNCTION_ARGS)
{
	ArrayType  *st = CrpsState(fcinfo, "crps_samples_sfunc");
	double	   *acc = (double *) ARR_DATA_PTR(st);
	ArrayType  *za = PG_GETARG_ARRAYTYPE_P(1);
	double		y = SfCheckFinite(PG_GETARG_FLOAT8(2), "y");
	int			K;
	double	   *z = SfGetSamples(za, &K, "crps_mean", NULL);

	acc[0] += sf_crps_samples(z, K, y);
	acc[1] += 1.0;
	pfree(z);
	PG_RETURN_ARRAYTYPE_P(st);
}

PG_FUNCTION_INFO_V1(crps_combine);
Datum
crps_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *a = CrpsState(fcinfo, "crps_combine");
	ArrayType  *b = PG_GETARG_ARRAYTYPE_P(1);
	double	   *x = (double *) ARR_DATA_PTR(a);
	const double *yv;

	CheckCrpsState(b, "crps_combine");
	yv = (const double *) ARR_DATA_PTR(b);
	x[0] += yv[0];
	x[1] += yv[1];
	PG_RETURN_ARRAYTYPE_P(a);
}

PG_FUNCTION_INFO_V1(crps_final);
Datum
crps_final(PG_FUNCTION_ARGS)
{
	ArrayType  *st = PG_GETARG_ARRAYTYPE_P(0);
	const double *acc;

	CheckCrpsState(st, "crps_final");
	acc = (const double *) ARR_DATA_PTR(st);
	if (acc[1] == 0.0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(acc[0] / acc[1]);
}

/* ------------------------------------------------------------ coefficients */

typedef struct QrgmmCoefState
{
	const sf_qrgmm_model *model;
	TupleDesc	tupdesc;
} QrgmmCoefState;

/*
 * scfrisk.qrgmm_coefficients(model) -> TABLE(level, tau, coefficients): the
 * coefficient matrix of a linear QRGMM model, one row per level, on the raw
 * basis (intercept first, then PolynomialFeatures order).
 */
PG_FUNCTION_INFO_V1(qrgmm_coefficients);
Datum
qrgmm_coefficients(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	QrgmmCoefState *st;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext old;
		QrgmmAny   *any;
		TupleDesc	tupdesc;

		funcctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		any = DecodeUncached(fcinfo, 0, "qrgmm_coefficients");
		if (any->k->tag != SF_KIND_QRGMM_LINEAR)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("qrgmm_coefficients: model of kind %s has no coefficient matrix (expected qrgmm_linear)",
							sf_kind_name(any->k->tag))));
		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "qrgmm_coefficients: return type must be a row type");
		st = palloc0(sizeof(QrgmmCoefState));
		st->model = any->model;
		st->tupdesc = BlessTupleDesc(tupdesc);
		funcctx->user_fctx = st;
		funcctx->max_calls = st->model->m - 1;
		MemoryContextSwitchTo(old);
	}
	funcctx = SRF_PERCALL_SETUP();
	st = funcctx->user_fctx;
	if (funcctx->call_cntr < funcctx->max_calls)
	{
		const sf_qrgmm_model *m = st->model;
		int			j = (int) funcctx->call_cntr;
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		HeapTuple	tuple;

		values[0] = Int32GetDatum(j + 1);
		values[1] = Float8GetDatum((double) (j + 1) / (double) m->m);
		values[2] = PointerGetDatum(SfMakeFloat8Array(m->coef + (size_t) j * m->p, m->p));
		tuple = heap_form_tuple(st->tupdesc, values, nulls);
		SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(tuple));
	}
	SRF_RETURN_DONE(funcctx);
}
