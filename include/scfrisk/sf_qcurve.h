/*
 * sf_qcurve.h
 *	  The piecewise-linear conditional quantile curve that every QRGMM model
 *	  yields for one covariate vector, and its exact functionals.
 *
 * Given the m-1 fitted quantiles q_j(x) at tau_j = j/m, the curve is
 * rearranged (sorted: Chernozhukov, Fernandez-Val and Galichon 2010), given
 * flat tails qa_0 = q_1 and qa_m = q_{m-1}, and interpolated linearly between
 * knots u_j = j/m on the transformed (y) scale.  Sales are S = T^{-1}(y).
 * Quantiles are equivariant under monotone T, so Q_S = T^{-1}(Qhat_y) exactly;
 * the CDF, partial moments and prefix integrals below are exact on the S
 * scale (methods/qrgmm_scf.md sections 2.2, 2.3, 5).  Generation and the
 * risk measures of a loan (sf_risk.h) derive from this curve alone.
 */
#ifndef SCFRISK_SF_QCURVE_H
#define SCFRISK_SF_QCURVE_H

#include "scfrisk/sf_container.h"
#include "scfrisk/sf_core.h"
#include "scfrisk/sf_rng.h"

/* Response transform y = T(S).  Stored in models: never renumber. */
typedef enum sf_transform
{
	SF_TRANSFORM_IDENTITY = 0,	/* y = S (sales may be negative) */
	SF_TRANSFORM_LOG1P = 1		/* y = log(1 + S), S > -1 */
} sf_transform;

/*
 * Tail rule below u = 1/m and above 1 - 1/m.  Stored in models: never
 * renumber.  FLAT is the QRGMM authors' rule (qa_0 = q_1, qa_m = q_{m-1}:
 * atoms of mass 1/m); LINEAR extends the first and last fitted segments to
 * u = 0 and u = 1 (qa_0 = 2 q_1 - q_2, clipped at T(0) = 0 when q_1 >= 0,
 * and qa_m = 2 q_{m-1} - q_{m-2}), the optional extension of
 * methods/qrgmm_scf.md section 2.4: no atoms, and the expected loss of
 * small default probabilities is not cut off at q_1.  EXPONENTIAL fits an
 * exponential tail on the y scale below tau_1, Qhat_y(u) = q_1 + b log(u m),
 * to the knots at levels up to SF_TAIL_FIT_SHARE (least squares of q_j on
 * log j), and sets qa_0 so that the outer segment holds exactly that tail's
 * mean of S (clipped at T(0) = 0 when q_1 >= 0); the upper tail is LINEAR's.
 * Every partial moment from u = 1/m on (EL, CVaR, profit at PD >= 1/m) then
 * integrates the fitted tail; see sf_qcurve_exponential_drop.
 */
typedef enum sf_tail_rule
{
	SF_TAIL_FLAT = 0,
	SF_TAIL_LINEAR = 1,
	SF_TAIL_EXPONENTIAL = 2,
	SF_TAIL_GPD = 3
} sf_tail_rule;

/*
 * The rules a curve builds from its knots alone (every QRGMM kind takes
 * them).  SF_TAIL_GPD also needs a tail fitted on the training rows
 * (sf_qcurve_gpd), which only qrgmm_linear models hold.
 */
#define SF_TAIL_RULE_COUNT	3
#define SF_TAIL_RULE_ALL	4

/* EXPONENTIAL: the lower tail is fitted to the knots at levels <= 2% (at least two) */
#define SF_TAIL_FIT_SHARE	0.02

/* The knot-only rules' parameter names, indexed by sf_tail_rule and NULL-terminated. */
extern const char *const sf_tail_rule_names[];

/* The name of any rule, "gpd" included. */
extern const char *sf_tail_rule_name(sf_tail_rule tail);

/* The "tail" parameter's description, shared by every QRGMM kind's param table. */
#define SF_TAIL_PARAM_DOC \
	"flat: the authors' flat tails (atoms of mass 1/m); linear: extend the first and last " \
	"fitted segments; exponential: an exponential lower tail fitted to the lowest knots " \
	"(the upper tail as linear)"

/* One sentence for model_info: what a curve with this rule resolves below 1/m. */
extern const char *sf_tail_caveat(sf_tail_rule tail);

