/*
 * gbt_dist_grow.c
 *	  The coordinator of sharded tree training (gbt_dist.h): jobs out,
 *	  replies merged in a fixed shard order, and the trees grown level by
 *	  level exactly as gbt_grow.c grows them (the same feature sampling
 *	  stream, gbt_split_find, the smaller child's histogram and the larger
 *	  one as the parent's minus it, the same leaf weights, monotone bounds).
 *
 * The functions marked "gbt_grow.c's ..." repeat that file's static
 * helpers on this file's node type (no rows: a node has a row count from
 * the shards instead of a row range); keep them in step with it.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "scfrisk/gbt_dist.h"
#include "scfrisk/sf_rng.h"
#include "gbt_int.h"
#include "gbt_dist_int.h"

/* ------------------------------------------------------------ coordinator */

/* A node of the level being grown (gbt_grow.c's node_work without row ranges). */
typedef struct dist_node
{
	int32_t		id;
	uint64_t	count;			/* rows of the union in the node */
	double		g,
				h;
	double	   *hist;
} dist_node;

typedef struct dist_work
{
	sf_env	   *env;
	const gbt_params *prm;
	const gbt_dist_io *io;
	gbt_bins	bins;			/* the union's bin edges; no codes */
	uint32_t	p;
	size_t		n_slots;
	float		base_margin;
	int			metric;
	const gbt_model *m;			/* the finished trees */
	gbt_tree	t;				/* the tree being grown */
	int32_t		cap_nodes;
	int			level_cap;
	dist_node  *cur,
			   *next;
	gbt_split  *splits,
			   *scratch;
	uint8_t    *allowed,
			   *tree_feat;
	uint32_t   *feat_idx;
	int8_t	   *mono;
	float	   *w_lower,
			   *w_upper,
			   *l_lower,
			   *l_upper;
	double	   *lg,
			   *lh;
	double	  **lhist;
	int32_t    *want;
	int		   *parent_of;		/* (level_cap / 2) the cur index of each split pair's parent */
	sf_rng		rng;
	sf_buf		job;
	/* the merged reply of the last exchange */
	uint64_t   *r_cnt;
	double	   *r_g,
			   *r_h;
	double	  **r_hist;
	double		r_acc,
				r_sw;
	double		root_acc,
				root_sw;		/* the metric sums the last root's job brought */
} dist_work;

