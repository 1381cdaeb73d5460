/*
 * forest_fit.c
 *	  Growing CART trees and random forests on the quantised rows of the
 *	  histogram core (gbt_bins_build), scikit-learn's rules with a histogram
 *	  splitter (see forest.h).
 *
 * A tree is grown depth first from an explicit stack.  At each node the
 * features are drawn in a random order and, for each drawn one, the node's
 * rows are counted into a small histogram of that feature only (weight, sum
 * of weighted labels, distinct rows per bin): a forest examines about
 * sqrt(p) features per node, so counting those directly is cheaper than the
 * full histograms with subtraction the boosted trees keep.  Every
 * candidate threshold is scored with missing rows on each side.
 *
 * Weighted impurities (W = weight, S = weighted label sum of a node):
 * gini 2 S (W - S) / W and squared error (Q - S^2 / W) both decrease by
 * S_L^2 / W_L + S_R^2 / W_R - S^2 / W (times 2 for gini), so neither needs
 * the label squares per bin; entropy is W log2 W - S log2 S - (W - S)
 * log2 (W - S).
 *
 * Threads: trees are grown in batches, one tree per task of the worker
 * pool (gbt_parallel); a worker allocates nothing (the server's allocator
 * is not thread-safe): each worker has preallocated scratch and each task
 * slot a tree of the largest possible size, copied out to an exact-size
 * tree by the calling thread after the batch, which also checks for a
 * cancel between batches.
 */
#include <math.h>
#include <string.h>

#include "scfrisk/forest.h"
#include "scfrisk/metrics.h"
#include "scfrisk/sf_rng.h"
#include "gbt_int.h"

/* Sums of a set of rows: weight, weighted labels, weighted squares, distinct rows. */
typedef struct node_sum
{
	double		w,
				s,
				q,
				n;
} node_sum;

typedef struct stack_item
{
	int32_t		id;
	int			depth;
	size_t		begin,
				end;
	node_sum	sum;
	double		lower,			/* bounds of the node's value (monotone constraints) */
				upper;
} stack_item;

/* Scratch of one worker. */
typedef struct grow_scratch
{
	uint32_t   *rows;			/* (n) in-bag rows of the tree, grouped by node */
	uint32_t   *tmp;			/* (n) partition scratch */
	uint32_t   *cnt;			/* (n) times each row was drawn (0: out of bag) */
	double	   *hist;			/* (3 * (max bins + 1)) one feature's histogram */
	uint32_t   *feat;			/* (p) feature draw order */
	stack_item *stack;			/* (max_depth + 2) */
} grow_scratch;

typedef struct fit_ctx
{
	const gbt_bins *b;
	const double *y;
	size_t		n;
	uint32_t	p;
	const forest_params *prm;
	int			crit;			/* FOREST_CRIT_* resolved */
	uint32_t	mtry;			/* features examined per node */
	int			bootstrap;
	int32_t		cap_nodes;		/* nodes of the largest possible tree */
	const int8_t *mono;			/* (p) -1/0/1 per feature, NULL without constraints */
	/* out-of-bag scoring (oob_score), NULL members without it */
	const double *x;			/* (n, p) the training rows */
	uint8_t    *oob_bits;		/* (batch, oob_stride) bit i: row i out of the slot's bag */
	size_t		oob_stride;
	double	   *oob_sum;		/* (n) sum of the out-of-bag trees' values */
	uint32_t   *oob_cnt;		/* (n) trees the row was out of bag for */
	int			batch_cnt;		/* trees in the current batch */
	grow_scratch *ws;			/* (workers) */
	gbt_tree   *slots;			/* (batch) trees being grown */
	int			first_tree;		/* tree index of slot 0 */
} fit_ctx;

/* A candidate split of one node. */
typedef struct cand
{
	double		gain;
	uint32_t	feature;
	uint32_t	bin;			/* rows with code <= bin go left */
	int			all_right;		/* every present value goes right */
	int			default_left;	/* missing rows go left */
	double		vl,
				vr;				/* clipped child values (monotone constraints only) */
} cand;

static double
xlog2x(double v)
{
	return v > 0.0 ? v * log2(v) : 0.0;
}

