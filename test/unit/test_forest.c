/*
 * test_forest.c
 *	  Unit tests of the CART and random forest core (forest.h) without
 *	  PostgreSQL: splits, leaf values and impurity decreases worked by hand
 *	  (gini, entropy, squared error), missing values, the depth and leaf-size
 *	  limits, a forest learning a nonlinear signal with the same bytes on 1
 *	  and 3 threads, byte round trips, every truncation of the bytes
 *	  rejected, and the data and parameter checks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sf_test.h"
#include "scfrisk/forest.h"
#include "scfrisk/sf_rng.h"

static forest_params
defaults(const sf_param_table *t)
{
	forest_params p;

	memset(&p, 0, sizeof(p));
	sf_params_defaults(t, &p);
	return p;
}

static sf_status
train(uint16_t kind, size_t n, uint32_t p, const double *x, const double *y, forest_params *prm,
	  int threads, forest_model **m)
{
	sf_env		env;

	sf_env_init_malloc(&env);
	env.threads = threads;
	return forest_train(&env, kind, x, y, n, p, prm, m);
}

static void
release(forest_model *m)
{
	sf_env		env;

	sf_env_init_malloc(&env);
	forest_model_free(&env, m);
}

/* Depth of the subtree at node k. */
static int
depth_of(const gbt_tree *t, int32_t k)
{
	int			l,
				r;

	if (t->left[k] < 0)
		return 0;
	l = depth_of(t, t->left[k]);
	r = depth_of(t, t->right[k]);
	return 1 + (l > r ? l : r);
}

SF_TEST(test_gini_stump)
{
	/* x = 0..9, y = 1 from x = 3 on: one split, pure leaves */
	double		x[10],
				y[10],
				q;
	forest_params prm = defaults(&cart_params_table);
	forest_model *m = NULL;
	int			i;

	for (i = 0; i < 10; i++)
	{
		x[i] = i;
		y[i] = i >= 3;
	}
	SF_OK(train(SF_KIND_CART, 10, 1, x, y, &prm, 1, &m) == SF_OK, "cart trains");
	SF_OK(m->n_trees == 1 && m->trees[0].n_nodes == 3, "one split, two leaves (%d nodes)",
		  m->trees[0].n_nodes);
	SF_NEAR(m->trees[0].split_cond[0], 3.0, 0, "x < 3 goes left");
	/* weighted gini of the root: 2 S (W - S) / W = 2 * 7 * 3 / 10; children pure */
	SF_NEAR(m->trees[0].loss_chg[0], 4.2, 1e-6, "decrease is the root's weighted gini");
	q = 2.9;
	SF_NEAR(forest_predict(m, &q), 0.0, 0, "left leaf is 0");
	q = 3.0;
	SF_NEAR(forest_predict(m, &q), 1.0, 0, "right leaf is 1");
	release(m);
}

SF_TEST(test_entropy_and_depth)
{
	/*
	 * x = 0..7, y = 0 0 1 0 1 1 1 1, depth 1, entropy.  Candidates by hand
	 * (decrease = 8 H(root) - the children's W H): x < 4 (left 0 0 1 0, one
	 * 1 in four; right pure) beats x < 2 (left pure; right one 0 in six).
	 */
	double		x[8] = {0, 1, 2, 3, 4, 5, 6, 7},
				y[8] = {0, 0, 1, 0, 1, 1, 1, 1};
	forest_params prm = defaults(&cart_params_table);
	forest_model *m = NULL;
	double		hroot = -(3.0 / 8 * log2(3.0 / 8) + 5.0 / 8 * log2(5.0 / 8)) * 8,
				hr = -(1.0 / 6 * log2(1.0 / 6) + 5.0 / 6 * log2(5.0 / 6)) * 6,
				h4 = -(1.0 / 4 * log2(1.0 / 4) + 3.0 / 4 * log2(3.0 / 4)) * 4;

	prm.criterion = FOREST_CRIT_ENTROPY;
	prm.max_depth = 1;
	SF_OK(train(SF_KIND_CART, 8, 1, x, y, &prm, 1, &m) == SF_OK, "entropy cart trains");
	SF_OK(hroot - h4 > hroot - hr, "by hand, x < 4 beats x < 2");
	SF_NEAR(m->trees[0].split_cond[0], 4.0, 0, "x < 4 goes left");
	SF_NEAR(m->trees[0].loss_chg[0], hroot - h4, 1e-5, "entropy decrease by hand (log2)");
	SF_NEAR(m->trees[0].split_cond[1], 0.25, 1e-7, "left leaf is the share of ones");
	SF_OK(depth_of(&m->trees[0], 0) == 1, "max_depth 1 holds");
	release(m);
}

