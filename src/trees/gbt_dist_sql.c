/*
 * gbt_dist_sql.c
 *	  scfrisk.xgb_train_sharded: one gradient-boosted model over every
 *	  foreign partition of a table, trained where the rows are (gbt_dist.h,
 *	  docs/scale-out.md), and the two shard-side aggregates it calls.
 *
 * Shard side: scfrisk.xgb_shard_sketch(features, label, weight) and
 * scfrisk.xgb_shard_hist(features, label, weight, job) collect the shard's
 * rows in the row store (as xgb_train does: float32 features, NULL rows
 * skipped, NULL elements missing), put them in the canonical order and
 * answer with gbt_dist_sketch / gbt_dist_shard_hist.  They are immutable
 * extension aggregates, so postgres_fdw ships them whole to a server whose
 * "extensions" option lists scfrisk: only the sketch and the histograms
 * cross the network.
 *
 * Coordinator: scfrisk.check_shards first (every error it has, before any
 * training), then one SPI query per step, a UNION ALL of one pushed-down
 * aggregate per partition tagged with the partition's place in
 * check_shards' order (by name), so the replies are merged in that fixed
 * order whatever order async foreign scans finish in.  The job travels as
 * the query's parameter $1.  An error anywhere (a shard down mid-training,
 * a cancel) ends the statement: no model is returned.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "scfrisk/gbt.h"
#include "scfrisk/gbt_dist.h"
#include "scfrisk_pg.h"
#include "sf_rowstore_pg.h"

/* The shard's store: xgb_train's shape (float32 features, a weight column). */
static const SfRowsSpec shard_rows_spec = {{25, SF_ROWS_FLOAT4, 1, 1, GBT_MAX_FEATURES}, "xgb_shard_hist"};

/* Transition state of both shard aggregates: the rows, and the job of xgb_shard_hist. */
typedef struct ShardState
{
	SfRows	   *rows;
	bytea	   *job;
} ShardState;

/* Collect one row: (state, features, label, weight [, job]). */
static Datum
ShardTransition(FunctionCallInfo fcinfo, bool with_job)
{
	MemoryContext aggcxt = SfRowsAggContext(fcinfo, "xgb_shard_hist");
	ShardState *st = PG_ARGISNULL(0) ? NULL : (ShardState *) PG_GETARG_POINTER(0);
	ArrayType  *feat;
	double		label,
				weight;
	int			n;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	if (with_job && PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("xgb_shard_hist: job is NULL"),
				 errhint("This aggregate is called by scfrisk.xgb_train_sharded.")));
	feat = PG_GETARG_ARRAYTYPE_P(1);
	label = SfCheckFinite(PG_GETARG_FLOAT8(2), "label");
	weight = PG_GETARG_FLOAT8(3);
	if (!isfinite(weight) || weight < 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("xgb_train_sharded: weight must be finite and non-negative, got %g", weight)));
	n = SfArrayLength(feat, "features");
	if (st == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(aggcxt);

		if (n < 1 || n > GBT_MAX_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("xgb_train_sharded: features has %d elements, 1 to %d are supported",
							n, GBT_MAX_FEATURES)));
		st = palloc0(sizeof(ShardState));
		st->rows = SfRowsNew(aggcxt, &shard_rows_spec);
		SfRowsSetWidth(st->rows, n, 0);
		/* the job is one parameter of the remote query: the first row's is every row's */
		if (with_job)
			st->job = PG_GETARG_BYTEA_P_COPY(4);
		MemoryContextSwitchTo(old);
	}
	else if (n != st->rows->n_cols)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("xgb_train_sharded: features has %d elements, expected %d", n, st->rows->n_cols),
				 errdetail("Every row must have the width of the first row.")));
	SfRowsAppendArray(st->rows, feat, SF_MISSING_AS_NAN, label, weight, "features");
	PG_FREE_IF_COPY(feat, 1);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(xgb_shard_sketch_sfunc);
Datum
xgb_shard_sketch_sfunc(PG_FUNCTION_ARGS)
{
	return ShardTransition(fcinfo, false);
}

PG_FUNCTION_INFO_V1(xgb_shard_hist_sfunc);
Datum
xgb_shard_hist_sfunc(PG_FUNCTION_ARGS)
{
	return ShardTransition(fcinfo, true);
}

/*
 * Margins and bin codes kept between the jobs of a training
 * (gbt_dist_margins): a few entries per backend, keyed by a hash of the
 * rows, in TopMemoryContext until the end of the transaction.
 * postgres_fdw runs every job of one training on the same connection, so
 * the shard's backend sees them all; an entry is reused only for the same
 * rows and finished trees that begin with the ones it holds, so a hit and a
 * miss give the same bytes (the aggregate stays a function of its input).
 */
