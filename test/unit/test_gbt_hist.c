/*
 * test_gbt_hist.c
 *	  The training kernels of the tree core against naive versions: the
 *	  histogram builder (gbt_hist_build: vector adds, tasks by node and
 *	  feature block) bit for bit against a plain loop over the rows in order,
 *	  for narrow and wide codes and 1 to 3 threads; and the block-wise
 *	  partition of gbt_grow.c through its result, the training margins: the
 *	  training logloss of every round equals the one recomputed by routing
 *	  every raw row through the trees (a row in the wrong leaf moves it by far
 *	  more than the tolerance), with more rows than one partition block.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sf_test.h"
#include "scfrisk/gbt.h"
#include "scfrisk/sf_rng.h"
#include "../../src/trees/gbt_int.h"

/* n x p normal values, share_missing of them NaN; few distinct values in column 0. */
static void
make_x(size_t n, uint32_t p, double share_missing, uint64_t seed, double *x)
{
	sf_rng		rng;
	size_t		i;
	uint32_t	j;

	sf_rng_init(&rng, seed, 0);
	for (i = 0; i < n; i++)
		for (j = 0; j < p; j++)
		{
			double		v = sf_rng_normal(&rng);

			if (j == 0)
				v = floor(3.0 * v);
			x[i * p + j] = sf_rng_uniform(&rng) < share_missing ? NAN : v;
		}
}

/* The histogram of rows[b, e) as the definition says: slot by slot, rows in order. */
static void
naive_hist(const gbt_bins *bins, const float *gh, const uint32_t *rows, size_t b, size_t e,
		   double *h)
{
	size_t		i;
	uint32_t	j;

	memset(h, 0, sizeof(double) * 2 * bins->off[bins->p]);
	for (i = b; i < e; i++)
		for (j = 0; j < bins->p; j++)
		{
			size_t		s = bins->off[j] + gbt_code(bins, rows[i], j);

			h[2 * s] += gh[2 * (size_t) rows[i]];
			h[2 * s + 1] += gh[2 * (size_t) rows[i] + 1];
		}
}

/* One case: n rows, p features, max_bin; nodes over a random subset of rows in order. */
static void
hist_case(size_t n, uint32_t p, int max_bin, int n_nodes, uint64_t seed)
{
	double	   *x = malloc(sizeof(double) * n * p);
	float	   *gh = malloc(sizeof(float) * 2 * n);
	uint32_t   *rows = malloc(sizeof(uint32_t) * n);
	size_t	   *begin = malloc(sizeof(size_t) * n_nodes),
			   *end = malloc(sizeof(size_t) * n_nodes);
	double	  **hist = malloc(sizeof(double *) * n_nodes);
	double	   *want;
	gbt_bins	bins;
	sf_env		env;
	sf_rng		rng;
	size_t		i,
				m = 0;
	int			k,
				threads;

	sf_env_init_malloc(&env);
	make_x(n, p, 0.07, seed, x);
	SF_OK(gbt_bins_build(&env, x, NULL, p, NULL, n, max_bin, &bins) == SF_OK,
		  "quantised %zu x %u, max_bin %d (%s codes)", n, p, max_bin, bins.wide ? "wide" : "narrow");
	sf_rng_init(&rng, seed, 1);
	for (i = 0; i < n; i++)
	{
		/* gradients of both signs and hessians in (0, 1), as float32 */
		gh[2 * i] = (float) (sf_rng_uniform(&rng) - 0.4);
		gh[2 * i + 1] = (float) sf_rng_uniform(&rng);
		if (sf_rng_uniform(&rng) < 0.8)
			rows[m++] = (uint32_t) i;
	}
	/* nodes: consecutive runs of the kept rows, of random lengths (some empty) */
	for (k = 0; k < n_nodes; k++)
	{
		begin[k] = k == 0 ? 0 : end[k - 1];
		end[k] = k == n_nodes - 1 ? m : begin[k] + (size_t) (sf_rng_uniform(&rng) * 2.0 * m / n_nodes);
		if (end[k] > m)
			end[k] = m;
		hist[k] = malloc(sizeof(double) * 2 * bins.off[p]);
	}
	want = malloc(sizeof(double) * 2 * bins.off[p]);
	for (threads = 1; threads <= 3; threads++)
	{
		int			same = 1;

		env.threads = threads;
		gbt_hist_build(&env, &bins, gh, rows, n_nodes, begin, end, hist);
		for (k = 0; k < n_nodes; k++)
		{
			naive_hist(&bins, gh, rows, begin[k], end[k], want);
			same &= memcmp(want, hist[k], sizeof(double) * 2 * bins.off[p]) == 0;
		}
		SF_OK(same, "%d node(s), %d thread(s): every histogram equals the naive one bit for bit",
			  n_nodes, threads);
	}
	for (k = 0; k < n_nodes; k++)
		free(hist[k]);
	free(want);
	gbt_bins_free(&env, &bins);
	free(x);
	free(gh);
	free(rows);
	free(begin);
	free(end);
	free(hist);
}

