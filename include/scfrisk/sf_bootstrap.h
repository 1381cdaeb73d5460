/*
 * sf_bootstrap.h
 *	  The seeded bootstrap of QRGMM models and the percentile interval of the
 *	  risk of one loan (issue 16, docs/risk.md "How sure is the number").
 *
 * Resampling: replicate r of n rows draws n row indices uniformly with
 * replacement (a multinomial resample) from the stream r of an sf_rng seeded
 * by the user's seed, and keeps the counts.  The caller hands the rows in a
 * canonical order (the row store's), so a replicate depends on the multiset
 * of rows, the seed and r only: not on the scan order, the plan or the
 * thread count.  Each replicate is then an ordinary QRGMM fit on the
 * resampled rows (the row i repeated counts[i] times, in the canonical
 * order).
 *
 * Clusters: when rows are grouped (the months of one seller), replicate r
 * draws the G clusters instead, with the same multinomial counts over G, and
 * each drawn cluster brings all its rows; the caller orders the clusters by
 * their key's content and the rows of a cluster canonically, so the
 * replicates stay free of the scan order.
 *
 * Interval: the point PD, EL, VaR and CVaR at a loan come from the model;
 * their percentile bootstrap interval at level a is the (1 - a)/2 and
 * (1 + a)/2 sample quantiles (type 7, linear interpolation between order
 * statistics) of the replicates' measures at the same loan.  The
 * bias-corrected percentile interval (Efron 1987, BCa with acceleration 0)
 * moves both ends by the median bias z0 = Phi^-1(share of replicates below
 * the point): the quantiles at Phi(2 z0 -+ z_{(1+a)/2}).
 */
#ifndef SCFRISK_SF_BOOTSTRAP_H
#define SCFRISK_SF_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>

#include "scfrisk/sf_core.h"
#include "scfrisk/sf_risk.h"
#include "scfrisk/qrgmm.h"

#define SF_BOOT_DEFAULT_REPLICATES	100
#define SF_BOOT_MIN_REPLICATES		2
#define SF_BOOT_MAX_REPLICATES		10000
#define SF_BOOT_DEFAULT_LEVEL		0.9
#define SF_BOOT_MIN_CLUSTERS		10

/* How the ends of an interval are read from the replicates. */
typedef enum sf_boot_method
{
	SF_BOOT_PERCENTILE = 0,		/* (1 -+ a)/2 quantiles */
	SF_BOOT_BC = 1				/* bias-corrected percentile */
} sf_boot_method;

/*
 * counts[0..n) = how often each row is drawn in replicate r (they sum to n).
 * Deterministic in (seed, r, n).
 */
extern void sf_boot_counts(uint64_t seed, uint32_t replicate, size_t n, uint32_t *counts);

/*
 * The resampled rows: row i of X (n, d) and S repeated counts[i] times, in
 * the order of i; Xo is (n, d) and So (n) (the counts sum to n).
 */
extern void sf_boot_rows(const double *X, const double *S, size_t n, uint32_t d,
						 const uint32_t *counts, double *Xo, double *So);

/*
 * The cluster resample: clusters g = 0..G-1 own the rows starts[g] ..
 * starts[g+1] - 1 of X (d columns) and S (rows grouped by cluster, starts has
 * G + 1 entries); cluster g's block is written counts[g] times, in the order
 * of g, into Xo and So.  Returns the rows written; with Xo NULL only counts
 * them (to size Xo and So).
 */
extern size_t sf_boot_cluster_rows(const double *X, const double *S, uint32_t d,
								   const size_t *starts, size_t G, const uint32_t *counts,
								   double *Xo, double *So);

/*
 * Fit replicate r of a cluster bootstrap: draw G cluster counts (seed, r)
 * and sf_qrgmm_fit the cluster resample of X (n, d), S (n) with params.
 * starts NULL means every row is its own cluster (G = n): the row bootstrap.
 */
