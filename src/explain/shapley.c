/*
 * shapley.c
 *	  Interventional Shapley values against a background sample (Lundberg
 *	  and Lee 2017, "A unified approach to interpreting model predictions";
 *	  Strumbelj and Kononenko 2014 for the permutation estimator), and the
 *	  per-kind methods of the linear and network kinds.
 *
 * The value of a coalition S of features is v(S) = mean over background
 * rows b of f(x_S, b_rest): the features in S take the row's values, the
 * others the background row's.  The Shapley value of feature j is the
 * weighted mean of v(S + j) - v(S) over coalitions without j; the bias is
 * v(empty), the background's mean margin.
 *
 * - Up to SF_SHAPLEY_EXACT_MAX players every coalition is evaluated:
 *   2^n x background-rows margins, exact values.
 * - Beyond, pairs of a random permutation and its reverse (antithetic
 *   sampling) each walk one background row b into x one feature at a time;
 *   each feature gets the margin change its step made.  One walk's steps add
 *   up to f(x) - f(b), so the mean over walks adds up to f(x) minus the mean
 *   margin of the walks' background rows (the bias) for every sample size:
 *   additive by construction.  The walks cycle through the background rows
 *   and the permutations come from the model's stored seed, so a row's
 *   explanation is reproducible; the standard error of each value is the
 *   standard deviation of the pair means over sqrt(pairs).
 */
#include <math.h>
#include <string.h>

#include "scfrisk/logreg.h"
#include "scfrisk/mlp.h"
#include "scfrisk/sf_explain.h"
#include "scfrisk/sf_rng.h"
#include "scfrisk/xgb_mlp.h"

/* Margin of the row z: the players from x where mask says so, else from b. */
static double
mixed_margin(sf_margin_fn f, const void *ctx, const uint32_t *players, uint32_t n,
			 const double *b, uint32_t mask, double *z)
{
	uint32_t	i;

	for (i = 0; i < n; i++)
		if (!(mask & (1u << i)))
			z[players[i]] = b[players[i]];
	return f(ctx, z);
}

/* Exact: every coalition, Shapley weights |S|! (n - |S| - 1)! / n!. */
static sf_status
shapley_exact(sf_env *env, sf_margin_fn f, const void *ctx, const sf_background *bg,
			  const uint32_t *players, uint32_t n, const double *x, double *phi)
{
	uint32_t	n_sets = 1u << n;
	double	   *v = sf_calloc(env, n_sets, sizeof(double));
	double	   *z = sf_malloc(env, sizeof(double) * bg->n_cols);
	double		wsize[SF_SHAPLEY_EXACT_MAX + 1];
	uint32_t	mask,
				i,
				r;

	if (v == NULL || z == NULL)
	{
		sf_free(env, v);
		sf_free(env, z);
		return sf_fail(env, SF_ENOMEM, "out of memory for the coalition values");
	}
	/* weight of a coalition of size s: 1 / (n * C(n - 1, s)) */
	for (i = 0; i < n; i++)
	{
		double		c = 1;
		uint32_t	k;

		for (k = 0; k < i; k++)
			c = c * (double) (n - 1 - k) / (double) (k + 1);
		wsize[i] = 1.0 / ((double) n * c);
	}
	for (mask = 0; mask + 1 < n_sets; mask++)
	{
		double		s = 0;

		for (r = 0; r < bg->n_rows; r++)
		{
			memcpy(z, x, sizeof(double) * bg->n_cols);
			s += mixed_margin(f, ctx, players, n, bg->x + (size_t) r * bg->n_cols, mask, z);
		}
		v[mask] = s / bg->n_rows;
		if ((mask & 63) == 63 && sf_interrupted(env))
		{
			sf_free(env, v);
			sf_free(env, z);
			return sf_fail(env, SF_ECANCEL, "explanation cancelled");
		}
	}
	v[n_sets - 1] = f(ctx, x);	/* every background row gives x itself */
	for (i = 0; i < n; i++)
	{
		double		s = 0;
		uint32_t	bit = 1u << i;

		for (mask = 0; mask < n_sets; mask++)
			if (!(mask & bit))
				s += wsize[__builtin_popcount(mask)] * (v[mask | bit] - v[mask]);
		phi[players[i]] = s;
	}
	phi[bg->n_cols] = v[0];
	sf_free(env, v);
	sf_free(env, z);
	return SF_OK;
}

