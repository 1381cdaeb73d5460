/*
 * test_interval.c
 *	  Unit tests of the bootstrap cores (sf_bootstrap.h) without PostgreSQL:
 *	  the multinomial counts (sum, determinism, streams, the share of rows
 *	  never drawn against its limit e^-1), the expansion of the rows, the
 *	  type-7 quantile and percentile interval against closed forms, the
 *	  interval of PD and EL over replicate curves of U(0, c) laws (PD = L/c,
 *	  EL = L^2 / (2c) in closed form), and a replicate fit equal to a fit of
 *	  the same resample made by hand, for rows and for clusters; the normal
 *	  quantile against tabulated values, and the bias-corrected interval's
 *	  ends at Phi(2 z0 -+ z) on a uniform sample of replicates.
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
	SF_OK(sf_risk_interval_at(&env, &evs[101], reps, 101, L, 0.9, SF_BOOT_PERCENTILE, &iv) == SF_OK, "interval");
	SF_NEAR(iv.point.pd, L / 1.5, 1e-12, "point PD of U(0, 1.5) is L/1.5");
	SF_NEAR(iv.point.el, EL_U(L, 1.5), 1e-12, "point EL of U(0, 1.5)");
	/* the 5% point of PD = L/c is at the 95% point of c, 1.95; the 95% at 1.05 */
	SF_NEAR(iv.lower[SF_IV_PD], L / 1.95, 1e-12, "PD lower = L/1.95");
	SF_NEAR(iv.upper[SF_IV_PD], L / 1.05, 1e-12, "PD upper = L/1.05");
	SF_NEAR(iv.lower[SF_IV_EL], EL_U(L, 1.95), 1e-12, "EL lower = EL of U(0, 1.95)");
	SF_NEAR(iv.upper[SF_IV_EL], EL_U(L, 1.05), 1e-12, "EL upper = EL of U(0, 1.05)");
	SF_OK(iv.replicates == 101 && iv.level == 0.9, "replicates and level reported");
	/* VaR at 0.95 of U(0, c) at rate 0: (L - Q(0.05))^+ = L - 0.05 c (0.05 c is a knot) */
	SF_NEAR(iv.point.var, L - 0.05 * 1.5, 1e-12, "point VaR of U(0, 1.5)");
	SF_NEAR(iv.lower[SF_IV_VAR], L - 0.05 * 1.95, 1e-12, "VaR lower = VaR of U(0, 1.95)");
	SF_NEAR(iv.upper[SF_IV_VAR], L - 0.05 * 1.05, 1e-12, "VaR upper = VaR of U(0, 1.05)");
	/* CVaR: the point's, and ordered ends that bracket the replicates' own */
	SF_OK(iv.lower[SF_IV_CVAR] < iv.upper[SF_IV_CVAR] && iv.lower[SF_IV_CVAR] >= iv.lower[SF_IV_VAR],
		  "CVaR interval ordered and above the VaR's lower end");
	/*
	 * Bias-corrected: the point U(0, 1.5) sits at the median of c in
	 * 1..2 (the replicate c = 1.5 ties: half), so z0 = 0 and the ends are
	 * the percentile ends.
	 */
	SF_OK(sf_risk_interval_at(&env, &evs[101], reps, 101, L, 0.9, SF_BOOT_BC, &iv) == SF_OK, "bc interval");
	SF_NEAR(iv.lower[SF_IV_PD], L / 1.95, 1e-9, "bc PD lower with z0 = 0 = percentile");
	SF_NEAR(iv.upper[SF_IV_EL], EL_U(L, 1.05), 1e-9, "bc EL upper with z0 = 0 = percentile");
	SF_OK(sf_risk_interval_at(&env, &evs[101], reps, 1, L, 0.9, SF_BOOT_PERCENTILE, &iv) == SF_EINVAL, "one replicate: SF_EINVAL");
	SF_OK(sf_risk_interval_at(&env, &evs[101], reps, 101, -1.0, 0.9, SF_BOOT_PERCENTILE, &iv) == SF_EDATA, "negative loan: SF_EDATA");
	SF_OK(sf_risk_interval_at(&env, &evs[101], reps, 101, L, 0.0, SF_BOOT_PERCENTILE, &iv) == SF_EINVAL, "level 0: SF_EINVAL");
	for (b = 0; b < 102; b++)
	{
		sf_risk_eval_free(&env, &evs[b]);
		sf_qcurve_free(&env, &curves[b]);
	}
}

