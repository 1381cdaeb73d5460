/*
 * gbt_train.c
 *	  The boosting loop: data checks, the validation split, quantisation,
 *	  and per round the gradients, one tree (gbt_grow.c), the margins, the
 *	  evaluation log and early stopping.
 *
 * Each round computes the gradient and hessian of every training row from
 * its margin (binary:logistic: g = p - y, h = max(p (1 - p), 1e-16);
 * reg:squarederror: g = m - y, h = 1; both times the row weight, label-1
 * rows also times scale_pos_weight), samples rows (Bernoulli, subsample)
 * and features (colsample_bytree per tree, colsample_bylevel per level),
 * and grows one tree level by level, as XGBoost's hist updater does with its
 * default depthwise policy: a node splits when its best split gains more
 * than 1e-6 and at least gamma and the depth allows; children take the rows
 * of their parent in a stable partition; the smaller child's histogram is
 * built and the larger one's is the parent's minus it.  Leaves get eta times
 * XGBoost's weight.  With early_stopping_rounds, a seeded share of the rows
 * is held out, the metric is taken on it every round, and the trees after
 * the best round are dropped.  monotone_constraints (XGBoost's) bound the
 * weights of every node (gbt_grow.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_rng.h"
#include "gbt_int.h"

/*
 * The rows of a tree trainer (gbt, forest): finite labels, 0 or 1 with
 * both classes when binary names the binary objective (NULL for
 * regression), finite weights >= 0 with a positive sum when w is given, no
 * infinite feature (NaN is missing).
 */
sf_status
gbt_check_rows(sf_env *env, const double *x, const double *y, const double *w, size_t n,
			   uint32_t p, const char *binary)
{
	size_t		i,
				nx;
	int			has0 = 0,
				has1 = 0;
	double		sw = 0.0;

	if (!sf_mul_size(n, p, &nx))
		return sf_fail(env, SF_ELIMIT, "training matrix too large");
	for (i = 0; i < n; i++)
	{
		if (!isfinite(y[i]))
			return sf_fail(env, SF_EDATA, "label of row %zu is not finite", i + 1);
		if (binary)
		{
			if (y[i] == 0.0)
				has0 = 1;
			else if (y[i] == 1.0)
				has1 = 1;
			else
				return sf_fail(env, SF_EDATA, "label of row %zu is %g, %s needs 0 or 1", i + 1, y[i],
							   binary);
		}
		if (w)
		{
			if (!isfinite(w[i]) || w[i] < 0.0)
				return sf_fail(env, SF_EDATA, "weight of row %zu is %g, weights must be finite and >= 0",
							   i + 1, w[i]);
			sw += w[i];
		}
	}
	if (binary && !(has0 && has1))
		return sf_fail(env, SF_EDATA, "%s needs both classes, every label is %d", binary, has1 ? 1 : 0);
	if (w && !(sw > 0.0))
		return sf_fail(env, SF_EDATA, "the weights sum to zero");
	for (i = 0; i < nx; i++)
		if (isinf(x[i]))
			return sf_fail(env, SF_EDATA, "feature %zu of row %zu is infinite",
						   i % p + 1, i / p + 1);
	return SF_OK;
}

/* Check the data before any work: sizes, constraints, then the rows. */
static sf_status
check_data(sf_env *env, const double *x, const double *y, const double *w, size_t n, uint32_t p,
		   const gbt_params *prm)
{
	if (n == 0)
		return sf_fail(env, SF_EDATA, "no training rows");
	if (p == 0 || p > GBT_MAX_FEATURES)
		return sf_fail(env, SF_EDATA, "features must have 1 to %d elements, got %u",
					   GBT_MAX_FEATURES, (unsigned) p);
	if (n >= UINT32_MAX)
		return sf_fail(env, SF_ELIMIT, "too many training rows (%zu)", n);
	if ((uint32_t) prm->monotone_constraints.n > p)
		return sf_fail(env, SF_EINVAL, "monotone_constraints has %d elements, features has %u",
					   prm->monotone_constraints.n, (unsigned) p);
	return gbt_check_rows(env, x, y, w, n, p,
						  prm->objective == GBT_OBJ_BINARY ? "binary:logistic" : NULL);
}

