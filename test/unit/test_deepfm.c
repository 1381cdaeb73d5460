/*
 * test_deepfm.c
 *	  Unit tests of the quantile DeepFM core: the backward pass (embeddings,
 *	  first-order weights, FM term, MLP, head) against central finite
 *	  differences of the loss, the FM identity against the O(F^2) pairwise
 *	  sum, the per-row scorer against the batch forward pass, training on a
 *	  law with a categorical interaction (held-out pinball loss below the
 *	  unconditional quantiles'), deterministic
 *	  bytes (same seed; 1 and 2 threads), the unknown-id bucket, row
 *	  checks, the codec round trip and corrupted bytes, and the tail rules
 *	  (a section only when not flat, round trips, the curve's outer knots).
 */
#include <math.h>
#include <string.h>

#include "scfrisk/deepfm.h"
#include "scfrisk/sf_rng.h"
#include "sf_test.h"

static sf_env env;

static void
default_params(deepfm_params *p)
{
	sf_params_defaults(&deepfm_params_table, p);
}

/* A small model with random weights: 2 numeric, 2 categorical (3 and 2 known ids). */
static deepfm_model *
small_model(int k, int m, const int *layers, int n_layers, uint64_t seed)
{
	deepfm_model *model = sf_calloc(&env, 1, sizeof(*model));
	int			widths[8];
	nn_activation acts[8];
	sf_rng		rng;
	size_t		i;
	int			l;

	model->n_numeric = 2;
	model->n_categorical = 2;
	model->k = k;
	model->m = m;
	model->transform = SF_TRANSFORM_IDENTITY;
	model->y_center = 0.0;
	model->y_scale = 1.0;
	model->num_mean = sf_calloc(&env, 2, sizeof(double));
	model->num_scale = sf_calloc(&env, 2, sizeof(double));
	model->num_scale[0] = model->num_scale[1] = 1.0;
	model->vocab_off = sf_calloc(&env, 3, sizeof(uint32_t));
	model->vocab = sf_calloc(&env, 5, sizeof(int32_t));
	model->vocab_off[1] = 3;
	model->vocab_off[2] = 5;
	model->vocab[0] = 0;
	model->vocab[1] = 4;
	model->vocab[2] = 9;
	model->vocab[3] = 1;
	model->vocab[4] = 2;
	widths[0] = 4 * k;
	for (l = 0; l < n_layers; l++)
	{
		widths[l + 1] = layers[l];
		acts[l] = NN_ACT_RELU;
	}
	nn_net_new(&env, &model->tower, n_layers, widths, acts);
	deepfm_alloc_params(&env, model);
	sf_rng_init(&rng, seed, 0);
	nn_net_init_weights(&model->tower, &rng);
	for (i = 0; i < model->tower.n_params; i++)
		model->tower.params[i] += (float) (0.1 * sf_rng_normal(&rng));
	for (i = 0; i < model->n_params; i++)
		model->params[i] = (float) (0.5 * sf_rng_normal(&rng));
	model->log_train = sf_calloc(&env, 1, sizeof(float));
	model->log_val = sf_calloc(&env, 1, sizeof(float));
	return model;
}

static void
random_rows(sf_rng *rng, double *X, float *y, int n)
{
	static const double ids0[] = {0, 4, 9, 7};	/* 7 is unknown */
	int			i;

	for (i = 0; i < n; i++)
	{
		X[i * 4 + 0] = sf_rng_normal(rng);
		X[i * 4 + 1] = sf_rng_normal(rng);
		X[i * 4 + 2] = ids0[sf_rng_below(rng, 4)];
		X[i * 4 + 3] = (double) (1 + sf_rng_below(rng, 3));	/* 3 is unknown */
		y[i] = (float) sf_rng_normal(rng);
	}
}

/* Batch mean loss + 0.5 wd |non-bias weights|^2, forward without dropout. */
static double
full_loss(deepfm_model *model, deepfm_work *w, const float *y, int n, double wd)
{
	size_t		L = (size_t) (model->m - 1);
	size_t		nw = (size_t) model->n_rows_embed * model->k + model->n_rows_embed +
		(size_t) model->n_phi * L;
	double		l,
				reg = 0.0;
	size_t		i;
	int			t;

	deepfm_forward(model, w, n, 0.0, NULL);
	l = deepfm_batch_loss(model, w, y, n) / n;
	for (i = 0; i < nw; i++)
		reg += (double) model->params[i] * model->params[i];
	for (t = 0; t < model->tower.n_layers; t++)
		for (i = 0; i < (size_t) model->tower.layers[t].n_in * model->tower.layers[t].n_out; i++)
			reg += (double) model->tower.layers[t].w[i] * model->tower.layers[t].w[i];
	return l + 0.5 * wd * reg;
}

