/*
 * gbt_int.h
 *	  Internals shared by the files of the tree core (src/gbt_*.c): the
 *	  quantised training matrix, the worker pool, the histogram kernels and
 *	  the split search.  Pure C, no postgres.h.
 */
#ifndef SCFRISK_GBT_INT_H
#define SCFRISK_GBT_INT_H

#include <math.h>

#include "scfrisk/gbt.h"

/*
 * The training rows, quantised once.  Feature j has n_bins[j] bins; bin b
 * holds the values v with cuts[off[j] + b - 1] <= v < cuts[off[j] + b] (as
 * float32), so "bin <= b" is exactly "v < cuts[off[j] + b]", the test the
 * model applies at scoring time.  The code n_bins[j] marks a missing value.
 * A histogram has off[p] slots: feature j's bins at off[j] .. off[j] + n_bins[j]
 * - 1, then its missing slot at off[j] + n_bins[j] (so off[j + 1] = off[j] +
 * n_bins[j] + 1).  When the codes are 16-bit anyway and every histogram
 * index 2 (off[j] + code) fits 16 bits (slots set), the row-major copy holds
 * instead of each value's code that index of its slot's gradient sum, so the
 * histogram kernel adds no offset and no scaling per value (gbt_code takes
 * them off).
 */
typedef struct gbt_bins
{
	size_t		n;				/* rows */
	uint32_t	p;				/* features */
	uint32_t   *n_bins;			/* (p) bins per feature, >= 1 */
	uint32_t   *off;			/* (p + 1) histogram slot offsets */
	float	   *cuts;			/* (off[p]) upper bounds of the bins, per feature at off[j] */
	float	   *min_val;		/* (p) below every training value: the split "all values right" */
	uint8_t    *has_missing;	/* (p) 1 when some training row misses the feature */
	int			wide;			/* codes are uint16_t (else uint8_t) */
	int			slots;			/* codes holds 2 (off[j] + code), uint16_t */
	void	   *codes;			/* (n, p) row-major bin codes (histograms read rows) */
	void	   *codes_t;		/* (p, n) the same codes column-major (partitions read a column) */
} gbt_bins;

/* Task of a parallel region: task index and the worker slot running it. */
typedef void (*gbt_task_fn) (void *ctx, int task, int worker);

/*
 * Run fn(ctx, t, worker) for t in [0, n_tasks) on up to env->threads
 * threads (the caller's thread is worker 0).  Workers block every signal,
 * never allocate, and are joined before return.  Each task must write only
 * its own outputs, so the results do not depend on the thread count.
 */
extern void gbt_parallel(sf_env *env, int n_tasks, gbt_task_fn fn, void *ctx);

/* Workers gbt_parallel would use for n_tasks (scratch sizing). */
extern int	gbt_workers(const sf_env *env, int n_tasks);

/*
 * Quantise x (n, p) row-major into *b: weighted quantile cuts per feature
 * (at most max_bin bins) and the codes.  rows (n_rows) selects the training
 * rows of x (row rows[i] of x becomes row i of b).  w may be NULL.
 */
extern sf_status gbt_bins_build(sf_env *env, const double *x, const double *w, uint32_t p,
								const uint32_t *rows, size_t n_rows, int max_bin, gbt_bins *b);
extern void gbt_bins_free(sf_env *env, gbt_bins *b);

/*
 * Rows per code of every feature: count[off[j] + c] for code c of feature j,
 * its missing slot at off[j] + n_bins[j] (count has off[p] entries).  One
 * pass over the column-major codes, parallel over features.
 */
extern void gbt_bins_count(sf_env *env, const gbt_bins *b, uint64_t *count);

/* Code of row i, feature j. */
static inline uint32_t
gbt_code(const gbt_bins *b, size_t i, uint32_t j)
{
	if (b->slots)
		return ((const uint16_t *) b->codes)[i * b->p + j] / 2u - b->off[j];
	return b->wide ? ((const uint16_t *) b->codes)[i * b->p + j]
		: ((const uint8_t *) b->codes)[i * b->p + j];
}

