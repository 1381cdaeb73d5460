/*
 * qrgmm_boot.c
 *	  The seeded multinomial bootstrap of QRGMM fits (sf_bootstrap.h).
 *
 * A replicate is an ordinary QRGMM fit (qrgmm.c) on rows drawn with
 * replacement, so every scoring function works on it unchanged.  Replicates
 * are fitted one after another: the fit already spreads its quantile levels
 * over the worker pool (qrgmm_levels.c), and pool tasks may not allocate,
 * which a whole fit must.
 *
 * A cluster bootstrap (rows grouped by a key, the seller) draws the G
 * clusters, not the rows, with the same multinomial counts: each cluster's
 * rows go into the resample as a block, as often as the cluster is drawn, so
 * the dependence between the rows of one seller is kept in every replicate
 * and the spread between replicates is the spread between sellers.
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

size_t
sf_boot_cluster_rows(const double *X, const double *S, uint32_t d, const size_t *starts,
					 size_t G, const uint32_t *counts, double *Xo, double *So)
{
	size_t		g,
				o = 0;
	uint32_t	c;

	for (g = 0; g < G; g++)
	{
		size_t		a = starts[g],
					len = starts[g + 1] - starts[g];

		for (c = 0; c < counts[g]; c++, o += len)
		{
			if (Xo != NULL)
			{
				memcpy(Xo + o * d, X + a * d, sizeof(double) * d * len);
				memcpy(So + o, S + a, sizeof(double) * len);
			}
		}
	}
	return o;
}

sf_status
sf_qrgmm_boot_fit_clusters(sf_env *env, const sf_qrgmm_params *params, const double *X,
						   const double *S, size_t n, uint32_t d, const size_t *starts, size_t G,
						   uint64_t seed, uint32_t replicate, sf_qrgmm_model **out)
{
	uint32_t   *counts;
	double	   *Xo = NULL,
			   *So = NULL;
	size_t		n_out;
	sf_status	st;

	if (n == 0 || d == 0 || G == 0)
		return sf_fail(env, SF_EDATA, "no rows to resample");
	counts = sf_malloc(env, sizeof(uint32_t) * G);
	if (counts == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for a bootstrap resample of %zu clusters", G);
	/* the same draw for rows and clusters: a row bootstrap is one of clusters of one row */
	sf_boot_counts(seed, replicate, G, counts);
	n_out = starts ? sf_boot_cluster_rows(X, S, d, starts, G, counts, NULL, NULL) : n;
	if (n_out > 0)
	{
		Xo = sf_calloc(env, n_out, sizeof(double) * d);
		So = sf_malloc(env, sizeof(double) * n_out);
	}
	if (Xo == NULL || So == NULL)
	{
		sf_free_all(env, counts, Xo, So);
		return sf_fail(env, SF_ENOMEM, "out of memory for a bootstrap resample of %zu rows", n_out);
	}
	if (starts)
		sf_boot_cluster_rows(X, S, d, starts, G, counts, Xo, So);
	else
		sf_boot_rows(X, S, n, d, counts, Xo, So);
	st = sf_qrgmm_fit(env, params, Xo, So, n_out, d, out);
	sf_free_all(env, counts, Xo, So);
	return st;
}

sf_status
sf_qrgmm_boot_params(sf_env *env, const sf_qrgmm_params *params, const double *X,
					 const double *S, size_t n, uint32_t d, sf_qrgmm_params *out)
{
	sf_qrgmm_model *model;
	sf_status	st;

	*out = *params;
	if (params->tail != SF_TAIL_GPD)
		return SF_OK;
	if ((st = sf_qrgmm_fit(env, params, X, S, n, d, &model)) != SF_OK)
		return st;
	out->tail = model->gpd_pool_rejected ? SF_TAIL_EXPONENTIAL : SF_QRGMM_TAIL_GPD_POOLED;
	sf_qrgmm_free(env, model);
	return SF_OK;
}

sf_status
sf_qrgmm_boot_fit(sf_env *env, const sf_qrgmm_params *params, const double *X,
				  const double *S, size_t n, uint32_t d, uint64_t seed, uint32_t replicate,
				  sf_qrgmm_model **out)
{
	return sf_qrgmm_boot_fit_clusters(env, params, X, S, n, d, NULL, n, seed, replicate, out);
}
