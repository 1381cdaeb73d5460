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
 * Interval: the point PD and EL at a loan come from the model; their
 * percentile bootstrap interval at level a is the (1 - a)/2 and (1 + a)/2
 * sample quantiles (type 7, linear interpolation between order
 * statistics) of the replicates' PD and EL at the same loan.
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

/* The risk of one loan with its intervals. */
typedef struct sf_risk_interval
{
	sf_risk_row point;			/* the model's measures at the loan */
	double		pd_lower,
				pd_upper;		/* percentile interval of the replicates' PD */
	double		el_lower,
				el_upper;		/* percentile interval of the replicates' EL */
	double		level;
	size_t		replicates;
} sf_risk_interval;

/*
 * The point measures of 'point' at loan L >= 0 and the percentile intervals
 * of the PD and EL of the replicates reps[0..B) (evaluators built with the
 * same terms) at level.  SF_EINVAL for B < 2 or a level outside (0, 1),
 * SF_EDATA for a negative or non-finite loan.
 */
extern sf_status sf_risk_interval_at(sf_env *env, const sf_risk_eval *point,
									 const sf_risk_eval *const *reps, size_t B, double L,
									 double level, sf_risk_interval *out);

#endif							/* SCFRISK_SF_BOOTSTRAP_H */