#define SHARD_CACHE_ENTRIES 4
static gbt_dist_margins shard_cache[SHARD_CACHE_ENTRIES];
static uint64 shard_cache_used[SHARD_CACHE_ENTRIES];
static uint64 shard_cache_clock;
static bool shard_cache_callback;

/*
 * The entries go at the end of the transaction: a training is one statement
 * on the coordinator, so one remote transaction here, and the memory (a
 * double and p codes per row) should not outlive it in a pooled connection.
 */
static void
ShardCacheReset(XactEvent event, void *arg)
{
	int			k;

	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT && event != XACT_EVENT_PREPARE)
		return;
	for (k = 0; k < SHARD_CACHE_ENTRIES; k++)
	{
		if (shard_cache[k].mt)
			pfree(shard_cache[k].mt);
		if (shard_cache[k].codes)
			pfree(shard_cache[k].codes);
		memset(&shard_cache[k], 0, sizeof(shard_cache[k]));
		shard_cache_used[k] = 0;
	}
}

static gbt_dist_margins *
ShardCacheEntry(const double *x, const double *y, const double *w, size_t n, uint32_t p)
{
	uint64_t	h = gbt_dist_rows_hash(x, y, w, n, p);
	int			k,
				victim = 0;
	gbt_dist_margins *e;

	for (k = 0; k < SHARD_CACHE_ENTRIES; k++)
	{
		if (shard_cache[k].mt != NULL && shard_cache[k].rows_hash == h && shard_cache[k].n == n)
		{
			shard_cache_used[k] = ++shard_cache_clock;
			return &shard_cache[k];
		}
		if (shard_cache_used[k] < shard_cache_used[victim])
			victim = k;
	}
	if (!shard_cache_callback)
	{
		RegisterXactCallback(ShardCacheReset, NULL);
		shard_cache_callback = true;
	}
	e = &shard_cache[victim];
	if (e->mt != NULL)
		pfree(e->mt);
	if (e->codes != NULL)
		pfree(e->codes);
	memset(e, 0, sizeof(*e));
	e->mt = MemoryContextAllocHuge(TopMemoryContext, sizeof(double) * (n ? n : 1));
	e->codes = MemoryContextAllocHuge(TopMemoryContext, sizeof(uint16) * (n > 0 ? n * p : 1));
	e->rows_hash = h;
	e->n = n;
	e->n_trees = -1;
	e->codes_ok = 0;
	shard_cache_used[victim] = ++shard_cache_clock;
	return e;
}

/* The shard's answer: the sketch, or the histograms of the job; NULL without rows. */
static Datum
ShardFinal(FunctionCallInfo fcinfo, bool hist)
{
	ShardState *st;
	MemoryContext cxt,
				old;
	sf_env		env;
	sf_buf		b;
	double	   *x,
			   *y,
			   *w;
	bytea	   *out;
	const char *what = hist ? "xgb_shard_hist" : "xgb_shard_sketch";

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (ShardState *) PG_GETARG_POINTER(0);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk shard", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	SfEnvInit(&env, cxt);
	/* the canonical order makes the shard's sums independent of its scan order */
	SfRowsCanonical(st->rows, &x, &y, &w);
	sf_buf_init(&b, &env);
	if (hist)
		SF_PG_CHECK(gbt_dist_shard_hist(&env, (const uint8_t *) VARDATA_ANY(st->job),
										VARSIZE_ANY_EXHDR(st->job), x, y, w,
										(size_t) st->rows->n_rows, (uint32_t) st->rows->n_cols,
										ShardCacheEntry(x, y, w, (size_t) st->rows->n_rows,
														(uint32_t) st->rows->n_cols), &b),
					&env, what);
	else
		SF_PG_CHECK(gbt_dist_sketch(&env, x, y, w, (size_t) st->rows->n_rows,
									(uint32_t) st->rows->n_cols, &b),
					&env, what);
	MemoryContextSwitchTo(old);
	out = SfBufToBytea(&b);
	MemoryContextDelete(cxt);
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(xgb_shard_sketch_final);
Datum
xgb_shard_sketch_final(PG_FUNCTION_ARGS)
{
	return ShardFinal(fcinfo, false);
}

PG_FUNCTION_INFO_V1(xgb_shard_hist_final);
Datum
xgb_shard_hist_final(PG_FUNCTION_ARGS)
{
	return ShardFinal(fcinfo, true);
}

/* ------------------------------------------------------------ coordinator */

/* The partitions of the table in check_shards' order, and the feature width. */
typedef struct ShardPlan
{
	int			n;
	char	  **part;			/* qualified partition names */
	int			width;			/* features' width (0 when every shard is empty) */
	char	   *sketch_sql;
	SPIPlanPtr	hist_plan;
	/* the replies of the last exchange (in exchange_cxt) */
	MemoryContext exchange_cxt;
	const uint8_t **bufs;
	size_t	   *lens;
} ShardPlan;

/* A numeric column of the relation for the label or weight, else an error. */
static void
CheckNumericColumn(Oid relid, const char *col, const char *role)
{
	AttrNumber	att = get_attnum(relid, col);
	Oid			typ;

	if (att == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("xgb_train_sharded: %s has no column \"%s\" for the %s",
						get_rel_name(relid), col, role)));
	typ = get_atttype(relid, att);
	if (typ != FLOAT8OID && typ != FLOAT4OID && typ != INT2OID && typ != INT4OID &&
		typ != INT8OID && typ != NUMERICOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("xgb_train_sharded: the %s column \"%s\" is %s, not a number",
						role, col, format_type_be(typ))));
}

