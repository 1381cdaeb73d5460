/*
 * sf_governance.h
 *	  Model governance cores: the training distributions stored for drift
 *	  monitoring (population and characteristic stability indices), and
 *	  probability calibration (Platt scaling, isotonic regression, the
 *	  reliability table).  Pure C, no postgres.h.
 *
 * Both live in optional common sections of the model container, so every
 * kind carries them the same way and models without them still decode:
 *
 *	  SF_TAG_DRIFT        written by every classifier's training aggregate:
 *	                      deciles of the training score on the margin scale
 *	                      and deciles of every feature, each with the share
 *	                      of training rows per bin and the missing share
 *	  SF_TAG_CALIBRATION  written by scfrisk.calibrate: a Platt sigmoid or an
 *	                      isotonic step function on the margin scale
 *
 * docs/format.md documents the bytes; docs/governance.md the SQL.
 */
#ifndef SCFRISK_SF_GOVERNANCE_H
#define SCFRISK_SF_GOVERNANCE_H

#include "scfrisk/sf_container.h"
#include "scfrisk/sf_params.h"

#define SF_DRIFT_VERSION	1
#define SF_DRIFT_QUANTILES	10		/* deciles */
#define SF_DRIFT_MAX_QUANTILES	64	/* most quantile bins sf_dist_build makes */
#define SF_DRIFT_MAX_BINS	65536	/* most bins a decoder accepts: a tree feature's thresholds + 1 */
#define SF_PSI_FLOOR		1e-4	/* a share of 0 counts as this in the PSI formula */
#define SF_SHARE_SLACK		1e-9	/* shares must sum to 1 within this */

/* The scale a model's score is binned on. */
#define SF_SCALE_IDENTITY	0		/* the score as it is (regression) */
#define SF_SCALE_LOGIT		1		/* log(p / (1 - p)) of a probability: the margin */

/*
 * A binned distribution: value v falls in bin i when edges[i-1] <= v <
 * edges[i] (bin 0: v < edges[0]; the last bin: v >= edges[n_bins-2]), a
 * NaN in the missing slot.  share[i] and missing are shares of all rows, so
 * they sum to 1.
 */
typedef struct sf_dist
{
	uint32_t	n_bins;			/* >= 1 */
	double	   *edges;			/* (n_bins - 1) strictly increasing, finite */
	double	   *share;			/* (n_bins) training share per bin */
	double		missing;		/* training share of missing values */
} sf_dist;

/* The drift section: the score's and every feature's training distribution. */
typedef struct sf_drift
{
	int			scale;			/* SF_SCALE_* of the score */
	uint64_t	rows;			/* training rows the distributions count */
	sf_dist		score;
	uint32_t	n_features;
	sf_dist    *features;		/* (n_features) */
} sf_drift;

/* The score of probability or value s on a scale (logit: +-inf at 0 and 1). */
extern double sf_scale_score(int scale, double s);

/*
 * Distribution of n values v[i * stride] (NaN = missing): the distinct
 * finite values above the minimum among the order statistics at k / n_q
 * (k = 1 .. n_q - 1) of the present values are the edges (the order
 * statistic at k / n_q is the sorted value at index floor(k m / n_q) of m
 * present values), the shares are counted.  Allocated
 * through env (sf_dist_free).
 */
extern sf_status sf_dist_build(sf_env *env, const double *v, size_t n, size_t stride,
							   uint32_t n_q, sf_dist *out);
extern void sf_dist_free(sf_env *env, sf_dist *d);

/*
 * Distribution of n values v[i * stride] on given edges (ne strictly
 * increasing finite values, ne + 1 bins), the shares counted as
 * sf_dist_build counts them.  Allocated through env (sf_dist_free).
 */
extern sf_status sf_dist_build_on(sf_env *env, const double *v, size_t n, size_t stride,
								  const double *edges, uint32_t ne, sf_dist *out);

/*
 * Values already counted per code (a trainer's quantisation): code c holds
 * count[c] values in [upper[c - 1], upper[c]), code 0 from lower up;
 * missing values are not coded.
 */
typedef struct sf_dist_codes
{
	uint32_t	n_codes;
	const float *upper;			/* (n_codes) upper bounds, increasing */
	float		lower;			/* at or below every value of code 0 */
	const uint64_t *count;		/* (n_codes) values per code */
	uint64_t	missing;		/* rows without a value */
} sf_dist_codes;

/*
 * True when no edge (ne increasing values) falls strictly inside a code
 * that holds values, so every value of a code lies in one bin of the edges:
 * sf_dist_build_codes then gives exactly what sf_dist_build_on gives on
 * the values.
 */
extern int	sf_dist_codes_fit(const sf_dist_codes *c, const double *edges, uint32_t ne);

/*
 * sf_dist_build_on of the n = sum(count) + missing coded rows, from the
 * counts (SF_EINVAL when the codes do not fit the edges).
 */
