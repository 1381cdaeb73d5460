/*
 * test_svm.c
 *	  Unit tests of the linear SVM (svm.h) without PostgreSQL: the dual
 *	  solutions of two points worked by hand (hinge and squared hinge), the
 *	  primal optimality of a fit on noisy data (the squared-hinge primal
 *	  gradient vanishes), the Platt fit's stationarity, byte round trips,
 *	  every truncation rejected, and the data checks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sf_test.h"
#include "scfrisk/svm.h"
#include "scfrisk/sf_rng.h"

static svm_params
defaults(void)
{
	svm_params	p;

	memset(&p, 0, sizeof(p));
	sf_params_defaults(&svm_params_table, &p);
	return p;
}

SF_TEST(test_two_points)
{
	/*
	 * x = -1 (label 0), x = +1 (label 1), no intercept, C = 1.  Hinge: the
	 * dual min 1/2 (a1 + a2)^2 - (a1 + a2) on [0, 1]^2 gives a1 + a2 = 1,
	 * w = 1.  Squared hinge: min 1/2 w^2 + 2 (1 - w)^2 gives w = 0.8.
	 */
	double		x[2] = {-1.0, 1.0},
				y[2] = {0.0, 1.0},
				q = 0.5;
	svm_params	p = defaults();
	svm_model	m;
	sf_env		env;

	sf_env_init_malloc(&env);
	p.fit_intercept = 0;
	p.platt_folds = 0;
	p.tol = 1e-10;
	p.loss = SVM_LOSS_HINGE;
	SF_OK(svm_fit(&env, &p, x, y, 2, 1, &m) == SF_OK, "hinge fits");
	SF_NEAR(m.coef[0], 1.0, 1e-9, "hinge: w = 1");
	SF_NEAR(svm_decision(&m, &q), 0.5, 1e-9, "decision at 0.5 is w / 2");
	SF_OK(m.converged, "converged");
	svm_free(&env, &m);
	p.loss = SVM_LOSS_SQUARED_HINGE;
	SF_OK(svm_fit(&env, &p, x, y, 2, 1, &m) == SF_OK, "squared hinge fits");
	SF_NEAR(m.coef[0], 0.8, 1e-9, "squared hinge: w = 0.8");
	svm_free(&env, &m);
}

