/*
 * mlp_agg.c
 *	  Training aggregates of the MLP and logistic regression, and the
 *	  partial-dependence aggregate: transition, serialisation, combine and
 *	  final functions.
 *
 * The transition state (SfRowState) collects the rows in the aggregate
 * memory context, growing by doubling with huge allocations, so a training
 * set is limited by memory, not by 1 GB.  With a parallel plan the partial
 * states are serialised, combined (rows appended) and trained once in the
 * leader.  The final functions put the rows in a canonical order (a hash
 * of their content) before training, so the model bytes do not depend on
 * the scan order or on the plan.
 * Rows whose features or label are NULL are skipped, as avg() skips NULLs.
 * The final functions train in their own memory context ("scfrisk mlp
 * fit"), copy the model bytes out and delete it.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "nodes/pg_list.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "scfrisk/logreg.h"
#include "scfrisk/mlp.h"
#include "scfrisk/sf_blas.h"
#include "scfrisk/sf_rng.h"
#include "mlp_pg.h"

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

static inline MemoryContext
CheckAggContext(FunctionCallInfo fcinfo, const char *what)
{
	MemoryContext aggcxt;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "%s called in non-aggregate context", what);
	return aggcxt;
}

static SfRowState *
RowStateNew(MemoryContext cxt, int n_cols)
{
	SfRowState *st = MemoryContextAllocZero(cxt, sizeof(SfRowState));

	st->n_cols = n_cols;
	st->cap = 64;
	st->x = MemoryContextAllocHuge(cxt, sizeof(double) * (Size) st->cap * Max(n_cols, 1));
	st->y = MemoryContextAllocHuge(cxt, sizeof(double) * (Size) st->cap);
	return st;
}

static void
RowStateReserve(SfRowState *st, int64 rows)
{
	if (st->n_rows + rows > st->cap)
	{
		int64		cap = st->cap;

		while (cap < st->n_rows + rows)
			cap *= 2;
		if ((Size) cap * Max(st->n_cols, 1) > MaxAllocHugeSize / sizeof(double))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many training rows for one aggregate (%lld)", (long long) cap)));
		if (scfrisk_max_memory_mb > 0 &&
			(double) sizeof(double) * cap * (Max(st->n_cols, 1) + 1) >
			(double) scfrisk_max_memory_mb * 1024.0 * 1024.0)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("training rows need more than scfrisk.max_memory_mb (%d MB)",
							scfrisk_max_memory_mb),
					 errhint("Raise scfrisk.max_memory_mb or train on a sample.")));
		st->x = repalloc_huge(st->x, sizeof(double) * (Size) cap * Max(st->n_cols, 1));
		st->y = repalloc_huge(st->y, sizeof(double) * (Size) cap);
		st->cap = cap;
	}
}

/*
 * Append one row: features (NaN for missing unless rejected) and label.
 * The first row fixes the width; the label must be finite.
 */
static SfRowState *
RowStateAdd(FunctionCallInfo fcinfo, SfRowState *st, ArrayType *feat, double label,
			SfMissingPolicy policy, const char *what)
{
	MemoryContext aggcxt = CheckAggContext(fcinfo, what);
	int			n = SfArrayLength(feat, "features");

	if (isnan(label) || isinf(label))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: label is not finite", what)));
	if (st == NULL)
	{
		if (n < 1)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s: features is an empty array", what)));
		st = RowStateNew(aggcxt, n);
	}
	else if (n != st->n_cols)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: features has %d elements, expected %d", what, n, st->n_cols),
				 errdetail("Every row must have the width of the first row.")));
	RowStateReserve(st, 1);
	SfGetFeatures(feat, n, st->x + st->n_rows * st->n_cols, policy, "features");
	st->y[st->n_rows] = label;
	st->n_rows++;
	return st;
}

static void
RowStateKeepParams(FunctionCallInfo fcinfo, SfRowState *st, int argno)
{
	if (st->params == NULL && !PG_ARGISNULL(argno))
	{
		MemoryContext aggcxt = CheckAggContext(fcinfo, "params");
		Jsonb	   *jb = PG_GETARG_JSONB_P(argno);
		Jsonb	   *copy = MemoryContextAlloc(aggcxt, VARSIZE(jb));

		memcpy(copy, jb, VARSIZE(jb));
		st->params = copy;
	}
}

