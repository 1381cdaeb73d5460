/*
 * rowstore_pg.c
 *	  The row store shared by scfrisk's training aggregates: allocation and
 *	  growth within scfrisk.max_memory_mb, append, combine, serialisation
 *	  and the double matrices handed to the cores.  See sf_rowstore_pg.h;
 *	  the canonical order itself is pure C in rowstore_order.c.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "sf_rowstore_pg.h"

MemoryContext
SfRowsAggContext(FunctionCallInfo fcinfo, const char *what)
{
	MemoryContext aggcxt;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "%s called in non-aggregate context", what);
	return aggcxt;
}

SfRows *
SfRowsNew(MemoryContext cxt, const SfRowsSpec *spec)
{
	SfRows	   *st = MemoryContextAllocZero(cxt, sizeof(SfRows));

	st->spec = spec;
	st->cxt = cxt;
	return st;
}

void
SfRowsSetWidth(SfRows *st, int n_cols, int n_cat)
{
	Assert(st->n_rows == 0 && n_cols >= 1 && n_cat >= 0 && n_cat <= n_cols);
	st->n_cols = n_cols;
	st->n_cat = n_cat;
}

/* Bytes one row takes in the store: elements, label, weight. */
static double
RowBytes(const SfRows *st)
{
	return (double) st->spec->kind.elem * Max(st->n_cols, 1) + sizeof(double) * (st->spec->kind.weighted ? 2 : 1);
}

void
SfRowsReserve(SfRows *st, int64 more)
{
	const SfRowsSpec *spec = st->spec;
	Size		cols = (Size) Max(st->n_cols, 1);
	int64		cap;

	if (st->n_rows + more <= st->cap)
		return;
	cap = Max(st->cap, 64);
	while (cap < st->n_rows + more)
		cap *= 2;
	/* row indexes of the cores are 32-bit in places (gbt, qrgmm) */
	if ((Size) cap > MaxAllocHugeSize / (spec->kind.elem * cols) || cap > (int64) UINT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s: too many training rows for one aggregate (%lld)",
						spec->what, (long long) (st->n_rows + more))));
	if (scfrisk_max_memory_mb > 0 &&
		RowBytes(st) * cap > (double) scfrisk_max_memory_mb * 1024.0 * 1024.0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s: training rows need more than scfrisk.max_memory_mb (%d MB)",
						spec->what, scfrisk_max_memory_mb),
				 errhint("Raise scfrisk.max_memory_mb or train on a sample.")));
	if (st->x == NULL)
	{
		st->x = MemoryContextAllocHuge(st->cxt, spec->kind.elem * cols * cap);
		st->y = MemoryContextAllocHuge(st->cxt, sizeof(double) * cap);
		if (spec->kind.weighted)
			st->w = MemoryContextAllocHuge(st->cxt, sizeof(double) * cap);
	}
	else
	{
		st->x = repalloc_huge(st->x, spec->kind.elem * cols * cap);
		st->y = repalloc_huge(st->y, sizeof(double) * cap);
		if (spec->kind.weighted)
			st->w = repalloc_huge(st->w, sizeof(double) * cap);
	}
	st->cap = cap;
}

void
SfRowsAppend(SfRows *st, const double *x, double y, double w, const char *argname)
{
	int			n_num = st->n_cols - st->n_cat;
	int			j;

	Assert(st->n_cols >= 1);
	SfRowsReserve(st, 1);
	if (st->spec->kind.elem == SF_ROWS_FLOAT8)
		memcpy((double *) st->x + st->n_rows * st->n_cols, x, sizeof(double) * st->n_cols);
	else
	{
		float	   *row = (float *) st->x + st->n_rows * st->n_cols;

		for (j = 0; j < n_num; j++)
		{
			float		v = (float) x[j];

			if (isinf(v))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("%s: element %d of %s (%g) is out of the float4 range training rows are stored in",
								st->spec->what, j + 1, argname, x[j])));
			row[j] = v;
		}
		/* ids: int32 bits, exact (a float would round ids past 2^24) */
		for (j = n_num; j < st->n_cols; j++)
		{
			int32		id = (int32) x[j];

			memcpy(&row[j], &id, sizeof(id));
		}
	}
	st->y[st->n_rows] = y;
	if (st->w)
		st->w[st->n_rows] = w;
	st->n_rows++;
}