/* Send a job wanting nodes want[0, n_want) (and the metric when asked); merge the replies. */
static sf_status
exchange(dist_work *w, int n_want, int with_metric)
{
	sf_buf	   *b = &w->job;
	const uint8_t *const *rep;
	const size_t *len;
	int			n_rep,
				s,
				k;
	int32_t		r;
	sf_status	st;

	b->len = 0;
	sf_buf_put_u32(b, JOB_MAGIC);
	sf_buf_put_u32(b, w->p);
	sf_buf_put_u8(b, (uint8_t) w->prm->objective);
	sf_buf_put_f32(b, w->base_margin);
	sf_buf_put_f64(b, w->prm->scale_pos_weight);
	for (s = 0; s < (int) w->p; s++)
		sf_buf_put_u32(b, w->bins.n_bins[s]);
	for (s = 0; s < (int) w->p; s++)
		sf_buf_put_f32s(b, w->bins.cuts + w->bins.off[s], w->bins.n_bins[s]);
	sf_buf_put_i32(b, w->m->n_trees);
	for (r = 0; r < w->m->n_trees; r++)
		gbt_dist_put_tree(b, &w->m->trees[r], w->m->trees[r].n_nodes);
	gbt_dist_put_tree(b, &w->t, n_want > 0 ? w->t.n_nodes : 0);
	sf_buf_put_u8(b, (uint8_t) (with_metric ? w->metric : 0));
	sf_buf_put_u32(b, (uint32_t) n_want);
	sf_buf_put_i32s(b, w->want, n_want);
	if (sf_buf_status(b) != SF_OK)
		return sf_fail(w->env, SF_ENOMEM, "out of memory writing a job");
	if ((st = w->io->exchange(w->io->ctx, b->data, b->len, &n_rep, &rep, &len)) != SF_OK)
		return st;

	/* sums in the fixed shard order: the first shard's values are taken as they are */
	w->r_acc = w->r_sw = 0.0;
	for (k = 0; k < n_want; k++)
	{
		w->r_cnt[k] = 0;
		w->r_g[k] = w->r_h[k] = 0.0;
		if (w->r_hist[k] == NULL &&
			(w->r_hist[k] = sf_malloc(w->env, sizeof(double) * 2 * w->n_slots)) == NULL)
			return sf_fail(w->env, SF_ENOMEM, "out of memory for a histogram");
		memset(w->r_hist[k], 0, sizeof(double) * 2 * w->n_slots);
	}
	for (s = 0; s < n_rep; s++)
	{
		sf_reader	rd;

		sf_reader_init(&rd, rep[s], len[s]);
		if (sf_read_u32(&rd) != REPLY_MAGIC || sf_read_u32(&rd) != (uint32_t) n_want)
			return sf_fail(w->env, SF_ECORRUPT, "reply %d is not an answer to the job", s + 1);
		w->r_acc += sf_read_f64(&rd);
		w->r_sw += sf_read_f64(&rd);
		if (!sf_reader_has(&rd, (uint64_t) n_want, 24 + 16 * w->n_slots))
			return sf_fail(w->env, SF_ECORRUPT, "reply %d is truncated", s + 1);
		for (k = 0; k < n_want; k++)
		{
			double	   *h = w->r_hist[k];
			size_t		i;

			w->r_cnt[k] += sf_read_u64(&rd);
			w->r_g[k] += sf_read_f64(&rd);
			w->r_h[k] += sf_read_f64(&rd);
			for (i = 0; i < 2 * w->n_slots; i++)
				h[i] += sf_read_f64(&rd);
		}
		if (!sf_reader_ok(&rd) || sf_reader_left(&rd) != 0)
			return sf_fail(w->env, SF_ECORRUPT, "reply %d has the wrong length", s + 1);
	}
	return SF_OK;
}

/* gbt_grow.c's sample_features: k = max(1, floor(share * count)) flagged features of src. */
static void
sample_features(dist_work *w, const uint8_t *src, double share, uint8_t *dst)
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

/* gbt_grow.c's set_leaf. */
static void
set_leaf(dist_work *w, int32_t id, double g, double h)
{
	float		leaf = (float) (w->prm->eta * gbt_calc_weight(w->prm, g, h));

	if (w->mono)
		leaf = (float) w->prm->eta *
			gbt_mono_weight(w->prm, g, h, w->w_lower[id], w->w_upper[id]);
	w->t.left[id] = w->t.right[id] = -1;
	w->t.split_index[id] = 0;
	w->t.default_left[id] = 0;
	w->t.base_weight[id] = leaf;
	w->t.split_cond[id] = leaf;
	w->t.loss_chg[id] = 0.0f;
	w->t.sum_hess[id] = (float) h;
}

static void
close_leaf(dist_work *w, dist_node *nd)
{
	set_leaf(w, nd->id, nd->g, nd->h);
	sf_free(w->env, nd->hist);
	nd->hist = NULL;
}

/* gbt_grow.c's mono_add_split. */
static void
mono_add_split(dist_work *w, int32_t id, int32_t l, int32_t r, uint32_t f, float wl, float wr)
{
	float		mid = (wl + wr) / 2.0f;
	int			c = w->mono[f];

	w->w_lower[l] = w->w_lower[r] = w->w_lower[id];
	w->w_upper[l] = w->w_upper[r] = w->w_upper[id];
	if (c < 0)
	{
		w->w_lower[l] = mid;
		w->w_upper[r] = mid;
	}
	else if (c > 0)
	{
		w->w_upper[l] = mid;
		w->w_lower[r] = mid;
	}
}