/* ------------------------------------------------------------ transitions */

PG_FUNCTION_INFO_V1(mlp_train_sfunc);
Datum
mlp_train_sfunc(PG_FUNCTION_ARGS)
{
	SfRowState *st = PG_ARGISNULL(0) ? NULL : (SfRowState *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		CheckAggContext(fcinfo, "mlp_train");
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	st = RowStateAdd(fcinfo, st, PG_GETARG_ARRAYTYPE_P(1), PG_GETARG_FLOAT8(2),
					 SF_MISSING_AS_NAN, "mlp_train");
	if (PG_NARGS() > 3)
		RowStateKeepParams(fcinfo, st, 3);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(logreg_train_sfunc);
Datum
logreg_train_sfunc(PG_FUNCTION_ARGS)
{
	SfRowState *st = PG_ARGISNULL(0) ? NULL : (SfRowState *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		CheckAggContext(fcinfo, "logreg_train");
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	st = RowStateAdd(fcinfo, st, PG_GETARG_ARRAYTYPE_P(1), PG_GETARG_FLOAT8(2),
					 SF_MISSING_REJECT, "logreg_train");
	if (PG_NARGS() > 3)
		RowStateKeepParams(fcinfo, st, 3);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(xgb_mlp_train_sfunc);
Datum
xgb_mlp_train_sfunc(PG_FUNCTION_ARGS)
{
	SfRowState *st = PG_ARGISNULL(0) ? NULL : (SfRowState *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		CheckAggContext(fcinfo, "xgb_mlp_train");
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	st = RowStateAdd(fcinfo, st, PG_GETARG_ARRAYTYPE_P(1), PG_GETARG_FLOAT8(2),
					 SF_MISSING_AS_NAN, "xgb_mlp_train");
	if (PG_NARGS() > 3)
		RowStateKeepParams(fcinfo, st, 3);
	PG_RETURN_POINTER(st);
}

/* ------------------------------------------------- serialise and combine */

/*
 * Serialised state: int32 n_cols, int64 n_rows, int32 params length (0 =
 * none), params bytes, then x and y as native doubles (the bytes never leave
 * the server: parallel workers share the architecture).
 */
PG_FUNCTION_INFO_V1(mlp_rows_serialize);
Datum
mlp_rows_serialize(PG_FUNCTION_ARGS)
{
	SfRowState *st = (SfRowState *) PG_GETARG_POINTER(0);
	int32		plen = st->params ? VARSIZE(st->params) : 0;
	Size		xbytes = sizeof(double) * (Size) st->n_rows * st->n_cols;
	Size		ybytes = sizeof(double) * (Size) st->n_rows;
	Size		len = VARHDRSZ + 4 + 8 + 4 + plen + xbytes + ybytes;
	bytea	   *out;
	char	   *p;

	CheckAggContext(fcinfo, "mlp_rows_serialize");
	if (len > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("partial training state of %zu bytes is too large to pass between workers", len),
				 errhint("Disable parallel aggregation for this query (SET max_parallel_workers_per_gather = 0).")));
	out = palloc(len);
	SET_VARSIZE(out, len);
	p = VARDATA(out);
	memcpy(p, &st->n_cols, 4);
	memcpy(p + 4, &st->n_rows, 8);
	memcpy(p + 12, &plen, 4);
	p += 16;
	if (plen)
		memcpy(p, st->params, plen);
	p += plen;
	memcpy(p, st->x, xbytes);
	memcpy(p + xbytes, st->y, ybytes);
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(mlp_rows_deserialize);
Datum
mlp_rows_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	MemoryContext aggcxt = CheckAggContext(fcinfo, "mlp_rows_deserialize");
	const char *p = VARDATA_ANY(in);
	Size		len = VARSIZE_ANY_EXHDR(in);
	int32		n_cols,
				plen;
	int64		n_rows;
	SfRowState *st;

	if (len < 16)
		elog(ERROR, "truncated partial training state");
	memcpy(&n_cols, p, 4);
	memcpy(&n_rows, p + 4, 8);
	memcpy(&plen, p + 12, 4);
	if (n_cols < 1 || n_rows < 0 || plen < 0 ||
		len != 16 + (Size) plen + sizeof(double) * (Size) n_rows * (n_cols + 1))
		elog(ERROR, "malformed partial training state");
	st = RowStateNew(aggcxt, n_cols);
	p += 16;
	if (plen)
	{
		st->params = MemoryContextAlloc(aggcxt, plen);
		memcpy(st->params, p, plen);
	}
	p += plen;
	RowStateReserve(st, n_rows);
	memcpy(st->x, p, sizeof(double) * (Size) n_rows * n_cols);
	memcpy(st->y, p + sizeof(double) * (Size) n_rows * n_cols, sizeof(double) * (Size) n_rows);
	st->n_rows = n_rows;
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(mlp_rows_combine);
Datum
mlp_rows_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = CheckAggContext(fcinfo, "mlp_rows_combine");
	SfRowState *a = PG_ARGISNULL(0) ? NULL : (SfRowState *) PG_GETARG_POINTER(0);
	SfRowState *b = PG_ARGISNULL(1) ? NULL : (SfRowState *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
	{
		/* copy b into the aggregate context */
		a = RowStateNew(aggcxt, b->n_cols);
		if (b->params)
		{
			a->params = MemoryContextAlloc(aggcxt, VARSIZE(b->params));
			memcpy(a->params, b->params, VARSIZE(b->params));
		}
	}
	else if (a->n_cols != b->n_cols)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("features has %d elements, expected %d", b->n_cols, a->n_cols)));
	if (a->params == NULL && b->params != NULL)
	{
		a->params = MemoryContextAlloc(aggcxt, VARSIZE(b->params));
		memcpy(a->params, b->params, VARSIZE(b->params));
	}
	{
		MemoryContext old = MemoryContextSwitchTo(aggcxt);

		RowStateReserve(a, b->n_rows);
		MemoryContextSwitchTo(old);
	}
	memcpy(a->x + a->n_rows * a->n_cols, b->x, sizeof(double) * (Size) b->n_rows * b->n_cols);
	memcpy(a->y + a->n_rows, b->y, sizeof(double) * (Size) b->n_rows);
	a->n_rows += b->n_rows;
	PG_RETURN_POINTER(a);
}

/* ------------------------------------------------------------ finals */

/* 64-bit hash of a row's bytes (features then label), splitmix64 mixing */
static uint64
RowHash(const double *x, int n, double y)
{
	uint64		h = 0x9E3779B97F4A7C15ULL;
	int			j;

	for (j = 0; j <= n; j++)
	{
		double		v = j < n ? x[j] : y;
		uint64		b;

		memcpy(&b, &v, sizeof(b));
		h ^= b;
		h = sf_splitmix64(&h);
	}
	return h;
}

typedef struct RowKey
{
	uint64		hash;
	int64		row;
	const SfRowState *st;
} RowKey;

static int
CmpRowKey(const void *a, const void *b)
{
	const RowKey *x = a,
			   *y = b;
	int			c;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	c = memcmp(x->st->x + x->row * x->st->n_cols, y->st->x + y->row * y->st->n_cols,
			   sizeof(double) * x->st->n_cols);
	if (c != 0)
		return c;
	c = memcmp(&x->st->y[x->row], &y->st->y[y->row], sizeof(double));
	return c;
}

/*
 * The rows in a canonical order (by a hash of their content, ties by their
 * bytes), as palloc'd copies: training then does not depend on the scan
 * order, so a parallel plan (whose partial states combine in any order)
 * gives the same model bytes as a serial one.
 */
void
SfRowsCanonical(const SfRowState *st, double **x, double **y)
{
	RowKey	   *keys = palloc_extended(sizeof(RowKey) * (Size) st->n_rows, MCXT_ALLOC_HUGE);
	double	   *cx = palloc_extended(sizeof(double) * (Size) st->n_rows * st->n_cols, MCXT_ALLOC_HUGE);
	double	   *cy = palloc_extended(sizeof(double) * (Size) st->n_rows, MCXT_ALLOC_HUGE);
	int64		i;

	for (i = 0; i < st->n_rows; i++)
	{
		keys[i].hash = RowHash(st->x + i * st->n_cols, st->n_cols, st->y[i]);
		keys[i].row = i;
		keys[i].st = st;
	}
	qsort(keys, (size_t) st->n_rows, sizeof(RowKey), CmpRowKey);
	for (i = 0; i < st->n_rows; i++)
	{
		memcpy(cx + i * st->n_cols, st->x + keys[i].row * st->n_cols, sizeof(double) * st->n_cols);
		cy[i] = st->y[keys[i].row];
	}
	pfree(keys);
	*x = cx;
	*y = cy;
}

SfRowState *
SfRowsCheck(FunctionCallInfo fcinfo, const char *what)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: no training rows", what),
				 errdetail("Every row had NULL features or a NULL label, or the input was empty.")));
	return (SfRowState *) PG_GETARG_POINTER(0);
}