extern sf_status sf_dist_build_codes(sf_env *env, const sf_dist_codes *c, const double *edges,
									 uint32_t ne, sf_dist *out);

/*
 * The bins a tree ensemble already has: the distinct split thresholds of
 * every feature over the trees' internal nodes (a tree sends x left when
 * x < threshold, so every row of one bin takes the same branch at every
 * node of every tree).  Feature j's sorted thresholds are edges[off[j] ..
 * off[j + 1]); off (p + 1) and edges are allocated through env.  trees is an
 * array of n_trees gbt_tree (scfrisk/gbt.h), split features below p.
 */
struct gbt_tree;
extern sf_status sf_drift_tree_edges(sf_env *env, const struct gbt_tree *trees, int32_t n_trees,
									 uint32_t p, uint32_t **off, double **edges);

/* Bin of v: 0 .. n_bins - 1, or n_bins (the missing slot) for NaN. */
extern uint32_t sf_dist_bin(const sf_dist *d, double v);

/*
 * Population stability index of counts (n_bins + 1 slots, the last one
 * missing) against d: sum over slots of (a - e) ln(a / e), a the live share,
 * e the training share, each floored at SF_PSI_FLOOR when the other is not
 * 0 (a slot empty on both sides adds 0).  actual and contrib (n_bins + 1
 * each, or NULL) receive the live shares and the terms.  NaN for no rows.
 */
extern double sf_psi(const sf_dist *d, const uint64_t *counts, double *actual, double *contrib);

/* Section body of SF_TAG_DRIFT appended to b. */
extern void sf_drift_encode(const sf_drift *d, sf_buf *b);

/*
 * Decode a drift section body (n_features must match the model's width),
 * checking every invariant; SF_ECORRUPT with a message.  sf_drift_free.
 */
extern sf_status sf_drift_decode(sf_env *env, const uint8_t *data, size_t len,
								 uint32_t n_features, sf_drift *out);
extern void sf_drift_free(sf_env *env, sf_drift *d);

/* ------------------------------------------------------------ calibration */

#define SF_CALIB_VERSION	1
#define SF_CALIB_NONE		0
#define SF_CALIB_PLATT		1
#define SF_CALIB_ISOTONIC	2
#define SF_CALIB_MAX_POINTS	10000000	/* isotonic knots a decoder accepts */

/*
 * A calibration map from the margin f to a probability.  Platt: p = 1 / (1
 * + exp(a f + b)), scikit-learn's sign convention.  Isotonic: linear
 * interpolation through (x[i], y[i]), x strictly increasing, y
 * non-decreasing in [0, 1], constant beyond the ends (scikit-learn's
 * IsotonicRegression with out_of_bounds="clip").
 */
typedef struct sf_calib
{
	int			method;			/* SF_CALIB_* */
	double		a,
				b;				/* Platt */
	uint32_t	n;				/* isotonic knots, >= 1 */
	double	   *x,
			   *y;
	uint64_t	rows;			/* rows the map was fitted on */
} sf_calib;

/* Method from its name ("platt", "isotonic"): SF_CALIB_* or -1. */
extern int	sf_calib_method(const char *name);
extern const char *sf_calib_method_name(int method);

/*
 * The parts of Platt's Newton method (Lin, Lin and Weng 2007) that
 * calibration and the SVM's probabilities (LIBSVM's sigmoid_train) share:
 * the negative log-likelihood of targets t at (a, b), computed stably, and
 * one step from (*a, *b) whose objective is *fval, given the gradient g
 * (d/da, d/db) and the Hessian h (h11, h21, h22): the Newton direction, then
 * a backtracking line search (Armijo 1e-4, halving down to 1e-10).  The
 * step returns 0 when no step size decreases the objective (at the optimum
 * to rounding), leaving the point as it was.
 */
extern double sf_platt_loss(const double *f, const double *t, size_t n, double a, double b);
extern int	sf_platt_step(const double *f, const double *t, size_t n, const double g[2],
						  const double h[3], double *a, double *b, double *fval);

/*
 * Platt scaling on margins f and labels y (0/1, both present), n rows:
 * maximum likelihood with Platt's smoothed targets ((n1 + 1) / (n1 + 2),
 * 1 / (n0 + 2)), as scikit-learn's _sigmoid_calibration, by Newton's
 * method with a backtracking line search (Lin, Lin and Weng 2007).
 */
extern sf_status sf_calib_fit_platt(sf_env *env, const double *f, const double *y, size_t n,
									sf_calib *out);

/*
 * Isotonic regression of y on f (non-decreasing), ties of f pooled first
 * (weighted mean), by pool-adjacent-violators; knots kept where
 * scikit-learn keeps them (both ends of each constant run).
 */
extern sf_status sf_calib_fit_isotonic(sf_env *env, const double *f, const double *y, size_t n,
									   sf_calib *out);