/* The root of tree r: its histogram and sums from the shards (and the metric of trees < r). */
static sf_status
grow_root(dist_work *w, int with_metric)
{
	sf_status	st;

	w->t.n_nodes = 1;
	w->t.left[0] = w->t.right[0] = -1;
	w->want[0] = 0;
	if ((st = exchange(w, 1, with_metric)) != SF_OK)
		return st;
	w->root_acc = w->r_acc;
	w->root_sw = w->r_sw;
	w->cur[0].id = 0;
	w->cur[0].count = w->r_cnt[0];
	w->cur[0].g = w->r_g[0];
	w->cur[0].h = w->r_h[0];
	w->cur[0].hist = w->r_hist[0];
	w->r_hist[0] = NULL;
	if (w->mono)
	{
		w->w_lower[0] = -FLT_MAX;
		w->w_upper[0] = FLT_MAX;
	}
	sample_features(w, NULL, w->prm->colsample_bytree, w->tree_feat);
	return SF_OK;
}

/* gbt_grow.c's find_level_splits on the merged histograms. */
static void
find_level_splits(dist_work *w, int n_cur)
{
	int			k;

	sample_features(w, w->tree_feat, w->prm->colsample_bylevel, w->allowed);
	for (k = 0; k < n_cur; k++)
	{
		w->lg[k] = w->cur[k].g;
		w->lh[k] = w->cur[k].h;
		w->lhist[k] = w->cur[k].hist;
		if (w->mono)
		{
			w->l_lower[k] = w->w_lower[w->cur[k].id];
			w->l_upper[k] = w->w_upper[w->cur[k].id];
		}
	}
	for (k = 0; k < n_cur; k += GBT_SPLIT_CHUNK)
	{
		gbt_mono	mono;

		mono.c = w->mono;
		mono.lower = w->l_lower + k;
		mono.upper = w->l_upper + k;
		gbt_split_find(w->env, &w->bins, w->prm,
					   n_cur - k < GBT_SPLIT_CHUNK ? n_cur - k : GBT_SPLIT_CHUNK,
					   w->lhist + k, w->lg + k, w->lh + k, w->allowed,
					   w->mono ? &mono : NULL, w->splits + k, w->scratch);
	}
}

/* gbt_grow.c's apply_level_splits: leaves, or two children in w->next; their count. */
static int
apply_level_splits(dist_work *w, int n_cur)
{
	const gbt_params *prm = w->prm;
	int			n_next = 0,
				k;

	for (k = 0; k < n_cur; k++)
	{
		dist_node  *nd = &w->cur[k];
		const gbt_split *s = &w->splits[k];
		int32_t		id = nd->id,
					l,
					r;

		if (!(s->loss_chg > GBT_RT_EPS) || s->loss_chg < prm->gamma)
		{
			close_leaf(w, nd);
			continue;
		}
		l = w->t.n_nodes++;
		r = w->t.n_nodes++;
		w->t.left[id] = l;
		w->t.right[id] = r;
		w->t.left[l] = w->t.right[l] = w->t.left[r] = w->t.right[r] = -1;
		w->t.split_index[id] = s->feature;
		w->t.split_cond[id] = s->cond;
		w->t.default_left[id] = (uint8_t) s->default_left;
		w->t.base_weight[id] = w->mono
			? gbt_mono_weight(prm, nd->g, nd->h, w->w_lower[id], w->w_upper[id])
			: (float) gbt_calc_weight(prm, nd->g, nd->h);
		if (w->mono)
			mono_add_split(w, id, l, r, s->feature, s->wl, s->wr);
		w->t.loss_chg[id] = (float) s->loss_chg;
		w->t.sum_hess[id] = (float) nd->h;
		w->parent_of[n_next / 2] = k;
		w->next[n_next].id = l;
		w->next[n_next].g = s->gl;
		w->next[n_next].h = s->hl;
		w->next[n_next].hist = NULL;
		w->next[n_next + 1].id = r;
		w->next[n_next + 1].g = s->gr;
		w->next[n_next + 1].h = s->hr;
		w->next[n_next + 1].hist = NULL;
		n_next += 2;
	}
	return n_next;
}

/*
 * The children's histograms: every child's rows come from the shards, and,
 * as gbt_grow.c does, the smaller child of a pair keeps its own histogram
 * while the larger one is the parent's minus it.
 */
