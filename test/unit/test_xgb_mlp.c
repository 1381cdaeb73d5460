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

/* Paper mode: the MLP sees the kept columns only. */
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

	p.mode = XGB_MLP_MODE_PAPER;
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

/* Folds: every row in one fold, the classes dealt out evenly, the same for the same seed. */
SF_TEST(test_folds)
{
	uint8_t		f[N],
				g[N];
	int			cnt[5][2] = {{0}},
				k,
				ok = 1,
				same = 1,
				i;

	SF_OK(xgb_mlp_folds(&env, Y, N, 5, 9, f) == SF_OK, "folds");
	SF_OK(xgb_mlp_folds(&env, Y, N, 5, 9, g) == SF_OK, "folds again");
	for (i = 0; i < N; i++)
	{
		ok &= f[i] < 5;
		same &= f[i] == g[i];
		if (f[i] < 5)
			cnt[f[i]][Y[i] == 1.0]++;
	}
	SF_OK(ok && same, "each row in one of 5 folds, the same for the same seed");
	for (k = 1; k < 5; k++)
		ok &= abs(cnt[k][0] - cnt[0][0]) <= 1 && abs(cnt[k][1] - cnt[0][1]) <= 1;
	SF_OK(ok, "each fold holds the classes' shares (counts differ by at most 1)");
}

/*
 * The stacked margin is out of fold: a row's margin comes from trees that
 * never saw its label (flipping its label leaves it unchanged), and equals
 * the margin of trees trained on the other folds alone.
 */
SF_TEST(test_oof_margin)
{
	xgb_mlp_params p = params();
	uint8_t		f[N];
	double		m1[N],
				m2[N],
			   *xt = malloc(sizeof(double) * N * D),
			   *yt = malloc(sizeof(double) * N),
				y2[N];
	gbt_model  *g = NULL;
	int			i,
				nt = 0,
				same = 1,
				moved = 0;

	SF_OK(xgb_mlp_folds(&env, Y, N, 5, 3, f) == SF_OK, "folds");
	SF_OK(xgb_mlp_oof_margin(&env, &p.xgb, X, Y, N, D, 5, f, m1) == SF_OK, "margin");
	memcpy(y2, Y, sizeof(y2));
	y2[0] = 1.0 - y2[0];
	SF_OK(xgb_mlp_oof_margin(&env, &p.xgb, X, y2, N, D, 5, f, m2) == SF_OK, "margin, row 1's label flipped");
	for (i = 0; i < N; i++)
		if (f[i] == f[0])
			same &= m1[i] == m2[i];
		else
			moved += m1[i] != m2[i];
	SF_OK(same, "flipping row 1's label leaves the margins of its own fold unchanged");
	SF_OK(moved > 0, "and moves margins of other folds (%d rows)", moved);
	for (i = 0; i < N; i++)
		if (f[i] != 2)
		{
			memcpy(xt + (size_t) nt * D, X + (size_t) i * D, sizeof(double) * D);
			yt[nt++] = Y[i];
		}
	SF_OK(gbt_train(&env, xt, yt, NULL, nt, D, &p.xgb, &g) == SF_OK, "trees without fold 3");
	same = 1;
	for (i = 0; i < N; i++)
		if (f[i] == 2)
			same &= m1[i] == gbt_predict_margin(g, X + (size_t) i * D);
	SF_OK(same, "fold 3's margins are those of trees trained on the other folds");
	gbt_model_free(&env, g);
	free(xt);
	free(yt);
}

/* Stacked mode: the network sees the kept columns then the margin. */
SF_TEST(test_stacked)
{
	xgb_mlp_params p = params();
	xgb_mlp_model m;
	mlp_model	alone;
	uint8_t		f[N];
	double		margin[N],
			   *xs,
				row[D + 1];
	uint32_t	j,
				w;
	int			i,
				same = 1;

	p.mode = XGB_MLP_MODE_STACKED;
	SF_OK(xgb_mlp_fit(&env, &p, X, Y, N, D, &m) == SF_OK, "fit: %s", env.msg ? env.msg : "ok");
	SF_OK(m.mlp.n_features == m.n_selected + 1, "the network has one input more than the kept features");
	SF_OK(xgb_mlp_folds(&env, Y, N, p.folds, (uint64_t) p.mlp.seed, f) == SF_OK, "folds");
	SF_OK(xgb_mlp_oof_margin(&env, &p.xgb, X, Y, N, D, p.folds, f, margin) == SF_OK, "margin");
	w = m.n_selected + 1;
	xs = malloc(sizeof(double) * N * w);
	for (i = 0; i < N; i++)
	{
		for (j = 0; j < m.n_selected; j++)
			xs[i * w + j] = X[i * D + m.selected[j]];
		xs[i * w + m.n_selected] = margin[i];
	}
	SF_OK(mlp_fit(&env, &p.mlp, xs, Y, N, (int) w, &alone) == SF_OK, "mlp alone");
	for (i = 0; i < N; i++)
	{
		for (j = 0; j < m.n_selected; j++)
			row[j] = X[i * D + m.selected[j]];
		row[m.n_selected] = gbt_predict_margin(m.trees, X + i * D);
		same &= xgb_mlp_predict(&m, X + i * D) == mlp_predict(&alone, row);
	}
	SF_OK(same, "scores = the MLP trained on [kept columns, out-of-fold margin], scored with the trees' margin");
	mlp_free(&env, &alone);
	free(xs);
	xgb_mlp_free(&env, &m);
}

