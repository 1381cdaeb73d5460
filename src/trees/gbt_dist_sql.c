/*
 * gbt_dist_sql.c
 *	  scfrisk.xgb_train_sharded: one gradient-boosted model over every
 *	  foreign partition of a table, trained where the rows are (gbt_dist.h,
 *	  docs/scale-out.md), and the two shard-side aggregates it calls.
 *
 * Shard side: scfrisk.xgb_shard_sketch(features, label, weight, session)
 * collects the shard's rows in the row store (as xgb_train does: float32
 * features, NULL rows skipped, NULL elements missing), puts them in the
 * canonical order, keeps them as the training's session in this backend
 * (gbt_dist_shard) and answers with gbt_dist_sketch;
 * scfrisk.xgb_shard_step(session, job) answers each later job from that
 * session (gbt_dist_shard_step; for a session of logreg_train_sharded,
 * logreg_dist_shard_step: logreg_dist_sql.c).  The sessions and the
 * coordinator's transport are shared with logreg_train_sharded (shard_pg.h).  They are immutable extension aggregates,
 * so postgres_fdw ships them whole to a server whose "extensions" option
 * lists scfrisk: only the sketch, the jobs and the histograms cross the
 * network.
 *
 * Coordinator: scfrisk.check_shards first (every error it has, before any
 * training), then the sketch (or load) query, a UNION ALL of one
 * pushed-down aggregate per partition tagged with the partition's place in
 * check_shards' order (by name), so the replies are merged in that fixed
 * order whatever order async foreign scans finish in.  The steps of
 * logreg_train_sharded read the one-row view scfrisk.shard_unit through a
 * temporary foreign table per server (PrepareStep, ShardExchange), so they
 * scan no partition; the job travels as the query's parameter $1.  Those
 * of xgb_train_sharded go over postgres_fdw's connections directly, binary
 * and to all servers at once (gbt_dist_pg.c).  An error anywhere (a shard
 * down mid-training, a cancel) ends the statement: no model is returned.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "foreign/foreign.h"
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
#include "shard_pg.h"

/* The shard's store: xgb_train's shape (float32 features, a weight column). */
static const SfRowsSpec shard_rows_spec = {{25, SF_ROWS_FLOAT4, 1, 1, GBT_MAX_FEATURES}, "xgb_shard_sketch"};

/* Transition state of the shard aggregates: the rows and session of a sketch, a step's job. */
typedef struct ShardState
{
	SfRows	   *rows;
	int64		session;
	bytea	   *job;
} ShardState;

/* Collect one row: (state, features, label, weight, session). */
PG_FUNCTION_INFO_V1(xgb_shard_sketch_sfunc);
Datum
xgb_shard_sketch_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = SfRowsAggContext(fcinfo, "xgb_shard_sketch");
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
	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("xgb_shard_sketch: session is NULL"),
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
		/* the session is a constant of the remote query: the first row's is every row's */
		st->session = PG_GETARG_INT64(4);
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

/*
 * The shard's state of each training it takes part in (gbt_dist_shard),
 * keyed by the session number the coordinator gives the sketch and every
 * job, each in a memory context of its own under TopMemoryContext.
 * postgres_fdw runs every query of one coordinator statement on one
 * connection in one remote transaction, so this backend sees every job of
 * the training; a state goes after the training's last job, or at the end
 * of that transaction (an error, a cancel).
 */
static ShardSession shard_sessions[SHARD_SESSIONS];
static bool shard_callback;

static void
ShardSessionsReset(XactEvent event, void *arg)
{
	int			k;

	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT && event != XACT_EVENT_PREPARE)
		return;
	for (k = 0; k < SHARD_SESSIONS; k++)
		if (shard_sessions[k].cxt != NULL)
		{
			MemoryContextDelete(shard_sessions[k].cxt);
			shard_sessions[k].cxt = NULL;
		}
}

static ShardSession *
ShardSessionFind(int64 key)
{
	int			k;

	for (k = 0; k < SHARD_SESSIONS; k++)
		if (shard_sessions[k].cxt != NULL && shard_sessions[k].key == key)
			return &shard_sessions[k];
	return NULL;
}

