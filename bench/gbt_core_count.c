/*
 * gbt_core_count.c
 *	  The tree core alone (gbt_train, no server) on the shape of
 *	  bench/gbt_bench.py, for instruction counts: valgrind's callgrind counts
 *	  the instructions of every function exactly and does not move with the
 *	  machine's load (the virtual machine here has no hardware counters for
 *	  perf stat).
 *
 *	  bench/gbt_core_count.sh [ROWS] [ROUNDS] [THREADS] [DRIFT]
 *
 * DRIFT 1 adds the work of xgb_train's drift section as it was (every row
 * scored again with gbt_predict, every feature binned at the model's
 * thresholds by a pass over its values), DRIFT 2 as it is (the scores and
 * rows per bin code the trainer kept, gbt_train_keep); both print a
 * fingerprint of the bins, which must be the same.
 *
 * Prints a fingerprint (FNV-1a) of every tree array and the evaluation log,
 * so two builds can be checked for identical models on the way.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/gbt.h"
#include "scfrisk/sf_governance.h"
#include "scfrisk/sf_rng.h"
#include "../src/trees/gbt_int.h"

static uint64_t
fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char *c = p;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ c[i]) * 0x100000001B3ULL;
	return h;
}

/*
 * The feature bins of the drift section at the model's thresholds, from the
 * values (kept NULL) or from the kept counts, and the score bins; their
 * fingerprint.
 */
static uint64_t
drift_bins(sf_env *env, const gbt_model *m, const double *x, size_t n, uint32_t p,
		   const gbt_train_rows *kept)
{
	double	   *col = malloc(sizeof(double) * n),
			   *edges;
	uint32_t   *off,
				j;
	uint64_t	h = 0xCBF29CE484222325ULL;
	size_t		i;
	sf_dist		d;

	for (i = 0; i < n; i++)
	{
		double		s = kept ? kept->score[i] : gbt_predict(m, x + i * p);

		col[i] = sf_scale_score(SF_SCALE_LOGIT, s);
	}
	sf_dist_build(env, col, n, 1, SF_DRIFT_QUANTILES, &d);
	h = fnv(h, d.share, sizeof(double) * d.n_bins);
	sf_dist_free(env, &d);
	sf_drift_tree_edges(env, m->trees, m->n_trees, p, &off, &edges);
	for (j = 0; j < p; j++)
	{
		uint32_t	ne = off[j + 1] - off[j];
		sf_dist_codes c;

		if (ne == 0)
			continue;
		if (kept)
		{
			c.n_codes = kept->n_bins[j];
			c.upper = kept->cuts + kept->off[j];
			c.lower = kept->min_val[j];
			c.count = kept->count + kept->off[j];
			c.missing = kept->count[kept->off[j] + kept->n_bins[j]];
		}
		if (kept && sf_dist_codes_fit(&c, edges + off[j], ne))
			sf_dist_build_codes(env, &c, edges + off[j], ne, &d);
		else
		{
			for (i = 0; i < n; i++)
				col[i] = (double) (float) x[i * p + j];
			sf_dist_build_on(env, col, n, 1, edges + off[j], ne, &d);
		}
		h = fnv(h, d.share, sizeof(double) * d.n_bins);
		h = fnv(h, &d.missing, sizeof(double));
		sf_dist_free(env, &d);
	}
	sf_free(env, off);
	sf_free(env, edges);
	free(col);
	return h;
}

int
main(int argc, char **argv)
{
	size_t		n = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	int			rounds = argc > 2 ? atoi(argv[2]) : 20;
	int			threads = argc > 3 ? atoi(argv[3]) : 2;
	int			drift = argc > 4 ? atoi(argv[4]) : 0;
	gbt_train_rows kept;
	uint32_t	p = 20,
				j;
	double	   *x = malloc(sizeof(double) * n * p),
			   *y = malloc(sizeof(double) * n);
	gbt_params	prm = gbt_params_default();
	gbt_model  *m;
	sf_env		env;
	sf_rng		rng;
	uint64_t	h = 0xCBF29CE484222325ULL;
	size_t		i;
	int32_t		t;

	/* the generator of bench/gbt_bench.py, with this library's rng */
	sf_rng_init(&rng, 1, 0);
	for (i = 0; i < n; i++)
	{
		double	   *r = x + i * p,
					z;

		for (j = 0; j < p; j++)
			r[j] = sf_rng_normal(&rng);
		z = r[0] * r[1] + sin(2 * r[2]) + fabs(r[3]) - 0.8 + 0.5 * r[4] - 0.3 * r[5] * r[5]
			+ 0.6 * r[6] * (r[7] > 0) + 0.2 * r[8];
		y[i] = sf_rng_uniform(&rng) < 1.0 / (1.0 + exp(-z)) ? 1.0 : 0.0;
		for (j = 0; j < p; j++)
			if (sf_rng_uniform(&rng) < 0.05)
				r[j] = NAN;
	}
	prm.n_estimators = rounds;
	prm.max_depth = 6;
	prm.eta = 0.1;
	prm.max_bin = 256;
	sf_env_init_malloc(&env);
	env.threads = threads;
	if (gbt_train_keep(&env, x, y, NULL, n, p, &prm, &m, drift == 2 ? &kept : NULL) != SF_OK)
	{
		fprintf(stderr, "gbt_train: %s\n", env.msg ? env.msg : "failed");
		return 1;
	}
	for (t = 0; t < m->n_trees; t++)
	{
		const gbt_tree *tr = &m->trees[t];
		size_t		nn = (size_t) tr->n_nodes;

		h = fnv(h, tr->left, 4 * nn);
		h = fnv(h, tr->right, 4 * nn);
		h = fnv(h, tr->split_index, 4 * nn);
		h = fnv(h, tr->split_cond, 4 * nn);
		h = fnv(h, tr->default_left, nn);
		h = fnv(h, tr->base_weight, 4 * nn);
		h = fnv(h, tr->loss_chg, 4 * nn);
		h = fnv(h, tr->sum_hess, 4 * nn);
	}
	h = fnv(h, m->eval_train, sizeof(double) * m->n_eval);
	printf("rows %zu rounds %d threads %d trees %d fingerprint %016llx\n", n, rounds, threads,
		   m->n_trees, (unsigned long long) h);
	if (drift)
		printf("drift %s: bins fingerprint %016llx\n", drift == 2 ? "from the kept rows" : "rows scored again",
			   (unsigned long long) drift_bins(&env, m, x, n, p, drift == 2 ? &kept : NULL));
	if (drift == 2)
		gbt_train_rows_free(&env, &kept);
	gbt_model_free(&env, m);
	free(x);
	free(y);
	return 0;
}
