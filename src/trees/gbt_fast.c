/*
 * gbt_fast.c
 *	  The fast row scorer of tree ensembles (include/scfrisk/gbt_fast.h):
 *	  complete padded trees walked with implicit children, GBT_FAST_LANES
 *	  trees side by side.
 *
 * Why this layout and not QuickScorer's bit vectors: the SQL path scores one
 * row per call.  QuickScorer (Lucchese et al., SIGIR 2015) visits every
 * "false" node of the ensemble, about half of all internal nodes (some
 * 3,000 for 100 trees of depth 6), to save the data-dependent branches of a
 * walk; its gains come from batches of rows (vQS, RapidScorer) that one row
 * per call does not have.  A walk without branches visits depth nodes per
 * tree (600), so it wins on instructions for one row (docs/benchmarks.md
 * has the counts).  What a walk pays is the latency of each node load,
 * which the lanes hide: the walks of GBT_FAST_LANES trees are independent
 * chains of loads the CPU overlaps.  Padding every tree to one depth means
 * every lane takes the same number of steps, children need no pointers (a
 * node is 8 bytes) and the leaf is found by arithmetic.
 */
#include <math.h>
#include <string.h>

#include "gbt_int.h"
#include "scfrisk/gbt_fast.h"
#include "scfrisk/gbt_fast_bins.h"

#define GBT_FAST_LANES	8		/* trees walked side by side */

/* ------------------------------------------------------------ build */

/*
 * Write tree node k (of t) at position pos (level-order index of a
 * complete tree of depth f->depth, at level lev) into the tree's lane of
 * its group: node pos at nodes[pos * GBT_FAST_LANES], leaf q at
 * leaves[q * GBT_FAST_LANES].  A leaf above the last level fills its whole
 * padded subtree with its value; its dummy nodes read slot 0 and may send a
 * row either way.
 */
static void
pad_node(const gbt_fast *f, const gbt_tree *t, const uint32_t *slot_of, int32_t k,
		 uint32_t pos, int lev, gbt_fast_node *nodes, float *leaves)
{
	uint32_t	internal = (1u << f->depth) - 1;

	if (lev == f->depth)
	{
		/* a leaf: no tree is deeper than the ensemble */
		leaves[(size_t) (pos - internal) * GBT_FAST_LANES] = t->split_cond[k];
		return;
	}
	if (t->left[k] < 0)
	{
		nodes[(size_t) pos * GBT_FAST_LANES].slot = 0;
		nodes[(size_t) pos * GBT_FAST_LANES].cond = 0.0f;
		pad_node(f, t, slot_of, k, 2 * pos + 1, lev + 1, nodes, leaves);
		pad_node(f, t, slot_of, k, 2 * pos + 2, lev + 1, nodes, leaves);
		return;
	}
	nodes[(size_t) pos * GBT_FAST_LANES].slot =
		2 * slot_of[t->split_index[k]] + (t->default_left[k] ? 1 : 0);
	nodes[(size_t) pos * GBT_FAST_LANES].cond = t->split_cond[k];
	pad_node(f, t, slot_of, t->left[k], 2 * pos + 1, lev + 1, nodes, leaves);
	pad_node(f, t, slot_of, t->right[k], 2 * pos + 2, lev + 1, nodes, leaves);
}

/*
 * The sizes a build would have: depth, used features (slot_of[j] set to
 * the slot of feature j, UINT32_MAX for unused) and whether every split
 * condition suits the infinity substitution.  d is scratch of the largest
 * tree's size.  Returns 0 when the ensemble cannot be built at all.
 */
static int
survey(const gbt_tree *trees, int32_t n_trees, uint32_t n_features, uint32_t *slot_of,
	   int32_t *d, int *depth, uint32_t *n_used, size_t *n_nodes)
{
	int32_t		i,
				k;

	*depth = 0;
	*n_used = 0;
	*n_nodes = 0;
	for (i = 0; i < n_trees; i++)
	{
		const gbt_tree *t = &trees[i];

		*n_nodes += (size_t) t->n_nodes;
		d[0] = 0;
		for (k = 0; k < t->n_nodes; k++)
		{
			uint32_t	j = t->split_index[k];

			if (t->left[k] < 0)
				continue;
			/* -inf or NaN: the substituted infinities would not follow default_left */
			if (!(t->split_cond[k] > -INFINITY) || j >= n_features)
				return 0;
			if (slot_of[j] == UINT32_MAX)
			{
				if (*n_used == GBT_FAST_MAX_USED)
					return 0;
				slot_of[j] = (*n_used)++;
			}
			/* children come after their parent (the decoders' invariant) */
			d[t->left[k]] = d[t->right[k]] = d[k] + 1;
			if (d[k] + 1 > GBT_FAST_MAX_DEPTH)
				return 0;
			if (d[k] + 1 > *depth)
				*depth = d[k] + 1;
		}
	}
	return 1;
}

