/*
 * gbt_dist.h
 *	  One gradient-boosted model over rows spread across shards, in the
 *	  manner of XGBoost's distributed hist method: the shards summarise and
 *	  histogram their own rows, a coordinator merges the summaries in a fixed
 *	  shard order and grows the trees (issue 20, docs/scale-out.md).
 *
 * The protocol is three byte messages, all written with sf_buf (fixed
 * little-endian layout), so any transport that carries bytes carries them
 * (the server uses pushed-down aggregates through postgres_fdw):
 *
 * - sketch (shard -> coordinator, once): per feature the shard's sorted
 *   distinct float32 values with their row counts and weight sums, whether
 *   a value is missing, and the label counts.  Merged in shard order, these
 *   give exactly the bin edges gbt_train computes over the union (its cuts
 *   come from a sort of every value: the distinct values with their weights
 *   are the exact summary of that sort).
 * - job (coordinator -> shards, once per tree level): the bin edges, the
 *   finished trees, the tree being grown and the nodes whose histograms are
 *   wanted (and whether the training metric of the finished trees is).
 * - reply (shard -> coordinator): per wanted node its row count, gradient
 *   and hessian sums and histogram (gbt_int.h's slot layout), the metric sums.
 *
 * A shard recomputes its rows' margins from the finished trees of each job
 * (rows times trees so far times depth steps), or extends the margins it
 * kept from the previous job (gbt_dist_margins).
 */
#ifndef SCFRISK_GBT_DIST_H
#define SCFRISK_GBT_DIST_H

#include "scfrisk/gbt.h"

/*
 * The margins a shard computed for one set of rows, kept by the host between
 * jobs (the server keeps a few per backend: postgres_fdw runs every job of a
 * training on one connection).  A job whose finished trees start with the
 * trees the cache holds adds only the new trees' leaf values, in the same
 * order, so the margins are the same doubles: a level costs rows times
 * depth steps instead of rows times trees times depth.  The host sets
 * rows_hash and n, owns mt (n doubles) and codes, and sets n_trees to -1 and
 * codes_ok to 0 for a new entry; gbt_dist_shard_hist fills the rest.
 */
typedef struct gbt_dist_margins
{
	uint64_t	rows_hash;		/* gbt_dist_rows_hash of the rows */
	size_t		n;				/* rows */
	int32_t		n_trees;		/* finished trees summed into mt; -1: none yet */
	uint64_t	trees_hash;		/* hash of those trees' bytes in the job */
	float		base_margin;
	double	   *mt;				/* (n) margins */
	/* the rows' bin codes under the job's edges (one training's edges never change) */
	uint16_t   *codes;			/* (n, p) host-owned, or NULL: bins looked up per job */
	int			codes_ok;		/* codes hold the edges of cuts_hash; host sets 0 */
	uint64_t	cuts_hash;
} gbt_dist_margins;

/*
 * Shard side.  x (n, p) row-major doubles (float32 values widened; NaN =
 * missing), y (n), w (n) or NULL for unit weights: the shard's rows in its
 * canonical order.  The message is appended to out.
 */
extern sf_status gbt_dist_sketch(sf_env *env, const double *x, const double *y, const double *w,
								 size_t n, uint32_t p, sf_buf *out);
extern sf_status gbt_dist_shard_hist(sf_env *env, const uint8_t *job, size_t job_len,
									 const double *x, const double *y, const double *w,
									 size_t n, uint32_t p, gbt_dist_margins *cache, sf_buf *out);

/* A 64-bit hash of a shard's rows (every byte of x, y and w), the key of a gbt_dist_margins. */
extern uint64_t gbt_dist_rows_hash(const double *x, const double *y, const double *w, size_t n,
								   uint32_t p);

/*
 * The coordinator's transport: send one job to every shard and return the
 * replies of the shards that hold rows, always in the same shard order
 * (*replies and *lens stay owned by the host until the next call).
 */
typedef struct gbt_dist_io
{
	sf_status	(*exchange) (void *ctx, const uint8_t *job, size_t job_len, int *n_replies,
							 const uint8_t *const **replies, const size_t **lens);
	void	   *ctx;
} gbt_dist_io;

/*
 * Coordinator: merge the n_sketches sketches (in the order given) into the
 * bin edges, then train as gbt_train does over the union of the rows,
 * fetching histograms through io.  Not supported (SF_EINVAL): subsample < 1
 * and early stopping (both draw rows by their position in the union),
 * eval_metric auc (needs every margin).  *out is allocated through env.
 */
extern sf_status gbt_dist_train(sf_env *env, const gbt_params *prm, const uint8_t *const *sketches,
								const size_t *sketch_lens, int n_sketches, const gbt_dist_io *io,
								gbt_model **out);

#endif							/* SCFRISK_GBT_DIST_H */