/* Labels 0/1, checked in scan order so the message names the input row. */
void
SfRowsCheckBinary(const SfRowState *st, const char *what)
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
	SfRowState *st = SfRowsCheck(fcinfo, "mlp_train");
	MemoryContext fitcxt,
				old;
	mlp_params	p;
	mlp_model	m;
	sf_env		env;
	sf_buf		b;
	bytea	   *out;
	double	   *x,
			   *y;

	SfParseMlpParams(st->params, &p);
	if (p.objective == MLP_OBJ_BINARY)
		SfRowsCheckBinary(st, "mlp_train");
	fitcxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk mlp fit", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(fitcxt);
	SfEnvInit(&env, fitcxt);
	SfRowsCanonical(st, &x, &y);
	sf_blas_set_threads(env.threads);
	SF_PG_CHECK(mlp_fit(&env, &p, x, y, (size_t) st->n_rows, st->n_cols, &m), &env, "mlp_train");
	sf_buf_init(&b, &env);
	SF_PG_CHECK(mlp_encode(&env, &m, &p, NULL, (uint64_t) st->n_rows, &b), &env, "mlp_train");
	MemoryContextSwitchTo(old);
	out = SfBufToBytea(&b);
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(logreg_train_final);
Datum
logreg_train_final(PG_FUNCTION_ARGS)
{
	SfRowState *st = SfRowsCheck(fcinfo, "logreg_train");
	MemoryContext fitcxt,
				old;
	logreg_params p;
	logreg_model m;
	sf_env		env;
	sf_buf		b;
	bytea	   *out;
	double	   *x,
			   *y;

	SfParseParams(st->params, &logreg_params_table, &p);
	SfRowsCheckBinary(st, "logreg_train");
	fitcxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk logreg fit", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(fitcxt);
	SfEnvInit(&env, fitcxt);
	SfRowsCanonical(st, &x, &y);
	SF_PG_CHECK(logreg_fit(&env, &p, x, y, (size_t) st->n_rows, st->n_cols, &m), &env, "logreg_train");
	sf_buf_init(&b, &env);
	SF_PG_CHECK(logreg_encode(&env, &m, &p, NULL, (uint64_t) st->n_rows, &b), &env, "logreg_train");
	MemoryContextSwitchTo(old);
	out = SfBufToBytea(&b);
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(out);
}

