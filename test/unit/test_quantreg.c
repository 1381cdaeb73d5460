/*
 * test_quantreg.c
 *	  Unit tests of the Frisch-Newton quantile-regression solver
 *	  (src/qrgmm/quantreg.c) against an exact LP solution computed in the test.
 *
 * The exact solver is brute force over basic solutions: a linear
 * quantile-regression optimum is attained at a coefficient vector that
 * interpolates p observations (Koenker and Bassett 1978), so enumerating all
 * p-subsets of the rows, solving each p x p system and keeping the smallest
 * pinball objective gives the LP optimum exactly (up to round-off).  The
 * interior point must match that objective to 1e-7 relative (issue 5).
 */
#include <string.h>

#include "scfrisk/quantreg.h"
#include "scfrisk/sf_rng.h"
#include "sf_test.h"

/* Solve the (p, p) system A x = b by Gaussian elimination; 0 if singular. */
static int
solve_small(double *A, double *b, int p)
{
	int			i,
				j,
				k;

	for (k = 0; k < p; k++)
	{
		int			piv = k;

		for (i = k + 1; i < p; i++)
			if (fabs(A[i * p + k]) > fabs(A[piv * p + k]))
				piv = i;
		if (fabs(A[piv * p + k]) < 1e-12)
			return 0;
		if (piv != k)
		{
			for (j = 0; j < p; j++)
			{
				double		t = A[k * p + j];

				A[k * p + j] = A[piv * p + j];
				A[piv * p + j] = t;
			}
			{
				double		t = b[k];

				b[k] = b[piv];
				b[piv] = t;
			}
		}
		for (i = k + 1; i < p; i++)
		{
			double		f = A[i * p + k] / A[k * p + k];

			for (j = k; j < p; j++)
				A[i * p + j] -= f * A[k * p + j];
			b[i] -= f * b[k];
		}
	}
	for (i = p - 1; i >= 0; i--)
	{
		double		v = b[i];

		for (j = i + 1; j < p; j++)
			v -= A[i * p + j] * b[j];
		b[i] = v / A[i * p + i];
	}
	return 1;
}

/* Exact optimum by enumeration of basic solutions. */
static double
brute_force(const double *X, const double *y, int n, int p, double tau)
{
	int			idx[8];
	double		best = INFINITY;
	int			k;

	for (k = 0; k < p; k++)
		idx[k] = k;
	for (;;)
	{
		double		A[64],
					b[8];
		int			r,
					c;

		for (r = 0; r < p; r++)
		{
			for (c = 0; c < p; c++)
				A[r * p + c] = X[idx[r] * p + c];
			b[r] = y[idx[r]];
		}
		if (solve_small(A, b, p))
		{
			double		obj = sf_qr_objective(X, y, n, p, tau, b);

			if (obj < best)
				best = obj;
		}
		/* next combination */
		k = p - 1;
		while (k >= 0 && idx[k] == n - p + k)
			k--;
		if (k < 0)
			break;
		idx[k]++;
		for (k = k + 1; k < p; k++)
			idx[k] = idx[k - 1] + 1;
	}
	return best;
}

static void
make_problem(sf_rng *rng, double *X, double *y, int n, int p, int heavy)
{
	int			i,
				j;

	for (i = 0; i < n; i++)
	{
		double		mean = 1.0;

		X[i * p] = 1.0;
		for (j = 1; j < p; j++)
		{
			X[i * p + j] = 10.0 * sf_rng_uniform(rng) - 3.0;
			mean += 0.5 * j * X[i * p + j];
		}
		y[i] = mean + (1.0 + 0.2 * fabs(X[i * p + (p > 1 ? 1 : 0)])) *
			(heavy ? sf_rng_normal(rng) / (0.2 + sf_rng_uniform(rng)) : sf_rng_normal(rng));
	}
}

