/*
 * drift_pg.c
 *	  The training side of drift monitoring and the scoring side of
 *	  calibration, called from other concerns' SQL code: SfGovAttachDrift
 *	  (every classifier's training aggregate) and SfGovCalibrated
 *	  (scfrisk.predict).
 *
 * SfGovAttachDrift scores every row the aggregate collected with the model
 * just trained, through the kind's row scorer (the score scfrisk.predict
 * returns; row blocks on the cores' pool), bins the scores on the margin
 * scale (logit of the probability; the value itself for a regression) and
 * every feature into deciles, and sets the SF_TAG_DRIFT section of the model
 * bytes.  A trainer that already holds those scores passes them
 * (SfGovAttachDriftScores), and xgb_train its counts per bin code too
 * (SfGovAttachDriftCoded), which give a feature's bins at the thresholds
 * without a pass over its values whenever no threshold falls inside a code.
 * The bins depend only on the set of rows, so serial and parallel plans give
 * the same bytes.
 * Tree models (xgb_train, tree_train, rf_train) bin every input at their
 * own split thresholds instead (sf_drift_tree_edges), deciles kept for an
 * input no tree splits on.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"

#include "scfrisk/forest.h"
#include "scfrisk/gbt.h"
#include "scfrisk/mlp.h"
#include "scfrisk/sf_governance.h"
#include "scfrisk/sf_pool.h"
#include "governance_pg.h"

/*
 * Scoring the rows again is per-row work on the cores' pool: blocks of
 * rows, a region of a few blocks at a time so that an interrupt is seen
 * between regions (the scorers are pure functions of the model and the row).
 */
#define DRIFT_ROW_BLOCK 8192
#define DRIFT_REGION_BLOCKS 16

typedef struct DriftScoreCtx
{
	const sf_kind *k;
	const void *m;
	const SfRows *st;
	const double *prob;			/* given scores, or NULL to score the rows */
	int			scale;
	int64		first;			/* first block of the region */
	double	   *x;				/* (SF_POOL_MAX_THREADS, n_cols) a row per worker */
	double	   *col;			/* (n_rows) out: the scores on the margin scale */
} DriftScoreCtx;

static sf_status
DriftScoreTask(void *arg, int t, int worker, sf_env *env)
{
	DriftScoreCtx *c = arg;
	int64		i0 = (c->first + t) * DRIFT_ROW_BLOCK,
				i1 = Min(i0 + DRIFT_ROW_BLOCK, c->st->n_rows),
				i;
	double	   *x = c->x + (Size) worker * Max(c->st->n_cols, 1);
	int			j;

	for (i = i0; i < i1; i++)
	{
		if (c->prob)
			c->col[i] = sf_scale_score(c->scale, c->prob[i]);
		else
		{
			for (j = 0; j < c->st->n_cols; j++)
				x[j] = SfRowsGet(c->st, i, j);
			c->col[i] = sf_scale_score(c->scale, c->k->predict(c->m, x));
		}
	}
	return SF_OK;
}

/* The score of every row of st on the margin scale into col, on the pool. */
static void
DriftScores(sf_env *env, DriftScoreCtx *c, const char *what)
{
	int64		blocks = (c->st->n_rows + DRIFT_ROW_BLOCK - 1) / DRIFT_ROW_BLOCK;

	c->x = palloc(sizeof(double) * SF_POOL_MAX_THREADS * Max(c->st->n_cols, 1));
	for (c->first = 0; c->first < blocks; c->first += DRIFT_REGION_BLOCKS)
	{
		CHECK_FOR_INTERRUPTS();
		SF_PG_CHECK(sf_pool_run(env, SF_POOL_SHORT, (int) Min(blocks - c->first, DRIFT_REGION_BLOCKS),
								DriftScoreTask, c, NULL), env, what);
	}
	pfree(c->x);
}

/*
 * Split thresholds of a tree model's features (sf_drift_tree_edges), or
 * false for a kind without trees.
 */