/* The calibrated probability at margin f (NaN stays NaN). */
extern double sf_calib_apply(const sf_calib *c, double f);

extern void sf_calib_encode(const sf_calib *c, sf_buf *b);
extern sf_status sf_calib_decode(sf_env *env, const uint8_t *data, size_t len, sf_calib *out);
extern void sf_calib_free(sf_env *env, sf_calib *c);

/*
 * Reliability table of n (label, probability) pairs over n_bins equal-width
 * bins of [0, 1] (a probability on an inner edge falls in the lower bin, as
 * scikit-learn's calibration_curve): per bin the count, the mean
 * probability and the observed rate (NaN for an empty bin); *ece the
 * expected calibration error sum_b n_b / n |rate_b - mean_b| and *mce the
 * largest such gap.  Counts (n_bins), sums of probabilities and labels are
 * the caller's running totals, so the table is built in one pass.
 */
extern void sf_calib_table(uint32_t n_bins, const uint64_t *count, const double *sum_p,
						   const double *sum_y, double *mean_p, double *rate, double *ece,
						   double *mce);

/* Equal-width bin of probability p among n_bins (p in [0, 1]). */
extern uint32_t sf_calib_table_bin(uint32_t n_bins, double p);

/* ------------------------------------------------------------ calibration at training */

/*
 * "calibrate": "platt" | "isotonic" as a training parameter of the
 * classifiers: the trainer fits the calibration map on out-of-fold scores
 * (calibrate_folds folds, a row's fold scfrisk.row_fold of its stored
 * features and label with seed 0), never on the training rows' in-sample
 * scores, then stores it in SF_TAG_CALIBRATION of the model trained on every
 * row (scikit-learn's CalibratedClassifierCV with ensemble=False).  Both keys
 * are transient in the params JSON: the section itself says what was done,
 * and a model trained without them keeps its bytes.
 */
#define SF_CALIB_DEFAULT_FOLDS	5
#define SF_CALIB_MAX_FOLDS		20
#define SF_CALIB_MAX_MARGIN		40.0	/* |margin| a probability of 0 or 1 counts as */

extern const char *const sf_calib_choices[];	/* "none", "platt", "isotonic" */

/* The two param specs of a trainer's table, for fields of struct 'type'. */
#define SF_CALIB_PARAM_SPECS(type, method_field, folds_field) \
	{"calibrate", SF_PT_ENUM, offsetof(type, method_field), SF_CALIB_NONE, 0, 0, 0, 0, \
	sf_calib_choices, NULL, \
	"none, platt or isotonic: a calibration map fitted on out-of-fold scores, applied by predict", 1}, \
	{"calibrate_folds", SF_PT_INT, offsetof(type, folds_field), SF_CALIB_DEFAULT_FOLDS, 2, \
	SF_CALIB_MAX_FOLDS, 0, 0, NULL, NULL, "folds of the out-of-fold scores calibrate is fitted on", 1}

/*
 * The margin a calibration map reads for probability p: logit(p), clamped
 * to [-SF_CALIB_MAX_MARGIN, SF_CALIB_MAX_MARGIN] (a pure leaf's 0 or 1 has
 * a finite place; no probability strictly inside (0, 1) above 1e-17 is moved).
 */
extern double sf_calib_margin(double p);

/*
 * Train a model on rows (x, y) of n rows and p features and write the
 * probabilities it gives the ns rows xs into prob.  Called once per fold.
 */
typedef sf_status (*sf_calib_fold_fn) (void *ctx, sf_env *env, const double *x, const double *y,
									   size_t n, const double *xs, size_t ns, double *prob);

/*
 * Fit a calibration map of 'method' on out-of-fold probabilities of rows
 * (x, y), n rows of p features: fold k's rows are scored by a model fit
 * trained on the other folds' rows (in their order in x), the margins of
 * all rows (sf_calib_margin) and labels then fit the map.  SF_EDATA when a
 * fold is empty or its training rows hold one class only.
 */
extern sf_status sf_calib_fit_oof(sf_env *env, const double *x, const double *y, size_t n,
								  uint32_t p, int method, int folds, sf_calib_fold_fn fit,
								  void *ctx, sf_calib *out);

/* ------------------------------------------------------------ sections */

/*
 * Model bytes with section 'tag' set to data (len bytes): the container is
 * decoded (checked), the section replaced or inserted in tag order, the
 * checksum recomputed, into b (initialised by the caller).
 */
extern sf_status sf_container_set_section(sf_env *env, const uint8_t *model, size_t model_len,
										  uint16_t tag, const uint8_t *data, size_t len, sf_buf *b);

/* The common sections' checks, called by sf_container_decode. */
extern sf_status sf_drift_check(sf_env *env, const uint8_t *data, size_t len, uint32_t n_features);
extern sf_status sf_calib_check(sf_env *env, const uint8_t *data, size_t len);

#endif							/* SCFRISK_SF_GOVERNANCE_H */