/* A new session for key (an old one of the same key is replaced). */
static ShardSession *
ShardSessionNew(int64 key)
{
	ShardSession *s = ShardSessionFind(key);
	int			k;

	if (!shard_callback)
	{
		RegisterXactCallback(ShardSessionsReset, NULL);
		shard_callback = true;
	}
	for (k = 0; s == NULL && k < SHARD_SESSIONS; k++)
		if (shard_sessions[k].cxt == NULL)
			s = &shard_sessions[k];
	if (s == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("scfrisk: this shard already holds %d partitions' rows in one transaction",
						SHARD_SESSIONS),
				 errhint("Put fewer partitions of the table on one server.")));
	if (s->cxt != NULL)
		MemoryContextDelete(s->cxt);
	s->cxt = AllocSetContextCreate(TopMemoryContext, "scfrisk shard session", ALLOCSET_DEFAULT_SIZES);
	s->key = key;
	s->sh = NULL;
	s->lr = NULL;
	return s;
}

/*
 * A new session for key holding the rows of a load aggregate as doubles in
 * the canonical order (x, y and, with a weight column, w), allocated in the
 * session's context, which is made current (the caller switches back to
 * *old); env allocates there too.
 */
ShardSession *
ShardSessionLoad(int64 key, SfRows *rows, sf_env *env, double **x, double **y, double **w,
				 MemoryContext *old)
{
	ShardSession *ss = ShardSessionNew(key);

	*old = MemoryContextSwitchTo(ss->cxt);
	SfEnvInit(env, ss->cxt);
	/* the canonical order makes the shard's sums independent of its scan order */
	SfRowsCanonical(rows, x, y, w);
	return ss;
}

/* The sketch of the shard's rows, which it keeps for the session's jobs; NULL without rows. */
PG_FUNCTION_INFO_V1(xgb_shard_sketch_final);
Datum
xgb_shard_sketch_final(PG_FUNCTION_ARGS)
{
	ShardState *st;
	ShardSession *ss;
	MemoryContext old;
	sf_env		env;
	sf_buf		b;
	double	   *x,
			   *y,
			   *w;
	bytea	   *out;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (ShardState *) PG_GETARG_POINTER(0);
	ss = ShardSessionLoad(st->session, st->rows, &env, &x, &y, &w, &old);
	SF_PG_CHECK(gbt_dist_shard_new(&env, x, y, w, (size_t) st->rows->n_rows,
								   (uint32_t) st->rows->n_cols, &ss->sh), &env, "xgb_shard_sketch");
	sf_buf_init(&b, &env);
	SF_PG_CHECK(gbt_dist_sketch(&env, x, y, w, (size_t) st->rows->n_rows,
								(uint32_t) st->rows->n_cols, &b),
				&env, "xgb_shard_sketch");
	MemoryContextSwitchTo(old);
	out = SfBufToBytea(&b);
	sf_buf_free(&b);
	PG_RETURN_BYTEA_P(out);
}

/* Transition of xgb_shard_step(session, job): keeps the job (one row: the unit view's). */
PG_FUNCTION_INFO_V1(xgb_shard_step_sfunc);
Datum
xgb_shard_step_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = SfRowsAggContext(fcinfo, "xgb_shard_step");
	ShardState *st = PG_ARGISNULL(0) ? NULL : (ShardState *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("xgb_shard_step: session and job must not be NULL"),
				 errhint("This aggregate is called by scfrisk.xgb_train_sharded.")));
	if (st == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(aggcxt);

		st = palloc0(sizeof(ShardState));
		st->session = PG_GETARG_INT64(1);
		st->job = PG_GETARG_BYTEA_P_COPY(2);
		MemoryContextSwitchTo(old);
	}
	PG_RETURN_POINTER(st);
}