SF_TEST(test_regression_leaves)
{
	/*
	 * y = 1 1 5 7 at x = 0..3: the squared-error decreases of the three
	 * thresholds are 8.33, 25 and 16.33 (S_L^2/W_L + S_R^2/W_R - S^2/W), so
	 * the split is x < 2 with leaf means 1 and 6.
	 */
	double		x[4] = {0, 1, 2, 3},
				y[4] = {1, 1, 5, 7},
				q;
	forest_params prm = defaults(&cart_params_table);
	forest_model *m = NULL;

	prm.objective = FOREST_OBJ_REGRESSION;
	prm.max_depth = 1;
	SF_OK(train(SF_KIND_CART, 4, 1, x, y, &prm, 1, &m) == SF_OK, "regression cart trains");
	SF_OK(m->criterion == FOREST_CRIT_SQUARED, "auto criterion is squared_error");
	SF_NEAR(m->trees[0].split_cond[0], 2.0, 0, "x < 2 goes left");
	SF_NEAR(m->trees[0].loss_chg[0], 25.0, 1e-5, "squared-error decrease by hand");
	q = 0.5;
	SF_NEAR(forest_predict(m, &q), 1.0, 1e-7, "left mean");
	q = 9.0;
	SF_NEAR(forest_predict(m, &q), 6.0, 1e-7, "right mean");
	release(m);
}

SF_TEST(test_missing_values)
{
	/* feature 0 is missing exactly on the rows with label 1 */
	double		x[12],
				y[12],
				q;
	forest_params prm = defaults(&cart_params_table);
	forest_model *m = NULL;
	int			i;

	for (i = 0; i < 12; i++)
	{
		y[i] = i % 3 == 0;
		x[i] = y[i] > 0 ? NAN : (double) i;
	}
	SF_OK(train(SF_KIND_CART, 12, 1, x, y, &prm, 1, &m) == SF_OK, "trains with NaN");
	SF_OK(m->trees[0].n_nodes == 3, "missing against present is one split (%d nodes)",
		  m->trees[0].n_nodes);
	q = NAN;
	SF_NEAR(forest_predict(m, &q), 1.0, 0, "a missing value goes to the label-1 leaf");
	q = 100.0;
	SF_NEAR(forest_predict(m, &q), 0.0, 0, "a present value goes to the label-0 leaf");
	release(m);
}

/* Synthetic binary data: y depends on x0 * x1 and x2 > 0 with noise. */
static void
make_data(size_t n, uint32_t p, uint64_t seed, double *x, double *y)
{
	sf_rng		rng;
	size_t		i;
	uint32_t	j;

	sf_rng_init(&rng, seed, 0);
	for (i = 0; i < n; i++)
	{
		double		z;

		for (j = 0; j < p; j++)
			x[i * p + j] = sf_rng_normal(&rng);
		z = 1.5 * x[i * p] * x[i * p + 1] + (x[i * p + 2] > 0 ? 1.0 : -1.0) + 0.5 * sf_rng_normal(&rng);
		y[i] = z > 0 ? 1.0 : 0.0;
	}
}

static double
auc_of(const double *s, const double *y, size_t n)
{
	double		num = 0,
				pos = 0,
				neg = 0;
	size_t		i,
				k;

	for (i = 0; i < n; i++)
	{
		if (y[i] > 0.5)
			pos++;
		else
			neg++;
	}
	for (i = 0; i < n; i++)
		if (y[i] > 0.5)
			for (k = 0; k < n; k++)
				if (y[k] < 0.5)
					num += s[i] > s[k] ? 1.0 : s[i] == s[k] ? 0.5 : 0.0;
	return num / (pos * neg);
}