static sf_status
child_histograms(dist_work *w, int n_next)
{
	int			k;
	sf_status	st;

	for (k = 0; k < n_next; k++)
		w->want[k] = w->next[k].id;
	if ((st = exchange(w, n_next, 0)) != SF_OK)
		return st;
	for (k = 0; k < n_next; k += 2)
	{
		dist_node  *a = &w->next[k],
				   *b = &w->next[k + 1];
		dist_node  *small,
				   *large;
		double	   *parent = w->cur[w->parent_of[k / 2]].hist;
		size_t		s;

		a->count = w->r_cnt[k];
		b->count = w->r_cnt[k + 1];
		small = a->count <= b->count ? a : b;
		large = small == a ? b : a;
		small->hist = w->r_hist[small == a ? k : k + 1];
		w->r_hist[small == a ? k : k + 1] = NULL;
		for (s = 0; s < 2 * w->n_slots; s++)
			parent[s] -= small->hist[s];
		large->hist = parent;
		w->cur[w->parent_of[k / 2]].hist = NULL;
	}
	return SF_OK;
}

/* Grow one tree into w->t, level by level (gbt_grow.c's gbt_grow_tree). */
static sf_status
grow_tree(dist_work *w, int with_metric)
{
	int			n_cur = 1,
				depth,
				k;
	sf_status	st;

	if ((st = grow_root(w, with_metric)) != SF_OK)
		return st;
	for (depth = 0;; depth++)
	{
		int			n_next;

		if (sf_interrupted(w->env))
			return sf_fail(w->env, SF_ECANCEL, "canceled");
		if (depth >= w->prm->max_depth)
		{
			for (k = 0; k < n_cur; k++)
				close_leaf(w, &w->cur[k]);
			break;
		}
		find_level_splits(w, n_cur);
		n_next = apply_level_splits(w, n_cur);
		if (n_next == 0)
			break;
		if ((st = child_histograms(w, n_next)) != SF_OK)
			return st;
		{
			dist_node  *sw = w->cur;

			w->cur = w->next;
			w->next = sw;
		}
		n_cur = n_next;
	}
	return SF_OK;
}

static void
free_dist_work(dist_work *w)
{
	sf_env	   *env = w->env;
	int			k;

	gbt_bins_free(env, &w->bins);
	gbt_tree_free(env, &w->t);
	for (k = 0; k < w->level_cap; k++)
	{
		if (w->cur)
			sf_free(env, w->cur[k].hist);
		if (w->next)
			sf_free(env, w->next[k].hist);
		if (w->r_hist)
			sf_free(env, w->r_hist[k]);
	}
	sf_free(env, w->cur);
	sf_free(env, w->next);
	sf_free(env, w->splits);
	sf_free(env, w->scratch);
	sf_free(env, w->allowed);
	sf_free(env, w->tree_feat);
	sf_free(env, w->feat_idx);
	sf_free(env, w->mono);
	sf_free(env, w->w_lower);
	sf_free(env, w->w_upper);
	sf_free(env, w->l_lower);
	sf_free(env, w->l_upper);
	sf_free(env, w->lg);
	sf_free(env, w->lh);
	sf_free(env, w->lhist);
	sf_free(env, w->want);
	sf_free(env, w->parent_of);
	sf_free(env, w->r_cnt);
	sf_free(env, w->r_g);
	sf_free(env, w->r_h);
	sf_free(env, w->r_hist);
	sf_buf_free(&w->job);
}