SF_TEST(test_against_exact_lp)
{
	sf_env		env;
	sf_rng		rng;
	static const int sizes[][2] = {{12, 1}, {15, 2}, {25, 2}, {60, 2}, {18, 3}, {30, 3}, {22, 4}};
	static const double taus[] = {0.05, 0.25, 0.5, 0.77, 0.95};
	sf_qr_options opt = {SF_QR_DEFAULT_EPS, SF_QR_DEFAULT_MAX_ITER};
	int			s,
				t,
				bad = 0,
				total = 0,
				unconv = 0;
	double		worst = 0.0;

	sf_env_init_malloc(&env);
	sf_rng_init(&rng, 2026, 5);
	for (s = 0; s < (int) (sizeof(sizes) / sizeof(sizes[0])); s++)
	{
		int			n = sizes[s][0],
					p = sizes[s][1];
		double		X[64 * 4],
					y[64],
					beta[4];
		sf_qr_work *w;

		make_problem(&rng, X, y, n, p, s % 2);
		SF_OK(sf_qr_work_new(&env, n, p, &w) == SF_OK, "workspace %d x %d", n, p);
		for (t = 0; t < 5; t++)
		{
			sf_qr_info info;
			double		exact = brute_force(X, y, n, p, taus[t]);
			double		obj;
			double		relerr;

			if (sf_qr_solve(&env, w, X, y, n, p, taus[t], NULL, &opt, beta, &info) != SF_OK)
			{
				bad++;
				continue;
			}
			obj = sf_qr_objective(X, y, n, p, taus[t], beta);
			relerr = (obj - exact) / (fabs(exact) + 1e-300);
			if (relerr > worst)
				worst = relerr;
			if (relerr > 1e-7 || relerr < -1e-9)
				bad++;
			if (!info.converged)
				unconv++;
			total++;
		}
		sf_qr_work_free(&env, w);
	}
	SF_OK(bad == 0, "interior point matches the exact LP objective to 1e-7 relative on %d problems (worst %.3g)",
		  total, worst);
	SF_OK(unconv == 0, "every solve converged (%d did not)", unconv);
}

/* Larger problem: warm start and standardisation give the same optimum. */
SF_TEST(test_warm_and_standardized)
{
	sf_env		env;
	sf_rng		rng;
	int			n = 3000,
				p = 5;
	double	   *X = malloc(sizeof(double) * n * p);
	double	   *Xs = malloc(sizeof(double) * n * p);
	double	   *y = malloc(sizeof(double) * n);
	double		beta[5],
				beta2[5],
				beta3[5],
				center[5],
				scale[5];
	sf_qr_work *w;
	sf_qr_info	info,
				info2;
	sf_qr_options opt = {SF_QR_DEFAULT_EPS, SF_QR_DEFAULT_MAX_ITER};
	int			bad_col;
	double		o1,
				o2,
				o3;

	sf_env_init_malloc(&env);
	sf_rng_init(&rng, 7, 0);
	make_problem(&rng, X, y, n, p, 1);
	memcpy(Xs, X, sizeof(double) * n * p);
	SF_OK(sf_qr_work_new(&env, n, p, &w) == SF_OK, "workspace");
	SF_OK(sf_qr_solve(&env, w, X, y, n, p, 0.3, NULL, &opt, beta, &info) == SF_OK, "cold solve");
	SF_OK(info.converged && info.iterations < 60, "cold solve converged in %d iterations", info.iterations);
	SF_OK(sf_qr_solve(&env, w, X, y, n, p, 0.32, beta, &opt, beta2, &info2) == SF_OK, "warm solve");
	SF_OK(sf_qr_solve(&env, w, X, y, n, p, 0.32, NULL, &opt, beta3, &info) == SF_OK, "cold solve at 0.32");
	o2 = sf_qr_objective(X, y, n, p, 0.32, beta2);
	o3 = sf_qr_objective(X, y, n, p, 0.32, beta3);
	SF_REL(o2, o3, 1e-8, "warm and cold starts reach the same objective");
	SF_OK(info2.converged, "warm solve converged in %d iterations (cold %d)", info2.iterations, info.iterations);

	SF_OK(sf_qr_standardize(&env, Xs, n, p, center, scale, &bad_col) == SF_OK, "standardise");
	SF_OK(sf_qr_check_rank(&env, Xs, n, p, 1e-10, &bad_col) == SF_OK, "full rank");
	SF_OK(sf_qr_solve(&env, w, Xs, y, n, p, 0.3, NULL, &opt, beta2, &info) == SF_OK, "standardised solve");
	sf_qr_unstandardize(p, center, scale, 0.0, 1.0, beta2);
	o1 = sf_qr_objective(X, y, n, p, 0.3, beta);
	o2 = sf_qr_objective(X, y, n, p, 0.3, beta2);
	SF_REL(o2, o1, 1e-8, "standardised solve mapped back has the same objective");
	sf_qr_work_free(&env, w);
	free(X);
	free(Xs);
	free(y);
}

