/*
 * qrgmm_boot_agg.c
 *	  scfrisk.qrgmm_bootstrap(covariates float8[], y float8, params jsonb
 *	  [, replicates int [, seed int [, cluster anyelement]]]): bootstrap
 *	  replicates of qrgmm_train, a bytea[] of ordinary qrgmm_linear models
 *	  (docs/risk.md), resampling rows or, given a cluster key, whole clusters.
 *
 * Rows go to the float8 row store as in qrgmm_train (the same checks and
 * messages); replicates and seed live in a thin wrapper state and must be
 * the same on every row (22023), like the params.  The aggregate has no
 * combine function (the wrapper is never serialised), so it runs in the
 * leader; the fits are the expensive part and use the level threads.  The
 * final function takes the rows in the store's canonical order, so the
 * replicates depend on the rows, params, replicates and seed only.
 *
 * With a cluster key, each kept row's key is kept as its type's text form
 * (NUL-terminated, in scan order, beside the rows).  The final function
 * ranks the distinct keys by a hash of that text (ties by the text), so a
 * cluster's rank depends on the set of keys only, writes each row's rank
 * into the store's weight column (which the canonical order hashes with the
 * row), and groups the canonical rows by rank: the clusters and the rows in
 * each come out in the same order for any scan.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "scfrisk/sf_bootstrap.h"
#include "scfrisk/sf_blas.h"
#include "scfrisk_pg.h"
#include "explain_pg.h"
#include "sf_rowstore_pg.h"

typedef struct QrgmmBootState
{
	SfRows	   *rows;
	int32		replicates;
	int32		seed;
	bool		clustered;		/* a cluster key argument was given */
	FmgrInfo	keyout;			/* its type's output function */
	StringInfoData keys;		/* the key of every kept row, NUL-terminated, in row order */
} QrgmmBootState;

static const SfRowsSpec boot_rows_spec = {{30, SF_ROWS_FLOAT8, 0, 0, QRGMM_MAX_FEATURES}, "qrgmm_bootstrap"};

/* the clustered form's store: the weight column carries the cluster's rank in the final */
static const SfRowsSpec boot_cluster_rows_spec = {{31, SF_ROWS_FLOAT8, 1, 0, QRGMM_MAX_FEATURES}, "qrgmm_bootstrap"};

/* Argument argno as an int, its default when absent; NULL is an error. */
static int32
IntArg(FunctionCallInfo fcinfo, int argno, int32 dflt, const char *name)
{
	if (PG_NARGS() <= argno)
		return dflt;
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("qrgmm_bootstrap: %s must not be NULL", name)));
	return PG_GETARG_INT32(argno);
}

/* The clustered form: the key type's output function and an empty key buffer. */
static void
InitClusterKeys(FunctionCallInfo fcinfo, QrgmmBootState *st, MemoryContext agg)
{
	Oid			keytype = get_fn_expr_argtype(fcinfo->flinfo, 6);
	Oid			outfn;
	bool		varlena;
	MemoryContext old;

	if (!OidIsValid(keytype))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("qrgmm_bootstrap: could not determine the type of the cluster key")));
	getTypeOutputInfo(keytype, &outfn, &varlena);
	fmgr_info_cxt(outfn, &st->keyout, agg);
	old = MemoryContextSwitchTo(agg);
	initStringInfo(&st->keys);
	MemoryContextSwitchTo(old);
}

/* Keep the key of the row just appended, as its text form with the NUL. */
static void
AppendClusterKey(QrgmmBootState *st, Datum key, MemoryContext agg)
{
	char	   *text = OutputFunctionCall(&st->keyout, key);
	MemoryContext old = MemoryContextSwitchTo(agg);

	appendBinaryStringInfo(&st->keys, text, strlen(text) + 1);
	MemoryContextSwitchTo(old);
	pfree(text);
}

