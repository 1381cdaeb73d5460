/*
 * gbt_train.c
 *	  The boosting loop: gradients, depthwise tree growth on the quantised
 *	  rows, margins, evaluation metrics and early stopping.
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
 * the best round are dropped.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_rng.h"
#include "gbt_int.h"

#define GBT_RT_EPS	1e-6		/* XGBoost's kRtEps: smallest gain worth a split */
#define GBT_HESS_EPS 1e-16		/* floor of the logistic hessian */
#define GBT_SPLIT_CHUNK 64		/* nodes per split search region */
#define GBT_PREFETCH 16			/* rows ahead to prefetch in row loops */

/* ------------------------------------------------------------ metrics */

const char *
gbt_metric_name(int metric)
{
	switch (metric)
	{
		case GBT_METRIC_LOGLOSS:
			return "logloss";
		case GBT_METRIC_AUC:
			return "auc";
		case GBT_METRIC_RMSE:
			return "rmse";
	}
	return "auto";
}

typedef struct auc_item
{
	double		s;
	double		y;
	double		w;
} auc_item;

static int
cmp_auc(const void *a, const void *b)
{
	double		x = ((const auc_item *) a)->s,
				y = ((const auc_item *) b)->s;

	return (x > y) - (x < y);
}

sf_status
gbt_metric_eval(sf_env *env, int metric, int objective, const double *margin, const double *y,
				const double *w, const uint32_t *rows, size_t n, double *out)
{
	size_t		i;
	double		sw = 0.0,
				acc = 0.0;

	if (n == 0)
	{
		*out = NAN;
		return SF_OK;
	}
	if (metric == GBT_METRIC_AUC)
	{
		auc_item   *it = sf_malloc(env, sizeof(auc_item) * n);
		double		pos = 0.0,
					neg = 0.0,
					area = 0.0,
					cneg = 0.0;
		size_t		k;

		if (it == NULL)
			return sf_fail(env, SF_ENOMEM, "out of memory computing the auc");
		for (i = 0; i < n; i++)
		{
			size_t		r = rows ? rows[i] : i;

			it[i].s = margin[r];
			it[i].y = y[r];
			it[i].w = w ? w[r] : 1.0;
		}
		qsort(it, n, sizeof(auc_item), cmp_auc);
		/* ascending scores; tied groups count half (midranks) */
		for (i = 0; i < n; i = k)
		{
			double		gp = 0.0,
						gn = 0.0;

			for (k = i; k < n && it[k].s == it[i].s; k++)
			{
				if (it[k].y > 0.5)
					gp += it[k].w;
				else
					gn += it[k].w;
			}
			area += gp * (cneg + 0.5 * gn);
			cneg += gn;
			pos += gp;
			neg += gn;
		}
		sf_free(env, it);
		*out = (pos > 0.0 && neg > 0.0) ? area / (pos * neg) : NAN;
		return SF_OK;
	}
	for (i = 0; i < n; i++)
	{
		size_t		r = rows ? rows[i] : i;
		double		wi = w ? w[r] : 1.0;
		double		m = margin[r];

		if (metric == GBT_METRIC_LOGLOSS)
		{
			double		p = 1.0 / (1.0 + exp(-m));

			if (p < 1e-16)
				p = 1e-16;
			if (p > 1.0 - 1e-16)
				p = 1.0 - 1e-16;
			acc -= wi * (y[r] > 0.5 ? log(p) : log(1.0 - p));
		}
		else
		{
			double		pr = objective == GBT_OBJ_BINARY ? 1.0 / (1.0 + exp(-m)) : m;

			acc += wi * (pr - y[r]) * (pr - y[r]);
		}
		sw += wi;
	}
	if (sw <= 0.0)
		*out = NAN;
	else
		*out = metric == GBT_METRIC_RMSE ? sqrt(acc / sw) : acc / sw;
	return SF_OK;
}

/* ------------------------------------------------------------ work state */