/* The work space, sized as gbt_train.c's alloc_work for n rows. */
static sf_status
alloc_dist_work(dist_work *w, uint64_t n)
{
	sf_env	   *env = w->env;
	const gbt_params *prm = w->prm;
	uint32_t	p = w->p;
	int			i;

	w->level_cap = 1 << prm->max_depth;
	if ((uint64_t) w->level_cap > 2 * n)
		w->level_cap = (int) (2 * n);
	w->cap_nodes = 2 * w->level_cap + 1;
	if ((uint64_t) w->cap_nodes > 4 * n + 1)
		w->cap_nodes = (int32_t) (4 * n + 1);
	w->cur = sf_calloc(env, w->level_cap, sizeof(dist_node));
	w->next = sf_calloc(env, w->level_cap, sizeof(dist_node));
	w->splits = sf_calloc(env, w->level_cap, sizeof(gbt_split));
	w->scratch = sf_calloc(env, (size_t) GBT_SPLIT_CHUNK * p, sizeof(gbt_split));
	w->allowed = sf_calloc(env, p, 1);
	w->tree_feat = sf_calloc(env, p, 1);
	w->feat_idx = sf_calloc(env, p, sizeof(uint32_t));
	w->lg = sf_calloc(env, w->level_cap, sizeof(double));
	w->lh = sf_calloc(env, w->level_cap, sizeof(double));
	w->lhist = sf_calloc(env, w->level_cap, sizeof(double *));
	w->want = sf_calloc(env, w->level_cap, sizeof(int32_t));
	w->parent_of = sf_calloc(env, w->level_cap, sizeof(int));
	w->r_cnt = sf_calloc(env, w->level_cap, sizeof(uint64_t));
	w->r_g = sf_calloc(env, w->level_cap, sizeof(double));
	w->r_h = sf_calloc(env, w->level_cap, sizeof(double));
	w->r_hist = sf_calloc(env, w->level_cap, sizeof(double *));
	if (!w->cur || !w->next || !w->splits || !w->scratch || !w->allowed || !w->tree_feat ||
		!w->feat_idx || !w->lg || !w->lh || !w->lhist || !w->want || !w->parent_of ||
		!w->r_cnt || !w->r_g || !w->r_h || !w->r_hist)
		return sf_fail(env, SF_ENOMEM, "out of memory for the training work space");
	if (prm->monotone_constraints.n > 0)
	{
		w->mono = sf_calloc(env, p, sizeof(int8_t));
		w->w_lower = sf_calloc(env, w->cap_nodes, sizeof(float));
		w->w_upper = sf_calloc(env, w->cap_nodes, sizeof(float));
		w->l_lower = sf_calloc(env, w->level_cap, sizeof(float));
		w->l_upper = sf_calloc(env, w->level_cap, sizeof(float));
		if (!w->mono || !w->w_lower || !w->w_upper || !w->l_lower || !w->l_upper)
			return sf_fail(env, SF_ENOMEM, "out of memory for the monotone constraints");
		for (i = 0; i < prm->monotone_constraints.n; i++)
			w->mono[i] = (int8_t) prm->monotone_constraints.v[i];
	}
	return gbt_tree_alloc(env, &w->t, w->cap_nodes);
}

/* Copy the grown tree into dst at its exact size (gbt_train.c's keep_tree). */
static sf_status
keep_tree(dist_work *w, gbt_tree *dst)
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

/* The checks of gbt_train.c's check_data that the sketches can answer. */
static sf_status
check_totals(sf_env *env, const gbt_params *prm, const dist_totals *tot)
{
	if (tot->n >= UINT32_MAX)
		return sf_fail(env, SF_ELIMIT, "too many training rows (%llu)", (unsigned long long) tot->n);
	if ((uint32_t) prm->monotone_constraints.n > tot->p)
		return sf_fail(env, SF_EINVAL, "monotone_constraints has %d elements, features has %u",
					   prm->monotone_constraints.n, (unsigned) tot->p);
	if (prm->objective == GBT_OBJ_BINARY)
	{
		if (tot->n0 + tot->n1 != tot->n)
			return sf_fail(env, SF_EDATA, "binary:logistic needs labels 0 or 1, %llu rows have others",
						   (unsigned long long) (tot->n - tot->n0 - tot->n1));
		if (tot->n0 == 0 || tot->n1 == 0)
			return sf_fail(env, SF_EDATA, "binary:logistic needs both classes, every label is %d",
						   tot->n1 ? 1 : 0);
	}
	if (tot->weighted && !(tot->sw > 0.0))
		return sf_fail(env, SF_EDATA, "the weights sum to zero");
	return SF_OK;
}

/* The training metric from the sums of a job (gbt_train.c's train_score). */
static double
metric_score(const dist_work *w, double acc, double sw)
{
	if (!(sw > 0.0))
		return NAN;
	return w->metric == GBT_METRIC_RMSE ? sqrt(acc / sw) : acc / sw;
}

