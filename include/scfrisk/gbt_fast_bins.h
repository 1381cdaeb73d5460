/*
 * gbt_fast_bins.h
 *	  The byte-code form of the fast tree scorer: for ensembles of depth at
 *	  most 6 over at most 32 split features with at most 254 distinct split
 *	  conditions per feature, every node of every tree is evaluated with
 *	  AVX2 byte compares and the leaf is found from the 63 node outcomes
 *	  with two table lookups (src/trees/gbt_fast_bins.c says why).
 *
 * Exactness: a feature's distinct conditions sorted, c_0 < ... < c_{m-1},
 * and a row's float32 value x (not NaN) coded as its bin
 * b(x) = #{k : c_k <= x}, then x < c_k exactly when b(x) < k + 1, so a node
 * holding code k + 1 sends the row as the float compare would.  A missing
 * value is coded 255, above every bin (at most 254) and not below any code:
 * it goes right.  A node whose missing values go left holds code k + 2 and
 * compares the bin plus one, wrapping: the same outcome for a value, and a
 * missing 255 becomes 0, below every code.  The leaf each tree picks is the
 * reference walk's, and the leaves are added in tree order.
 *
 * Built by gbt_fast_build beside the padded nodes (gbt_fast.h) when the CPU
 * has AVX2 and the ensemble fits; otherwise the padded walk scores.
 */
#ifndef SCFRISK_GBT_FAST_BINS_H
#define SCFRISK_GBT_FAST_BINS_H

#include "scfrisk/sf_core.h"

struct gbt_tree;

#define GBT_BINS_DEPTH		6		/* 63 nodes: outcomes in one 64-bit word */
#define GBT_BINS_MAX_USED	32		/* two 16-byte tables of bins */
#define GBT_BINS_MAX_CUTS	254		/* bins 0..254, 255 missing; codes up to 255 */

typedef struct gbt_fast_bins
{
	int32_t		n_trees;
	uint32_t	n_used;			/* split features (slots of the padded scorer) */
	int			wide;			/* n_used > 16: two 16-byte tables, else one */
	uint32_t   *cut_off;		/* (n_used + 1) slot s's conditions at cuts[cut_off[s] ..] */
	void	   *mem;			/* the one allocation of nodes, leaves and cuts */
	float	   *cuts;			/* in mem, 64-byte aligned like nodes and leaves; per slot:
								 * 16 summary values, then the sorted distinct
								 * conditions in blocks of 16, NaN-padded (gbt_fast_bins.c) */
	/*
	 * Per tree 128 bytes: the table entry of each of its 63 nodes (64
	 * bytes; the slot, plus 64 when missing values go left), then their
	 * codes (64 bytes; k + 1, or k + 2 when missing values go left, each stored
	 * as (code - 1) ^ 0x80 for a signed byte compare).  Nodes in blocks of a depth-3
	 * subtree: the top three levels at bytes 0..6, then the subtree under
	 * level-3 node s at bytes 7 + 7s .. 13 + 7s, each block in level order.
	 */
	uint8_t    *nodes;
	float	   *leaves;			/* (n_trees * 64) the padded leaves, left to right */
} gbt_fast_bins;

/*
 * Whether this CPU runs the byte-code scorer (x86-64 with AVX2).
 */
extern int	gbt_fast_bins_supported(void);

/*
 * Build the byte-code scorer of trees whose split features have slots
 * slot_of[j] (UINT32_MAX: unused) among n_used.  SF_OK with *out NULL when
 * the ensemble does not fit (deeper than GBT_BINS_DEPTH, more than
 * GBT_BINS_MAX_USED slots or GBT_BINS_MAX_CUTS conditions on a feature) or
 * the CPU lacks AVX2.  The trees must hold the decoders' invariants and no
 * split condition may be NaN or -inf (gbt_fast_build's survey).
 */
extern sf_status gbt_fast_bins_build(sf_env *env, const struct gbt_tree *trees, int32_t n_trees,
									 const uint32_t *slot_of, uint32_t n_used, int depth,
									 gbt_fast_bins **out);
extern void gbt_fast_bins_free(sf_env *env, gbt_fast_bins *b);

/* base plus the leaves of row x in float32, in tree order (used: slot -> feature). */
extern float gbt_fast_bins_margin(const gbt_fast_bins *b, const uint32_t *used, const double *x,
								  float base);

/* The sum of the leaves of row x in double, in tree order. */
extern double gbt_fast_bins_sum(const gbt_fast_bins *b, const uint32_t *used, const double *x);

#endif							/* SCFRISK_GBT_FAST_BINS_H */