typedef struct node_work
{
	int32_t		id;				/* node id in the tree being grown */
	size_t		begin,
				end;			/* its rows in work.rows */
	double		g,
				h;				/* gradient and hessian sums */
	double	   *hist;			/* its histogram */
} node_work;

typedef struct train_work
{
	sf_env	   *env;
	const gbt_params *prm;
	gbt_bins	bins;
	size_t		n;				/* training rows (bins.n) */
	uint32_t	p;
	float	   *gh;				/* (n, 2) gradient, hessian (float32, as XGBoost) */
	uint32_t   *rows;			/* (n) row positions, grouped by node */
	uint32_t   *tmp;			/* (n) partition scratch */
	size_t		n_slots;		/* histogram slots (bins.off[p]) */
	double	  **pool;			/* free histogram buffers */
	int			n_pool,
				cap_pool;
	/* the tree being grown, with capacity for a full tree */
	gbt_tree	t;
	int32_t		cap_nodes;
	uint32_t   *t_bin;			/* split bin per node (training-side routing) */
	uint8_t    *t_allright;		/* split sends every value right */
	/* levels */
	node_work  *cur,
			   *next;
	gbt_split  *splits,
			   *scratch;
	uint8_t    *allowed;		/* (p) features of the current level */
	uint8_t    *tree_feat;		/* (p) features of the current tree */
	uint32_t   *feat_idx;		/* (p) shuffle scratch */
	double	   *lg,
			   *lh;
	size_t	   *lb,
			   *le;
	double	  **lhist;
	sf_rng		rng;
} train_work;

static double *
hist_get(train_work *w)
{
	if (w->n_pool > 0)
		return w->pool[--w->n_pool];
	return sf_malloc(w->env, sizeof(double) * 2 * (w->n_slots ? w->n_slots : 1));
}

static void
hist_put(train_work *w, double *h)
{
	if (h == NULL)
		return;
	if (w->n_pool == w->cap_pool)
	{
		int			nc = w->cap_pool ? w->cap_pool * 2 : 64;
		double	  **np = sf_malloc(w->env, sizeof(double *) * nc);

		if (np == NULL)
		{
			sf_free(w->env, h);
			return;
		}
		if (w->n_pool)
			memcpy(np, w->pool, sizeof(double *) * w->n_pool);
		sf_free(w->env, w->pool);
		w->pool = np;
		w->cap_pool = nc;
	}
	w->pool[w->n_pool++] = h;
}

/* Choose k = max(1, floor(share * count)) of the flagged features of src into dst. */
static void
sample_features(train_work *w, const uint8_t *src, double share, uint8_t *dst)
{
	uint32_t	j,
				m = 0,
				k;

	for (j = 0; j < w->p; j++)
		if (src == NULL || src[j])
			w->feat_idx[m++] = j;
	memset(dst, 0, w->p);
	if (share >= 1.0)
	{
		for (j = 0; j < m; j++)
			dst[w->feat_idx[j]] = 1;
		return;
	}
	k = (uint32_t) floor(share * m);
	if (k < 1)
		k = 1;
	sf_rng_shuffle_u32(&w->rng, w->feat_idx, m);
	for (j = 0; j < k && j < m; j++)
		dst[w->feat_idx[j]] = 1;
}

/* Stable partition of rows[begin, end) by the split; returns the first right position. */
static size_t
partition(train_work *w, size_t begin, size_t end, const gbt_split *s)
{
	size_t		i,
				nl = 0,
				nr = 0;
	uint32_t	f = s->feature;
	uint32_t	miss = w->bins.n_bins[f];

	for (i = begin; i < end; i++)
	{
		uint32_t	r = w->rows[i];
		uint32_t	c;
		int			left;

		/* the column of the split feature: rows of a node come in ascending order */
		c = gbt_code_t(&w->bins, r, f);
		left = c == miss ? s->default_left : (!s->all_right && c <= s->bin);
		/* branch-free: write both places, advance one (the side is random) */
		w->rows[begin + nl] = r;
		w->tmp[nr] = r;
		nl += (size_t) left;
		nr += (size_t) !left;
	}
	memcpy(w->rows + begin + nl, w->tmp, sizeof(uint32_t) * nr);
	return begin + nl;
}