/* The reply to the job from the session's state. */
PG_FUNCTION_INFO_V1(xgb_shard_step_final);
Datum
xgb_shard_step_final(PG_FUNCTION_ARGS)
{
	ShardState *st;
	ShardSession *ss;
	MemoryContext old;
	sf_env		env;
	sf_buf		b;
	bytea	   *out;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (ShardState *) PG_GETARG_POINTER(0);
	if ((ss = ShardSessionFind(st->session)) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("xgb_shard_step: this shard holds no training %lld", (long long) st->session),
				 errdetail("A shard keeps a training's rows from its sketch or load to the end of the remote transaction."),
				 errhint("This aggregate is called by scfrisk.xgb_train_sharded and scfrisk.logreg_train_sharded.")));
	if (ss->sh == NULL && ss->lr == NULL)
		PG_RETURN_NULL();		/* the shard had no rows */
	old = MemoryContextSwitchTo(ss->cxt);
	SfEnvInit(&env, ss->cxt);
	sf_buf_init(&b, &env);
	/* a session of logreg_train_sharded (logreg_shard_load) or of xgb_train_sharded */
	if (ss->lr != NULL)
		SF_PG_CHECK(logreg_dist_shard_step(&env, ss->lr, (const uint8_t *) VARDATA_ANY(st->job),
										   VARSIZE_ANY_EXHDR(st->job), &b), &env, "xgb_shard_step");
	else
		SF_PG_CHECK(gbt_dist_shard_step(&env, ss->sh, (const uint8_t *) VARDATA_ANY(st->job),
										VARSIZE_ANY_EXHDR(st->job), &b), &env, "xgb_shard_step");
	MemoryContextSwitchTo(old);
	out = SfBufToBytea(&b);
	/* the training's last job: its rows need not wait for the end of the transaction */
	if (ss->lr != NULL ? ss->lr->done : gbt_dist_shard_done(ss->sh))
	{
		MemoryContextDelete(ss->cxt);
		ss->cxt = NULL;
	}
	else
		sf_buf_free(&b);
	PG_RETURN_BYTEA_P(out);
}

/* ------------------------------------------------------------ coordinator */

/* A numeric column of the relation for the label or weight, else an error. */
void
CheckNumericColumn(Oid relid, const char *col, const char *role, const char *what)
{
	AttrNumber	att = get_attnum(relid, col);
	Oid			typ;

	if (att == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("%s: %s has no column \"%s\" for the %s",
						what, get_rel_name(relid), col, role)));
	typ = get_atttype(relid, att);
	if (typ != FLOAT8OID && typ != FLOAT4OID && typ != INT2OID && typ != INT4OID &&
		typ != INT8OID && typ != NUMERICOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s: the %s column \"%s\" is %s, not a number",
						what, role, col, format_type_be(typ))));
}

/*
 * One branch per partition: SELECT k, scfrisk.<loader>(features, label[,
 * weight], session + k) FROM part; the weight argument only with xgb's
 * loader (weight NULL there: 1).
 */
static char *
SketchSql(const ShardPlan *sp, const char *loader, const char *features, const char *label,
		  const char *weight)
{
	StringInfoData s;
	int			i;
	bool		weighted = strcmp(loader, "xgb_shard_sketch") == 0;

	initStringInfo(&s);
	for (i = 0; i < sp->n; i++)
		appendStringInfo(&s, "%sSELECT %d AS k, scfrisk.%s(%s, %s::float8, %s%s" INT64_FORMAT "::int8) FROM %s",
						 i ? " UNION ALL " : "", i, loader, quote_identifier(features),
						 quote_identifier(label),
						 weighted ? (weight ? quote_identifier(weight) : "1") : "",
						 weighted ? "::float8, " : "", sp->session + i, sp->part[i]);
	return s.data;
}

/*
 * The query of a job: per partition with rows, scfrisk.xgb_shard_step over
 * a temporary foreign table on its server that reads the one-row view
 * scfrisk.shard_unit, so the aggregate runs on the shard without scanning
 * the partition again (its state holds the rows since the sketch).  The
 * job is $1; a generic plan keeps it a parameter of the remote query.
 */