SF_TEST(test_primal_optimality_and_platt)
{
	size_t		n = 400,
				i;
	uint32_t	p = 3,
				j;
	double	   *x = malloc(sizeof(double) * n * p),
			   *y = malloc(sizeof(double) * n),
				grad[4] = {0, 0, 0, 0},
				gmax = 0.0,
				g1 = 0.0,
				g2 = 0.0,
				t1,
				t0,
				np1 = 0.0,
				np0 = 0.0;
	svm_params	prm = defaults();
	svm_model	m,
				d;
	sf_env		env;
	sf_rng		rng;
	sf_buf		b;
	size_t		len;
	int			all = 1;

	sf_env_init_malloc(&env);
	sf_rng_init(&rng, 5, 0);
	for (i = 0; i < n; i++)
	{
		for (j = 0; j < p; j++)
			x[i * p + j] = sf_rng_normal(&rng);
		y[i] = x[i * p] - 0.5 * x[i * p + 1] + 0.8 * sf_rng_normal(&rng) > 0.3;
	}
	prm.C = 0.5;
	prm.tol = 1e-10;
	prm.max_iter = 100000;
	prm.platt_folds = 0;
	SF_OK(svm_fit(&env, &prm, x, y, n, p, &m) == SF_OK && m.converged, "fits and converges");
	/* gradient of 1/2 ||(w, b)||^2 + C sum max(0, 1 - s f)^2 (the intercept regularised) */
	for (j = 0; j < p; j++)
		grad[j] = m.coef[j];
	grad[p] = m.intercept;
	for (i = 0; i < n; i++)
	{
		double		s = y[i] > 0.5 ? 1.0 : -1.0,
					v = 1.0 - s * svm_decision(&m, x + i * p);

		if (v > 0.0)
		{
			for (j = 0; j < p; j++)
				grad[j] -= 2.0 * prm.C * v * s * x[i * p + j];
			grad[p] -= 2.0 * prm.C * v * s;
		}
	}
	for (j = 0; j <= p; j++)
		gmax = fmax(gmax, fabs(grad[j]));
	SF_OK(gmax < 1e-6, "the primal gradient vanishes at the solution (max %.3g)", gmax);
	/* Platt on the training decision values: its gradient vanishes too */
	for (i = 0; i < n; i++)
	{
		np1 += y[i] > 0.5;
		np0 += y[i] < 0.5;
	}
	t1 = (np1 + 1) / (np1 + 2);
	t0 = 1 / (np0 + 2);
	for (i = 0; i < n; i++)
	{
		double		f = svm_decision(&m, x + i * p);

		g1 += f * ((y[i] > 0.5 ? t1 : t0) - svm_predict(&m, x + i * p));
		g2 += (y[i] > 0.5 ? t1 : t0) - svm_predict(&m, x + i * p);
	}
	SF_OK(fabs(g1) < 1e-4 && fabs(g2) < 1e-4, "Platt's gradient vanishes (%.3g, %.3g)", g1, g2);
	SF_OK(m.platt_a < 0.0, "a larger decision value is a larger probability (A = %.3f)", m.platt_a);

	sf_buf_init(&b, &env);
	SF_OK(svm_encode(&env, &m, &prm, NULL, &b) == SF_OK, "encodes");
	for (len = 0; len < b.len; len++)
		if (svm_decode(&env, b.data, len, &d) == SF_OK)
		{
			all = 0;
			svm_free(&env, &d);
		}
	SF_OK(all, "every truncation of %zu bytes is rejected", b.len);
	SF_OK(svm_decode(&env, b.data, b.len, &d) == SF_OK, "whole bytes decode");
	SF_OK(svm_predict(&d, x) == svm_predict(&m, x), "round trip scores alike");
	svm_free(&env, &d);
	sf_buf_free(&b);
	svm_free(&env, &m);

	/* cross-validated Platt values: another, still monotone, sigmoid */
	prm.platt_folds = 5;
	SF_OK(svm_fit(&env, &prm, x, y, n, p, &m) == SF_OK && m.platt_a < 0.0, "5-fold Platt fits");
	svm_free(&env, &m);
	free(x);
	free(y);
}

SF_TEST(test_errors)
{
	double		x[4] = {1, 2, 3, 4},
				y[4] = {1, 1, 1, 1};
	svm_params	p = defaults();
	svm_model	m;
	sf_env		env;

	sf_env_init_malloc(&env);
	SF_OK(svm_fit(&env, &p, x, y, 4, 1, &m) == SF_EDATA, "one class: SF_EDATA");
	y[0] = 0.0;
	SF_OK(svm_fit(&env, &p, x, y, 4, 1, &m) == SF_EDATA, "5 Platt folds on 4 rows: SF_EDATA");
	p.platt_folds = 1;
	SF_OK(svm_fit(&env, &p, x, y, 4, 1, &m) == SF_EINVAL, "platt_folds 1: SF_EINVAL");
	p.platt_folds = 2;
	x[2] = NAN;
	SF_OK(svm_fit(&env, &p, x, y, 4, 1, &m) == SF_EDATA, "NaN feature: SF_EDATA");
	x[2] = 3.0;
	y[1] = 3.0;
	SF_OK(svm_fit(&env, &p, x, y, 4, 1, &m) == SF_EDATA, "label 3: SF_EDATA");
}

int
main(void)
{
	SF_RUN(test_two_points);
	SF_RUN(test_primal_optimality_and_platt);
	SF_RUN(test_errors);
	return sf_test_done();
}
