/*
 * nn.c
 *	  The neural-network engine: dense layers, activations, losses, the
 *	  backward pass, Adam and the network's encoding.
 *
 * A batch flows through the layers as float32 row-major matrices: the affine
 * part of each layer is one sf_sgemm (OpenBLAS in the default build, the
 * naive loops under NO_BLAS=1), the activation an elementwise loop.  The
 * backward pass is textbook backpropagation (Rumelhart, Hinton and Williams
 * 1986): delta of the output from the loss, then per layer dW = A^T delta,
 * db = column sums of delta, delta_prev = (delta W^T) * act'(.).  Weight
 * decay is the L2 gradient weight_decay * W added to the weights' gradient
 * (scikit-learn's alpha / batch rows, as a rate).  Adam follows Kingma and Ba
 * (2015) with the bias correction folded into the step size, as in
 * scikit-learn's AdamOptimizer.  Initialisation: He et al. (2015) for ReLU,
 * Glorot and Bengio (2010) otherwise.
 */
#include <math.h>
#include <string.h>

#include "scfrisk/nn.h"
#include "scfrisk/sf_blas.h"

sf_status
nn_net_new(sf_env *env, nn_net *net, int n_layers, const int *widths,
		   const nn_activation *acts)
{
	size_t		total = 0;
	size_t		off = 0;
	int			l;

	memset(net, 0, sizeof(*net));
	if (n_layers < 1 || n_layers > NN_MAX_LAYERS)
		return sf_fail(env, SF_EINVAL, "a network needs 1 to %d layers, got %d",
					   NN_MAX_LAYERS, n_layers);
	for (l = 0; l <= n_layers; l++)
		if (widths[l] < 1 || widths[l] > NN_MAX_UNITS)
			return sf_fail(env, SF_EINVAL, "layer width %d is out of range 1..%d",
						   widths[l], NN_MAX_UNITS);
	for (l = 0; l < n_layers; l++)
		total += (size_t) widths[l] * (size_t) widths[l + 1] + (size_t) widths[l + 1];
	if (total > NN_MAX_PARAMS)
		return sf_fail(env, SF_ELIMIT, "network of %zu weights exceeds the cap of %u",
					   total, NN_MAX_PARAMS);
	net->params = sf_calloc(env, total, sizeof(float));
	if (net->params == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for %zu network weights", total);
	net->n_params = total;
	net->n_layers = n_layers;
	for (l = 0; l < n_layers; l++)
	{
		nn_dense   *d = &net->layers[l];

		d->n_in = widths[l];
		d->n_out = widths[l + 1];
		d->act = acts[l];
		d->w = net->params + off;
		off += (size_t) d->n_in * (size_t) d->n_out;
		d->b = net->params + off;
		off += (size_t) d->n_out;
	}
	return SF_OK;
}

void
nn_net_free(sf_env *env, nn_net *net)
{
	if (net->params)
		sf_free(env, net->params);
	memset(net, 0, sizeof(*net));
}

void
nn_net_init_weights(nn_net *net, sf_rng *rng)
{
	int			l;

	for (l = 0; l < net->n_layers; l++)
	{
		nn_dense   *d = &net->layers[l];
		size_t		n = (size_t) d->n_in * (size_t) d->n_out;
		size_t		i;

		if (d->act == NN_ACT_RELU)
		{
			double		sd = sqrt(2.0 / d->n_in);

			for (i = 0; i < n; i++)
				d->w[i] = (float) (sd * sf_rng_normal(rng));
		}
		else
		{
			double		lim = sqrt(6.0 / (d->n_in + d->n_out));

			for (i = 0; i < n; i++)
				d->w[i] = (float) (lim * (2.0 * sf_rng_uniform(rng) - 1.0));
		}
		memset(d->b, 0, sizeof(float) * (size_t) d->n_out);
	}
}

int
nn_net_max_width(const nn_net *net)
{
	int			w = 0;
	int			l;

	for (l = 0; l < net->n_layers; l++)
	{
		if (net->layers[l].n_in > w)
			w = net->layers[l].n_in;
		if (net->layers[l].n_out > w)
			w = net->layers[l].n_out;
	}
	return w;
}

sf_status
nn_work_new(sf_env *env, const nn_net *net, int max_batch, nn_work *work)
{
	int			l;

	memset(work, 0, sizeof(*work));
	work->max_batch = max_batch;
	for (l = 0; l < net->n_layers; l++)
	{
		size_t		n = (size_t) max_batch * (size_t) net->layers[l].n_out;

		if (!sf_alloc_all(env, SF_MALLOC_N(work->act[l], n), SF_MALLOC_N(work->delta[l], n),
						  SF_MALLOC_N(work->mask[l], n)))
		{
			nn_work_free(env, work);
			return sf_fail(env, SF_ENOMEM, "out of memory for network scratch");
		}
	}
	work->grad = sf_calloc(env, net->n_params, sizeof(float));
	if (work->grad == NULL)
	{
		nn_work_free(env, work);
		return sf_fail(env, SF_ENOMEM, "out of memory for network gradients");
	}
	return SF_OK;
}

void
nn_work_free(sf_env *env, nn_work *work)
{
	int			l;

	for (l = 0; l < NN_MAX_LAYERS; l++)
		sf_free_all(env, work->act[l], work->delta[l], work->mask[l]);
	sf_free(env, work->grad);
	memset(work, 0, sizeof(*work));
}

static inline float
act_apply(nn_activation a, float z)
{
	switch (a)
	{
		case NN_ACT_RELU:
			return z > 0.0f ? z : 0.0f;
		case NN_ACT_TANH:
			return tanhf(z);
		case NN_ACT_SIGMOID:
			/* stable in both tails */
			if (z >= 0.0f)
				return 1.0f / (1.0f + expf(-z));
			else
			{
				float		e = expf(z);

				return e / (1.0f + e);
			}
		case NN_ACT_IDENTITY:
		default:
			return z;
	}
}

/* Derivative of the activation expressed through its output h. */
static inline float
act_deriv(nn_activation a, float h)
{
	switch (a)
	{
		case NN_ACT_RELU:
			return h > 0.0f ? 1.0f : 0.0f;
		case NN_ACT_TANH:
			return 1.0f - h * h;
		case NN_ACT_SIGMOID:
			return h * (1.0f - h);
		case NN_ACT_IDENTITY:
		default:
			return 1.0f;
	}
}

/* act over n values of r into out; ReLU branch-free (maxps), others per value */
static inline void
act_block(nn_activation act, const float *r, float *out, int n)
{
	int			k;

	if (act == NN_ACT_RELU)
	{
		for (k = 0; k < n; k++)
			out[k] = r[k] > 0.0f ? r[k] : 0.0f;
	}
	else if (act == NN_ACT_IDENTITY)
	{
		if (out != r)
			memcpy(out, r, sizeof(float) * n);
	}
	else
		for (k = 0; k < n; k++)
			out[k] = act_apply(act, r[k]);
}

void
nn_forward(const nn_net *net, nn_work *work, const float *x, int m,
		   double dropout, sf_rng *rng)
{
	const float *in = x;
	int			l;
	int			train = dropout > 0.0 && rng != NULL;
	float		scale = train ? (float) (1.0 / (1.0 - dropout)) : 1.0f;

	work->dropout = train ? dropout : 0.0;
	for (l = 0; l < net->n_layers; l++)
	{
		const nn_dense *d = &net->layers[l];
		float	   *out = work->act[l];
		size_t		n = (size_t) m * (size_t) d->n_out;
		size_t		i;
		int			j;

		/* out = in W, then bias and activation row by row */
		sf_sgemm(0, 0, m, d->n_out, d->n_in, 1.0f, in, d->n_in, d->w, d->n_out,
				 0.0f, out, d->n_out);
		for (i = 0; i < (size_t) m; i++)
		{
			float	   *row = out + i * (size_t) d->n_out;

			for (j = 0; j < d->n_out; j++)
				row[j] += d->b[j];
			act_block(d->act, row, row, d->n_out);
		}
		if (train && l < net->n_layers - 1)
		{
			uint8_t    *mk = work->mask[l];

			for (i = 0; i < n; i++)
			{
				mk[i] = sf_rng_uniform(rng) >= dropout;
				out[i] = mk[i] ? out[i] * scale : 0.0f;
			}
		}
		in = out;
	}
}

double
nn_loss_value(const nn_loss *loss, const float *out, const float *y,
			  const float *sw, int m)
{
	double		total = 0.0;
	int			i,
				k;
	int			K = loss->n_out;

	for (i = 0; i < m; i++)
	{
		double		w = sw ? sw[i] : 1.0;
		double		s = 0.0;

		for (k = 0; k < K; k++)
		{
			double		f = out[(size_t) i * K + k];
			double		t = y[(size_t) i * K + k];

			switch (loss->kind)
			{
				case NN_LOSS_LOGLOSS:
					{
						/* clip as scikit-learn does, at float32 precision */
						const double eps = 1e-7;

						if (f < eps)
							f = eps;
						if (f > 1.0 - eps)
							f = 1.0 - eps;
						s -= t * log(f) + (1.0 - t) * log(1.0 - f);
						break;
					}
				case NN_LOSS_SQUARED:
					s += 0.5 * (f - t) * (f - t);
					break;
				case NN_LOSS_PINBALL:
					{
						double		tau = loss->taus[k];
						double		r = t - f;

						s += r >= 0 ? tau * r : (tau - 1.0) * r;
						break;
					}
			}
		}
		total += w * s;
	}
	return total;
}

/*
 * Backpropagation from work->delta[n_layers - 1] (dLoss/dz of the output
 * layer, already averaged over the batch): the layer loop shared by
 * nn_backward and callers that compute the output delta themselves (the
 * DeepFM tower, whose output feeds a head outside the net).  With dx
 * non-NULL, dx (m, n_in) receives dLoss/dx, the gradient with respect to
 * the net's input (the DeepFM embeddings).
 */
void
nn_backprop(const nn_net *net, nn_work *work, const float *x, int m,
			double weight_decay, float *dx)
{
	int			L = net->n_layers;
	float		keep_scale = work->dropout > 0.0 ? (float) (1.0 / (1.0 - work->dropout)) : 1.0f;
	int			i,
				k,
				l;

	for (l = L - 1; l >= 0; l--)
	{
		const nn_dense *d = &net->layers[l];
		const float *in = l == 0 ? x : work->act[l - 1];
		float	   *dl = work->delta[l];
		float	   *gw = work->grad + (d->w - net->params);
		float	   *gb = work->grad + (d->b - net->params);
		size_t		nw = (size_t) d->n_in * (size_t) d->n_out;
		size_t		j;

		/* dW = in^T delta (n_in x n_out) */
		sf_sgemm(1, 0, d->n_in, d->n_out, m, 1.0f, in, d->n_in, dl, d->n_out,
				 0.0f, gw, d->n_out);
		if (weight_decay > 0.0)
		{
			float		wd = (float) weight_decay;

			for (j = 0; j < nw; j++)
				gw[j] += wd * d->w[j];
		}
		memset(gb, 0, sizeof(float) * (size_t) d->n_out);
		for (i = 0; i < m; i++)
		{
			const float *row = dl + (size_t) i * d->n_out;

			for (k = 0; k < d->n_out; k++)
				gb[k] += row[k];
		}
		if (l > 0)
		{
			const nn_dense *p = &net->layers[l - 1];
			float	   *dp = work->delta[l - 1];
			const float *a = work->act[l - 1];
			size_t		n = (size_t) m * (size_t) p->n_out;

			/* dL/da_prev = delta W^T (m x n_in) */
			sf_sgemm(0, 1, m, d->n_in, d->n_out, 1.0f, dl, d->n_out, d->w, d->n_out,
					 0.0f, dp, d->n_in);
			if (work->dropout > 0.0)
			{
				const uint8_t *mk = work->mask[l - 1];

				for (j = 0; j < n; j++)
					dp[j] = mk[j] ? dp[j] * keep_scale * act_deriv(p->act, a[j] / keep_scale) : 0.0f;
			}
			else if (p->act == NN_ACT_RELU)
			{
				for (j = 0; j < n; j++)
					dp[j] = a[j] > 0.0f ? dp[j] : 0.0f;
			}
			else if (p->act != NN_ACT_IDENTITY)
			{
				for (j = 0; j < n; j++)
					dp[j] *= act_deriv(p->act, a[j]);
			}
		}
	}
	if (dx != NULL)
	{
		const nn_dense *d = &net->layers[0];

		/* dL/dx = delta_0 W_0^T (m x n_in) */
		sf_sgemm(0, 1, m, d->n_in, d->n_out, 1.0f, work->delta[0], d->n_out, d->w, d->n_out,
				 0.0f, dx, d->n_in);
	}
}

void
nn_backward(const nn_net *net, nn_work *work, const nn_loss *loss,
			const float *x, const float *y, const float *sw, int m,
			double weight_decay)
{
	int			L = net->n_layers;
	int			K = net->layers[L - 1].n_out;
	float		inv_m = 1.0f / (float) m;
	int			i,
				k;

	/* output delta: dLoss/dz of the last layer, averaged over the batch */
	{
		const float *out = work->act[L - 1];
		float	   *dl = work->delta[L - 1];

		for (i = 0; i < m; i++)
		{
			float		w = (sw ? sw[i] : 1.0f) * inv_m;

			for (k = 0; k < K; k++)
			{
				size_t		ix = (size_t) i * K + k;
				float		f = out[ix];
				float		t = y[ix];
				float		g;

				switch (loss->kind)
				{
					case NN_LOSS_PINBALL:
						g = t > f ? (float) -loss->taus[k] : (float) (1.0 - loss->taus[k]);
						break;
					case NN_LOSS_LOGLOSS:	/* sigmoid output: d/dz = p - y */
					case NN_LOSS_SQUARED:	/* identity output: d/dz = f - y */
					default:
						g = f - t;
						break;
				}
				dl[ix] = g * w;
			}
		}
	}

	nn_backprop(net, work, x, m, weight_decay, NULL);
}

sf_status
nn_adam_new(sf_env *env, nn_adam *opt, size_t n, double lr)
{
	memset(opt, 0, sizeof(*opt));
	opt->lr = lr;
	opt->beta1 = 0.9;
	opt->beta2 = 0.999;
	opt->eps = 1e-8;
	opt->n = n;
	if (!sf_alloc_all(env, SF_CALLOC_N(opt->m, n), SF_CALLOC_N(opt->v, n)))
		return sf_fail(env, SF_ENOMEM, "out of memory for optimiser state");
	return SF_OK;
}

void
nn_adam_free(sf_env *env, nn_adam *opt)
{
	sf_free_clear(env, &opt->m, &opt->v);
}

void
nn_adam_step(nn_adam *opt, float *params, const float *grad)
{
	float		b1 = (float) opt->beta1;
	float		b2 = (float) opt->beta2;
	float		eps = (float) opt->eps;
	float		step;
	size_t		i;

	opt->t++;
	step = (float) (opt->lr * sqrt(1.0 - pow(opt->beta2, (double) opt->t)) /
					(1.0 - pow(opt->beta1, (double) opt->t)));
	for (i = 0; i < opt->n; i++)
	{
		float		g = grad[i];
		float		mi = b1 * opt->m[i] + (1.0f - b1) * g;
		float		vi = b2 * opt->v[i] + (1.0f - b2) * g * g;

		opt->m[i] = mi;
		opt->v[i] = vi;
		params[i] -= step * mi / (sqrtf(vi) + eps);
	}
}

/*
 * out[0..n_out) = act(a W + bias) for one row: the per-row scoring kernel.
 * Columns go in blocks of 32 held in four 8-float vectors (GCC/Clang vector
 * extensions, no ISA-specific intrinsics), so each input adds a broadcast
 * times four contiguous loads of W's row into four independent dependency
 * chains; then blocks of 8, then a scalar tail.  The body is compiled twice:
 * for the baseline target, and on x86-64 also for AVX2 + FMA; nn_kernels_init
 * (called from _PG_init) points dense_row at the one the CPU runs, as
 * pgvector's BitvecInit does (STYLE.md rule 18).  The batch path (nn_forward)
 * uses sgemm and is the oracle the unit tests compare both kernels with.
 */
typedef float sf_v8 __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__)
#define SF_HAVE_AVX2_KERNEL 1
#endif

