/*
 * test_logreg.c
 *	  Unit tests of L2 logistic regression: the optimality conditions at the
 *	  solution (gradient of the objective zero), a one-feature case checked
 *	  against a closed-form fixed point, codec round trip and errors.
 */
#include <math.h>
#include <string.h>

#include "scfrisk/logreg.h"
#include "scfrisk/sf_rng.h"
#include "sf_test.h"

static sf_env env;

#define N 400
#define D 5
static double X[N * D],
			Y[N];

static void
make_data(void)
{
	sf_rng		r;
	int			i,
				j;

	sf_rng_init(&r, 9, 0);
	for (i = 0; i < N; i++)
	{
		double		z = 0.3;

		for (j = 0; j < D; j++)
		{
			X[i * D + j] = sf_rng_normal(&r) * (j + 1);
			z += (j % 2 ? -0.5 : 0.4) * X[i * D + j];
		}
		Y[i] = sf_rng_uniform(&r) < 1.0 / (1.0 + exp(-z));
	}
}

SF_TEST(test_stationary)
{
	logreg_params p;
	logreg_model m,
				back;
	double		g[D + 1] = {0};
	double		gmax = 0;
	int			i,
				j;
	sf_buf		b;

	sf_params_defaults(&logreg_params_table, &p);
	p.C = 0.7;
	SF_OK(logreg_fit(&env, &p, X, Y, N, D, &m) == SF_OK, "fit");
	SF_OK(m.converged, "converged in %d iterations", m.iterations);
	for (j = 0; j < D; j++)
		g[j] = m.coef[j];
	for (i = 0; i < N; i++)
	{
		double		e = p.C * (logreg_predict(&m, X + i * D) - Y[i]);

		for (j = 0; j < D; j++)
			g[j] += e * X[i * D + j];
		g[D] += e;
	}
	for (j = 0; j <= D; j++)
		gmax = fmax(gmax, fabs(g[j]));
	SF_OK(gmax < 1e-7, "gradient at the solution is zero (max %g)", gmax);
	sf_buf_init(&b, &env);
	SF_OK(logreg_encode(&env, &m, &p, NULL, N, &b) == SF_OK, "encode");
	SF_OK(logreg_decode(&env, b.data, b.len, &back) == SF_OK, "decode");
	SF_NEAR(logreg_predict(&back, X), logreg_predict(&m, X), 0, "decoded model scores the same");
	logreg_free(&env, &back);
	{
		size_t		cut;
		int			bad = 0;

		for (cut = 0; cut < b.len; cut++)
			if (logreg_decode(&env, b.data, cut, &back) == SF_OK)
				bad++;
		SF_OK(bad == 0, "every truncation is rejected");
	}
	sf_buf_free(&b);
	logreg_free(&env, &m);
}

SF_TEST(test_intercept_only_case)
{
	/* x = 0 for every row: w = 0 and the intercept is the log-odds */
	double		x[10] = {0},
				y[10] = {1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
	logreg_params p;
	logreg_model m;

	sf_params_defaults(&logreg_params_table, &p);
	SF_OK(logreg_fit(&env, &p, x, y, 10, 1, &m) == SF_OK, "fit");
	SF_NEAR(m.intercept, log(3.0 / 7.0), 1e-9, "intercept is the log-odds");
	SF_NEAR(m.coef[0], 0, 1e-12, "coefficient is zero");
	logreg_free(&env, &m);
	p.fit_intercept = 0;
	x[0] = 1;
	SF_OK(logreg_fit(&env, &p, x, y, 10, 1, &m) == SF_OK, "fit without intercept");
	/* w = C * (1 - sigmoid(w)) at the optimum for the one non-zero row */
	SF_NEAR(m.coef[0], 1.0 - 1.0 / (1.0 + exp(-m.coef[0])), 1e-9, "fixed point w = 1 - sigmoid(w)");
	SF_NEAR(m.intercept, 0, 0, "no intercept");
	logreg_free(&env, &m);
}

SF_TEST(test_errors)
{
	logreg_params p;
	logreg_model m;
	double		x[4] = {1, 2, NAN, 4},
				y[4] = {0, 1, 0, 1},
				y1[4] = {0, 0, 0, 0},
				yb[4] = {0, 1, 0.5, 1};

	sf_params_defaults(&logreg_params_table, &p);
	SF_OK(logreg_fit(&env, &p, x, y, 4, 1, &m) == SF_EDATA, "missing value: %s", env.msg);
	x[2] = 3;
	SF_OK(logreg_fit(&env, &p, x, y1, 4, 1, &m) == SF_EDATA, "one class: %s", env.msg);
	SF_OK(logreg_fit(&env, &p, x, yb, 4, 1, &m) == SF_EDATA, "label 0.5: %s", env.msg);
}

int
main(void)
{
	sf_env_init_malloc(&env);
	make_data();
	SF_RUN(test_stationary);
	SF_RUN(test_intercept_only_case);
	SF_RUN(test_errors);
	return sf_test_done();
}
