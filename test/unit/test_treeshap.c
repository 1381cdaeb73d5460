/*
 * test_treeshap.c
 *	  The precomputed TreeSHAP (explain_treeshap.h) against the reference
 *	  walk (sf_treeshap, sf_explain_forest, which test_explain.c checks
 *	  against brute-force Shapley values), without PostgreSQL:
 *	  - random unbalanced trees of depth 1 to 8 over few features (so paths
 *	    split on a feature several times) and over many, missing values in
 *	    the rows, leaves without cover: every value within 1e-12;
 *	  - a forest's mean (scale 1/n) the same way;
 *	  - trees over the table budget or with more distinct features on a path
 *	    than the tables take fall back to the reference walk inside the same
 *	    plan, with the same values;
 *	  - one leaf trees, and a second run of a row giving the same bits;
 *	  - leaves without cover (min_child_weight 0, or imported covers of 0):
 *	    the plan equals the brute-force Shapley values of the path-dependent
 *	    value function, where the reference walk (XGBoost's algorithm)
 *	    divides by a zero fraction when such a branch splits on a feature
 *	    again and gives NaN.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/explain_treeshap.h"
#include "scfrisk/forest.h"
#include "scfrisk/gbt.h"
#include "scfrisk/sf_explain.h"
#include "scfrisk/sf_rng.h"
#include "sf_test.h"
#include "../../src/trees/gbt_int.h"

static sf_env env;

#define MAX_NODES 70000

/* Share of leaves without cover (0 where the reference walk is compared). */
static double zero_cover_p = 0;

/* Grow node k of t below 'depth' levels: split with probability split_p. */
static void
grow(sf_rng *r, gbt_tree *t, int k, int depth, uint32_t n_features, double split_p)
{
	if (depth == 0 || sf_rng_uniform(r) > split_p)
	{
		t->left[k] = t->right[k] = -1;
		t->split_cond[k] = (float) sf_rng_normal(r);
		t->sum_hess[k] = sf_rng_uniform(r) < zero_cover_p ? 0.0f : (float) (1 + sf_rng_below(r, 50));
		return;
	}
	t->left[k] = t->n_nodes++;
	t->right[k] = t->n_nodes++;
	t->split_index[k] = (uint32_t) sf_rng_below(r, n_features);
	t->split_cond[k] = (float) (sf_rng_normal(r) * 0.8);
	t->default_left[k] = (uint8_t) sf_rng_below(r, 2);
	grow(r, t, t->left[k], depth - 1, n_features, split_p);
	grow(r, t, t->right[k], depth - 1, n_features, split_p);
	t->sum_hess[k] = t->sum_hess[t->left[k]] + t->sum_hess[t->right[k]];
}

static void
random_tree(sf_rng *r, gbt_tree *t, int depth, uint32_t n_features, double split_p)
{
	SF_OK(gbt_tree_alloc(&env, t, MAX_NODES) == SF_OK, "tree allocated");
	t->n_nodes = 1;
	grow(r, t, 0, depth, n_features, split_p);
}

static void
free_trees(gbt_tree *t, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		gbt_tree_free(&env, &t[i]);
}

static void
random_row(sf_rng *r, double *x, uint32_t n_features)
{
	uint32_t	j;

	for (j = 0; j < n_features; j++)
		x[j] = sf_rng_uniform(r) < 0.15 ? NAN : sf_rng_normal(r);
}

/*
 * Largest |plan - reference| over rows of m's TreeSHAP values (as a gbt
 * model, or as a forest when forest is set), with the given budget.
 */