/* ------------------------------------------------- partial dependence */

PG_FUNCTION_INFO_V1(partial_dependence_sfunc);
Datum
partial_dependence_sfunc(PG_FUNCTION_ARGS)
{
	SfRowState *st = PG_ARGISNULL(0) ? NULL : (SfRowState *) PG_GETARG_POINTER(0);
	MemoryContext aggcxt = CheckAggContext(fcinfo, "partial_dependence");

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
		st = RowStateAdd(fcinfo, NULL, PG_GETARG_ARRAYTYPE_P(2), 0.0, SF_MISSING_AS_NAN,
						 "partial_dependence");
		st->model = MemoryContextAlloc(aggcxt, VARSIZE_ANY(model));
		memcpy(st->model, model, VARSIZE_ANY(model));
		st->grid = MemoryContextAlloc(aggcxt, VARSIZE(grid));
		memcpy(st->grid, grid, VARSIZE(grid));
		st->feature = PG_GETARG_INT32(3);
		if (st->feature < 1 || st->feature > st->n_cols)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("partial_dependence: feature %d is out of range 1..%d",
							st->feature, st->n_cols)));
	}
	else
		st = RowStateAdd(fcinfo, st, PG_GETARG_ARRAYTYPE_P(2), 0.0, SF_MISSING_AS_NAN,
						 "partial_dependence");
	PG_RETURN_POINTER(st);
}

