/*
 * test_gbt_rows.c
 *	  What the trainer keeps of its rows for the drift section
 *	  (gbt_train_keep, gbt_int.h), against the definitions it replaces:
 *	  every row's kept score equals gbt_predict of that row with the finished
 *	  model bit for bit (float32 margins in tree order, the leaf training
 *	  routed the row to); the rows per bin code equal a count of the raw
 *	  values against the cuts; and the drift bins built from those counts
 *	  (sf_dist_build_codes) equal sf_dist_build_on over the values at the
 *	  model's own split thresholds, bit for bit.  Binary and regression,
 *	  weights, row subsampling (margins by routing, not by leaf ranges),
 *	  narrow and wide codes, 1 to 3 threads; early stopping keeps nothing.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sf_test.h"
#include "scfrisk/gbt.h"
#include "scfrisk/sf_governance.h"
#include "scfrisk/sf_rng.h"
#include "../../src/trees/gbt_int.h"

/* n x p values, 8% missing; column 0 has few distinct values (ties at the cuts). */
static void
make_data(size_t n, uint32_t p, int objective, uint64_t seed, double *x, double *y, double *w)
{
	sf_rng		rng;
	size_t		i;
	uint32_t	j;

	sf_rng_init(&rng, seed, 0);
	for (i = 0; i < n; i++)
	{
		double		z = 0.0;

		for (j = 0; j < p; j++)
		{
			double		v = sf_rng_normal(&rng);

			if (j == 0)
				v = floor(4.0 * v) / 4.0;
			x[i * p + j] = sf_rng_uniform(&rng) < 0.08 ? NAN : v;
			if (!isnan(x[i * p + j]))
				z += (j % 2 ? -0.5 : 0.7) * v * (j == 1 ? v : 1.0);
		}
		y[i] = objective == GBT_OBJ_BINARY ? (sf_rng_uniform(&rng) < 1.0 / (1.0 + exp(-z)) ? 1.0 : 0.0)
			: z + 0.3 * sf_rng_normal(&rng);
		w[i] = 0.5 + sf_rng_uniform(&rng);
	}
}

/* Code of value v of feature j: the first code whose upper bound is above v. */
static uint32_t
naive_code(const gbt_train_rows *k, uint32_t j, double v)
{
	uint32_t	c;

	if (isnan(v))
		return k->n_bins[j];
	for (c = 0; c + 1 < k->n_bins[j] && !((float) v < k->cuts[k->off[j] + c]); c++)
		;
	return c;
}

static int
same_dist(const sf_dist *a, const sf_dist *b)
{
	return a->n_bins == b->n_bins && a->missing == b->missing &&
		memcmp(a->edges, b->edges, sizeof(double) * (a->n_bins - 1)) == 0 &&
		memcmp(a->share, b->share, sizeof(double) * a->n_bins) == 0;
}

/* One training: scores, counts and the drift bins of every feature. */
static void
check_case(int objective, int weighted, double subsample, int max_bin, int threads)
{
	size_t		n = 40000,
				i,
				bad_score = 0,
				bad_count = 0;
	uint32_t	p = 5,
				j,
				*off;
	double	   *x = malloc(sizeof(double) * n * p),
			   *y = malloc(sizeof(double) * n),
			   *wt = malloc(sizeof(double) * n),
			   *col = malloc(sizeof(double) * n),
			   *edges;
	uint64_t   *count;
	gbt_params	prm = gbt_params_default();
	gbt_model  *m;
	gbt_train_rows k;
	sf_env		env;
	int			fits = 0,
				same = 0,
				split = 0;
	char		what[96];

	snprintf(what, sizeof(what), "%s%s, subsample %.1f, max_bin %d, %d thread(s)",
			 objective == GBT_OBJ_BINARY ? "binary" : "regression", weighted ? ", weighted" : "",
			 subsample, max_bin, threads);
	make_data(n, p, objective, 31 + (uint64_t) max_bin, x, y, wt);
	prm.objective = objective;
	prm.n_estimators = 12;
	prm.max_depth = 5;
	prm.max_bin = max_bin;
	prm.subsample = subsample;
	sf_env_init_malloc(&env);
	env.threads = threads;
	SF_OK(gbt_train_keep(&env, x, y, weighted ? wt : NULL, n, p, &prm, &m, &k) == SF_OK &&
		  k.n == n && k.p == p && k.score != NULL, "%s: trained, rows kept", what);
	for (i = 0; i < n; i++)
	{
		double		s = gbt_predict(m, x + i * p);

		bad_score += memcmp(&s, &k.score[i], sizeof(double)) != 0;
	}
	SF_OK(bad_score == 0, "%s: every kept score is gbt_predict of its row bit for bit (%zu differ)",
		  what, bad_score);
	count = calloc(k.off[p], sizeof(uint64_t));
	for (i = 0; i < n; i++)
		for (j = 0; j < p; j++)
			count[k.off[j] + naive_code(&k, j, x[i * p + j])]++;
	for (j = 0; j < k.off[p]; j++)
		bad_count += count[j] != k.count[j];
	SF_OK(bad_count == 0, "%s: rows per code = a count of the raw values (%zu slots differ)",
		  what, bad_count);
	/* the drift bins of every feature at the model's thresholds */
	SF_OK(sf_drift_tree_edges(&env, m->trees, m->n_trees, p, &off, &edges) == SF_OK, "%s: edges", what);
	for (j = 0; j < p; j++)
	{
		sf_dist_codes c = {k.n_bins[j], k.cuts + k.off[j], k.min_val[j], k.count + k.off[j],
		k.count[k.off[j] + k.n_bins[j]]};
		sf_dist		a,
					b;

		if (off[j + 1] == off[j])
			continue;
		split++;
		for (i = 0; i < n; i++)
			col[i] = (double) (float) x[i * p + j];
		if (!sf_dist_codes_fit(&c, edges + off[j], off[j + 1] - off[j]))
			continue;
		fits++;
		if (sf_dist_build_codes(&env, &c, edges + off[j], off[j + 1] - off[j], &a) == SF_OK &&
			sf_dist_build_on(&env, col, n, 1, edges + off[j], off[j + 1] - off[j], &b) == SF_OK)
		{
			same += same_dist(&a, &b);
			sf_dist_free(&env, &a);
			sf_dist_free(&env, &b);
		}
	}
	SF_OK(split > 0 && fits == split && same == split,
		  "%s: the thresholds of all %d split features fall on code bounds, and their bins from "
		  "the counts = sf_dist_build_on over the values (%d fit, %d equal)", what, split, fits, same);
	sf_free(&env, off);
	sf_free(&env, edges);
	gbt_train_rows_free(&env, &k);
	gbt_model_free(&env, m);
	free(count);
	free(x);
	free(y);
	free(wt);
	free(col);
}

