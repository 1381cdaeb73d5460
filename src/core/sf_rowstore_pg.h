/*
 * sf_rowstore_pg.h
 *	  The row store shared by scfrisk's training aggregates (src/core/rowstore_pg.c):
 *	  the transition state of xgb_train, mlp_train, logreg_train,
 *	  xgb_mlp_train, qrgmm_train, qrgmm_deepfm_train, partial_dependence and
 *	  binary_metrics.
 *
 * A store keeps, in the aggregate memory context, n rows of a fixed width of
 * columns (float32 or float8, chosen at creation), a label or response per
 * row, an optional weight per row, and the params jsonb of the first row
 * that had one.  It grows by doubling with huge allocations within
 * scfrisk.max_memory_mb, appends other stores (parallel combine), travels
 * between parallel workers as bytea (deserialisation is total: corrupt or
 * truncated bytes are an error, never a crash), and gives the trainers its
 * rows as double matrices in scan order or in the canonical order of
 * sf_rowstore.h.  Extras of one aggregate that are not rows (the model and
 * grid of partial_dependence, the threshold of binary_metrics) live in a
 * thin wrapper struct of that aggregate, which has no parallel support.
 */
#ifndef SCFRISK_SF_ROWSTORE_PG_H
#define SCFRISK_SF_ROWSTORE_PG_H

#include "scfrisk_pg.h"
#include "scfrisk/sf_rowstore.h"

/*
 * What an aggregate's store looks like: fixed per aggregate, passed to every
 * call so a deserialised state is checked against it (a state of another
 * aggregate is corrupt input).
 */
typedef struct SfRowsSpec
{
	sf_rows_kind kind;			/* id, element type, weight column, NaN policy, widest row */
	const char *what;			/* SQL name for messages ("xgb_train") */
} SfRowsSpec;

/* Transition state: the rows collected so far. */
typedef struct SfRows
{
	const SfRowsSpec *spec;		/* the aggregate's spec (static storage) */
	int32		n_cols;			/* columns per row; 0 until the first row */
	int32		n_cat;			/* trailing columns holding int32 ids (DeepFM), else 0 */
	int64		n_rows;			/* rows stored */
	int64		cap;			/* rows allocated */
	void	   *x;				/* (cap, n_cols) elements of spec->elem, NaN = missing */
	double	   *y;				/* (cap) labels or responses */
	double	   *w;				/* (cap) weights, or NULL without a weight column */
	Jsonb	   *params;			/* params of the rows (all equal), or NULL */
	bool		params_null;	/* a row had NULL params (then no row may have others) */
	MemoryContext cxt;			/* where the arrays live (the aggregate context) */
} SfRows;

/* The aggregate context, or an error naming 'what' outside an aggregate. */
extern MemoryContext SfRowsAggContext(FunctionCallInfo fcinfo, const char *what);

/* An empty store in cxt; the width is fixed later by SfRowsSetWidth. */
extern SfRows *SfRowsNew(MemoryContext cxt, const SfRowsSpec *spec);

/* Fix the width of an empty store: n_cols columns, the last n_cat of them ids. */
extern void SfRowsSetWidth(SfRows *st, int n_cols, int n_cat);

/*
 * Room for 'more' rows, doubling the capacity; errors (54000) past the
 * largest allocation or past scfrisk.max_memory_mb, naming the aggregate.
 */
extern void SfRowsReserve(SfRows *st, int64 more);

/*
 * Append one row: x (n_cols doubles; the id columns hold integral values),
 * label y, weight w (ignored without a weight column).  In a float32 store a
 * finite element beyond the float32 range is an error (22000) naming the
 * 1-based element of 'argname'.
 */
extern void SfRowsAppend(SfRows *st, const double *x, double y, double w, const char *argname);

/*
 * Append one row given as a float8[] of the store's width (the caller has
 * checked the width): the elements unpacked with 'policy' (as by SfGetFeatures,
 * messages naming 'argname'), then SfRowsAppend.
 */
extern void SfRowsAppendArray(SfRows *st, ArrayType *arr, SfMissingPolicy policy, double y, double w,
							  const char *argname);

/* y when finite, else an error (22000) naming the aggregate: "response y is NaN". */
extern double SfRowsFiniteResponse(const SfRows *st, double y);

/*
 * The params of one row (jb NULL when the row's params are NULL): the first
 * row's are copied into the store, every later row's must equal them, else
 * an error (22023), so the model cannot depend on row order.  Checked per row
 * by length and bytes (jsonb's binary form is canonical), semantically only
 * when the bytes differ (1 and 1.0).
 */
extern void SfRowsKeepParams(SfRows *st, Jsonb *jb);

/*
 * Append the rows of b to a.  The first non-empty store fixes the width; a
 * different width is an error (22000); different params are an error (22023)
 * as between rows.
 */
extern void SfRowsCombine(SfRows *a, const SfRows *b);

/* The store as bytea (native byte order: it only travels between workers). */
extern bytea *SfRowsSerialize(const SfRows *st);

/*
 * A store read back from SfRowsSerialize bytes into cxt; specs (n_specs) are
 * the aggregates whose states the caller accepts (several aggregates may
 * share one SQL deserialise function).  Bytes that are truncated, of another
 * aggregate or inconsistent (lengths, widths,
 * non-finite labels, negative weights, infinite or, without missing_ok, NaN
 * elements) are an error (XX001), never a crash.
 */
extern SfRows *SfRowsDeserialize(bytea *in, MemoryContext cxt, const SfRowsSpec *const *specs,
								 int n_specs);

/*
 * fmgr bodies of an aggregate's combine, serialise and deserialise functions:
 * each SQL-callable symbol is one line calling these ('what' names the SQL
 * function in the non-aggregate-context error).
 */
extern Datum SfRowsCombineFn(FunctionCallInfo fcinfo, const char *what);
extern Datum SfRowsSerializeFn(FunctionCallInfo fcinfo, const char *what);
extern Datum SfRowsDeserializeFn(FunctionCallInfo fcinfo, const SfRowsSpec *const *specs,
								 int n_specs);

/*
 * The rows in the canonical order (model bytes independent of scan order and
 * plan) as palloc'd (huge) double copies in CurrentMemoryContext: x
 * (n_rows, n_cols), y (n_rows), *w (n_rows) or NULL when w is NULL or the
 * store has no weight column.
 */
extern void SfRowsCanonical(const SfRows *st, double **x, double **y, double **w);

/*
 * The rows in canonical order without widening: *x (n_rows, n_cols) in the
 * store's element type (a float32 store gives float32 rows, half the memory
 * of doubles) and *y (n_rows), palloc'd (huge) in CurrentMemoryContext.
 * For cores that read float32 rows themselves (mlp_fit_f32).
 */
extern void SfRowsCanonicalRows(const SfRows *st, void **x, double **y);

/* Element (i, j) of the store as a double (not for the id columns). */
static inline double
SfRowsGet(const SfRows *st, int64 i, int j)
{
	if (st->spec->kind.elem == SF_ROWS_FLOAT4)
		return ((const float *) st->x)[i * st->n_cols + j];
	return ((const double *) st->x)[i * st->n_cols + j];
}

#endif							/* SCFRISK_SF_ROWSTORE_PG_H */
