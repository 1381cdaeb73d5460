/*
 * test_gbt.c
 *	  Unit tests of the tree core: closed-form single-split trees (XGBoost's
 *	  weight and gain formulas by hand), learning a nonlinear signal with
 *	  missing values, determinism across thread counts, byte round trips,
 *	  importance, early stopping and the data checks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sf_test.h"
#include "scfrisk/gbt.h"
#include "scfrisk/sf_rng.h"

/* Synthetic binary data: y depends on x0 * x1 and x2 > 0; 10% missing in x0. */
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
		if (sf_rng_uniform(&rng) < 0.1)
			x[i * p] = NAN;
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

/* The naive walk over the tree arrays: the oracle of the packed, interleaved scorer. */
static double
naive_margin(const gbt_model *m, const double *x)
{
	float		s = m->base_margin;
	int32_t		i;

	for (i = 0; i < m->n_trees; i++)
	{
		const gbt_tree *t = &m->trees[i];
		int32_t		k = 0;

		while (t->left[k] >= 0)
		{
			float		v = (float) x[t->split_index[k]];

			k = isnan(v) ? (t->default_left[k] ? t->left[k] : t->right[k])
				: (v < t->split_cond[k] ? t->left[k] : t->right[k]);
		}
		s += t->split_cond[k];
	}
	return s;
}

static sf_status
train(size_t n, uint32_t p, const double *x, const double *y, const double *w, gbt_params *prm,
	  int threads, gbt_model **m)
{
	sf_env		env;

	sf_env_init_malloc(&env);
	env.threads = threads;
	return gbt_train(&env, x, y, w, n, p, prm, m);
}

SF_TEST(test_stump_closed_form)
{
	/* one feature, values 0..9, y = 1 for x >= 5: a depth-1 stump */
	double		x[10],
				y[10];
	gbt_params	prm = gbt_params_default();
	gbt_model  *m = NULL;
	int			i;
	double		gl,
				hl,
				wl,
				gain;

	for (i = 0; i < 10; i++)
	{
		x[i] = i;
		y[i] = i >= 5;
	}
	prm.objective = GBT_OBJ_REGRESSION;
	prm.n_estimators = 1;
	prm.max_depth = 1;
	prm.base_score = 0.0;
	prm.min_child_weight = 0.0;
	SF_OK(train(10, 1, x, y, NULL, &prm, 1, &m) == SF_OK, "trains");
	/* g = m - y = -y, h = 1: left sums G = 0, H = 5; right G = -5, H = 5 */
	gl = -5.0;
	hl = 5.0;
	wl = -gl / (hl + 1.0);
	gain = gl * gl / (hl + 1.0) + 0.0 - 25.0 / 11.0;
	SF_OK(m->trees[0].n_nodes == 3, "stump has 3 nodes");
	SF_NEAR(m->trees[0].split_cond[0], 5.0, 0, "split at 5 (x < 5 goes left)");
	SF_NEAR(m->trees[0].split_cond[2], 0.3 * wl, 1e-6, "right leaf is eta * -G / (H + lambda)");
	SF_NEAR(m->trees[0].loss_chg[0], gain, 1e-5, "gain is XGBoost's loss_chg");
	{
		double		x4 = 4.0,
					x5 = 5.0,
					xn = NAN;

		SF_NEAR(gbt_predict(m, &x4), 0.0, 1e-7, "left leaf 0");
		SF_NEAR(gbt_predict(m, &x5), (float) (0.3 * wl), 1e-7, "right leaf");
		SF_NEAR(gbt_predict(m, &xn), (float) (0.3 * wl), 1e-7, "missing goes right by default");
	}
	{
		sf_env		env;

		sf_env_init_malloc(&env);
		gbt_model_free(&env, m);
	}
}