PG_FUNCTION_INFO_V1(qrgmm_bootstrap_sfunc);
Datum
qrgmm_bootstrap_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext agg = SfRowsAggContext(fcinfo, "qrgmm_bootstrap_sfunc");
	QrgmmBootState *st;
	int32		reps = IntArg(fcinfo, 4, SF_BOOT_DEFAULT_REPLICATES, "replicates");
	int32		seed = IntArg(fcinfo, 5, 0, "seed");
	ArrayType  *xa;
	int			len;

	if (PG_ARGISNULL(0))
	{
		if (reps < SF_BOOT_MIN_REPLICATES || reps > SF_BOOT_MAX_REPLICATES)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("qrgmm_bootstrap: replicates must be between %d and %d, got %d",
							SF_BOOT_MIN_REPLICATES, SF_BOOT_MAX_REPLICATES, reps)));
		st = MemoryContextAllocZero(agg, sizeof(QrgmmBootState));
		st->clustered = PG_NARGS() > 6;
		st->rows = SfRowsNew(agg, st->clustered ? &boot_cluster_rows_spec : &boot_rows_spec);
		st->replicates = reps;
		st->seed = seed;
		if (st->clustered)
			InitClusterKeys(fcinfo, st, agg);
	}
	else
	{
		st = (QrgmmBootState *) PG_GETARG_POINTER(0);
		if (reps != st->replicates || seed != st->seed)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("qrgmm_bootstrap: replicates and seed must be the same on every row"),
					 errdetail("The first row had replicates %d and seed %d, this one %d and %d.",
							   st->replicates, st->seed, reps, seed)));
	}
	SfRowsKeepParams(st->rows, PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3));
	if (st->clustered && PG_ARGISNULL(6))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("qrgmm_bootstrap: cluster must not be NULL"),
				 errhint("Give every row the key of its cluster (the seller), or leave out the rows without one.")));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);
	xa = PG_GETARG_ARRAYTYPE_P(1);
	len = SfArrayLength(xa, "covariates");
	if (st->rows->n_cols == 0)
	{
		if (len < 1 || len > QRGMM_MAX_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("qrgmm_bootstrap: covariates must have between 1 and %d elements, got %d",
							QRGMM_MAX_FEATURES, len)));
		SfRowsSetWidth(st->rows, len, 0);
	}
	else if (len != st->rows->n_cols)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("qrgmm_bootstrap: covariates has %d elements but earlier rows have %d",
						len, st->rows->n_cols)));
	SfRowsAppendArray(st->rows, xa, SF_MISSING_REJECT,
					  SfRowsFiniteResponse(st->rows, PG_GETARG_FLOAT8(2)), 0.0, "covariates");
	if (st->clustered)
		AppendClusterKey(st, PG_GETARG_DATUM(6), agg);
	PG_RETURN_POINTER(st);
}

/* The rows of a replicate: grouped by cluster (starts, G) or, with starts NULL, G = n rows. */
typedef struct BootRows
{
	const double *x;			/* (n, d) */
	const double *y;			/* (n) */
	size_t		n;
	uint32		d;
	const size_t *starts;		/* (G + 1) or NULL */
	size_t		G;
} BootRows;

/* Fit replicate r in its own context and return its model bytes in 'into'. */
static bytea *
FitReplicate(const sf_qrgmm_params *params, const BootRows *br, uint64 seed, int r,
			 const char *const *names, MemoryContext into)
{
	MemoryContext fitcxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk qrgmm bootstrap fit",
												 ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(fitcxt);
	sf_env		env;
	sf_qrgmm_model *model;
	sf_status	fst;
	sf_buf		b;
	bytea	   *result;
	char		what[64];

	snprintf(what, sizeof(what), "qrgmm_bootstrap (replicate %d)", r + 1);
	SfEnvInitNoThrow(&env, fitcxt);
	fst = sf_qrgmm_boot_fit_clusters(&env, params, br->x, br->y, br->n, br->d, br->starts, br->G,
									 seed, (uint32_t) r, &model);
	SfCheckNoThrow(fst, &env, what);
	sf_buf_init(&b, &env);
	SF_PG_CHECK(sf_qrgmm_encode(&env, model, &b), &env, what);
	MemoryContextSwitchTo(into);
	result = SfBufToByteaWithSections(&env, &b, names, br->d, NULL, what);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(fitcxt);
	return result;
}

/*
 * The params of every replicate (sf_qrgmm_boot_params): the gpd rule's test
 * of pooling decided once, on the rows themselves, in a context of its own.
 */
static void
ReplicateParams(const sf_qrgmm_params *params, const BootRows *br, sf_qrgmm_params *out)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk qrgmm bootstrap tail",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	sf_env		env;
	sf_status	fst;

	SfEnvInitNoThrow(&env, cxt);
	fst = sf_qrgmm_boot_params(&env, params, br->x, br->y, br->n, br->d, out);
	SfCheckNoThrow(fst, &env, "qrgmm_bootstrap");
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

/* A row's cluster key with its hash, for ranking the keys. */
typedef struct BootKey
{
	uint64		hash;
	const char *key;
	int64		row;
} BootKey;

static int
CmpBootKey(const void *pa, const void *pb)
{
	const BootKey *a = pa,
			   *b = pb;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	return strcmp(a->key, b->key);
}

/*
 * Rank the distinct cluster keys (by hash, then text) into the store's
 * weight column and return their number.
 */
