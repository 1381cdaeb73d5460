/*
 * gbt_agg.c
 *	  The training aggregate scfrisk.xgb_train(features, label [, weight],
 *	  params): transition, serialisation, combine and final functions.
 *
 * The state is a compact row store of its own in the aggregate memory
 * context: features as float32 (the trees compare float32 values, as
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
#include "scfrisk/sf_rng.h"
#include "gbt_pg.h"

/* Transition state: the rows collected so far. */
typedef struct GbtRows
{
	int32		n_cols;			/* feature width, fixed by the first row */
	int64		n_rows;			/* rows collected */
	int64		cap;			/* rows allocated */
	bool		has_weight;		/* the weighted form of the aggregate */
	float	   *x;				/* (cap, n_cols) features, NaN = missing */
	double	   *y;				/* (cap) labels */
	double	   *w;				/* (cap) weights (1 without a weight argument) */
	Jsonb	   *params;			/* params of the first row, or NULL */
} GbtRows;

static inline MemoryContext
CheckAggContext(FunctionCallInfo fcinfo, const char *what)
{
	MemoryContext aggcxt;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "%s called in non-aggregate context", what);
	return aggcxt;
}

static GbtRows *
RowsNew(MemoryContext cxt, int n_cols, bool has_weight)
{
	GbtRows    *st = MemoryContextAllocZero(cxt, sizeof(GbtRows));

	st->n_cols = n_cols;
	st->has_weight = has_weight;
	st->cap = 256;
	st->x = MemoryContextAllocHuge(cxt, sizeof(float) * (Size) st->cap * n_cols);
	st->y = MemoryContextAllocHuge(cxt, sizeof(double) * (Size) st->cap);
	st->w = MemoryContextAllocHuge(cxt, sizeof(double) * (Size) st->cap);
	return st;
}

static void
RowsReserve(GbtRows *st, int64 rows)
{
	int64		cap = st->cap;

	if (st->n_rows + rows <= cap)
		return;
	while (cap < st->n_rows + rows)
		cap *= 2;
	if ((Size) cap * st->n_cols > MaxAllocHugeSize / sizeof(float) || cap >= (int64) UINT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("xgb_train: too many training rows for one aggregate (%lld)", (long long) cap)));
	if (scfrisk_max_memory_mb > 0 &&
		((double) sizeof(float) * st->n_cols + 16.0) * cap >
		(double) scfrisk_max_memory_mb * 1024.0 * 1024.0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("xgb_train: training rows need more than scfrisk.max_memory_mb (%d MB)",
						scfrisk_max_memory_mb),
				 errhint("Raise scfrisk.max_memory_mb or train on a sample.")));
	st->x = repalloc_huge(st->x, sizeof(float) * (Size) cap * st->n_cols);
	st->y = repalloc_huge(st->y, sizeof(double) * (Size) cap);
	st->w = repalloc_huge(st->w, sizeof(double) * (Size) cap);
	st->cap = cap;
}

static void
KeepParams(MemoryContext cxt, GbtRows *st, Jsonb *jb)
{
	if (st->params == NULL && jb != NULL)
	{
		st->params = MemoryContextAlloc(cxt, VARSIZE(jb));
		memcpy(st->params, jb, VARSIZE(jb));
	}
}

/*
 * Transition: xgb_train_sfunc(state, features, label, params) and
 * xgb_train_w_sfunc(state, features, label, weight, params).
 */
static Datum
TrainTransition(FunctionCallInfo fcinfo, bool weighted)
{
	MemoryContext aggcxt = CheckAggContext(fcinfo, "xgb_train");
	GbtRows    *st = PG_ARGISNULL(0) ? NULL : (GbtRows *) PG_GETARG_POINTER(0);
	int			pargno = weighted ? 4 : 3;
	ArrayType  *feat;
	double		label,
				weight = 1.0;
	int			n,
				j;
	double		stackx[256];
	double	   *xr;

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
		st = RowsNew(aggcxt, n, weighted);
	}
	else if (n != st->n_cols)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("xgb_train: features has %d elements, expected %d", n, st->n_cols),
				 errdetail("Every row must have the width of the first row.")));
	if (st->params == NULL && !PG_ARGISNULL(pargno))
		KeepParams(aggcxt, st, PG_GETARG_JSONB_P(pargno));
	RowsReserve(st, 1);
	xr = n <= 256 ? stackx : palloc(sizeof(double) * n);
	SfGetFeatures(feat, n, xr, SF_MISSING_AS_NAN, "features");
	for (j = 0; j < n; j++)
	{
		float		v = (float) xr[j];

		if (isinf(v))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("xgb_train: element %d of features (%g) is out of the float4 range the trees compare in",
							j + 1, xr[j])));
		st->x[st->n_rows * st->n_cols + j] = v;
	}
	if (xr != stackx)
		pfree(xr);
	st->y[st->n_rows] = label;
	st->w[st->n_rows] = weight;
	st->n_rows++;
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