void
free_work(train_work *w)
{
	sf_env	   *env = w->env;
	int			i;

	gbt_bins_free(env, &w->bins);
	for (i = 0; i < w->n_pool; i++)
		sf_free(env, w->pool[i]);
	gbt_tree_free(env, &w->t);
	sf_free_all(env, w->gh, w->rows, w->tmp, w->tmp_r, w->chunks, w->pool, w->t_bin, w->t_allright, w->cur,
				w->next, w->splits, w->part, w->scratch, w->allowed, w->tree_feat, w->feat_idx, w->lg, w->lh,
				w->lb, w->le, w->lhist, w->mono, w->w_lower, w->w_upper, w->l_lower, w->l_upper);
}

/* Copy the grown tree (w->t, first n_nodes nodes) into dst at its exact size. */
sf_status
keep_tree(train_work *w, gbt_tree *dst)
{
	int32_t		nn = w->t.n_nodes;
	sf_status	st = gbt_tree_alloc(w->env, dst, nn);

	if (st != SF_OK)
		return st;
	memcpy(dst->left, w->t.left, sizeof(int32_t) * nn);
	memcpy(dst->right, w->t.right, sizeof(int32_t) * nn);
	memcpy(dst->split_index, w->t.split_index, sizeof(uint32_t) * nn);
	memcpy(dst->split_cond, w->t.split_cond, sizeof(float) * nn);
	memcpy(dst->default_left, w->t.default_left, nn);
	memcpy(dst->base_weight, w->t.base_weight, sizeof(float) * nn);
	memcpy(dst->loss_chg, w->t.loss_chg, sizeof(float) * nn);
	memcpy(dst->sum_hess, w->t.sum_hess, sizeof(float) * nn);
	return SF_OK;
}

/* ------------------------------------------------------------ row passes */

/*
 * The per-row work of a round (gradients, margin updates, the training
 * metric) runs over fixed blocks of rows or over the leaves, on the worker
 * pool.  Each row is written by one task, and metric sums are kept per
 * block and added in block order, so the results do not depend on the
 * thread count.
 */
#define GBT_ROW_BLOCK 16384

enum
{
	PASS_GRAD, PASS_LEAVES, PASS_ROUTE, PASS_METRIC, PASS_SCORE
};

typedef struct row_pass
{
	int			mode;
	train_work *w;
	const gbt_params *prm;
	size_t		n;
	double	   *mt;				/* margins of the training rows */
	float	   *mf;				/* the same in float32 as scoring adds them, or NULL */
	double	   *score;			/* PASS_SCORE: gbt_predict of each row */
	const double *yt;
	const double *wtr;			/* gradient weights (with scale_pos_weight) */
	const double *wm;			/* metric weights, or NULL */
	const gbt_tree *tree;		/* PASS_LEAVES, PASS_ROUTE */
	const int32_t *leaves;		/* PASS_LEAVES: leaf ids */
	const size_t *lb,
			   *le;				/* PASS_LEAVES: their row ranges in w->rows */
	int			metric;			/* PASS_METRIC */
	int			grad_ready;		/* the gradients of the current margins are in w->gh */
	double	   *acc,
			   *sw;				/* PASS_METRIC: per-block sums */
} row_pass;

/*
 * Gradient and hessian of training row i from its prediction pr (the
 * probability for binary:logistic, the margin for reg:squarederror).
 */
static inline void
grad_row(row_pass *rp, size_t i, double pr)
{
	double		g,
				h;

	if (rp->prm->objective == GBT_OBJ_BINARY)
	{
		g = pr - rp->yt[i];
		h = pr * (1.0 - pr);
		if (h < GBT_HESS_EPS)
			h = GBT_HESS_EPS;
	}
	else
	{
		g = pr - rp->yt[i];
		h = 1.0;
	}
	rp->w->gh[2 * i] = (float) (g * rp->wtr[i]);
	rp->w->gh[2 * i + 1] = (float) (h * rp->wtr[i]);
}

