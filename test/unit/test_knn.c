/*
 * test_knn.c
 *	  Unit tests of k nearest neighbours (knn.h) without PostgreSQL: the
 *	  StandardScaler statistics and scores worked by hand (uniform and
 *	  distance weights, a row at distance 0), ties to the earlier row, byte
 *	  round trips, every truncation rejected, k and the size cap.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sf_test.h"
#include "scfrisk/knn.h"

static knn_params
defaults(void)
{
	knn_params	p;

	memset(&p, 0, sizeof(p));
	sf_params_defaults(&knn_params_table, &p);
	return p;
}

SF_TEST(test_by_hand)
{
	/* x = 0 1 2 3 10, labels 0 0 1 1 1: mean 3.2, variance 62.8 / 5 */
	double		x[5] = {0, 1, 2, 3, 10},
				y[5] = {0, 0, 1, 1, 1},
				q = 1.4,
				w;
	knn_params	p = defaults();
	knn_model	m,
				d;
	sf_env		env;
	sf_buf		b;
	size_t		len;
	int			all = 1;

	sf_env_init_malloc(&env);
	SF_OK(p.k == 5 && p.weights == KNN_WEIGHTS_UNIFORM, "defaults are k 5, uniform (scikit-learn's)");
	p.k = 3;
	SF_OK(knn_fit(&env, &p, x, y, 5, 1, &m) == SF_OK, "fits");
	SF_NEAR(m.mean[0], 3.2, 1e-15, "mean");
	SF_NEAR(m.scale[0], sqrt(62.8 / 5), 1e-14, "population standard deviation");
	/* neighbours of 1.4: 1 (0.4), 2 (0.6), 0 (1.4): labels 0, 1, 0 */
	SF_NEAR(knn_predict(&m, &q), 1.0 / 3.0, 1e-15, "uniform: one of three neighbours has label 1");
	knn_free(&env, &m);
	p.weights = KNN_WEIGHTS_DISTANCE;
	SF_OK(knn_fit(&env, &p, x, y, 5, 1, &m) == SF_OK, "fits with distance weights");
	w = (1 / 0.6) / (1 / 0.4 + 1 / 0.6 + 1 / 1.4);
	SF_NEAR(knn_predict(&m, &q), w, 1e-12, "distance: 1/d-weighted share (the scale cancels)");
	q = 2.0;
	SF_NEAR(knn_predict(&m, &q), 1.0, 0, "a training row at distance 0 takes all the weight");
	/*
	 * Ties: x = -2 -1 0 1 2 (mean exactly 0, so -1 and 1 standardise to
	 * exact opposites), labels 0 0 1 1 1, k = 2, uniform: from q = 0 the
	 * second neighbour ties between -1 (row 1, label 0) and 1 (row 3,
	 * label 1) and goes to the earlier row: the share is 1/2, not 1.
	 */
	{
		double		xt[5] = {-2, -1, 0, 1, 2},
					yt[5] = {0, 0, 1, 1, 1},
					q0 = 0.0;
		knn_params	pt = defaults();
		knn_model	mt;

		pt.k = 2;
		SF_OK(knn_fit(&env, &pt, xt, yt, 5, 1, &mt) == SF_OK, "fits the tie case");
		SF_NEAR(knn_predict(&mt, &q0), 0.5, 0, "a tie at the k-th distance goes to the earlier row");
		knn_free(&env, &mt);
	}

	sf_buf_init(&b, &env);
	SF_OK(knn_encode(&env, &m, &p, NULL, &b) == SF_OK, "encodes");
	for (len = 0; len < b.len; len++)
		if (knn_decode(&env, b.data, len, &d) == SF_OK)
		{
			all = 0;
			knn_free(&env, &d);
		}
	SF_OK(all, "every truncation of %zu bytes is rejected", b.len);
	SF_OK(knn_decode(&env, b.data, b.len, &d) == SF_OK, "whole bytes decode");
	SF_OK(knn_predict(&d, &q) == knn_predict(&m, &q), "round trip scores alike");
	knn_free(&env, &d);
	sf_buf_free(&b);
	knn_free(&env, &m);
}

SF_TEST(test_limits)
{
	size_t		n = KNN_MAX_ROWS + 1,
				i;
	double	   *x = malloc(sizeof(double) * n),
			   *y = malloc(sizeof(double) * n);
	knn_params	p = defaults();
	knn_model	m;
	sf_env		env;

	sf_env_init_malloc(&env);
	for (i = 0; i < n; i++)
	{
		x[i] = (double) i;
		y[i] = i % 2;
	}
	SF_OK(knn_fit(&env, &p, x, y, n, 1, &m) == SF_ELIMIT, "past the row cap: SF_ELIMIT");
	SF_OK(env.hint && strstr(env.hint, "at most 200000 rows"), "its hint names the sample size to train on: %s",
		  env.hint ? env.hint : "none");
	SF_OK(env.msg && strstr(env.msg, "200000") != NULL, "the message names the cap: %s", env.msg);
	p.k = 6;
	SF_OK(knn_fit(&env, &p, x, y, 5, 1, &m) == SF_EINVAL, "k 6 on 5 rows: SF_EINVAL");
	SF_OK(env.hint && strstr(env.hint, "\"k\" of at most 5"), "its hint names the largest k: %s",
		  env.hint ? env.hint : "none");
	p.k = 5;
	SF_OK(knn_fit(&env, &p, x, y, 5, 1, &m) == SF_OK, "k 5 on 5 rows fits");
	knn_free(&env, &m);
	y[0] = 3.0;
	SF_OK(knn_fit(&env, &p, x, y, 5, 1, &m) == SF_EDATA, "label 3: SF_EDATA");
	y[0] = 1.0;
	y[2] = 1.0;
	y[4] = 1.0;
	SF_OK(knn_fit(&env, &p, x, y, 5, 1, &m) == SF_EDATA, "one class: SF_EDATA");
	free(x);
	free(y);
}

int
main(void)
{
	SF_RUN(test_by_hand);
	SF_RUN(test_limits);
	return sf_test_done();
}