static double
worst_gap(sf_rng *r, gbt_model *m, int forest, size_t budget, int rows, int32_t *tabled)
{
	forest_model fm;
	sf_treeshap_plan *p;
	double	   *x = malloc(sizeof(double) * m->n_features),
			   *a = malloc(sizeof(double) * (m->n_features + 1)),
			   *b = malloc(sizeof(double) * (m->n_features + 1)),
			   *again = malloc(sizeof(double) * (m->n_features + 1)),
				worst = 0;
	int			i,
				failed = 0,
				nonfinite = 0;
	uint32_t	j;

	memset(&fm, 0, sizeof(fm));
	fm.n_features = m->n_features;
	fm.n_trees = m->n_trees;
	fm.trees = m->trees;
	SF_OK(sf_treeshap_plan_build(&env, m->trees, m->n_trees, forest ? 1.0 / m->n_trees : 1.0,
								 forest ? 0.0 : (double) m->base_margin, m->n_features, budget,
								 &p) == SF_OK, "plan builds: %s", env.msg);
	*tabled = sf_treeshap_plan_tabled(p);
	for (i = 0; i < rows; i++)
	{
		random_row(r, x, m->n_features);
		failed += sf_treeshap_plan_run(&env, p, x, a) != SF_OK;
		failed += (forest ? sf_explain_forest(&env, &fm, NULL, x, b, NULL) :
				   sf_treeshap(&env, m, x, b)) != SF_OK;
		for (j = 0; j <= m->n_features; j++)
		{
			nonfinite += !isfinite(a[j]) || !isfinite(b[j]);
			if (fabs(a[j] - b[j]) > worst)
				worst = fabs(a[j] - b[j]);
		}
		if (i == 0)
		{
			SF_OK(sf_treeshap_plan_run(&env, p, x, again) == SF_OK, "plan runs again");
			SF_OK(memcmp(a, again, sizeof(double) * (m->n_features + 1)) == 0,
				  "a second run gives the same bits");
		}
	}
	SF_OK(failed == 0, "plan and reference run on %d rows", rows);
	SF_OK(nonfinite == 0, "every value is finite (%d are not)", nonfinite);
	sf_treeshap_plan_free(&env, p);
	free(x);
	free(a);
	free(b);
	free(again);
	return worst;
}

#define NT 12

static void
check_family(uint64_t seed, uint32_t n_features, int depth, double split_p, const char *what)
{
	sf_rng		r;
	gbt_tree	trees[NT];
	gbt_model	m;
	int32_t		tabled;
	int			i;
	double		gap;

	sf_rng_init(&r, seed, 1);
	memset(&m, 0, sizeof(m));
	m.n_features = n_features;
	m.n_trees = NT;
	m.trees = trees;
	m.base_margin = -0.4f;
	for (i = 0; i < NT; i++)
		random_tree(&r, &trees[i], 1 + (i * (depth - 1)) / (NT - 1), n_features, split_p);
	gap = worst_gap(&r, &m, 0, SF_TREESHAP_TABLE_BUDGET, 200, &tabled);
	SF_OK(tabled == NT, "%s: every tree has tables (%d)", what, (int) tabled);
	SF_NEAR(gap, 0, 1e-12, what);
	gap = worst_gap(&r, &m, 1, SF_TREESHAP_TABLE_BUDGET, 100, &tabled);
	SF_NEAR(gap, 0, 1e-12, "the same trees as a forest's mean");
	/* a budget for about half the trees: the rest take the reference walk */
	gap = worst_gap(&r, &m, 0, 600, 100, &tabled);
	SF_OK(tabled > 0 && tabled < NT, "%s: budget 600 tables %d of %d trees", what, (int) tabled, NT);
	SF_NEAR(gap, 0, 1e-12, "mixed tables and reference walks");
	gap = worst_gap(&r, &m, 0, 0, 50, &tabled);
	SF_OK(tabled == 1 || tabled == 0, "budget 0: only one leaf trees could have tables");
	SF_NEAR(gap, 0, 1e-12, "budget 0: the reference walk");
	free_trees(trees, NT);
}

SF_TEST(plan_equals_reference)
{
	check_family(3, 4, 8, 0.85, "4 features, depth up to 8 (repeated splits)");
	check_family(5, 30, 8, 0.9, "30 features, depth up to 8");
	check_family(7, 200, 6, 1.0, "200 features, full trees of depth up to 6");
}