SF_TEST(test_gradient)
{
	int			layers[2] = {6, 5};
	deepfm_model *model = small_model(3, 5, layers, 2, 11);
	deepfm_work w;
	sf_rng		rng;
	double		X[8 * 4];
	float		y[8];
	double		wd = 0.01,
				h = 1e-3;
	int			n = 8,
				pass;
	size_t		i,
				bad = 0,
				checked = 0;
	double		maxerr = 0.0;

	sf_rng_init(&rng, 5, 1);
	random_rows(&rng, X, y, n);
	SF_OK(deepfm_work_new(&env, model, n, &w) == SF_OK, "work_new");
	deepfm_batch_inputs(model, &w, X, NULL, n);
	deepfm_forward(model, &w, n, 0.0, NULL);
	deepfm_backward(model, &w, y, n, n, wd);
	/* pass 0: embeddings, first order, head; pass 1: the MLP */
	for (pass = 0; pass < 2; pass++)
	{
		float	   *par = pass == 0 ? model->params : model->tower.params;
		float	   *grad = pass == 0 ? w.grad : w.tw.grad;
		size_t		np = pass == 0 ? model->n_params : model->tower.n_params;
		float	   *ana = malloc(np * sizeof(float));

		memcpy(ana, grad, np * sizeof(float));
		for (i = 0; i < np; i++)
		{
			float		keep = par[i];
			double		lp,
						lm,
						num,
						err;

			par[i] = keep + (float) h;
			lp = full_loss(model, &w, y, n, wd);
			par[i] = keep - (float) h;
			lm = full_loss(model, &w, y, n, wd);
			par[i] = keep;
			num = (lp - lm) / (2 * h);
			err = fabs(num - ana[i]);
			checked++;
			if (err > maxerr)
				maxerr = err;
			/* pinball and ReLU kinks: a central difference across one is off */
			if (err > 2e-3)
				bad++;
		}
		free(ana);
	}
	SF_OK(bad * 50 <= checked, "finite differences agree on %zu of %zu parameters (max error %.3g)",
		  checked - bad, checked, maxerr);
	deepfm_work_free(&env, &w);
	deepfm_free(&env, model);
}

SF_TEST(test_fm_identity_and_row_scorer)
{
	int			layers[1] = {7};
	deepfm_model *model = small_model(4, 6, layers, 1, 3);
	deepfm_work w;
	sf_rng		rng;
	double		X[5 * 4];
	float		y[5];
	double		q[5];
	double	   *tmp = malloc(deepfm_scratch_size(model) * sizeof(double));
	double		maxd = 0.0,
				fmerr = 0.0;
	int			i,
				j,
				d,
				f,
				g;

	sf_rng_init(&rng, 9, 1);
	random_rows(&rng, X, y, 5);
	deepfm_work_new(&env, model, 5, &w);
	deepfm_batch_inputs(model, &w, X, NULL, 5);
	deepfm_forward(model, &w, 5, 0.0, NULL);
	for (i = 0; i < 5; i++)
	{
		/* FM term against the explicit pairwise sum */
		for (d = 0; d < 4; d++)
		{
			double		s = 0.0;

			for (f = 0; f < 4; f++)
				for (g = f + 1; g < 4; g++)
					s += (double) w.emb[i * 16 + f * 4 + d] * w.emb[i * 16 + g * 4 + d];
			fmerr = fmax(fmerr, fabs(s - w.phi[i * model->n_phi + 4 + d]));
		}
		deepfm_predict_row(model, X + i * 4, q, tmp);
		for (j = 0; j < 5; j++)
			maxd = fmax(maxd, fabs(q[j] - w.q[i * 5 + j]));
	}
	SF_OK(fmerr < 1e-4, "FM term equals the pairwise sum (max error %.3g)", fmerr);
	SF_OK(maxd < 1e-4, "row scorer equals the batch forward pass (max difference %.3g)", maxd);
	SF_OK(deepfm_category_index(model, 0, 4) == 2 && deepfm_category_index(model, 0, 9) == 3 &&
		  deepfm_category_index(model, 0, 7) == 0 && deepfm_category_index(model, 1, 3) == 0 &&
		  deepfm_category_index(model, 1, 1) == 1, "vocabulary lookup and unknown bucket");
	free(tmp);
	deepfm_work_free(&env, &w);
	deepfm_free(&env, model);
}

