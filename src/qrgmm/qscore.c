/*
 * qscore.c
 *	  Scoring rules of quantile forecasts (sf_qscore.h): pinball loss, CRPS of
 *	  an ensemble and exact CRPS of a quantile curve (methods/qrgmm_scf.md
 *	  section 7.2).
 *
 * The ensemble CRPS uses the sorted-draws identity, O(K log K) instead of the
 * O(K^2) pair sum.  The curve CRPS splits each segment [j/m, (j+1)/m] where
 * Qhat_S crosses y (at F(y)), so the integrand is smooth on each piece, and
 * integrates it by 5-point Gauss-Legendre: exact for the piecewise-quadratic
 * integrand of the identity transform, and accurate to rounding for log1p (an
 * analytic integrand over a short interval).
 */
#include <math.h>
#include <stdlib.h>

#include "scfrisk/sf_qscore.h"

double
sf_pinball(double y, double q, double tau)
{
	double		r = y - q;

	return r >= 0.0 ? tau * r : (tau - 1.0) * r;
}

double
sf_crps_samples(double *z, int K, double y)
{
	double		a = 0.0,
				b = 0.0;
	int			k;

	qsort(z, (size_t) K, sizeof(double), sf_cmp_double);
	for (k = 0; k < K; k++)
	{
		a += fabs(z[k] - y);
		b += (2.0 * (k + 1) - K - 1) * z[k];
	}
	return a / K - b / ((double) K * K);
}

double
sf_crps_curve(const sf_qcurve *c, double y)
{
	static const double gx[5] = {-0.9061798459386640, -0.5384693101056831, 0.0,
	0.5384693101056831, 0.9061798459386640};
	static const double gw[5] = {0.2369268850561891, 0.4786286704993665, 0.5688888888888889,
	0.4786286704993665, 0.2369268850561891};
	double		F = sf_qcurve_cdf(c, y);
	double		total = 0.0;
	int			j,
				k,
				part;

	for (j = 0; j < c->m; j++)
	{
		double		lo = (double) j / c->m,
					hi = (double) (j + 1) / c->m;
		double		cut = fmax(lo, fmin(F, hi));

		for (part = 0; part < 2; part++)
		{
			double		a = part == 0 ? lo : cut;
			double		b = part == 0 ? cut : hi;
			double		half = 0.5 * (b - a),
						mid = 0.5 * (a + b);

			if (b <= a)
				continue;
			for (k = 0; k < 5; k++)
			{
				double		u = mid + half * gx[k];

				total += half * gw[k] * sf_pinball(y, sf_qcurve_quantile(c, u), u);
			}
		}
	}
	return 2.0 * total;
}