SF_TEST(test_normal)
{
	/* Phi^-1 against tabulated quantiles and Phi(Phi^-1(u)) = u across the tails */
	double		u[] = {1e-12, 1e-6, 0.01, 0.02425, 0.05, 0.3, 0.5, 0.8, 0.975, 0.999999};
	size_t		i;

	SF_NEAR(sf_norm_ppf(0.975), 1.959963984540054, 1e-13, "Phi^-1(0.975)");
	SF_NEAR(sf_norm_ppf(0.05), -1.6448536269514722, 1e-13, "Phi^-1(0.05)");
	SF_NEAR(sf_norm_ppf(1e-6), -4.753424308822899, 1e-11, "Phi^-1(1e-6)");
	SF_NEAR(sf_norm_cdf(1.0), 0.8413447460685429, 1e-15, "Phi(1)");
	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		SF_OK(fabs(sf_norm_cdf(sf_norm_ppf(u[i])) / u[i] - 1.0) < 1e-12, "Phi(Phi^-1(%g)) = %g", u[i], u[i]);
	SF_OK(sf_norm_ppf(0.0) == -INFINITY && sf_norm_ppf(1.0) == INFINITY, "ends of (0, 1)");
}

SF_TEST(test_bc)
{
	sf_env		env;
	double		v[1000],
				w[1000],
				lo,
				hi,
				plo,
				phi,
				z0;
	int			i;

	sf_env_init_malloc(&env);
	/* replicates 0.5/1000 .. 999.5/1000 (a uniform sample) around the point 0.3 */
	for (i = 0; i < 1000; i++)
		v[i] = w[i] = ((double) ((i * 389) % 1000) + 0.5) / 1000.0;
	SF_OK(sf_boot_bc(&env, v, 1000, 0.3, 0.9, &lo, &hi) == SF_OK, "bc interval");
	/*
	 * 300 of 1000 below the point: z0 = Phi^-1(0.3), ends at the type-7
	 * quantiles u 0.999 + 0.0005 of the sample at u = Phi(2 z0 -+ 1.645)
	 */
	z0 = sf_norm_ppf(0.3);
	SF_NEAR(lo, 0.999 * sf_norm_cdf(2 * z0 - 1.6448536269514722) + 0.0005, 1e-12,
			"bc lower end at Phi(2 z0 - z)");
	SF_NEAR(hi, 0.999 * sf_norm_cdf(2 * z0 + 1.6448536269514722) + 0.0005, 1e-12,
			"bc upper end at Phi(2 z0 + z)");
	SF_OK(sf_boot_percentile(&env, w, 1000, 0.9, &plo, &phi) == SF_OK && lo < plo && hi < phi,
		  "a point below the replicates' median moves both ends down");
	/* the point at the median: the percentile interval */
	SF_OK(sf_boot_bc(&env, v, 1000, 0.5, 0.9, &lo, &hi) == SF_OK, "bc at the median");
	SF_NEAR(lo, plo, 1e-9, "z0 = 0: percentile lower end");
	SF_NEAR(hi, phi, 1e-9, "z0 = 0: percentile upper end");
	/* every replicate above the point: z0 stays finite (half a replicate) */
	SF_OK(sf_boot_bc(&env, v, 1000, -1.0, 0.9, &lo, &hi) == SF_OK && isfinite(lo) && lo <= hi,
		  "all replicates above the point: finite ends");
	SF_OK(sf_boot_bc(&env, v, 1, 0.5, 0.9, &lo, &hi) == SF_EINVAL, "one replicate: SF_EINVAL");
}

