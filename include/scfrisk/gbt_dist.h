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
 *   distinct float32 values with their row counts and weight sums (none
 *   when every weight is 1: the sum is the count), whether
 *   a value is missing, and the label counts.  Merged in shard order, these
 *   give exactly the bin edges gbt_train computes over the union (its cuts
 *   come from a sort of every value: the distinct values with their weights
 *   are the exact summary of that sort).
 * - jobs (coordinator -> shard, in sequence): the first brings the bin
 *   edges; each tree starts with a job that brings the finished tree
 *   before it (the shard adds its leaf values to the margins of its rows
 *   and takes new gradients) and asks for the root's histogram; each later
 *   level brings that level's splits and, per split, which child's
 *   histogram the coordinator wants.
 * - reply (shard -> coordinator): per wanted node its histogram
 *   (gbt_int.h's slot layout, the empty slots left out), with the gradient
 *   and hessian sums for a root (a child's come from the split search), and
 *   the training metric sums when asked.
 *
 * A shard keeps its rows' state between the jobs of one training (a
 * gbt_dist_shard: the bin codes, margins, gradients, each row's node as a
 * range of a row list partitioned as gbt_grow.c partitions it, and the
 * histograms of the level's nodes), so a level costs what it costs on one
 * server: the split nodes' rows partitioned, the smaller child's histogram
 * built and the larger one's taken as the parent's minus it.
 */
#ifndef SCFRISK_GBT_DIST_H
#define SCFRISK_GBT_DIST_H

#include "scfrisk/gbt.h"

/*
 * Shard side.  x (n, p) row-major doubles (float32 values widened; NaN =
 * missing), y (n), w (n) or NULL for unit weights: the shard's rows in its
 * canonical order.  The message is appended to out.
 */
extern sf_status gbt_dist_sketch(sf_env *env, const double *x, const double *y, const double *w,
								 size_t n, uint32_t p, sf_buf *out);

/*
 * The state of one training on one shard.  gbt_dist_shard_new keeps the
 * pointers x, y, w (the host keeps the rows alive and unchanged until
 * gbt_dist_shard_free); every job of the training goes through
 * gbt_dist_shard_step in the coordinator's order (a job out of sequence is
 * refused: the shard lost its state).  Every call uses the same allocator.
 */
typedef struct gbt_dist_shard gbt_dist_shard;

extern sf_status gbt_dist_shard_new(sf_env *env, const double *x, const double *y, const double *w,
									size_t n, uint32_t p, gbt_dist_shard **out);
extern sf_status gbt_dist_shard_step(sf_env *env, gbt_dist_shard *sh, const uint8_t *job,
									 size_t job_len, sf_buf *out);
extern void gbt_dist_shard_free(sf_env *env, gbt_dist_shard *sh);

/* Whether the training's last job (the final tree, no root wanted) was answered: the state may go. */
extern int	gbt_dist_shard_done(const gbt_dist_shard *sh);

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