/* a macro, not a function: passing 32-byte vectors by value changes the ABI */
#define SF_LOAD8(dst, p)	memcpy(&(dst), (p), sizeof(sf_v8))

static inline __attribute__((always_inline)) void
dense_row_body(const nn_dense *d, const float *a, float *out)
{
	int			n_in = d->n_in,
				n_out = d->n_out;
	int			i,
				j = 0;
	float		r[32];

	for (; j + 32 <= n_out; j += 32)
	{
		sf_v8		s0,
					s1,
					s2,
					s3,
					w0,
					w1,
					w2,
					w3;
		const float *w = d->w + j;

		SF_LOAD8(s0, d->b + j);
		SF_LOAD8(s1, d->b + j + 8);
		SF_LOAD8(s2, d->b + j + 16);
		SF_LOAD8(s3, d->b + j + 24);
		for (i = 0; i < n_in; i++, w += n_out)
		{
			float		ai = a[i];
			sf_v8		av = {ai, ai, ai, ai, ai, ai, ai, ai};

			SF_LOAD8(w0, w);
			SF_LOAD8(w1, w + 8);
			SF_LOAD8(w2, w + 16);
			SF_LOAD8(w3, w + 24);
			s0 += av * w0;
			s1 += av * w1;
			s2 += av * w2;
			s3 += av * w3;
		}
		memcpy(r, &s0, sizeof(s0));
		memcpy(r + 8, &s1, sizeof(s1));
		memcpy(r + 16, &s2, sizeof(s2));
		memcpy(r + 24, &s3, sizeof(s3));
		act_block(d->act, r, out + j, 32);
	}
	for (; j + 8 <= n_out; j += 8)
	{
		sf_v8		s0,
					w0;
		const float *w = d->w + j;

		SF_LOAD8(s0, d->b + j);
		for (i = 0; i < n_in; i++, w += n_out)
		{
			float		ai = a[i];
			sf_v8		av = {ai, ai, ai, ai, ai, ai, ai, ai};

			SF_LOAD8(w0, w);
			s0 += av * w0;
		}
		memcpy(r, &s0, sizeof(s0));
		act_block(d->act, r, out + j, 8);
	}
	for (; j < n_out; j++)
	{
		/* narrow layers and the head: four partial sums over the inputs */
		float		p0 = 0,
					p1 = 0,
					p2 = 0,
					p3 = 0;
		const float *w = d->w + j;

		for (i = 0; i + 4 <= n_in; i += 4)
		{
			p0 += a[i] * w[(size_t) i * n_out];
			p1 += a[i + 1] * w[(size_t) (i + 1) * n_out];
			p2 += a[i + 2] * w[(size_t) (i + 2) * n_out];
			p3 += a[i + 3] * w[(size_t) (i + 3) * n_out];
		}
		for (; i < n_in; i++)
			p0 += a[i] * w[(size_t) i * n_out];
		out[j] = act_apply(d->act, d->b[j] + ((p0 + p1) + (p2 + p3)));
	}
}

