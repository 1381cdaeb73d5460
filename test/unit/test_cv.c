/*
 * test_cv.c
 *	  Unit tests of the fold hash (cv.h): splitmix64's published outputs,
 *	  the fold is a function of the row content only (-0 = +0, every NaN the
 *	  same), the seed changes it, and the folds are near-uniform.
 */
#include <math.h>
#include <string.h>

#include "scfrisk/cv.h"
#include "scfrisk/sf_rng.h"
#include "sf_test.h"

SF_TEST(test_mix_is_splitmix64)
{
	uint64_t	state = 1234567;
	uint64_t	z = 1234567;
	int			i,
				same = 1;

	/* splitmix64 (state += gamma; output mix(state)) equals sf_cv_mix(previous state) */
	for (i = 0; i < 100; i++)
	{
		uint64_t	want = sf_splitmix64(&state);

		same &= sf_cv_mix(z) == want;
		z += 0x9e3779b97f4a7c15ULL;
	}
	SF_OK(same, "sf_cv_mix(s) is splitmix64's output after state s (100 steps)");
	/* the first output of splitmix64 seeded with 0 (Vigna's reference code) */
	SF_OK(sf_cv_mix(0) == 0xe220a8397b1dcdafULL, "mix(0) = 0xe220a8397b1dcdaf");
}

SF_TEST(test_content_only)
{
	double		a[3] = {1.5, -0.0, NAN},
				b[3] = {1.5, 0.0, -NAN},
				c[3] = {1.5, 0.0, 2.0};

	SF_OK(sf_cv_row_hash(a, 3, 1.0, 7) == sf_cv_row_hash(b, 3, 1.0, 7), "-0 = +0 and every NaN hash alike");
	SF_OK(sf_cv_row_hash(a, 3, 1.0, 7) != sf_cv_row_hash(c, 3, 1.0, 7), "a missing value differs from 2");
	SF_OK(sf_cv_row_hash(c, 3, 1.0, 7) != sf_cv_row_hash(c, 3, 0.0, 7), "the label is hashed");
	SF_OK(sf_cv_row_hash(c, 3, 1.0, 7) != sf_cv_row_hash(c, 3, 1.0, 8), "the seed changes the hash");
	SF_OK(sf_cv_row_hash(c, 2, 1.0, 7) != sf_cv_row_hash(c, 3, 1.0, 7), "the width is part of the content");
}

SF_TEST(test_uniform)
{
	int			cnt[5] = {0},
				i,
				k,
				ok = 1;
	double		x[2];

	for (i = 0; i < 10000; i++)
	{
		x[0] = i;
		x[1] = i * 0.5;
		cnt[sf_cv_row_fold(x, 2, i % 2, 5, 0)]++;
	}
	/* 2000 expected per fold; 5 binomial standard deviations = 200 */
	for (k = 0; k < 5; k++)
		ok &= fabs(cnt[k] - 2000.0) < 200.0;
	SF_OK(ok, "10000 rows in 5 folds: %d %d %d %d %d (each 2000 +- 200)", cnt[0], cnt[1], cnt[2], cnt[3], cnt[4]);
}

int
main(void)
{
	SF_RUN(test_mix_is_splitmix64);
	SF_RUN(test_content_only);
	SF_RUN(test_uniform);
	return sf_test_done();
}