/* Weighted impurity decrease of a split of parent (w, s) into l and r. */
static double
decrease(int crit, double w, double s, double wl, double sl, double wr, double sr)
{
	if (crit == FOREST_CRIT_ENTROPY)
		return (xlog2x(w) - xlog2x(s) - xlog2x(w - s))
			- (xlog2x(wl) - xlog2x(sl) - xlog2x(wl - sl))
			- (xlog2x(wr) - xlog2x(sr) - xlog2x(wr - sr));
	{
		double		d = sl * sl / wl + sr * sr / wr - s * s / w;

		return crit == FOREST_CRIT_GINI ? 2.0 * d : d;
	}
}

/* A node's value: its mean clipped to its bounds (XGBoost's clipped weight). */
static double
node_value(const stack_item *it, double w, double s)
{
	double		v = s / w;

	return v < it->lower ? it->lower : v > it->upper ? it->upper : v;
}

/* True when the node cannot be split further for lack of impurity. */
static int
is_pure(const fit_ctx *c, const node_sum *t)
{
	if (c->prm->objective == FOREST_OBJ_BINARY)
		return t->s <= 0.0 || t->s >= t->w;
	/* scikit-learn's test: impurity (the variance) at most DBL_EPSILON */
	return t->q / t->w - (t->s / t->w) * (t->s / t->w) <= 2.220446049250313e-16;
}

/*
 * Score one candidate (l, r) and keep it in *best when it is valid and
 * better.  Under monotone constraints a split on a constrained feature is
 * valid only when the children's clipped values are ordered as the
 * constraint says (XGBoost's constrained evaluator, gbt_split.c); the gain
 * stays the impurity decrease.
 */
static void
consider(const fit_ctx *c, const stack_item *it, double wl, double sl, double nl,
		 uint32_t f, uint32_t bin, int all_right, int dl, cand *best)
{
	const node_sum *t = &it->sum;
	double		wr = t->w - wl,
				sr = t->s - sl,
				nr = t->n - nl,
				vl = 0.0,
				vr = 0.0,
				g;

	if (nl < c->prm->min_samples_leaf || nr < c->prm->min_samples_leaf || wl <= 0.0 || wr <= 0.0)
		return;
	if (c->mono)
	{
		vl = node_value(it, wl, sl);
		vr = node_value(it, wr, sr);
		if ((c->mono[f] > 0 && !(vl <= vr)) || (c->mono[f] < 0 && !(vl >= vr)))
			return;
	}
	g = decrease(c->crit, t->w, t->s, wl, sl, wr, sr);
	if (g > best->gain)
	{
		best->vl = vl;
		best->vr = vr;
		best->gain = g;
		best->feature = f;
		best->bin = bin;
		best->all_right = all_right;
		best->default_left = dl;
	}
}

/*
 * Examine feature f for the node's rows: returns 0 when it is constant in
 * the node (no split possible), else 1 after scoring its thresholds.
 */
static int
scan_feature(const fit_ctx *c, grow_scratch *s, const stack_item *it, uint32_t f, cand *best)
{
	const gbt_bins *b = c->b;
	uint32_t	nb = b->n_bins[f],
				k,
				used = 0;
	double	   *h = s->hist;
	double		wl = 0.0,
				sl = 0.0,
				nl = 0.0;
	const double *miss = h + 3 * (size_t) nb;
	size_t		i;

	memset(h, 0, sizeof(double) * 3 * ((size_t) nb + 1));
	for (i = it->begin; i < it->end; i++)
	{
		uint32_t	r = s->rows[i];
		uint32_t	code = gbt_code_t(b, r, f);
		double		cw = s->cnt[r];

		h[3 * code] += cw;
		h[3 * code + 1] += cw * c->y[r];
		h[3 * code + 2] += 1.0;
	}
	for (k = 0; k <= nb; k++)
		used += h[3 * k + 2] > 0.0;
	if (used <= 1)
		return 0;
	/* thresholds after each non-empty bin, missing rows right then left */
	for (k = 0; k + 1 < nb; k++)
	{
		if (h[3 * k + 2] == 0.0)
			continue;
		wl += h[3 * k];
		sl += h[3 * k + 1];
		nl += h[3 * k + 2];
		consider(c, it, wl, sl, nl, f, k, 0, 0, best);
		if (miss[2] > 0.0)
			consider(c, it, wl + miss[0], sl + miss[1], nl + miss[2], f, k, 0, 1, best);
	}
	/* missing rows alone on the left */
	if (miss[2] > 0.0)
		consider(c, it, miss[0], miss[1], miss[2], f, 0, 1, 1, best);
	return 1;
}