static bool
TreeEdges(sf_env *env, uint16 kind, const void *model, uint32 p, uint32 **off, double **edges,
		  const char *what)
{
	const gbt_tree *trees;
	int32		n_trees;

	if (kind == SF_KIND_GBT)
	{
		trees = ((const gbt_model *) model)->trees;
		n_trees = ((const gbt_model *) model)->n_trees;
	}
	else if (kind == SF_KIND_CART || kind == SF_KIND_FOREST)
	{
		trees = ((const forest_model *) model)->trees;
		n_trees = ((const forest_model *) model)->n_trees;
	}
	else
		return false;
	SF_PG_CHECK(sf_drift_tree_edges(env, trees, n_trees, p, off, edges), env, what);
	return true;
}

int
SfGovScoreScale(uint16 kind, const void *model)
{
	if (kind == SF_KIND_GBT)
		return ((const gbt_model *) model)->objective == GBT_OBJ_BINARY
			? SF_SCALE_LOGIT : SF_SCALE_IDENTITY;
	if (kind == SF_KIND_MLP)
		return ((const mlp_model *) model)->objective == MLP_OBJ_BINARY
			? SF_SCALE_LOGIT : SF_SCALE_IDENTITY;
	if (kind == SF_KIND_CART || kind == SF_KIND_FOREST)
		return ((const forest_model *) model)->objective == FOREST_OBJ_BINARY
			? SF_SCALE_LOGIT : SF_SCALE_IDENTITY;
	return SF_SCALE_LOGIT;		/* logreg and the hybrid classify */
}

bytea *
SfGovAttachDrift(bytea *model, const SfRows *st, const char *what)
{
	return SfGovAttachDriftScores(model, st, NULL, what);
}

bytea *
SfGovAttachDriftScores(bytea *model, const SfRows *st, const double *prob, const char *what)
{
	return SfGovAttachDriftCoded(model, st, prob, NULL, what);
}

/*
 * The training distribution of every feature into d->features: at a tree
 * model's thresholds (from the trainer's counts per code when they fit, else
 * by a pass over the values), deciles for a feature no tree splits on.
 */
static void
DriftFeatures(sf_env *env, uint16 kind, const void *m, const SfRows *st,
			  const sf_dist_codes *codes, sf_drift *d, const char *what)
{
	uint32	   *off = NULL;
	double	   *edges = NULL,
			   *col = NULL;
	bool		trees = TreeEdges(env, kind, m, (uint32) st->n_cols, &off, &edges, what);
	int64		i;
	int			j;

	for (j = 0; j < st->n_cols; j++)
	{
		const double *e = trees ? edges + off[j] : NULL;
		uint32		ne = trees ? off[j + 1] - off[j] : 0;

		CHECK_FOR_INTERRUPTS();
		if (ne > 0 && codes != NULL && sf_dist_codes_fit(&codes[j], e, ne))
		{
			SF_PG_CHECK(sf_dist_build_codes(env, &codes[j], e, ne, &d->features[j]), env, what);
			continue;
		}
		if (col == NULL)
			col = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * (Size) st->n_rows);
		for (i = 0; i < st->n_rows; i++)
			col[i] = SfRowsGet(st, i, j);
		if (ne > 0)
			SF_PG_CHECK(sf_dist_build_on(env, col, (size_t) st->n_rows, 1, e, ne, &d->features[j]),
						env, what);
		else
			SF_PG_CHECK(sf_dist_build(env, col, (size_t) st->n_rows, 1, SF_DRIFT_QUANTILES,
									  &d->features[j]), env, what);
	}
}

bytea *
SfGovSetSection(sf_env *env, bytea *model, uint16 tag, const sf_buf *sec, MemoryContext outcxt,
				MemoryContext workcxt, const char *what)
{
	sf_buf		b;
	bytea	   *out;

	SF_PG_CHECK(sf_buf_status(sec), env, what);
	sf_buf_init(&b, env);
	SF_PG_CHECK(sf_container_set_section(env, (const uint8_t *) VARDATA(model),
										 VARSIZE(model) - VARHDRSZ, tag, sec->data, sec->len, &b),
				env, what);
	MemoryContextSwitchTo(outcxt);
	out = SfBufToBytea(&b);
	MemoryContextDelete(workcxt);
	return out;
}