/* "auto": the threshold with the best cross-validated AUC, the same bytes twice. */
SF_TEST(test_auto)
{
	xgb_mlp_params p = params();
	xgb_mlp_model m,
				m2;
	sf_buf		b,
				b2;
	double		best = -1;
	int			c,
				tried = 0;

	p.threshold_auto = 1;
	p.folds = 3;
	SF_OK(xgb_mlp_fit(&env, &p, X, Y, N, D, &m) == SF_OK, "fit: %s", env.msg ? env.msg : "ok");
	SF_OK(xgb_mlp_fit(&env, &p, X, Y, N, D, &m2) == SF_OK, "fit again");
	for (c = 0; c < XGB_MLP_N_AUTO; c++)
		if (isfinite(m.auto_auc[c]))
		{
			tried++;
			if (m.auto_auc[c] >= best)
				best = m.auto_auc[c];
		}
	SF_OK(tried >= 2, "several thresholds were cross-validated (%d)", tried);
	for (c = 0; c < XGB_MLP_N_AUTO; c++)
		if (xgb_mlp_auto_thresholds[c] == m.threshold)
			break;
	SF_OK(c < XGB_MLP_N_AUTO && m.auto_auc[c] == best,
		  "the chosen threshold %g has the best out-of-fold AUC %.4f", m.threshold, best);
	sf_buf_init(&b, &env);
	sf_buf_init(&b2, &env);
	SF_OK(xgb_mlp_encode(&env, &m, &p, NULL, N, &b) == SF_OK &&
		  xgb_mlp_encode(&env, &m2, &p, NULL, N, &b2) == SF_OK, "encode");
	SF_OK(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0, "auto gives the same bytes twice");
	sf_buf_free(&b);
	sf_buf_free(&b2);
	xgb_mlp_free(&env, &m);
	xgb_mlp_free(&env, &m2);
}

/*
 * The stacker's optimality (KKT): with p_i = sigmoid(b + w.z_i), the
 * gradient of the penalised log-loss is 0 in the intercept and in every
 * positive weight, and >= 0 in a weight held at its bound 0.
 */
static int
stacker_kkt(const double *z, const double *y, size_t n, int k, double b, const double *w,
			double ridge, double *worst)
{
	double		g[XGB_MLP_N_PARTS + 1] = {0},
				s2[XGB_MLP_N_PARTS];
	size_t		i;
	int			j,
				ok = 1;

	for (j = 0; j < k; j++)
	{
		double		m = 0,
					v = 0;

		for (i = 0; i < n; i++)
			m += z[i * k + j] / n;
		for (i = 0; i < n; i++)
			v += (z[i * k + j] - m) * (z[i * k + j] - m) / n;
		s2[j] = v;
	}
	for (i = 0; i < n; i++)
	{
		double		eta = b,
					pr;

		for (j = 0; j < k; j++)
			eta += w[j] * z[i * k + j];
		pr = 1 / (1 + exp(-eta));
		g[k] += pr - y[i];
		for (j = 0; j < k; j++)
			g[j] += (pr - y[i]) * z[i * k + j];
	}
	*worst = fabs(g[k]);
	for (j = 0; j < k; j++)
	{
		g[j] += ridge * s2[j] * w[j];
		if (w[j] < 0)
			ok = 0;
		*worst = fmax(*worst, w[j] > 0 ? fabs(g[j]) : -g[j]);
	}
	return ok && *worst < 1e-6 * n;
}

/*
 * Blend mode: every part's out-of-fold margin never saw its row's label, the
 * stacker's weights are the constrained optimum on those margins, the choice
 * follows the rule (the blend only when its cross-fitted AUC beats every
 * part's), and the model scores sigmoid(b + sum w_j part_j).
 */