/* y = x + A[c1][c2] + (0.3 + 0.5 [c1 == c2]) eps: an interaction in location and scale */
static void
interaction_data(uint64_t seed, double *X, double *S, int n)
{
	sf_rng		rng;
	int			i;

	sf_rng_init(&rng, seed, 7);
	for (i = 0; i < n; i++)
	{
		int			a = (int) sf_rng_below(&rng, 4);
		int			b = (int) sf_rng_below(&rng, 4);
		double		x = sf_rng_normal(&rng);
		double		loc = 0.5 * x + ((a + b) % 2 == 0 ? 1.5 : -1.5);
		double		sc = 0.3 + 0.5 * (a == b);

		X[i * 3 + 0] = x;
		X[i * 3 + 1] = a;
		X[i * 3 + 2] = b;
		S[i] = loc + sc * sf_rng_normal(&rng);
	}
}

static double
heldout_pinball(const deepfm_model *model, const double *X, const double *S, int n)
{
	double	   *q = malloc((size_t) (model->m - 1) * sizeof(double));
	double	   *tmp = malloc(deepfm_scratch_size(model) * sizeof(double));
	double		total = 0.0;
	int			i,
				j;

	for (i = 0; i < n; i++)
	{
		deepfm_predict_row(model, X + i * 3, q, tmp);
		for (j = 0; j < model->m - 1; j++)
		{
			double		tau = (double) (j + 1) / model->m,
						r = S[i] - q[j];

			total += r >= 0 ? tau * r : (tau - 1) * r;
		}
	}
	free(q);
	free(tmp);
	return total / ((double) n * (model->m - 1));
}