/* One walk from background row b to x in the order perm; adds each step to c. */
static double
walk(sf_margin_fn f, const void *ctx, const uint32_t *players, const uint32_t *perm,
	 uint32_t n, const double *x, const double *b, double *z, double *c)
{
	double		start,
				prev;
	uint32_t	i;

	for (i = 0; i < n; i++)
		z[players[i]] = b[players[i]];
	start = prev = f(ctx, z);
	for (i = 0; i < n; i++)
	{
		uint32_t	j = players[perm[i]];
		double		cur;

		z[j] = x[j];
		/* the last step reaches x itself: its margin is f(x) exactly */
		cur = f(ctx, z);
		c[perm[i]] += cur - prev;
		prev = cur;
	}
	return start;
}

/* Sampling: antithetic permutation pairs cycling through the background. */
static sf_status
shapley_sample(sf_env *env, sf_margin_fn f, const void *ctx, const sf_background *bg,
			   const uint32_t *players, uint32_t n, const double *x, double *phi, double *se)
{
	uint32_t	pairs = bg->n_permutations / 2;
	uint32_t   *perm = sf_malloc(env, sizeof(uint32_t) * n);
	uint32_t   *rev = sf_malloc(env, sizeof(uint32_t) * n);
	double	   *z = sf_malloc(env, sizeof(double) * bg->n_cols);
	double	   *c = sf_malloc(env, sizeof(double) * n);
	double	   *sum = sf_calloc(env, n, sizeof(double));
	double	   *sq = sf_calloc(env, n, sizeof(double));
	double		base = 0;
	sf_rng		rng;
	uint32_t	k,
				i;
	sf_status	st = SF_OK;

	if (!perm || !rev || !z || !c || !sum || !sq)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory for the permutation estimator");
		goto done;
	}
	sf_rng_init(&rng, bg->seed, 0x5348);	/* "SH": the explainer's own stream */
	memcpy(z, x, sizeof(double) * bg->n_cols);
	for (k = 0; k < pairs; k++)
	{
		const double *b = bg->x + (size_t) (k % bg->n_rows) * bg->n_cols;

		for (i = 0; i < n; i++)
			perm[i] = i;
		sf_rng_shuffle_u32(&rng, perm, n);
		for (i = 0; i < n; i++)
			rev[i] = perm[n - 1 - i];
		memset(c, 0, sizeof(double) * n);
		base += walk(f, ctx, players, perm, n, x, b, z, c);
		base += walk(f, ctx, players, rev, n, x, b, z, c);
		for (i = 0; i < n; i++)
		{
			double		g = c[i] / 2;	/* the pair's mean contribution */

			sum[i] += g;
			sq[i] += g * g;
		}
		if ((k & 15) == 15 && sf_interrupted(env))
		{
			st = sf_fail(env, SF_ECANCEL, "explanation cancelled");
			goto done;
		}
	}
	for (i = 0; i < n; i++)
	{
		double		mean = sum[i] / pairs;
		double		var = pairs > 1 ? (sq[i] - pairs * mean * mean) / (pairs - 1) : 0;

		phi[players[i]] = mean;
		if (se)
			se[players[i]] = var > 0 ? sqrt(var / pairs) : 0;
	}
	phi[bg->n_cols] = base / (2.0 * pairs);
done:
	sf_free_all(env, perm, rev, z, c, sum, sq);
	return st;
}