static void
set_leaf(train_work *w, int32_t id, double g, double h)
{
	double		bw = gbt_calc_weight(w->prm, g, h);

	w->t.left[id] = w->t.right[id] = -1;
	w->t.split_index[id] = 0;
	w->t.default_left[id] = 0;
	/* XGBoost stores a leaf's base weight with eta applied, a split's without */
	w->t.base_weight[id] = (float) (w->prm->eta * bw);
	w->t.split_cond[id] = (float) (w->prm->eta * bw);
	w->t.loss_chg[id] = 0.0f;
	w->t.sum_hess[id] = (float) h;
}

/*
 * Grow one tree on the rows in w->rows[0, n_rows) into w->t.  Leaves hold
 * their row ranges in w->rows afterwards, recorded in leaf_begin/leaf_end.
 */
static sf_status
grow_tree(train_work *w, size_t n_rows, size_t *leaf_begin, size_t *leaf_end)
{
	const gbt_params *prm = w->prm;
	int			n_cur = 1,
				depth,
				k;
	size_t		i;
	double		G = 0.0,
				H = 0.0;

	for (i = 0; i < n_rows; i++)
	{
		G += w->gh[2 * (size_t) w->rows[i]];
		H += w->gh[2 * (size_t) w->rows[i] + 1];
	}
	w->t.n_nodes = 1;
	w->cur[0].id = 0;
	w->cur[0].begin = 0;
	w->cur[0].end = n_rows;
	w->cur[0].g = G;
	w->cur[0].h = H;
	if ((w->cur[0].hist = hist_get(w)) == NULL)
		return sf_fail(w->env, SF_ENOMEM, "out of memory for a histogram");
	w->lb[0] = 0;
	w->le[0] = n_rows;
	w->lhist[0] = w->cur[0].hist;
	gbt_hist_build(w->env, &w->bins, w->gh, w->rows, 1, w->lb, w->le, w->lhist);
	sample_features(w, NULL, prm->colsample_bytree, w->tree_feat);

	for (depth = 0;; depth++)
	{
		int			n_next = 0,
					n_build = 0;

		if (sf_interrupted(w->env))
			return sf_fail(w->env, SF_ECANCEL, "canceled");
		if (depth >= prm->max_depth)
		{
			for (k = 0; k < n_cur; k++)
			{
				set_leaf(w, w->cur[k].id, w->cur[k].g, w->cur[k].h);
				leaf_begin[w->cur[k].id] = w->cur[k].begin;
				leaf_end[w->cur[k].id] = w->cur[k].end;
				hist_put(w, w->cur[k].hist);
			}
			break;
		}
		/* features of this level, the same for every node of it (XGBoost's bylevel) */
		sample_features(w, w->tree_feat, prm->colsample_bylevel, w->allowed);
		for (k = 0; k < n_cur; k++)
		{
			w->lg[k] = w->cur[k].g;
			w->lh[k] = w->cur[k].h;
			w->lhist[k] = w->cur[k].hist;
		}
		/* in chunks of nodes, so the (nodes, features) scratch stays small */
		for (k = 0; k < n_cur; k += GBT_SPLIT_CHUNK)
			gbt_split_find(w->env, &w->bins, prm,
						   n_cur - k < GBT_SPLIT_CHUNK ? n_cur - k : GBT_SPLIT_CHUNK,
						   w->lhist + k, w->lg + k, w->lh + k, w->allowed,
						   w->splits + k, w->scratch);

		for (k = 0; k < n_cur; k++)
		{
			node_work  *nd = &w->cur[k];
			const gbt_split *s = &w->splits[k];
			int32_t		id = nd->id,
						l,
						r;
			size_t		mid;

			if (!(s->loss_chg > GBT_RT_EPS) || s->loss_chg < prm->gamma)
			{
				set_leaf(w, id, nd->g, nd->h);
				leaf_begin[id] = nd->begin;
				leaf_end[id] = nd->end;
				hist_put(w, nd->hist);
				nd->hist = NULL;
				continue;
			}
			l = w->t.n_nodes++;
			r = w->t.n_nodes++;
			w->t.left[id] = l;
			w->t.right[id] = r;
			w->t.split_index[id] = s->feature;
			w->t.split_cond[id] = s->cond;
			w->t.default_left[id] = (uint8_t) s->default_left;
			w->t.base_weight[id] = (float) gbt_calc_weight(prm, nd->g, nd->h);
			w->t.loss_chg[id] = (float) s->loss_chg;
			w->t.sum_hess[id] = (float) nd->h;
			w->t_bin[id] = s->bin;
			w->t_allright[id] = (uint8_t) s->all_right;
			mid = partition(w, nd->begin, nd->end, s);
			w->next[n_next].id = l;
			w->next[n_next].begin = nd->begin;
			w->next[n_next].end = mid;
			w->next[n_next].g = s->gl;
			w->next[n_next].h = s->hl;
			w->next[n_next].hist = NULL;
			w->next[n_next + 1].id = r;
			w->next[n_next + 1].begin = mid;
			w->next[n_next + 1].end = nd->end;
			w->next[n_next + 1].g = s->gr;
			w->next[n_next + 1].h = s->hr;
			w->next[n_next + 1].hist = NULL;
			n_next += 2;
		}
		if (n_next == 0)
			break;

		/* the smaller child of each pair is built, the larger derived */
		for (k = 0; k < n_next; k += 2)
		{
			node_work  *a = &w->next[k],
					   *b = &w->next[k + 1];
			node_work  *small = (a->end - a->begin) <= (b->end - b->begin) ? a : b;

			if ((small->hist = hist_get(w)) == NULL)
				return sf_fail(w->env, SF_ENOMEM, "out of memory for a histogram");
			w->lb[n_build] = small->begin;
			w->le[n_build] = small->end;
			w->lhist[n_build] = small->hist;
			n_build++;
		}
		gbt_hist_build(w->env, &w->bins, w->gh, w->rows, n_build, w->lb, w->le, w->lhist);
		{
			int			pk = 0;

			for (k = 0; k < n_next; k += 2)
			{
				node_work  *a = &w->next[k],
						   *b = &w->next[k + 1];
				node_work  *small = (a->end - a->begin) <= (b->end - b->begin) ? a : b;
				node_work  *large = small == a ? b : a;
				double	   *parent;
				size_t		s;

				/* the parent of pair k is the pk-th split node of cur */
				while (w->cur[pk].hist == NULL)
					pk++;
				parent = w->cur[pk].hist;
				for (s = 0; s < 2 * w->n_slots; s++)
					parent[s] -= small->hist[s];
				large->hist = parent;	/* reuse the parent's buffer */
				w->cur[pk].hist = NULL;
				pk++;
			}
		}
		{
			node_work  *sw = w->cur;

			w->cur = w->next;
			w->next = sw;
		}
		n_cur = n_next;
	}
	return SF_OK;
}

