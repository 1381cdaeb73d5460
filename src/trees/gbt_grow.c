/*
 * gbt_grow.c
 *	  Growing one tree depthwise on the quantised rows, as XGBoost's hist
 *	  updater does with its default depthwise policy.
 *
 * Level by level: the best split of every node of the level (features
 * sampled per tree by colsample_bytree and per level by colsample_bylevel),
 * a node splits when its gain exceeds 1e-6 (XGBoost's kRtEps) and reaches
 * gamma and the depth allows; the split nodes' rows are partitioned stably
 * (in blocks of rows on the worker pool, using the column-major codes); the
 * smaller child's histogram is built and the larger one's is the parent's
 * minus it (not at the last level: its children are leaves).  Leaves get eta
 * times XGBoost's weight.  Histogram buffers are pooled across levels and
 * trees.  Monotone constraints follow XGBoost 1.7's TreeEvaluator: per-node
 * weight bounds (mono_add_split), the constrained split gain (gbt_split.c)
 * and leaf weights clipped to them.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "scfrisk/sf_rng.h"
#include "gbt_int.h"

double *
hist_get(train_work *w)
{
	if (w->n_pool > 0)
		return w->pool[--w->n_pool];
	return sf_malloc(w->env, sizeof(double) * 2 * (w->n_slots ? w->n_slots : 1));
}

void
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
void
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

/*
 * Partitions.  Each split node's rows are split stably (left rows first, each
 * side in the order it had) in two passes over blocks of rows, so a level of
 * few large nodes keeps every worker busy: the first pass sends each block's
 * rows to the left or right scratch array at the block's own positions, the
 * second copies each block's two runs to their places in w->rows, found by a
 * running sum over the node's blocks in order.  The result is the one stable
 * partition, whatever the thread count.
 */

#define PART_PREFETCH 32			/* rows ahead whose codes are fetched */

/* Split rows[b, e) by code (column col): left rows to left[b..], right ones to right[b..]. */
#define SPLIT_CHUNK_BODY(CODE) \
	do { \
		size_t		i, \
					nl = 0, \
					nr = 0; \
		for (i = b; i < e; i++) \
		{ \
			uint32_t	r = rows[i]; \
			uint32_t	c = ((const CODE *) col)[r]; \
			int			go_left = c == miss ? default_left : (int64_t) c <= last_left; \
			/* a node's rows are sparse in the column: fetch ahead */ \
			if (i + PART_PREFETCH < e) \
				__builtin_prefetch((const CODE *) col + rows[i + PART_PREFETCH]); \
			/* branch-free: write both places, advance one (the side is random) */ \
			left[b + nl] = r; \
			right[b + nr] = r; \
			nl += (size_t) go_left; \
			nr += (size_t) !go_left; \
		} \
		return nl; \
	} while (0)

static size_t
split_chunk_u8(const uint8_t *restrict col, uint32_t miss, int default_left, int64_t last_left,
			   const uint32_t *restrict rows, size_t b, size_t e,
			   uint32_t *restrict left, uint32_t *restrict right)
{
	SPLIT_CHUNK_BODY(uint8_t);
}

static size_t
split_chunk_u16(const uint16_t *restrict col, uint32_t miss, int default_left, int64_t last_left,
				const uint32_t *restrict rows, size_t b, size_t e,
				uint32_t *restrict left, uint32_t *restrict right)
{
	SPLIT_CHUNK_BODY(uint16_t);
}

/* First pass, one block: its left and right rows into w->tmp and w->tmp_r. */
static void
partition_split_task(void *arg, int t, int worker)
{
	train_work *w = arg;
	part_chunk *ch = &w->chunks[t];
	const gbt_split *s = w->part[ch->job].split;
	const gbt_bins *bins = &w->bins;
	uint32_t	f = s->feature;
	/* codes <= last_left go left; an "all values right" split sends none */
	int64_t		last_left = s->all_right ? -1 : (int64_t) s->bin;

	if (bins->wide)
		ch->n_left = split_chunk_u16((const uint16_t *) bins->codes_t + (size_t) f * bins->n,
									 bins->n_bins[f], s->default_left, last_left, w->rows,
									 ch->begin, ch->end, w->tmp, w->tmp_r);
	else
		ch->n_left = split_chunk_u8((const uint8_t *) bins->codes_t + (size_t) f * bins->n,
									bins->n_bins[f], s->default_left, last_left, w->rows,
									ch->begin, ch->end, w->tmp, w->tmp_r);
}

