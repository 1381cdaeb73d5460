/*
 * logreg_dist.h
 *	  One logistic regression over rows kept on several shards
 *	  (logreg_train_sharded, docs/scale-out.md): logreg_fit's Newton
 *	  iterations on the coordinator, the row sums of each step from the
 *	  shards.  Pure C, no postgres.h; the transport is the host's
 *	  (gbt_dist_io: the same one-job, one-reply-per-shard exchange as the
 *	  sharded tree trainer).
 *
 * Messages, little-endian (sf_buf / sf_reader):
 *	  summary (a shard's answer to its rows' load): "LDS1", u32 d, u64 n,
 *		  u64 labels 1, d x f64 column sums in row order;
 *	  job: "LDJ1", u8 op, then for LOSS and GRAD u32 k, f64 C, k x f64 theta;
 *	  reply: "LDR1", u8 op, then LOSS: f64 sum_i softplus(z_i) - y_i z_i;
 *		  GRAD: k x f64 C X~'(p - y), k (k + 1) / 2 x f64 the lower triangle
 *		  of C X~'DX~ by rows; LOSS_GRAD: LOSS's then GRAD's; END: nothing.
 */
#ifndef SCFRISK_LOGREG_DIST_H
#define SCFRISK_LOGREG_DIST_H

#include "scfrisk/gbt_dist.h"
#include "scfrisk/logreg.h"

#define LOGREG_DIST_LOSS	1	/* the loss sum at theta (objective, line search) */
#define LOGREG_DIST_GRAD	2	/* gradient and Hessian sums at theta */
#define LOGREG_DIST_END		3	/* the training is over: the shard may drop its rows */
#define LOGREG_DIST_LOSS_GRAD	4	/* LOSS, then GRAD at the same theta, in one reply */

/* ---------------------------------------------------------------- shard */

/*
 * The rows of one training on one shard: x (n, d) row-major and y (n),
 * borrowed (they must outlive the state), checked as logreg_fit checks
 * them (labels 0 or 1, finite features) but one class alone is fine here.
 */
typedef struct logreg_dist_shard
{
	const double *x,
			   *y;
	size_t		n;
	int			d;
	size_t		pos;			/* rows labelled 1 */
	int			done;			/* the END job came */
} logreg_dist_shard;

extern sf_status logreg_dist_shard_init(sf_env *env, const double *x, const double *y, size_t n,
										int d, logreg_dist_shard *sh);
/* The summary of the shard's rows into b. */
extern void logreg_dist_summary(const logreg_dist_shard *sh, sf_buf *b);
/* The reply to one job into b; a malformed job is SF_ECORRUPT. */
extern sf_status logreg_dist_shard_step(sf_env *env, logreg_dist_shard *sh, const uint8_t *job,
										size_t len, sf_buf *b);

/* ---------------------------------------------------------- coordinator */

/* The union of the shards' summaries. */
typedef struct logreg_dist_totals
{
	int			d;
	uint64_t	n,
				pos;
	double	   *sum;			/* (d) column sums, shard by shard in the given order */
} logreg_dist_totals;

/*
 * Merge the ns summaries in the given order; a width that differs between
 * shards or a malformed summary is an error.  tot->sum is allocated
 * through env (logreg_dist_totals_free).
 */
extern sf_status logreg_dist_merge(sf_env *env, const uint8_t *const *sum, const size_t *len, int ns,
								   logreg_dist_totals *tot);
extern void logreg_dist_totals_free(sf_env *env, logreg_dist_totals *tot);

/*
 * Read a shard's reply to op: count doubles into out (1 for LOSS, k + k (k
 * + 1) / 2 for GRAD, one more for LOSS_GRAD, 0 for END); anything else is
 * SF_ECORRUPT.
 */
extern sf_status logreg_dist_read_reply(sf_env *env, const uint8_t *buf, size_t len, int op,
										size_t count, double *out);

/*
 * logreg_fit over the union of the rows the shards hold (tot from their
 * summaries; n_shards of them answer every job through io), then the END
 * job.  The checks are logreg_fit's (shape, both classes), so are the
 * messages.  *out as logreg_fit's.
 */
extern sf_status logreg_dist_fit(sf_env *env, const logreg_params *p, const logreg_dist_totals *tot,
								 int n_shards, const gbt_dist_io *io, logreg_model *out);

#endif							/* SCFRISK_LOGREG_DIST_H */