/* Route training row i (quantised) through the tree being grown: its leaf. */
static int32_t
route_binned(const train_work *w, size_t i)
{
	int32_t		k = 0;

	while (w->t.left[k] >= 0)
	{
		uint32_t	f = w->t.split_index[k];
		uint32_t	c = gbt_code_t(&w->bins, i, f);

		if (c == w->bins.n_bins[f])
			k = w->t.default_left[k] ? w->t.left[k] : w->t.right[k];
		else if (!w->t_allright[k] && c <= w->t_bin[k])
			k = w->t.left[k];
		else
			k = w->t.right[k];
	}
	return k;
}

/* Leaf of a tree for row x of the raw matrix (float32 compares, as scoring). */
static int32_t
route_raw(const gbt_tree *t, const double *x)
{
	int32_t		k = 0;

	while (t->left[k] >= 0)
	{
		float		v = (float) x[t->split_index[k]];

		if (isnan(v))
			k = t->default_left[k] ? t->left[k] : t->right[k];
		else
			k = v < t->split_cond[k] ? t->left[k] : t->right[k];
	}
	return k;
}

/* Check the data before any work: finite labels, weights, features. */
static sf_status
check_data(sf_env *env, const double *x, const double *y, const double *w, size_t n, uint32_t p,
		   const gbt_params *prm)
{
	size_t		i,
				nx;
	int			has0 = 0,
				has1 = 0;
	double		sw = 0.0;

	if (n == 0)
		return sf_fail(env, SF_EDATA, "no training rows");
	if (p == 0 || p > GBT_MAX_FEATURES)
		return sf_fail(env, SF_EDATA, "features must have 1 to %d elements, got %u",
					   GBT_MAX_FEATURES, (unsigned) p);
	if (n >= UINT32_MAX)
		return sf_fail(env, SF_ELIMIT, "too many training rows (%zu)", n);
	if (!sf_mul_size(n, p, &nx))
		return sf_fail(env, SF_ELIMIT, "training matrix too large");
	for (i = 0; i < n; i++)
	{
		if (!isfinite(y[i]))
			return sf_fail(env, SF_EDATA, "label of row %zu is not finite", i + 1);
		if (prm->objective == GBT_OBJ_BINARY)
		{
			if (y[i] == 0.0)
				has0 = 1;
			else if (y[i] == 1.0)
				has1 = 1;
			else
				return sf_fail(env, SF_EDATA,
							   "label of row %zu is %g, binary:logistic needs 0 or 1", i + 1, y[i]);
		}
		if (w)
		{
			if (!isfinite(w[i]) || w[i] < 0.0)
				return sf_fail(env, SF_EDATA, "weight of row %zu is %g, weights must be finite and >= 0",
							   i + 1, w[i]);
			sw += w[i];
		}
	}
	if (prm->objective == GBT_OBJ_BINARY && !(has0 && has1))
		return sf_fail(env, SF_EDATA, "binary:logistic needs both classes, every label is %d",
					   has1 ? 1 : 0);
	if (w && !(sw > 0.0))
		return sf_fail(env, SF_EDATA, "the weights sum to zero");
	for (i = 0; i < nx; i++)
		if (isinf(x[i]))
			return sf_fail(env, SF_EDATA, "feature %zu of row %zu is infinite",
						   i % p + 1, i / p + 1);
	return SF_OK;
}

