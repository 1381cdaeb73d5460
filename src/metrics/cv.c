/*
 * cv.c
 *	  Fold assignment by a hash of the row content (cv.h).
 */
#include <math.h>
#include <string.h>

#include "scfrisk/cv.h"

uint64_t
sf_cv_mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Bits of v with one pattern per value: -0 as +0, every NaN as the quiet NaN. */
static uint64_t
canonical_bits(double v)
{
	uint64_t	b;

	if (isnan(v))
		return 0x7ff8000000000000ULL;
	if (v == 0.0)
		return 0;
	memcpy(&b, &v, sizeof(b));
	return b;
}

uint64_t
sf_cv_row_hash(const double *x, size_t n, double label, uint64_t seed)
{
	uint64_t	h = seed;
	size_t		i;

	for (i = 0; i < n; i++)
		h = sf_cv_mix(h ^ canonical_bits(x[i]));
	return sf_cv_mix(h ^ canonical_bits(label));
}

int
sf_cv_row_fold(const double *x, size_t n, double label, int folds, uint64_t seed)
{
	return (int) (sf_cv_row_hash(x, n, label, seed) % (uint64_t) folds);
}