void
SfRowsAppendArray(SfRows *st, ArrayType *arr, SfMissingPolicy policy, double y, double w,
				  const char *argname)
{
	double		stackx[256];
	double	   *xr = st->n_cols <= lengthof(stackx) ? stackx : palloc(sizeof(double) * st->n_cols);

	SfGetFeatures(arr, st->n_cols, xr, policy, argname);
	SfRowsAppend(st, xr, y, w, argname);
	if (xr != stackx)
		pfree(xr);
}

double
SfRowsFiniteResponse(const SfRows *st, double y)
{
	if (isnan(y) || isinf(y))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: response y is %s", st->spec->what, isnan(y) ? "NaN" : "infinite"),
				 errhint("Filter such rows out or replace them before training.")));
	return y;
}

/* Raise the error of params that differ between rows of one group. */
static void
ParamsDiffer(const SfRows *st, const Jsonb *other)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s: params differ between rows of one group", st->spec->what),
			 errdetail("One row has %s, another %s.",
					   st->params ? JsonbToCString(NULL, (JsonbContainer *) &st->params->root,
												   VARSIZE(st->params)) : "NULL",
					   other ? JsonbToCString(NULL, (JsonbContainer *) &other->root, VARSIZE(other)) : "NULL"),
			 errhint("Pass the same params on every row (a constant, or one value per GROUP BY group); "
					 "the model must not depend on row order.")));
}

void
SfRowsKeepParams(SfRows *st, Jsonb *jb)
{
	if (jb == NULL)
	{
		if (st->params != NULL)
			ParamsDiffer(st, NULL);
		st->params_null = true;
		return;
	}
	if (st->params == NULL)
	{
		if (st->params_null)
			ParamsDiffer(st, jb);
		st->params = MemoryContextAlloc(st->cxt, VARSIZE(jb));
		memcpy(st->params, jb, VARSIZE(jb));
		return;
	}
	/* the common case: the same constant on every row */
	if (VARSIZE(jb) == VARSIZE(st->params) &&
		memcmp(VARDATA(jb), VARDATA(st->params), VARSIZE(jb) - VARHDRSZ) == 0)
		return;
	if (compareJsonbContainers(&st->params->root, &jb->root) != 0)
		ParamsDiffer(st, jb);
}

/* A store holds rows whose params were NULL (then it may meet no others). */
static bool
SfRowsParamsNull(const SfRows *st)
{
	return st->params_null || (st->params == NULL && st->n_rows > 0);
}

void
SfRowsCombine(SfRows *a, const SfRows *b)
{
	Size		elem = a->spec->kind.elem;

	if (a->spec != b->spec)
		elog(ERROR, "%s: cannot combine with a state of %s", a->spec->what, b->spec->what);
	/* parallel workers: the same rule as between rows */
	if (b->params != NULL)
	{
		if (SfRowsParamsNull(a))
			ParamsDiffer(a, b->params);
		SfRowsKeepParams(a, b->params);
	}
	else if (SfRowsParamsNull(b))
	{
		if (a->params != NULL)
			ParamsDiffer(a, NULL);
		a->params_null = true;
	}
	if (b->n_rows == 0)
		return;
	if (a->n_cols == 0)
		SfRowsSetWidth(a, b->n_cols, b->n_cat);
	else if (a->n_cols != b->n_cols || a->n_cat != b->n_cat)
	{
		if (a->n_cat == 0 && b->n_cat == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s: rows have %d elements in one part of the parallel scan and %d in another",
							a->spec->what, b->n_cols, a->n_cols),
					 errdetail("Every row must have the width of the first row.")));
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: rows have %d numeric and %d categorical fields in one part of the parallel scan and %d and %d in another",
						a->spec->what, b->n_cols - b->n_cat, b->n_cat, a->n_cols - a->n_cat, a->n_cat),
				 errdetail("Every row must have the width of the first row.")));
	}
	SfRowsReserve(a, b->n_rows);
	memcpy((char *) a->x + elem * a->n_rows * a->n_cols, b->x, elem * b->n_rows * b->n_cols);
	memcpy(a->y + a->n_rows, b->y, sizeof(double) * b->n_rows);
	if (a->w)
		memcpy(a->w + a->n_rows, b->w, sizeof(double) * b->n_rows);
	a->n_rows += b->n_rows;
}