SF_TEST(test_learns_and_deterministic)
{
	size_t		n = 3000,
				i;
	uint32_t	p = 6;
	double	   *x = malloc(sizeof(double) * n * p),
			   *y = malloc(sizeof(double) * n),
			   *s = malloc(sizeof(double) * n);
	gbt_params	prm = gbt_params_default();
	gbt_model  *m1 = NULL,
			   *m2 = NULL,
			   *m3 = NULL;
	sf_env		env;
	sf_buf		b1,
				b2,
				b3;
	double		imp[6],
				nimp[6],
				sum = 0;

	sf_env_init_malloc(&env);
	make_data(n, p, 7, x, y);
	prm.n_estimators = 30;
	prm.max_depth = 4;
	prm.subsample = 0.8;
	prm.colsample_bytree = 0.9;
	prm.seed = 3;
	SF_OK(train(n, p, x, y, NULL, &prm, 1, &m1) == SF_OK, "trains with 1 thread");
	SF_OK(train(n, p, x, y, NULL, &prm, 3, &m2) == SF_OK, "trains with 3 threads");
	for (i = 0; i < n; i++)
		s[i] = gbt_predict(m1, x + i * p);
	SF_OK(auc_of(s, y, n) > 0.9, "training AUC %.4f > 0.9", auc_of(s, y, n));
	{
		int			same = 1;

		for (i = 0; i < n; i++)
			same &= gbt_predict_margin(m1, x + i * p) == naive_margin(m1, x + i * p);
		SF_OK(same, "packed interleaved scoring equals the naive tree walk on every row");
	}
	sf_buf_init(&b1, &env);
	sf_buf_init(&b2, &env);
	SF_OK(gbt_encode(&env, m1, &prm, NULL, n, &b1) == SF_OK, "encodes");
	SF_OK(gbt_encode(&env, m2, &prm, NULL, n, &b2) == SF_OK, "encodes");
	SF_OK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0,
		  "same bytes with 1 and 3 threads");
	SF_OK(gbt_decode(&env, b1.data, b1.len, &m3) == SF_OK, "decodes");
	sf_buf_init(&b3, &env);
	gbt_encode(&env, m3, &prm, NULL, n, &b3);
	SF_OK(b3.len == b1.len && memcmp(b1.data, b3.data, b1.len) == 0, "re-encodes to the same bytes");
	SF_OK(gbt_predict(m3, x) == gbt_predict(m1, x), "decoded model scores the same");
	gbt_importance(m1, GBT_IMP_TOTAL_GAIN, imp);
	gbt_importance_normalize(imp, p, nimp);
	for (i = 0; i < p; i++)
		sum += nimp[i];
	SF_NEAR(sum, 1.0, 1e-12, "normalised importance sums to 1");
	SF_OK(nimp[0] > nimp[4] && nimp[1] > nimp[4] && nimp[2] > nimp[4],
		  "signal features outrank noise (%.3f %.3f %.3f vs %.3f)", nimp[0], nimp[1], nimp[2], nimp[4]);
	{
		double		wgt[6],
					tg[6],
					g[6];

		gbt_importance(m1, GBT_IMP_WEIGHT, wgt);
		gbt_importance(m1, GBT_IMP_TOTAL_GAIN, tg);
		gbt_importance(m1, GBT_IMP_GAIN, g);
		SF_NEAR(g[0] * wgt[0], tg[0], 1e-6 * tg[0], "gain = total_gain / weight");
	}
	/* corrupt a byte of the body: decode must refuse or succeed, never crash */
	b1.data[b1.len - 3] ^= 0xFF;
	{
		gbt_model  *bad = NULL;

		SF_OK(gbt_decode(&env, b1.data, b1.len, &bad) == SF_ECORRUPT, "checksum catches a flipped byte");
	}
	sf_buf_free(&b1);
	sf_buf_free(&b2);
	sf_buf_free(&b3);
	gbt_model_free(&env, m1);
	gbt_model_free(&env, m2);
	gbt_model_free(&env, m3);
	free(x);
	free(y);
	free(s);
}

