/*
 * scfrisk_pg.h
 *	  Helpers shared by every PostgreSQL wrapper (*_sql.c, *_agg.c): the
 *	  bridge between the pure cores and the server.
 *
 * - SfEnvInit gives a core palloc in a memory context, CHECK_FOR_INTERRUPTS
 *   and the thread count of scfrisk.threads.
 * - SfReportStatus maps a core status to ereport with the right SQLSTATE.
 * - SfGetFeatures and friends unpack float8[] arguments with one policy for
 *   NULL elements, NaN and infinity.
 * - SfParseParams turns a jsonb object into a typed params struct.
 * - SfModelCacheGet keeps a decoded model per call site (fn_extra), keyed so
 *   that a changed model value is never scored with a stale cache and a
 *   TOASTed model is not detoasted per row.
 */
#ifndef SCFRISK_PG_H
#define SCFRISK_PG_H

#include "postgres.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/jsonb.h"

#include "scfrisk/sf_core.h"
#include "scfrisk/sf_container.h"
#include "scfrisk/sf_kinds.h"
#include "scfrisk/sf_params.h"

/* GUCs (module_sql.c) */
extern int	scfrisk_threads;	/* scfrisk.threads: worker threads for numeric kernels */
extern int	scfrisk_max_memory_mb;	/* scfrisk.max_memory_mb: cap on training memory, 0 = none */

/* Set up env so the core allocates in cxt and polls CHECK_FOR_INTERRUPTS. */
extern void SfEnvInit(sf_env *env, MemoryContext cxt);

/*
 * SfEnvInit for a core that runs worker threads, which must be joined (and
 * its state freed) before control leaves it: the interrupt callback reports
 * a pending cancel or termination without throwing, and the caller
 * processes it with CHECK_FOR_INTERRUPTS() after the core returns.
 */
extern void SfEnvInitNoThrow(sf_env *env, MemoryContext cxt);

/*
 * The status of a core run under SfEnvInitNoThrow, its threads joined: a
 * cancel it stopped for is processed as the interrupt it was
 * (CHECK_FOR_INTERRUPTS), any other failure reported as SF_PG_CHECK does.
 */
extern void SfCheckNoThrow(sf_status st, const sf_env *env, const char *what);

/*
 * Throw the error for a non-OK status (returns normally for SF_OK).  'what'
 * names the function for the message context ("xgb_train").
 *	SF_EINVAL	-> ERRCODE_INVALID_PARAMETER_VALUE
 *	SF_EDATA	-> ERRCODE_DATA_EXCEPTION
 *	SF_ECORRUPT	-> ERRCODE_DATA_CORRUPTED
 *	SF_EVERSION	-> ERRCODE_FEATURE_NOT_SUPPORTED
 *	SF_EKIND	-> ERRCODE_WRONG_OBJECT_TYPE
 *	SF_ENOMEM	-> ERRCODE_OUT_OF_MEMORY
 *	SF_ELIMIT	-> ERRCODE_PROGRAM_LIMIT_EXCEEDED
 *	SF_ECANCEL	-> ERRCODE_QUERY_CANCELED
 *	SF_ENUMERIC	-> ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE
 */
extern void SfReportStatus(sf_status st, const sf_env *env, const char *what);

#define SF_PG_CHECK(call, env, what) \
	do { \
		sf_status	sf_st_ = (call); \
		if (sf_st_ != SF_OK) \
			SfReportStatus(sf_st_, (env), (what)); \
	} while (0)

/* ------------------------------------------------------------- features */

typedef enum SfMissingPolicy
{
	SF_MISSING_AS_NAN,			/* NULL and NaN elements become NaN (missing) */
	SF_MISSING_REJECT			/* NULL or NaN elements are errors */
} SfMissingPolicy;

/*
 * Number of elements of a one-dimensional float8[] (an empty array has 0).
 * Multi-dimensional arrays are an error naming 'argname'.
 */
extern int	SfArrayLength(ArrayType *arr, const char *argname);

/*
 * Copy a float8[] into out[0..expected).  expected < 0 accepts any length
 * (the caller sized out with SfArrayLength).  Infinite elements are always
 * errors; NULL/NaN follow the policy.  Errors name 'argname' and the
 * 1-based element.
 */
extern void SfGetFeatures(ArrayType *arr, int expected, double *out,
						  SfMissingPolicy policy, const char *argname);

/* palloc'd copy of a float8[]; *n receives its length. */
/*
 * Refuse (22000) a finite element past the float32 range: the inputs of a
 * float32 network, which training refuses the same way.  fn names the
 * function in the message.
 */
extern void SfCheckFloat32Range(const double *x, size_t n, const char *fn, const char *argname);

extern double *SfGetFeaturesAlloc(ArrayType *arr, int *n, SfMissingPolicy policy,
								  const char *argname);

/* A finite float8 argument (labels, responses), else an error naming it. */
extern double SfCheckFinite(double v, const char *argname);

/* A new one-dimensional float8[] from v[0..n). */
extern ArrayType *SfMakeFloat8Array(const double *v, int n);

/* ------------------------------------------------------------- params */