bytea *
SfRowsSerialize(const SfRows *st)
{
	const SfRowsSpec *spec = st->spec;
	sf_rows_header h;
	char	   *ptext = NULL;
	Size		xb = (Size) spec->kind.elem * st->n_rows * st->n_cols;
	Size		yb = sizeof(double) * st->n_rows;
	Size		len;
	bytea	   *out;
	char	   *p;

	memset(&h, 0, sizeof(h));
	h.magic = SF_ROWS_MAGIC;
	h.kind_id = spec->kind.id;
	h.elem = spec->kind.elem;
	h.weighted = spec->kind.weighted;
	h.n_cols = st->n_cols;
	h.n_cat = st->n_cat;
	h.n_rows = st->n_rows;
	/* params as text: a corrupt state then only meets jsonb's input checks */
	if (st->params)
	{
		ptext = JsonbToCString(NULL, &st->params->root, VARSIZE(st->params));
		h.params_len = strlen(ptext) + 1;
	}
	len = VARHDRSZ + sizeof(h) + h.params_len + xb + yb + (spec->kind.weighted ? yb : 0);
	if (len > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s: partial training state of %zu bytes is too large to pass between workers",
						spec->what, len),
				 errhint("Disable parallel aggregation for this query (SET max_parallel_workers_per_gather = 0).")));
	out = palloc(len);
	SET_VARSIZE(out, len);
	p = VARDATA(out);
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	if (ptext)
		memcpy(p, ptext, h.params_len);
	p += h.params_len;
	memcpy(p, st->x, xb);
	p += xb;
	memcpy(p, st->y, yb);
	p += yb;
	if (spec->kind.weighted)
		memcpy(p, st->w, yb);
	return out;
}

SfRows *
SfRowsDeserialize(bytea *in, MemoryContext cxt, const SfRowsSpec *const *specs, int n_specs)
{
	const sf_rows_kind *kinds[8];
	sf_rows_state rs;
	sf_env		env;
	sf_status	status;
	const SfRowsSpec *spec = NULL;
	SfRows	   *st;
	Size		n;
	int			i;

	Assert(n_specs >= 1 && n_specs <= lengthof(kinds));
	for (i = 0; i < n_specs; i++)
		kinds[i] = &specs[i]->kind;
	SfEnvInit(&env, CurrentMemoryContext);
	status = sf_rows_state_parse(&env, (const uint8 *) VARDATA_ANY(in), VARSIZE_ANY_EXHDR(in),
								 kinds, n_specs, &rs);
	if (status == SF_ECORRUPT)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("%s: malformed partial training state", specs[0]->what),
				 errdetail("Parsing stopped because %s.", env.msg)));
	SF_PG_CHECK(status, &env, specs[0]->what);
	for (i = 0; i < n_specs; i++)
		if (rs.kind == kinds[i])
			spec = specs[i];

	st = SfRowsNew(cxt, spec);
	if (rs.params)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		/* jsonb's input function: malformed text is its own error, not a crash */
		st->params = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(rs.params)));
		MemoryContextSwitchTo(old);
	}
	if (rs.h.n_cols > 0)
		SfRowsSetWidth(st, rs.h.n_cols, rs.h.n_cat);
	if (rs.h.n_rows == 0)
		return st;
	n = (Size) rs.h.n_rows;
	SfRowsReserve(st, rs.h.n_rows);
	memcpy(st->x, rs.x, (Size) spec->kind.elem * n * st->n_cols);
	memcpy(st->y, rs.y, sizeof(double) * n);
	if (rs.w)
		memcpy(st->w, rs.w, sizeof(double) * n);
	st->n_rows = rs.h.n_rows;
	return st;
}