sf_status
gbt_fast_build(sf_env *env, const gbt_tree *trees, int32_t n_trees, uint32_t n_features,
			   int flags, gbt_fast **out)
{
	uint32_t   *slot_of;
	int32_t    *d;
	int32_t		max_nodes = 1;
	gbt_fast   *f;
	sf_status	st;
	int			depth,
				ok;
	uint32_t	n_used,
				j;
	size_t		n_nodes,
				internal,
				padded;
	int32_t		i,
				n_groups = (n_trees + GBT_FAST_LANES - 1) / GBT_FAST_LANES;

	*out = NULL;
	if (n_trees <= 0)
		return SF_OK;
	for (i = 0; i < n_trees; i++)
		if (trees[i].n_nodes > max_nodes)
			max_nodes = trees[i].n_nodes;
	slot_of = sf_malloc(env, sizeof(uint32_t) * (n_features ? n_features : 1));
	d = sf_malloc(env, sizeof(int32_t) * (size_t) max_nodes);
	if (slot_of == NULL || d == NULL)
	{
		sf_free(env, slot_of);
		sf_free(env, d);
		return sf_fail(env, SF_ENOMEM, "out of memory building the tree scorer");
	}
	for (j = 0; j < n_features; j++)
		slot_of[j] = UINT32_MAX;
	ok = survey(trees, n_trees, n_features, slot_of, d, &depth, &n_used, &n_nodes);
	sf_free(env, d);
	internal = ((size_t) 1 << depth) - 1;
	padded = (size_t) n_trees * (2 * internal + 1);
	/* a deep, sparse ensemble would pad into more memory than its walk reads */
	if (ok && !(flags & GBT_FAST_FORCE) && padded > 4 * n_nodes && padded > (size_t) n_trees * 127)
		ok = 0;
	if (!ok)
	{
		sf_free(env, slot_of);
		return SF_OK;
	}
	f = sf_calloc(env, 1, sizeof(gbt_fast));
	if (f != NULL)
	{
		f->n_trees = n_trees;
		f->depth = depth;
		f->n_used = n_used;
		f->used = sf_malloc(env, sizeof(uint32_t) * (n_used ? n_used : 1));
		/* whole groups: the lanes past the last tree are zeros (read, never added) */
		f->nodes = sf_calloc(env, internal ? (size_t) n_groups * GBT_FAST_LANES * internal : 1,
							 sizeof(gbt_fast_node));
		f->leaves = sf_calloc(env, (size_t) n_groups * GBT_FAST_LANES * (internal + 1), sizeof(float));
	}
	if (f == NULL || f->used == NULL || f->nodes == NULL || f->leaves == NULL)
	{
		gbt_fast_free(env, f);
		sf_free(env, slot_of);
		return sf_fail(env, SF_ENOMEM, "out of memory building the tree scorer");
	}
	for (j = 0; j < n_features; j++)
		if (slot_of[j] != UINT32_MAX)
			f->used[slot_of[j]] = j;
	/* the byte-code scorer when it fits (it reads the same slots) */
	if (!(flags & GBT_FAST_NO_BINS) &&
		(st = gbt_fast_bins_build(env, trees, n_trees, slot_of, n_used, depth, &f->bins)) != SF_OK)
	{
		gbt_fast_free(env, f);
		sf_free(env, slot_of);
		return st;
	}
	for (i = 0; i < n_trees; i++)
	{
		size_t		g = (size_t) (i / GBT_FAST_LANES),
					l = (size_t) (i % GBT_FAST_LANES);

		if (trees[i].n_nodes > 0)
			pad_node(f, &trees[i], slot_of, 0, 0, 0,
					 f->nodes + g * GBT_FAST_LANES * internal + l,
					 f->leaves + g * GBT_FAST_LANES * (internal + 1) + l);
	}
	sf_free(env, slot_of);
	*out = f;
	return SF_OK;
}

void
gbt_fast_free(sf_env *env, gbt_fast *f)
{
	if (f == NULL)
		return;
	gbt_fast_bins_free(env, f->bins);
	sf_free_all(env, f->used, f->nodes, f->leaves, f);
}