/* One branch per partition: SELECT k, scfrisk.<agg>(features, label, weight[, $1]) FROM part. */
static char *
UnionSql(const ShardPlan *sp, const char *agg, const char *features, const char *label,
		 const char *weight, bool with_job)
{
	StringInfoData s;
	int			i;

	initStringInfo(&s);
	for (i = 0; i < sp->n; i++)
		appendStringInfo(&s, "%sSELECT %d AS k, scfrisk.%s(%s, %s::float8, %s::float8%s) FROM %s",
						 i ? " UNION ALL " : "", i, agg, quote_identifier(features),
						 quote_identifier(label), weight ? quote_identifier(weight) : "1",
						 with_job ? ", $1" : "", sp->part[i]);
	return s.data;
}

/* check_shards (every error it has comes here, before any training) and the queries. */
static void
PlanShards(ShardPlan *sp, Oid relid, const char *features, const char *label, const char *weight)
{
	Datum		args[2] = {ObjectIdGetDatum(relid), CStringGetTextDatum(features)};
	Oid			types[2] = {REGCLASSOID, TEXTOID};
	uint64		i;

	if (SPI_execute_with_args("SELECT partition::text, width_min FROM scfrisk.check_shards($1, $2)",
							  2, types, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "xgb_train_sharded: check_shards failed");
	sp->n = (int) SPI_processed;
	if (sp->n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("xgb_train_sharded: %s has no partitions", get_rel_name(relid)),
				 errhint("Attach foreign-table partitions on the shards (docs/scale-out.md).")));
	sp->part = palloc(sizeof(char *) * sp->n);
	sp->width = 0;
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		wd;

		sp->part[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		wd = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull);
		if (!isnull)
			sp->width = DatumGetInt32(wd);
	}
	sp->sketch_sql = UnionSql(sp, "xgb_shard_sketch", features, label, weight, false);
	{
		Oid			bt = BYTEAOID;
		char	   *hist_sql = UnionSql(sp, "xgb_shard_hist", features, label, weight, true);

		/* a generic plan: the job stays a parameter of the remote query, not a literal */
		if ((sp->hist_plan = SPI_prepare_cursor(hist_sql, 1, &bt, CURSOR_OPT_GENERIC_PLAN)) == NULL)
			elog(ERROR, "xgb_train_sharded: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	}
	sp->bufs = palloc0(sizeof(uint8_t *) * sp->n);
	sp->lens = palloc0(sizeof(size_t) * sp->n);
	sp->exchange_cxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk shard replies",
											 ALLOCSET_DEFAULT_SIZES);
}

/*
 * The rows of the last query, in the order of their tag k (the partition's
 * place), non-NULL answers only, copied into the exchange context.
 */
static int
CollectReplies(ShardPlan *sp)
{
	bytea	  **by_k = palloc0(sizeof(bytea *) * sp->n);
	uint64		i;
	int			k,
				m = 0;
	MemoryContext old;

	MemoryContextReset(sp->exchange_cxt);
	old = MemoryContextSwitchTo(sp->exchange_cxt);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		kn,
					bn;
		int			kk = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &kn));
		Datum		b = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &bn);

		if (kn || kk < 0 || kk >= sp->n)
			elog(ERROR, "xgb_train_sharded: unexpected partition tag");
		if (!bn)
			by_k[kk] = DatumGetByteaPCopy(b);
	}
	for (k = 0; k < sp->n; k++)
		if (by_k[k] != NULL)
		{
			sp->bufs[m] = (const uint8_t *) VARDATA(by_k[k]);
			sp->lens[m++] = VARSIZE(by_k[k]) - VARHDRSZ;
		}
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
	return m;
}

