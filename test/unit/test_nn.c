/*
 * test_nn.c
 *	  Unit tests of the network engine: backward pass against finite
 *	  differences for every activation and loss, dropout bookkeeping, Adam
 *	  on a quadratic, the per-row scorer against the batch forward pass, and
 *	  the encode/decode round trip with corrupted inputs.
 */
#include <math.h>
#include <string.h>

#include "scfrisk/nn.h"
#include "sf_test.h"

static sf_env env;

/* Total loss / m + 0.5 wd |W|^2 for the current params (forward without dropout). */
static double
full_loss(nn_net *net, nn_work *w, const nn_loss *loss, const float *x, const float *y, int m, double wd)
{
	double		l;
	int			i;
	size_t		j;

	nn_forward(net, w, x, m, 0.0, NULL);
	l = nn_loss_value(loss, w->act[net->n_layers - 1], y, NULL, m) / m;
	for (i = 0; i < net->n_layers; i++)
		for (j = 0; j < (size_t) net->layers[i].n_in * net->layers[i].n_out; j++)
			l += 0.5 * wd * net->layers[i].w[j] * net->layers[i].w[j];
	return l;
}

static void
grad_check(nn_activation hid, nn_loss_kind lk)
{
	int			widths[4] = {3, 5, 4, 2};
	nn_activation acts[3] = {hid, hid, lk == NN_LOSS_LOGLOSS ? NN_ACT_SIGMOID : NN_ACT_IDENTITY};
	double		taus[2] = {0.3, 0.8};
	nn_loss		loss = {lk, 2, taus};
	nn_net		net;
	nn_work		w;
	sf_rng		rng;
	float		x[6 * 3],
				y[6 * 2];
	int			i,
				bad = 0;
	double		wd = 0.01,
				maxerr = 0;

	sf_rng_init(&rng, 7, 0);
	SF_OK(nn_net_new(&env, &net, 3, widths, acts) == SF_OK, "net_new");
	nn_net_init_weights(&net, &rng);
	for (i = 0; i < net.n_params; i++)
		net.params[i] += (float) (0.1 * sf_rng_normal(&rng));	/* non-zero biases too */
	SF_OK(nn_work_new(&env, &net, 6, &w) == SF_OK, "work_new");
	for (i = 0; i < 18; i++)
		x[i] = (float) sf_rng_normal(&rng);
	for (i = 0; i < 12; i++)
		y[i] = lk == NN_LOSS_LOGLOSS ? (float) (sf_rng_uniform(&rng) < 0.5) : (float) sf_rng_normal(&rng);
	nn_forward(&net, &w, x, 6, 0.0, NULL);
	nn_backward(&net, &w, &loss, x, y, NULL, 6, wd);
	for (i = 0; i < (int) net.n_params; i++)
	{
		float		keep = net.params[i];
		double		h = 1e-2,
					lp,
					lm,
					num,
					err;

		net.params[i] = keep + (float) h;
		lp = full_loss(&net, &w, &loss, x, y, 6, wd);
		net.params[i] = keep - (float) h;
		lm = full_loss(&net, &w, &loss, x, y, 6, wd);
		net.params[i] = keep;
		num = (lp - lm) / (2 * h);
		/* pinball and relu have kinks: a central difference across one is off */
		err = fabs(num - w.grad[i]) / fmax(1.0, fabs(num));
		if (err > maxerr)
			maxerr = err;
		if (err > (lk == NN_LOSS_PINBALL || hid == NN_ACT_RELU ? 0.05 : 2e-3))
			bad++;
	}
	SF_OK(bad == 0, "gradient of act %d loss %d matches finite differences (max rel err %.2g)",
		  hid, lk, maxerr);
	nn_work_free(&env, &w);
	nn_net_free(&env, &net);
}

SF_TEST(test_gradients)
{
	grad_check(NN_ACT_TANH, NN_LOSS_LOGLOSS);
	grad_check(NN_ACT_SIGMOID, NN_LOSS_SQUARED);
	grad_check(NN_ACT_IDENTITY, NN_LOSS_SQUARED);
	grad_check(NN_ACT_RELU, NN_LOSS_LOGLOSS);
	grad_check(NN_ACT_TANH, NN_LOSS_PINBALL);
}

SF_TEST(test_dropout)
{
	int			widths[3] = {4, 200, 1};
	nn_activation acts[2] = {NN_ACT_RELU, NN_ACT_IDENTITY};
	nn_net		net;
	nn_work		w;
	sf_rng		rng,
				drop;
	float		x[4] = {1, 2, 3, 4};
	int			i,
				dropped = 0;

	sf_rng_init(&rng, 1, 0);
	sf_rng_init(&drop, 1, 1);
	nn_net_new(&env, &net, 2, widths, acts);
	nn_net_init_weights(&net, &rng);
	nn_work_new(&env, &net, 1, &w);
	nn_forward(&net, &w, x, 1, 0.5, &drop);
	for (i = 0; i < 200; i++)
		dropped += !w.mask[0][i];
	SF_OK(dropped > 60 && dropped < 140, "about half the units dropped (%d of 200)", dropped);
	for (i = 0; i < 200; i++)
		if (!w.mask[0][i] && w.act[0][i] != 0.0f)
			break;
	SF_OK(i == 200, "dropped units output zero");
	nn_forward(&net, &w, x, 1, 0.0, NULL);
	SF_OK(w.dropout == 0.0, "inference forward records no dropout");
	nn_work_free(&env, &w);
	nn_net_free(&env, &net);
}