/*
 * Serialised state: int32 n_cols, int64 n_rows, int32 has_weight, int32
 * params length (0 = none), params, then x (float4), y and w (float8), in
 * native byte order: the bytes only travel between workers of one server.
 */
#define GBT_SER_HEAD 20

PG_FUNCTION_INFO_V1(xgb_rows_serialize);
Datum
xgb_rows_serialize(PG_FUNCTION_ARGS)
{
	GbtRows    *st = (GbtRows *) PG_GETARG_POINTER(0);
	int32		plen = st->params ? VARSIZE(st->params) : 0;
	int32		hw = st->has_weight;
	Size		xb = sizeof(float) * (Size) st->n_rows * st->n_cols;
	Size		yb = sizeof(double) * (Size) st->n_rows;
	Size		len = VARHDRSZ + GBT_SER_HEAD + plen + xb + 2 * yb;
	bytea	   *out;
	char	   *p;

	CheckAggContext(fcinfo, "xgb_rows_serialize");
	if (len > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("xgb_train: partial training state of %zu bytes is too large to pass between workers", len),
				 errhint("Disable parallel aggregation for this query (SET max_parallel_workers_per_gather = 0).")));
	out = palloc(len);
	SET_VARSIZE(out, len);
	p = VARDATA(out);
	memcpy(p, &st->n_cols, 4);
	memcpy(p + 4, &st->n_rows, 8);
	memcpy(p + 12, &hw, 4);
	memcpy(p + 16, &plen, 4);
	p += GBT_SER_HEAD;
	if (plen)
		memcpy(p, st->params, plen);
	p += plen;
	memcpy(p, st->x, xb);
	memcpy(p + xb, st->y, yb);
	memcpy(p + xb + yb, st->w, yb);
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(xgb_rows_deserialize);
Datum
xgb_rows_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	MemoryContext aggcxt = CheckAggContext(fcinfo, "xgb_rows_deserialize");
	const char *p = VARDATA_ANY(in);
	Size		len = VARSIZE_ANY_EXHDR(in);
	int32		n_cols,
				hw,
				plen;
	int64		n_rows;
	GbtRows    *st;

	if (len < GBT_SER_HEAD)
		elog(ERROR, "truncated partial xgb_train state");
	memcpy(&n_cols, p, 4);
	memcpy(&n_rows, p + 4, 8);
	memcpy(&hw, p + 12, 4);
	memcpy(&plen, p + 16, 4);
	if (n_cols < 1 || n_rows < 0 || plen < 0 ||
		len != GBT_SER_HEAD + (Size) plen + (Size) n_rows * (sizeof(float) * n_cols + 16))
		elog(ERROR, "malformed partial xgb_train state");
	st = RowsNew(aggcxt, n_cols, hw != 0);
	p += GBT_SER_HEAD;
	if (plen)
	{
		st->params = MemoryContextAlloc(aggcxt, plen);
		memcpy(st->params, p, plen);
	}
	p += plen;
	RowsReserve(st, n_rows);
	memcpy(st->x, p, sizeof(float) * (Size) n_rows * n_cols);
	p += sizeof(float) * (Size) n_rows * n_cols;
	memcpy(st->y, p, sizeof(double) * (Size) n_rows);
	memcpy(st->w, p + sizeof(double) * (Size) n_rows, sizeof(double) * (Size) n_rows);
	st->n_rows = n_rows;
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(xgb_rows_combine);
Datum
xgb_rows_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = CheckAggContext(fcinfo, "xgb_rows_combine");
	GbtRows    *a = PG_ARGISNULL(0) ? NULL : (GbtRows *) PG_GETARG_POINTER(0);
	GbtRows    *b = PG_ARGISNULL(1) ? NULL : (GbtRows *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = RowsNew(aggcxt, b->n_cols, b->has_weight);
	else if (a->n_cols != b->n_cols)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("xgb_train: features has %d elements, expected %d", b->n_cols, a->n_cols),
				 errdetail("Every row must have the width of the first row.")));
	KeepParams(aggcxt, a, b->params);
	RowsReserve(a, b->n_rows);
	memcpy(a->x + a->n_rows * a->n_cols, b->x, sizeof(float) * (Size) b->n_rows * b->n_cols);
	memcpy(a->y + a->n_rows, b->y, sizeof(double) * (Size) b->n_rows);
	memcpy(a->w + a->n_rows, b->w, sizeof(double) * (Size) b->n_rows);
	a->n_rows += b->n_rows;
	PG_RETURN_POINTER(a);
}