/* ------------------------------------------------------------ scoring */

/*
 * The row as the nodes read it: feature used[i] at slots 2i (missing as
 * +inf: goes right) and 2i + 1 (missing as -inf: goes left).
 */
static inline void
row_slots(const gbt_fast *f, const double *x, float *xs)
{
	uint32_t	i;

	for (i = 0; i < f->n_used; i++)
	{
		float		v = (float) x[f->used[i]];
		int			miss = v != v;

		xs[2 * i] = miss ? INFINITY : v;
		xs[2 * i + 1] = miss ? -INFINITY : v;
	}
}

/*
 * One level of lane l.  In a group, lane l's node at level-order position p
 * is at index i = 8p + l, so its child 2p + 1 + right is at
 * 2i + 8 - l + 8 * right: a shift and two adds, and the lane is a constant
 * displacement.  The slots hold no NaN and no condition is NaN, so
 * !(x < cond) is the reference's "not left".
 */
#define FAST_STEP(l) \
	(i##l = 2 * i##l + (GBT_FAST_LANES - (l)) + \
	 GBT_FAST_LANES * (size_t) !(xs[g[i##l].slot] < g[i##l].cond))

/*
 * Walk the GBT_FAST_LANES trees of group grp down to their leaves; leaf[l]
 * is the index of lane l's leaf value in f->leaves.  The lanes are eight
 * independent chains of loads that the CPU overlaps, each in a register.
 */
static inline void
walk_group(const gbt_fast *f, const float *xs, int32_t grp, size_t *leaf)
{
	size_t		internal = ((size_t) 1 << f->depth) - 1;
	const gbt_fast_node *g = f->nodes + (size_t) grp * GBT_FAST_LANES * internal;
	/* size_t: an index register addresses the node without a zero extension */
	size_t		i0 = 0,
				i1 = 1,
				i2 = 2,
				i3 = 3,
				i4 = 4,
				i5 = 5,
				i6 = 6,
				i7 = 7;
	size_t		lv = (size_t) grp * GBT_FAST_LANES * (internal + 1) - GBT_FAST_LANES * internal;
	int			step;

#if GBT_FAST_LANES != 8
#error "walk_group unrolls eight lanes"
#endif
	for (step = 0; step < f->depth; step++)
	{
		FAST_STEP(0);
		FAST_STEP(1);
		FAST_STEP(2);
		FAST_STEP(3);
		FAST_STEP(4);
		FAST_STEP(5);
		FAST_STEP(6);
		FAST_STEP(7);
	}
	leaf[0] = lv + i0;
	leaf[1] = lv + i1;
	leaf[2] = lv + i2;
	leaf[3] = lv + i3;
	leaf[4] = lv + i4;
	leaf[5] = lv + i5;
	leaf[6] = lv + i6;
	leaf[7] = lv + i7;
}

float
gbt_fast_margin(const gbt_fast *f, const double *x, float base)
{
	float		xs[2 * GBT_FAST_MAX_USED];
	size_t		leaf[GBT_FAST_LANES];
	float		s = base;
	int32_t		t;
	int			l;

	if (f->bins != NULL)
		return gbt_fast_bins_margin(f->bins, f->used, x, base);
	row_slots(f, x, xs);
	for (t = 0; t < f->n_trees; t += GBT_FAST_LANES)
	{
		int			lanes = f->n_trees - t < GBT_FAST_LANES ? f->n_trees - t : GBT_FAST_LANES;

		walk_group(f, xs, t / GBT_FAST_LANES, leaf);
		/* float32 sum in tree order, as XGBoost adds the leaves */
		for (l = 0; l < lanes; l++)
			s += f->leaves[leaf[l]];
	}
	return s;
}

double
gbt_fast_sum(const gbt_fast *f, const double *x)
{
	float		xs[2 * GBT_FAST_MAX_USED];
	size_t		leaf[GBT_FAST_LANES];
	double		s = 0.0;
	int32_t		t;
	int			l;

	if (f->bins != NULL)
		return gbt_fast_bins_sum(f->bins, f->used, x);
	row_slots(f, x, xs);
	for (t = 0; t < f->n_trees; t += GBT_FAST_LANES)
	{
		int			lanes = f->n_trees - t < GBT_FAST_LANES ? f->n_trees - t : GBT_FAST_LANES;

		walk_group(f, xs, t / GBT_FAST_LANES, leaf);
		for (l = 0; l < lanes; l++)
			s += f->leaves[leaf[l]];
	}
	return s;
}