SF_TEST(test_kept_rows)
{
	int			threads;

	for (threads = 1; threads <= 3; threads++)
		check_case(GBT_OBJ_BINARY, 0, 1.0, 256, threads);
	check_case(GBT_OBJ_BINARY, 1, 0.7, 16, 2);
	check_case(GBT_OBJ_REGRESSION, 0, 1.0, 300, 2);	/* wide codes */
	check_case(GBT_OBJ_REGRESSION, 1, 0.6, 8, 1);
}

/* An edge inside a code: the counts cannot say where its values lie. */
SF_TEST(test_codes_not_fit)
{
	const float upper[3] = {1.0f, 2.0f, 3.0f};
	const uint64_t count[3] = {1, 1, 1};
	const double values[4] = {0.5, 1.5, 2.5, NAN};
	sf_dist_codes c = {3, upper, 0.0f, count, 1};
	const double inside[1] = {1.5},
				on[2] = {0.0, 2.0};
	sf_dist		a,
				b;
	sf_env		env;

	sf_env_init_malloc(&env);
	SF_OK(!sf_dist_codes_fit(&c, inside, 1), "an edge at 1.5 falls inside code [1, 2)");
	SF_OK(sf_dist_build_codes(&env, &c, inside, 1, &a) == SF_EINVAL, "and the counts refuse it");
	SF_OK(sf_dist_codes_fit(&c, on, 2), "edges at 0 (the lower bound) and 2 (a code bound) fit");
	SF_OK(sf_dist_build_codes(&env, &c, on, 2, &a) == SF_OK &&
		  sf_dist_build_on(&env, values, 4, 1, on, 2, &b) == SF_OK && same_dist(&a, &b) &&
		  a.share[1] == 0.5 && a.share[2] == 0.25 && a.missing == 0.25,
		  "their bins from the counts = from the values (shares 0, 1/2, 1/4, missing 1/4)");
	sf_dist_free(&env, &a);
	sf_dist_free(&env, &b);
}

/* Early stopping trains on part of the rows: nothing is kept. */
SF_TEST(test_early_stopping_keeps_nothing)
{
	size_t		n = 3000;
	uint32_t	p = 5;
	double	   *x = malloc(sizeof(double) * n * p),
			   *y = malloc(sizeof(double) * n),
			   *wt = malloc(sizeof(double) * n);
	gbt_params	prm = gbt_params_default();
	gbt_model  *m;
	gbt_train_rows k;
	sf_env		env;

	make_data(n, p, GBT_OBJ_BINARY, 5, x, y, wt);
	prm.n_estimators = 5;
	prm.early_stopping_rounds = 2;
	sf_env_init_malloc(&env);
	SF_OK(gbt_train_keep(&env, x, y, NULL, n, p, &prm, &m, &k) == SF_OK && k.n == 0 &&
		  k.score == NULL && k.count == NULL, "early stopping: trained, no rows kept");
	gbt_train_rows_free(&env, &k);
	gbt_model_free(&env, m);
	free(x);
	free(y);
	free(wt);
}

int
main(void)
{
	SF_RUN(test_kept_rows);
	SF_RUN(test_codes_not_fit);
	SF_RUN(test_early_stopping_keeps_nothing);
	return sf_test_done();
}