SF_TEST(test_fit_interaction)
{
	enum
	{
	N = 3000, NT = 1000};
	static double X[N * 3],
				S[N],
				XT[NT * 3],
				ST[NT];
	deepfm_params p;
	deepfm_model *model,
			   *again,
			   *threaded,
			   *decoded;
	sf_buf		b1,
				b2,
				b3,
				b4;
	double		pl,
				base = 0.0;
	double		sorted[N];
	int			i,
				j;
	sf_status	st;

	interaction_data(1, X, S, N);
	interaction_data(2, XT, ST, NT);
	default_params(&p);
	p.k = 4;
	p.layers.n = 2;
	p.layers.v[0] = 32;
	p.layers.v[1] = 16;
	p.m = 20;
	p.epochs = 40;
	p.batch_size = 128;
	p.learning_rate = 0.005;
	p.patience = 10;
	p.transform = 1;
	p.threads = 1;
	st = deepfm_fit(&env, &p, X, S, N, 1, 2, &model);
	SF_OK(st == SF_OK, "fit: %s", st ? env.msg : "ok");
	if (st != SF_OK)
		return;
	pl = heldout_pinball(model, XT, ST, NT);
	/* the unconditional quantiles of the training responses */
	memcpy(sorted, S, sizeof(sorted));
	for (i = 1; i < N; i++)
		for (j = i; j > 0 && sorted[j - 1] > sorted[j]; j--)
		{
			double		t = sorted[j];

			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	for (i = 0; i < NT; i++)
		for (j = 1; j < p.m; j++)
		{
			double		tau = (double) j / p.m,
						r = ST[i] - sorted[(int) (tau * (N - 1))];

			base += r >= 0 ? tau * r : (tau - 1) * r;
		}
	base /= (double) NT * (p.m - 1);
	/* the conditional law's own pinball is about 0.11; unconditional about 0.6 */
	SF_OK(pl < 0.5 * base, "held-out pinball %.4f below half the unconditional %.4f", pl, base);
	SF_OK(model->best_epoch >= 1 && model->best_epoch <= model->epochs_run &&
		  model->epochs_run <= 40, "log: best epoch %u of %u", model->best_epoch, model->epochs_run);

	/* deterministic bytes: the same seed, and 2 threads */
	st = deepfm_fit(&env, &p, X, S, N, 1, 2, &again);
	p.threads = 2;
	st |= deepfm_fit(&env, &p, X, S, N, 1, 2, &threaded);
	SF_OK(st == SF_OK, "refits");
	sf_buf_init(&b1, &env);
	sf_buf_init(&b2, &env);
	sf_buf_init(&b3, &env);
	sf_buf_init(&b4, &env);
	deepfm_encode(&env, model, &b1);
	deepfm_encode(&env, again, &b2);
	deepfm_encode(&env, threaded, &b3);
	SF_OK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0, "same seed, same bytes");
	SF_OK(b1.len == b3.len && memcmp(b1.data, b3.data, b1.len) == 0, "2 threads give the same bytes");
	/* codec round trip */
	st = deepfm_decode(&env, b1.data, b1.len, &decoded);
	SF_OK(st == SF_OK, "decode: %s", st ? env.msg : "ok");
	if (st == SF_OK)
	{
		deepfm_encode(&env, decoded, &b4);
		SF_OK(b4.len == b1.len && memcmp(b4.data, b1.data, b1.len) == 0, "encode(decode(b)) == b");
		SF_NEAR(heldout_pinball(decoded, XT, ST, NT), pl, 1e-12, "decoded model scores the same");
		deepfm_free(&env, decoded);
	}
	/* corrupted bytes */
	SF_OK(deepfm_decode(&env, b1.data, b1.len - 3, &decoded) == SF_ECORRUPT, "truncated: %s", env.msg);
	{
		sf_qcurve	c;
		double		x[3] = {0.2, 1, 3};

		SF_OK(deepfm_curve(&env, model, x, &c) == SF_OK && c.m == 20, "curve builds");
		for (i = 0; i < c.m; i++)
			if (c.qa[i] > c.qa[i + 1])
				break;
		SF_OK(i == c.m, "curve is sorted");
		sf_qcurve_free(&env, &c);
		x[1] = 17;				/* unseen id: the unknown bucket */
		SF_OK(deepfm_curve(&env, model, x, &c) == SF_OK, "unseen id scores through the unknown bucket");
		sf_qcurve_free(&env, &c);
		x[1] = -1;
		SF_OK(deepfm_curve(&env, model, x, &c) == SF_EDATA, "negative id: %s", env.msg);
		x[1] = 1.5;
		SF_OK(deepfm_curve(&env, model, x, &c) == SF_EDATA, "fractional id: %s", env.msg);
		x[1] = NAN;
		SF_OK(deepfm_curve(&env, model, x, &c) == SF_EDATA, "NaN id: %s", env.msg);
		x[1] = 1;
		x[0] = INFINITY;
		SF_OK(deepfm_curve(&env, model, x, &c) == SF_EDATA, "infinite numeric: %s", env.msg);
	}
	sf_buf_free(&b1);
	sf_buf_free(&b2);
	sf_buf_free(&b3);
	sf_buf_free(&b4);
	deepfm_free(&env, model);
	deepfm_free(&env, again);
	deepfm_free(&env, threaded);
}

/* mean pinball of the refit's levels on held-out rows */
static double
heldout_pinball_refit(const deepfm_model *model, const double *X, const double *S, int n)
{
	double	   *q = malloc((size_t) (model->refit_m - 1) * sizeof(double));
	double	   *tmp = malloc(deepfm_scratch_size(model) * sizeof(double));
	double		total = 0.0;
	int			i,
				j;

	for (i = 0; i < n; i++)
	{
		deepfm_refit_row(model, X + i * 3, q, tmp);
		for (j = 0; j < model->refit_m - 1; j++)
		{
			double		tau = (double) (j + 1) / model->refit_m,
						r = S[i] - q[j];

			total += r >= 0 ? tau * r : (tau - 1) * r;
		}
	}
	free(q);
	free(tmp);
	return total / ((double) n * (model->refit_m - 1));
}

