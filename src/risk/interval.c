/*
 * interval.c
 *	  The percentile bootstrap interval of the PD and EL of one loan
 *	  (sf_bootstrap.h, docs/risk.md "How sure is the number").
 *
 * The percentile interval (Efron) rather than the basic one: it is
 * invariant under monotone maps and stays inside [0, 1] for a PD, where the
 * basic interval 2 theta - Q can leave it at small PDs; the coverage
 * measured in test/peer/test_risk_interval.py is what justifies it.
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

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
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
	qsort(v, n, sizeof(double), cmp_double);
	*lo = sf_boot_quantile(v, n, 0.5 * (1.0 - level));
	*hi = sf_boot_quantile(v, n, 0.5 * (1.0 + level));
	return SF_OK;
}

sf_status
sf_risk_interval_at(sf_env *env, const sf_risk_eval *point, const sf_risk_eval *const *reps,
					size_t B, double L, double level, sf_risk_interval *out)
{
	double	   *pd,
			   *el;
	size_t		b;
	sf_status	st;

	if (!isfinite(L) || L < 0.0)
		return sf_fail(env, SF_EDATA, "loan must be a finite amount >= 0, got %g", L);
	if (!(level > 0.0 && level < 1.0))
		return sf_fail(env, SF_EINVAL, "level must be in (0, 1), got %g", level);
	if (B < SF_BOOT_MIN_REPLICATES)
		return sf_fail(env, SF_EINVAL, "an interval needs at least %d replicates, got %zu",
					   SF_BOOT_MIN_REPLICATES, B);
	pd = sf_malloc(env, sizeof(double) * B);
	el = sf_malloc(env, sizeof(double) * B);
	if (pd == NULL || el == NULL)
	{
		sf_free(env, pd);
		sf_free(env, el);
		return sf_fail(env, SF_ENOMEM, "out of memory");
	}
	sf_risk_point(point, L, &out->point);
	for (b = 0; b < B; b++)
	{
		sf_risk_row r;

		sf_risk_point(reps[b], L, &r);
		pd[b] = r.pd;
		el[b] = r.el;
	}
	st = sf_boot_percentile(env, pd, B, level, &out->pd_lower, &out->pd_upper);
	if (st == SF_OK)
		st = sf_boot_percentile(env, el, B, level, &out->el_lower, &out->el_upper);
	out->level = level;
	out->replicates = B;
	sf_free(env, pd);
	sf_free(env, el);
	return st;
}