SF_TEST(test_cluster_rows)
{
	/* clusters {row 0, row 1}, {row 2}, {row 3, row 4} */
	double		X[5] = {1, 2, 3, 4, 5},
				S[5] = {10, 20, 30, 40, 50},
				Xo[7],
				So[7];
	size_t		starts[4] = {0, 2, 3, 5};
	uint32_t	counts[3] = {0, 3, 2};

	SF_OK(sf_boot_cluster_rows(X, S, 1, starts, 3, counts, NULL, NULL) == 7, "3 x 1 + 2 x 2 rows");
	SF_OK(sf_boot_cluster_rows(X, S, 1, starts, 3, counts, Xo, So) == 7, "written");
	SF_OK(Xo[0] == 3 && Xo[1] == 3 && Xo[2] == 3 && Xo[3] == 4 && Xo[4] == 5 && Xo[5] == 4
		  && Xo[6] == 5, "blocks repeated by their cluster's count, in order");
	SF_OK(So[3] == 40 && So[4] == 50 && So[6] == 50, "responses follow their rows");
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
	{
		/* 40 clusters of 10 rows: the cluster replicate is the fit of its block resample */
		size_t		starts[41],
					G = 40,
					g,
					n_out;
		uint32_t	cc[40];
		double	   *Xc,
				   *Sc;

		for (g = 0; g <= G; g++)
			starts[g] = 10 * g;
		SF_OK(sf_qrgmm_boot_fit_clusters(&env, &params, X, S, n, 1, starts, G, 11, 3, &a) == SF_OK,
			  "cluster replicate fit: %s", env.msg ? env.msg : "");
		sf_boot_counts(11, 3, G, cc);
		n_out = sf_boot_cluster_rows(X, S, 1, starts, G, cc, NULL, NULL);
		Xc = malloc(sizeof(double) * n_out);
		Sc = malloc(sizeof(double) * n_out);
		sf_boot_cluster_rows(X, S, 1, starts, G, cc, Xc, Sc);
		SF_OK(sf_qrgmm_fit(&env, &params, Xc, Sc, n_out, 1, &b) == SF_OK, "fit of the cluster resample");
		SF_OK(a && b && memcmp(a->coef, b->coef, sizeof(double) * (size_t) (a->m - 1) * (size_t) a->p) == 0,
			  "same coefficients (%zu rows)", n_out);
		sf_qrgmm_free(&env, a);
		sf_qrgmm_free(&env, b);
		free(Xc);
		free(Sc);
	}
	free(X);
	free(S);
	free(Xo);
	free(So);
	free(counts);
}

/*
 * The tail rule of the replicates (sf_qrgmm_boot_params) is the sample's:
 * on rows whose lower tail is heavier for a fifth of the sellers (a binary
 * covariate; that group's lower half a Pareto tail of shape 1/2) the test
 * of pooling rejects and every replicate takes the exponential tail; on one
 * lognormal law it does not and they take the gpd rule untested; any other
 * tail is kept without a fit.
 */
SF_TEST(test_boot_params)
{
	sf_env		env;
	sf_qrgmm_params params,
				out;
	sf_qrgmm_model *point;
	size_t		n = 4000,
				i;
	double	   *X = malloc(sizeof(double) * n),
			   *S = malloc(sizeof(double) * n);
	sf_rng		rng;
	int			heavy;

	sf_env_init_malloc(&env);
	sf_params_defaults(&sf_qrgmm_param_table, &params);
	SF_OK(params.tail == SF_TAIL_GPD, "the default tail is gpd (with the test of pooling)");
	for (heavy = 1; heavy >= 0; heavy--)
	{
		sf_rng_init(&rng, 17, 0);
		for (i = 0; i < n; i++)
		{
			double		e = sf_rng_normal(&rng);

			X[i] = (i % 5 == 0);
			/* the heavier group's lower half: a Pareto tail of shape 1/2 */
			if (heavy && X[i] == 1 && e < 0)
				e = -2 * (1 / sqrt(sf_rng_uniform_open(&rng)) - 1);
			S[i] = exp(5.0 + 0.3 * X[i] + 0.4 * e);
		}
		SF_OK(sf_qrgmm_boot_params(&env, &params, X, S, n, 1, &out) == SF_OK, "decided: %s",
			  env.msg ? env.msg : "");
		SF_OK(sf_qrgmm_fit(&env, &params, X, S, n, 1, &point) == SF_OK, "point fit");
		SF_OK(point->gpd_pool_rejected == heavy, "%s: pooling %s", heavy ? "a heavier group" : "one law",
			  point->gpd_pool_rejected ? "rejected" : "kept");
		SF_OK(out.tail == (heavy ? SF_TAIL_EXPONENTIAL : SF_QRGMM_TAIL_GPD_POOLED) && out.m == params.m,
			  "replicates take the point model's rule (%d)", out.tail);
		sf_qrgmm_free(&env, point);
	}
	params.tail = SF_TAIL_EXPONENTIAL;
	SF_OK(sf_qrgmm_boot_params(&env, &params, X, S, 0, 1, &out) == SF_OK && out.tail == SF_TAIL_EXPONENTIAL,
		  "another tail: kept, no fit (no rows needed)");
	free(X);
	free(S);
}

int
main(void)
{
	SF_RUN(test_counts);
	SF_RUN(test_rows);
	SF_RUN(test_percentile);
	SF_RUN(test_interval);
	SF_RUN(test_normal);
	SF_RUN(test_bc);
	SF_RUN(test_cluster_rows);
	SF_RUN(test_boot_fit);
	SF_RUN(test_boot_params);
	return sf_test_done();
}
