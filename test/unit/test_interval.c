/*
 * test_interval.c
 *	  Unit tests of the bootstrap cores (sf_bootstrap.h) without PostgreSQL:
 *	  the multinomial counts (sum, determinism, streams, the share of rows
 *	  never drawn against its limit e^-1), the expansion of the rows, the
 *	  type-7 quantile and percentile interval against closed forms, the
 *	  interval of PD and EL over replicate curves of U(0, c) laws (PD = L/c,
 *	  EL = L^2 / (2c) in closed form), and a replicate fit equal to a fit of
 *	  the same resample made by hand.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_bootstrap.h"
#include "scfrisk/sf_rng.h"
#include "sf_test.h"

#define M_GRID 100
#define EL_U(L, c) ((L) * (L) / (2.0 * (c)) - (c) / (2.0 * M_GRID * M_GRID))

SF_TEST(test_counts)
{
	size_t		n = 20000,
				i,
				zeros = 0,
				sum = 0,
				same = 1,
				diff = 0;
	uint32_t   *a = malloc(sizeof(uint32_t) * n),
			   *b = malloc(sizeof(uint32_t) * n),
			   *c = malloc(sizeof(uint32_t) * n);
	double		share,
				sd;

	sf_boot_counts(7, 0, n, a);
	sf_boot_counts(7, 0, n, b);
	sf_boot_counts(7, 1, n, c);
	for (i = 0; i < n; i++)
	{
		sum += a[i];
		zeros += a[i] == 0;
		same &= a[i] == b[i];
		diff += a[i] != c[i];
	}
	SF_OK(sum == n, "counts sum to n (%zu)", sum);
	SF_OK(same, "same seed and replicate: same counts");
	SF_OK(diff > n / 2, "another replicate: other counts (%zu of %zu rows differ)", diff, n);
	/* P(row never drawn) = (1 - 1/n)^n -> e^-1; the share's sd is below sqrt(p(1-p)/n) */
	share = (double) zeros / (double) n;
	sd = sqrt(exp(-1.0) * (1 - exp(-1.0)) / (double) n);
	SF_NEAR(share, pow(1.0 - 1.0 / (double) n, (double) n), 5 * sd, "share of rows never drawn");
	sf_boot_counts(8, 0, n, c);
	for (i = 0, diff = 0; i < n; i++)
		diff += a[i] != c[i];
	SF_OK(diff > n / 2, "another seed: other counts (%zu differ)", diff);
	free(a);
	free(b);
	free(c);
}

SF_TEST(test_rows)
{
	double		X[6] = {1, 2, 3, 4, 5, 6},
				S[3] = {10, 20, 30},
				Xo[6],
				So[3];
	uint32_t	counts[3] = {2, 0, 1};

	sf_boot_rows(X, S, 3, 2, counts, Xo, So);
	SF_OK(Xo[0] == 1 && Xo[1] == 2 && Xo[2] == 1 && Xo[3] == 2 && Xo[4] == 5 && Xo[5] == 6,
		  "rows repeated by their counts, in order");
	SF_OK(So[0] == 10 && So[1] == 10 && So[2] == 30, "responses follow their rows");
}

SF_TEST(test_percentile)
{
	sf_env		env;
	double		v[101],
				lo,
				hi;
	int			i;

	sf_env_init_malloc(&env);
	for (i = 0; i <= 100; i++)
		v[i] = (double) ((i * 37) % 101);	/* 0..100 shuffled */
	SF_OK(sf_boot_percentile(&env, v, 101, 0.9, &lo, &hi) == SF_OK, "percentile of 0..100");
	SF_NEAR(lo, 5.0, 1e-12, "5% point of 0..100");
	SF_NEAR(hi, 95.0, 1e-12, "95% point of 0..100");
	SF_NEAR(sf_boot_quantile(v, 101, 0.123), 12.3, 1e-12, "type-7 interpolation");
	{
		double		w[4] = {3, 1, 4, 2};

		/* type 7 on {1,2,3,4}: h = u (n - 1) */
		SF_OK(sf_boot_percentile(&env, w, 4, 0.5, &lo, &hi) == SF_OK, "percentile of 4 values");
		SF_NEAR(lo, 1.75, 1e-12, "25% point of 1..4 is 1.75");
		SF_NEAR(hi, 3.25, 1e-12, "75% point of 1..4 is 3.25");
	}
	v[3] = NAN;
	SF_OK(sf_boot_percentile(&env, v, 101, 0.9, &lo, &hi) == SF_EDATA, "NaN replicate: SF_EDATA");
	SF_OK(sf_boot_percentile(&env, v, 101, 1.0, &lo, &hi) == SF_EINVAL, "level 1: SF_EINVAL");
	SF_OK(sf_boot_percentile(&env, v, 1, 0.9, &lo, &hi) == SF_EINVAL, "one replicate: SF_EINVAL");
}

/*
 * Identity curve of U(0, c): knots c j/m.  Its flat lower tail (an atom at
 * c/m on [0, 1/m)) makes EL(L) = L^2 / (2c) - c / (2 m^2) exactly.
 */