/*
 * Best split of a node over features drawn at random: stop once mtry have
 * been examined and one of them was not constant (scikit-learn's rule).
 * Returns 1 and fills *best when a valid split exists.
 */
static int
find_split(const fit_ctx *c, grow_scratch *s, const stack_item *it, sf_rng *rng, cand *best)
{
	uint32_t	i,
				visited = 0,
				nonconst = 0;

	best->gain = -INFINITY;
	for (i = 0; i < c->p && (visited < c->mtry || nonconst == 0); i++)
	{
		uint32_t	k = i + (uint32_t) sf_rng_below(rng, c->p - i),
					f = s->feat[k];

		s->feat[k] = s->feat[i];
		s->feat[i] = f;
		visited++;
		nonconst += (uint32_t) scan_feature(c, s, it, f, best);
	}
	return best->gain > -INFINITY;
}

/* Stable partition of the node's rows by the split; sums of both children. */
static size_t
partition(const fit_ctx *c, grow_scratch *s, const stack_item *it, const cand *sp,
		  node_sum *l, node_sum *r)
{
	uint32_t	miss = c->b->n_bins[sp->feature];
	size_t		i,
				nl = 0,
				nr = 0;

	memset(l, 0, sizeof(*l));
	memset(r, 0, sizeof(*r));
	for (i = it->begin; i < it->end; i++)
	{
		uint32_t	row = s->rows[i];
		uint32_t	code = gbt_code_t(c->b, row, sp->feature);
		int			left = code == miss ? sp->default_left : (!sp->all_right && code <= sp->bin);
		node_sum   *t = left ? l : r;
		double		cw = s->cnt[row],
					yv = c->y[row];

		t->w += cw;
		t->s += cw * yv;
		t->q += cw * yv * yv;
		t->n += 1.0;
		if (left)
			s->rows[it->begin + nl++] = row;
		else
			s->tmp[nr++] = row;
	}
	memcpy(s->rows + it->begin + nl, s->tmp, sizeof(uint32_t) * nr);
	return it->begin + nl;
}

/*
 * Bounds of the children l and r of node it split by sp (XGBoost's
 * TreeEvaluator::AddSplit, as gbt_grow.c's mono_add_split): both inherit
 * the parent's, and a constrained feature splits them at the mean of the
 * children's clipped values.
 */
static void
child_bounds(const fit_ctx *c, const stack_item *it, const cand *sp, stack_item *l, stack_item *r)
{
	int			dir = c->mono ? c->mono[sp->feature] : 0;
	double		mid = (sp->vl + sp->vr) / 2.0;

	l->lower = r->lower = it->lower;
	l->upper = r->upper = it->upper;
	if (dir > 0)
	{
		l->upper = mid;
		r->lower = mid;
	}
	else if (dir < 0)
	{
		l->lower = mid;
		r->upper = mid;
	}
}

static void
set_leaf(gbt_tree *t, int32_t id)
{
	t->left[id] = t->right[id] = -1;
	t->split_index[id] = 0;
	t->default_left[id] = 0;
	t->split_cond[id] = t->base_weight[id];
	t->loss_chg[id] = 0.0f;
}

