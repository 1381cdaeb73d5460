/*
 * test_nb.c
 *	  Unit tests of Gaussian naive Bayes (nb.h) without PostgreSQL: the
 *	  statistics and a score worked by hand on a small data set, var_smoothing,
 *	  byte round trips, every truncation rejected, and the data checks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sf_test.h"
#include "scfrisk/nb.h"

SF_TEST(test_by_hand)
{
	/*
	 * Two features; class 0 rows (1, 2), (3, 2); class 1 rows (2, 0), (4, 4),
	 * (6, 2).  Over every row: means 3.2, 2; variances 2.96, 1.6; epsilon =
	 * 0.01 * 2.96.  Class 0: means 2, 2, variances 1, 0; class 1: means 4, 2,
	 * variances 8/3, 8/3.
	 */
	double		x[10] = {1, 2, 3, 2, 2, 0, 4, 4, 6, 2},
				y[5] = {0, 0, 1, 1, 1},
				q[2] = {3.0, 1.0},
				eps = 0.01 * 2.96,
				v0[2],
				v1[2],
				jll0,
				jll1;
	nb_params	prm;
	nb_model	m,
				d;
	sf_env		env;
	sf_buf		b;
	size_t		len;
	int			all = 1;

	sf_env_init_malloc(&env);
	memset(&prm, 0, sizeof(prm));
	sf_params_defaults(&nb_params_table, &prm);
	SF_NEAR(prm.var_smoothing, 1e-9, 0, "var_smoothing defaults to GaussianNB's 1e-9");
	prm.var_smoothing = 0.01;
	SF_OK(nb_fit(&env, &prm, x, y, 5, 2, &m) == SF_OK, "fits");
	SF_NEAR(m.epsilon, eps, 1e-15, "epsilon is var_smoothing times the largest variance");
	SF_NEAR(m.prior[1], 0.6, 1e-15, "prior of class 1");
	SF_NEAR(m.mean[0], 2.0, 1e-15, "class 0 mean of feature 1");
	SF_NEAR(m.mean[3], 2.0, 1e-15, "class 1 mean of feature 2");
	SF_NEAR(m.var[1], eps, 1e-15, "a zero class variance becomes epsilon");
	SF_NEAR(m.var[2], 8.0 / 3.0 + eps, 1e-14, "class 1 variance plus epsilon");
	v0[0] = 1.0 + eps;
	v0[1] = eps;
	v1[0] = v1[1] = 8.0 / 3.0 + eps;
	jll0 = log(0.4) - 0.5 * (log(2 * M_PI * v0[0]) + log(2 * M_PI * v0[1]))
		- 0.5 * (1.0 / v0[0] + 1.0 / v0[1]);
	jll1 = log(0.6) - 0.5 * (log(2 * M_PI * v1[0]) + log(2 * M_PI * v1[1]))
		- 0.5 * (1.0 / v1[0] + 1.0 / v1[1]);
	SF_NEAR(nb_predict(&m, q), 1.0 / (1.0 + exp(jll0 - jll1)), 1e-14, "score of (3, 1) by hand");

	sf_buf_init(&b, &env);
	SF_OK(nb_encode(&env, &m, &prm, NULL, &b) == SF_OK, "encodes");
	for (len = 0; len < b.len; len++)
		if (nb_decode(&env, b.data, len, &d) == SF_OK)
		{
			all = 0;
			nb_free(&env, &d);
		}
	SF_OK(all, "every truncation of %zu bytes is rejected", b.len);
	SF_OK(nb_decode(&env, b.data, b.len, &d) == SF_OK, "whole bytes decode");
	SF_OK(nb_predict(&d, q) == nb_predict(&m, q), "round trip scores alike");
	nb_free(&env, &d);
	sf_buf_free(&b);
	nb_free(&env, &m);
}

SF_TEST(test_errors)
{
	double		x[6] = {1, 1, 1, 1, 1, 1},
				y[3] = {0, 1, 1};
	nb_params	prm;
	nb_model	m;
	sf_env		env;

	sf_env_init_malloc(&env);
	memset(&prm, 0, sizeof(prm));
	sf_params_defaults(&nb_params_table, &prm);
	SF_OK(nb_fit(&env, &prm, x, y, 3, 2, &m) == SF_EDATA, "every feature constant: SF_EDATA");
	x[0] = 2.0;
	SF_OK(nb_fit(&env, &prm, x, y, 3, 2, &m) == SF_OK, "one varying feature is enough");
	nb_free(&env, &m);
	y[0] = 1.0;
	SF_OK(nb_fit(&env, &prm, x, y, 3, 2, &m) == SF_EDATA, "one class: SF_EDATA");
	y[0] = 0.5;
	SF_OK(nb_fit(&env, &prm, x, y, 3, 2, &m) == SF_EDATA, "label 0.5: SF_EDATA");
	y[0] = 0.0;
	x[3] = NAN;
	SF_OK(nb_fit(&env, &prm, x, y, 3, 2, &m) == SF_EDATA, "NaN feature: SF_EDATA");
}

int
main(void)
{
	SF_RUN(test_by_hand);
	SF_RUN(test_errors);
	return sf_test_done();
}