SF_TEST(test_hist_against_naive)
{
	hist_case(2000, 5, 16, 1, 11);
	hist_case(3000, 7, 64, 2, 12);
	hist_case(3000, 9, 256, 5, 13);
	hist_case(4000, 6, 64, 40, 14);
	hist_case(5000, 4, 600, 3, 15);	/* more than 255 bins: 16-bit codes */
}

/* Leaf of raw row x (float32 compares, as scoring). */
static int32_t
route(const gbt_tree *t, const double *x)
{
	int32_t		k = 0;

	while (t->left[k] >= 0)
	{
		float		v = (float) x[t->split_index[k]];

		k = isnan(v) ? (t->default_left[k] ? t->left[k] : t->right[k])
			: (v < t->split_cond[k] ? t->left[k] : t->right[k]);
	}
	return k;
}

SF_TEST(test_partition_through_margins)
{
	size_t		n = 2 * GBT_PART_CHUNK + 5000,
				i;
	uint32_t	p = 6;
	double	   *x = malloc(sizeof(double) * n * p),
			   *y = malloc(sizeof(double) * n),
			   *mt = malloc(sizeof(double) * n);
	gbt_params	prm = gbt_params_default();
	gbt_model  *m[3];
	sf_env		env;
	sf_rng		rng;
	int			threads,
				r,
				worst_round = -1;
	double		worst = 0.0;

	make_x(n, p, 0.05, 21, x);
	sf_rng_init(&rng, 22, 0);
	for (i = 0; i < n; i++)
	{
		const double *xi = x + i * p;
		double		z = (isnan(xi[1]) ? 0.3 : xi[1]) * (isnan(xi[2]) ? -0.2 : xi[2]) +
			(isnan(xi[0]) ? 0.0 : 0.4 * xi[0]);

		y[i] = sf_rng_uniform(&rng) < 1.0 / (1.0 + exp(-z)) ? 1.0 : 0.0;
	}
	prm.n_estimators = 8;
	prm.max_depth = 5;
	sf_env_init_malloc(&env);
	for (threads = 1; threads <= 3; threads++)
	{
		env.threads = threads;
		SF_OK(gbt_train(&env, x, y, NULL, n, p, &prm, &m[threads - 1]) == SF_OK,
			  "trained on %zu rows (%zu partition blocks at the root), %d thread(s)",
			  n, (n + GBT_PART_CHUNK - 1) / GBT_PART_CHUNK, threads);
	}
	for (i = 0; i < n; i++)
		mt[i] = m[0]->base_margin;
	for (r = 0; r < m[0]->n_trees; r++)
	{
		double		acc = 0.0;

		for (i = 0; i < n; i++)
		{
			double		pr;

			mt[i] += m[0]->trees[r].split_cond[route(&m[0]->trees[r], x + i * p)];
			pr = 1.0 / (1.0 + exp(-mt[i]));
			pr = pr < 1e-16 ? 1e-16 : pr > 1.0 - 1e-16 ? 1.0 - 1e-16 : pr;
			acc -= y[i] > 0.5 ? log(pr) : log(1.0 - pr);
		}
		if (fabs(acc / n - m[0]->eval_train[r]) > worst)
		{
			worst = fabs(acc / n - m[0]->eval_train[r]);
			worst_round = r;
		}
	}
	SF_OK(worst <= 1e-12, "training logloss of every round = logloss of the routed raw rows "
		  "(worst difference %.3g at round %d, tol 1e-12: sums in another order)", worst, worst_round + 1);
	for (threads = 2; threads <= 3; threads++)
	{
		int			same = m[threads - 1]->n_trees == m[0]->n_trees;

		for (r = 0; same && r < m[0]->n_trees; r++)
		{
			const gbt_tree *a = &m[0]->trees[r],
					   *b = &m[threads - 1]->trees[r];

			same = a->n_nodes == b->n_nodes &&
				memcmp(a->split_cond, b->split_cond, sizeof(float) * a->n_nodes) == 0 &&
				memcmp(a->split_index, b->split_index, sizeof(uint32_t) * a->n_nodes) == 0 &&
				memcmp(a->sum_hess, b->sum_hess, sizeof(float) * a->n_nodes) == 0;
		}
		same = same && memcmp(m[0]->eval_train, m[threads - 1]->eval_train,
							  sizeof(double) * m[0]->n_eval) == 0;
		SF_OK(same, "%d threads: the same trees and training log as 1 thread, bit for bit", threads);
	}
	for (threads = 0; threads < 3; threads++)
		gbt_model_free(&env, m[threads]);
	free(x);
	free(y);
	free(mt);
}

int
main(void)
{
	SF_RUN(test_hist_against_naive);
	SF_RUN(test_partition_through_margins);
	return sf_test_done();
}