SF_TEST(test_refit)
{
	enum
	{
	N = 3000, NT = 1000};
	static double X[N * 3],
				S[N],
				XT[NT * 3],
				ST[NT];
	deepfm_params p;
	deepfm_model *head,
			   *model,
			   *decoded;
	sf_buf		b1,
				b2;
	sf_qcurve	c;
	double		x[3] = {0.3, 2, 1};
	double		pl_head,
				pl_refit;
	sf_status	st;

	interaction_data(1, X, S, N);
	interaction_data(2, XT, ST, NT);
	default_params(&p);
	p.k = 4;
	p.layers.n = 2;
	p.layers.v[0] = 32;
	p.layers.v[1] = 16;
	p.m = 20;
	p.epochs = 40;
	p.batch_size = 128;
	p.learning_rate = 0.005;
	p.patience = 10;
	p.transform = 1;
	st = deepfm_fit(&env, &p, X, S, N, 1, 2, &head);
	p.refit = 1;
	p.refit_m = 20;
	st |= deepfm_fit(&env, &p, X, S, N, 1, 2, &model);
	SF_OK(st == SF_OK, "fits: %s", st ? env.msg : "ok");
	if (st != SF_OK)
		return;
	SF_OK(model->refit_m == 20 && model->refit_p >= 2 && model->refit_p <= model->n_phi + 1,
		  "refit of %d levels on %d of %d features", model->refit_m - 1, model->refit_p - 1, model->n_phi);
	pl_head = heldout_pinball(head, XT, ST, NT);
	pl_refit = heldout_pinball_refit(model, XT, ST, NT);
	/* the same network; the refit solves the head's problem exactly on the training rows */
	SF_OK(pl_refit < 1.05 * pl_head, "held-out pinball: refit %.4f, head %.4f", pl_refit, pl_head);
	SF_OK(deepfm_curve(&env, model, x, &c) == SF_OK && c.m == 20, "curve from the refit");
	sf_qcurve_free(&env, &c);
	sf_buf_init(&b1, &env);
	sf_buf_init(&b2, &env);
	deepfm_encode(&env, model, &b1);
	st = deepfm_decode(&env, b1.data, b1.len, &decoded);
	SF_OK(st == SF_OK, "decode with a refit section: %s", st ? env.msg : "ok");
	if (st == SF_OK)
	{
		deepfm_encode(&env, decoded, &b2);
		SF_OK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0, "refit model round trip");
		SF_NEAR(heldout_pinball_refit(decoded, XT, ST, NT), pl_refit, 1e-12, "decoded refit scores the same");
		deepfm_free(&env, decoded);
	}
	p.refit_m = 5000;
	SF_OK(deepfm_fit(&env, &p, X, S, N, 1, 2, &decoded) == SF_EINVAL, "refit_m too large: %s", env.msg);
	p.refit = 0;
	p.refit_m = 10;
	SF_OK(deepfm_fit(&env, &p, X, S, N, 1, 2, &decoded) == SF_EINVAL, "refit_m without refit: %s", env.msg);
	sf_buf_free(&b1);
	sf_buf_free(&b2);
	deepfm_free(&env, head);
	deepfm_free(&env, model);
}

/* a trained unknown bucket scores unseen ids better than an untrained one */
SF_TEST(test_unknown_bucket)
{
	enum
	{
	N = 3000, NT = 1000};
	static double X[N * 3],
				S[N],
				XT[NT * 3],
				ST[NT];
	deepfm_params p;
	deepfm_model *trained,
			   *untrained;
	double		pl_t,
				pl_u;
	int			i;
	sf_status	st;

	interaction_data(1, X, S, N);
	interaction_data(2, XT, ST, NT);
	for (i = 0; i < NT; i++)
		XT[i * 3 + 1] = 99;		/* field 1 never seen */
	default_params(&p);
	p.k = 4;
	p.layers.n = 1;
	p.layers.v[0] = 16;
	p.m = 10;
	p.epochs = 20;
	p.batch_size = 128;
	p.learning_rate = 0.005;
	p.patience = 0;
	p.transform = 1;
	p.unknown_share = 0.2;
	st = deepfm_fit(&env, &p, X, S, N, 1, 2, &trained);
	p.unknown_share = 0.0;
	st |= deepfm_fit(&env, &p, X, S, N, 1, 2, &untrained);
	SF_OK(st == SF_OK, "fits");
	if (st != SF_OK)
		return;
	pl_t = heldout_pinball(trained, XT, ST, NT);
	pl_u = heldout_pinball(untrained, XT, ST, NT);
	SF_OK(pl_t < pl_u, "unseen ids: pinball %.4f with a trained bucket, %.4f without", pl_t, pl_u);
	deepfm_free(&env, trained);
	deepfm_free(&env, untrained);
}