static void
free_work(train_work *w)
{
	sf_env	   *env = w->env;
	int			i;

	gbt_bins_free(env, &w->bins);
	sf_free(env, w->gh);
	sf_free(env, w->rows);
	sf_free(env, w->tmp);
	for (i = 0; i < w->n_pool; i++)
		sf_free(env, w->pool[i]);
	sf_free(env, w->pool);
	gbt_tree_free(env, &w->t);
	sf_free(env, w->t_bin);
	sf_free(env, w->t_allright);
	sf_free(env, w->cur);
	sf_free(env, w->next);
	sf_free(env, w->splits);
	sf_free(env, w->scratch);
	sf_free(env, w->allowed);
	sf_free(env, w->tree_feat);
	sf_free(env, w->feat_idx);
	sf_free(env, w->lg);
	sf_free(env, w->lh);
	sf_free(env, w->lb);
	sf_free(env, w->le);
	sf_free(env, w->lhist);
}

/* Copy the grown tree (w->t, first n_nodes nodes) into dst at its exact size. */
static sf_status
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

sf_status
gbt_train(sf_env *env, const double *x, const double *y, const double *wt, size_t n, uint32_t p,
		  const gbt_params *prm, gbt_model **out)
{
	train_work	w;
	gbt_model  *m = NULL;
	sf_status	st;
	size_t		n_train = n,
				n_valid = 0,
				i;
	uint32_t   *trow = NULL,
			   *vrow = NULL;
	double	   *yt = NULL,
			   *wtr = NULL,
			   *wm = NULL,
			   *yv = NULL,
			   *wv = NULL,
			   *mt = NULL,
			   *mv = NULL;
	size_t	   *leaf_b = NULL,
			   *leaf_e = NULL;
	int32_t		level_cap,
				node_cap;
	int			metric,
				stop_rounds = prm->early_stopping_rounds,
				r,
				best = -1,
				higher_better;
	double		best_score = 0.0;
	float		base_margin;

	*out = NULL;
	memset(&w, 0, sizeof(w));
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

	/* the validation split: a seeded shuffle, training rows kept in input order */
	if (stop_rounds > 0)
	{
		uint32_t   *perm;
		uint8_t    *is_valid;
		sf_rng		rs;

		if (n < 2)
			return sf_fail(env, SF_EDATA, "early stopping needs at least 2 rows");
		n_valid = (size_t) floor(prm->validation_share * (double) n + 0.5);
		if (n_valid < 1)
			n_valid = 1;
		if (n_valid > n - 1)
			n_valid = n - 1;
		n_train = n - n_valid;
		perm = sf_malloc(env, sizeof(uint32_t) * n);
		is_valid = sf_calloc(env, n, 1);
		trow = sf_malloc(env, sizeof(uint32_t) * n_train);
		vrow = sf_malloc(env, sizeof(uint32_t) * n_valid);
		if (!perm || !is_valid || !trow || !vrow)
		{
			sf_free(env, perm);
			sf_free(env, is_valid);
			st = sf_fail(env, SF_ENOMEM, "out of memory splitting the rows");
			goto fail;
		}
		for (i = 0; i < n; i++)
			perm[i] = (uint32_t) i;
		sf_rng_init(&rs, (uint64_t) prm->seed, 1);
		sf_rng_shuffle_u32(&rs, perm, (uint32_t) n);
		for (i = 0; i < n_valid; i++)
			is_valid[perm[i]] = 1;
		{
			size_t		a = 0,
						b = 0;

			for (i = 0; i < n; i++)
				if (is_valid[i])
					vrow[b++] = (uint32_t) i;
				else
					trow[a++] = (uint32_t) i;
		}
		sf_free(env, perm);
		sf_free(env, is_valid);
	}

	if ((st = gbt_bins_build(env, x, wt, p, trow, n_train, prm->max_bin, &w.bins)) != SF_OK)
		goto fail;
	w.n = n_train;
	w.n_slots = w.bins.off[p];

	/* working arrays */
	level_cap = (int32_t) ((size_t) 1 << prm->max_depth);
	if ((size_t) level_cap > 2 * n_train)
		level_cap = (int32_t) (2 * n_train);
	node_cap = 2 * level_cap + 1;
	if ((size_t) node_cap > 4 * n_train + 1)
		node_cap = (int32_t) (4 * n_train + 1);
	w.gh = sf_malloc(env, sizeof(float) * 2 * n_train);
	w.rows = sf_malloc(env, sizeof(uint32_t) * n_train);
	w.tmp = sf_malloc(env, sizeof(uint32_t) * n_train);
	w.t_bin = sf_calloc(env, node_cap, sizeof(uint32_t));
	w.t_allright = sf_calloc(env, node_cap, 1);
	w.cur = sf_calloc(env, level_cap, sizeof(node_work));
	w.next = sf_calloc(env, level_cap, sizeof(node_work));
	w.splits = sf_calloc(env, level_cap, sizeof(gbt_split));
	w.scratch = sf_calloc(env, (size_t) GBT_SPLIT_CHUNK * p, sizeof(gbt_split));
	w.allowed = sf_calloc(env, p, 1);
	w.tree_feat = sf_calloc(env, p, 1);
	w.feat_idx = sf_calloc(env, p, sizeof(uint32_t));
	w.lg = sf_calloc(env, level_cap, sizeof(double));
	w.lh = sf_calloc(env, level_cap, sizeof(double));
	w.lb = sf_calloc(env, level_cap, sizeof(size_t));
	w.le = sf_calloc(env, level_cap, sizeof(size_t));
	w.lhist = sf_calloc(env, level_cap, sizeof(double *));
	yt = sf_malloc(env, sizeof(double) * n_train);
	wtr = sf_malloc(env, sizeof(double) * n_train);
	mt = sf_malloc(env, sizeof(double) * n_train);
	mv = sf_malloc(env, sizeof(double) * (n_valid ? n_valid : 1));
	yv = sf_malloc(env, sizeof(double) * (n_valid ? n_valid : 1));
	if (wt)
	{
		wm = sf_malloc(env, sizeof(double) * n_train);
		wv = sf_malloc(env, sizeof(double) * (n_valid ? n_valid : 1));
	}
	leaf_b = sf_calloc(env, node_cap, sizeof(size_t));
	leaf_e = sf_calloc(env, node_cap, sizeof(size_t));
	m = sf_calloc(env, 1, sizeof(gbt_model));
	if (!w.gh || !w.rows || !w.tmp || !w.t_bin || !w.t_allright || !w.cur || !w.next ||
		!w.splits || !w.scratch || !w.allowed || !w.tree_feat || !w.feat_idx || !w.lg ||
		!w.lh || !w.lb || !w.le || !w.lhist || !yt || !wtr || !mt || !mv || !yv || (wt && (!wm || !wv)) || !leaf_b ||
		!leaf_e || !m)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory for the training work space");
		goto fail;
	}
	if ((st = gbt_tree_alloc(env, &w.t, node_cap)) != SF_OK)
		goto fail;
	m->n_features = p;
	m->objective = prm->objective;
	m->base_score = (float) prm->base_score;
	m->base_margin = base_margin;
	m->eval_metric = metric;
	m->train_rows = n_train;
	m->trees = sf_calloc(env, prm->n_estimators, sizeof(gbt_tree));
	m->eval_train = sf_malloc(env, sizeof(double) * prm->n_estimators);
	if (n_valid)
		m->eval_valid = sf_malloc(env, sizeof(double) * prm->n_estimators);
	if (!m->trees || !m->eval_train || (n_valid && !m->eval_valid))
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory for the trees");
		goto fail;
	}
	for (i = 0; i < n_train; i++)
	{
		size_t		src = trow ? trow[i] : i;

		yt[i] = y[src];
		wtr[i] = (wt ? wt[src] : 1.0) *
			(prm->objective == GBT_OBJ_BINARY && y[src] == 1.0 ? prm->scale_pos_weight : 1.0);
		mt[i] = base_margin;
		if (wm)
			wm[i] = wt[src];
	}
	for (i = 0; i < n_valid; i++)
	{
		mv[i] = base_margin;
		yv[i] = y[vrow[i]];
		if (wv)
			wv[i] = wt[vrow[i]];
	}

	for (r = 0; r < prm->n_estimators; r++)
	{
		size_t		n_rows = 0;
		gbt_tree   *tree = &m->trees[r];
		int32_t		k;
		double		tr_score = NAN,
					va_score = NAN;

		if (sf_interrupted(env))
		{
			st = sf_fail(env, SF_ECANCEL, "canceled");
			goto fail;
		}
		/* gradients */
		for (i = 0; i < n_train; i++)
		{
			double		g,
						h;

			if (prm->objective == GBT_OBJ_BINARY)
			{
				double		pr = 1.0 / (1.0 + exp(-mt[i]));

				g = pr - yt[i];
				h = pr * (1.0 - pr);
				if (h < GBT_HESS_EPS)
					h = GBT_HESS_EPS;
			}
			else
			{
				g = mt[i] - yt[i];
				h = 1.0;
			}
			w.gh[2 * i] = (float) (g * wtr[i]);
			w.gh[2 * i + 1] = (float) (h * wtr[i]);
		}
		/* rows of this tree */
		if (prm->subsample < 1.0)
		{
			for (i = 0; i < n_train; i++)
				if (sf_rng_uniform(&w.rng) < prm->subsample)
					w.rows[n_rows++] = (uint32_t) i;
		}
		else
		{
			for (i = 0; i < n_train; i++)
				w.rows[i] = (uint32_t) i;
			n_rows = n_train;
		}
		if ((st = grow_tree(&w, n_rows, leaf_b, leaf_e)) != SF_OK)
			goto fail;
		if ((st = keep_tree(&w, tree)) != SF_OK)
			goto fail;
		m->n_trees = r + 1;

		/* margins */
		if (prm->subsample >= 1.0)
		{
			for (k = 0; k < tree->n_nodes; k++)
				if (tree->left[k] < 0)
				{
					double		v = tree->split_cond[k];
					size_t		q;

					for (q = leaf_b[k]; q < leaf_e[k]; q++)
						mt[w.rows[q]] += v;
				}
		}
		else
			for (i = 0; i < n_train; i++)
				mt[i] += tree->split_cond[route_binned(&w, i)];
		for (i = 0; i < n_valid; i++)
			mv[i] += tree->split_cond[route_raw(tree, x + (size_t) vrow[i] * p)];

		/* evaluation: the training AUC (a sort per round) only on moderate sizes */
		if (metric != GBT_METRIC_AUC || n_train <= 200000)
		{
			if ((st = gbt_metric_eval(env, metric, prm->objective, mt, yt, wm, NULL,
									  n_train, &tr_score)) != SF_OK)
				goto fail;
		}
		if (n_valid &&
			(st = gbt_metric_eval(env, metric, prm->objective, mv, yv, wv, NULL,
								  n_valid, &va_score)) != SF_OK)
			goto fail;
		m->eval_train[r] = tr_score;
		if (n_valid)
			m->eval_valid[r] = va_score;
		m->n_eval = r + 1;
		if (prm->progress && prm->verbose &&
			((r + 1) % prm->verbose_every == 0 || r + 1 == prm->n_estimators))
		{
			gbt_progress pr = {r + 1, prm->n_estimators, gbt_metric_name(metric), tr_score, va_score};

			prm->progress(prm->progress_ctx, &pr);
		}
		/* early stopping: a strictly better validation score resets the count */
		if (n_valid)
		{
			if (best < 0 || (!isnan(va_score) &&
							 (higher_better ? va_score > best_score : va_score < best_score)))
			{
				best = r;
				best_score = va_score;
			}
			else if (r - best >= stop_rounds)
				break;
		}
	}
	/* keep the trees up to the best round */
	if (n_valid && best >= 0)
	{
		while (m->n_trees > best + 1)
			gbt_tree_free(env, &m->trees[--m->n_trees]);
	}
	m->best_iteration = m->n_trees - 1;
	if ((st = gbt_model_pack(env, m)) != SF_OK)
		goto fail;
	*out = m;
	m = NULL;
	st = SF_OK;
fail:
	free_work(&w);
	gbt_model_free(env, m);
	sf_free(env, trow);
	sf_free(env, vrow);
	sf_free(env, yt);
	sf_free(env, wtr);
	sf_free(env, wm);
	sf_free(env, yv);
	sf_free(env, wv);
	sf_free(env, mt);
	sf_free(env, mv);
	sf_free(env, leaf_b);
	sf_free(env, leaf_e);
	return st;
}