SF_TEST(test_early_stopping_and_errors)
{
	size_t		n = 2000;
	uint32_t	p = 4;
	double	   *x = malloc(sizeof(double) * n * p),
			   *y = malloc(sizeof(double) * n),
			   *w = malloc(sizeof(double) * n);
	gbt_params	prm = gbt_params_default();
	gbt_model  *m = NULL;
	sf_env		env;
	size_t		i;

	sf_env_init_malloc(&env);
	make_data(n, p, 11, x, y);
	for (i = 0; i < n; i++)
		y[i] = (sf_splitmix64(&(uint64_t) {i}) & 1) ? 1.0 : 0.0;	/* pure noise labels */
	prm.n_estimators = 200;
	prm.early_stopping_rounds = 5;
	prm.eval_metric = GBT_METRIC_AUC;
	SF_OK(train(n, p, x, y, NULL, &prm, 2, &m) == SF_OK, "trains with early stopping");
	SF_OK(m->n_eval < 200 && m->n_trees == m->best_iteration + 1 && m->n_trees <= m->n_eval,
		  "stops early on noise (%d rounds run, %d trees kept)", m->n_eval, m->n_trees);
	gbt_model_free(&env, m);
	m = NULL;

	prm = gbt_params_default();
	for (i = 0; i < n; i++)
		w[i] = 1.0;
	w[3] = -1.0;
	SF_OK(train(n, p, x, y, w, &prm, 1, &m) == SF_EDATA, "negative weight refused");
	y[0] = 0.5;
	SF_OK(train(n, p, x, y, NULL, &prm, 1, &m) == SF_EDATA, "label 0.5 refused for logistic");
	for (i = 0; i < n; i++)
		y[i] = 1.0;
	SF_OK(train(n, p, x, y, NULL, &prm, 1, &m) == SF_EDATA, "one class refused");
	x[5] = INFINITY;
	prm.objective = GBT_OBJ_REGRESSION;
	prm.base_score = 0.0;
	SF_OK(train(n, p, x, y, NULL, &prm, 1, &m) == SF_EDATA, "infinite feature refused");
	prm.objective = GBT_OBJ_BINARY;
	prm.base_score = 1.0;
	SF_OK(train(n, p, x, y, NULL, &prm, 1, &m) == SF_EINVAL, "base_score 1 refused for logistic");
	free(x);
	free(y);
	free(w);
}

SF_TEST(test_regression_weights)
{
	/* weights equal to duplicated rows give the same model as the duplicates */
	size_t		n = 400,
				i;
	uint32_t	p = 3;
	double	   *x = malloc(sizeof(double) * 2 * n * p),
			   *y = malloc(sizeof(double) * 2 * n),
			   *w = malloc(sizeof(double) * n);
	gbt_params	prm = gbt_params_default();
	gbt_model  *a = NULL,
			   *b = NULL;
	sf_env		env;
	sf_rng		rng;
	double		maxd = 0;

	sf_env_init_malloc(&env);
	sf_rng_init(&rng, 5, 0);
	for (i = 0; i < n; i++)
	{
		x[i * p] = sf_rng_uniform(&rng);
		x[i * p + 1] = sf_rng_uniform(&rng);
		x[i * p + 2] = floor(sf_rng_uniform(&rng) * 4);
		y[i] = sin(6 * x[i * p]) + x[i * p + 2];
		w[i] = 2.0;
	}
	memcpy(x + n * p, x, sizeof(double) * n * p);
	memcpy(y + n, y, sizeof(double) * n);
	prm.objective = GBT_OBJ_REGRESSION;
	prm.n_estimators = 20;
	SF_OK(train(n, p, x, y, w, &prm, 1, &a) == SF_OK, "weighted regression trains");
	SF_OK(train(2 * n, p, x, y, NULL, &prm, 1, &b) == SF_OK, "duplicated regression trains");
	for (i = 0; i < n; i++)
	{
		double		d = fabs(gbt_predict(a, x + i * p) - gbt_predict(b, x + i * p));

		if (d > maxd)
			maxd = d;
	}
	SF_OK(maxd < 1e-5, "weight 2 equals a duplicated row (max diff %g)", maxd);
	gbt_model_free(&env, a);
	gbt_model_free(&env, b);
	free(x);
	free(y);
	free(w);
}

int
main(void)
{
	SF_RUN(test_stump_closed_form);
	SF_RUN(test_learns_and_deterministic);
	SF_RUN(test_early_stopping_and_errors);
	SF_RUN(test_regression_weights);
	return sf_test_done();
}