/* Grow tree 'tree' into t (capacity c->cap_nodes) with worker scratch s. */
static void
grow_tree(const fit_ctx *c, grow_scratch *s, int tree, gbt_tree *t)
{
	const forest_params *prm = c->prm;
	sf_rng		rng;
	size_t		i,
				m = 0;
	int			top = 0;
	stack_item *root = &s->stack[0];
	uint32_t	j;

	sf_rng_init(&rng, (uint64_t) prm->seed, (uint64_t) tree + 1);
	if (c->bootstrap)
	{
		memset(s->cnt, 0, sizeof(uint32_t) * c->n);
		for (i = 0; i < c->n; i++)
			s->cnt[sf_rng_below(&rng, c->n)]++;
	}
	else
		for (i = 0; i < c->n; i++)
			s->cnt[i] = 1;
	memset(root, 0, sizeof(*root));
	root->lower = -INFINITY;
	root->upper = INFINITY;
	for (i = 0; i < c->n; i++)
		if (s->cnt[i] > 0)
		{
			double		yv = c->y[i];

			s->rows[m++] = (uint32_t) i;
			root->sum.w += s->cnt[i];
			root->sum.s += s->cnt[i] * yv;
			root->sum.q += s->cnt[i] * yv * yv;
			root->sum.n += 1.0;
		}
	for (j = 0; j < c->p; j++)
		s->feat[j] = j;
	root->end = m;
	t->n_nodes = 1;
	top = 1;
	while (top > 0)
	{
		stack_item	it = s->stack[--top];
		cand		sp;
		node_sum	ls,
					rs;
		size_t		mid;
		int32_t		l;

		t->base_weight[it.id] = (float) node_value(&it, it.sum.w, it.sum.s);
		t->sum_hess[it.id] = (float) it.sum.w;
		if (it.depth >= prm->max_depth || it.sum.n < prm->min_samples_split ||
			it.sum.n < 2.0 * prm->min_samples_leaf || is_pure(c, &it.sum) ||
			!find_split(c, s, &it, &rng, &sp))
		{
			set_leaf(t, it.id);
			continue;
		}
		mid = partition(c, s, &it, &sp, &ls, &rs);
		l = t->n_nodes;
		t->n_nodes += 2;
		t->left[it.id] = l;
		t->right[it.id] = l + 1;
		t->split_index[it.id] = sp.feature;
		t->default_left[it.id] = (uint8_t) sp.default_left;
		t->split_cond[it.id] = sp.all_right ? c->b->min_val[sp.feature]
			: c->b->cuts[c->b->off[sp.feature] + sp.bin];
		/* rounding can make a zero decrease slightly negative */
		t->loss_chg[it.id] = (float) (sp.gain > 0.0 ? sp.gain : 0.0);
		/* right below left on the stack: the left subtree is grown first */
		s->stack[top].id = l + 1;
		s->stack[top].depth = it.depth + 1;
		s->stack[top].begin = mid;
		s->stack[top].end = it.end;
		s->stack[top].sum = rs;
		top++;
		s->stack[top].id = l;
		s->stack[top].depth = it.depth + 1;
		s->stack[top].begin = it.begin;
		s->stack[top].end = mid;
		s->stack[top].sum = ls;
		top++;
		child_bounds(c, &it, &sp, &s->stack[top - 1], &s->stack[top - 2]);
	}
}

static void
grow_task(void *arg, int task, int worker)
{
	fit_ctx    *c = arg;

	grow_scratch *s = &c->ws[worker];
	size_t		i;

	grow_tree(c, s, c->first_tree + task, &c->slots[task]);
	if (c->oob_bits)
	{
		uint8_t    *bits = c->oob_bits + (size_t) task * c->oob_stride;

		memset(bits, 0, c->oob_stride);
		for (i = 0; i < c->n; i++)
			if (s->cnt[i] == 0)
				bits[i >> 3] |= (uint8_t) (1u << (i & 7));
	}
}

#define OOB_CHUNKS 64			/* row ranges of the out-of-bag pass */

/*
 * Rows of one range scored by the batch's trees they were out of bag for,
 * tree after tree in slot order: each row's sum is the same whatever the
 * thread count.
 */
static void
oob_task(void *arg, int task, int worker)
{
	fit_ctx    *c = arg;
	size_t		chunk = (c->n + OOB_CHUNKS - 1) / OOB_CHUNKS,
				lo = (size_t) task * chunk,
				hi = lo + chunk < c->n ? lo + chunk : c->n,
				i;
	int			k;

	for (k = 0; k < c->batch_cnt; k++)
	{
		const uint8_t *bits = c->oob_bits + (size_t) k * c->oob_stride;

		for (i = lo; i < hi; i++)
			if (bits[i >> 3] & (1u << (i & 7)))
			{
				c->oob_sum[i] += forest_tree_value(&c->slots[k], c->x + i * c->p);
				c->oob_cnt[i]++;
			}
	}
}

/* ------------------------------------------------------------ driver */

static sf_status
check_data(sf_env *env, const double *x, const double *y, size_t n, uint32_t p,
		   const forest_params *prm)
{
	sf_status	st = sf_check_shape(env, n, p, FOREST_MAX_FEATURES);

	if (st != SF_OK)
		return st;
	if (n > (size_t) INT32_MAX / 2)
		return sf_fail_hint(env, SF_ELIMIT, "Train on a sample of the rows (for example TABLESAMPLE).",
							"too many training rows (%zu), at most %d", n, INT32_MAX / 2);
	if ((uint32_t) prm->monotone_constraints.n > p)
		return sf_fail(env, SF_EINVAL, "monotone_constraints has %d elements, features has %u",
					   prm->monotone_constraints.n, (unsigned) p);
	return gbt_check_rows(env, x, y, NULL, n, p,
						  prm->objective == FOREST_OBJ_BINARY ? "objective binary" : NULL);
}

