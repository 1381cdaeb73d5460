/*
 * logreg_dist_sql.c
 *	  scfrisk.logreg_train_sharded: one logistic regression over every
 *	  foreign partition of a table, trained where the rows are
 *	  (logreg_dist.h, docs/scale-out.md), and its shard-side load aggregate.
 *
 * Shard side: scfrisk.logreg_shard_load(features, label, session) collects
 * the partition's rows as logreg_train does (float8, NULL rows skipped, a
 * missing element an error), puts them in the canonical order and keeps
 * them as the training's session (shard_pg.h); it answers with their
 * summary (count, labels 1, column sums).  Every later job (a loss or a
 * gradient and Hessian at the coordinator's coefficients) reaches the
 * session through scfrisk.xgb_shard_step, the step aggregate the sharded
 * trainers share.
 *
 * Coordinator: xgb_train_sharded's transport (check_shards first, then one
 * query per job, replies merged in partition order) around logreg_fit's
 * Newton iterations (logreg_dist_fit).  The model is logreg_train's on the
 * union of the rows, with its background (the training means from the
 * summaries); no drift section (that needs every row's score in one place)
 * and no calibration (out-of-fold fits need the rows in one place).
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "scfrisk/logreg_dist.h"
#include "scfrisk/sf_explain.h"
#include "scfrisk/sf_governance.h"
#include "explain_pg.h"
#include "scfrisk_pg.h"
#include "sf_progress_pg.h"
#include "sf_rowstore_pg.h"
#include "sf_train_agg.h"
#include "shard_pg.h"

/* The shard's store: logreg_train's shape (float8 features, no weight, no missing values). */
static const SfRowsSpec load_rows_spec = {{26, SF_ROWS_FLOAT8, 0, 0, PG_INT32_MAX}, "logreg_shard_load"};

typedef struct LoadState
{
	SfRows	   *rows;
	int64		session;
} LoadState;

/* Collect one row: (state, features, label, session), as logreg_train's transition does. */
PG_FUNCTION_INFO_V1(logreg_shard_load_sfunc);
Datum
logreg_shard_load_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = SfRowsAggContext(fcinfo, "logreg_shard_load");
	LoadState  *st = PG_ARGISNULL(0) ? NULL : (LoadState *) PG_GETARG_POINTER(0);
	SfRows	   *rows = st ? st->rows : NULL;
	double		label;
	ArrayType  *feat = SfTrainRowBegin(fcinfo, aggcxt, &rows, &load_rows_spec, &label);

	if (feat == NULL)
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("logreg_shard_load: session is NULL"),
				 errhint("This aggregate is called by scfrisk.logreg_train_sharded.")));
	if (st == NULL)
	{
		st = MemoryContextAllocZero(aggcxt, sizeof(LoadState));
		/* the session is a constant of the remote query: the first row's is every row's */
		st->session = PG_GETARG_INT64(3);
	}
	st->rows = rows;
	SfRowsAppendArray(st->rows, feat, SF_MISSING_REJECT, label, 1.0, "features");
	PG_FREE_IF_COPY(feat, 1);
	PG_RETURN_POINTER(st);
}

/* The summary of the shard's rows, which it keeps for the session's jobs; NULL without rows. */
PG_FUNCTION_INFO_V1(logreg_shard_load_final);
Datum
logreg_shard_load_final(PG_FUNCTION_ARGS)
{
	LoadState  *st;
	ShardSession *ss;
	MemoryContext old;
	sf_env		env;
	sf_buf		b;
	double	   *x,
			   *y;
	bytea	   *out;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (LoadState *) PG_GETARG_POINTER(0);
	ss = ShardSessionLoad(st->session, st->rows, &env, &x, &y, NULL, &old);
	ss->lr = palloc0(sizeof(logreg_dist_shard));
	SF_PG_CHECK(logreg_dist_shard_init(&env, x, y, (size_t) st->rows->n_rows, st->rows->n_cols, ss->lr),
				&env, "logreg_shard_load");
	sf_buf_init(&b, &env);
	logreg_dist_summary(ss->lr, &b);
	SF_PG_CHECK(sf_buf_status(&b), &env, "logreg_shard_load");
	MemoryContextSwitchTo(old);
	out = SfBufToBytea(&b);
	sf_buf_free(&b);
	PG_RETURN_BYTEA_P(out);
}

/* ------------------------------------------------------------ coordinator */

/* ShardExchange, counted and timed for the DEBUG1 line of a training. */
typedef struct CountedShards
{
	ShardPlan  *sp;
	int			trips;
	instr_time	spent;
} CountedShards;