typedef struct sf_qcurve
{
	int			m;				/* grid parameter: knots at u_j = j/m, j = 0..m */
	sf_transform transform;		/* how y maps back to S */
	sf_tail_rule tail;			/* how qa_0 and qa_m were set */
	double	   *qa;				/* (m+1) sorted knots on the y scale */
	double	   *prefix;			/* (m+1) prefix[j] = integral_0^{j/m} Qhat_S(u) du */
	double	   *eq;				/* (m+1) e^{qa_j} for log1p (NULL for identity): taken once
								 * per knot, read by every functional */
	int			crossings;		/* adjacent pairs out of order before sorting */
} sf_qcurve;

/*
 * Build the curve from q[0..m-2] = fitted quantiles at tau_j = j/m (y scale,
 * any order).  Allocates qa and prefix through env.  Returns SF_EDATA for
 * non-finite q, SF_EINVAL for m < 2.
 */
extern sf_status sf_qcurve_build(sf_env *env, const double *q, int m, sf_transform transform,
								 sf_qcurve *out);

/*
 * A model's tail rule as an optional one-byte section 'tag': written only
 * for rules other than FLAT (so flat models keep the bytes they had before
 * tail rules existed), and read back as FLAT when absent.  Reading returns 0
 * for a section that is present but not one byte naming a non-flat
 * rule (1 otherwise), so every model has exactly one encoding.
 */
extern void sf_qcurve_put_tail(sf_buf *b, uint16_t tag, sf_tail_rule tail);
extern int sf_qcurve_get_tail(const sf_container *c, uint16_t tag, sf_tail_rule *tail);
/* The same accepting rules below 'count' (SF_TAIL_RULE_ALL for a kind that holds a GPD tail). */
extern int sf_qcurve_get_tail_of(const sf_container *c, uint16_t tag, int count, sf_tail_rule *tail);

/* The same with a tail rule (sf_qcurve_build is SF_TAIL_FLAT). */
extern sf_status sf_qcurve_build_tail(sf_env *env, const double *q, int m, sf_transform transform,
									  sf_tail_rule tail, sf_qcurve *out);
extern void sf_qcurve_free(sf_env *env, sf_qcurve *c);

/*
 * EXPONENTIAL's lower tail on sorted knots qa[1..m-1]: the fitted slope b
 * (0 when the lowest knots are flat) and the drop d = q_1 - qa_0 of the
 * outer segment that holds the tail's mean (before clipping at T(0)).
 */
extern void sf_qcurve_exponential_drop(const double *qa, int m, sf_transform transform,
									   double *slope, double *drop);

/*
 * SF_TAIL_GPD: a generalized Pareto lower tail below the threshold knot k
 * (level k/m) with a covariate-dependent scale, extreme-value quantile
 * regression on the y scale (docs/risk.md "The GPD tail"):
 *
 *   Qhat_y(u) = q_k - beta s(x) h(u m / k),  u < k/m,
 *   h(r) = (r^{-xi} - 1) / xi  (h(r) = -log r at xi = 0),
 *
 * where s(x) = q_k2 - q_k > 0 is the spacing of the curve's own sorted
 * knots between the threshold and the body level k2/m.  xi and beta are
 * fitted once, on the exceedances below q_k(x_i) of every training row,
 * standardised by s(x_i) and pooled (sf_qcurve_gpd_fit).  The curve keeps
 * its knots: qa_1..qa_{k-1} become the GPD's quantiles at j/m, and the outer
 * segment holds the GPD's mean of S below 1/m.  A curve whose spacing is
 * not positive (crossed levels) takes the exponential rule instead.
 */
typedef struct sf_qcurve_gpd
{
	int			k;				/* threshold knot, 2 <= k < k2 */
	int			k2;				/* body knot of the spacing, k < k2 <= m - 1 */
	double		xi;				/* shape, [SF_GPD_XI_MIN, SF_GPD_XI_MAX] */
	double		beta;			/* scale in units of s(x), > 0 */
	uint32_t	exceedances;	/* training rows below their threshold quantile */
} sf_qcurve_gpd;