SF_TEST(deep_paths_fall_back)
{
	sf_rng		r;
	gbt_tree	trees[3];
	gbt_model	m;
	int32_t		tabled;
	double		gap;

	sf_rng_init(&r, 11, 1);
	memset(&m, 0, sizeof(m));
	m.n_features = 60;
	m.n_trees = 3;
	m.trees = trees;
	random_tree(&r, &trees[0], 5, 60, 1.0);
	/* depth 14 over 60 features: most paths have more distinct features than a table takes */
	random_tree(&r, &trees[1], 14, 60, 0.97);
	/* a single leaf: no contributions, its value in the bias */
	random_tree(&r, &trees[2], 0, 60, 1.0);
	gap = worst_gap(&r, &m, 0, SF_TREESHAP_TABLE_BUDGET, 40, &tabled);
	SF_OK(tabled == 2, "the deep tree takes the reference walk (%d tabled)", (int) tabled);
	SF_NEAR(gap, 0, 1e-12, "a plan with a deep tree equals the reference");
	free_trees(trees, 3);
}

/* Path-dependent expectation of t given the features in mask (no cover: halves). */
static double
cond_exp(const gbt_tree *t, int k, const double *x, unsigned mask)
{
	uint32_t	f;
	double		w = t->sum_hess[k];

	if (t->left[k] < 0)
		return t->split_cond[k];
	f = t->split_index[k];
	if (mask & (1u << f))
		return cond_exp(t, isnan(x[f]) ? (t->default_left[k] ? t->left[k] : t->right[k]) :
						((float) x[f] < t->split_cond[k] ? t->left[k] : t->right[k]), x, mask);
	if (!(w > 0))
		return 0.5 * (cond_exp(t, t->left[k], x, mask) + cond_exp(t, t->right[k], x, mask));
	return (cond_exp(t, t->left[k], x, mask) * t->sum_hess[t->left[k]] +
			cond_exp(t, t->right[k], x, mask) * t->sum_hess[t->right[k]]) / w;
}

#define BF 4

SF_TEST(zero_cover_brute_force)
{
	sf_rng		r;
	gbt_tree	trees[NT];
	sf_treeshap_plan *p;
	int			i,
				rep,
				j,
				s,
				failed = 0;
	double		worst = 0,
				fact[BF + 1] = {1, 1, 2, 6, 24};

	sf_rng_init(&r, 13, 1);
	zero_cover_p = 0.15;
	for (i = 0; i < NT; i++)
		random_tree(&r, &trees[i], 2 + i % 7, BF, 0.85);
	zero_cover_p = 0;
	SF_OK(sf_treeshap_plan_build(&env, trees, NT, 1.0, 0.0, BF, SF_TREESHAP_TABLE_BUDGET, &p) == SF_OK,
		  "plan builds");
	for (rep = 0; rep < 100; rep++)
	{
		double		x[BF],
					phi[BF + 1],
					ref[BF + 1] = {0};
		unsigned	mask;

		random_row(&r, x, BF);
		failed += sf_treeshap_plan_run(&env, p, x, phi) != SF_OK;
		for (i = 0; i < NT; i++)
		{
			ref[BF] += cond_exp(&trees[i], 0, x, 0);
			for (j = 0; j < BF; j++)
				for (mask = 0; mask < (1u << BF); mask++)
					if (!(mask & (1u << j)))
					{
						s = __builtin_popcount(mask);
						ref[j] += fact[s] * fact[BF - s - 1] / fact[BF] *
							(cond_exp(&trees[i], 0, x, mask | (1u << j)) -
							 cond_exp(&trees[i], 0, x, mask));
					}
		}
		for (j = 0; j <= BF; j++)
			if (!(fabs(phi[j] - ref[j]) <= worst))
				worst = isfinite(phi[j]) ? fabs(phi[j] - ref[j]) : INFINITY;
	}
	SF_OK(failed == 0, "the plan runs on 100 rows");
	SF_NEAR(worst, 0, 1e-12, "leaves without cover: the plan = brute-force Shapley values, 100 rows");
	sf_treeshap_plan_free(&env, p);
	free_trees(trees, NT);
}

int
main(void)
{
	sf_env_init_malloc(&env);
	SF_RUN(plan_equals_reference);
	SF_RUN(deep_paths_fall_back);
	SF_RUN(zero_cover_brute_force);
	return sf_test_done();
}