/* The transport of gbt_dist_train: the job as $1 of the prepared union. */
static sf_status
ShardExchange(void *ctx, const uint8_t *job, size_t job_len, int *n_replies,
			  const uint8_t *const **replies, const size_t **lens)
{
	ShardPlan  *sp = ctx;
	bytea	   *jb = palloc(VARHDRSZ + job_len);
	Datum		arg;

	SET_VARSIZE(jb, VARHDRSZ + job_len);
	memcpy(VARDATA(jb), job, job_len);
	arg = PointerGetDatum(jb);
	if (SPI_execute_plan(sp->hist_plan, &arg, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "xgb_train_sharded: the histogram query failed");
	pfree(jb);
	*n_replies = CollectReplies(sp);
	*replies = sp->bufs;
	*lens = sp->lens;
	return SF_OK;
}

/* NOTICE every verbose_every rounds (xgb_train's progress line). */
static void
ShardedProgress(void *ctx, const gbt_progress *pr)
{
	instr_time *start = ctx;
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, *start);
	ereport(NOTICE,
			(errmsg("xgb_train_sharded: round %d/%d train-%s %.6f elapsed %.2f s",
					pr->round, pr->n_rounds, pr->metric, pr->train, INSTR_TIME_GET_DOUBLE(now))));
}

/* Params as xgb_train parses them, minus what the union's row positions would need. */
static void
ParseShardedParams(Jsonb *jb, gbt_params *p)
{
	memset(p, 0, sizeof(*p));
	SfParseParams(jb, &gbt_params_table, p);
	if (p->subsample < 1.0 || p->early_stopping_rounds > 0 || p->eval_metric == GBT_METRIC_AUC)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("xgb_train_sharded: %s is not supported over shards",
						p->subsample < 1.0 ? "subsample below 1"
						: p->early_stopping_rounds > 0 ? "early_stopping_rounds"
						: "eval_metric auc"),
				 errdetail("Row sampling and the validation split draw rows by their place in the "
						   "whole table, and the training AUC needs every score in one place."),
				 errhint("Train with scfrisk.xgb_train over the table instead (the rows travel "
						 "to this server).")));
}

PG_FUNCTION_INFO_V1(xgb_train_sharded);
Datum
xgb_train_sharded(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *features,
			   *label,
			   *weight;
	gbt_params	p;
	ShardPlan	sp;
	MemoryContext outer = CurrentMemoryContext,
				fitcxt;
	sf_env		env;
	sf_buf		b;
	gbt_model  *m;
	gbt_dist_io io = {ShardExchange, &sp};
	instr_time	start;
	int			n_sk;
	bytea	   *out;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("xgb_train_sharded: relation, features and label must not be NULL")));
	relid = PG_GETARG_OID(0);
	features = text_to_cstring(PG_GETARG_TEXT_PP(1));
	label = text_to_cstring(PG_GETARG_TEXT_PP(2));
	weight = PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4));
	ParseShardedParams(PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3), &p);
	if (get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("xgb_train_sharded: relation %u does not exist", relid)));
	CheckNumericColumn(relid, label, "label");
	if (weight)
		CheckNumericColumn(relid, weight, "weight");

	fitcxt = AllocSetContextCreate(outer, "scfrisk gbt sharded fit", ALLOCSET_DEFAULT_SIZES);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "xgb_train_sharded: SPI_connect failed");
	PlanShards(&sp, relid, features, label, weight);
	if (p.feature_names.n > 0 && sp.width > 0 && p.feature_names.n != sp.width)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("xgb_train_sharded: feature_names has %d names, features has %d elements",
						p.feature_names.n, sp.width)));

	/* round 0: the sketches, in partition order */
	if (SPI_execute(sp.sketch_sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "xgb_train_sharded: the sketch query failed");
	n_sk = CollectReplies(&sp);
	{
		const uint8_t **sk = MemoryContextAlloc(fitcxt, sizeof(uint8_t *) * (n_sk ? n_sk : 1));
		size_t	   *sk_len = MemoryContextAlloc(fitcxt, sizeof(size_t) * (n_sk ? n_sk : 1));
		int			k;

		/* copied out of the exchange context, which the next query resets */
		for (k = 0; k < n_sk; k++)
		{
			uint8_t    *c = MemoryContextAlloc(fitcxt, sp.lens[k] ? sp.lens[k] : 1);

			memcpy(c, sp.bufs[k], sp.lens[k]);
			sk[k] = c;
			sk_len[k] = sp.lens[k];
		}
		INSTR_TIME_SET_CURRENT(start);
		p.progress = ShardedProgress;
		p.progress_ctx = &start;
		SfEnvInit(&env, fitcxt);
		SF_PG_CHECK(gbt_dist_train(&env, &p, (const uint8_t *const *) sk, sk_len, n_sk, &io, &m),
					&env, "xgb_train_sharded");
	}
	sf_buf_init(&b, &env);
	SF_PG_CHECK(gbt_encode(&env, m, &p, p.feature_names.n > 0 ? (const char *const *) p.feature_names.v : NULL,
						   m->train_rows, &b),
				&env, "xgb_train_sharded");
	SPI_finish();
	MemoryContextSwitchTo(outer);
	out = SfBufToBytea(&b);
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(out);
}