#define LEAF_PREFETCH 32			/* rows ahead whose margins are fetched */

/*
 * A leaf's value v added to the margins of its rows rows[b, e) (and to the
 * float32 ones when mf is not NULL).  The rows are sparse in the margins,
 * so they are fetched ahead; restrict keeps the pointers in registers.
 */
static void
leaf_margins(const uint32_t *restrict rows, size_t b, size_t e, float v, double *restrict mt,
			 float *restrict mf)
{
	size_t		i;

	for (i = b; i < e; i++)
	{
		uint32_t	r = rows[i];

		if (i + LEAF_PREFETCH < e)
		{
			__builtin_prefetch(mt + rows[i + LEAF_PREFETCH], 1);
			if (mf)
				__builtin_prefetch(mf + rows[i + LEAF_PREFETCH], 1);
		}
		mt[r] += v;
		if (mf)
			mf[r] += v;
	}
}

static void
row_pass_task(void *arg, int t, int worker)
{
	row_pass   *rp = arg;
	size_t		i0 = (size_t) t * GBT_ROW_BLOCK,
				i1 = i0 + GBT_ROW_BLOCK,
				i;

	if (rp->mode == PASS_LEAVES)
	{
		int32_t		k = rp->leaves[t];

		leaf_margins(rp->w->rows, rp->lb[k], rp->le[k], rp->tree->split_cond[k], rp->mt, rp->mf);
		return;
	}
	if (i1 > rp->n)
		i1 = rp->n;
	switch (rp->mode)
	{
		case PASS_GRAD:
			for (i = i0; i < i1; i++)
				grad_row(rp, i, rp->prm->objective == GBT_OBJ_BINARY
						 ? 1.0 / (1.0 + exp(-rp->mt[i])) : rp->mt[i]);
			break;
		case PASS_ROUTE:
			for (i = i0; i < i1; i++)
			{
				float		v = rp->tree->split_cond[gbt_route_binned(rp->w, i)];

				rp->mt[i] += v;
				if (rp->mf)
					rp->mf[i] += v;
			}
			break;
		case PASS_SCORE:
			/* gbt_predict's last step on the float32 margin */
			for (i = i0; i < i1; i++)
				rp->score[i] = rp->prm->objective == GBT_OBJ_BINARY
					? (double) (1.0f / (1.0f + expf(-rp->mf[i]))) : (double) rp->mf[i];
			break;
		case PASS_METRIC:
			{
				double		acc = 0.0,
							sw = 0.0;

				for (i = i0; i < i1; i++)
				{
					double		wi = rp->wm ? rp->wm[i] : 1.0;
					double		m = rp->mt[i];
					/* the prediction, as PASS_GRAD computes it from the same margin */
					double		pr = rp->prm->objective == GBT_OBJ_BINARY ? 1.0 / (1.0 + exp(-m)) : m;

					if (rp->metric == GBT_METRIC_LOGLOSS)
					{
						double		p = rp->prm->objective == GBT_OBJ_BINARY ? pr : 1.0 / (1.0 + exp(-m));

						if (p < 1e-16)
							p = 1e-16;
						if (p > 1.0 - 1e-16)
							p = 1.0 - 1e-16;
						acc -= wi * (rp->yt[i] > 0.5 ? log(p) : log(1.0 - p));
					}
					else
						acc += wi * (pr - rp->yt[i]) * (pr - rp->yt[i]);
					sw += wi;
					grad_row(rp, i, pr);	/* the next round's (train_score) */
				}
				rp->acc[t] = acc;
				rp->sw[t] = sw;
			}
			break;
	}
}

/* Number of row blocks of n rows. */
static int
row_blocks(size_t n)
{
	return (int) ((n + GBT_ROW_BLOCK - 1) / GBT_ROW_BLOCK);
}