/* 8 uneven shards on 1 and 3 threads, with dropout: the same weights */
SF_TEST(test_threads_shards)
{
	enum
	{
	N = 1200};
	static double X[N * 3],
				S[N];
	deepfm_params p;
	deepfm_model *a,
			   *b;
	sf_status	st;

	interaction_data(3, X, S, N);
	default_params(&p);
	p.k = 3;
	p.layers.n = 2;
	p.layers.v[0] = 24;
	p.layers.v[1] = 12;
	p.m = 8;
	p.epochs = 3;
	p.batch_size = 500;
	p.dropout = 0.3;
	p.patience = 0;
	p.transform = 1;
	p.threads = 1;
	st = deepfm_fit(&env, &p, X, S, N, 1, 2, &a);
	p.threads = 3;
	st |= deepfm_fit(&env, &p, X, S, N, 1, 2, &b);
	SF_OK(st == SF_OK, "fits");
	if (st != SF_OK)
		return;
	SF_OK(memcmp(a->params, b->params, a->n_params * sizeof(float)) == 0 &&
		  memcmp(a->tower.params, b->tower.params, a->tower.n_params * sizeof(float)) == 0 &&
		  memcmp(a->log_train, b->log_train, 3 * sizeof(float)) == 0,
		  "1 and 3 threads over 8 shards give the same weights and log");
	deepfm_free(&env, b);
	/* the rows in reverse order: the same model (canonical row order) */
	{
		static double XR[N * 3],
					SR[N];
		sf_buf		ba,
					bb;
		int			i;

		for (i = 0; i < N; i++)
		{
			memcpy(XR + i * 3, X + (N - 1 - i) * 3, 3 * sizeof(double));
			SR[i] = S[N - 1 - i];
		}
		st = deepfm_fit(&env, &p, XR, SR, N, 1, 2, &b);
		SF_OK(st == SF_OK, "fit on reversed rows");
		sf_buf_init(&ba, &env);
		sf_buf_init(&bb, &env);
		deepfm_encode(&env, a, &ba);
		if (st == SF_OK)
		{
			deepfm_encode(&env, b, &bb);
			deepfm_free(&env, b);
		}
		SF_OK(ba.len == bb.len && memcmp(ba.data, bb.data, ba.len) == 0,
			  "rows in another order give the same bytes");
		sf_buf_free(&ba);
		sf_buf_free(&bb);
	}
	deepfm_free(&env, a);
}

SF_TEST(test_fit_errors)
{
	double		X[4 * 2] = {0, 1, 1, 2, 2, 3, 3, -1};
	double		S[4] = {1, 2, 3, 4};
	deepfm_params p;
	deepfm_model *model;

	default_params(&p);
	p.layers.n = 1;
	p.layers.v[0] = 4;
	p.epochs = 2;
	p.patience = 0;
	SF_OK(deepfm_fit(&env, &p, X, S, 4, 1, 1, &model) == SF_EDATA, "negative id in training: %s", env.msg);
	X[7] = 0.5;
	SF_OK(deepfm_fit(&env, &p, X, S, 4, 1, 1, &model) == SF_EDATA, "fractional id: %s", env.msg);
	X[7] = 1;
	S[2] = NAN;
	SF_OK(deepfm_fit(&env, &p, X, S, 4, 1, 1, &model) == SF_EDATA, "NaN response: %s", env.msg);
	S[2] = -3;
	SF_OK(deepfm_fit(&env, &p, X, S, 4, 1, 1, &model) == SF_EDATA, "log1p domain: %s", env.msg);
	S[2] = 3;
	p.k = 200;
	p.layers.v[0] = 4;
	SF_OK(deepfm_fit(&env, &p, X, S, 4, 1, 1, &model) == SF_OK, "k = 200 with 2 fields fits");
	deepfm_free(&env, model);
	p.patience = 3;
	p.validation_share = 0.0;
	SF_OK(deepfm_fit(&env, &p, X, S, 4, 1, 1, &model) == SF_EINVAL, "patience without validation: %s", env.msg);
	p.patience = 0;
	SF_OK(deepfm_fit(&env, &p, X, S, 1, 1, 1, &model) == SF_EDATA, "one row: %s", env.msg);
}

