/*
 * qcurve.c
 *	  The piecewise-linear QRGMM quantile curve and its exact functionals
 *	  (declared in sf_qcurve.h).
 *
 * A curve holds m+1 sorted knots qa_0..qa_m on the transformed (y) scale at
 * u_j = j/m.  Between knots Qhat_y is linear; the first and last segments are
 * flat (qa_0 = q_1, qa_m = q_{m-1}), which is the QRGMM authors' tail rule,
 * or extend the neighbouring fitted segments (SF_TAIL_LINEAR, sf_qcurve.h), or
 * below tau_1 hold a fitted exponential tail's mean (SF_TAIL_EXPONENTIAL), or
 * below the level 0.05 follow a fitted generalized Pareto tail (SF_TAIL_GPD).
 * Sales are S = T^{-1}(y); since T is monotone, Qhat_S = T^{-1}(Qhat_y) and
 * Fhat_S(s) = Fhat_y(T(s)) exactly.  Partial moments integrate T^{-1} of each
 * linear segment in closed form (methods/qrgmm_scf.md section 2.3):
 *
 *	identity: integral of a segment over a width w in u starting at knot j
 *			  = w * qa_j + m * D_j * w^2 / 2
 *	log1p:	  = w * (e^{qa_j} * phi(d) - 1), d = m * w * D_j,
 *			  phi(d) = expm1(d) / d (phi(0) = 1)
 *
 * The phi form is the section's (e^{qa_{j+1}} - e^{qa_j}) / (m D_j) - 1/m
 * rewritten so that flat segments (D_j = 0) and tiny ones lose no digits.
 * prefix[j] caches integral_0^{j/m} Qhat_S, so every functional costs one
 * binary search and O(1) arithmetic.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_qcurve.h"
#include "scfrisk/sf_blas.h"

/* Largest log1p-scale knot whose expm1 stays finite with room to spare. */
#define QCURVE_LOG1P_MAX	700.0

/*
 * Mean of e^y over a linear run of y from y0 to y0 + d: e^{y0} expm1(d) / d,
 * continuous at d = 0.  For a long run the product form would be 0 * inf
 * (e^{y0} underflowing, expm1(d) overflowing), so there it is the
 * difference of the end values, which the knots keep finite (at most
 * QCURVE_LOG1P_MAX) and which no longer cancels.
 */
static inline double
mean_exp_e(double y0, double e0, double d)
{
	if (fabs(d) < 1e-8)
		return e0 * (1.0 + 0.5 * d);
	if (fabs(d) < 32.0)
		return e0 * (expm1(d) / d);
	return (exp(y0 + d) - e0) / d;
}

/* The same with e0 = e^{y0} computed here (a curve keeps e^{qa_j}: see eq). */
static inline double
mean_exp(double y0, double d)
{
	return mean_exp_e(y0, exp(y0), d);
}

/*
 * Integral over u in [j/m, j/m + w] of Qhat_S, for 0 <= w <= 1/m, where the
 * segment starts at knot value y0 and has slope D (per 1/m of u) on y scale.
 */
static inline double
segment_integral(sf_transform t, int m, double y0, double D, double w)
{
	if (w <= 0.0)
		return 0.0;
	if (t == SF_TRANSFORM_LOG1P)
		return w * (mean_exp(y0, (double) m * w * D) - 1.0);
	return w * y0 + 0.5 * (double) m * D * w * w;
}

double
sf_transform_inverse(sf_transform t, double y)
{
	if (t == SF_TRANSFORM_LOG1P)
		return expm1(y);
	return y;
}

double
sf_transform_apply(sf_transform t, double s)
{
	if (t == SF_TRANSFORM_LOG1P)
	{
		if (s <= -1.0)
			return -INFINITY;
		return log1p(s);
	}
	return s;
}

sf_status
sf_log1p_domain_error(sf_env *env, const double *S, size_t n)
{
	size_t		bad = 0,
				i;
	double		smallest = INFINITY;

	for (i = 0; i < n; i++)
		if (S[i] <= -1.0)
		{
			bad++;
			smallest = fmin(smallest, S[i]);
		}
	return sf_fail(env, SF_EDATA,
				   "%zu response%s <= -1 (the smallest is %g), where log1p is undefined (use \"transform\": \"identity\")",
				   bad, bad == 1 ? " is" : "s are", smallest);
}