static void
encode(const forest_model *m, const forest_params *p, sf_buf *b)
{
	static sf_env env;

	sf_env_init_malloc(&env);
	sf_buf_init(b, &env);
	forest_encode(&env, m, p, NULL, b);
}

SF_TEST(test_forest_learns_and_deterministic)
{
	size_t		n = 1500,
				nt = 500,
				i;
	uint32_t	p = 6;
	double	   *x = malloc(sizeof(double) * n * p),
			   *y = malloc(sizeof(double) * n),
			   *xt = malloc(sizeof(double) * nt * p),
			   *yt = malloc(sizeof(double) * nt),
			   *s = malloc(sizeof(double) * nt),
				imp[6],
				sum = 0.0;
	forest_params prm = defaults(&forest_params_table);
	forest_model *m1 = NULL,
			   *m3 = NULL,
			   *md = NULL,
			   *tree = NULL;
	sf_buf		b1,
				b3;
	sf_env		env;
	int			k,
				ok = 1;

	make_data(n, p, 1, x, y);
	make_data(nt, p, 2, xt, yt);
	prm.n_estimators = 40;
	prm.min_samples_leaf = 2;
	SF_OK(train(SF_KIND_FOREST, n, p, x, y, &prm, 1, &m1) == SF_OK, "forest trains on 1 thread");
	SF_OK(train(SF_KIND_FOREST, n, p, x, y, &prm, 3, &m3) == SF_OK, "forest trains on 3 threads");
	encode(m1, &prm, &b1);
	encode(m3, &prm, &b3);
	SF_OK(b1.len == b3.len && memcmp(b1.data, b3.data, b1.len) == 0,
		  "same model bytes on 1 and 3 threads (%zu bytes)", b1.len);
	for (i = 0; i < nt; i++)
		s[i] = forest_predict(m1, xt + i * p);
	SF_OK(auc_of(s, yt, nt) > 0.85, "held-out AUC %.3f > 0.85 on the x0 x1 + [x2 > 0] signal",
		  auc_of(s, yt, nt));
	/* every leaf of every tree keeps 2 distinct rows: its weight is at least 2 */
	for (k = 0; k < m1->n_trees; k++)
		for (i = 0; i < (size_t) m1->trees[k].n_nodes; i++)
			if (m1->trees[k].left[i] < 0 && m1->trees[k].sum_hess[i] < 2.0f)
				ok = 0;
	SF_OK(ok, "min_samples_leaf 2 holds in every leaf");
	sf_env_init_malloc(&env);
	SF_OK(forest_importance(&env, m1, imp) == SF_OK, "importance");
	for (k = 0; k < 6; k++)
		sum += imp[k];
	SF_NEAR(sum, 1.0, 1e-12, "importances sum to 1");
	SF_OK(imp[0] > imp[3] && imp[1] > imp[4] && imp[2] > imp[5],
		  "signal features outrank noise (%.3f %.3f %.3f vs %.3f %.3f %.3f)",
		  imp[0], imp[1], imp[2], imp[3], imp[4], imp[5]);
	SF_OK(forest_decode(&env, SF_KIND_FOREST, b1.data, b1.len, &md) == SF_OK, "decodes");
	ok = md->n_trees == m1->n_trees;
	for (i = 0; ok && i < nt; i++)
		ok = forest_predict(md, xt + i * p) == s[i];
	SF_OK(ok, "decoded model scores every row the same");
	SF_OK(forest_decode(&env, SF_KIND_CART, b1.data, b1.len, &tree) == SF_EKIND,
		  "forest bytes are not a cart model");
	/*
	 * Without bootstrap, with every feature: each tree is the CART tree
	 * (shallow, with large leaves, so no two features tie for a split and
	 * the random order of examining them cannot matter).
	 */
	prm.bootstrap = 0;
	prm.max_features = FOREST_MF_ALL;
	prm.n_estimators = 3;
	prm.max_depth = 4;
	prm.min_samples_leaf = 20;
	forest_model_free(&env, m3);
	SF_OK(train(SF_KIND_FOREST, n, p, x, y, &prm, 2, &m3) == SF_OK, "forest without bootstrap");
	SF_OK(train(SF_KIND_CART, n, p, x, y, &prm, 1, &tree) == SF_OK, "cart");
	ok = 1;
	for (i = 0; i < nt; i++)
		ok &= forest_predict(m3, xt + i * p) == forest_predict(tree, xt + i * p);
	SF_OK(ok, "no bootstrap, all features: the forest scores as its CART tree");
	forest_model_free(&env, m1);
	forest_model_free(&env, m3);
	forest_model_free(&env, md);
	forest_model_free(&env, tree);
	sf_buf_free(&b1);
	sf_buf_free(&b3);
	free(x);
	free(y);
	free(xt);
	free(yt);
	free(s);
}

