/*
 * drift_trees.c
 *	  The bins a tree ensemble already has, for its characteristic stability
 *	  index: every feature's distinct split thresholds.
 *
 * Deciles say where the training rows were; a tree model only ever asks on
 * which side of its thresholds a value lies, so two values between the same
 * pair of thresholds score alike.  Binning an input at exactly those
 * thresholds makes the CSI count the shifts the model can see, and nothing
 * else.  Thresholds are the trees' float32 split conditions, widened.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/gbt.h"
#include "scfrisk/sf_governance.h"

typedef struct feat_thr
{
	uint32_t	f;
	float		thr;
} feat_thr;

static int
cmp_feat_thr(const void *pa, const void *pb)
{
	const feat_thr *a = pa,
			   *b = pb;

	if (a->f != b->f)
		return (a->f > b->f) - (a->f < b->f);
	return (a->thr > b->thr) - (a->thr < b->thr);
}

sf_status
sf_drift_tree_edges(sf_env *env, const struct gbt_tree *trees, int32_t n_trees, uint32_t p,
					uint32_t **off_out, double **edges_out)
{
	size_t		total = 0,
				m = 0,
				ne = 0,
				i;
	int32_t		t,
				k;
	feat_thr   *all;
	uint32_t   *off;
	double	   *edges;

	*off_out = NULL;
	*edges_out = NULL;
	for (t = 0; t < n_trees; t++)
		total += (size_t) trees[t].n_nodes;
	all = sf_malloc(env, sizeof(feat_thr) * (total ? total : 1));
	off = sf_calloc(env, (size_t) p + 1, sizeof(uint32_t));
	edges = sf_malloc(env, sizeof(double) * (total ? total : 1));
	if (all == NULL || off == NULL || edges == NULL)
	{
		sf_free_all(env, all, off, edges);
		return sf_fail(env, SF_ENOMEM, "out of memory collecting the trees' thresholds");
	}
	for (t = 0; t < n_trees; t++)
		for (k = 0; k < trees[t].n_nodes; k++)
			if (trees[t].left[k] >= 0 && trees[t].split_index[k] < p)
			{
				all[m].f = trees[t].split_index[k];
				all[m].thr = trees[t].split_cond[k];
				m++;
			}
	qsort(all, m, sizeof(feat_thr), cmp_feat_thr);
	/* distinct finite thresholds per feature; off[f + 1] counts feature f's */
	for (i = 0; i < m; i++)
	{
		double		v = (double) all[i].thr;

		if (!isfinite(v) || (i > 0 && all[i - 1].f == all[i].f && all[i - 1].thr == all[i].thr))
			continue;
		edges[ne++] = v;
		off[all[i].f + 1]++;
	}
	for (i = 0; i < p; i++)
		off[i + 1] += off[i];
	sf_free(env, all);
	*off_out = off;
	*edges_out = edges;
	return SF_OK;
}