/* Preprocessing gives the full-data optimum, cold and warm. */
SF_TEST(test_portnoy_koenker)
{
	sf_env		env;
	sf_rng		rng;
	int			n = 40000,
				p = 6,
				t,
				bad = 0;
	double	   *X = malloc(sizeof(double) * n * p);
	double	   *y = malloc(sizeof(double) * n);
	double		full[6],
				pk[6],
				prev[6];
	sf_qr_work *w;
	sf_qr_options opt = {SF_QR_DEFAULT_EPS, SF_QR_DEFAULT_MAX_ITER};
	static const double taus[] = {0.01, 0.02, 0.3, 0.5, 0.51, 0.97, 0.99};
	double		worst = 0.0;
	int			rows = 0;

	sf_env_init_malloc(&env);
	sf_rng_init(&rng, 77, 0);
	make_problem(&rng, X, y, n, p, 1);
	SF_OK(sf_qr_work_new(&env, n, p, &w) == SF_OK, "workspace");
	SF_OK(sf_qr_pk_prepare(&env, w, X, n, p) == SF_OK, "prepare");
	for (t = 0; t < 7; t++)
	{
		sf_qr_info i1,
					i2;
		double		o1,
					o2;

		if (sf_qr_solve(&env, w, X, y, n, p, taus[t], NULL, &opt, full, &i1) != SF_OK ||
			sf_qr_solve_pk(&env, w, X, y, n, p, taus[t], t > 0 ? prev : NULL, &opt, 5, pk, &i2) != SF_OK)
		{
			bad++;
			continue;
		}
		o1 = sf_qr_objective(X, y, n, p, taus[t], full);
		o2 = sf_qr_objective(X, y, n, p, taus[t], pk);
		if (fabs(o2 - o1) / o1 > worst)
			worst = fabs(o2 - o1) / o1;
		if (fabs(o2 - o1) > 1e-8 * o1)
			bad++;
		if (i2.pk_rows > rows)
			rows = i2.pk_rows;
		memcpy(prev, pk, sizeof(prev));
	}
	SF_OK(bad == 0, "preprocessed solutions match the full solve to 1e-8 relative (worst %.3g)", worst);
	SF_OK(rows > 0 && rows < n / 2, "the reduced problem is small (%d of %d rows)", rows, n);
	sf_qr_work_free(&env, w);
	free(X);
	free(y);
}

SF_TEST(test_design_checks)
{
	sf_env		env;
	int			n = 50,
				p = 4,
				i,
				bad_col;
	double		X[200],
				c[4],
				s[4];
	sf_rng		rng;

	sf_env_init_malloc(&env);
	sf_rng_init(&rng, 1, 1);
	for (i = 0; i < n; i++)
	{
		X[i * p] = 1.0;
		X[i * p + 1] = sf_rng_uniform(&rng);
		X[i * p + 2] = 3.0;
		X[i * p + 3] = sf_rng_uniform(&rng);
	}
	SF_OK(sf_qr_standardize(&env, X, n, p, c, s, &bad_col) == SF_EDATA && bad_col == 2,
		  "constant column found (%d): %s", bad_col, env.msg);
	for (i = 0; i < n; i++)
		X[i * p + 2] = 2.0 * X[i * p + 1] - 1.0;	/* collinear with column 1 */
	SF_OK(sf_qr_standardize(&env, X, n, p, c, s, &bad_col) == SF_OK, "standardise");
	SF_OK(sf_qr_check_rank(&env, X, n, p, 1e-10, &bad_col) == SF_EDATA && bad_col == 2,
		  "collinear column found (%d): %s", bad_col, env.msg);
}

SF_TEST(test_bad_tau)
{
	sf_env		env;
	sf_qr_work *w;
	double		X[2] = {1, 1},
				y[2] = {0, 1},
				beta[1];
	sf_qr_info	info;
	sf_qr_options opt = {SF_QR_DEFAULT_EPS, SF_QR_DEFAULT_MAX_ITER};

	sf_env_init_malloc(&env);
	SF_OK(sf_qr_work_new(&env, 2, 1, &w) == SF_OK, "workspace");
	SF_OK(sf_qr_solve(&env, w, X, y, 2, 1, 1.0, NULL, &opt, beta, &info) == SF_EINVAL, "tau = 1 rejected");
	SF_OK(sf_qr_solve(&env, w, X, y, 2, 1, NAN, NULL, &opt, beta, &info) == SF_EINVAL, "tau NaN rejected");
	sf_qr_work_free(&env, w);
}

int
main(void)
{
	SF_RUN(test_against_exact_lp);
	SF_RUN(test_warm_and_standardized);
	SF_RUN(test_portnoy_koenker);
	SF_RUN(test_design_checks);
	SF_RUN(test_bad_tau);
	return sf_test_done();
}