sf_status
sf_qcurve_build(sf_env *env, const double *q, int m, sf_transform transform,
				sf_qcurve *out)
{
	return sf_qcurve_build_tail(env, q, m, transform, SF_TAIL_FLAT, out);
}

static void exponential_tail(double *qa, int m, sf_transform transform);
static int	gpd_tail(double *qa, int m, sf_transform transform, const sf_qcurve_gpd *g);

/* The curve with a tail rule; gpd holds the fitted tail of SF_TAIL_GPD. */
static sf_status
build_curve(sf_env *env, const double *q, int m, sf_transform transform,
			sf_tail_rule tail, const sf_qcurve_gpd *gpd, sf_qcurve *out)
{
	double	   *qa;
	double	   *prefix;
	double	   *eq;
	int			j;
	int			crossings = 0;

	out->m = 0;
	out->qa = NULL;
	out->prefix = NULL;
	out->eq = NULL;
	out->crossings = 0;
	out->transform = transform;
	out->tail = tail;
	if ((int) tail < 0 || (int) tail >= SF_TAIL_RULE_ALL)
		return sf_fail(env, SF_EINVAL, "unknown tail rule %d", (int) tail);
	if (tail == SF_TAIL_GPD && gpd == NULL)
		return sf_fail(env, SF_EINVAL, "the gpd tail rule needs a tail fitted on training rows");
	if (m < 2)
		return sf_fail(env, SF_EINVAL, "quantile curve needs m >= 2, got %d", m);
	if (transform != SF_TRANSFORM_IDENTITY && transform != SF_TRANSFORM_LOG1P)
		return sf_fail(env, SF_EINVAL, "unknown response transform %d", (int) transform);
	for (j = 0; j < m - 1; j++)
	{
		if (!isfinite(q[j]))
			return sf_fail(env, SF_EDATA, "fitted quantile %d of %d is not finite", j + 1, m - 1);
		if (j > 0 && q[j] < q[j - 1])
			crossings++;
	}
	/* one block: qa, prefix and eq, each (m+1), every element written below */
	qa = sf_malloc(env, 3 * ((size_t) m + 1) * sizeof(double));
	if (qa == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory building a quantile curve of %d knots", m + 1);
	prefix = qa + m + 1;
	eq = prefix + m + 1;
	for (j = 0; j < m - 1; j++)
		qa[j + 1] = q[j];
	/* monotone rearrangement (Chernozhukov, Fernandez-Val, Galichon 2010) */
	if (crossings > 0)
		qsort(qa + 1, (size_t) m - 1, sizeof(double), sf_cmp_double);
	qa[0] = qa[1];
	qa[m] = qa[m - 1];
	if (tail != SF_TAIL_FLAT && m >= 3)
	{
		/*
		 * Extend the first and last fitted segments (with m = 2 there is one
		 * knot and the tails stay flat), or below tau_1 hold a fitted tail's
		 * mean.  T(0) = 0 for both transforms, so a curve whose first knot
		 * is at or above zero sales stays there.
		 */
		if (tail == SF_TAIL_GPD && gpd_tail(qa, m, transform, gpd))
			;
		else if (tail == SF_TAIL_EXPONENTIAL || tail == SF_TAIL_GPD)
			exponential_tail(qa, m, transform);
		else
			qa[0] = 2.0 * qa[1] - qa[2];
		if (qa[1] >= 0.0 && qa[0] < 0.0)
			qa[0] = 0.0;
		qa[m] = 2.0 * qa[m - 1] - qa[m - 2];
	}
	if (!isfinite(qa[0]) || !isfinite(qa[m]))
	{
		double		lo = qa[1],
					hi = qa[m - 1];

		sf_free(env, qa);
		return sf_fail(env, SF_EDATA,
					   "the tails of fitted quantiles %.6g to %.6g overflow float8", lo, hi);
	}
	if (transform == SF_TRANSFORM_LOG1P && qa[m] > QCURVE_LOG1P_MAX)
	{
		double		top = qa[m];

		sf_free(env, qa);
		return sf_fail(env, SF_EDATA,
					   "quantile %.6g on the log1p scale overflows float8 when transformed back",
					   top);
	}
	prefix[0] = 0.0;
	if (transform == SF_TRANSFORM_LOG1P)
	{
		/*
		 * segment_integral's log1p branch at w = 1/m, with e^{qa_j} taken
		 * once per knot and kept in eq: the functionals at every loan read
		 * it instead of calling exp again.  Same operations, same bits.
		 */
		double		w = 1.0 / (double) m;
		double		mw = (double) m * w;

		for (j = 0; j <= m; j++)
			eq[j] = exp(qa[j]);
		for (j = 0; j < m; j++)
			prefix[j + 1] = prefix[j] + w * (mean_exp_e(qa[j], eq[j], mw * (qa[j + 1] - qa[j])) - 1.0);
	}
	else
		for (j = 0; j < m; j++)
			prefix[j + 1] = prefix[j] + segment_integral(transform, m, qa[j], qa[j + 1] - qa[j],
														 1.0 / (double) m);
	out->m = m;
	out->qa = qa;
	out->prefix = prefix;
	out->eq = transform == SF_TRANSFORM_LOG1P ? eq : NULL;
	out->crossings = crossings;
	return SF_OK;
}

sf_status
sf_qcurve_build_tail(sf_env *env, const double *q, int m, sf_transform transform,
					 sf_tail_rule tail, sf_qcurve *out)
{
	return build_curve(env, q, m, transform, tail, NULL, out);
}

sf_status
sf_qcurve_build_gpd(sf_env *env, const double *q, int m, sf_transform transform,
					const sf_qcurve_gpd *gpd, sf_qcurve *out)
{
	return build_curve(env, q, m, transform, SF_TAIL_GPD, gpd, out);
}

/*
 * The drop d >= 0 of the outer log1p segment [q_1 - d, q_1] whose mean of
 * e^y is r e^{q_1} (0 < r < 1): (1 - e^{-d}) / d = r, bisected to full
 * precision in a bracket [lo, hi] that holds the root.  The left side falls
 * from 1 at d = 0 and stays below 1/d, so [0, 1/r] always does.
 */
static double
log1p_drop(double r, double lo, double hi)
{
	int			it;

	for (it = 0; it < 200 && hi - lo > 1e-15 * hi; it++)
	{
		double		d = 0.5 * (lo + hi);

		if (-expm1(-d) / d > r)
			lo = d;
		else
			hi = d;
	}
	return 0.5 * (lo + hi);
}

static void
exponential_tail(double *qa, int m, sf_transform transform)
{
	double		slope,
				drop;

	sf_qcurve_exponential_drop(qa, m, transform, &slope, &drop);
	qa[0] = qa[1] - drop;
}

/*
 * The exponential lower tail.  Below tau_1 = 1/m the data resolve nothing,
 * yet the expected loss of a loan whose PD is a few times 1/m integrates
 * that region: on a lognormal law with m = 245, flat tails understate EL at
 * PD 0.01 by a third and linear ones by a fifth (docs/risk.md).  Excesses
 * below a low threshold are approximately generalised Pareto for every law
 * in a domain of attraction (Pickands-Balkema-de Haan); we take the shape-0
 * member, the exponential tail Qhat_y(u) = q_1 + b log(u m): it needs only
 * the slope b (a fitted shape would add the noisiest estimate of all), it is
 * the limit for the normal's domain and slightly heavier than a normal tail
 * there (a cautious error), and lighter than a Pareto-like tail (measured
 * on a t5 law in docs/risk.md).  b is the least-squares slope of q_j on log j over the knots at
 * levels up to SF_TAIL_FIT_SHARE: the fewest knots that still average out
 * some of the noise of the extreme fits.
 *
 * The curve stays piecewise linear, so the tail enters as the outer
 * segment [qa_0, q_1] whose mean of S equals the tail's mean of S below
 * tau_1 (then the prefix integral at 1/m, and with it every partial moment
 * from there on, is the fitted tail's).  Per unit of u on [0, 1/m]:
 *   log1p:    mean e^y of the tail = e^{q_1} / (1 + b); of the segment
 *             e^{q_1} (1 - e^{-d}) / d, so (1 - e^{-d}) / d = 1 / (1 + b);
 *   identity: mean y of the tail = q_1 - b; of the segment q_1 - d / 2, so
 *             d = 2 b.
 */
void
sf_qcurve_exponential_drop(const double *qa, int m, sf_transform transform,
						   double *slope, double *drop)
{
	int			k = (int) floor(SF_TAIL_FIT_SHARE * (double) m);
	double		sx = 0.0,
				sy = 0.0,
				sxx = 0.0,
				sxy = 0.0,
				b;
	int			j;

	if (k < 2)
		k = 2;
	if (k > m - 1)
		k = m - 1;
	for (j = 1; j <= k; j++)
	{
		double		x = log((double) j);

		sx += x;
		sy += qa[j];
		sxx += x * x;
		sxy += x * qa[j];
	}
	b = (sxy - sx * sy / k) / (sxx - sx * sx / k);
	/* sorted knots give b >= 0 up to rounding; a flat bottom has no tail */
	if (!(b > 0.0) || !isfinite(b))
	{
		*slope = 0.0;
		*drop = 0.0;
		return;
	}
	*slope = b;
	if (transform == SF_TRANSFORM_IDENTITY)
	{
		*drop = 2.0 * b;
		return;
	}
	/* (1 - e^{-d}) / d = 1 / (1 + b), between d = b and d = 2 (1 + b) */
	*drop = log1p_drop(1.0 / (1.0 + b), b, 2.0 * (1.0 + b));
}

/*
 * The generalized Pareto lower tail (SF_TAIL_GPD, sf_qcurve.h).  The
 * exponential rule fits its slope to the lowest knots, the noisiest
 * regressions of the model: at n = 20,000 the levels 1/m .. 5/m hold 140
 * to 700 rows each, and the EL of a loan whose PD lies there inherits that
 * noise (bench/risk_tail_default.py).  Extreme-value quantile regression
 * (Wang, Li and He 2012, JASA 107: intermediate conditional quantiles by
 * quantile regression, the tail index from the pooled exceedances of all
 * rows, extrapolated beyond) moves the threshold to a level the regressions
 * resolve well (SF_GPD_TAIL_SHARE) and reads the tail below it from one
 * shape and one scale fitted on every row's exceedances: by
 * Pickands-Balkema-de Haan the excess q_k(x) - y below a low threshold is
 * approximately generalized Pareto, and in a location-scale family its
 * scale is proportional to any spacing of the conditional quantiles, here
 * q_k2(x) - q_k(x) with k2 the median's knot (the best-resolved spacing).
 * The shape and scale are probability-weighted-moment estimates (Hosking
 * and Wallis 1987, Technometrics 29), closed form and reliable for
 * xi < 1/2, where maximum likelihood needs an iterative fit and is no more
 * efficient at these sample sizes.
 */
int
sf_qcurve_gpd_knots(int m, int *k, int *k2)
{
	*k = (int) floor(SF_GPD_TAIL_SHARE * (double) m + 0.5);
	if (*k < 2)
		*k = 2;
	*k2 = (int) floor(SF_GPD_BODY_SHARE * (double) m + 0.5);
	if (*k2 > m - 1)
		*k2 = m - 1;
	return *k2 > *k;
}

/* h(r) = (r^{-xi} - 1) / xi, -log r at xi = 0: the standard GPD quantile of exceedance share r */
static inline double
gpd_h(double xi, double r)
{
	double		lr = log(r);

	if (xi == 0.0)
		return -lr;
	return expm1(-xi * lr) / xi;
}

/* 5-point Gauss-Legendre nodes and weights on [-1, 1] */
static const double gl5_x[5] = {
	-0.9061798459386640, -0.5384693101056831, 0.0, 0.5384693101056831, 0.9061798459386640
};
static const double gl5_w[5] = {
	0.2369268850561891, 0.4786286704993665, 0.5688888888888889, 0.4786286704993665,
	0.2369268850561891
};

/*
 * integral_0^1 exp(-sigma (h(w / k) - h(1 / k))) dw, the GPD's mean of
 * e^{y - q_1} below level 1/m (u = w/m; q_1 the GPD's knot at 1/m).  The
 * exponent is never positive, so nothing overflows however large sigma.
 * The integrand rises from 0 (or from a positive value when xi < 0) like a
 * power of w, so the panels are geometric, [2^-(i+1), 2^-i]; 64 of them
 * leave out less than 2^-64.
 */
#define GPD_PANELS	64
#define GPD_NODES	(GPD_PANELS * 5)

/*
 * The quadrature's nodes depend on the model's shape and threshold knot
 * alone, the curve only scales them by sigma: h(w / k) - h(1 / k) and the
 * weights are kept for the last (xi, k) seen by this thread, so a model's
 * curves pay one exp per node instead of a log, an expm1 and an exp (the
 * GPD tail was the largest part of the view's curve maths).  The values
 * are computed as before, so the sum has the same bits.
 */
typedef struct gpd_nodes
{
	int			k;				/* 0: empty */
	double		xi;
	double		hd[GPD_NODES];	/* h(w / k) - h(1 / k) */
	double		hw[GPD_NODES];	/* panel half width times the Gauss weight */
} gpd_nodes;

static _Thread_local gpd_nodes gpd_cache;

static const gpd_nodes *
gpd_nodes_for(double xi, int k)
{
	gpd_nodes  *c = &gpd_cache;
	double		h1;
	int			i,
				g;

	if (c->k == k && c->xi == xi)
		return c;
	h1 = gpd_h(xi, 1.0 / (double) k);
	for (i = 0; i < GPD_PANELS; i++)
	{
		double		hi = ldexp(1.0, -i),
					half = 0.25 * hi,
					mid = 0.75 * hi;

		for (g = 0; g < 5; g++)
		{
			double		w = mid + half * gl5_x[g];

			c->hd[i * 5 + g] = gpd_h(xi, w / (double) k) - h1;
			c->hw[i * 5 + g] = half * gl5_w[g];
		}
	}
	c->xi = xi;
	c->k = k;
	return c;
}

static double
gpd_mean_exp(double xi, double sigma, int k)
{
	const gpd_nodes *nd = gpd_nodes_for(xi, k);
	double		total = 0.0;
	int			i;

	for (i = 0; i < GPD_NODES; i++)
		total += nd->hw[i] * exp(-sigma * nd->hd[i]);
	return total;
}

/*
 * Mean of h(w / k) over w in (0, 1): (k^xi / (1 - xi) - 1) / xi, written
 * with expm1 so that small shapes lose no digits; log k + 1 at xi = 0.
 */
static double
gpd_mean_h(double xi, int k)
{
	if (xi == 0.0)
		return log((double) k) + 1.0;
	return expm1(xi * log((double) k) - log1p(-xi)) / xi;
}

/*
 * Replace the knots below the threshold by the GPD's quantiles and set qa_0
 * so that the outer segment holds the GPD's mean of S below 1/m (closed
 * form on the identity scale, where the mean exists for xi < 1; a
 * quadrature of e^y on log1p's).  Returns 0, touching nothing, when the
 * curve's spacing is not a positive finite number.
 */
static int
gpd_tail(double *qa, int m, sf_transform transform, const sf_qcurve_gpd *g)
{
	int			k = g->k,
				j;
	double		sigma;

	if (k < 2 || g->k2 <= k || g->k2 > m - 1)
		return 0;
	sigma = g->beta * (qa[g->k2] - qa[k]);
	if (!(sigma > 0.0) || !isfinite(sigma))
		return 0;
	for (j = 1; j < k; j++)
		qa[j] = qa[k] - sigma * gpd_h(g->xi, (double) j / (double) k);
	if (transform == SF_TRANSFORM_IDENTITY)
	{
		double		mean = qa[k] - sigma * gpd_mean_h(g->xi, k);

		qa[0] = qa[1] - 2.0 * (qa[1] - mean);
	}
	else
	{
		double		r = gpd_mean_exp(g->xi, sigma, k);

		qa[0] = qa[1] - (r < 1.0 ? log1p_drop(r, 0.0, 1.0 / r) : 0.0);
	}
	return 1;
}

sf_status
sf_qcurve_gpd_fit(sf_env *env, const double *y, const double *qk, const double *qk2, size_t n,
				  sf_qcurve_gpd *g)
{
	double	   *z = sf_malloc(env, (n > 0 ? n : 1) * sizeof(double));
	size_t		N = 0,
				i;
	double		a0 = 0.0,
				a1 = 0.0,
				xi,
				beta;

	if (z == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the exceedances of %zu rows", n);
	for (i = 0; i < n; i++)
	{
		double		s = qk2[i] - qk[i];

		if (y[i] < qk[i] && s > 0.0 && isfinite(s))
			z[N++] = (qk[i] - y[i]) / s;
	}
	g->exceedances = (uint32_t) (N > UINT32_MAX ? UINT32_MAX : N);
	qsort(z, N, sizeof(double), sf_cmp_double);
	/* a_r = E[Z (1 - F(Z))^r] with the plotting positions (i - 0.35) / N */
	for (i = 0; i < N; i++)
	{
		a0 += z[i];
		a1 += (1.0 - ((double) i + 0.65) / (double) N) * z[i];
	}
	sf_free(env, z);
	if (N == 0)
	{
		/* no row below its threshold: a degenerate tail, exponential at unit scale */
		g->xi = 0.0;
		g->beta = 1.0;
		return SF_OK;
	}
	a0 /= (double) N;
	a1 /= (double) N;
	/* xi = 2 - a0 / (a0 - 2 a1), beta = a0 (1 - xi): the GPD's mean is beta / (1 - xi) */
	xi = (N >= SF_GPD_MIN_EXCEED && a0 - 2.0 * a1 > 0.0) ? 2.0 - a0 / (a0 - 2.0 * a1) : 0.0;
	if (!isfinite(xi))
		xi = 0.0;
	xi = fmin(SF_GPD_XI_MAX, fmax(SF_GPD_XI_MIN, xi));
	beta = a0 * (1.0 - xi);
	g->xi = xi;
	g->beta = beta > 0.0 && isfinite(beta) ? beta : 1.0;
	return SF_OK;
}

/* A column (nearly) a combination of the others: a pivot of L below 1e-6 of its column's norm */
static int
near_singular(const double *l, const double *diag, int q)
{
	int			a;

	for (a = 0; a < q; a++)
		if (!(l[a * q + a] * l[a * q + a] > 1e-12 * diag[a]))
			return 1;
	return 0;
}

/*
 * A pooled fit of tails whose scale relative to s(x) differs between
 * sellers is a scale mixture, which looks heavier than any of its parts
 * (a mixture of exponentials has a positive GPD shape), so every seller's
 * tail comes out too heavy.  The mean of z is the GPD's beta / (1 - xi):
 * when it moves with the covariates, one (xi, beta) cannot serve them all.
 * The regression is on centred columns, solved by Cholesky; the critical
 * value is that of chi-square(q) / q, q = p - 1, close to F(q, n - p) for
 * the several hundred exceedances a fit has (slightly conservative below).
 */
sf_status
sf_qcurve_gpd_pool_rejected(sf_env *env, const double *z, const double *design, size_t n, int p,
							int *rejected, double *f_out)
{
	int			q = p - 1,
				a,
				b;
	size_t		i;
	double	   *mean,
			   *A,
			   *c,
			   *bcoef,
				zmean = 0.0,
				sst = 0.0,
				ssr = 0.0,
				f,
				wh,
				crit;

	*rejected = 0;
	if (f_out)
		*f_out = 0.0;
	if (q < 1 || n < (size_t) 10 * p)
		return SF_OK;
	if (!sf_alloc_all(env, SF_CALLOC_N(mean, p), SF_CALLOC_N(A, (size_t) q * q), SF_CALLOC_N(c, q),
					  SF_CALLOC_N(bcoef, q)))
		return sf_fail(env, SF_ENOMEM, "out of memory for the pooling test of %zu exceedances", n);
	for (i = 0; i < n; i++)
	{
		zmean += z[i];
		for (a = 1; a < p; a++)
			mean[a] += design[i * p + a];
	}
	zmean /= (double) n;
	for (a = 1; a < p; a++)
		mean[a] /= (double) n;
	for (i = 0; i < n; i++)
	{
		const double *row = design + i * p;
		double		zc = z[i] - zmean;

		sst += zc * zc;
		for (a = 0; a < q; a++)
		{
			double		da = row[a + 1] - mean[a + 1];

			c[a] += da * zc;
			for (b = 0; b <= a; b++)
				A[a * q + b] += da * (row[b + 1] - mean[b + 1]);
		}
	}
	for (a = 0; a < q; a++)
		bcoef[a] = A[a * q + a];
	if (sst > 0.0 && sf_cholesky(A, q) == 0 && !near_singular(A, bcoef, q))
	{
		memcpy(bcoef, c, (size_t) q * sizeof(double));
		sf_cholesky_solve(A, q, bcoef);
		for (a = 0; a < q; a++)
			ssr += bcoef[a] * c[a];
		if (ssr > 0.0 && sst > ssr && isfinite(ssr))
		{
			/* upper 0.001 point of N(0, 1): Wilson-Hilferty's chi-square(q) quantile */
			f = (ssr / q) / ((sst - ssr) / (double) (n - (size_t) p));
			wh = 1.0 - 2.0 / (9.0 * q) + 3.090232306167813 * sqrt(2.0 / (9.0 * q));
			crit = wh * wh * wh;
			*rejected = f > crit;
			if (f_out)
				*f_out = f;
		}
	}
	sf_free_all(env, mean, A, c, bcoef);
	return SF_OK;
}

const char *const sf_tail_rule_names[] = {"flat", "linear", "exponential", NULL};

const char *
sf_tail_rule_name(sf_tail_rule tail)
{
	if (tail == SF_TAIL_GPD)
		return "gpd";
	if ((int) tail >= 0 && (int) tail < SF_TAIL_RULE_COUNT)
		return sf_tail_rule_names[tail];
	return "unknown";
}

const char *
sf_tail_caveat(sf_tail_rule tail)
{
	switch (tail)
	{
		case SF_TAIL_LINEAR:
			return "linear tails: below 1/m and above 1 - 1/m the curve extends the outer fitted "
				"segments; the data resolve nothing there, so a PD target alpha needs 1/m <= alpha/5, "
				"and EL and CVaR where PD is a few times 1/m are understated (for risk curves use "
				"tail exponential)";
		case SF_TAIL_GPD:
			return "generalized Pareto lower tail: below the level 0.05 the curve is a GPD fitted "
				"to the pooled exceedances of the training rows, its scale following the seller's "
				"quantile spacing; PD below 1/m is extrapolated from it";
		case SF_TAIL_EXPONENTIAL:
			return "exponential lower tail: below 1/m the curve holds the mean of an exponential "
				"tail fitted to the lowest knots, so EL and CVaR at PD >= 1/m integrate it; PD below "
				"1/m is extrapolated, and a PD target alpha needs 1/m <= alpha/5";
		default:
			return "flat tails: nothing below 1/m or above 1 - 1/m is resolved (an atom of mass 1/m "
				"at each end); a PD target alpha needs 1/m <= alpha/5, and EL and CVaR where PD is a "
				"few times 1/m are understated (for risk curves use tail exponential)";
	}
}

void
sf_qcurve_put_tail(sf_buf *b, uint16_t tag, sf_tail_rule tail)
{
	size_t		mark;

	if (tail == SF_TAIL_FLAT)
		return;
	mark = sf_section_begin(b, tag);
	sf_buf_put_u8(b, (uint8_t) tail);
	sf_section_end(b, mark);
}

int
sf_qcurve_get_tail(const sf_container *c, uint16_t tag, sf_tail_rule *tail)
{
	return sf_qcurve_get_tail_of(c, tag, SF_TAIL_RULE_COUNT, tail);
}

int
sf_qcurve_get_tail_of(const sf_container *c, uint16_t tag, int count, sf_tail_rule *tail)
{
	const sf_section *sec = sf_container_find(c, tag);

	*tail = SF_TAIL_FLAT;
	if (sec == NULL)
		return 1;
	if (sec->len != 1 || sec->data[0] == SF_TAIL_FLAT || sec->data[0] >= count)
		return 0;
	*tail = (sf_tail_rule) sec->data[0];
	return 1;
}

void
sf_qcurve_free(sf_env *env, sf_qcurve *c)
{
	if (c == NULL)
		return;
	sf_free(env, c->qa);		/* prefix and eq share its block */
	c->qa = NULL;
	c->prefix = NULL;
	c->eq = NULL;
	c->m = 0;
}

/* Qhat_y(u), u clamped to [0, 1] */
static inline double
quantile_y(const sf_qcurve *c, double u)
{
	double		mu;
	int			j;

	if (!(u > 0.0))
		return c->qa[0];
	if (u >= 1.0)
		return c->qa[c->m];
	mu = u * (double) c->m;
	j = (int) mu;
	if (j >= c->m)
		return c->qa[c->m];
	return c->qa[j] + (mu - (double) j) * (c->qa[j + 1] - c->qa[j]);
}

double
sf_qcurve_quantile(const sf_qcurve *c, double u)
{
	return sf_transform_inverse(c->transform, quantile_y(c, u));
}

/*
 * Largest j in [0, m-1] with qa[j] < t, for qa[0] < t <= qa[m].
 */
static inline int
find_segment(const sf_qcurve *c, double t)
{
	int			lo = 0;
	int			hi = c->m;		/* invariant: qa[lo] < t <= qa[hi] */

	while (hi - lo > 1)
	{
		int			mid = lo + (hi - lo) / 2;

		if (c->qa[mid] < t)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

double
sf_qcurve_partial(const sf_qcurve *c, double s, double *F)
{
	return sf_qcurve_partial_walk(c, s, F, NULL);
}

/*
 * The segment is found by walking up from *seg when the caller evaluates
 * increasing s (a merge of the sorted loans with the sorted knots: m + n
 * steps for n loans instead of n binary searches); the walk starts over
 * with a binary search whenever the hint is not below t, so any order of
 * s gives the same j, and with it the same bits, as sf_qcurve_partial.
 */
double
sf_qcurve_partial_walk(const sf_qcurve *c, double s, double *F, int *seg)
{
	double		t;
	double		w;
	int			j;
	int			m = c->m;

	if (isnan(s))
	{
		*F = NAN;
		return NAN;
	}
	t = sf_transform_apply(c->transform, s);
	if (t <= c->qa[0])
	{
		*F = 0.0;
		return 0.0;
	}
	if (t > c->qa[m])
	{
		*F = 1.0;
		return c->prefix[m];
	}
	if (seg != NULL && *seg >= 0 && *seg < m && c->qa[*seg] < t)
	{
		j = *seg;
		while (c->qa[j + 1] < t)	/* stops at m - 1: t <= qa[m] */
			j++;
	}
	else
		j = find_segment(c, t);
	if (seg != NULL)
		*seg = j;
	/* qa[j] < t <= qa[j+1], so the segment is not flat */
	w = (t - c->qa[j]) / (c->qa[j + 1] - c->qa[j]) / (double) m;
	*F = (double) j / (double) m + w;
	if (c->transform == SF_TRANSFORM_LOG1P)
		return c->prefix[j] + w * (mean_exp_e(c->qa[j], c->eq != NULL ? c->eq[j] : exp(c->qa[j]),
											  t - c->qa[j]) - 1.0);
	return c->prefix[j] + w * 0.5 * (c->qa[j] + t);
}

double
sf_qcurve_cdf(const sf_qcurve *c, double s)
{
	double		F;

	(void) sf_qcurve_partial(c, s, &F);
	return F;
}

double
sf_qcurve_integral(const sf_qcurve *c, double p)
{
	double		mp;
	int			j;

	if (!(p > 0.0))
		return 0.0;
	if (p >= 1.0)
		return c->prefix[c->m];
	mp = p * (double) c->m;
	j = (int) mp;
	if (j >= c->m)
		return c->prefix[c->m];
	if (c->transform == SF_TRANSFORM_LOG1P && c->eq != NULL)
	{
		/* segment_integral with e^{qa_j} from eq */
		double		w = p - (double) j / (double) c->m;

		if (w <= 0.0)
			return c->prefix[j];
		return c->prefix[j] + w * (mean_exp_e(c->qa[j], c->eq[j],
											  (double) c->m * w * (c->qa[j + 1] - c->qa[j])) - 1.0);
	}
	return c->prefix[j] + segment_integral(c->transform, c->m, c->qa[j],
										   c->qa[j + 1] - c->qa[j],
										   p - (double) j / (double) c->m);
}

/*
 * The sampling loops are the hot path (10^7 draws per second per core is the
 * goal): one multiply, one truncation, one fused interpolation, and expm1 for
 * log1p.  They avoid the clamping branches of quantile_y where u is known to
 * lie in [0, 1): sample_y is Qhat_y at mu = u m (mu = m, from rounding,
 * takes the last segment), sample_inverse the batch on the original scale.
 */
static inline double
sample_y(const double *qa, int m, double mu)
{
	int			j = (int) mu;

	if (j >= m)
		j = m - 1;
	return qa[j] + (mu - (double) j) * (qa[j + 1] - qa[j]);
}

static void
sample_inverse(const sf_qcurve *c, double *out, size_t K)
{
	size_t		k;

	if (c->transform == SF_TRANSFORM_LOG1P)
		for (k = 0; k < K; k++)
			out[k] = expm1(out[k]);
}

void
sf_qcurve_stratified(const sf_qcurve *c, double *out, size_t K)
{
	double		m = (double) c->m;
	double		invK = 1.0 / (double) K;
	size_t		k;

	for (k = 0; k < K; k++)
		out[k] = sample_y(c->qa, c->m, ((double) k + 0.5) * invK * m);
	sample_inverse(c, out, K);
}

void
sf_qcurve_sample(const sf_qcurve *c, sf_rng *rng, double *out, size_t K)
{
	const double *qa = c->qa;	/* loaded once: the draws call out */
	double		m = (double) c->m;
	size_t		k;

	for (k = 0; k < K; k++)
		out[k] = sample_y(qa, c->m, sf_rng_uniform(rng) * m);
	sample_inverse(c, out, K);
}