static void
dense_row_portable(const nn_dense *d, const float *a, float *out)
{
	dense_row_body(d, a, out);
}

#ifdef SF_HAVE_AVX2_KERNEL
__attribute__((target("avx2,fma")))
static void
dense_row_avx2(const nn_dense *d, const float *a, float *out)
{
	dense_row_body(d, a, out);
}
#endif

/* The row kernel in use: the portable one until nn_kernels_init runs. */
static void (*dense_row) (const nn_dense *d, const float *a, float *out) = dense_row_portable;

int
nn_kernels_init(void)
{
	return nn_kernels_select(1);
}

int
nn_kernels_select(int simd)
{
#ifdef SF_HAVE_AVX2_KERNEL
	__builtin_cpu_init();
	if (simd && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
	{
		dense_row = dense_row_avx2;
		return 1;
	}
#endif
	dense_row = dense_row_portable;
	return 0;
}

void
nn_predict_row(const nn_net *net, const double *x, double *out, float *tmp)
{
	int			w = nn_net_max_width(net);
	float	   *a = tmp;
	float	   *b = tmp + w;
	int			l,
				i,
				j;

	for (i = 0; i < net->layers[0].n_in; i++)
		a[i] = (float) x[i];
	for (l = 0; l < net->n_layers; l++)
	{
		float	   *t;

		dense_row(&net->layers[l], a, b);
		t = a;
		a = b;
		b = t;
	}
	for (j = 0; j < net->layers[net->n_layers - 1].n_out; j++)
		out[j] = a[j];
}

static inline double
act_apply_f64(nn_activation a, double z)
{
	switch (a)
	{
		case NN_ACT_RELU:
			return z > 0.0 ? z : 0.0;
		case NN_ACT_TANH:
			return tanh(z);
		case NN_ACT_SIGMOID:
			return z >= 0.0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
		case NN_ACT_IDENTITY:
			break;
	}
	return z;
}

void
nn_predict_row_f64(const nn_net *net, const double *x, double *out, double *tmp)
{
	int			w = nn_net_max_width(net);
	double	   *a = tmp;
	double	   *b = tmp + w;
	int			l,
				i,
				j;

	memcpy(a, x, sizeof(double) * (size_t) net->layers[0].n_in);
	for (l = 0; l < net->n_layers; l++)
	{
		const nn_dense *d = &net->layers[l];
		double	   *t;

		for (j = 0; j < d->n_out; j++)
			b[j] = d->b[j];
		/* w is (n_in, n_out) row-major, as the float kernels read it */
		for (i = 0; i < d->n_in; i++)
			for (j = 0; j < d->n_out; j++)
				b[j] += (double) d->w[(size_t) i * d->n_out + j] * a[i];
		for (j = 0; j < d->n_out; j++)
			b[j] = act_apply_f64(d->act, b[j]);
		t = a;
		a = b;
		b = t;
	}
	for (j = 0; j < net->layers[net->n_layers - 1].n_out; j++)
		out[j] = a[j];
}

double
nn_net_bound(const nn_net *net, const double *in_bound, double *tmp)
{
	int			w = nn_net_max_width(net);
	double	   *a = tmp;
	double	   *b = tmp + w;
	double		worst = 0.0;
	int			l,
				i,
				j;

	memcpy(a, in_bound, sizeof(double) * (size_t) net->layers[0].n_in);
	for (l = 0; l < net->n_layers; l++)
	{
		const nn_dense *d = &net->layers[l];
		double	   *t;

		for (j = 0; j < d->n_out; j++)
			b[j] = fabs((double) d->b[j]);
		for (i = 0; i < d->n_in; i++)
			for (j = 0; j < d->n_out; j++)
				b[j] += fabs((double) d->w[(size_t) i * d->n_out + j]) * a[i];
		for (j = 0; j < d->n_out; j++)
		{
			/* NaN (inf * 0 cannot happen: bounds are >= 0 and weights finite) */
			if (!(b[j] <= worst))
				worst = isfinite(b[j]) ? b[j] : INFINITY;
			if (d->act == NN_ACT_TANH || d->act == NN_ACT_SIGMOID)
				b[j] = 1.0;
		}
		t = a;
		a = b;
		b = t;
	}
	return worst;
}

void
nn_net_encode(const nn_net *net, sf_buf *b)
{
	int			l;

	sf_buf_put_u32(b, (uint32_t) net->n_layers);
	for (l = 0; l < net->n_layers; l++)
	{
		const nn_dense *d = &net->layers[l];

		sf_buf_put_u32(b, (uint32_t) d->n_in);
		sf_buf_put_u32(b, (uint32_t) d->n_out);
		sf_buf_put_u8(b, (uint8_t) d->act);
		sf_buf_put_f32s(b, d->w, (size_t) d->n_in * (size_t) d->n_out);
		sf_buf_put_f32s(b, d->b, (size_t) d->n_out);
	}
}

sf_status
nn_net_decode(sf_env *env, sf_reader *r, nn_net *net)
{
	uint32_t	n_layers;
	int			widths[NN_MAX_LAYERS + 1];
	nn_activation acts[NN_MAX_LAYERS];
	const uint8_t *start = r->p;
	size_t		total = 0;
	int			l;
	sf_status	st;

	memset(net, 0, sizeof(*net));
	n_layers = sf_read_u32(r);
	if (!sf_reader_ok(r) || n_layers < 1 || n_layers > NN_MAX_LAYERS)
		return sf_fail(env, SF_ECORRUPT, "corrupted network: %u layers", n_layers);
	/* first pass: shapes, so the weights can be allocated at once */
	for (l = 0; l < (int) n_layers; l++)
	{
		uint32_t	n_in = sf_read_u32(r);
		uint32_t	n_out = sf_read_u32(r);
		uint8_t		act = sf_read_u8(r);
		size_t		nw;

		if (!sf_reader_ok(r) || n_in < 1 || n_in > NN_MAX_UNITS || n_out < 1 ||
			n_out > NN_MAX_UNITS || act > NN_ACT_MAX)
			return sf_fail(env, SF_ECORRUPT, "corrupted network: layer %d has bad shape", l);
		if (l > 0 && (int) n_in != widths[l])
			return sf_fail(env, SF_ECORRUPT, "corrupted network: layer %d width mismatch", l);
		widths[l] = (int) n_in;
		widths[l + 1] = (int) n_out;
		acts[l] = (nn_activation) act;
		nw = (size_t) n_in * n_out + n_out;
		total += nw;
		if (total > NN_MAX_PARAMS || !sf_reader_has(r, nw, 4))
			return sf_fail(env, SF_ECORRUPT, "corrupted network: layer %d truncated", l);
		r->p += nw * 4;
	}
	st = nn_net_new(env, net, (int) n_layers, widths, acts);
	if (st == SF_EINVAL || st == SF_ELIMIT)
		return sf_fail(env, SF_ECORRUPT, "corrupted network: bad shape");
	if (st)
		return st;
	/* second pass: weights */
	r->p = start + 4;
	for (l = 0; l < (int) n_layers; l++)
	{
		nn_dense   *d = &net->layers[l];
		size_t		nw = (size_t) d->n_in * (size_t) d->n_out;
		size_t		i;

		(void) sf_read_u32(r);
		(void) sf_read_u32(r);
		(void) sf_read_u8(r);
		sf_read_f32s(r, d->w, nw);
		sf_read_f32s(r, d->b, (size_t) d->n_out);
		for (i = 0; i < nw; i++)
			if (!isfinite(d->w[i]))
				break;
		if (i < nw)
		{
			nn_net_free(env, net);
			return sf_fail(env, SF_ECORRUPT, "corrupted network: non-finite weight in layer %d", l);
		}
		for (i = 0; i < (size_t) d->n_out; i++)
			if (!isfinite(d->b[i]))
			{
				nn_net_free(env, net);
				return sf_fail(env, SF_ECORRUPT, "corrupted network: non-finite bias in layer %d", l);
			}
	}
	if (!sf_reader_ok(r))
	{
		nn_net_free(env, net);
		return sf_fail(env, SF_ECORRUPT, "corrupted network: truncated");
	}
	return SF_OK;
}

sf_status
nn_check_layers(sf_env *env, int n, int max, const char *key, const char *unit)
{
	if (n < 1)
		return sf_fail(env, SF_EINVAL, "parameter \"%s\" must list at least one layer %s", key, unit);
	if (n > max)
		return sf_fail(env, SF_EINVAL, "parameter \"%s\" lists %d layers, at most %d are allowed",
					   key, n, max);
	return SF_OK;
}
