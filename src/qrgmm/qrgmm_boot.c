/*
 * qrgmm_boot.c
 *	  The seeded multinomial bootstrap of QRGMM fits (sf_bootstrap.h).
 *
 * A replicate is an ordinary QRGMM fit (qrgmm.c) on rows drawn with
 * replacement, so every scoring function works on it unchanged.  Replicates
 * are fitted one after another: the fit already spreads its quantile levels
 * over the worker pool (qrgmm_levels.c), and pool tasks may not allocate,
 * which a whole fit must.
 */
#include <string.h>

#include "scfrisk/sf_bootstrap.h"
#include "scfrisk/sf_rng.h"

void
sf_boot_counts(uint64_t seed, uint32_t replicate, size_t n, uint32_t *counts)
{
	sf_rng		rng;
	size_t		k;

	/* stream r + 1: stream 0 stays free for any future draw of the whole set */
	sf_rng_init(&rng, seed, (uint64_t) replicate + 1);
	memset(counts, 0, sizeof(uint32_t) * n);
	for (k = 0; k < n; k++)
		counts[sf_rng_below(&rng, (uint64_t) n)]++;
}

void
sf_boot_rows(const double *X, const double *S, size_t n, uint32_t d,
			 const uint32_t *counts, double *Xo, double *So)
{
	size_t		i,
				o = 0;
	uint32_t	c;

	for (i = 0; i < n; i++)
		for (c = 0; c < counts[i]; c++, o++)
		{
			memcpy(Xo + o * d, X + i * d, sizeof(double) * d);
			So[o] = S[i];
		}
}

sf_status
sf_qrgmm_boot_fit(sf_env *env, const sf_qrgmm_params *params, const double *X,
				  const double *S, size_t n, uint32_t d, uint64_t seed, uint32_t replicate,
				  sf_qrgmm_model **out)
{
	uint32_t   *counts;
	double	   *Xo,
			   *So;
	sf_status	st;

	if (n == 0 || d == 0)
		return sf_fail(env, SF_EDATA, "no rows to resample");
	counts = sf_malloc(env, sizeof(uint32_t) * n);
	Xo = sf_calloc(env, n, sizeof(double) * d);
	So = sf_malloc(env, sizeof(double) * n);
	if (counts == NULL || Xo == NULL || So == NULL)
	{
		sf_free(env, counts);
		sf_free(env, Xo);
		sf_free(env, So);
		return sf_fail(env, SF_ENOMEM, "out of memory for a bootstrap resample of %zu rows", n);
	}
	sf_boot_counts(seed, replicate, n, counts);
	sf_boot_rows(X, S, n, d, counts, Xo, So);
	st = sf_qrgmm_fit(env, params, Xo, So, n, d, out);
	sf_free(env, counts);
	sf_free(env, Xo);
	sf_free(env, So);
	return st;
}
