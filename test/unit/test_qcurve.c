/*
 * test_qcurve.c
 *	  Unit tests of the QRGMM quantile curve (src/qrgmm/qcurve.c) against closed
 *	  forms: rearrangement and flat tails, quantile/CDF inverse pairs, the
 *	  flat-tail atoms, the log1p segment formulas of methods/qrgmm_scf.md
 *	  section 2.3, partial moments against fine numerical integration
 *	  (composite Simpson on u, independent of the closed forms), and the
 *	  stratified and random generators; the linear, exponential and GPD tails.
 */
#include <string.h>

#include "scfrisk/sf_qcurve.h"
#include "scfrisk/sf_rng.h"
#include "sf_test.h"

/* Qhat_S(u) recomputed from the definition (section 2.2, step 7) */
static double
ref_quantile(const double *qa, int m, sf_transform t, double u)
{
	int			j = (int) floor(m * u);
	double		y;

	if (j >= m)
		y = qa[m];
	else
		y = qa[j] + (m * u - j) * (qa[j + 1] - qa[j]);
	return t == SF_TRANSFORM_LOG1P ? expm1(y) : y;
}

/* Simpson integral of Qhat_S over [0, p], with N panels per segment */
static double
ref_integral(const double *qa, int m, sf_transform t, double p)
{
	double		total = 0.0;
	int			j;
	int			N = 64;

	for (j = 0; j < m; j++)
	{
		double		a = (double) j / m;
		double		b = (double) (j + 1) / m;
		double		h;
		int			k;
		double		s;

		if (a >= p)
			break;
		if (b > p)
			b = p;
		h = (b - a) / N;
		s = ref_quantile(qa, m, t, a) + ref_quantile(qa, m, t, b - 1e-15);
		for (k = 1; k < N; k++)
			s += (k % 2 ? 4.0 : 2.0) * ref_quantile(qa, m, t, a + k * h);
		total += s * h / 3.0;
	}
	return total;
}