/* Code of row i, feature j, from the column-major copy. */
static inline uint32_t
gbt_code_t(const gbt_bins *b, size_t i, uint32_t j)
{
	return b->wide ? ((const uint16_t *) b->codes_t)[(size_t) j * b->n + i]
		: ((const uint8_t *) b->codes_t)[(size_t) j * b->n + i];
}

/* A candidate split of one node. */
typedef struct gbt_split
{
	double		loss_chg;		/* gain; <= 0 when none was found */
	uint32_t	feature;
	uint32_t	bin;			/* rows with code <= bin (and not missing) go left */
	int			all_right;		/* "values all go right" split (bin unused) */
	int			default_left;	/* missing rows go left */
	float		cond;			/* split_cond of the model */
	double		gl,
				hl,
				gr,
				hr;				/* sums of the children */
	float		wl,
				wr;				/* clipped child weights (monotone constraints only) */
} gbt_split;

/* XGBoost's leaf weight and gain of a (G, H) pair (src/tree/param.h). */
extern double gbt_calc_weight(const gbt_params *p, double g, double h);
extern double gbt_calc_gain(const gbt_params *p, double g, double h);

/*
 * Histograms of several nodes at once: node k covers rows[begin[k]..end[k])
 * of bins b, its histogram (2 * off[p] doubles: g, h per slot) goes to
 * hist[k] (zeroed here).  gh holds (g, h) per row of b, in float32 as
 * XGBoost keeps them (the sums are double).  Parallel over
 * feature blocks.
 */
extern void gbt_hist_build(sf_env *env, const gbt_bins *b, const float *gh, const uint32_t *rows,
						   int n_nodes, const size_t *begin, const size_t *end, double **hist);

/*
 * Monotone constraints during training (XGBoost 1.7's TreeEvaluator): mono
 * holds -1/0/1 per feature, NULL when the user gave no constraints.  Each
 * node carries bounds [lower, upper] on its (unscaled) weight; a split on a
 * constrained feature is allowed only when the clipped child weights are
 * ordered as the constraint says, and gives its children the bounds split
 * at the mean of those weights.
 */
typedef struct gbt_mono
{
	const int8_t *c;			/* (p) constraint per feature */
	const float *lower;			/* (n_nodes) weight bounds of the nodes searched */
	const float *upper;
} gbt_mono;

/* The weight of (G, H) as a float, clipped to [lower, upper]. */
extern float gbt_mono_weight(const gbt_params *p, double g, double h, float lower, float upper);

/* XGBoost's CalcGainGivenWeight in float: -(2 G w + (H + lambda) w^2). */
extern float gbt_mono_gain(const gbt_params *p, double g, double h, float w);

/*
 * Best split of each of n_nodes nodes from their histograms and totals
 * (g[k], h[k]) over the features with allowed[j] set (allowed NULL: all).
 * scratch holds (n_nodes, p) candidates.  Parallel over features; ties go to the smaller feature, then to the
 * first candidate in XGBoost's enumeration order.  mono is NULL without
 * monotone constraints.
 */
extern void gbt_split_find(sf_env *env, const gbt_bins *b, const gbt_params *prm, int n_nodes,
						   double *const *hist, const double *g, const double *h,
						   const uint8_t *allowed, const gbt_mono *mono, gbt_split *out,
						   gbt_split *scratch);

/* Metric names and the evaluation of a metric on margins (weights may be NULL). */
extern const char *gbt_metric_name(int metric);
extern sf_status gbt_metric_eval(sf_env *env, int metric, int objective, const double *margin,
								 const double *y, const double *w, const uint32_t *rows,
								 size_t n, double *out);

/*
 * The rows of a tree trainer: finite labels (0 or 1 with both classes when
 * binary, the objective's name for the messages, is not NULL), finite
 * weights >= 0 summing above 0 when w is not NULL, no infinite feature.
 */
extern sf_status gbt_check_rows(sf_env *env, const double *x, const double *y, const double *w,
								size_t n, uint32_t p, const char *binary);

/* Allocate or free a tree of n_nodes nodes (all arrays). */
extern sf_status gbt_tree_alloc(sf_env *env, gbt_tree *t, int32_t n_nodes);
extern void gbt_tree_free(sf_env *env, gbt_tree *t);