static void
uniform_eval(sf_env *env, double c, sf_qcurve *curve, sf_risk_eval *ev)
{
	double		q[M_GRID];
	sf_risk_terms t;
	int			j;

	for (j = 1; j < M_GRID; j++)
		q[j - 1] = c * (double) j / M_GRID;
	if (sf_qcurve_build(env, q, M_GRID, SF_TRANSFORM_IDENTITY, curve) != SF_OK)
		abort();
	sf_params_defaults(&sf_risk_terms_table, &t);
	t.rate = 0.0;
	if (sf_risk_eval_curve(env, &t, curve, ev) != SF_OK)
		abort();
}

SF_TEST(test_interval)
{
	sf_env		env;
	sf_qcurve	curves[102];
	sf_risk_eval evs[102];
	const sf_risk_eval *reps[101];
	sf_risk_interval iv;
	double		L = 0.5;
	int			b;

	sf_env_init_malloc(&env);
	uniform_eval(&env, 1.5, &curves[101], &evs[101]);
	/* replicates U(0, 1 + k/100), k = 0..100, in a shuffled order */
	for (b = 0; b <= 100; b++)
	{
		uniform_eval(&env, 1.0 + (double) ((b * 37) % 101) / 100.0, &curves[b], &evs[b]);
		reps[b] = &evs[b];
	}
	SF_OK(sf_risk_interval_at(&env, &evs[101], reps, 101, L, 0.9, &iv) == SF_OK, "interval");
	SF_NEAR(iv.point.pd, L / 1.5, 1e-12, "point PD of U(0, 1.5) is L/1.5");
	SF_NEAR(iv.point.el, EL_U(L, 1.5), 1e-12, "point EL of U(0, 1.5)");
	/* the 5% point of PD = L/c is at the 95% point of c, 1.95; the 95% at 1.05 */
	SF_NEAR(iv.pd_lower, L / 1.95, 1e-12, "PD lower = L/1.95");
	SF_NEAR(iv.pd_upper, L / 1.05, 1e-12, "PD upper = L/1.05");
	SF_NEAR(iv.el_lower, EL_U(L, 1.95), 1e-12, "EL lower = EL of U(0, 1.95)");
	SF_NEAR(iv.el_upper, EL_U(L, 1.05), 1e-12, "EL upper = EL of U(0, 1.05)");
	SF_OK(iv.replicates == 101 && iv.level == 0.9, "replicates and level reported");
	SF_OK(sf_risk_interval_at(&env, &evs[101], reps, 1, L, 0.9, &iv) == SF_EINVAL, "one replicate: SF_EINVAL");
	SF_OK(sf_risk_interval_at(&env, &evs[101], reps, 101, -1.0, 0.9, &iv) == SF_EDATA, "negative loan: SF_EDATA");
	SF_OK(sf_risk_interval_at(&env, &evs[101], reps, 101, L, 0.0, &iv) == SF_EINVAL, "level 0: SF_EINVAL");
	for (b = 0; b < 102; b++)
	{
		sf_risk_eval_free(&env, &evs[b]);
		sf_qcurve_free(&env, &curves[b]);
	}
}

/* A replicate fit is the fit of the resample: same coefficients, bit for bit. */
SF_TEST(test_boot_fit)
{
	sf_env		env;
	sf_qrgmm_params params;
	sf_qrgmm_model *a = NULL,
			   *b = NULL;
	size_t		n = 400,
				i;
	double	   *X = malloc(sizeof(double) * n),
			   *S = malloc(sizeof(double) * n),
			   *Xo = malloc(sizeof(double) * n),
			   *So = malloc(sizeof(double) * n);
	uint32_t   *counts = malloc(sizeof(uint32_t) * n);
	sf_rng		rng;

	sf_env_init_malloc(&env);
	sf_rng_init(&rng, 5, 0);
	for (i = 0; i < n; i++)
	{
		X[i] = sf_rng_normal(&rng);
		S[i] = exp(1.0 + 0.5 * X[i] + 0.3 * sf_rng_normal(&rng));
	}
	sf_params_defaults(&sf_qrgmm_param_table, &params);
	params.m = 20;
	SF_OK(sf_qrgmm_boot_fit(&env, &params, X, S, n, 1, 11, 3, &a) == SF_OK, "replicate fit: %s",
		  env.msg ? env.msg : "");
	sf_boot_counts(11, 3, n, counts);
	sf_boot_rows(X, S, n, 1, counts, Xo, So);
	SF_OK(sf_qrgmm_fit(&env, &params, Xo, So, n, 1, &b) == SF_OK, "fit of the resample");
	SF_OK(a && b && a->m == b->m && a->p == b->p
		  && memcmp(a->coef, b->coef, sizeof(double) * (size_t) (a->m - 1) * (size_t) a->p) == 0,
		  "same coefficients");
	sf_qrgmm_free(&env, a);
	sf_qrgmm_free(&env, b);
	SF_OK(sf_qrgmm_boot_fit(&env, &params, X, S, 0, 1, 11, 3, &b) == SF_EDATA, "no rows: SF_EDATA");
	free(X);
	free(S);
	free(Xo);
	free(So);
	free(counts);
}

int
main(void)
{
	SF_RUN(test_counts);
	SF_RUN(test_rows);
	SF_RUN(test_percentile);
	SF_RUN(test_interval);
	SF_RUN(test_boot_fit);
	return sf_test_done();
}