/*
 * The rows of one fit: which input rows train and which validate, their
 * labels, weights and margins, and the scratch of the row passes.  Split and
 * filled by split_rows and alloc_rows, freed by free_rows.
 */
typedef struct boost_rows
{
	size_t		n_train,
				n_valid;
	uint32_t   *trow,
			   *vrow;			/* input rows of each side (NULL without a split) */
	double	   *yt,
			   *wtr,
			   *wm;				/* training labels, gradient weights, metric weights (or NULL) */
	double	   *mt;				/* training margins */
	double	   *yv,
			   *wv,
			   *mv;				/* validation labels, weights (or NULL), margins */
	size_t	   *leaf_b,
			   *leaf_e;			/* (node_cap) row ranges of the leaves in w->rows */
	int32_t    *leaf_ids;		/* (node_cap) leaves of the last tree */
	double	   *blk_acc,
			   *blk_sw;			/* per row block sums of the metric pass */
} boost_rows;

static void
free_rows(sf_env *env, boost_rows *b)
{
	sf_free_all(env, b->trow, b->vrow, b->yt, b->wtr, b->wm, b->yv, b->wv, b->mt, b->mv, b->leaf_b, b->leaf_e,
				b->leaf_ids, b->blk_acc, b->blk_sw);
}

/* The validation split of early stopping: a seeded shuffle (stream 1), each side in input order. */
static sf_status
split_rows(sf_env *env, const gbt_params *prm, size_t n, boost_rows *b)
{
	uint32_t   *perm;
	uint8_t    *is_valid;
	sf_rng		rs;
	size_t		i,
				a = 0,
				v = 0;

	b->n_train = n;
	b->n_valid = 0;
	if (prm->early_stopping_rounds <= 0)
		return SF_OK;
	if (n < 2)
		return sf_fail(env, SF_EDATA, "early stopping needs at least 2 rows");
	b->n_valid = (size_t) floor(prm->validation_share * (double) n + 0.5);
	if (b->n_valid < 1)
		b->n_valid = 1;
	if (b->n_valid > n - 1)
		b->n_valid = n - 1;
	b->n_train = n - b->n_valid;
	if (!sf_alloc_all(env, SF_MALLOC_N(perm, n), SF_CALLOC_N(is_valid, n), SF_MALLOC_N(b->trow, b->n_train),
					  SF_MALLOC_N(b->vrow, b->n_valid)))
		return sf_fail(env, SF_ENOMEM, "out of memory splitting the rows");
	for (i = 0; i < n; i++)
		perm[i] = (uint32_t) i;
	sf_rng_init(&rs, (uint64_t) prm->seed, 1);
	sf_rng_shuffle_u32(&rs, perm, (uint32_t) n);
	for (i = 0; i < b->n_valid; i++)
		is_valid[perm[i]] = 1;
	for (i = 0; i < n; i++)
		if (is_valid[i])
			b->vrow[v++] = (uint32_t) i;
		else
			b->trow[a++] = (uint32_t) i;
	sf_free_all(env, perm, is_valid);
	return SF_OK;
}

/*
 * The tree grower's work space for n_train rows of p features (gbt_int.h):
 * a level holds at most 2^max_depth nodes (and never more than twice the
 * rows), a tree twice that.  *node_cap gets the tree's node capacity.
 */