/* Free n_trees trees and their array (NULL or partly filled: zeroed trees free nothing). */
extern void gbt_trees_free(sf_env *env, gbt_tree *trees, int32_t n_trees);

/* Nodes and leaves of n_trees trees, for model_info. */
extern void gbt_trees_size(const gbt_tree *trees, int32_t n_trees, int64_t *nodes,
						   int64_t *leaves);

/*
 * Free what a model holds (trees, evaluation log, packed and fast scorers)
 * and zero it, not the struct: gbt_model_free and a decoder's failure path.
 */
extern void gbt_model_clear(sf_env *env, gbt_model *m);

/*
 * Invariants of one tree (child indices above the parent and in range, one
 * parent per node, split features below n_features, finite leaf values, no
 * NaN); seen is n_nodes bytes of scratch.  SF_ECORRUPT with a message.
 */
extern sf_status gbt_tree_check(sf_env *env, const gbt_tree *t, uint32_t n_features, uint8_t *seen);

/*
 * Leaf of tree t for row x of the raw matrix: each feature compared as
 * float32 (as training quantised it and XGBoost and scikit-learn compare),
 * NaN down the default side.  The plain walk of the reference scorers and
 * of training's validation rows; inline because every caller loops over
 * trees and rows.
 */
static inline int32_t
gbt_tree_leaf(const gbt_tree *t, const double *x)
{
	int32_t		k = 0;

	while (t->left[k] >= 0)
	{
		float		v = (float) x[t->split_index[k]];

		if (isnan(v))
			k = t->default_left[k] ? t->left[k] : t->right[k];
		else
			k = v < t->split_cond[k] ? t->left[k] : t->right[k];
	}
	return k;
}

#include "scfrisk/sf_rng.h"

#define GBT_RT_EPS	1e-6		/* XGBoost's kRtEps: smallest gain worth a split */
#define GBT_HESS_EPS 1e-16		/* floor of the logistic hessian */
#define GBT_SPLIT_CHUNK 64		/* nodes per split search region */

/* ------------------------------------------------------------ training state */

typedef struct node_work
{
	int32_t		id;				/* node id in the tree being grown */
	size_t		begin,
				end;			/* its rows in work.rows */
	double		g,
				h;				/* gradient and hessian sums */
	double	   *hist;			/* its histogram */
} node_work;

/* One node to partition in a parallel region. */
typedef struct part_job
{
	size_t		begin,
				end;			/* its rows */
	const gbt_split *split;
	size_t		mid;			/* out: first row of the right child */
} part_job;

/*
 * A block of rows of one node's partition (gbt_grow.c): its rows are split
 * into left and right in the scratch arrays, then copied to their places.
 */
typedef struct part_chunk
{
	int			job;			/* the part_job it belongs to */
	size_t		begin,
				end;			/* its rows in work.rows */
	size_t		n_left;			/* out of the first pass */
	size_t		dst_left,
				dst_right;		/* where its left and right rows go */
} part_chunk;

#define GBT_PART_CHUNK 32768	/* rows per partition task */

typedef struct train_work
{
	sf_env	   *env;
	const gbt_params *prm;
	gbt_bins	bins;
	size_t		n;				/* training rows (bins.n) */
	uint32_t	p;
	float	   *gh;				/* (n, 2) gradient, hessian (float32, as XGBoost) */
	uint32_t   *rows;			/* (n) row positions, grouped by node */
	uint32_t   *tmp,
			   *tmp_r;			/* (n) partition scratch: left and right rows of each chunk */
	part_chunk *chunks;			/* (n / GBT_PART_CHUNK + level nodes) partition tasks */
	size_t		n_slots;		/* histogram slots (bins.off[p]) */
	double	  **pool;			/* free histogram buffers */
	int			n_pool,
				cap_pool;
	/* the tree being grown, with capacity for a full tree */
	gbt_tree	t;
	int32_t		cap_nodes;
	uint32_t   *t_bin;			/* split bin per node (training-side routing) */
	uint8_t    *t_allright;		/* split sends every value right */
	/* levels */
	node_work  *cur,
			   *next;
	gbt_split  *splits,
			   *scratch;
	part_job   *part;			/* (level nodes) partitions of a level */
	uint8_t    *allowed;		/* (p) features of the current level */
	uint8_t    *tree_feat;		/* (p) features of the current tree */
	uint32_t   *feat_idx;		/* (p) shuffle scratch */
	int8_t	   *mono;			/* (p) monotone constraints, NULL when none were given */
	float	   *w_lower,
			   *w_upper;		/* (cap_nodes) weight bounds per node id (mono only) */
	float	   *l_lower,
			   *l_upper;		/* (level nodes) the bounds of a level's nodes */
	double	   *lg,
			   *lh;
	size_t	   *lb,
			   *le;
	double	  **lhist;
	sf_rng		rng;
} train_work;


