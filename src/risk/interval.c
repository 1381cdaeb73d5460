/*
 * interval.c
 *	  The percentile bootstrap interval of the PD and EL of one loan
 *	  (sf_bootstrap.h, docs/risk.md "How sure is the number").
 *
 * The percentile interval (Efron) rather than the basic one: it is
 * invariant under monotone maps and stays inside [0, 1] for a PD, where the
 * basic interval 2 theta - Q can leave it at small PDs; the coverage
 * measured in test/peer/test_risk_interval.py is what justifies it.  The
 * bias-corrected percentile interval keeps both properties (its ends are
 * other quantiles of the same replicates); BCa's acceleration would need a
 * jackknife refit per cluster (docs/risk.md says why it is not offered).
 */
#include <math.h>
#include <stdlib.h>

#include "scfrisk/sf_bootstrap.h"

double
sf_boot_quantile(const double *sorted, size_t n, double u)
{
	double		h = u * (double) (n - 1);
	size_t		j;

	if (n == 1 || h <= 0.0)
		return sorted[0];
	if (h >= (double) (n - 1))
		return sorted[n - 1];
	j = (size_t) floor(h);
	return sorted[j] + (h - (double) j) * (sorted[j + 1] - sorted[j]);
}

sf_status
sf_boot_percentile(sf_env *env, double *v, size_t n, double level, double *lo, double *hi)
{
	size_t		i;

	if (!(level > 0.0 && level < 1.0))
		return sf_fail(env, SF_EINVAL, "level must be in (0, 1), got %g", level);
	if (n < SF_BOOT_MIN_REPLICATES)
		return sf_fail(env, SF_EINVAL, "an interval needs at least %d replicates, got %zu",
					   SF_BOOT_MIN_REPLICATES, n);
	for (i = 0; i < n; i++)
		if (isnan(v[i]))
			return sf_fail(env, SF_EDATA, "replicate %zu gave a NaN measure", i + 1);
	qsort(v, n, sizeof(double), sf_cmp_double);
	*lo = sf_boot_quantile(v, n, 0.5 * (1.0 - level));
	*hi = sf_boot_quantile(v, n, 0.5 * (1.0 + level));
	return SF_OK;
}

double
sf_norm_cdf(double z)
{
	return 0.5 * erfc(-z / sqrt(2.0));
}

/*
 * Acklam's rational approximation (relative error 1.15e-9) and one Halley
 * step on sf_norm_cdf, which brings it to the precision of erfc.
 */
double
sf_norm_ppf(double u)
{
	static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
		-2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01,
	2.506628277459239e+00};
	static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
		-1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01};
	static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
		-2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00,
	2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
	2.445134137142996e+00, 3.754408661907416e+00};
	double		q,
				r,
				x,
				e;

	if (!(u > 0.0))
		return -INFINITY;
	if (!(u < 1.0))
		return INFINITY;
	if (u < 0.02425 || u > 1.0 - 0.02425)
	{
		q = sqrt(-2.0 * log(u < 0.5 ? u : 1.0 - u));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
			((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
		if (u > 0.5)
			x = -x;
	}
	else
	{
		q = u - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
			(((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
	}
	e = sf_norm_cdf(x) - u;
	r = e * 2.50662827463100050 * exp(0.5 * x * x);	/* e / phi(x), sqrt(2 pi) */
	return x - r / (1.0 + 0.5 * x * r);
}

sf_status
sf_boot_bc(sf_env *env, double *v, size_t n, double point, double level, double *lo, double *hi)
{
	double		below = 0.0,
				p0,
				z0,
				z;
	size_t		i;
	sf_status	st;

	/* the checks and the sort of the percentile interval, then move its ends */
	st = sf_boot_percentile(env, v, n, level, lo, hi);
	if (st != SF_OK)
		return st;
	for (i = 0; i < n; i++)
		below += v[i] < point ? 1.0 : (v[i] == point ? 0.5 : 0.0);
	/* all replicates on one side would put z0 at infinity: keep it within half a replicate */
	p0 = fmin(fmax(below / (double) n, 0.5 / (double) n), 1.0 - 0.5 / (double) n);
	z0 = sf_norm_ppf(p0);
	z = sf_norm_ppf(0.5 * (1.0 + level));
	*lo = sf_boot_quantile(v, n, sf_norm_cdf(2.0 * z0 - z));
	*hi = sf_boot_quantile(v, n, sf_norm_cdf(2.0 * z0 + z));
	return SF_OK;
}

/* The measure k of a risk row. */
static double
iv_measure(const sf_risk_row *r, int k)
{
	switch (k)
	{
		case SF_IV_PD:
			return r->pd;
		case SF_IV_EL:
			return r->el;
		case SF_IV_VAR:
			return r->var;
		default:
			return r->cvar;
	}
}

sf_status
sf_risk_interval_at(sf_env *env, const sf_risk_eval *point, const sf_risk_eval *const *reps,
					size_t B, double L, double level, sf_boot_method method,
					sf_risk_interval *out)
{
	double	   *v;
	sf_risk_row *rows;
	size_t		b;
	int			k;
	sf_status	st = SF_OK;

	if (!isfinite(L) || L < 0.0)
		return sf_fail(env, SF_EDATA, "loan must be a finite amount >= 0, got %g", L);
	if (!(level > 0.0 && level < 1.0))
		return sf_fail(env, SF_EINVAL, "level must be in (0, 1), got %g", level);
	if (B < SF_BOOT_MIN_REPLICATES)
		return sf_fail(env, SF_EINVAL, "an interval needs at least %d replicates, got %zu",
					   SF_BOOT_MIN_REPLICATES, B);
	v = sf_malloc(env, sizeof(double) * B);
	rows = sf_malloc(env, sizeof(sf_risk_row) * B);
	if (v == NULL || rows == NULL)
	{
		sf_free(env, v);
		sf_free(env, rows);
		return sf_fail(env, SF_ENOMEM, "out of memory");
	}
	sf_risk_point(point, L, &out->point);
	for (b = 0; b < B; b++)
		sf_risk_point(reps[b], L, &rows[b]);
	for (k = 0; k < SF_IV_N && st == SF_OK; k++)
	{
		for (b = 0; b < B; b++)
			v[b] = iv_measure(&rows[b], k);
		if (method == SF_BOOT_BC)
			st = sf_boot_bc(env, v, B, iv_measure(&out->point, k), level,
							&out->lower[k], &out->upper[k]);
		else
			st = sf_boot_percentile(env, v, B, level, &out->lower[k], &out->upper[k]);
	}
	out->level = level;
	out->replicates = B;
	out->method = method;
	sf_free(env, v);
	sf_free(env, rows);
	return st;
}
