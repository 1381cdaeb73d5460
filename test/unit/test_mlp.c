/*
 * test_mlp.c
 *	  Unit tests of the MLP kind: learns a non-linear boundary, same seed
 *	  gives the same bytes, early stopping and missing indicators, the
 *	  decode round trip and corrupted bytes, and every bad-input error.
 */
#include <math.h>
#include <string.h>

#include "scfrisk/logreg.h"
#include "scfrisk/mlp.h"
#include "sf_test.h"

static sf_env env;

#define N 600
static double X[N * 2],
			Y[N];

/* a ring: label 1 inside radius 1 (no linear model separates it) */
static void
make_data(void)
{
	sf_rng		r;
	int			i;

	sf_rng_init(&r, 42, 0);
	for (i = 0; i < N; i++)
	{
		double		a = 3 * sf_rng_uniform(&r) - 1.5,
					b = 3 * sf_rng_uniform(&r) - 1.5;

		X[2 * i] = a * 10 + 100;	/* unscaled on purpose: standardisation matters */
		X[2 * i + 1] = b;
		Y[i] = a * a + b * b < 1.0;
	}
}

static mlp_params
params(void)
{
	mlp_params	p;

	sf_params_defaults(&mlp_params_table, &p);
	mlp_params_default_hidden(&p);
	p.hidden.n = 1;
	p.hidden.v[0] = 16;
	p.epochs = 150;
	p.batch_size = 32;
	p.learning_rate = 0.01;
	p.seed = 5;
	return p;
}

SF_TEST(test_fit_ring)
{
	mlp_params	p = params();
	mlp_model	m,
				back;
	int			i,
				correct = 0;
	sf_buf		b,
				b2;

	SF_OK(mlp_fit(&env, &p, X, Y, N, 2, &m) == SF_OK, "fit: %s", env.msg ? env.msg : "");
	for (i = 0; i < N; i++)
		correct += (mlp_predict(&m, X + 2 * i) >= 0.5) == (Y[i] == 1.0);
	SF_OK(correct > 0.93 * N, "training accuracy on a ring %d/%d", correct, N);
	SF_NEAR(m.mean[0], 100, 1.0, "mean stored");
	sf_buf_init(&b, &env);
	SF_OK(mlp_encode(&env, &m, &p, NULL, N, &b) == SF_OK, "encode");
	SF_OK(mlp_decode(&env, b.data, b.len, &back) == SF_OK, "decode: %s", env.msg ? env.msg : "");
	SF_NEAR(mlp_predict(&back, X), mlp_predict(&m, X), 0, "decoded model scores the same");
	mlp_free(&env, &back);
	/* same seed, same bytes */
	{
		mlp_model	m2;

		mlp_fit(&env, &p, X, Y, N, 2, &m2);
		sf_buf_init(&b2, &env);
		mlp_encode(&env, &m2, &p, NULL, N, &b2);
		SF_OK(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0, "same seed gives the same bytes");
		mlp_free(&env, &m2);
		sf_buf_free(&b2);
	}
	/* corruptions: every truncation and a flipped weight byte fail cleanly */
	{
		size_t		cut;
		int			bad = 0;

		for (cut = 0; cut < b.len; cut += 7)
			if (mlp_decode(&env, b.data, cut, &back) == SF_OK)
				bad++;
		SF_OK(bad == 0, "every truncation is rejected");
		b.data[b.len - 3] ^= 0xFF;
		SF_OK(mlp_decode(&env, b.data, b.len, &back) == SF_ECORRUPT, "checksum catches a flip: %s", env.msg);
	}
	sf_buf_free(&b);
	mlp_free(&env, &m);
}

SF_TEST(test_early_stopping_missing)
{
	mlp_params	p = params();
	mlp_model	m;
	double		x2[N * 2];
	double		row[2];

	memcpy(x2, X, sizeof(X));
	x2[0] = NAN;
	x2[5] = NAN;
	p.early_stopping_rounds = 3;
	p.epochs = 500;
	p.missing_indicator = 1;
	p.dropout = 0.1;
	SF_OK(mlp_fit(&env, &p, x2, Y, N, 2, &m) == SF_OK, "fit with missing values");
	SF_OK(m.epochs_run < 500 && m.best_epoch <= m.epochs_run, "early stopping ran %d epochs, kept %d",
		  m.epochs_run, m.best_epoch);
	SF_OK(isfinite(m.valid_loss), "validation loss recorded");
	SF_OK(m.n_inputs == 4 && m.indicator[0] && m.indicator[1], "one indicator per feature with missing values");
	row[0] = NAN;
	row[1] = 0.0;
	SF_OK(isfinite(mlp_predict(&m, row)), "missing value at scoring is imputed");
	mlp_free(&env, &m);
	/* regression objective */
	p = params();
	p.objective = MLP_OBJ_REGRESSION;
	{
		double		yr[N];
		int			i;
		double		se = 0;

		for (i = 0; i < N; i++)
			yr[i] = 3 * X[2 * i + 1] + 1;
		SF_OK(mlp_fit(&env, &p, X, yr, N, 2, &m) == SF_OK, "regression fit");
		for (i = 0; i < N; i++)
			se += pow(mlp_predict(&m, X + 2 * i) - yr[i], 2);
		SF_OK(se / N < 0.05, "regression mse %g", se / N);
		mlp_free(&env, &m);
	}
}