/* Second pass, one block: its two runs to their places. */
static void
partition_place_task(void *arg, int t, int worker)
{
	train_work *w = arg;
	const part_chunk *ch = &w->chunks[t];

	memcpy(w->rows + ch->dst_left, w->tmp + ch->begin, sizeof(uint32_t) * ch->n_left);
	memcpy(w->rows + ch->dst_right, w->tmp_r + ch->begin,
		   sizeof(uint32_t) * (ch->end - ch->begin - ch->n_left));
}

/* Partition the rows of the n_jobs split nodes in w->part; sets each job's mid. */
void
partition_level(train_work *w, int n_jobs)
{
	int			n_chunks = 0,
				j,
				c;

	for (j = 0; j < n_jobs; j++)
	{
		size_t		b;

		w->part[j].mid = w->part[j].begin;	/* a node without rows has no blocks */
		for (b = w->part[j].begin; b < w->part[j].end; b += GBT_PART_CHUNK)
		{
			part_chunk *ch = &w->chunks[n_chunks++];

			ch->job = j;
			ch->begin = b;
			ch->end = w->part[j].end - b < GBT_PART_CHUNK ? w->part[j].end : b + GBT_PART_CHUNK;
		}
	}
	gbt_parallel(w->env, n_chunks, partition_split_task, w);
	/* the places: a node's left runs in block order, then its right runs */
	for (c = 0; c < n_chunks;)
	{
		part_job   *job = &w->part[w->chunks[c].job];
		size_t		pos = job->begin;
		int			c0 = c;

		for (; c < n_chunks && w->chunks[c].job == w->chunks[c0].job; c++)
		{
			w->chunks[c].dst_left = pos;
			pos += w->chunks[c].n_left;
		}
		job->mid = pos;
		for (c = c0; c < n_chunks && w->chunks[c].job == w->chunks[c0].job; c++)
		{
			w->chunks[c].dst_right = pos;
			pos += w->chunks[c].end - w->chunks[c].begin - w->chunks[c].n_left;
		}
	}
	gbt_parallel(w->env, n_chunks, partition_place_task, w);
}

static void
set_leaf(train_work *w, int32_t id, double g, double h)
{
	double		bw = gbt_calc_weight(w->prm, g, h);
	float		leaf = (float) (w->prm->eta * bw);

	/*
	 * Under monotone constraints the weight is clipped to the node's bounds
	 * and scaled in float, as XGBoost's ExpandNode does (the parent's bounds
	 * it clips with give the same value: the child's bounds contain it).
	 */
	if (w->mono)
		leaf = (float) w->prm->eta *
			gbt_mono_weight(w->prm, g, h, w->w_lower[id], w->w_upper[id]);
	w->t.left[id] = w->t.right[id] = -1;
	w->t.split_index[id] = 0;
	w->t.default_left[id] = 0;
	/* XGBoost stores a leaf's base weight with eta applied, a split's without */
	w->t.base_weight[id] = leaf;
	w->t.split_cond[id] = leaf;
	w->t.loss_chg[id] = 0.0f;
	w->t.sum_hess[id] = (float) h;
}

/*
 * Bounds of the children l and r of node id split on feature f with clipped
 * weights wl, wr (XGBoost's TreeEvaluator::AddSplit): both inherit the
 * parent's, and a constrained feature splits them at the mean weight.
 */
static void
mono_add_split(train_work *w, int32_t id, int32_t l, int32_t r, uint32_t f, float wl, float wr)
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

/* The root: all rows, its gradient sums and histogram, the tree's features. */
static sf_status
grow_root(train_work *w, size_t n_rows)
{
	double		G = 0.0,
				H = 0.0;
	size_t		i;

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
	if (w->mono)
	{
		w->w_lower[0] = -FLT_MAX;
		w->w_upper[0] = FLT_MAX;
	}
	gbt_hist_build(w->env, &w->bins, w->gh, w->rows, 1, w->lb, w->le, w->lhist);
	sample_features(w, NULL, w->prm->colsample_bytree, w->tree_feat);
	return SF_OK;
}

/* The best split of every node of the level into w->splits[0, n_cur). */
void
find_level_splits(train_work *w, int n_cur)
{
	const gbt_params *prm = w->prm;
	int			k;

	/* features of this level, the same for every node of it (XGBoost's bylevel) */
	sample_features(w, w->tree_feat, prm->colsample_bylevel, w->allowed);
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
	/* in chunks of nodes, so the (nodes, features) scratch stays small */
	for (k = 0; k < n_cur; k += GBT_SPLIT_CHUNK)
	{
		gbt_mono	mono;

		mono.c = w->mono;
		mono.lower = w->l_lower + k;
		mono.upper = w->l_upper + k;
		gbt_split_find(w->env, &w->bins, prm,
					   n_cur - k < GBT_SPLIT_CHUNK ? n_cur - k : GBT_SPLIT_CHUNK,
					   w->lhist + k, w->lg + k, w->lh + k, w->allowed,
					   w->mono ? &mono : NULL, w->splits + k, w->scratch);
	}
}