/*
 * Fill obj with the defaults of table t, then apply the keys of jb (NULL
 * means none).  jb must be an object; unknown keys, wrong JSON types and
 * out-of-range values are ERRCODE_INVALID_PARAMETER_VALUE errors naming the
 * key.  String lists are allocated in CurrentMemoryContext.
 */
extern void SfParseParams(Jsonb *jb, const sf_param_table *t, void *obj);

/* -------------------------------------------------------------- results */

/*
 * Start a set-returning function's materialised result from the executor's
 * expected descriptor (the declared columns) when there is one: a lateral
 * join calls the risk functions once per seller, and get_call_result_type
 * would look up the catalog and build the descriptor each call (5% of a
 * 5,000-seller curve query).
 */
extern void SfStartResult(FunctionCallInfo fcinfo);

/* --------------------------------------------------------------- models */

/* A bytea holding a copy of b's bytes (b is left as it was). */
extern bytea *SfBufToBytea(const sf_buf *b);

/* Feature j's name as text for a result row, or NULL (*isnull) in a model without names. */
extern Datum SfFeatureNameDatum(const sf_container *c, uint32 j, bool *isnull);

/*
 * A kind decoder: builds the kind's model struct from the model bytes,
 * allocating through env (which the cache points at its own context), and
 * copying everything it keeps: buf is freed afterwards.
 */
typedef sf_status (*SfDecodeFn) (sf_env *env, const uint8_t *buf, size_t len, void **model);

/*
 * The decoded model of argument argno, cached in fcinfo->flinfo->fn_extra.
 * The cache key is the model's 28-byte header plus, for a value stored out of
 * line, its TOAST pointer; it is read with a slice detoast, so a repeated
 * model costs no detoasting and a different one is always decoded afresh.
 * The header's CRC-32C and length make a stale hit require a collision of
 * both.  The model lives in a memory context under fn_mcxt.
 */
extern void *SfModelCacheGet(FunctionCallInfo fcinfo, int argno, SfDecodeFn decode,
							 const char *what);

/*
 * The entry of a kind in the one table of kinds (src/core/kinds.c), or an
 * error (42809) naming 'what' and the kind when this build has none.
 */
extern const sf_kind *SfKindOrError(uint16 kind, const char *what);

/* The table's decoder of a kind, for SfModelCacheGet (the kind must exist). */
static inline SfDecodeFn
SfKindDecoder(uint16 kind)
{
	return sf_kind_find(kind)->decode;
}

/*
 * Start loading the rows a sequential scan passes next, from a row scorer's
 * features argument.  A heap page fills from its end, so the tuple after
 * this one usually lies just below it in the page, and its first reads (the
 * executor's of the tuple header, then the scorer's of the array) were the
 * scoring query's largest stall outside the trees: memory misses on each
 * row's lines, of which the floor sum(array_length(f, 1)) reads only the
 * first.  Prefetched two rows of this row's size ahead, they arrive while
 * this row scores.  Elsewhere (an index scan, a detoasted copy, the page's
 * first tuple) the lines are simply not used: a prefetch never faults, and
 * the addresses are computed as integers, never dereferenced.  Always
 * inlined: GCC finds a function of prefetches alone free of side effects
 * and drops its call.
 */
static pg_attribute_always_inline void
SfPrefetchNextRows(Datum row)
{
	uintptr_t	p = (uintptr_t) DatumGetPointer(row);
	Size		len = Min(2 * VARSIZE_ANY(DatumGetPointer(row)) + 64, 2048),
				o;

	for (o = 64; o <= len; o += 64)
		__builtin_prefetch((const void *) (p - o));
}

/*
 * The body of a kind's own row scorer (nb_predict(model, features), ...):
 * the model of argument 0 through the cache, the features of argument 1
 * (NULL and NaN elements missing values when the kind accepts them, else
 * errors naming "features"; values past the float32 range refused for a
 * kind whose network reads float32), the table's row scorer.
 */
extern double SfScoreRow(FunctionCallInfo fcinfo, uint16 kind, const char *what);

/*
 * A kind's whole row scorer: the fmgr function cname (the C name its CREATE
 * FUNCTION gives) returning SfScoreRow(fcinfo, kind, what), what its SQL name.
 */
#define SF_SCORE_ROW_FUNCTION(cname, kind, what) \
	PG_FUNCTION_INFO_V1(cname); \
	Datum cname(PG_FUNCTION_ARGS) { PG_RETURN_FLOAT8(SfScoreRow(fcinfo, (kind), (what))); } \
	extern int	no_such_variable

/*
 * The SQL name of the function fcinfo calls (for messages of shared helpers,
 * so an error names the function the user called), or fallback when there is
 * none.  Cached per backend by function OID: a compare per call.
 */
extern const char *SfFuncName(FunctionCallInfo fcinfo, const char *fallback);

/*
 * Check the training params of a kind (by name) as its training aggregate
 * will, before any row is read: 22023 naming the key, or the unknown kind.
 * Implemented in src/registry/registry_sql.c.
 */
extern void SfCheckKindParams(const char *kind, Jsonb *jb);

/* Decode only the container of a bytea argument into *c (no caching). */
extern void SfContainerFromBytea(bytea *model, sf_container *c, const char *what);

#endif							/* SCFRISK_PG_H */