/* Features examined per node for the params (scikit-learn's max_features). */
static uint32_t
resolve_mtry(const forest_params *prm, uint16_t kind, uint32_t p)
{
	int			mf = prm->max_features;
	double		v;

	if (mf == FOREST_MF_AUTO)
		mf = kind == SF_KIND_FOREST && prm->objective == FOREST_OBJ_BINARY ? FOREST_MF_SQRT : FOREST_MF_ALL;
	if (mf == FOREST_MF_ALL)
		return p;
	v = mf == FOREST_MF_SQRT ? sqrt((double) p) : log2((double) p);
	return v < 1.0 ? 1 : (uint32_t) v;
}

/* Nodes of the largest tree the params allow on n distinct rows. */
static int32_t
max_nodes(const forest_params *prm, size_t n)
{
	size_t		leaves = (n + prm->min_samples_leaf - 1) / prm->min_samples_leaf;

	if (prm->max_depth < 30 && ((size_t) 1 << prm->max_depth) < leaves)
		leaves = (size_t) 1 << prm->max_depth;
	return (int32_t) (2 * leaves - 1);
}

/*
 * Trees per batch: two per worker, so trees of unequal cost balance within a
 * batch, unless the batch's trees of the largest size would pass 256 MB
 * (deep trees on many rows); then one per worker.
 */
static int
batch_size(int workers, int n_trees, int32_t cap_nodes)
{
	size_t		node_bytes = 3 * sizeof(int32_t) + 4 * sizeof(float) + 1;
	int			batch = workers * 2;

	if ((size_t) batch * (size_t) cap_nodes * node_bytes > ((size_t) 256 << 20))
		batch = workers;
	return batch < n_trees ? batch : n_trees;
}

/* Copy the grown tree src (n_nodes used) into a new exact-size tree dst. */
static sf_status
keep_tree(sf_env *env, const gbt_tree *src, gbt_tree *dst)
{
	int32_t		k = src->n_nodes;
	sf_status	st = gbt_tree_alloc(env, dst, k);

	if (st != SF_OK)
		return st;
	memcpy(dst->left, src->left, sizeof(int32_t) * k);
	memcpy(dst->right, src->right, sizeof(int32_t) * k);
	memcpy(dst->split_index, src->split_index, sizeof(uint32_t) * k);
	memcpy(dst->split_cond, src->split_cond, sizeof(float) * k);
	memcpy(dst->default_left, src->default_left, k);
	memcpy(dst->base_weight, src->base_weight, sizeof(float) * k);
	memcpy(dst->loss_chg, src->loss_chg, sizeof(float) * k);
	memcpy(dst->sum_hess, src->sum_hess, sizeof(float) * k);
	return SF_OK;
}