/* The threshold level and the body level of the spacing */
#define SF_GPD_TAIL_SHARE	0.05
#define SF_GPD_BODY_SHARE	0.5
/* PWM (Hosking and Wallis 1987) is reliable for xi < 1/2; shapes are clamped to this range */
#define SF_GPD_XI_MIN		(-0.5)
#define SF_GPD_XI_MAX		0.5
/* Fewer exceedances than this fit the exponential member (xi = 0) */
#define SF_GPD_MIN_EXCEED	30

/* The knots k and k2 for a grid m; 0 when m is too coarse for a GPD tail (k2 <= k). */
extern int	sf_qcurve_gpd_knots(int m, int *k, int *k2);

/*
 * Fit xi and beta by probability-weighted moments on the exceedances of
 * rows i with y[i] < qk[i] and qk2[i] > qk[i], z = (qk[i] - y[i]) /
 * (qk2[i] - qk[i]).  g->k and g->k2 must be set.  SF_ENOMEM only.
 */
extern sf_status sf_qcurve_gpd_fit(sf_env *env, const double *y, const double *qk,
								   const double *qk2, size_t n, sf_qcurve_gpd *g);

/*
 * Do the standardised exceedances z (n) share one law whatever the
 * covariates?  The pooled GPD assumes so.  F test of the regression of z on
 * the design rows (n, p) row-major, column 0 the intercept, at the level
 * 0.001 against F(p - 1, infinity) (chi-square over its degrees of
 * freedom, by Wilson-Hilferty).  *rejected = 1 when the mean exceedance
 * moves with the covariates; 0 when it does not, or when the test has too
 * few rows (n < 10 p) or a singular design.  *f_out (may be NULL) gets the
 * statistic, or 0.  SF_ENOMEM only.
 */
extern sf_status sf_qcurve_gpd_pool_rejected(sf_env *env, const double *z, const double *design,
											 size_t n, int p, int *rejected, double *f_out);

/* The GPD curve (tail SF_TAIL_GPD) from q[0..m-2] as sf_qcurve_build_tail. */
extern sf_status sf_qcurve_build_gpd(sf_env *env, const double *q, int m, sf_transform transform,
									 const sf_qcurve_gpd *gpd, sf_qcurve *out);

/* T^{-1}(y) and T(s) for a transform. */
extern double sf_transform_inverse(sf_transform t, double y);
extern double sf_transform_apply(sf_transform t, double s);

/*
 * The SF_EDATA failure for responses S[0..n) outside log1p's domain: how
 * many are <= -1 and the smallest (no row number: training sorts its rows).
 */
extern sf_status sf_log1p_domain_error(sf_env *env, const double *S, size_t n);

/* Qhat_S(u) for u in [0, 1] (u = 1 gives the top knot). */
extern double sf_qcurve_quantile(const sf_qcurve *c, double u);

/* Fhat_S(s) = P(S < s) (left limit: flat tails are atoms of mass 1/m). */
extern double sf_qcurve_cdf(const sf_qcurve *c, double s);

/* integral_0^p Qhat_S(u) du for p in [0, 1]. */
extern double sf_qcurve_integral(const sf_qcurve *c, double p);

/* Partial moment at s: returns I(s) = integral_0^{F(s)} Qhat_S(u) du, *F = Fhat_S(s). */
extern double sf_qcurve_partial(const sf_qcurve *c, double s, double *F);

/*
 * The same, the segment found by walking up from *seg (start with 0) and
 * left in *seg for the next call: for increasing s this costs m + n steps
 * over n calls.  Any s gives sf_qcurve_partial's result bit for bit (a hint
 * not below s falls back to a binary search).  seg may be NULL.
 */
extern double sf_qcurve_partial_walk(const sf_qcurve *c, double s, double *F, int *seg);

/* Stratified draws out[k] = Qhat_S((k + 0.5)/K), k = 0..K-1 (sorted). */
extern void sf_qcurve_stratified(const sf_qcurve *c, double *out, size_t K);

/* Random draws out[k] = Qhat_S(u_k), u_k ~ U(0,1) from rng. */
extern void sf_qcurve_sample(const sf_qcurve *c, sf_rng *rng, double *out, size_t K);

#endif							/* SCFRISK_SF_QCURVE_H */