sf_status
alloc_work(sf_env *env, train_work *w, const gbt_params *prm, uint32_t p, size_t n_train,
		   int32_t *node_cap)
{
	int32_t		level_cap = (int32_t) ((size_t) 1 << prm->max_depth);
	size_t		i;

	if ((size_t) level_cap > 2 * n_train)
		level_cap = (int32_t) (2 * n_train);
	*node_cap = 2 * level_cap + 1;
	if ((size_t) *node_cap > 4 * n_train + 1)
		*node_cap = (int32_t) (4 * n_train + 1);
	if (!sf_alloc_all(env, SF_MALLOC_N(w->gh, 2 * n_train), SF_MALLOC_N(w->rows, n_train),
					  SF_MALLOC_N(w->tmp, n_train), SF_MALLOC_N(w->tmp_r, n_train),
					  SF_CALLOC_N(w->chunks, n_train / GBT_PART_CHUNK + (size_t) level_cap + 1),
					  SF_CALLOC_N(w->t_bin, *node_cap), SF_CALLOC_N(w->t_allright, *node_cap),
					  SF_CALLOC_N(w->cur, level_cap), SF_CALLOC_N(w->next, level_cap),
					  SF_CALLOC_N(w->splits, level_cap), SF_CALLOC_N(w->part, level_cap),
					  SF_CALLOC_N(w->scratch, (size_t) GBT_SPLIT_CHUNK * p), SF_CALLOC_N(w->allowed, p),
					  SF_CALLOC_N(w->tree_feat, p), SF_CALLOC_N(w->feat_idx, p), SF_CALLOC_N(w->lg, level_cap),
					  SF_CALLOC_N(w->lh, level_cap), SF_CALLOC_N(w->lb, level_cap), SF_CALLOC_N(w->le, level_cap),
					  SF_CALLOC_N(w->lhist, level_cap)))
		return sf_fail(env, SF_ENOMEM, "out of memory for the training work space");
	if (prm->monotone_constraints.n > 0)
	{
		/* XGBoost pads a shorter list with zeros; a longer one is refused in check_data */
		if (!sf_alloc_all(env, SF_CALLOC_N(w->mono, p), SF_CALLOC_N(w->w_lower, *node_cap),
						  SF_CALLOC_N(w->w_upper, *node_cap), SF_CALLOC_N(w->l_lower, level_cap),
						  SF_CALLOC_N(w->l_upper, level_cap)))
			return sf_fail(env, SF_ENOMEM, "out of memory for the monotone constraints");
		for (i = 0; i < (size_t) prm->monotone_constraints.n; i++)
			w->mono[i] = (int8_t) prm->monotone_constraints.v[i];
	}
	return gbt_tree_alloc(env, &w->t, *node_cap);
}

/* Labels, weights and base margins of both sides, and the row passes' scratch. */
static sf_status
alloc_rows(sf_env *env, boost_rows *b, const double *y, const double *wt, const gbt_params *prm,
		   float base_margin, int32_t node_cap)
{
	size_t		nt = b->n_train,
				nv = b->n_valid ? b->n_valid : 1,
				i;

	if (!sf_alloc_all(env, SF_MALLOC_N(b->yt, nt), SF_MALLOC_N(b->wtr, nt), SF_MALLOC_N(b->mt, nt),
					  SF_MALLOC_N(b->mv, nv), SF_MALLOC_N(b->yv, nv), SF_CALLOC_N(b->leaf_b, node_cap),
					  SF_CALLOC_N(b->leaf_e, node_cap), SF_CALLOC_N(b->leaf_ids, node_cap),
					  SF_CALLOC_N(b->blk_acc, (size_t) row_blocks(nt) + 1),
					  SF_CALLOC_N(b->blk_sw, (size_t) row_blocks(nt) + 1)) ||
		(wt && !sf_alloc_all(env, SF_MALLOC_N(b->wm, nt), SF_MALLOC_N(b->wv, nv))))
		return sf_fail(env, SF_ENOMEM, "out of memory for the training work space");
	for (i = 0; i < nt; i++)
	{
		size_t		src = b->trow ? b->trow[i] : i;

		b->yt[i] = y[src];
		b->wtr[i] = (wt ? wt[src] : 1.0) *
			(prm->objective == GBT_OBJ_BINARY && y[src] == 1.0 ? prm->scale_pos_weight : 1.0);
		b->mt[i] = base_margin;
		if (b->wm)
			b->wm[i] = wt[src];
	}
	for (i = 0; i < b->n_valid; i++)
	{
		b->mv[i] = base_margin;
		b->yv[i] = y[b->vrow[i]];
		if (b->wv)
			b->wv[i] = wt[b->vrow[i]];
	}
	return SF_OK;
}

