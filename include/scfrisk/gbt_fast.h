/*
 * gbt_fast.h
 *	  The fast row scorer of tree ensembles: every tree padded to a complete
 *	  binary tree of the ensemble's depth and walked level by level with
 *	  implicit children (node k's children are 2k+1 and 2k+2), several trees
 *	  side by side, with no branch per node.
 *
 * Built once when a model is decoded (gbt_model_pack) and kept with the
 * decoded model the server's model cache holds.  It picks exactly the leaf
 * the reference walk (gbt_predict_margin_reference) picks: features are
 * converted to float32, a node sends x left when x < cond, a missing value
 * (NaN) follows the node's default direction.  The direction of a missing
 * value costs nothing per node: each used feature is stored twice per row,
 * with NaN replaced by -inf (read by nodes whose missing values go left:
 * -inf < cond for every cond above -inf) and by +inf (read by the others:
 * +inf < cond is never true), so a node is one float compare.  An ensemble
 * with a split at -inf or NaN, where that substitution would differ from
 * the reference, is not built (the caller keeps the reference walk).
 *
 * Padding: a leaf above the ensemble's depth becomes a subtree whose leaves
 * all hold its value, so whichever way its dummy nodes send a row, the leaf
 * value is the same.  Padding costs memory (2^depth leaves per tree), so the
 * builder declines deep, sparse ensembles (see gbt_fast_build).
 *
 * On a CPU with AVX2, an ensemble of depth at most 6 over at most 32 split
 * features (254 distinct conditions each at most) is scored by the
 * byte-code form built beside the padded nodes (scfrisk/gbt_fast_bins.h):
 * the same leaves, about half the time of the walk.
 */
#ifndef SCFRISK_GBT_FAST_H
#define SCFRISK_GBT_FAST_H

#include "scfrisk/sf_core.h"

struct gbt_tree;
struct gbt_fast_bins;

#define GBT_FAST_MAX_DEPTH	12		/* deeper ensembles keep the walk */
#define GBT_FAST_MAX_USED	1024	/* distinct split features (row scratch on the stack) */

/* Build flags. */
#define GBT_FAST_FORCE		1	/* ignore the size heuristic (tests); hard limits still hold */
#define GBT_FAST_NO_BINS	2	/* never the byte-code scorer: the padded walk (tests, bench) */

/* One padded node: 8 bytes, eight to a cache line. */
typedef struct gbt_fast_node
{
	uint32_t	slot;			/* 2 * (index in used) + 1 when missing goes left */
	float		cond;			/* go left when x < cond */
} gbt_fast_node;

typedef struct gbt_fast
{
	int32_t		n_trees;
	int			depth;			/* every tree padded to this depth (0: single leaves) */
	uint32_t	n_used;			/* distinct features the splits read */
	uint32_t   *used;			/* (n_used) their indices in the input row */
	/*
	 * Trees in groups of 8 (the last group padded with zero trees, read but
	 * never added), the group's trees interleaved: node p of the group's
	 * tree l at nodes[group * 8 * (2^depth - 1) + 8p + l], leaf q at
	 * leaves[group * 8 * 2^depth + 8q + l].
	 */
	gbt_fast_node *nodes;
	float	   *leaves;
	/*
	 * The byte-code scorer (scfrisk/gbt_fast_bins.h) when the CPU and the
	 * ensemble suit it: it then scores every row, the walk above none.
	 */
	struct gbt_fast_bins *bins;
} gbt_fast;

/*
 * Build the fast scorer of n_trees trees reading rows of n_features.
 * Returns SF_OK with *out NULL when the ensemble is not worth padding (depth
 * above GBT_FAST_MAX_DEPTH, more than GBT_FAST_MAX_USED split features, a
 * split condition of -inf or NaN, or, without GBT_FAST_FORCE, more than four
 * times the nodes of the trees and more than 127 per tree); the caller then
 * scores with a walk.  SF_ENOMEM on allocation failure.  The trees must hold
 * the decoders' invariants (children after their parent, features below
 * n_features).
 */
extern sf_status gbt_fast_build(sf_env *env, const struct gbt_tree *trees, int32_t n_trees,
								uint32_t n_features, int flags, gbt_fast **out);
extern void gbt_fast_free(sf_env *env, gbt_fast *f);

/*
 * base plus the leaf values of row x (n_features doubles, NaN = missing),
 * added in float32 in tree order: XGBoost's margin when base is its base
 * margin.
 */
extern float gbt_fast_margin(const gbt_fast *f, const double *x, float base);

/* The sum of the leaf values of row x in double, in tree order (forests). */
extern double gbt_fast_sum(const gbt_fast *f, const double *x);

#endif							/* SCFRISK_GBT_FAST_H */