/* The constraint of every feature (a shorter list padded with zeros, as XGBoost does). */
static sf_status
alloc_mono(sf_env *env, fit_ctx *c, const forest_params *prm)
{
	int8_t	   *mono;
	int			i;

	if (prm->monotone_constraints.n == 0)
		return SF_OK;
	if ((mono = sf_calloc(env, c->p, sizeof(int8_t))) == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the monotone constraints");
	for (i = 0; i < prm->monotone_constraints.n; i++)
		mono[i] = (int8_t) prm->monotone_constraints.v[i];
	c->mono = mono;
	return SF_OK;
}

/* Out-of-bag bitmaps of the batch's slots and the per-row sums. */
static sf_status
alloc_oob(sf_env *env, fit_ctx *c, int batch)
{
	c->oob_stride = (c->n + 7) / 8;
	c->oob_bits = sf_malloc(env, c->oob_stride * (size_t) batch);
	c->oob_sum = sf_calloc(env, c->n, sizeof(double));
	c->oob_cnt = sf_calloc(env, c->n, sizeof(uint32_t));
	if (!c->oob_bits || !c->oob_sum || !c->oob_cnt)
		return sf_fail(env, SF_ENOMEM, "out of memory for the out-of-bag scores");
	return SF_OK;
}

/*
 * The out-of-bag scores into m over the rows some tree left out: the mean of
 * those trees' values is the row's score (scikit-learn's
 * oob_decision_function_); binary: AUC, accuracy at score > 0.5 (its
 * oob_score_, a tie going to class 0 as argmax does) and log loss;
 * regression: R^2 (its oob_score_).
 */
static sf_status
oob_finish(sf_env *env, const fit_ctx *c, forest_model *m)
{
	double	   *s = sf_malloc(env, sizeof(double) * (c->n ? c->n : 1));
	double	   *yy = sf_malloc(env, sizeof(double) * (c->n ? c->n : 1));
	size_t		i,
				k = 0;
	double		hit = 0.0,
				mean = 0.0,
				sse = 0.0,
				sst = 0.0;
	metrics_binary_result r;
	sf_status	st = SF_OK;

	if (s == NULL || yy == NULL)
		st = sf_fail(env, SF_ENOMEM, "out of memory for the out-of-bag scores");
	for (i = 0; st == SF_OK && i < c->n; i++)
		if (c->oob_cnt[i] > 0)
		{
			s[k] = c->oob_sum[i] / c->oob_cnt[i];
			yy[k] = c->y[i];
			hit += (s[k] > 0.5) == (yy[k] > 0.5);
			mean += yy[k];
			k++;
		}
	m->oob_rows = k;
	m->oob_auc = m->oob_accuracy = m->oob_logloss = m->oob_r2 = NAN;
	if (st != SF_OK || k == 0)
		goto done;
	if (c->prm->objective == FOREST_OBJ_BINARY)
	{
		m->oob_accuracy = hit / (double) k;
		if ((st = metrics_binary(env, yy, s, k, 0.5, &r)) != SF_OK)
			goto done;
		m->oob_auc = r.has_ranking ? r.auc : NAN;
		m->oob_logloss = r.has_prob ? r.logloss : NAN;
	}
	else
	{
		mean /= (double) k;
		for (i = 0; i < k; i++)
		{
			sse += (yy[i] - s[i]) * (yy[i] - s[i]);
			sst += (yy[i] - mean) * (yy[i] - mean);
		}
		m->oob_r2 = sst > 0.0 ? 1.0 - sse / sst : NAN;
	}
done:
	sf_free(env, s);
	sf_free(env, yy);
	return st;
}

/* Scratch of the workers and the batch slots; NULL members when out of memory. */
static sf_status
alloc_scratch(sf_env *env, fit_ctx *c, int workers, int batch)
{
	uint32_t	maxbins = 0,
				j;
	int			i;

	for (j = 0; j < c->p; j++)
		if (c->b->n_bins[j] > maxbins)
			maxbins = c->b->n_bins[j];
	if (!sf_alloc_all(env, SF_CALLOC_N(c->ws, workers), SF_CALLOC_N(c->slots, batch)))
		return sf_fail(env, SF_ENOMEM, "out of memory growing trees");
	for (i = 0; i < workers; i++)
	{
		grow_scratch *s = &c->ws[i];

		if (!sf_alloc_all(env, SF_MALLOC_N(s->rows, c->n), SF_MALLOC_N(s->tmp, c->n), SF_MALLOC_N(s->cnt, c->n),
						  SF_MALLOC_N(s->hist, 3 * ((size_t) maxbins + 1)), SF_MALLOC_N(s->feat, c->p),
						  SF_MALLOC_N(s->stack, c->prm->max_depth + 2)))
			return sf_fail(env, SF_ENOMEM, "out of memory growing trees");
	}
	for (i = 0; i < batch; i++)
		if (gbt_tree_alloc(env, &c->slots[i], c->cap_nodes) != SF_OK)
			return sf_fail(env, SF_ENOMEM, "out of memory for a tree of up to %d nodes",
						   (int) c->cap_nodes);
	return SF_OK;
}

static void
free_scratch(sf_env *env, fit_ctx *c, int workers, int batch)
{
	int			i;

	for (i = 0; c->ws && i < workers; i++)
		sf_free_all(env, c->ws[i].rows, c->ws[i].tmp, c->ws[i].cnt, c->ws[i].hist, c->ws[i].feat,
					c->ws[i].stack);
	sf_free(env, c->ws);
	gbt_trees_free(env, c->slots, batch);
}

/* Grow every tree in batches of 'batch' on the pool into m->trees. */
static sf_status
grow_all(sf_env *env, fit_ctx *c, forest_model *m, int batch)
{
	int			t,
				k;
	sf_status	st;

	for (t = 0; t < m->n_trees; t += batch)
	{
		int			cnt = m->n_trees - t < batch ? m->n_trees - t : batch;

		if (sf_interrupted(env))
			return sf_fail(env, SF_ECANCEL, "canceled");
		c->first_tree = t;
		c->batch_cnt = cnt;
		gbt_parallel(env, cnt, grow_task, c);
		if (c->oob_bits)
			gbt_parallel(env, OOB_CHUNKS, oob_task, c);
		for (k = 0; k < cnt; k++)
			if ((st = keep_tree(env, &c->slots[k], &m->trees[t + k])) != SF_OK)
				return st;
		/* the calling thread reports, between the pool's regions */
		sf_progress_report(env, "tree", t + cnt, m->n_trees, 0, NULL, NAN, NAN);
	}
	return SF_OK;
}

sf_status
forest_train(sf_env *env, uint16_t kind, const double *x, const double *y, size_t n, uint32_t p,
			 const forest_params *params, forest_model **out)
{
	forest_params prm = *params;
	gbt_bins	bins;
	fit_ctx		c;
	forest_model *m;
	sf_status	st;
	int			workers,
				batch;

	*out = NULL;
	if (kind != SF_KIND_CART && kind != SF_KIND_FOREST)
		return sf_fail(env, SF_EINVAL, "forest_train: kind %u is not cart or forest", (unsigned) kind);
	if (kind == SF_KIND_CART)
	{
		prm.n_estimators = 1;
		prm.bootstrap = 0;
	}
	if ((st = sf_params_validate(env, kind == SF_KIND_CART ? &cart_params_table : &forest_params_table,
								 &prm)) != SF_OK)
		return st;
	if (prm.n_estimators < 1 || prm.max_depth < 1 || prm.max_depth > FOREST_MAX_DEPTH ||
		prm.min_samples_leaf < 1 || prm.min_samples_split < 2 || prm.max_bin < GBT_MIN_BIN)
		return sf_fail(env, SF_EINVAL, "parameters out of range");
	if ((st = check_data(env, x, y, n, p, &prm)) != SF_OK)
		return st;
	if (prm.criterion == FOREST_CRIT_AUTO)
		prm.criterion = prm.objective == FOREST_OBJ_BINARY ? FOREST_CRIT_GINI : FOREST_CRIT_SQUARED;

	if ((m = sf_calloc(env, 1, sizeof(forest_model))) == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for a forest");
	m->kind = kind;
	m->n_features = p;
	m->objective = prm.objective;
	m->criterion = prm.criterion;
	m->n_trees = prm.n_estimators;
	m->train_rows = n;
	if ((m->trees = sf_calloc(env, prm.n_estimators, sizeof(gbt_tree))) == NULL)
	{
		sf_free(env, m);
		return sf_fail(env, SF_ENOMEM, "out of memory for a forest");
	}
	if ((st = gbt_bins_build(env, x, NULL, p, NULL, n, prm.max_bin, &bins)) != SF_OK)
	{
		gbt_bins_free(env, &bins);
		forest_model_free(env, m);
		return st;
	}
	memset(&c, 0, sizeof(c));
	c.b = &bins;
	c.y = y;
	c.n = n;
	c.p = p;
	c.prm = &prm;
	c.crit = prm.criterion;
	c.mtry = resolve_mtry(&prm, kind, p);
	c.bootstrap = prm.bootstrap;
	c.cap_nodes = max_nodes(&prm, n);
	workers = gbt_workers(env, prm.n_estimators);
	batch = batch_size(workers, prm.n_estimators, c.cap_nodes);
	c.x = x;
	st = alloc_mono(env, &c, &prm);
	if (st == SF_OK && prm.oob_score && kind == SF_KIND_FOREST)
		st = alloc_oob(env, &c, batch);
	if (st == SF_OK)
		st = alloc_scratch(env, &c, workers, batch);
	if (st == SF_OK)
		st = grow_all(env, &c, m, batch);
	if (st == SF_OK && c.oob_bits)
		st = oob_finish(env, &c, m);
	free_scratch(env, &c, workers, batch);
	sf_free_all(env, c.mono, c.oob_bits, c.oob_sum, c.oob_cnt);
	gbt_bins_free(env, &bins);
	if (st != SF_OK)
	{
		forest_model_free(env, m);
		return st;
	}
	*out = m;
	return SF_OK;
}
