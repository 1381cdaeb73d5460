/*
 * explain_treeshap.h
 *	  TreeSHAP with per-model precomputation (Fast TreeSHAP v2, Yang 2021,
 *	  arXiv 2109.09847): the same path-dependent Shapley values as the
 *	  reference walk (sf_treeshap, sf_explain_forest), at O(leaves x depth)
 *	  per row instead of O(leaves x depth^2).
 *
 * For a leaf with value v whose path splits on the d distinct features F
 * (a feature split on twice is one player), the cover fractions z_k of F
 * do not depend on the row; the row only decides which of them are "hot"
 * (x follows every split on the feature along the path): the set H.  With
 * Q(A) = sum over S in A of |S|! (d-1-|S|)! / d! * prod over A\S of z_j and
 * R = prod over the cold features F\H of z_j, the leaf adds
 *		v (1 - z_k) R Q(H \ {k})	to a hot feature k,
 *		-v R Q(H)					to every cold feature,
 * which is TreeSHAP's unwound path sum with one-fractions 0 or 1.  The plan
 * holds Q for every subset of every leaf's F (2^d values a leaf), so a row
 * costs one walk of the tree and a multiply-add per hot feature per leaf,
 * no division; the cold value is summed up the walk and added once where a
 * feature turns cold.  Trees with more distinct features on a path than
 * SF_TREESHAP_MAX_SLOTS, or past the table budget, are explained by the
 * reference walk instead, inside the same call.
 *
 * One row runs on the calling thread in a fixed order (trees in order, a
 * tree's nodes depth first), so its floats never depend on env->threads:
 * at about 0.8 million instructions a row for 100 trees of depth 6, the
 * pool's per-region thread start would be a large share of the work.
 */
#ifndef SCFRISK_EXPLAIN_TREESHAP_H
#define SCFRISK_EXPLAIN_TREESHAP_H

#include "scfrisk/gbt.h"

/* Distinct features on a path up to which a tree gets tables (2^12 values a leaf). */
#define SF_TREESHAP_MAX_SLOTS	12
/* Default budget of table values of one model (8 bytes each: 32 MB). */
#define SF_TREESHAP_TABLE_BUDGET ((size_t) 1 << 22)

typedef struct sf_treeshap_plan sf_treeshap_plan;

/*
 * Build the plan of trees[0..n_trees) (kept by pointer: they must outlive
 * the plan), each tree's values scaled by 'scale' (1 for a boosted sum,
 * 1/n_trees for a forest's mean), the bias starting at 'base'.  Trees get
 * tables in order while their values fit in table_budget; the others use
 * the reference walk.
 */
extern sf_status sf_treeshap_plan_build(sf_env *env, const gbt_tree *trees, int32_t n_trees,
										double scale, double base, uint32_t n_features,
										size_t table_budget, sf_treeshap_plan **out);

/* Trees of the plan that got tables (the rest use the reference walk). */
extern int32_t sf_treeshap_plan_tabled(const sf_treeshap_plan *p);

/*
 * TreeSHAP of one row x (n_features, NaN = missing) into phi (n_features + 1,
 * bias last): the reference walk's values (sf_treeshap, sf_explain_forest)
 * to rounding.  Allocates a row's scratch through env.
 */
extern sf_status sf_treeshap_plan_run(sf_env *env, const sf_treeshap_plan *p, const double *x,
									  double *phi);

extern void sf_treeshap_plan_free(sf_env *env, sf_treeshap_plan *p);

#endif							/* SCFRISK_EXPLAIN_TREESHAP_H */