static int
cmp_double_asc(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

static const double test_q[] = {0.5, 0.9, 1.4, 1.3, 2.0, 2.1, 2.6, 3.5, 4.0};	/* m = 10, one crossing */
#define TEST_M 10

SF_TEST(test_build_rearranges)
{
	sf_env		env;
	sf_qcurve	c;
	int			j,
				sorted = 1;

	sf_env_init_malloc(&env);
	SF_OK(sf_qcurve_build(&env, test_q, TEST_M, SF_TRANSFORM_IDENTITY, &c) == SF_OK, "build");
	SF_OK(c.m == TEST_M, "m stored");
	SF_OK(c.crossings == 1, "one crossing counted (%d)", c.crossings);
	for (j = 0; j < TEST_M; j++)
		if (c.qa[j] > c.qa[j + 1])
			sorted = 0;
	SF_OK(sorted, "knots sorted after rearrangement");
	SF_OK(c.qa[0] == 0.5 && c.qa[1] == 0.5, "flat lower tail qa_0 = q_1");
	SF_OK(c.qa[TEST_M] == 4.0 && c.qa[TEST_M - 1] == 4.0, "flat upper tail qa_m = q_{m-1}");
	SF_OK(c.qa[3] == 1.3 && c.qa[4] == 1.4, "crossing pair swapped");
	sf_qcurve_free(&env, &c);
}

SF_TEST(test_errors)
{
	sf_env		env;
	sf_qcurve	c;
	double		bad[3] = {1.0, NAN, 2.0};
	double		big[3] = {1.0, 2.0, 800.0};

	sf_env_init_malloc(&env);
	SF_OK(sf_qcurve_build(&env, bad, 1, SF_TRANSFORM_IDENTITY, &c) == SF_EINVAL, "m < 2 rejected");
	SF_OK(sf_qcurve_build(&env, bad, 4, SF_TRANSFORM_IDENTITY, &c) == SF_EDATA, "NaN quantile rejected");
	SF_OK(env.msg && strstr(env.msg, "not finite"), "message names the problem: %s", env.msg);
	SF_OK(sf_qcurve_build(&env, big, 4, SF_TRANSFORM_LOG1P, &c) == SF_EDATA, "log1p overflow rejected");
	SF_OK(sf_qcurve_build(&env, big, 4, SF_TRANSFORM_IDENTITY, &c) == SF_OK, "identity accepts 800");
	sf_qcurve_free(&env, &c);
	SF_OK(sf_qcurve_build(&env, big, 4, (sf_transform) 7, &c) == SF_EINVAL, "unknown transform rejected");
}

static void
check_transform(sf_transform t, const char *name)
{
	sf_env		env;
	sf_qcurve	c;
	int			j,
				i,
				bad_inv = 0,
				bad_q = 0,
				bad_int = 0,
				bad_part = 0;
	double		maxerr = 0.0;

	sf_env_init_malloc(&env);
	SF_OK(sf_qcurve_build(&env, test_q, TEST_M, t, &c) == SF_OK, "%s: build", name);

	/* quantile equals the definition everywhere, incl. flat tails */
	for (i = 0; i <= 1000; i++)
	{
		double		u = i / 1000.0;

		if (fabs(sf_qcurve_quantile(&c, u) - ref_quantile(c.qa, c.m, t, u)) > 1e-12)
			bad_q++;
	}
	SF_OK(bad_q == 0, "%s: quantile matches the definition on 1001 points (%d off)", name, bad_q);

	/* inverse pairs: cdf(quantile(u)) = u where the curve is strictly increasing */
	for (i = 1; i < 1000; i++)
	{
		double		u = i / 1000.0 + 1e-4;
		int			j0 = (int) floor(u * TEST_M);

		if (j0 == 0 || j0 >= TEST_M - 1)
			continue;			/* flat tail segments: no inverse */
		if (fabs(sf_qcurve_cdf(&c, sf_qcurve_quantile(&c, u)) - u) > 1e-12)
			bad_inv++;
	}
	SF_OK(bad_inv == 0, "%s: cdf(quantile(u)) = u on the increasing part (%d off)", name, bad_inv);

	/* atoms of mass 1/m at the flat tails; cdf is the left limit P(S < s) */
	{
		double		lo = sf_transform_inverse(t, c.qa[0]);
		double		hi = sf_transform_inverse(t, c.qa[TEST_M]);

		SF_NEAR(sf_qcurve_cdf(&c, lo), 0.0, 0, "cdf at the lower atom is 0 (left limit)");
		SF_OK(sf_qcurve_cdf(&c, lo + 1e-9 * (1 + fabs(lo))) >= 1.0 / TEST_M,
			  "%s: cdf just above the lower atom jumps by >= 1/m", name);
		SF_NEAR(sf_qcurve_cdf(&c, hi), (TEST_M - 1.0) / TEST_M, 1e-12, "cdf at the upper atom is 1 - 1/m");
		SF_NEAR(sf_qcurve_cdf(&c, hi + 1e-9 * (1 + fabs(hi))), 1.0, 0, "cdf above the upper atom is 1");
		SF_NEAR(sf_qcurve_cdf(&c, -1e300), 0.0, 0, "cdf far below is 0");
	}

	/* integral against Simpson, and partial(s) = integral(cdf(s)) */
	for (i = 0; i <= 200; i++)
	{
		double		p = i / 200.0;
		double		a = sf_qcurve_integral(&c, p);
		double		b = ref_integral(c.qa, c.m, t, p);

		if (fabs(a - b) > 1e-9 * (1 + fabs(b)))
			bad_int++;
		if (fabs(a - b) > maxerr)
			maxerr = fabs(a - b);
	}
	SF_OK(bad_int == 0, "%s: integral_0^p Qhat_S matches Simpson on 201 points (max err %.3g)", name, maxerr);
	for (i = 0; i <= 300; i++)
	{
		double		s = sf_transform_inverse(t, 0.3 + 4.0 * i / 300.0);
		double		F;
		double		I = sf_qcurve_partial(&c, s, &F);

		if (fabs(I - ref_integral(c.qa, c.m, t, F)) > 1e-9 * (1 + fabs(I)))
			bad_part++;
		if (F != sf_qcurve_cdf(&c, s))
			bad_part++;
	}
	SF_OK(bad_part == 0, "%s: partial moment I(s) matches Simpson at F(s) on 301 points", name);
	SF_NEAR(c.prefix[TEST_M], ref_integral(c.qa, c.m, t, 1.0), 1e-9, "mean = prefix[m]");

	/* prefix sums by the formulas of section 2.3 */
	if (t == SF_TRANSFORM_LOG1P)
	{
		int			bad = 0;

		for (j = 0; j < TEST_M; j++)
		{
			double		D = c.qa[j + 1] - c.qa[j];
			double		seg = D == 0.0 ? (exp(c.qa[j]) - 1.0) / TEST_M
				: (exp(c.qa[j + 1]) - exp(c.qa[j])) / (TEST_M * D) - 1.0 / TEST_M;

			if (fabs(c.prefix[j + 1] - c.prefix[j] - seg) > 1e-12)
				bad++;
		}
		SF_OK(bad == 0, "log1p: full segments follow (e^{qa_j+1} - e^{qa_j})/(m D_j) - 1/m, flat (e^{qa_j} - 1)/m");
		/* partial segment: (e^{T(s)} - e^{qa_j})/(m D_j) - (F - j/m) */
		{
			double		s = expm1(2.05);
			double		F;
			double		I = sf_qcurve_partial(&c, s, &F);
			int			jj = 5;	/* qa_5 = 2.0 < 2.05 <= qa_6 = 2.1 */
			double		D = c.qa[jj + 1] - c.qa[jj];
			double		want = c.prefix[jj] + (exp(2.05) - exp(c.qa[jj])) / (TEST_M * D)
				- (F - (double) jj / TEST_M);

			SF_NEAR(F, (jj + 0.5) / TEST_M, 1e-12, "log1p: F on a partial segment");
			SF_NEAR(I, want, 1e-12, "log1p: partial segment formula");
		}
	}
	else
	{
		int			bad = 0;

		for (j = 0; j < TEST_M; j++)
			if (fabs(c.prefix[j + 1] - c.prefix[j] - (c.qa[j] + c.qa[j + 1]) / (2.0 * TEST_M)) > 1e-14)
				bad++;
		SF_OK(bad == 0, "identity: trapezoid prefix sums");
	}

	/* stratified draws are the curve at (k + 0.5)/K and sorted */
	{
		size_t		K = 10007;
		double	   *out = malloc(K * sizeof(double));
		int			bad = 0;
		size_t		k;
		double		mean = 0.0;

		sf_qcurve_stratified(&c, out, K);
		for (k = 0; k < K; k++)
		{
			if (fabs(out[k] - sf_qcurve_quantile(&c, (k + 0.5) / K)) > 1e-12 * (1 + fabs(out[k])))
				bad++;
			if (k > 0 && out[k] < out[k - 1])
				bad++;
			mean += out[k];
		}
		mean /= K;
		SF_OK(bad == 0, "%s: stratified draws sorted and on the curve", name);
		SF_NEAR(mean, c.prefix[TEST_M], 1e-3, "stratified mean close to the exact mean");
		free(out);
	}

	/* random draws: reproducible, mean within 5 standard errors */
	{
		size_t		K = 200000;
		double	   *a = malloc(K * sizeof(double));
		double	   *b = malloc(K * sizeof(double));
		sf_rng		r1,
					r2;
		double		mean = 0.0,
					m2 = 0.0,
					se;
		size_t		k;
		int			below = 0;
		double		s_med = sf_qcurve_quantile(&c, 0.37);

		sf_rng_init(&r1, 99, 1);
		sf_rng_init(&r2, 99, 1);
		sf_qcurve_sample(&c, &r1, a, K);
		sf_qcurve_sample(&c, &r2, b, K);
		SF_OK(memcmp(a, b, K * sizeof(double)) == 0, "%s: same seed, same draws", name);
		for (k = 0; k < K; k++)
		{
			mean += a[k];
			m2 += a[k] * a[k];
			if (a[k] < s_med)
				below++;
		}
		mean /= K;
		se = sqrt((m2 / K - mean * mean) / K);
		SF_NEAR(mean, c.prefix[TEST_M], 5 * se, "random mean within 5 SE of the exact mean");
		SF_NEAR((double) below / K, 0.37, 5 * sqrt(0.37 * 0.63 / K), "random draws below Q(0.37)");
		free(a);
		free(b);
	}
	sf_qcurve_free(&env, &c);
}

SF_TEST(test_identity)
{
	check_transform(SF_TRANSFORM_IDENTITY, "identity");
}

SF_TEST(test_log1p)
{
	check_transform(SF_TRANSFORM_LOG1P, "log1p");
}

SF_TEST(test_transform)
{
	SF_NEAR(sf_transform_apply(SF_TRANSFORM_LOG1P, expm1(1.7)), 1.7, 1e-15, "log1p inverse pair");
	SF_OK(isinf(sf_transform_apply(SF_TRANSFORM_LOG1P, -1.0)), "log1p(-1) is -inf");
	SF_OK(sf_transform_apply(SF_TRANSFORM_IDENTITY, -3.0) == -3.0, "identity");
}

/* a constant curve: every functional must stay finite */
SF_TEST(test_degenerate)
{
	sf_env		env;
	sf_qcurve	c;
	double		q[4] = {2.0, 2.0, 2.0, 2.0};
	double		F;

	sf_env_init_malloc(&env);
	SF_OK(sf_qcurve_build(&env, q, 5, SF_TRANSFORM_LOG1P, &c) == SF_OK, "constant curve builds");
	SF_NEAR(sf_qcurve_cdf(&c, expm1(2.0)), 0.0, 0, "cdf at the single atom is 0");
	SF_NEAR(sf_qcurve_cdf(&c, expm1(2.0) + 1e-9), 1.0, 0, "cdf above is 1");
	SF_NEAR(sf_qcurve_partial(&c, 1e9, &F), expm1(2.0), 1e-12, "mean is the atom");
	SF_NEAR(sf_qcurve_quantile(&c, 0.5), expm1(2.0), 1e-12, "quantile is the atom");
	sf_qcurve_free(&env, &c);
}

/*
 * Linear tails: the outer knots extend the first and last fitted segments
 * (the lower one clipped at zero sales), there are no atoms, and every exact
 * functional still agrees with quadrature of the piecewise-linear curve.
 */
SF_TEST(test_linear_tails)
{
	sf_env		env;
	sf_qcurve	flat,
				lin;
	double		q[TEST_M - 1];
	double		qpos[TEST_M - 1];
	int			j;

	sf_env_init_malloc(&env);
	for (j = 0; j < TEST_M - 1; j++)
	{
		q[j] = test_q[j] - 1.0;		/* first knots below zero: no clipping */
		qpos[j] = test_q[j] * 0.1 - 0.04;	/* 2 q_1 - q_2 < 0 <= q_1: clipped */
	}
	SF_OK(sf_qcurve_build_tail(&env, q, TEST_M, SF_TRANSFORM_IDENTITY, SF_TAIL_LINEAR, &lin) == SF_OK,
		  "build with linear tails");
	SF_OK(sf_qcurve_build(&env, q, TEST_M, SF_TRANSFORM_IDENTITY, &flat) == SF_OK, "build with flat tails");
	SF_NEAR(lin.qa[0], 2 * lin.qa[1] - lin.qa[2], 1e-15, "lower knot extends the first segment");
	SF_NEAR(lin.qa[TEST_M], 2 * lin.qa[TEST_M - 1] - lin.qa[TEST_M - 2], 1e-15, "upper knot extends the last segment");
	SF_NEAR(flat.qa[0], flat.qa[1], 0, "flat lower tail");
	SF_NEAR(sf_qcurve_cdf(&lin, lin.qa[1]), 1.0 / TEST_M, 1e-15, "linear: P(S < q_1) = 1/m, no atom");
	SF_NEAR(sf_qcurve_cdf(&flat, flat.qa[1]), 0.0, 0, "flat: P(S < q_1) = 0, an atom of 1/m at q_1");
	for (j = 1; j <= 4; j++)
	{
		double		p = 0.07 * j;

		SF_NEAR(sf_qcurve_integral(&lin, p), ref_integral(lin.qa, TEST_M, SF_TRANSFORM_IDENTITY, p), 1e-9,
				"linear tails: integral equals quadrature");
	}
	SF_OK(sf_qcurve_integral(&lin, 0.1) < sf_qcurve_integral(&flat, 0.1),
		  "linear lower tail puts less mass in the bottom decile than the flat one");
	sf_qcurve_free(&env, &lin);
	sf_qcurve_free(&env, &flat);

	SF_OK(sf_qcurve_build_tail(&env, qpos, TEST_M, SF_TRANSFORM_LOG1P, SF_TAIL_LINEAR, &lin) == SF_OK,
		  "build log1p with linear tails");
	SF_NEAR(lin.qa[0], 0.0, 0, "lower knot clipped at T(0) = 0 (zero sales)");
	SF_NEAR(sf_qcurve_integral(&lin, 0.3), ref_integral(lin.qa, TEST_M, SF_TRANSFORM_LOG1P, 0.3), 1e-9,
			"log1p linear tails: integral equals quadrature");
	sf_qcurve_free(&env, &lin);
	SF_OK(sf_qcurve_build_tail(&env, q, TEST_M, SF_TRANSFORM_IDENTITY, (sf_tail_rule) 7, &lin) == SF_EINVAL,
		  "unknown tail rule refused: %s", env.msg);
}

/*
 * Exponential lower tail: on knots q_j = c + b log j, exactly an exponential
 * tail below every level, the fitted slope is b and the curve's integral
 * over [0, 1/m] is the tail's own, (1/m) (e^c / (1 + b) - 1) on the log1p
 * scale and (1/m) (c - b) on the identity scale.
 */
SF_TEST(test_exponential_tail)
{
	sf_env		env;
	sf_qcurve	ex,
				flat;
	enum
	{
		M = 500
	};
	double		q[M - 1];
	double		c = 5.0,
				b = 0.3,
				slope,
				drop;
	int			j;

	sf_env_init_malloc(&env);
	for (j = 0; j < M - 1; j++)
		q[j] = c + b * log((double) (j + 1));
	SF_OK(sf_qcurve_build_tail(&env, q, M, SF_TRANSFORM_LOG1P, SF_TAIL_EXPONENTIAL, &ex) == SF_OK,
		  "build log1p with an exponential tail");
	sf_qcurve_exponential_drop(ex.qa, M, SF_TRANSFORM_LOG1P, &slope, &drop);
	SF_NEAR(slope, b, 1e-12, "slope of the tail recovered");
	SF_NEAR(ex.qa[1] - ex.qa[0], drop, 1e-12, "outer segment drops by the matched amount");
	SF_NEAR(sf_qcurve_integral(&ex, 1.0 / M) * M, exp(c) / (1 + b) - 1, 1e-10 * exp(c),
			"log1p: integral over [0, 1/m] is the exponential tail's");
	SF_NEAR(sf_qcurve_integral(&ex, 1.0 / M), ref_integral(ex.qa, M, SF_TRANSFORM_LOG1P, 1.0 / M),
			1e-9 * exp(c) / M, "log1p: the same by quadrature of the curve");
	SF_NEAR(ex.qa[M], 2 * ex.qa[M - 1] - ex.qa[M - 2], 1e-12, "upper tail extends the last segment");
	SF_NEAR(sf_qcurve_cdf(&ex, expm1(ex.qa[1])), 1.0 / M, 1e-9, "no atom at q_1");
	sf_qcurve_free(&env, &ex);

	SF_OK(sf_qcurve_build_tail(&env, q, M, SF_TRANSFORM_IDENTITY, SF_TAIL_EXPONENTIAL, &ex) == SF_OK,
		  "build identity with an exponential tail");
	SF_NEAR(sf_qcurve_integral(&ex, 1.0 / M) * M, c - b, 1e-10, "identity: integral over [0, 1/m] is c - b");
	sf_qcurve_free(&env, &ex);

	/* near zero sales the segment stops at T(0) = 0 */
	for (j = 0; j < M - 1; j++)
		q[j] = 0.05 + 0.5 * log((double) (j + 1));
	SF_OK(sf_qcurve_build_tail(&env, q, M, SF_TRANSFORM_LOG1P, SF_TAIL_EXPONENTIAL, &ex) == SF_OK,
		  "build log1p near zero");
	SF_NEAR(ex.qa[0], 0.0, 0, "lower knot clipped at zero sales");
	sf_qcurve_free(&env, &ex);

	/* a flat bottom (many equal lowest knots) has no tail to extend */
	for (j = 0; j < M - 1; j++)
		q[j] = j < 40 ? 3.0 : 3.0 + 0.01 * (j - 39);
	SF_OK(sf_qcurve_build_tail(&env, q, M, SF_TRANSFORM_LOG1P, SF_TAIL_EXPONENTIAL, &ex) == SF_OK &&
		  sf_qcurve_build(&env, q, M, SF_TRANSFORM_LOG1P, &flat) == SF_OK, "build with a flat bottom");
	SF_NEAR(ex.qa[0], flat.qa[0], 0, "flat bottom: the lower tail stays flat");
	sf_qcurve_free(&env, &ex);
	sf_qcurve_free(&env, &flat);

	/* m = 2: one knot, flat tails whatever the rule */
	SF_OK(sf_qcurve_build_tail(&env, q, 2, SF_TRANSFORM_LOG1P, SF_TAIL_EXPONENTIAL, &ex) == SF_OK &&
		  ex.qa[0] == ex.qa[1] && ex.qa[2] == ex.qa[1], "m = 2 keeps flat tails");
	sf_qcurve_free(&env, &ex);
}

/* The standard GPD quantile of exceedance share r, from the definition */
static double
ref_gpd_h(double xi, double r)
{
	return xi == 0.0 ? -log(r) : (pow(r, -xi) - 1.0) / xi;
}

/*
 * integral_0^1 f(q_k - sigma h(w / k)) dw with f the inverse transform, by
 * Simpson on w = e^{-t}, t in [0, 80] (independent of the curve's
 * geometric Gauss-Legendre panels and of the identity closed form).
 */
static double
ref_gpd_mean(sf_transform t, double qk, double sigma, double xi, int k)
{
	int			N = 400000;
	double		h = 80.0 / N,
				s = 0.0;
	int			i;

	for (i = 0; i <= N; i++)
	{
		double		tt = i * h,
					w = exp(-tt),
					y = qk - sigma * ref_gpd_h(xi, w / k),
					f = (t == SF_TRANSFORM_LOG1P ? expm1(y) : y) * w;

		s += (i == 0 || i == N ? 1.0 : (i % 2 ? 4.0 : 2.0)) * f;
	}
	return s * h / 3.0;
}

/*
 * GPD lower tail: below the threshold knot k the knots are the GPD's
 * quantiles q_k - beta (q_k2 - q_k) h(j/k), and the curve's integral over
 * [0, 1/m] is the GPD's own (identity: closed form; log1p: quadrature),
 * both against an independent Simpson quadrature; a curve whose spacing is
 * not positive takes the exponential rule; the rule needs its fit.
 */
SF_TEST(test_gpd_tail)
{
	sf_env		env;
	sf_qcurve	g,
				ex;
	enum
	{
		M = 200
	};
	double		q[M - 1];
	static const double shapes[] = {0.25, 0.0, -0.3};
	int			j,
				s,
				k,
				k2;
	sf_transform tr;

	sf_env_init_malloc(&env);
	SF_OK(sf_qcurve_gpd_knots(M, &k, &k2) && k == 10 && k2 == 100, "m = 200: knots 10 and 100");
	SF_OK(sf_qcurve_gpd_knots(142, &k, &k2) && k == 7 && k2 == 71, "m = 142: knots 7 and 71");
	SF_OK(sf_qcurve_gpd_knots(20, &k, &k2) && k == 2 && k2 == 10, "m = 20: at least knot 2");
	SF_OK(!sf_qcurve_gpd_knots(4, &k, &k2), "m = 4: too coarse for a GPD tail");
	for (j = 0; j < M - 1; j++)
		q[j] = 10.0 + 0.01 * (j + 1);	/* far from T(0) = 0: no clipping */
	for (s = 0; s < 3; s++)
		for (tr = SF_TRANSFORM_IDENTITY; tr <= SF_TRANSFORM_LOG1P; tr++)
		{
			sf_qcurve_gpd gp = {10, 100, shapes[s], 0.7, 1000};
			double		qk = q[9],
						sigma = 0.7 * (q[99] - q[9]),
						worst = 0.0,
						want;

			SF_OK(sf_qcurve_build_gpd(&env, q, M, tr, &gp, &g) == SF_OK, "xi %g, %s: build",
				  shapes[s], tr == SF_TRANSFORM_LOG1P ? "log1p" : "identity");
			for (j = 1; j < 10; j++)
				worst = fmax(worst, fabs(g.qa[j] - (qk - sigma * ref_gpd_h(shapes[s], j / 10.0))));
			SF_OK(worst <= 1e-12 && g.qa[10] == qk && g.qa[11] == q[10],
				  "xi %g: knots below the threshold are the GPD's quantiles (%.2g), the rest unchanged",
				  shapes[s], worst);
			want = ref_gpd_mean(tr, qk, sigma, shapes[s], 10);
			SF_OK(fabs(sf_qcurve_integral(&g, 1.0 / M) * M - want) <= 1e-9 * fabs(want),
				  "xi %g, %s: integral over [0, 1/m] is the GPD tail's mean (%.12g vs %.12g)", shapes[s],
				  tr == SF_TRANSFORM_LOG1P ? "log1p" : "identity", sf_qcurve_integral(&g, 1.0 / M) * M, want);
			SF_OK(fabs(sf_qcurve_cdf(&g, sf_transform_inverse(tr, g.qa[5])) - 5.0 / M) <= 1e-9,
				  "xi %g: the CDF at a GPD knot is its level", shapes[s]);
			sf_qcurve_free(&env, &g);
		}
	{
		/*
		 * The quadrature nodes are kept per (xi, k): curves of two models
		 * built in turn give the bits each gives alone (the cache follows
		 * the model it serves).
		 */
		sf_qcurve_gpd ga = {10, 100, 0.25, 0.7, 1000},
					gb = {7, 100, -0.3, 0.5, 1000};
		sf_qcurve	a1,
					b1,
					a2;
		int			same;

		SF_OK(sf_qcurve_build_gpd(&env, q, M, SF_TRANSFORM_LOG1P, &ga, &a1) == SF_OK &&
			  sf_qcurve_build_gpd(&env, q, M, SF_TRANSFORM_LOG1P, &gb, &b1) == SF_OK &&
			  sf_qcurve_build_gpd(&env, q, M, SF_TRANSFORM_LOG1P, &ga, &a2) == SF_OK, "two GPD models in turn");
		same = memcmp(a1.qa, a2.qa, (M + 1) * sizeof(double)) == 0 &&
			memcmp(a1.prefix, a2.prefix, (M + 1) * sizeof(double)) == 0;
		SF_OK(same && a1.qa[0] != b1.qa[0],
			  "a model's curve has the same bits before and after another model's (qa_0 %.17g, other %.17g)",
			  a1.qa[0], b1.qa[0]);
		sf_qcurve_free(&env, &a1);
		sf_qcurve_free(&env, &b1);
		sf_qcurve_free(&env, &a2);
	}
	/* a constant curve has no spacing: the exponential rule's curve */
	for (j = 0; j < M - 1; j++)
		q[j] = 3.0;
	{
		sf_qcurve_gpd gp = {10, 100, 0.1, 1.0, 1000};

		SF_OK(sf_qcurve_build_gpd(&env, q, M, SF_TRANSFORM_LOG1P, &gp, &g) == SF_OK &&
			  sf_qcurve_build_tail(&env, q, M, SF_TRANSFORM_LOG1P, SF_TAIL_EXPONENTIAL, &ex) == SF_OK &&
			  memcmp(g.qa, ex.qa, (M + 1) * sizeof(double)) == 0,
			  "no spacing: the exponential rule's knots");
		sf_qcurve_free(&env, &g);
		sf_qcurve_free(&env, &ex);
	}
	SF_OK(sf_qcurve_build_tail(&env, q, M, SF_TRANSFORM_LOG1P, SF_TAIL_GPD, &g) == SF_EINVAL,
		  "the gpd rule without its fit is refused");
}

/*
 * The PWM fit recovers the shape and scale of GPD exceedances drawn by
 * inversion, pooled over rows of two spacings: 40,000 exceedances give a
 * shape with a standard deviation near 0.007 and a scale near 1%; the
 * tolerances are about five of them.  Rows at or above their threshold, or
 * whose spacing is not positive, are not exceedances.
 */
SF_TEST(test_gpd_fit)
{
	sf_env		env;
	enum
	{
		N = 50000
	};
	static double y[N],
				qk[N],
				qk2[N];
	static const double shapes[] = {0.2, 0.0, -0.25};
	int			s,
				i;

	sf_env_init_malloc(&env);
	for (s = 0; s < 3; s++)
	{
		sf_rng		rng;
		sf_qcurve_gpd g = {0};
		double		xi = shapes[s],
					beta = 0.8;

		sf_rng_init(&rng, 1616, (uint64_t) s);
		for (i = 0; i < N; i++)
		{
			double		sp = i % 2 ? 2.0 : 0.5,
						z = beta * ref_gpd_h(xi, sf_rng_uniform_open(&rng));

			qk[i] = i % 3 ? 1.0 : -2.0;
			qk2[i] = qk[i] + sp;
			y[i] = qk[i] - sp * z;
			if (i % 5 == 0)
				y[i] = qk[i] + 1.0; /* above the threshold */
			if (i % 7 == 0)
				qk2[i] = qk[i];	/* no spacing */
		}
		SF_OK(sf_qcurve_gpd_fit(&env, y, qk, qk2, N, &g) == SF_OK, "xi %g: fit", xi);
		SF_OK(g.exceedances > 34000 && g.exceedances < 35000, "xi %g: %u exceedances counted",
			  xi, g.exceedances);
		SF_OK(fabs(g.xi - xi) <= 0.035, "xi %g: shape recovered (%.4f)", xi, g.xi);
		SF_OK(fabs(g.beta / beta - 1.0) <= 0.05, "xi %g: scale recovered (%.4f)", xi, g.beta);
	}
	{
		sf_qcurve_gpd g = {0};

		for (i = 0; i < 10; i++)
		{
			qk[i] = 0.0;
			qk2[i] = 1.0;
			y[i] = -0.1 * (i + 1);
		}
		SF_OK(sf_qcurve_gpd_fit(&env, y, qk, qk2, 10, &g) == SF_OK && g.xi == 0.0 &&
			  fabs(g.beta - 0.55) < 1e-12, "10 exceedances: the exponential member, mean 0.55");
	}
}

/*
 * The test of pooling (sf_qcurve_gpd_pool_rejected).  With one binary
 * covariate the regression F statistic is the two-sample one, closed form
 * (n0 n1 / n) (m1 - m0)^2 / s^2 with s^2 the pooled within-group variance
 * on n - 2 degrees of freedom; exponential exceedances whose mean does not
 * move with four covariates are rejected at about the level 0.001 (at most
 * 3 of 300 samples: P < 0.004 under the level), and a group of 20% of the
 * rows whose mean is 1.5 times the others' in most samples (noncentral
 * chi-square with 4 degrees of freedom and noncentrality 160 x 0.25 / 1.25
 * = 32 beyond the 0.001 point 18.7: power about 0.93; at least 80% held).
 */
SF_TEST(test_gpd_pool)
{
	sf_env		env;
	enum
	{
		N = 1000, P = 5, R = 300
	};
	static double z[N],
				D[N * P];
	sf_rng		rng;
	int			r,
				i,
				a,
				false_alarms = 0,
				detected = 0,
				failed = 0,
				rejected;
	double		f,
				sum[2] = {0, 0},
				ss[2] = {0, 0},
				cnt[2] = {0, 0},
				m0,
				m1,
				s2,
				fref;

	sf_env_init_malloc(&env);
	sf_rng_init(&rng, 1616, 9);
	for (i = 0; i < N; i++)
	{
		int			g = i % 5 == 0;

		D[i * 2] = 1.0;
		D[i * 2 + 1] = g;
		z[i] = -log(sf_rng_uniform_open(&rng)) * (g ? 1.5 : 1.0);
		sum[g] += z[i];
		cnt[g] += 1.0;
	}
	m0 = sum[0] / cnt[0];
	m1 = sum[1] / cnt[1];
	for (i = 0; i < N; i++)
	{
		int			g = i % 5 == 0;
		double		d = z[i] - (g ? m1 : m0);

		ss[g] += d * d;
	}
	s2 = (ss[0] + ss[1]) / (N - 2);
	fref = cnt[0] * cnt[1] / N * (m1 - m0) * (m1 - m0) / s2;
	SF_OK(sf_qcurve_gpd_pool_rejected(&env, z, D, N, 2, &rejected, &f) == SF_OK, "two groups: test runs");
	SF_OK(fabs(f / fref - 1.0) < 1e-10, "F %.6f is the two-sample F %.6f", f, fref);
	SF_OK(rejected == (f > 11.158),
		  "rejected against chi-square(1)'s 0.001 point by Wilson-Hilferty, 11.16 (exact 10.83): F %.3f", f);
	for (r = 0; r < R; r++)
		for (a = 0; a < 2; a++)
		{
			for (i = 0; i < N; i++)
			{
				int			g = i % 5 == 0;

				D[i * P] = 1.0;
				D[i * P + 1] = g;
				D[i * P + 2] = sf_rng_normal(&rng) * 3.0 + 10.0;
				D[i * P + 3] = sf_rng_uniform(&rng);
				D[i * P + 4] = sin(i);
				z[i] = -log(sf_rng_uniform_open(&rng)) * (a && g ? 1.5 : 1.0);
			}
			if (sf_qcurve_gpd_pool_rejected(&env, z, D, N, P, &rejected, NULL) != SF_OK)
				failed++;
			if (a)
				detected += rejected;
			else
				false_alarms += rejected;
		}
	SF_OK(failed == 0, "%d samples tested", 2 * R);
	SF_OK(false_alarms <= 3, "one law for every row: rejected in %d of %d samples", false_alarms, R);
	SF_OK(detected >= R * 8 / 10, "a group with 1.5 times the mean: rejected in %d of %d samples", detected, R);
	SF_OK(sf_qcurve_gpd_pool_rejected(&env, z, D, 10 * P - 1, P, &rejected, &f) == SF_OK &&
		  rejected == 0 && f == 0.0, "fewer than 10 p rows: not tested");
	SF_OK(sf_qcurve_gpd_pool_rejected(&env, z, D, N, 1, &rejected, &f) == SF_OK && rejected == 0,
		  "no covariate: nothing to test");
	for (i = 0; i < N; i++)
		D[i * P + 3] = D[i * P + 1];
	SF_OK(sf_qcurve_gpd_pool_rejected(&env, z, D, N, P, &rejected, &f) == SF_OK && rejected == 0,
		  "collinear columns: not tested");
}

/*
 * The fast paths of the curve against the plain ones, bit for bit: the
 * walked segment (sf_qcurve_partial_walk) against the binary search at
 * increasing, decreasing and shuffled thresholds, knots themselves
 * included; the kept e^{qa_j} against exp; the prefix integrals and
 * sf_qcurve_partial against the formulas recomputed here with exp per call.
 */
static double
plain_mean_exp(double y0, double d)
{
	if (fabs(d) < 1e-8)
		return exp(y0) * (1.0 + 0.5 * d);
	if (fabs(d) < 32.0)
		return exp(y0) * (expm1(d) / d);
	return (exp(y0 + d) - exp(y0)) / d;
}

static int
same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof(double)) == 0;
}

