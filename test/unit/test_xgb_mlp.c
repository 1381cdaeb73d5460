/*
 * test_xgb_mlp.c
 *	  Unit tests of the XGBoost-MLP hybrid: the trees find the informative
 *	  features among noise, the selection is exactly the features whose
 *	  normalised importance reaches the threshold, the network equals an MLP
 *	  trained alone on those columns, the bytes are deterministic and round
 *	  trip, corrupted bytes are refused, and bad params are named.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_rng.h"
#include "scfrisk/xgb_mlp.h"
#include "sf_test.h"

static sf_env env;

#define N 800
#define D 8
static double X[N * D],
			Y[N];

/*
 * Label from features 1 and 4 only (0-based), nonlinearly; the other six
 * columns are noise, and feature 6 has 20% missing values.
 */
static void
make_data(void)
{
	sf_rng		r;
	int			i,
				j;

	sf_rng_init(&r, 7, 0);
	for (i = 0; i < N; i++)
	{
		for (j = 0; j < D; j++)
			X[i * D + j] = 2 * sf_rng_uniform(&r) - 1;
		if (sf_rng_uniform(&r) < 0.2)
			X[i * D + 6] = NAN;
		Y[i] = X[i * D + 1] * X[i * D + 1] + X[i * D + 4] > 0.4;
	}
}

static xgb_mlp_params
params(void)
{
	xgb_mlp_params p;

	memset(&p, 0, sizeof(p));
	sf_params_defaults(&xgb_mlp_params_table, &p);
	mlp_params_default_hidden(&p.mlp);
	p.xgb.n_estimators = 30;
	p.xgb.max_depth = 3;
	p.mlp.hidden.n = 1;
	p.mlp.hidden.v[0] = 16;
	p.mlp.epochs = 60;
	p.mlp.batch_size = 32;
	p.mlp.learning_rate = 0.01;
	p.mlp.seed = 3;
	p.threshold = 0.1;
	return p;
}

SF_TEST(test_select_and_fit)
{
	xgb_mlp_params p = params();
	xgb_mlp_model m;
	mlp_model	alone;
	double		imp[D],
			   *xs;
	uint32_t	j,
				k = 0;
	int			i,
				same = 1,
				correct = 0;

	SF_OK(xgb_mlp_fit(&env, &p, X, Y, N, D, &m) == SF_OK, "fit: %s", env.msg ? env.msg : "ok");

	/* the selection is the thresholded normalised importance of the trees */
	SF_OK(gbt_importance(m.trees, GBT_IMP_GAIN, imp) == SF_OK, "importance");
	gbt_importance_normalize(imp, D, imp);
	for (j = 0; j < D; j++)
		if (imp[j] >= p.threshold)
		{
			same &= k < m.n_selected && m.selected[k] == j;
			k++;
		}
	SF_OK(same && k == m.n_selected, "selected = {j : importance_j >= threshold} (%u kept)", m.n_selected);
	k = 0;
	for (j = 0; j < m.n_selected; j++)
		k += m.selected[j] == 1 || m.selected[j] == 4;
	SF_OK(k == 2, "both informative features are kept");
	SF_OK(m.n_selected <= 4, "most noise features are dropped (%u kept of %d)", m.n_selected, D);

	/* Stage II equals an MLP trained alone on the kept columns */
	xs = malloc(sizeof(double) * N * m.n_selected);
	for (i = 0; i < N; i++)
		for (j = 0; j < m.n_selected; j++)
			xs[i * m.n_selected + j] = X[i * D + m.selected[j]];
	SF_OK(mlp_fit(&env, &p.mlp, xs, Y, N, (int) m.n_selected, &alone) == SF_OK, "mlp alone");
	same = 1;
	for (i = 0; i < N; i++)
		same &= xgb_mlp_predict(&m, X + i * D) == mlp_predict(&alone, xs + i * m.n_selected);
	SF_OK(same, "hybrid scores equal the MLP on the selected columns, bit for bit");
	for (i = 0; i < N; i++)
		correct += (xgb_mlp_predict(&m, X + i * D) >= 0.5) == (Y[i] == 1.0);
	SF_OK(correct > 0.85 * N, "training accuracy %d/%d above 85%%", correct, N);
	mlp_free(&env, &alone);
	free(xs);
	xgb_mlp_free(&env, &m);
}