void
PrepareStep(ShardPlan *sp)
{
	StringInfoData s;
	int			i,
				m = 0;
	Oid			bt = BYTEAOID;

	initStringInfo(&s);
	for (i = 0; i < sp->n; i++)
	{
		/* named by the server's oid: a name of any length maps to one table */
		const char *ft = psprintf("scfrisk_shard_%u",
								  GetForeignServerByName(sp->server[i], false)->serverid);

		if (!sp->has_rows[i])
			continue;
		if (SPI_execute(psprintf("CREATE FOREIGN TABLE IF NOT EXISTS pg_temp.%s (one int) SERVER %s "
								 "OPTIONS (schema_name 'scfrisk', table_name 'shard_unit')",
								 ft, quote_identifier(sp->server[i])), false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "%s: could not create the foreign table of server %s",
				 sp->what, sp->server[i]);
		appendStringInfo(&s, "%sSELECT %d AS k, scfrisk.xgb_shard_step(" INT64_FORMAT "::int8, $1) "
						 "FROM pg_temp.%s", m++ ? " UNION ALL " : "", i, sp->session + i, ft);
	}
	if (m == 0)
		return;
	if ((sp->step_plan = SPI_prepare_cursor(s.data, 1, &bt, CURSOR_OPT_GENERIC_PLAN)) == NULL)
		elog(ERROR, "%s: SPI_prepare failed: %s", sp->what, SPI_result_code_string(SPI_result));
}

/*
 * check_shards (every error it has comes here, before any training) and the
 * first query, which loads the rows with the shard aggregate loader; what
 * names the trainer in messages.
 */
void
PlanShards(ShardPlan *sp, Oid relid, const char *features, const char *label, const char *weight,
		   const char *what, const char *loader)
{
	Datum		args[2] = {ObjectIdGetDatum(relid), CStringGetTextDatum(features)};
	Oid			types[2] = {REGCLASSOID, TEXTOID};
	uint64		i;

	static int64 trainings = 0;

	memset(sp, 0, sizeof(*sp));
	if (SPI_execute_with_args("SELECT partition::text, width_min, server::text FROM scfrisk.check_shards($1, $2)",
							  2, types, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "%s: check_shards failed", what);
	sp->what = what;
	sp->n = (int) SPI_processed;
	if (sp->n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: %s has no partitions", what, get_rel_name(relid)),
				 errhint("Attach foreign-table partitions on the shards (docs/scale-out.md).")));
	sp->part = palloc(sizeof(char *) * sp->n);
	sp->server = palloc(sizeof(char *) * sp->n);
	sp->has_rows = palloc0(sizeof(bool) * sp->n);
	/* unique in this backend (its pid) and among its trainings, so a shard never mixes two */
	sp->session = ((int64) MyProcPid << 32) + (++trainings << 16);
	sp->width = 0;
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		wd;

		sp->part[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		sp->server[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
		wd = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull);
		if (!isnull)
			sp->width = DatumGetInt32(wd);
	}
	if (sp->n > 65535)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s: %s has %d partitions, at most 65535 are supported",
						what, get_rel_name(relid), sp->n)));
	sp->sketch_sql = SketchSql(sp, loader, features, label, weight);
	sp->bufs = palloc0(sizeof(uint8_t *) * sp->n);
	sp->lens = palloc0(sizeof(size_t) * sp->n);
	sp->exchange_cxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk shard replies",
											 ALLOCSET_DEFAULT_SIZES);
}

/*
 * The rows of the last query, in the order of their tag k (the partition's
 * place), non-NULL answers only, copied into the exchange context.
 */
int
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
			elog(ERROR, "%s: unexpected partition tag", sp->what);
		if (!bn)
		{
			by_k[kk] = DatumGetByteaPCopy(b);
			sp->has_rows[kk] = true;
		}
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

/* The transport of gbt_dist_train and logreg_dist_fit: the job as $1 of the prepared union. */
sf_status
ShardExchange(void *ctx, const uint8_t *job, size_t job_len, int *n_replies,
			  const uint8_t *const **replies, const size_t **lens)
{
	ShardPlan  *sp = ctx;
	bytea	   *jb = palloc(VARHDRSZ + job_len);
	Datum		arg;

	SET_VARSIZE(jb, VARHDRSZ + job_len);
	memcpy(VARDATA(jb), job, job_len);
	arg = PointerGetDatum(jb);
	if (sp->step_plan == NULL)
		elog(ERROR, "%s: no shard holds rows", sp->what);
	if (SPI_execute_plan(sp->step_plan, &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "%s: the step query failed", sp->what);
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
	gbt_dist_io io = {ShardExchangeDirect, &sp};
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
	CheckNumericColumn(relid, label, "label", "xgb_train_sharded");
	if (weight)
		CheckNumericColumn(relid, weight, "weight", "xgb_train_sharded");

	fitcxt = AllocSetContextCreate(outer, "scfrisk gbt sharded fit", ALLOCSET_DEFAULT_SIZES);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "xgb_train_sharded: SPI_connect failed");
	PlanShards(&sp, relid, features, label, weight, "xgb_train_sharded", "xgb_shard_sketch");
	if (p.feature_names.n > 0 && sp.width > 0 && p.feature_names.n != sp.width)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("xgb_train_sharded: feature_names has %d names, features has %d elements",
						p.feature_names.n, sp.width)));

	/* round 0: the sketches, in partition order */
	if (SPI_execute(sp.sketch_sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "xgb_train_sharded: the sketch query failed");
	n_sk = CollectReplies(&sp);
	ShardConnect(&sp);
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
	ShardReportTraffic(&sp);
	SPI_finish();
	MemoryContextSwitchTo(outer);
	out = SfBufToBytea(&b);
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(out);
}