SF_TEST(test_blend)
{
	xgb_mlp_params p = params();
	xgb_mlp_model m;
	uint8_t		f[N];
	double	   *z1 = malloc(sizeof(double) * N * XGB_MLP_N_PARTS),
			   *z2 = malloc(sizeof(double) * N * XGB_MLP_N_PARTS),
				y2[N],
				b,
				w[XGB_MLP_N_PARTS],
				worst,
				best = 0;
	int			use[XGB_MLP_N_PARTS] = {1, 1, 1, 1},
				i,
				j,
				same = 1,
				moved = 0,
				scores = 1;

	p.rf.n_estimators = 20;
	SF_OK(p.mode == XGB_MLP_MODE_BLEND, "blend is the default mode");
	SF_OK(xgb_mlp_fit(&env, &p, X, Y, N, D, &m) == SF_OK, "fit: %s", env.msg ? env.msg : "ok");
	SF_OK(xgb_mlp_folds(&env, Y, N, p.folds, (uint64_t) p.mlp.seed, f) == SF_OK, "folds");
	SF_OK(xgb_mlp_blend_oof(&env, &p, &m, X, Y, N, D, f, z1) == SF_OK, "out-of-fold margins");
	memcpy(y2, Y, sizeof(y2));
	y2[5] = 1.0 - y2[5];
	SF_OK(xgb_mlp_blend_oof(&env, &p, &m, X, y2, N, D, f, z2) == SF_OK, "again, row 6's label flipped");
	for (i = 0; i < N; i++)
		for (j = 0; j < XGB_MLP_N_PARTS; j++)
			if (f[i] == f[5])
				same &= z1[i * XGB_MLP_N_PARTS + j] == z2[i * XGB_MLP_N_PARTS + j];
			else
				moved += z1[i * XGB_MLP_N_PARTS + j] != z2[i * XGB_MLP_N_PARTS + j];
	SF_OK(same, "flipping row 6's label leaves every part's margins of its own fold unchanged");
	SF_OK(moved > 0, "and moves margins of other folds (%d)", moved);

	SF_OK(xgb_mlp_stacker_fit(&env, z1, Y, N, XGB_MLP_N_PARTS, use, XGB_MLP_STACKER_RIDGE, &b, w) == SF_OK,
		  "stacker");
	SF_OK(stacker_kkt(z1, Y, N, XGB_MLP_N_PARTS, b, w, XGB_MLP_STACKER_RIDGE, &worst),
		  "the stacker's weights meet the KKT conditions of the non-negative ridge logistic fit (worst %.2g)",
		  worst);
	for (j = 0; j < XGB_MLP_N_PARTS; j++)
		best = fmax(best, m.part_auc[j]);
	SF_OK((m.blend_choice < 0) == (m.blend_auc > best),
		  "the blend is kept iff its cross-fitted AUC %.4f beats the best part's %.4f (choice %d)",
		  m.blend_auc, best, m.blend_choice);
	if (m.blend_choice < 0)
	{
		for (j = 0; j < XGB_MLP_N_PARTS; j++)
			same &= m.blend_w[j] == w[j];
		SF_OK(same && m.blend_intercept == b, "the model's weights are the stacker's on every part");
	}
	for (i = 0; i < N; i++)
	{
		double		part[XGB_MLP_N_PARTS],
					eta = m.blend_intercept;

		xgb_mlp_blend_parts(&m, X + i * D, part);
		for (j = 0; j < XGB_MLP_N_PARTS; j++)
			eta += m.blend_w[j] * part[j];
		scores &= fabs(xgb_mlp_predict(&m, X + i * D) - 1 / (1 + exp(-eta))) < 1e-15 &&
			xgb_mlp_predict_margin(&m, X + i * D) == eta;
	}
	SF_OK(scores, "the model scores sigmoid(b + sum of weighted part margins)");
	free(z1);
	free(z2);
	xgb_mlp_free(&env, &m);
}

/* A stacker on a single informative column: the weight is positive, the others' 0. */
SF_TEST(test_stacker_nonnegative)
{
	double		z[N * 2],
				b,
				w[2],
				worst;
	int			use[2] = {1, 1},
				i;

	for (i = 0; i < N; i++)
	{
		z[i * 2] = X[i * D + 4];	/* informative: Y rises with it */
		z[i * 2 + 1] = -X[i * D + 4] + 0.01 * X[i * D + 3];	/* its negative: would need w < 0 */
	}
	SF_OK(xgb_mlp_stacker_fit(&env, z, Y, N, 2, use, 1.0, &b, w) == SF_OK, "stacker");
	SF_OK(w[0] > 0 && w[1] == 0.0, "the reversed column gets weight exactly 0 (%g, %g)", w[0], w[1]);
	SF_OK(stacker_kkt(z, Y, N, 2, b, w, 1.0, &worst), "KKT holds (worst %.2g)", worst);
}

int
main(void)
{
	sf_env_init_malloc(&env);
	make_data();
	SF_RUN(test_select_and_fit);
	SF_RUN(test_bytes);
	SF_RUN(test_errors);
	SF_RUN(test_folds);
	SF_RUN(test_oof_margin);
	SF_RUN(test_stacked);
	SF_RUN(test_auto);
	SF_RUN(test_blend);
	SF_RUN(test_stacker_nonnegative);
	return sf_test_done();
}