/* A node of the level becomes a leaf: its weight, row range, histogram back. */
void
close_leaf(train_work *w, node_work *nd, size_t *leaf_begin, size_t *leaf_end)
{
	set_leaf(w, nd->id, nd->g, nd->h);
	leaf_begin[nd->id] = nd->begin;
	leaf_end[nd->id] = nd->end;
	hist_put(w, nd->hist);
	nd->hist = NULL;
}

/*
 * Apply the level's splits: a node whose best split gains too little is a
 * leaf, the others get two children in w->next (rows still to partition).
 * Returns the number of children.
 */
int
apply_level_splits(train_work *w, int n_cur, size_t *leaf_begin, size_t *leaf_end)
{
	const gbt_params *prm = w->prm;
	int			n_next = 0,
				k;

	for (k = 0; k < n_cur; k++)
	{
		node_work  *nd = &w->cur[k];
		const gbt_split *s = &w->splits[k];
		int32_t		id = nd->id,
					l,
					r;

		if (!(s->loss_chg > GBT_RT_EPS) || s->loss_chg < prm->gamma)
		{
			close_leaf(w, nd, leaf_begin, leaf_end);
			continue;
		}
		l = w->t.n_nodes++;
		r = w->t.n_nodes++;
		w->t.left[id] = l;
		w->t.right[id] = r;
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
		w->t_bin[id] = s->bin;
		w->t_allright[id] = (uint8_t) s->all_right;
		w->part[n_next / 2].begin = nd->begin;
		w->part[n_next / 2].end = nd->end;
		w->part[n_next / 2].split = s;
		w->next[n_next].id = l;
		w->next[n_next].begin = nd->begin;
		w->next[n_next].g = s->gl;
		w->next[n_next].h = s->hl;
		w->next[n_next].hist = NULL;
		w->next[n_next + 1].id = r;
		w->next[n_next + 1].end = nd->end;
		w->next[n_next + 1].g = s->gr;
		w->next[n_next + 1].h = s->hr;
		w->next[n_next + 1].hist = NULL;
		n_next += 2;
	}
	return n_next;
}

/*
 * The children's histograms: the smaller child of each pair is built from
 * its rows, the larger one is the parent's minus it, in the parent's buffer.
 */
static sf_status
child_histograms(train_work *w, int n_next)
{
	int			n_build = 0,
				pk = 0,
				k;

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
	return SF_OK;
}

/*
 * Grow one tree on the rows in w->rows[0, n_rows) into w->t, level by level.
 * Leaves hold their row ranges in w->rows afterwards, recorded in
 * leaf_begin/leaf_end.
 */
sf_status
gbt_grow_tree(train_work *w, size_t n_rows, size_t *leaf_begin, size_t *leaf_end)
{
	int			n_cur = 1,
				depth,
				k;
	sf_status	st;

	if ((st = grow_root(w, n_rows)) != SF_OK)
		return st;
	for (depth = 0;; depth++)
	{
		int			n_next;

		if (sf_interrupted(w->env))
			return sf_fail(w->env, SF_ECANCEL, "canceled");
		if (depth >= w->prm->max_depth)
		{
			for (k = 0; k < n_cur; k++)
				close_leaf(w, &w->cur[k], leaf_begin, leaf_end);
			break;
		}
		find_level_splits(w, n_cur);
		n_next = apply_level_splits(w, n_cur, leaf_begin, leaf_end);
		partition_level(w, n_next / 2);
		for (k = 0; k < n_next; k += 2)
		{
			w->next[k].end = w->part[k / 2].mid;
			w->next[k + 1].begin = w->part[k / 2].mid;
		}
		if (n_next == 0)
			break;
		if (depth + 1 < w->prm->max_depth)
		{
			if ((st = child_histograms(w, n_next)) != SF_OK)
				return st;
		}
		else
		{
			/*
			 * The children are at the maximum depth: they become leaves
			 * from their (G, H) sums alone, so no histogram of theirs is
			 * ever read (XGBoost's IsChildValid skips them too).  The split
			 * parents' buffers go back to the pool.
			 */
			for (k = 0; k < n_cur; k++)
			{
				hist_put(w, w->cur[k].hist);
				w->cur[k].hist = NULL;
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
int32_t
gbt_route_binned(const train_work *w, size_t i)
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

