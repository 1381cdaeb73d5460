/*
 * test_rng.c
 *	  Unit tests of sf_rng: splitmix64's published first outputs for seed 0,
 *	  xoshiro256** outputs against an independent Python implementation of
 *	  the reference algorithm (values computed once with Python's integers),
 *	  reproducibility, stream independence, and distribution checks with
 *	  tolerances of several standard errors.
 */
#include <string.h>

#include "scfrisk/sf_rng.h"
#include "sf_test.h"

SF_TEST(test_splitmix64)
{
	uint64_t	st = 0;

	/* first outputs of splitmix64 seeded with 0 (Vigna's reference code) */
	SF_OK(sf_splitmix64(&st) == 0xe220a8397b1dcdafULL, "splitmix64 output 1");
	SF_OK(sf_splitmix64(&st) == 0x6e789e6aa1b965f4ULL, "splitmix64 output 2");
	SF_OK(sf_splitmix64(&st) == 0x06c45d188009454fULL, "splitmix64 output 3");
}

SF_TEST(test_xoshiro_reference)
{
	sf_rng		r;

	sf_rng_init(&r, 42, 7);
	SF_OK(sf_rng_next(&r) == 0x24bfb39aeb008c15ULL, "xoshiro256** output 1 (seed 42, stream 7)");
	SF_OK(sf_rng_next(&r) == 0xd858489e7fc02496ULL, "xoshiro256** output 2");
	SF_OK(sf_rng_next(&r) == 0x3deebe24036964f3ULL, "xoshiro256** output 3");
}

SF_TEST(test_reproducible_streams)
{
	sf_rng		a,
				b,
				c;
	int			same_ab = 1,
				same_ac = 0,
				i;

	sf_rng_init(&a, 123, 0);
	sf_rng_init(&b, 123, 0);
	sf_rng_init(&c, 123, 1);
	for (i = 0; i < 1000; i++)
	{
		uint64_t	x = sf_rng_next(&a);

		same_ab &= (x == sf_rng_next(&b));
		same_ac += (x == sf_rng_next(&c));
	}
	SF_OK(same_ab, "same seed and stream give the same sequence");
	SF_OK(same_ac == 0, "different streams share no output in 1000 draws");

	sf_rng_init(&a, 5, 0);
	b = a;
	sf_rng_jump(&b);
	SF_OK(sf_rng_next(&a) != sf_rng_next(&b), "jump moves the state");
}

SF_TEST(test_distributions)
{
	sf_rng		r;
	const int	n = 200000;
	double		sum = 0,
				sum2 = 0,
				lo = 1,
				hi = 0;
	long		counts[7] = {0};
	double		chi2 = 0;
	int			i;

	sf_rng_init(&r, 2024, 0);
	for (i = 0; i < n; i++)
	{
		double		u = sf_rng_uniform(&r);

		sum += u;
		lo = u < lo ? u : lo;
		hi = u > hi ? u : hi;
	}
	/* mean of U(0,1): sd of the mean is sqrt(1/12/n) = 0.00065; allow 5 sd */
	SF_NEAR(sum / n, 0.5, 5 * 0.00065, "uniform mean");
	SF_OK(lo >= 0.0 && hi < 1.0, "uniform in [0, 1)");

	sum = 0;
	for (i = 0; i < n; i++)
	{
		double		z = sf_rng_normal(&r);

		sum += z;
		sum2 += z * z;
	}
	SF_NEAR(sum / n, 0.0, 5 * sqrt(1.0 / n), "normal mean");
	/* var of the sample variance of N(0,1) is 2/n */
	SF_NEAR(sum2 / n, 1.0, 5 * sqrt(2.0 / n), "normal variance");

	for (i = 0; i < 70000; i++)
		counts[sf_rng_below(&r, 7)]++;
	for (i = 0; i < 7; i++)
		chi2 += (counts[i] - 10000.0) * (counts[i] - 10000.0) / 10000.0;
	/* chi-square with 6 degrees of freedom: P(X > 22.46) = 0.001 */
	SF_OK(chi2 < 22.46, "below(7) uniform: chi2 = %.2f", chi2);

	for (i = 0; i < 1000; i++)
	{
		double		u = sf_rng_uniform_open(&r);

		if (!(u > 0.0 && u < 1.0))
			break;
	}
	SF_OK(i == 1000, "uniform_open never hits 0 or 1");
}

SF_TEST(test_shuffle)
{
	sf_rng		r;
	uint32_t	idx[100];
	int			seen[100] = {0};
	int			ok = 1,
				moved = 0,
				i;

	for (i = 0; i < 100; i++)
		idx[i] = (uint32_t) i;
	sf_rng_init(&r, 9, 0);
	sf_rng_shuffle_u32(&r, idx, 100);
	for (i = 0; i < 100; i++)
	{
		ok &= idx[i] < 100 && !seen[idx[i]];
		seen[idx[i] < 100 ? idx[i] : 0] = 1;
		moved += idx[i] != (uint32_t) i;
	}
	SF_OK(ok, "shuffle is a permutation");
	SF_OK(moved > 50, "shuffle moves most elements (%d)", moved);
}

int
main(void)
{
	SF_RUN(test_splitmix64);
	SF_RUN(test_xoshiro_reference);
	SF_RUN(test_reproducible_streams);
	SF_RUN(test_distributions);
	SF_RUN(test_shuffle);
	return sf_test_done();
}