/* An empty model with room for every tree and every round's evaluation. */
static sf_status
new_model(sf_env *env, const gbt_params *prm, uint32_t p, float base_margin, int metric,
		  const boost_rows *b, gbt_model **out)
{
	gbt_model  *m = sf_calloc(env, 1, sizeof(gbt_model));

	*out = m;
	if (m == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the trees");
	m->n_features = p;
	m->objective = prm->objective;
	m->base_score = (float) prm->base_score;
	m->base_margin = base_margin;
	m->eval_metric = metric;
	m->train_rows = b->n_train;
	m->trees = sf_calloc(env, prm->n_estimators, sizeof(gbt_tree));
	m->eval_train = sf_malloc(env, sizeof(double) * prm->n_estimators);
	if (b->n_valid)
		m->eval_valid = sf_malloc(env, sizeof(double) * prm->n_estimators);
	if (!m->trees || !m->eval_train || (b->n_valid && !m->eval_valid))
		return sf_fail(env, SF_ENOMEM, "out of memory for the trees");
	return SF_OK;
}

/* The training metric of the margins after a round (NaN where not taken). */
static sf_status
train_score(train_work *w, boost_rows *b, row_pass *rp, double *score)
{
	*score = NAN;
	if (rp->metric != GBT_METRIC_AUC)
	{
		double		acc = 0.0,
					sw = 0.0;
		int			k;

		/*
		 * The metric pass computes each row's prediction from the margins
		 * the next round's gradients start from: it writes them too, which
		 * saves that round a pass over the rows and an exp per row.
		 */
		rp->mode = PASS_METRIC;
		gbt_parallel(w->env, row_blocks(b->n_train), row_pass_task, rp);
		rp->grad_ready = 1;
		for (k = 0; k < row_blocks(b->n_train); k++)
		{
			acc += rp->acc[k];
			sw += rp->sw[k];
		}
		*score = !(sw > 0.0) ? NAN : rp->metric == GBT_METRIC_RMSE ? sqrt(acc / sw) : acc / sw;
		return SF_OK;
	}
	/* the training AUC (a sort per round) only on moderate sizes */
	if (b->n_train <= 200000)
		return gbt_metric_eval(w->env, rp->metric, w->prm->objective, b->mt, b->yt, b->wm, NULL,
							   b->n_train, score);
	return SF_OK;
}

/*
 * One boosting round: the gradients, the rows of this tree (Bernoulli
 * subsample from the fit's stream), the tree, the margins of both sides and
 * the round's scores.  The tree is kept as the model's tree r.
 */
static sf_status
boost_round(train_work *w, boost_rows *b, row_pass *rp, gbt_model *m, int r, const double *x,
			double *tr_score, double *va_score)
{
	const gbt_params *prm = w->prm;
	gbt_tree   *tree = &m->trees[r];
	size_t		n_rows = 0,
				i;
	int32_t		k;
	sf_status	st;

	if (!rp->grad_ready)
	{
		rp->mode = PASS_GRAD;
		gbt_parallel(w->env, row_blocks(b->n_train), row_pass_task, rp);
	}
	rp->grad_ready = 0;			/* this round's tree moves the margins */
	if (prm->subsample < 1.0)
	{
		for (i = 0; i < b->n_train; i++)
			if (sf_rng_uniform(&w->rng) < prm->subsample)
				w->rows[n_rows++] = (uint32_t) i;
	}
	else
	{
		for (i = 0; i < b->n_train; i++)
			w->rows[i] = (uint32_t) i;
		n_rows = b->n_train;
	}
	if ((st = gbt_grow_tree(w, n_rows, b->leaf_b, b->leaf_e)) != SF_OK)
		return st;
	if ((st = keep_tree(w, tree)) != SF_OK)
		return st;
	m->n_trees = r + 1;

	/* margins: by leaf ranges when every row grew the tree, else routed */
	rp->tree = tree;
	if (prm->subsample >= 1.0)
	{
		int			n_leaves = 0;

		for (k = 0; k < tree->n_nodes; k++)
			if (tree->left[k] < 0)
				b->leaf_ids[n_leaves++] = k;
		rp->mode = PASS_LEAVES;
		gbt_parallel(w->env, n_leaves, row_pass_task, rp);
	}
	else
	{
		rp->mode = PASS_ROUTE;
		gbt_parallel(w->env, row_blocks(b->n_train), row_pass_task, rp);
	}
	for (i = 0; i < b->n_valid; i++)
		b->mv[i] += tree->split_cond[gbt_tree_leaf(tree, x + (size_t) b->vrow[i] * w->p)];

	if ((st = train_score(w, b, rp, tr_score)) != SF_OK)
		return st;
	*va_score = NAN;
	if (b->n_valid)
		return gbt_metric_eval(w->env, rp->metric, prm->objective, b->mv, b->yv, b->wv, NULL,
							   b->n_valid, va_score);
	return SF_OK;
}

void
gbt_train_rows_free(sf_env *env, gbt_train_rows *rows)
{
	sf_free_all(env, rows->score, rows->n_bins, rows->off, rows->cuts, rows->min_val, rows->count);
	memset(rows, 0, sizeof(*rows));
}

/*
 * The kept rows' scores (from the float32 margins rp->mf) and the
 * quantisation with its counts per code, copied out of w before it is freed.
 */
static sf_status
keep_rows(train_work *w, row_pass *rp, gbt_train_rows *rows)
{
	sf_env	   *env = w->env;
	const gbt_bins *b = &w->bins;
	uint32_t	p = w->p;

	rows->n = w->n;
	rows->p = p;
	if (!sf_alloc_all(env, SF_MALLOC_N(rows->score, w->n ? w->n : 1), SF_MALLOC_N(rows->n_bins, p),
					  SF_MALLOC_N(rows->off, p + 1), SF_MALLOC_N(rows->cuts, b->off[p] ? b->off[p] : 1),
					  SF_MALLOC_N(rows->min_val, p), SF_MALLOC_N(rows->count, b->off[p] ? b->off[p] : 1)))
	{
		gbt_train_rows_free(env, rows);
		return sf_fail(env, SF_ENOMEM, "out of memory keeping the training rows' scores");
	}
	rp->score = rows->score;
	rp->mode = PASS_SCORE;
	gbt_parallel(env, row_blocks(w->n), row_pass_task, rp);
	gbt_bins_count(env, b, rows->count);
	memcpy(rows->n_bins, b->n_bins, sizeof(uint32_t) * p);
	memcpy(rows->off, b->off, sizeof(uint32_t) * (p + 1));
	memcpy(rows->cuts, b->cuts, sizeof(float) * b->off[p]);
	memcpy(rows->min_val, b->min_val, sizeof(float) * p);
	return SF_OK;
}

sf_status
gbt_train(sf_env *env, const double *x, const double *y, const double *wt, size_t n, uint32_t p,
		  const gbt_params *prm, gbt_model **out)
{
	return gbt_train_keep(env, x, y, wt, n, p, prm, out, NULL);
}

sf_status
gbt_train_keep(sf_env *env, const double *x, const double *y, const double *wt, size_t n,
			   uint32_t p, const gbt_params *prm, gbt_model **out, gbt_train_rows *rows)
{
	train_work	w;
	boost_rows	b;
	gbt_model  *m = NULL;
	sf_status	st;
	row_pass	rp;
	int32_t		node_cap;
	int			metric,
				r,
				best = -1,
				higher_better;
	double		best_score = 0.0;
	float		base_margin;

	*out = NULL;
	if (rows)
		memset(rows, 0, sizeof(*rows));
	memset(&w, 0, sizeof(w));
	memset(&b, 0, sizeof(b));
	memset(&rp, 0, sizeof(rp));
	w.env = env;
	w.prm = prm;
	w.p = p;
	if ((st = gbt_params_check(env, prm)) != SF_OK)
		return st;
	if ((st = check_data(env, x, y, wt, n, p, prm)) != SF_OK)
		return st;
	metric = prm->eval_metric != GBT_METRIC_AUTO ? prm->eval_metric
		: prm->objective == GBT_OBJ_BINARY ? GBT_METRIC_LOGLOSS : GBT_METRIC_RMSE;
	higher_better = metric == GBT_METRIC_AUC;
	base_margin = prm->objective == GBT_OBJ_BINARY
		? -logf(1.0f / (float) prm->base_score - 1.0f) : (float) prm->base_score;
	sf_rng_init(&w.rng, (uint64_t) prm->seed, 2);

	if ((st = split_rows(env, prm, n, &b)) != SF_OK ||
		(st = gbt_bins_build(env, x, wt, p, b.trow, b.n_train, prm->max_bin, &w.bins)) != SF_OK)
		goto done;
	w.n = b.n_train;
	w.n_slots = w.bins.off[p];
	if ((st = alloc_work(env, &w, prm, p, b.n_train, &node_cap)) != SF_OK ||
		(st = alloc_rows(env, &b, y, wt, prm, base_margin, node_cap)) != SF_OK ||
		(st = new_model(env, prm, p, base_margin, metric, &b, &m)) != SF_OK)
		goto done;

	rp.w = &w;
	rp.prm = prm;
	rp.n = b.n_train;
	rp.mt = b.mt;
	rp.yt = b.yt;
	rp.wtr = b.wtr;
	rp.wm = b.wm;
	rp.metric = metric;
	rp.leaves = b.leaf_ids;
	rp.lb = b.leaf_b;
	rp.le = b.leaf_e;
	rp.acc = b.blk_acc;
	rp.sw = b.blk_sw;
	/* scores of the rows need every row in training (no validation split) */
	if (rows && b.n_valid == 0)
	{
		size_t		i;

		if ((rp.mf = sf_malloc(env, sizeof(float) * (b.n_train ? b.n_train : 1))) == NULL)
		{
			st = sf_fail(env, SF_ENOMEM, "out of memory for the training margins");
			goto done;
		}
		for (i = 0; i < b.n_train; i++)
			rp.mf[i] = base_margin;
	}
	for (r = 0; r < prm->n_estimators; r++)
	{
		double		tr_score,
					va_score;

		if (sf_interrupted(env))
		{
			st = sf_fail(env, SF_ECANCEL, "canceled");
			goto done;
		}
		if ((st = boost_round(&w, &b, &rp, m, r, x, &tr_score, &va_score)) != SF_OK)
			goto done;
		m->eval_train[r] = tr_score;
		if (b.n_valid)
			m->eval_valid[r] = va_score;
		m->n_eval = r + 1;
		if (prm->progress && prm->verbose &&
			((r + 1) % prm->verbose_every == 0 || r + 1 == prm->n_estimators))
		{
			gbt_progress pr = {r + 1, prm->n_estimators, gbt_metric_name(metric), tr_score, va_score};

			prm->progress(prm->progress_ctx, &pr);
		}
		/* early stopping: a strictly better validation score resets the count */
		if (b.n_valid)
		{
			if (best < 0 || (!isnan(va_score) &&
							 (higher_better ? va_score > best_score : va_score < best_score)))
			{
				best = r;
				best_score = va_score;
			}
			else if (r - best >= prm->early_stopping_rounds)
				break;
		}
	}
	/* keep the trees up to the best round */
	if (b.n_valid && best >= 0)
	{
		while (m->n_trees > best + 1)
			gbt_tree_free(env, &m->trees[--m->n_trees]);
	}
	m->best_iteration = m->n_trees - 1;
	if ((st = gbt_model_pack(env, m)) != SF_OK)
		goto done;
	if (rp.mf && (st = keep_rows(&w, &rp, rows)) != SF_OK)
		goto done;
	*out = m;
	m = NULL;
done:
	free_work(&w);
	gbt_model_free(env, m);
	free_rows(env, &b);
	sf_free(env, rp.mf);
	return st;
}
