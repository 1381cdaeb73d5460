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
	SF_TAIL_EXPONENTIAL = 2
} sf_tail_rule;

#define SF_TAIL_RULE_COUNT	3

/* EXPONENTIAL: the lower tail is fitted to the knots at levels <= 2% (at least two) */
#define SF_TAIL_FIT_SHARE	0.02

/* The rules' parameter names, indexed by sf_tail_rule and NULL-terminated. */
extern const char *const sf_tail_rule_names[];

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

/* Stratified draws out[k] = Qhat_S((k + 0.5)/K), k = 0..K-1 (sorted). */
extern void sf_qcurve_stratified(const sf_qcurve *c, double *out, size_t K);

/* Random draws out[k] = Qhat_S(u_k), u_k ~ U(0,1) from rng. */
extern void sf_qcurve_sample(const sf_qcurve *c, sf_rng *rng, double *out, size_t K);

#endif							/* SCFRISK_SF_QCURVE_H */