/*
 * Mean of scfrisk.predict(model, x with x[feature] = g) over the rows, for
 * each grid value g (Friedman 2001, eq. 40).  Scoring goes through the
 * generic predict function, so every model kind it dispatches is supported
 * (one FmgrInfo is kept for the whole call so predict's model cache decodes
 * the model once); the kinds of this file are scored directly.
 */
PG_FUNCTION_INFO_V1(partial_dependence_final);
Datum
partial_dependence_final(PG_FUNCTION_ARGS)
{
	SfRowState *st;
	int			ng,
				g,
				j;
	int64		i;
	double	   *grid,
			   *mean,
			   *xrow;
	const SfScorer *local = NULL;
	sf_container c;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (SfRowState *) PG_GETARG_POINTER(0);
	grid = SfGetFeaturesAlloc(st->grid, &ng, SF_MISSING_REJECT, "grid");
	mean = palloc0(sizeof(double) * ng);
	xrow = palloc(sizeof(double) * st->n_cols);
	SfContainerFromBytea(st->model, &c, "partial_dependence");
	if (c.n_features != (uint32) st->n_cols)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("partial_dependence: features has %d elements, the model expects %u",
						st->n_cols, c.n_features)));
	if (c.kind == SF_KIND_MLP)
		local = &sf_mlp_scorer;
	else if (c.kind == SF_KIND_LOGREG)
		local = &sf_logreg_scorer;

	if (local != NULL)
	{
		/* kinds of this file: decode once and score directly */
		sf_env		env;
		void	   *model;

		SfEnvInit(&env, CurrentMemoryContext);
		SF_PG_CHECK(local->decode(&env, (const uint8_t *) VARDATA_ANY(st->model),
								  VARSIZE_ANY_EXHDR(st->model), &model), &env, "partial_dependence");
		for (g = 0; g < ng; g++)
		{
			double		s = 0.0;

			for (i = 0; i < st->n_rows; i++)
			{
				if ((i & 1023) == 0)
					CHECK_FOR_INTERRUPTS();
				memcpy(xrow, st->x + i * st->n_cols, sizeof(double) * st->n_cols);
				xrow[st->feature - 1] = grid[g];
				s += local->predict(model, xrow);
			}
			mean[g] = s / (double) st->n_rows;
		}
	}
	else
	{
		/* every other kind through the generic scfrisk.predict */
		Oid			argtypes[2] = {BYTEAOID, FLOAT8ARRAYOID};
		Oid			fn;
		FmgrInfo	flinfo;
		Datum	   *elems = palloc(sizeof(Datum) * st->n_cols);
		MemoryContext loopcxt,
					old;

		fn = LookupFuncName(list_make2(makeString("scfrisk"), makeString("predict")), 2, argtypes, true);
		if (!OidIsValid(fn))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("partial_dependence needs scfrisk.predict(bytea, float8[]) for %s models",
							sf_kind_name(c.kind) ? sf_kind_name(c.kind) : "these")));
		fmgr_info(fn, &flinfo);
		loopcxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk pdp row", ALLOCSET_DEFAULT_SIZES);
		for (g = 0; g < ng; g++)
		{
			double		s = 0.0;

			for (i = 0; i < st->n_rows; i++)
			{
				const double *x = st->x + i * st->n_cols;
				ArrayType  *row;
				Datum		d;

				CHECK_FOR_INTERRUPTS();
				old = MemoryContextSwitchTo(loopcxt);
				for (j = 0; j < st->n_cols; j++)
					elems[j] = Float8GetDatum(j == st->feature - 1 ? grid[g] : x[j]);
				row = construct_array(elems, st->n_cols, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
									  TYPALIGN_DOUBLE);
				d = FunctionCall2(&flinfo, PointerGetDatum(st->model), PointerGetDatum(row));
				s += DatumGetFloat8(d);
				MemoryContextSwitchTo(old);
				MemoryContextReset(loopcxt);
			}
			mean[g] = s / (double) st->n_rows;
		}
		MemoryContextDelete(loopcxt);
	}
	PG_RETURN_ARRAYTYPE_P(SfMakeFloat8Array(mean, ng));
}