/* ------------------------------------------------------------ final */

typedef struct RowKey
{
	uint64		hash;
	uint32		row;
} RowKey;

static const GbtRows *sort_rows;	/* the state being sorted (qsort has no context) */

static int
CmpRowKey(const void *pa, const void *pb)
{
	const RowKey *a = pa,
			   *b = pb;
	const GbtRows *st = sort_rows;
	int			c;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	c = memcmp(st->x + (Size) a->row * st->n_cols, st->x + (Size) b->row * st->n_cols,
			   sizeof(float) * st->n_cols);
	if (c == 0)
		c = memcmp(&st->y[a->row], &st->y[b->row], sizeof(double));
	if (c == 0)
		c = memcmp(&st->w[a->row], &st->w[b->row], sizeof(double));
	return c;
}

static uint64
RowHash(const GbtRows *st, int64 i)
{
	uint64		h = 0x9E3779B97F4A7C15ULL;
	const uint32 *xb = (const uint32 *) (st->x + i * st->n_cols);
	int			j;
	uint64		b;

	for (j = 0; j < st->n_cols; j++)
	{
		h ^= xb[j];
		h = sf_splitmix64(&h);
	}
	memcpy(&b, &st->y[i], 8);
	h ^= b;
	h = sf_splitmix64(&h);
	memcpy(&b, &st->w[i], 8);
	h ^= b;
	return sf_splitmix64(&h);
}

/*
 * The rows in canonical order as a double matrix x (n, n_cols), labels and
 * weights (NULL when unweighted), palloc'd in the current context.
 */
static void
RowsCanonical(const GbtRows *st, double **x, double **y, double **w)
{
	RowKey	   *keys = palloc_extended(sizeof(RowKey) * (Size) st->n_rows, MCXT_ALLOC_HUGE);
	double	   *cx = palloc_extended(sizeof(double) * (Size) st->n_rows * st->n_cols, MCXT_ALLOC_HUGE);
	double	   *cy = palloc_extended(sizeof(double) * (Size) st->n_rows, MCXT_ALLOC_HUGE);
	double	   *cw = st->has_weight ? palloc_extended(sizeof(double) * (Size) st->n_rows, MCXT_ALLOC_HUGE) : NULL;
	int64		i;
	int			j;

	for (i = 0; i < st->n_rows; i++)
	{
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
		keys[i].hash = RowHash(st, i);
		keys[i].row = (uint32) i;
	}
	sort_rows = st;
	qsort(keys, (size_t) st->n_rows, sizeof(RowKey), CmpRowKey);
	sort_rows = NULL;
	for (i = 0; i < st->n_rows; i++)
	{
		const float *src = st->x + (Size) keys[i].row * st->n_cols;
		double	   *dst = cx + i * st->n_cols;

		for (j = 0; j < st->n_cols; j++)
			dst[j] = src[j];
		cy[i] = st->y[keys[i].row];
		if (cw)
			cw[i] = st->w[keys[i].row];
	}
	pfree(keys);
	*x = cx;
	*y = cy;
	*w = cw;
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

PG_FUNCTION_INFO_V1(xgb_train_final);
Datum
xgb_train_final(PG_FUNCTION_ARGS)
{
	GbtRows    *st;
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

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("xgb_train: no training rows"),
				 errdetail("Every row had NULL features, label or weight, or the input was empty.")));
	st = (GbtRows *) PG_GETARG_POINTER(0);
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
	RowsCanonical(st, &x, &y, &w);
	SF_PG_CHECK(gbt_train(&env, x, y, w, (size_t) st->n_rows, (uint32_t) st->n_cols, &p, &m),
				&env, "xgb_train");
	pfree(x);
	sf_buf_init(&b, &env);
	SF_PG_CHECK(gbt_encode(&env, m, &p, names, m->train_rows, &b), &env, "xgb_train");
	MemoryContextSwitchTo(old);
	out = SfBufToBytea(&b);
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(out);
}