SF_TEST(test_errors)
{
	mlp_params	p = params();
	mlp_model	m;
	double		y[4] = {0, 1, 2, 0},
				x[4] = {1, 2, 3, 4},
				y1[4] = {1, 1, 1, 1};

	SF_OK(mlp_fit(&env, &p, x, y, 4, 1, &m) == SF_EDATA, "label 2: %s", env.msg);
	SF_OK(mlp_fit(&env, &p, x, y1, 4, 1, &m) == SF_EDATA, "one class: %s", env.msg);
	y[2] = NAN;
	SF_OK(mlp_fit(&env, &p, x, y, 4, 1, &m) == SF_EDATA, "NaN label: %s", env.msg);
	SF_OK(mlp_fit(&env, &p, x, y, 1, 1, &m) == SF_EDATA, "one row: %s", env.msg);
	p.hidden.n = 0;
	SF_OK(mlp_fit(&env, &p, x, y, 4, 1, &m) == SF_EINVAL, "empty hidden: %s", env.msg);
	p = params();
	p.hidden.n = 3;
	p.hidden.v[0] = p.hidden.v[1] = p.hidden.v[2] = 4096;
	y[2] = 1;
	SF_OK(mlp_fit(&env, &p, x, y, 4, 1, &m) == SF_ELIMIT, "absurd hidden: %s", env.msg);
	SF_OK(mlp_decode(&env, (const uint8_t *) "SCFR", 4, &m) == SF_ECORRUPT, "short bytes: %s", env.msg);
}

/*
 * The linear skip starts at logreg_train's model: with a step size of 1e-12
 * one epoch leaves the start, so the scores are logistic regression's (C =
 * 1 on the raw inputs) to float32 precision, though the deep part exists.
 */
SF_TEST(test_skip_starts_at_logreg)
{
	mlp_params	p = params();
	logreg_params lp;
	logreg_model lr;
	mlp_model	m,
				back;
	sf_buf		b;
	double		worst = 0.0;
	int			i,
				same = 1;

	p.linear_skip = 1;
	p.early_stopping_rounds = 0;
	p.epochs = 1;
	p.learning_rate = 1e-12;
	SF_OK(mlp_fit(&env, &p, X, Y, N, 2, &m) == SF_OK, "fit: %s", env.msg ? env.msg : "ok");
	sf_params_defaults(&logreg_params_table, &lp);
	SF_OK(logreg_fit(&env, &lp, X, Y, N, 2, &lr) == SF_OK, "logreg");
	for (i = 0; i < N; i++)
	{
		double		e = fabs(mlp_predict(&m, X + 2 * i) - logreg_predict(&lr, X + 2 * i));

		if (e > worst)
			worst = e;
	}
	SF_OK(m.has_skip && worst < 1e-4, "scores = logreg_train's (largest difference %.2g < 1e-4)", worst);
	sf_buf_init(&b, &env);
	SF_OK(mlp_encode(&env, &m, &p, NULL, N, &b) == SF_OK, "encode");
	SF_OK(mlp_decode(&env, b.data, b.len, &back) == SF_OK && back.has_skip, "decode keeps the skip");
	for (i = 0; i < N; i++)
		same &= mlp_predict(&back, X + 2 * i) == mlp_predict(&m, X + 2 * i);
	SF_OK(same, "decoded skip model scores identically");
	mlp_free(&env, &back);
	sf_buf_free(&b);
	logreg_free(&env, &lr);
	mlp_free(&env, &m);
}

static int
nothing_given(const char *key, void *ctx)
{
	return 0;
}

/*
 * 0.1.0's defaults train a model without the skip section: its output layer
 * is the sigmoid and it decodes as a 0.1.0 model; the ring, which no linear
 * model fits, is learnt with the skip too (the deep part is used).
 */
SF_TEST(test_v1_and_skip_ring)
{
	mlp_params	p = params();
	mlp_model	m;
	sf_buf		b;
	int			i,
				correct = 0;

	mlp_params_v1_defaults(&p, nothing_given, NULL);
	SF_OK(mlp_fit(&env, &p, X, Y, N, 2, &m) == SF_OK, "fit with 0.1.0 defaults");
	SF_OK(!m.has_skip && m.net.layers[m.net.n_layers - 1].act == NN_ACT_SIGMOID,
		  "no skip, sigmoid output layer");
	sf_buf_init(&b, &env);
	SF_OK(mlp_encode(&env, &m, &p, NULL, N, &b) == SF_OK, "encode");
	mlp_free(&env, &m);
	SF_OK(mlp_decode(&env, b.data, b.len, &m) == SF_OK && !m.has_skip, "decodes without a skip");
	mlp_free(&env, &m);
	sf_buf_free(&b);

	p = params();
	SF_OK(p.linear_skip && p.early_stopping_rounds > 0 && p.refit, "skip, early stopping and refit are defaults");
	SF_OK(mlp_fit(&env, &p, X, Y, N, 2, &m) == SF_OK, "fit with the skip");
	for (i = 0; i < N; i++)
		correct += (mlp_predict(&m, X + 2 * i) >= 0.5) == (Y[i] == 1.0);
	SF_OK(correct > 0.9 * N && m.best_epoch > 0,
		  "the ring is learnt past the linear start: accuracy %d/%d > 90%%, best epoch %d", correct, N,
		  m.best_epoch);
	mlp_free(&env, &m);
}

int
main(void)
{
	sf_env_init_malloc(&env);
	make_data();
	SF_RUN(test_fit_ring);
	SF_RUN(test_early_stopping_missing);
	SF_RUN(test_errors);
	SF_RUN(test_skip_starts_at_logreg);
	SF_RUN(test_v1_and_skip_ring);
	return sf_test_done();
}