SF_TEST(test_walk_and_cache)
{
	sf_env		env;
	sf_rng		rng;
	int			rule,
				tr;

	sf_env_init_malloc(&env);
	sf_rng_init(&rng, 19, 0);
	for (tr = 0; tr < 2; tr++)
		for (rule = SF_TAIL_FLAT; rule <= SF_TAIL_EXPONENTIAL; rule++)
		{
			sf_transform t = tr ? SF_TRANSFORM_LOG1P : SF_TRANSFORM_IDENTITY;
			int			m = 37 + 118 * rule;	/* 37, 155, 273 knots */
			double		q[300],
						s[800];
			int			n = 0,
						j,
						i,
						bad_walk = 0,
						bad_plain = 0,
						bad_eq = 0,
						bad_prefix = 0,
						pass;
			double		pre = 0.0;
			sf_qcurve	c;

			for (j = 0; j < m - 1; j++)	/* rising, with crossings and ties */
				q[j] = 0.5 + 4.0 * j / m + 0.05 * (sf_rng_uniform(&rng) - 0.5);
			q[m / 2] = q[m / 2 - 1];
			SF_OK(sf_qcurve_build_tail(&env, q, m, t, (sf_tail_rule) rule, &c) == SF_OK, "build");
			for (j = 0; j <= m; j++)
			{
				double		d = c.qa[j] - (j > 0 ? c.qa[j - 1] : 0.0);

				if (t == SF_TRANSFORM_LOG1P && !(c.eq != NULL && same_bits(c.eq[j], exp(c.qa[j]))))
					bad_eq++;
				if (j > 0)
				{
					pre += t == SF_TRANSFORM_LOG1P
						? (1.0 / m) * (plain_mean_exp(c.qa[j - 1], (double) m * (1.0 / m) * d) - 1.0)
						: (1.0 / m) * c.qa[j - 1] + 0.5 * (double) m * d * (1.0 / m) * (1.0 / m);
					if (!same_bits(pre, c.prefix[j]))
						bad_prefix++;
					pre = c.prefix[j];
				}
			}
			/* thresholds: below, at and between the knots, above the top */
			for (j = 0; j <= m; j++)
			{
				s[n++] = sf_transform_inverse(t, c.qa[j]);
				s[n++] = sf_transform_inverse(t, c.qa[j] + 0.3 * sf_rng_uniform(&rng));
			}
			s[n++] = sf_transform_inverse(t, c.qa[0] - 1.0);
			s[n++] = sf_transform_inverse(t, c.qa[m] + 1.0);
			for (pass = 0; pass < 3; pass++)
			{
				int			seg = 0;

				if (pass == 0)	/* increasing */
					qsort(s, n, sizeof(double), cmp_double_asc);
				else if (pass == 1)	/* decreasing */
					for (i = 0; i < n / 2; i++)
					{
						double		x = s[i];

						s[i] = s[n - 1 - i];
						s[n - 1 - i] = x;
					}
				else			/* shuffled */
					for (i = n - 1; i > 0; i--)
					{
						int			k = (int) (sf_rng_uniform(&rng) * (i + 1));
						double		x = s[i];

						s[i] = s[k < i ? k : i];
						s[k < i ? k : i] = x;
					}
				for (i = 0; i < n; i++)
				{
					double		F1,
								F2,
								I1 = sf_qcurve_partial_walk(&c, s[i], &F1, &seg),
								I2 = sf_qcurve_partial(&c, s[i], &F2);

					if (!same_bits(I1, I2) || !same_bits(F1, F2))
						bad_walk++;
				}
			}
			/* sf_qcurve_partial against its formula with exp per call */
			for (i = 0; i < n; i++)
			{
				double		F,
							I = sf_qcurve_partial(&c, s[i], &F),
							y = sf_transform_apply(t, s[i]),
							want;

				if (y <= c.qa[0] || y > c.qa[m])
					continue;
				for (j = 0; c.qa[j + 1] < y; j++)
					;
				{
					double		w = (y - c.qa[j]) / (c.qa[j + 1] - c.qa[j]) / (double) m;

					want = t == SF_TRANSFORM_LOG1P
						? c.prefix[j] + w * (plain_mean_exp(c.qa[j], y - c.qa[j]) - 1.0)
						: c.prefix[j] + w * 0.5 * (c.qa[j] + y);
				}
				if (!same_bits(I, want))
					bad_plain++;
			}
			SF_OK(bad_eq == 0 && bad_prefix == 0,
				  "%s %s m=%d: kept e^qa and prefix integrals have the bits of exp per knot (%d, %d off)",
				  tr ? "log1p" : "identity", sf_tail_rule_name((sf_tail_rule) rule), m, bad_eq, bad_prefix);
			SF_OK(bad_walk == 0,
				  "%s %s: walked partial = searched partial, bit for bit, at %d thresholds in 3 orders (%d off)",
				  tr ? "log1p" : "identity", sf_tail_rule_name((sf_tail_rule) rule), n, bad_walk);
			SF_OK(bad_plain == 0, "%s %s: partial = its formula with exp per call, bit for bit (%d off)",
				  tr ? "log1p" : "identity", sf_tail_rule_name((sf_tail_rule) rule), bad_plain);
			sf_qcurve_free(&env, &c);
		}
}

int
main(void)
{
	SF_RUN(test_build_rearranges);
	SF_RUN(test_errors);
	SF_RUN(test_identity);
	SF_RUN(test_log1p);
	SF_RUN(test_transform);
	SF_RUN(test_degenerate);
	SF_RUN(test_linear_tails);
	SF_RUN(test_exponential_tail);
	SF_RUN(test_gpd_tail);
	SF_RUN(test_gpd_fit);
	SF_RUN(test_gpd_pool);
	SF_RUN(test_walk_and_cache);
	return sf_test_done();
}