/* Re-stamp payload_len and the CRC of a hand-edited container, so the edit reaches the body decoder. */
static void
restamp(uint8_t *buf, size_t len)
{
	uint64_t	pl = len - SF_HEADER_LEN;
	uint32_t	crc = SF_CRC32C_FINAL(sf_crc32c(SF_CRC32C_INIT, buf + SF_HEADER_LEN, len - SF_HEADER_LEN));
	int			i;

	for (i = 0; i < 8; i++)
		buf[16 + i] = (uint8_t) (pl >> (8 * i));
	for (i = 0; i < 4; i++)
		buf[24 + i] = (uint8_t) (crc >> (8 * i));
}

/*
 * Tail rules: each rule round-trips through the bytes, only non-flat models
 * carry the tail section (so flat models keep the bytes they had before
 * it existed), the curve's lower knot follows the rule, the rule leaves
 * the network and the refit alone, and a bad tail section is corrupt.
 */
SF_TEST(test_tail_rules)
{
	enum
	{
	N = 600};
	static double X[N * 3],
				S[N];
	static const int layers[] = {6, 5};
	deepfm_model *model = small_model(3, 20, layers, 2, 11),
			   *decoded,
			   *trained[SF_TAIL_RULE_COUNT];
	double		x[4] = {0.3, -1.0, 4, 2};
	deepfm_params p;
	sf_buf		b,
				b2;
	sf_container cc;
	sf_qcurve	c,
				flat_curve;
	uint8_t    *bad;
	int			rule,
				j;
	sf_status	st;

	SF_OK(deepfm_curve(&env, model, x, &flat_curve) == SF_OK && flat_curve.qa[0] == flat_curve.qa[1] &&
		  flat_curve.qa[19] == flat_curve.qa[20], "flat curve: atoms at both ends");
	for (rule = SF_TAIL_FLAT; rule < SF_TAIL_RULE_COUNT; rule++)
	{
		model->tail = (sf_tail_rule) rule;
		sf_buf_init(&b, &env);
		sf_buf_init(&b2, &env);
		SF_OK(deepfm_encode(&env, model, &b) == SF_OK, "encode tail rule %d", rule);
		SF_OK(sf_container_decode(&env, b.data, b.len, &cc) == SF_OK &&
			  (sf_container_find(&cc, DEEPFM_TAG_TAIL) != NULL) == (rule != SF_TAIL_FLAT),
			  "tail rule %d: tail section %s", rule, rule == SF_TAIL_FLAT ? "absent" : "present");
		st = deepfm_decode(&env, b.data, b.len, &decoded);
		SF_OK(st == SF_OK && (int) decoded->tail == rule, "decoded model keeps tail rule %d", rule);
		if (st == SF_OK)
		{
			deepfm_encode(&env, decoded, &b2);
			SF_OK(b2.len == b.len && memcmp(b2.data, b.data, b.len) == 0, "tail rule %d: encode(decode(b)) == b", rule);
			SF_OK(deepfm_curve(&env, decoded, x, &c) == SF_OK && (int) c.tail == rule, "curve with tail rule %d", rule);
			/* the rule moves the outer knots only */
			for (j = 1; j < c.m; j++)
				if (c.qa[j] != flat_curve.qa[j])
					break;
			SF_OK(j == c.m, "tail rule %d: inner knots as the flat curve's", rule);
			if (rule != SF_TAIL_FLAT)
				SF_OK(c.qa[0] < c.qa[1] && c.qa[19] < c.qa[20], "tail rule %d: sloped lower and upper tails (%.4g < %.4g)",
					  rule, c.qa[0], c.qa[1]);
			sf_qcurve_free(&env, &c);
			deepfm_free(&env, decoded);
		}
		if (rule == SF_TAIL_EXPONENTIAL)
		{
			/* the tail section is the last one: 2 bytes tag, 8 length, 1 value */
			bad = malloc(b.len + 1);
			memcpy(bad, b.data, b.len);
			bad[b.len - 1] = SF_TAIL_FLAT;
			restamp(bad, b.len);
			SF_OK(deepfm_decode(&env, bad, b.len, &decoded) == SF_ECORRUPT, "tail section naming flat: %s", env.msg);
			bad[b.len - 1] = SF_TAIL_RULE_COUNT;
			restamp(bad, b.len);
			SF_OK(deepfm_decode(&env, bad, b.len, &decoded) == SF_ECORRUPT, "tail section naming rule 3: %s", env.msg);
			bad[b.len - 1] = SF_TAIL_LINEAR;
			bad[b.len] = 0;
			bad[b.len - 9] = 2;	/* section length, low byte */
			restamp(bad, b.len + 1);
			SF_OK(deepfm_decode(&env, bad, b.len + 1, &decoded) == SF_ECORRUPT, "tail section of 2 bytes: %s", env.msg);
			bad[b.len - 9] = 1;
			restamp(bad, b.len);
			SF_OK(deepfm_decode(&env, bad, b.len, &decoded) == SF_OK && decoded->tail == SF_TAIL_LINEAR,
				  "hand-edited tail section naming linear decodes");
			deepfm_free(&env, decoded);
			free(bad);
		}
		sf_buf_free(&b);
		sf_buf_free(&b2);
	}
	sf_qcurve_free(&env, &flat_curve);
	deepfm_free(&env, model);

	/* training: the rule changes neither the network nor the refit, only the curve */
	interaction_data(3, X, S, N);
	default_params(&p);
	p.k = 2;
	p.layers.n = 1;
	p.layers.v[0] = 8;
	p.m = 20;
	p.epochs = 3;
	p.patience = 0;
	p.transform = 1;
	p.threads = 1;
	p.refit = 1;
	p.refit_m = 20;
	for (rule = SF_TAIL_FLAT; rule < SF_TAIL_RULE_COUNT; rule++)
	{
		p.tail = rule;
		st = deepfm_fit(&env, &p, X, S, N, 1, 2, &trained[rule]);
		SF_OK(st == SF_OK && (int) trained[rule]->tail == rule, "fit with tail rule %d: %s", rule,
			  st ? env.msg : "ok");
		if (st != SF_OK)
			return;
	}
	for (rule = SF_TAIL_LINEAR; rule < SF_TAIL_RULE_COUNT; rule++)
	{
		double		xr[3] = {0.2, 1, 2};

		SF_OK(memcmp(trained[rule]->params, trained[0]->params, trained[0]->n_params * sizeof(float)) == 0 &&
			  trained[rule]->refit_m == trained[0]->refit_m && trained[rule]->refit_p == trained[0]->refit_p &&
			  memcmp(trained[rule]->refit_coef, trained[0]->refit_coef,
					 (size_t) (trained[0]->refit_m - 1) * trained[0]->refit_p * sizeof(double)) == 0,
			  "tail rule %d leaves the network and the refit alone", rule);
		SF_OK(deepfm_curve(&env, trained[rule], xr, &c) == SF_OK && c.m == 20 && (int) c.tail == rule &&
			  c.qa[0] < c.qa[1], "refit curve keeps tail rule %d (sloped lower tail)", rule);
		sf_qcurve_free(&env, &c);
		SF_OK(strstr(trained[rule]->info_json, rule == SF_TAIL_LINEAR ? "\"tail\": \"linear\"" :
					 "\"tail\": \"exponential\"") != NULL, "model_info names tail rule %d", rule);
	}
	SF_OK(strstr(trained[0]->info_json, "\"tail\": \"flat\"") != NULL &&
		  strstr(trained[0]->info_json, "\"tail_caveat\": \"flat tails") != NULL, "model_info of a flat model");
	for (rule = SF_TAIL_FLAT; rule < SF_TAIL_RULE_COUNT; rule++)
		deepfm_free(&env, trained[rule]);
}

int
main(void)
{
	sf_env_init_malloc(&env);
	SF_RUN(test_gradient);
	SF_RUN(test_fm_identity_and_row_scorer);
	SF_RUN(test_fit_interaction);
	SF_RUN(test_refit);
	SF_RUN(test_unknown_bucket);
	SF_RUN(test_threads_shards);
	SF_RUN(test_fit_errors);
	SF_RUN(test_tail_rules);
	return sf_test_done();
}