static void
report_round(const gbt_params *prm, const gbt_model *m, int r)
{
	if (prm->progress && prm->verbose &&
		((r + 1) % prm->verbose_every == 0 || r + 1 == prm->n_estimators))
	{
		gbt_progress pr = {r + 1, prm->n_estimators, gbt_metric_name(m->eval_metric),
		m->eval_train[r], NAN};

		prm->progress(prm->progress_ctx, &pr);
	}
}

sf_status
gbt_dist_train(sf_env *env, const gbt_params *prm, const uint8_t *const *sketches,
			   const size_t *sketch_lens, int n_sketches, const gbt_dist_io *io, gbt_model **out)
{
	dist_work	w;
	dist_totals tot;
	gbt_model  *m = NULL;
	sf_status	st;
	int			r;

	*out = NULL;
	memset(&w, 0, sizeof(w));
	w.env = env;
	w.prm = prm;
	w.io = io;
	sf_buf_init(&w.job, env);
	if ((st = gbt_params_check(env, prm)) != SF_OK)
		return st;
	if (prm->subsample < 1.0 || prm->early_stopping_rounds > 0 || prm->eval_metric == GBT_METRIC_AUC)
		return sf_fail(env, SF_EINVAL,
					   "subsample below 1, early stopping and eval_metric auc are not supported sharded");
	if ((st = gbt_dist_merge_sketches(env, sketches, sketch_lens, n_sketches, prm->max_bin, &tot, &w.bins)) != SF_OK ||
		(st = check_totals(env, prm, &tot)) != SF_OK)
		goto done;
	w.p = tot.p;
	w.n_slots = w.bins.off[w.p];
	w.metric = prm->eval_metric != GBT_METRIC_AUTO ? prm->eval_metric
		: prm->objective == GBT_OBJ_BINARY ? GBT_METRIC_LOGLOSS : GBT_METRIC_RMSE;
	w.base_margin = prm->objective == GBT_OBJ_BINARY
		? -logf(1.0f / (float) prm->base_score - 1.0f) : (float) prm->base_score;
	sf_rng_init(&w.rng, (uint64_t) prm->seed, 2);
	if ((st = alloc_dist_work(&w, tot.n)) != SF_OK)
		goto done;
	if ((m = sf_calloc(env, 1, sizeof(gbt_model))) == NULL ||
		(m->trees = sf_calloc(env, prm->n_estimators, sizeof(gbt_tree))) == NULL ||
		(m->eval_train = sf_malloc(env, sizeof(double) * prm->n_estimators)) == NULL)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory for the trees");
		goto done;
	}
	m->n_features = w.p;
	m->objective = prm->objective;
	m->base_score = (float) prm->base_score;
	m->base_margin = w.base_margin;
	m->eval_metric = w.metric;
	m->train_rows = tot.n;
	w.m = m;
	for (r = 0; r < prm->n_estimators; r++)
	{
		if (sf_interrupted(env))
		{
			st = sf_fail(env, SF_ECANCEL, "canceled");
			goto done;
		}
		/* the root's job also brings the training metric of the trees before it */
		if ((st = grow_tree(&w, r > 0)) != SF_OK)
			goto done;
		if (r > 0)
		{
			m->eval_train[r - 1] = metric_score(&w, w.root_acc, w.root_sw);
			report_round(prm, m, r - 1);
		}
		if ((st = keep_tree(&w, &m->trees[r])) != SF_OK)
			goto done;
		m->n_trees = m->n_eval = r + 1;
	}
	/* the last tree's metric: a job that wants no histogram */
	if ((st = exchange(&w, 0, 1)) != SF_OK)
		goto done;
	m->eval_train[m->n_trees - 1] = metric_score(&w, w.r_acc, w.r_sw);
	report_round(prm, m, m->n_trees - 1);
	m->best_iteration = m->n_trees - 1;
	if ((st = gbt_model_pack(env, m)) != SF_OK)
		goto done;
	*out = m;
	m = NULL;
done:
	free_dist_work(&w);
	gbt_model_free(env, m);
	return st;
}