SF_TEST(test_adam)
{
	nn_adam		opt;
	float		p[3] = {5, -3, 1};
	float		g[3];
	int			t,
				i;

	SF_OK(nn_adam_new(&env, &opt, 3, 0.1) == SF_OK, "adam_new");
	for (t = 0; t < 500; t++)
	{
		for (i = 0; i < 3; i++)
			g[i] = 2 * (p[i] - (float) i);	/* minimum at (0, 1, 2) */
		nn_adam_step(&opt, p, g);
	}
	SF_NEAR(p[0], 0, 0.02, "adam reaches the minimum, coordinate 0");
	SF_NEAR(p[2], 2, 0.02, "adam reaches the minimum, coordinate 2");
	/* first step moves each parameter by lr against the gradient sign */
	{
		nn_adam		o2;
		float		q[1] = {1};
		float		gq[1] = {123};

		nn_adam_new(&env, &o2, 1, 0.01);
		nn_adam_step(&o2, q, gq);
		SF_NEAR(q[0], 0.99, 1e-6, "first Adam step is lr in size");
		nn_adam_free(&env, &o2);
	}
	nn_adam_free(&env, &opt);
}

SF_TEST(test_predict_row_and_codec)
{
	int			widths[4] = {5, 7, 3, 1};
	nn_activation acts[3] = {NN_ACT_RELU, NN_ACT_TANH, NN_ACT_SIGMOID};
	nn_net		net,
				back;
	nn_work		w;
	sf_rng		rng;
	float		x[5];
	double		xd[5],
				o;
	float		tmp[32];
	sf_buf		b,
				b2;
	sf_reader	r;
	int			i;

	sf_rng_init(&rng, 3, 0);
	nn_net_new(&env, &net, 3, widths, acts);
	nn_net_init_weights(&net, &rng);
	nn_work_new(&env, &net, 1, &w);
	for (i = 0; i < 5; i++)
	{
		x[i] = (float) sf_rng_normal(&rng);
		xd[i] = x[i];
	}
	nn_forward(&net, &w, x, 1, 0.0, NULL);
	nn_predict_row(&net, xd, &o, tmp);
	SF_NEAR(o, w.act[2][0], 1e-6, "row scorer equals batch forward");

	sf_buf_init(&b, &env);
	nn_net_encode(&net, &b);
	sf_reader_init(&r, b.data, b.len);
	SF_OK(nn_net_decode(&env, &r, &back) == SF_OK, "decode of an encoded net");
	sf_buf_init(&b2, &env);
	nn_net_encode(&back, &b2);
	SF_OK(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0, "encode(decode(b)) == b");
	nn_net_free(&env, &back);
	/* truncated, and a width mismatch */
	sf_reader_init(&r, b.data, b.len - 1);
	SF_OK(nn_net_decode(&env, &r, &back) == SF_ECORRUPT, "truncated net is corrupt: %s", env.msg);
	b.data[4 + 4] = 9;			/* layer 0 n_out: 7 -> 9, breaks the chain */
	sf_reader_init(&r, b.data, b.len);
	SF_OK(nn_net_decode(&env, &r, &back) == SF_ECORRUPT, "width mismatch is corrupt: %s", env.msg);
	sf_buf_free(&b);
	sf_buf_free(&b2);
	nn_work_free(&env, &w);
	nn_net_free(&env, &net);
	SF_OK(nn_net_new(&env, &net, 1, (int[]) {0, 1}, acts) == SF_EINVAL, "zero width rejected");
}

/*
 * The SIMD and portable row kernels against the batch forward pass (sgemm,
 * the oracle), on layer widths that exercise the 32-wide blocks, the 8-wide
 * blocks and the scalar tail.  FMA rounds differently, hence the tolerance.
 */
SF_TEST(test_row_kernels)
{
	int			widths[] = {19, 77, 45, 9, 1};
	nn_activation acts[] = {NN_ACT_RELU, NN_ACT_TANH, NN_ACT_RELU, NN_ACT_SIGMOID};
	nn_net		net;
	nn_work		w;
	sf_rng		rng;
	float		x[4 * 19];
	double		xd[19],
				o;
	float		tmp[2 * 77];
	double		worst[2] = {0, 0};
	int			k,
				i,
				have_simd;

	sf_rng_init(&rng, 11, 0);
	nn_net_new(&env, &net, 4, widths, acts);
	nn_net_init_weights(&net, &rng);
	nn_work_new(&env, &net, 4, &w);
	for (i = 0; i < 4 * 19; i++)
		x[i] = (float) sf_rng_normal(&rng);
	nn_forward(&net, &w, x, 4, 0.0, NULL);
	for (k = 0; k < 2; k++)
	{
		have_simd = nn_kernels_select(k);
		if (k == 1 && !have_simd)
			break;
		for (int r = 0; r < 4; r++)
		{
			for (i = 0; i < 19; i++)
				xd[i] = x[r * 19 + i];
			nn_predict_row(&net, xd, &o, tmp);
			if (fabs(o - w.act[3][r]) > worst[k])
				worst[k] = fabs(o - w.act[3][r]);
		}
	}
	SF_OK(worst[0] <= 1e-5, "portable row kernel equals the batch forward (max diff %.3g)", worst[0]);
	if (k == 2)
		SF_OK(worst[1] <= 1e-5, "AVX2/FMA row kernel equals the batch forward (max diff %.3g)", worst[1]);
	else
		SF_OK(1, "no AVX2/FMA on this CPU: the portable kernel is the only one");
	SF_OK(nn_kernels_init() == (k == 2), "nn_kernels_init picks SIMD exactly when the CPU has it");
	nn_work_free(&env, &w);
	nn_net_free(&env, &net);
}

int
main(void)
{
	sf_env_init_malloc(&env);
	SF_RUN(test_gradients);
	SF_RUN(test_dropout);
	SF_RUN(test_adam);
	SF_RUN(test_predict_row_and_codec);
	SF_RUN(test_row_kernels);
	return sf_test_done();
}