bytea *
SfGovAttachDriftCoded(bytea *model, const SfRows *st, const double *prob,
					  const sf_dist_codes *codes, const char *what)
{
	MemoryContext cxt,
				old;
	sf_env		env;
	sf_container c;
	const sf_kind *k;
	const uint8_t *buf = (const uint8_t *) VARDATA(model);
	size_t		len = VARSIZE(model) - VARHDRSZ;
	void	   *m;
	sf_drift	d;
	DriftScoreCtx sc;
	sf_buf		sec;

	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(sf_container_read_header(&env, buf, len, &c), &env, what);
	k = SfKindOrError(c.kind, what);
	if (k->predict == NULL || st->n_rows == 0)
		return model;
	cxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk drift", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	SfEnvInit(&env, cxt);
	SF_PG_CHECK(k->decode(&env, buf, len, &m), &env, what);
	memset(&d, 0, sizeof(d));
	d.scale = SfGovScoreScale(c.kind, m);
	d.rows = (uint64) st->n_rows;
	d.n_features = (uint32) st->n_cols;
	d.features = palloc0(sizeof(sf_dist) * Max(st->n_cols, 1));
	/* the score of every training row, on the margin scale */
	memset(&sc, 0, sizeof(sc));
	sc.k = k;
	sc.m = m;
	sc.st = st;
	sc.prob = prob;
	sc.scale = d.scale;
	sc.col = MemoryContextAllocHuge(cxt, sizeof(double) * (Size) st->n_rows);
	DriftScores(&env, &sc, what);
	SF_PG_CHECK(sf_dist_build(&env, sc.col, (size_t) st->n_rows, 1, SF_DRIFT_QUANTILES, &d.score),
				&env, what);
	pfree(sc.col);
	DriftFeatures(&env, c.kind, m, st, codes, &d, what);
	sf_buf_init(&sec, &env);
	sf_drift_encode(&d, &sec);
	return SfGovSetSection(&env, model, SF_TAG_DRIFT, &sec, old, cxt, what);
}

/* ------------------------------------------------------------ calibration at training */

void
SfGovCheckCalibrate(int method, bool binary, const char *what)
{
	if (method != SF_CALIB_NONE && !binary)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: calibrate %s needs a binary objective", what, sf_calib_method_name(method)),
				 errhint("Leave \"calibrate\" out for a regression.")));
}

bytea *
SfGovAttachCalibration(bytea *model, const double *x, const double *y, size_t n, uint32 p,
					   int method, int folds, sf_calib_fold_fn fit, void *ctx, const char *what)
{
	MemoryContext cxt,
				old;
	sf_env		env;
	sf_calib	cal;
	sf_buf		sec;

	if (method == SF_CALIB_NONE)
		return model;
	cxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk calibrate", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	SfEnvInit(&env, cxt);
	SF_PG_CHECK(sf_calib_fit_oof(&env, x, y, n, p, method, folds, fit, ctx, &cal), &env, what);
	sf_buf_init(&sec, &env);
	sf_calib_encode(&cal, &sec);
	return SfGovSetSection(&env, model, SF_TAG_CALIBRATION, &sec, old, cxt, what);
}

/* ------------------------------------------------------------ calibration at scoring */

/* Decoder for SfModelCacheGet: the calibration map, method NONE without one. */
static sf_status
CalibDecode(sf_env *env, const uint8_t *buf, size_t len, void **out)
{
	sf_container c;
	const sf_section *s;
	sf_calib   *cal;
	sf_status	st;

	if ((st = sf_container_decode(env, buf, len, &c)) != SF_OK)
		return st;
	cal = sf_calloc(env, 1, sizeof(sf_calib));
	if (cal == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for a calibration map");
	s = sf_container_find(&c, SF_TAG_CALIBRATION);
	if (s != NULL && (st = sf_calib_decode(env, s->data, (size_t) s->len, cal)) != SF_OK)
		return st;
	*out = cal;
	return SF_OK;
}

double
SfGovCalibrated(FunctionCallInfo fcinfo, FmgrInfo *cache, double p)
{
	const sf_calib *cal;
	LOCAL_FCINFO(inner, 1);

	InitFunctionCallInfoData(*inner, cache, 1, fcinfo->fncollation, NULL, NULL);
	inner->args[0] = fcinfo->args[0];
	inner->args[0].isnull = false;
	cal = SfModelCacheGet(inner, 0, CalibDecode, "calibration");
	if (cal->method == SF_CALIB_NONE)
		return p;
	return sf_calib_apply(cal, sf_calib_margin(p));
}