SF_TEST(test_bytes_and_errors)
{
	double		x[40],
				y[20],
				q[2] = {0.5, 1.0};
	forest_params prm = defaults(&cart_params_table);
	forest_model *m = NULL,
			   *d = NULL;
	sf_buf		b;
	sf_env		env;
	size_t		len;
	int			i,
				all = 1;

	sf_env_init_malloc(&env);
	for (i = 0; i < 20; i++)
	{
		x[2 * i] = i;
		x[2 * i + 1] = (i * 7) % 5;
		y[i] = (i * 7) % 5 > 2 || i > 15;
	}
	SF_OK(train(SF_KIND_CART, 20, 2, x, y, &prm, 1, &m) == SF_OK, "cart trains");
	encode(m, &prm, &b);
	for (len = 0; len < b.len; len++)
	{
		sf_status	st = forest_decode(&env, SF_KIND_CART, b.data, len, &d);

		if (st == SF_OK)
		{
			all = 0;
			forest_model_free(&env, d);
		}
	}
	SF_OK(all, "every truncation of %zu bytes is rejected", b.len);
	SF_OK(forest_decode(&env, SF_KIND_CART, b.data, b.len, &d) == SF_OK, "whole bytes decode");
	SF_OK(forest_predict(d, q) == forest_predict(m, q), "round trip scores alike");
	forest_model_free(&env, d);
	forest_model_free(&env, m);
	sf_buf_free(&b);

	for (i = 0; i < 20; i++)
		y[i] = 1.0;
	SF_OK(train(SF_KIND_CART, 20, 2, x, y, &prm, 1, &m) == SF_EDATA, "one class: SF_EDATA");
	y[3] = 2.0;
	y[4] = 0.0;
	SF_OK(train(SF_KIND_CART, 20, 2, x, y, &prm, 1, &m) == SF_EDATA, "label 2: SF_EDATA");
	y[3] = 0.0;
	x[5] = INFINITY;
	SF_OK(train(SF_KIND_CART, 20, 2, x, y, &prm, 1, &m) == SF_EDATA, "infinite feature: SF_EDATA");
	x[5] = 0.0;
	prm.criterion = FOREST_CRIT_SQUARED;
	SF_OK(train(SF_KIND_CART, 20, 2, x, y, &prm, 1, &m) == SF_EINVAL,
		  "squared_error with binary: SF_EINVAL");
	prm.criterion = FOREST_CRIT_AUTO;
	prm.objective = FOREST_OBJ_REGRESSION;
	y[0] = NAN;
	SF_OK(train(SF_KIND_CART, 20, 2, x, y, &prm, 1, &m) == SF_EDATA, "NaN label: SF_EDATA");
}

int
main(void)
{
	SF_RUN(test_gini_stump);
	SF_RUN(test_entropy_and_depth);
	SF_RUN(test_regression_leaves);
	SF_RUN(test_missing_values);
	SF_RUN(test_forest_learns_and_deterministic);
	SF_RUN(test_bytes_and_errors);
	return sf_test_done();
}