/*
 * Grow one tree on the rows in w->rows[0, n_rows) into w->t.  Leaves hold
 * their row ranges in w->rows afterwards, recorded in leaf_begin/leaf_end
 * (indexed by node id).
 */
extern sf_status gbt_grow_tree(train_work *w, size_t n_rows, size_t *leaf_begin, size_t *leaf_end);

/* Route quantised training row i through the tree being grown: its leaf. */
extern int32_t gbt_route_binned(const train_work *w, size_t i);

/*
 * What the trainer knows of its training rows when it ends, for the drift
 * section (gbt_agg.c): filled by gbt_train_keep only when every input row
 * trained (no early stopping split), else left zeroed (n 0).
 *
 * score[i] is gbt_predict of input row i with the finished model, bit for
 * bit: the trainer adds each tree's float32 leaf value to a float32 margin
 * from the base margin in tree order, as the scorer does, and training
 * routes a row to the leaf scoring routes it to (bin code <= bin is exactly
 * value < split_cond; missing follows default_left).  test/unit/
 * test_gbt_rows.c checks it on every row.  Feature j's quantisation: codes
 * c = 0 .. n_bins[j] - 1 hold the values in [cuts[off[j] + c - 1],
 * cuts[off[j] + c]) (code 0 from min_val[j] up), count[] the rows per code
 * with the missing slot last (gbt_bins_count).
 */
typedef struct gbt_train_rows
{
	size_t		n;				/* rows (every input row), 0 when not kept */
	uint32_t	p;
	double	   *score;			/* (n) gbt_predict of each row */
	uint32_t   *n_bins;			/* (p) codes per feature */
	uint32_t   *off;			/* (p + 1) offsets into cuts and count */
	float	   *cuts;			/* (off[p]) upper bounds of the codes */
	float	   *min_val;		/* (p) below every value of the feature */
	uint64_t   *count;			/* (off[p]) rows per code, missing slot last */
} gbt_train_rows;

/* gbt_train, keeping what *rows describes (NULL: plain gbt_train). */
extern sf_status gbt_train_keep(sf_env *env, const double *x, const double *y, const double *w,
								size_t n, uint32_t p, const gbt_params *params, gbt_model **out,
								gbt_train_rows *rows);
extern void gbt_train_rows_free(sf_env *env, gbt_train_rows *rows);

/*
 * gbt_grow.c's and gbt_train.c's steps that sharded training reuses
 * (gbt_dist*.c): the coordinator grows its trees with them on histograms
 * merged from the shards, a shard partitions its rows with them.
 */
extern double *hist_get(train_work *w);
extern void hist_put(train_work *w, double *h);
extern void sample_features(train_work *w, const uint8_t *src, double share, uint8_t *dst);
extern void partition_level(train_work *w, int n_jobs);
extern void close_leaf(train_work *w, node_work *nd, size_t *leaf_begin, size_t *leaf_end);
extern void find_level_splits(train_work *w, int n_cur);
extern int	apply_level_splits(train_work *w, int n_cur, size_t *leaf_begin, size_t *leaf_end);
extern sf_status alloc_work(sf_env *env, train_work *w, const gbt_params *prm, uint32_t p,
							size_t n_train, int32_t *node_cap);
extern void free_work(train_work *w);
#ifndef SCFRISK_FOREST_H
/* (forest_fit.c, which includes forest.h first, has a static keep_tree of its own) */
extern sf_status keep_tree(train_work *w, gbt_tree *dst);
#endif

#endif							/* SCFRISK_GBT_INT_H */