sf_status
sf_shapley(sf_env *env, sf_margin_fn f, const void *ctx, const sf_background *bg,
		   const uint32_t *players, uint32_t n_players, const double *x, double *phi, double *se)
{
	memset(phi, 0, sizeof(double) * (bg->n_cols + 1));
	if (se)
		memset(se, 0, sizeof(double) * (bg->n_cols + 1));
	if (bg->n_rows == 0)
		return sf_fail(env, SF_EDATA, "the model has no background sample");
	if (n_players <= SF_SHAPLEY_EXACT_MAX)
		return shapley_exact(env, f, ctx, bg, players, n_players, x, phi);
	return shapley_sample(env, f, ctx, bg, players, n_players, x, phi, se);
}

/* ------------------------------------------------------------ kinds */

double
sf_mlp_margin(const mlp_model *m, const double *x)
{
	return mlp_predict_margin(m, x);
}

static double
mlp_margin_fn(const void *ctx, const double *x)
{
	return mlp_predict_margin((const mlp_model *) ctx, x);
}

/* sf_shapley with every one of the n_features features a player. */
static sf_status
shapley_every_feature(sf_env *env, sf_margin_fn margin,
					  const void *ctx, const sf_background *bg, uint32_t n_features,
					  const double *x, double *phi, double *se)
{
	uint32_t   *players = sf_malloc(env, sizeof(uint32_t) * n_features);
	uint32_t	j;
	sf_status	st;

	if (players == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the players");
	for (j = 0; j < n_features; j++)
		players[j] = j;
	st = sf_shapley(env, margin, ctx, bg, players, n_features, x, phi, se);
	sf_free(env, players);
	return st;
}

sf_status
sf_explain_mlp(sf_env *env, const void *model, const sf_background *bg,
			   const double *x, double *phi, double *se)
{
	const mlp_model *m = model;

	return shapley_every_feature(env, mlp_margin_fn, m, bg, m->n_features, x, phi, se);
}

static double
hybrid_margin_fn(const void *ctx, const double *x)
{
	return xgb_mlp_predict_margin((const xgb_mlp_model *) ctx, x);
}

/*
 * The players are the features the hybrid's margin can depend on: in paper
 * mode only the selected ones enter the network, so the others get exactly 0
 * (the dummy axiom); in stacked and blend mode every feature reaches it
 * through the trees' margin (and the blend's forest and linear part).  The
 * blend's margin is linear in its parts' margins, but its network part has
 * no exact method, so the whole margin is sampled as the MLP's is.
 */
sf_status
sf_explain_xgb_mlp(sf_env *env, const void *model, const sf_background *bg,
				   const double *x, double *phi, double *se)
{
	const xgb_mlp_model *m = model;

	if (m->mode == XGB_MLP_MODE_PAPER)
		return sf_shapley(env, hybrid_margin_fn, m, bg, m->selected, m->n_selected, x, phi, se);
	return shapley_every_feature(env, hybrid_margin_fn, m, bg, m->n_features, x, phi, se);
}

/*
 * A linear margin b + w.x against a background with means mu: the Shapley
 * value of feature j is w_j (x_j - mu_j) exactly (each feature enters
 * alone), the bias b + w.mu is the background's mean margin.
 */
sf_status
sf_explain_logreg(sf_env *env, const void *model, const sf_background *bg,
				  const double *x, double *phi, double *se)
{
	const logreg_model *m = model;
	double		bias = m->intercept;
	uint32_t	j,
				r;

	if (se)
		memset(se, 0, sizeof(double) * (m->n_features + 1));
	if (bg->n_rows == 0)
		return sf_fail(env, SF_EDATA, "the model has no background sample");
	for (j = 0; j < m->n_features; j++)
	{
		double		mu = 0;

		for (r = 0; r < bg->n_rows; r++)
			mu += bg->x[(size_t) r * bg->n_cols + j];
		mu /= bg->n_rows;
		phi[j] = m->coef[j] * (x[j] - mu);
		bias += m->coef[j] * mu;
	}
	phi[m->n_features] = bias;
	return SF_OK;
}
