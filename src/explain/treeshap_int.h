/*
 * treeshap_int.h
 *	  The pieces of the reference TreeSHAP walk (treeshap.c) that the
 *	  precomputed form (treeshap_plan.c) shares: the cover share of a child,
 *	  a tree's expected value, and the walk of one tree, which the plan uses
 *	  for trees too deep for its tables.
 */
#ifndef SCFRISK_TREESHAP_INT_H
#define SCFRISK_TREESHAP_INT_H

#include <stddef.h>

#include "scfrisk/gbt.h"

/* One feature on the unique path from the root (XGBoost's PathElement). */
typedef struct sf_ts_path
{
	int			feature;		/* -1 for the root entry, which has no feature (XGBoost's first PathElement) */
	double		zero_fraction;	/* share of cover flowing this way */
	double		one_fraction;	/* 1 when x flows this way, else 0 */
	double		pweight;		/* permutation weight */
} sf_ts_path;

/* Share of node k's cover that went to its child c (0.5 when k has none). */
extern double sf_ts_cover_share(const gbt_tree *t, int k, int c);

/* Cover-weighted mean of the leaves below node k (XGBoost's node mean value). */
extern double sf_ts_node_mean(const gbt_tree *t, int k);

/* Edges on the longest path below node k. */
extern int	sf_ts_tree_depth(const gbt_tree *t, int k);

/* Path elements sf_ts_reference_tree needs for tree t. */
extern size_t sf_ts_path_len(const gbt_tree *t);

/*
 * Add tree t's TreeSHAP values of x (n_features, NaN = missing) to
 * phi[0..n_features), not its expected value; path is scratch of
 * sf_ts_path_len(t) elements.
 */
extern void sf_ts_reference_tree(const gbt_tree *t, const double *x, double *phi, sf_ts_path *path);

#endif							/* SCFRISK_TREESHAP_INT_H */