static sf_status
CountedExchange(void *ctx, const uint8_t *job, size_t job_len, int *n_replies,
				const uint8_t *const **replies, const size_t **lens)
{
	CountedShards *cs = ctx;
	instr_time	start,
				end;
	sf_status	st;

	INSTR_TIME_SET_CURRENT(start);
	st = ShardExchange(cs->sp, job, job_len, n_replies, replies, lens);
	INSTR_TIME_SET_CURRENT(end);
	INSTR_TIME_ACCUM_DIFF(cs->spent, end, start);
	cs->trips++;
	return st;
}

/* logreg_train's params; calibration needs the rows in one place. */
static void
ParseShardedParams(Jsonb *jb, logreg_params *p)
{
	memset(p, 0, sizeof(*p));
	SfParseParams(jb, &logreg_params_table, p);
	if (p->calibrate != SF_CALIB_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("logreg_train_sharded: calibrate is not supported over shards"),
				 errdetail("Calibration fits the model again on folds drawn from the whole table."),
				 errhint("Train without calibrate, or with scfrisk.logreg_train over the table "
						 "(the rows travel to this server).")));
}

/* The background row of logreg_train: the training means, from the merged column sums. */
static void
MeanBackground(const logreg_dist_totals *tot, sf_background *bg)
{
	int			j;

	memset(bg, 0, sizeof(*bg));
	bg->x = palloc(sizeof(double) * tot->d);
	bg->n_rows = 1;
	bg->n_cols = (uint32_t) tot->d;
	bg->n_permutations = 2;
	for (j = 0; j < tot->d; j++)
	{
		bg->x[j] = tot->sum[j] / (double) tot->n;
		if (!isfinite(bg->x[j]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("logreg_train_sharded: the mean of feature %d is not finite", j + 1)));
	}
}

PG_FUNCTION_INFO_V1(logreg_train_sharded);
Datum
logreg_train_sharded(PG_FUNCTION_ARGS)
{
	const char *what = "logreg_train_sharded";
	Oid			relid;
	char	   *features,
			   *label;
	logreg_params p;
	ShardPlan	sp;
	MemoryContext outer = CurrentMemoryContext,
				fitcxt;
	sf_env		env;
	sf_buf		b;
	logreg_model m;
	logreg_dist_totals tot;
	sf_background bg;
	SfProgressState progress;
	CountedShards counted = {&sp};
	gbt_dist_io io = {CountedExchange, &counted};
	const char *const *names;
	int			n_sum;
	bytea	   *out;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("logreg_train_sharded: relation, features and label must not be NULL")));
	relid = PG_GETARG_OID(0);
	features = text_to_cstring(PG_GETARG_TEXT_PP(1));
	label = text_to_cstring(PG_GETARG_TEXT_PP(2));
	ParseShardedParams(PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3), &p);
	if (get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("logreg_train_sharded: relation %u does not exist", relid)));
	CheckNumericColumn(relid, label, "label", what);

	fitcxt = AllocSetContextCreate(outer, "scfrisk logreg sharded fit", ALLOCSET_DEFAULT_SIZES);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "logreg_train_sharded: SPI_connect failed");
	PlanShards(&sp, relid, features, label, NULL, what, "logreg_shard_load");
	names = sp.width > 0 ? SfFeatureNamesParam(&p.feature_names, sp.width, what, "feature_names") : NULL;

	/* the load: every shard keeps its rows and answers with their summary */
	if (SPI_execute(sp.sketch_sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "logreg_train_sharded: the load query failed");
	n_sum = CollectReplies(&sp);
	PrepareStep(&sp);
	SfEnvInit(&env, fitcxt);
	SF_PG_CHECK(logreg_dist_merge(&env, (const uint8_t *const *) sp.bufs, sp.lens, n_sum, &tot),
				&env, what);
	{
		MemoryContext old = MemoryContextSwitchTo(fitcxt);

		SfProgressStart(&env, &progress, what, p.verbose);
		SF_PG_CHECK(logreg_dist_fit(&env, &p, &tot, n_sum, &io, &m), &env, what);
		SfProgressFinish(&progress);
		elog(DEBUG1, "logreg_train_sharded: %d Newton iterations, %d round trips to the %d shards "
			 "after the load, %.3f ms each on average",
			 m.iterations, counted.trips, n_sum,
			 counted.trips > 0 ? 1000.0 * INSTR_TIME_GET_DOUBLE(counted.spent) / counted.trips : 0.0);
		MeanBackground(&tot, &bg);
		sf_buf_init(&b, &env);
		SF_PG_CHECK(logreg_encode(&env, &m, &p, names, tot.n, &b), &env, what);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	MemoryContextSwitchTo(outer);
	out = SfBufToByteaWithSections(&env, &b, NULL, 0, &bg, what);
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(out);
}