Datum
SfRowsCombineFn(FunctionCallInfo fcinfo, const char *what)
{
	MemoryContext aggcxt = SfRowsAggContext(fcinfo, what);
	SfRows	   *a = PG_ARGISNULL(0) ? NULL : (SfRows *) PG_GETARG_POINTER(0);
	SfRows	   *b = PG_ARGISNULL(1) ? NULL : (SfRows *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = SfRowsNew(aggcxt, b->spec);
	SfRowsCombine(a, b);
	PG_RETURN_POINTER(a);
}

Datum
SfRowsSerializeFn(FunctionCallInfo fcinfo, const char *what)
{
	SfRowsAggContext(fcinfo, what);
	PG_RETURN_BYTEA_P(SfRowsSerialize((SfRows *) PG_GETARG_POINTER(0)));
}

/*
 * Outside an aggregate (the function called by hand) the bytes are still
 * read and checked, in the current context, so corrupt bytes are reported as
 * such; a valid state then fails as a value of type internal would.
 */
Datum
SfRowsDeserializeFn(FunctionCallInfo fcinfo, const SfRowsSpec *const *specs, int n_specs)
{
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	MemoryContext cxt;

	if (!AggCheckCallContext(fcinfo, &cxt))
		cxt = CurrentMemoryContext;
	PG_RETURN_POINTER(SfRowsDeserialize(in, cxt, specs, n_specs));
}

/* x, y, w in the order of perm, widened to double. */
static void
RowsToDouble(const SfRows *st, const size_t *perm, double **x, double **y, double **w)
{
	Size		n = st->n_rows;
	double	   *cx = palloc_extended(sizeof(double) * Max(n * st->n_cols, 1), MCXT_ALLOC_HUGE);
	double	   *cy = palloc_extended(sizeof(double) * Max(n, 1), MCXT_ALLOC_HUGE);
	double	   *cw = NULL;
	Size		i;

	sf_rows_widen((sf_rows_elem) st->spec->kind.elem, st->x, n, st->n_cols, st->n_cat, perm, cx);
	for (i = 0; i < n; i++)
		cy[i] = st->y[perm ? perm[i] : i];
	if (w != NULL && st->w != NULL)
	{
		cw = palloc_extended(sizeof(double) * Max(n, 1), MCXT_ALLOC_HUGE);
		for (i = 0; i < n; i++)
			cw[i] = st->w[perm ? perm[i] : i];
	}
	*x = cx;
	*y = cy;
	if (w != NULL)
		*w = cw;
}

/* The canonical permutation of the store's rows, palloc'd (huge). */
static size_t *
CanonicalPerm(const SfRows *st)
{
	size_t	   *perm = palloc_extended(sizeof(size_t) * Max(st->n_rows, 1), MCXT_ALLOC_HUGE);
	sf_env		env;

	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(sf_rows_canonical_order(&env, (sf_rows_elem) st->spec->kind.elem, st->x, st->y, st->w,
										(size_t) st->n_rows, (uint32) st->n_cols, perm),
				&env, st->spec->what);
	return perm;
}

void
SfRowsCanonical(const SfRows *st, double **x, double **y, double **w)
{
	size_t	   *perm = CanonicalPerm(st);

	RowsToDouble(st, perm, x, y, w);
	pfree(perm);
}

void
SfRowsCanonicalRows(const SfRows *st, void **x, double **y)
{
	Size		n = st->n_rows;
	Size		row_bytes = (Size) st->spec->kind.elem * st->n_cols;
	size_t	   *perm = CanonicalPerm(st);
	char	   *cx = palloc_extended(Max(n * row_bytes, 1), MCXT_ALLOC_HUGE);
	double	   *cy = palloc_extended(sizeof(double) * Max(n, 1), MCXT_ALLOC_HUGE);
	Size		i;

	for (i = 0; i < n; i++)
	{
		memcpy(cx + i * row_bytes, (const char *) st->x + perm[i] * row_bytes, row_bytes);
		cy[i] = st->y[perm[i]];
	}
	pfree(perm);
	*x = cx;
	*y = cy;
}