static size_t
RankClusters(QrgmmBootState *st)
{
	int64		n = st->rows->n_rows,
				i;
	BootKey    *k = palloc_extended(sizeof(BootKey) * Max(n, 1), MCXT_ALLOC_HUGE);
	const char *p = st->keys.data;
	size_t		G = 0;

	for (i = 0; i < n; i++)
	{
		size_t		len = strlen(p);

		k[i].hash = hash_bytes_extended((const unsigned char *) p, (int) len, 0);
		k[i].key = p;
		k[i].row = i;
		p += len + 1;
	}
	qsort(k, n, sizeof(BootKey), CmpBootKey);
	for (i = 0; i < n; i++)
	{
		if (i > 0 && CmpBootKey(&k[i - 1], &k[i]) != 0)
			G++;
		st->rows->w[k[i].row] = (double) G;
	}
	pfree(k);
	return n > 0 ? G + 1 : 0;
}

/*
 * The clustered form's rows: canonical order, then grouped by cluster rank
 * (stable, so the rows of a cluster keep the canonical order); errors when
 * there are too few clusters to resample.
 */
static void
ClusterRows(QrgmmBootState *st, BootRows *br)
{
	size_t		G = RankClusters(st),
				n = (size_t) st->rows->n_rows,
				d = (size_t) st->rows->n_cols,
				i;
	double	   *x,
			   *y,
			   *w,
			   *gx,
			   *gy;
	size_t	   *starts,
			   *next;

	if (G < SF_BOOT_MIN_CLUSTERS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("qrgmm_bootstrap: the rows fall into %zu clusters, a cluster bootstrap needs at least %d", G,
						SF_BOOT_MIN_CLUSTERS),
				 errhint("Resampling a handful of clusters cannot tell their spread: pass more sellers, or drop the cluster argument if the rows are independent.")));
	SfRowsCanonical(st->rows, &x, &y, &w);
	starts = palloc0(sizeof(size_t) * (G + 1));
	next = palloc(sizeof(size_t) * G);
	for (i = 0; i < n; i++)
		starts[(size_t) w[i] + 1]++;
	for (i = 0; i < G; i++)
		starts[i + 1] += starts[i];
	memcpy(next, starts, sizeof(size_t) * G);
	gx = palloc_extended(sizeof(double) * n * d, MCXT_ALLOC_HUGE);
	gy = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE);
	for (i = 0; i < n; i++)
	{
		size_t		o = next[(size_t) w[i]]++;

		memcpy(gx + o * d, x + i * d, sizeof(double) * d);
		gy[o] = y[i];
	}
	pfree(x);
	pfree(y);
	pfree(w);
	pfree(next);
	br->x = gx;
	br->y = gy;
	br->starts = starts;
	br->G = G;
}

PG_FUNCTION_INFO_V1(qrgmm_bootstrap_final);
Datum
qrgmm_bootstrap_final(PG_FUNCTION_ARGS)
{
	QrgmmBootState *st;
	sf_qrgmm_params params,
				rparams;
	const char *const *names;
	BootRows	br;
	Datum	   *models;
	int			r;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "qrgmm_bootstrap_final called in non-aggregate context");
	st = PG_ARGISNULL(0) ? NULL : (QrgmmBootState *) PG_GETARG_POINTER(0);
	SfParseParams(st ? st->rows->params : NULL, &sf_qrgmm_param_table, &params);
	if (st == NULL || st->rows->n_rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("qrgmm_bootstrap: no rows with non-NULL covariates and y")));
	names = SfFeatureNamesParam(&params.feature_names, st->rows->n_cols, "qrgmm_bootstrap",
								"feature_names");
	params.verbose = 0;
	/* BLAS single-threaded: the bytes must not depend on the thread count (qrgmm_agg.c) */
	sf_blas_set_threads(1);
	br.n = (size_t) st->rows->n_rows;
	br.d = (uint32) st->rows->n_cols;
	if (st->clustered)
		ClusterRows(st, &br);
	else
	{
		void	   *x;
		double	   *y;

		SfRowsCanonicalRows(st->rows, &x, &y);
		br.x = (const double *) x;
		br.y = y;
		br.starts = NULL;
		br.G = br.n;
	}
	ReplicateParams(&params, &br, &rparams);
	models = palloc(sizeof(Datum) * st->replicates);
	for (r = 0; r < st->replicates; r++)
	{
		CHECK_FOR_INTERRUPTS();
		models[r] = PointerGetDatum(FitReplicate(&rparams, &br, (uint64) (int64) st->seed, r, names,
												 CurrentMemoryContext));
	}
	pfree(unconstify(double *, br.x));
	pfree(unconstify(double *, br.y));
	if (br.starts)
		pfree(unconstify(size_t *, br.starts));
	PG_RETURN_ARRAYTYPE_P(construct_array(models, st->replicates, BYTEAOID, -1, false,
										  TYPALIGN_INT));
}