extern sf_status sf_qrgmm_boot_fit_clusters(sf_env *env, const sf_qrgmm_params *params,
											const double *X, const double *S, size_t n,
											uint32_t d, const size_t *starts, size_t G,
											uint64_t seed, uint32_t replicate,
											sf_qrgmm_model **out);

/*
 * The params every replicate of X (n, d), S (n) fits with: params but the
 * tail.  The gpd rule tests the pooling of the exceedances on independent
 * rows (qrgmm.c); a resample repeats rows, and the cluster bootstrap whole
 * sellers, which that test reads as evidence against pooling, so replicates
 * would switch tail rules at random and the interval would mix two models.
 * The decision is the sample's: one fit of X, S, then every replicate takes
 * the rule the point model took ("gpd_pooled" or "exponential").  Other
 * tails are kept as they are, without a fit.
 */
extern sf_status sf_qrgmm_boot_params(sf_env *env, const sf_qrgmm_params *params,
									  const double *X, const double *S, size_t n, uint32_t d,
									  sf_qrgmm_params *out);

/*
 * Fit replicate r: resample X (n, d), S (n) as above and sf_qrgmm_fit the
 * result with params.  Errors are the fit's (env->msg says which); *out is
 * allocated through env.
 */
extern sf_status sf_qrgmm_boot_fit(sf_env *env, const sf_qrgmm_params *params,
								   const double *X, const double *S, size_t n, uint32_t d,
								   uint64_t seed, uint32_t replicate, sf_qrgmm_model **out);

/*
 * Type-7 sample quantile at probability u in [0, 1] of sorted v[0..n), n >= 1.
 */
extern double sf_boot_quantile(const double *sorted, size_t n, double u);

/*
 * The percentile interval of v[0..n) (any order; sorted in place) at level
 * in (0, 1): *lo, *hi.  SF_EINVAL for a level outside (0, 1) or n < 2,
 * SF_EDATA for a NaN value.
 */
extern sf_status sf_boot_percentile(sf_env *env, double *v, size_t n, double level,
									double *lo, double *hi);

/*
 * The bias-corrected percentile interval of v[0..n) (any order; sorted in
 * place) around the point estimate 'point' at level: z0 = Phi^-1(p0) with p0
 * the share of replicates below the point (ties count half), kept within
 * [1/(2n), 1 - 1/(2n)]; the ends are the quantiles at Phi(2 z0 -+ z) with
 * z = Phi^-1((1 + level)/2).  Errors as sf_boot_percentile.
 */
extern sf_status sf_boot_bc(sf_env *env, double *v, size_t n, double point, double level,
							double *lo, double *hi);

/* The standard normal distribution function and its inverse (u in (0, 1)). */
extern double sf_norm_cdf(double z);
extern double sf_norm_ppf(double u);

/* The measures an interval is given for, in the order of the arrays below. */
typedef enum sf_iv_measure
{
	SF_IV_PD = 0,
	SF_IV_EL,
	SF_IV_VAR,
	SF_IV_CVAR,
	SF_IV_N
} sf_iv_measure;

/* The risk of one loan with its intervals. */
typedef struct sf_risk_interval
{
	sf_risk_row point;			/* the model's measures at the loan */
	double		lower[SF_IV_N],
				upper[SF_IV_N]; /* interval of the replicates' PD, EL, VaR, CVaR */
	double		level;
	size_t		replicates;
	sf_boot_method method;
} sf_risk_interval;

/*
 * The point measures of 'point' at loan L >= 0 and the intervals (method)
 * of the PD, EL, VaR and CVaR of the replicates reps[0..B) (evaluators built
 * with the same terms) at level.  SF_EINVAL for B < 2 or a level outside
 * (0, 1), SF_EDATA for a negative or non-finite loan.
 */
extern sf_status sf_risk_interval_at(sf_env *env, const sf_risk_eval *point,
									 const sf_risk_eval *const *reps, size_t B, double L,
									 double level, sf_boot_method method,
									 sf_risk_interval *out);

#endif							/* SCFRISK_SF_BOOTSTRAP_H */
