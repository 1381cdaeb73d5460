/*
 * test_qscore.c
 *	  Unit tests of the quantile scoring rules (src/qrgmm/qscore.c) against
 *	  closed forms: the pinball loss by its definition, the ensemble CRPS
 *	  against the O(K^2) pair-sum definition, and the exact curve CRPS of the
 *	  uniform law on [0, 1] (linear tails make the curve Q(u) = u exactly),
 *	  whose CRPS is E|X - y| - 1/6 (y^2 - y + 1/3 on [0, 1]).
 */
#include <stdlib.h>

#include "scfrisk/sf_qscore.h"
#include "scfrisk/sf_rng.h"
#include "sf_test.h"

static sf_env env;

SF_TEST(test_pinball)
{
	SF_NEAR(sf_pinball(3.0, 1.0, 0.9), 0.9 * 2.0, 1e-15, "above the quantile: tau r");
	SF_NEAR(sf_pinball(1.0, 3.0, 0.9), 0.1 * 2.0, 1e-15, "below the quantile: (1 - tau) |r|");
	SF_NEAR(sf_pinball(2.0, 2.0, 0.3), 0.0, 0.0, "zero at the quantile");
}

/* The definition: (1/K) sum |z_k - y| - (1/(2K^2)) sum_{k,l} |z_k - z_l|. */
static double
crps_pairs(const double *z, int K, double y)
{
	double		a = 0.0,
				b = 0.0;
	int			k,
				l;

	for (k = 0; k < K; k++)
	{
		a += fabs(z[k] - y);
		for (l = 0; l < K; l++)
			b += fabs(z[k] - z[l]);
	}
	return a / K - b / (2.0 * K * K);
}

SF_TEST(test_crps_samples)
{
	sf_rng		rng;
	double		z[257],
				w[257];
	int			K,
				k;

	sf_rng_init(&rng, 7, 0);
	for (K = 1; K <= 257; K += 64)
	{
		for (k = 0; k < K; k++)
			z[k] = w[k] = 3.0 * sf_rng_uniform(&rng) - 1.0;
		SF_REL(sf_crps_samples(w, K, 0.25), crps_pairs(z, K, 0.25), 1e-12, "ensemble CRPS = pair sum");
	}
	z[0] = 2.0;
	SF_NEAR(sf_crps_samples(z, 1, 5.0), 3.0, 1e-15, "one draw: |z - y|");
}

SF_TEST(test_crps_curve_uniform)
{
	const int	m = 10;
	double		q[9];
	sf_qcurve	c;
	int			j;
	double		y;

	for (j = 1; j < m; j++)
		q[j - 1] = (double) j / m;
	SF_OK(sf_qcurve_build_tail(&env, q, m, SF_TRANSFORM_IDENTITY, SF_TAIL_LINEAR, &c) == SF_OK,
		  "uniform curve built");
	for (y = -0.5; y <= 1.5; y += 0.125)
	{
		/* CRPS(F, y) = E|X - y| - E|X - X'|/2 for X ~ U(0, 1) */
		double		e = y < 0 ? 0.5 - y : (y > 1 ? y - 0.5 : 0.5 * (y * y + (1 - y) * (1 - y)));

		SF_NEAR(sf_crps_curve(&c, y), e - 1.0 / 6.0, 1e-13, "exact CRPS of U(0,1)");
	}
	sf_qcurve_free(&env, &c);
}

int
main(void)
{
	sf_env_init_malloc(&env);
	SF_RUN(test_pinball);
	SF_RUN(test_crps_samples);
	SF_RUN(test_crps_curve_uniform);
	return sf_test_done();
}