SF_TEST(test_bytes)
{
	xgb_mlp_params p = params();
	xgb_mlp_model m,
				m2,
				back;
	sf_buf		b,
				b2;
	int			i,
				same = 1;
	sf_status	st;

	SF_OK(xgb_mlp_fit(&env, &p, X, Y, N, D, &m) == SF_OK, "fit");
	SF_OK(xgb_mlp_fit(&env, &p, X, Y, N, D, &m2) == SF_OK, "fit again");
	sf_buf_init(&b, &env);
	sf_buf_init(&b2, &env);
	SF_OK(xgb_mlp_encode(&env, &m, &p, NULL, N, &b) == SF_OK, "encode");
	SF_OK(xgb_mlp_encode(&env, &m2, &p, NULL, N, &b2) == SF_OK, "encode again");
	SF_OK(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0, "same data and seeds give the same bytes");
	st = xgb_mlp_decode(&env, b.data, b.len, &back);
	SF_OK(st == SF_OK, "decode: %s", st ? env.msg : "ok");
	if (st == SF_OK)
	{
		for (i = 0; i < N; i++)
			same &= xgb_mlp_predict(&back, X + i * D) == xgb_mlp_predict(&m, X + i * D);
		SF_OK(same && back.n_selected == m.n_selected, "decoded model scores identically");
		xgb_mlp_free(&env, &back);
	}

	/* every single-byte corruption of the payload is refused (CRC) or decodes cleanly */
	for (i = SF_HEADER_LEN; i < (int) b.len; i += 97)
	{
		b.data[i] ^= 0x5a;
		st = xgb_mlp_decode(&env, b.data, b.len, &back);
		b.data[i] ^= 0x5a;
		if (st == SF_OK)
			xgb_mlp_free(&env, &back);
		else if (st != SF_ECORRUPT)
			break;
	}
	SF_OK(i >= (int) b.len, "flipped bytes give SF_ECORRUPT");
	st = xgb_mlp_decode(&env, b.data, b.len / 2, &back);
	SF_OK(st == SF_ECORRUPT, "truncated bytes give SF_ECORRUPT");
	sf_buf_free(&b);
	sf_buf_free(&b2);
	xgb_mlp_free(&env, &m);
	xgb_mlp_free(&env, &m2);
}

SF_TEST(test_errors)
{
	xgb_mlp_params p = params();
	xgb_mlp_model m;
	sf_status	st;

	p.threshold = 0.99;
	st = xgb_mlp_fit(&env, &p, X, Y, N, D, &m);
	SF_OK(st == SF_EDATA && strstr(env.msg, "threshold") != NULL,
		  "no feature reaching the threshold is an error naming it: %s", env.msg);
	p = params();
	p.xgb.objective = GBT_OBJ_REGRESSION;
	st = xgb_mlp_fit(&env, &p, X, Y, N, D, &m);
	SF_OK(st == SF_EINVAL && strstr(env.msg, "xgb.objective") != NULL, "regression trees refused: %s", env.msg);
	p = params();
	p.mlp.objective = MLP_OBJ_REGRESSION;
	st = xgb_mlp_fit(&env, &p, X, Y, N, D, &m);
	SF_OK(st == SF_EINVAL && strstr(env.msg, "mlp.objective") != NULL, "regression network refused: %s", env.msg);
}

int
main(void)
{
	sf_env_init_malloc(&env);
	make_data();
	SF_RUN(test_select_and_fit);
	SF_RUN(test_bytes);
	SF_RUN(test_errors);
	return sf_test_done();
}
