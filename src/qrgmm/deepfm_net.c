/*
 * deepfm_net.c
 *	  The quantile DeepFM network: parameter layout, embedding lookup, the
 *	  forward pass (first-order terms, FM pairwise term in O(F k), ReLU MLP,
 *	  multi-output head), the pinball loss averaged over levels, the
 *	  backward pass, and per-row scoring into the QRGMM curve.
 *
 * DeepFM is Guo et al. (2017), "DeepFM: A Factorization-Machine based
 * Neural Network for CTR Prediction": field embeddings shared by an FM
 * component and a deep component.  As in the reference implementation
 * (ChenglongChen/tensorflow-DeepFM) numeric fields are embedded as
 * value x vector and the output is a linear projection of the concatenated
 * [first order, second order, deep] features; for QRGMM (methods/
 * qrgmm_scf.md section 4.2) that projection has one output per grid level
 * tau_j = j/m and the loss is the pinball loss averaged over the levels.
 *
 * The pairwise term uses the identity sum_{i<j} <e_i, e_j> =
 * 0.5 sum_d ((sum_f e_fd)^2 - sum_f e_fd^2), whose gradient with respect to
 * e_fd is (sum_g e_gd) - e_fd (Rendle 2010).  The MLP is an nn_net of the
 * shared engine (nn.h): nn_forward, then nn_backprop from the delta the head
 * sends back, which also yields the gradient with respect to the embeddings.
 * Dropout of the MLP's last layer is applied here, on the head's copy of h,
 * because that layer is the net's output for nn.c.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "scfrisk/deepfm.h"
#include "scfrisk/sf_blas.h"

sf_status
deepfm_alloc_params(sf_env *env, deepfm_model *model)
{
	uint32_t	F = deepfm_fields(model);
	uint32_t	f;
	size_t		rows = 0,
				n,
				L = (size_t) (model->m - 1);
	int			H = model->tower.layers[model->tower.n_layers - 1].n_out;

	model->row_off = sf_calloc(env, (size_t) F + 1, sizeof(uint32_t));
	if (model->row_off == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the embedding layout");
	for (f = 0; f < F; f++)
	{
		model->row_off[f] = (uint32_t) rows;
		if (f < model->n_numeric)
			rows += 1;
		else
		{
			uint32_t	c = f - model->n_numeric;

			rows += (size_t) (model->vocab_off[c + 1] - model->vocab_off[c]) + 1;
		}
	}
	model->row_off[F] = (uint32_t) rows;
	if (rows * (size_t) model->k > DEEPFM_MAX_EMBED)
		return sf_fail(env, SF_ELIMIT,
					   "%zu embedding rows of size %d exceed the cap of %u embedding values",
					   rows, model->k, DEEPFM_MAX_EMBED);
	model->n_rows_embed = (uint32_t) rows;
	model->n_phi = (int) F + model->k + H;
	n = rows * (size_t) model->k + rows + (size_t) model->n_phi * L + L;
	model->params = sf_calloc(env, n, sizeof(float));
	if (model->params == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for %zu network weights", n);
	model->n_params = n;
	model->embed = model->params;
	model->first = model->embed + rows * (size_t) model->k;
	model->head_w = model->first + rows;
	model->head_b = model->head_w + (size_t) model->n_phi * L;
	return SF_OK;
}

void
deepfm_free(sf_env *env, deepfm_model *model)
{
	if (model == NULL)
		return;
	nn_net_free(env, &model->tower);
	sf_free_all(env, model->num_mean, model->num_scale, model->vocab_off, model->vocab, model->row_off,
				model->params, model->log_train, model->log_val, model->refit_cols, model->refit_coef,
				model->params_json, model->info_json, model);
}

uint32_t
deepfm_category_index(const deepfm_model *model, uint32_t c, int32_t id)
{
	const int32_t *v = model->vocab + model->vocab_off[c];
	uint32_t	lo = 0,
				hi = model->vocab_off[c + 1] - model->vocab_off[c];

	while (lo < hi)
	{
		uint32_t	mid = lo + (hi - lo) / 2;

		if (v[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < model->vocab_off[c + 1] - model->vocab_off[c] && v[lo] == id)
		return lo + 1;
	return 0;
}

sf_status
deepfm_check_row(sf_env *env, const deepfm_model *model, const double *x)
{
	uint32_t	f;

	for (f = 0; f < model->n_numeric; f++)
	{
		if (!isfinite(x[f]))
			return sf_fail(env, SF_EDATA, "numeric field %u is not finite", f + 1);
		/* the network reads float32, as training stores it */
		if (fabs(x[f]) > FLT_MAX)
			return sf_fail(env, SF_EDATA,
						   "numeric field %u (%g) is out of the float4 range the network reads", f + 1, x[f]);
	}
	for (f = 0; f < model->n_categorical; f++)
	{
		double		v = x[model->n_numeric + f];

		if (!isfinite(v))
			return sf_fail(env, SF_EDATA, "categorical field %u is not finite", f + 1);
		if (v < 0.0)
			return sf_fail(env, SF_EDATA, "categorical field %u has negative id %.0f", f + 1, v);
		if (v != floor(v) || v > 2147483647.0)
			return sf_fail(env, SF_EDATA,
						   "categorical field %u has id %g, which is not an integer in [0, 2147483647]",
						   f + 1, v);
	}
	return SF_OK;
}

/* Embedding row and multiplier of field f for raw value v. */
static inline void
field_input(const deepfm_model *model, uint32_t f, double v, uint32_t *row, float *val)
{
	if (f < model->n_numeric)
	{
		*row = model->row_off[f];
		*val = (float) ((v - model->num_mean[f]) / model->num_scale[f]);
	}
	else
	{
		uint32_t	c = f - model->n_numeric;

		*row = model->row_off[f] + deepfm_category_index(model, c, (int32_t) v);
		*val = 1.0f;
	}
}

sf_status
deepfm_work_new(sf_env *env, const deepfm_model *model, int max_batch, deepfm_work *w)
{
	size_t		B = (size_t) max_batch;
	size_t		F = deepfm_fields(model);
	size_t		Fk = F * (size_t) model->k;
	size_t		P = (size_t) model->n_phi;
	size_t		L = (size_t) (model->m - 1);
	size_t		H = (size_t) model->tower.layers[model->tower.n_layers - 1].n_out;
	sf_status	st;

	memset(w, 0, sizeof(*w));
	w->max_batch = max_batch;
	if (!sf_alloc_all(env, SF_MALLOC_N(w->rows, B * F), SF_MALLOC_N(w->vals, B * F),
					  SF_MALLOC_N(w->emb, B * Fk), SF_MALLOC_N(w->sum, B * (size_t) model->k),
					  SF_MALLOC_N(w->phi, B * P), SF_MALLOC_N(w->hmask, B * H), SF_MALLOC_N(w->q, B * L),
					  SF_MALLOC_N(w->dq, B * L), SF_MALLOC_N(w->dphi, B * P), SF_MALLOC_N(w->demb, B * Fk),
					  SF_CALLOC_N(w->grad, model->n_params)))
		return sf_fail(env, SF_ENOMEM, "out of memory for DeepFM batch scratch");
	st = nn_work_new(env, &model->tower, max_batch, &w->tw);
	if (st != SF_OK)
		deepfm_work_free(env, w);
	return st;
}

void
deepfm_work_free(sf_env *env, deepfm_work *w)
{
	sf_free_all(env, w->rows, w->vals, w->emb, w->sum, w->phi, w->hmask, w->q, w->dq, w->dphi,
				w->demb, w->grad);
	nn_work_free(env, &w->tw);
	memset(w, 0, sizeof(*w));
}

void
deepfm_batch_inputs(const deepfm_model *model, deepfm_work *w, const double *X,
					const uint32_t *idx, int m)
{
	uint32_t	F = deepfm_fields(model);
	int			i;
	uint32_t	f;

	for (i = 0; i < m; i++)
	{
		const double *x = X + (size_t) (idx ? idx[i] : (uint32_t) i) * F;

		for (f = 0; f < F; f++)
			field_input(model, f, x[f], &w->rows[(size_t) i * F + f], &w->vals[(size_t) i * F + f]);
	}
}

void
deepfm_forward(const deepfm_model *model, deepfm_work *w, int m, double dropout, sf_rng *rng)
{
	uint32_t	F = deepfm_fields(model);
	int			k = model->k;
	int			P = model->n_phi;
	int			L = model->m - 1;
	const nn_net *tower = &model->tower;
	int			H = tower->layers[tower->n_layers - 1].n_out;
	int			train = dropout > 0.0 && rng != NULL;
	float		scale = train ? (float) (1.0 / (1.0 - dropout)) : 1.0f;
	const float *h;
	int			i,
				d,
				j;
	uint32_t	f;

	/* embeddings, first-order terms, FM pairwise term */
	for (i = 0; i < m; i++)
	{
		float	   *e = w->emb + (size_t) i * F * k;
		float	   *phi = w->phi + (size_t) i * P;
		float	   *sum = w->sum + (size_t) i * k;

		memset(sum, 0, sizeof(float) * k);
		for (d = 0; d < k; d++)
			phi[F + d] = 0.0f;	/* sum of squares for now */
		for (f = 0; f < F; f++)
		{
			uint32_t	r = w->rows[(size_t) i * F + f];
			float		v = w->vals[(size_t) i * F + f];
			const float *src = model->embed + (size_t) r * k;
			float	   *ef = e + (size_t) f * k;

			phi[f] = model->first[r] * v;
			for (d = 0; d < k; d++)
			{
				ef[d] = src[d] * v;
				sum[d] += ef[d];
				phi[F + d] += ef[d] * ef[d];
			}
		}
		for (d = 0; d < k; d++)
			phi[F + d] = 0.5f * (sum[d] * sum[d] - phi[F + d]);
	}

	/* deep component; dropout on its last layer goes into the head's copy */
	nn_forward(tower, &w->tw, w->emb, m, dropout, rng);
	h = w->tw.act[tower->n_layers - 1];
	for (i = 0; i < m; i++)
	{
		float	   *dst = w->phi + (size_t) i * P + F + k;
		const float *src = h + (size_t) i * H;

		if (train)
		{
			uint8_t    *mk = w->hmask + (size_t) i * H;

			for (j = 0; j < H; j++)
			{
				mk[j] = sf_rng_uniform(rng) >= dropout;
				dst[j] = mk[j] ? src[j] * scale : 0.0f;
			}
		}
		else
			memcpy(dst, src, sizeof(float) * H);
	}
	w->tw.dropout = train ? dropout : 0.0;

	/* multi-output head: q = phi U + c */
	sf_sgemm(0, 0, m, L, P, 1.0f, w->phi, P, model->head_w, L, 0.0f, w->q, L);
	for (i = 0; i < m; i++)
	{
		float	   *q = w->q + (size_t) i * L;

		for (j = 0; j < L; j++)
			q[j] += model->head_b[j];
	}
}

double
deepfm_batch_loss(const deepfm_model *model, const deepfm_work *w, const float *y, int m)
{
	int			L = model->m - 1;
	double		total = 0.0;
	int			i,
				j;

	for (i = 0; i < m; i++)
	{
		const float *q = w->q + (size_t) i * L;
		double		s = 0.0;

		for (j = 0; j < L; j++)
		{
			double		tau = (double) (j + 1) / model->m;
			double		r = (double) y[i] - (double) q[j];

			s += r >= 0.0 ? tau * r : (tau - 1.0) * r;
		}
		total += s / L;
	}
	return total;
}

void
deepfm_backward(const deepfm_model *model, deepfm_work *w, const float *y, int m,
				int norm_rows, double weight_decay)
{
	uint32_t	F = deepfm_fields(model);
	int			k = model->k;
	int			P = model->n_phi;
	int			L = model->m - 1;
	const nn_net *tower = &model->tower;
	int			Lt = tower->n_layers;
	int			H = tower->layers[Lt - 1].n_out;
	size_t		off_head_w = (size_t) (model->head_w - model->params);
	size_t		off_head_b = (size_t) (model->head_b - model->params);
	size_t		off_first = (size_t) (model->first - model->params);
	float	   *g_embed = w->grad;
	float	   *g_first = w->grad + off_first;
	float	   *g_hw = w->grad + off_head_w;
	float	   *g_hb = w->grad + off_head_b;
	float		inv = 1.0f / ((float) norm_rows * (float) L);
	float		wd = (float) weight_decay;
	float		scale = w->tw.dropout > 0.0 ? (float) (1.0 / (1.0 - w->tw.dropout)) : 1.0f;
	const float *h = w->tw.act[Lt - 1];
	float	   *dh = w->tw.delta[Lt - 1];
	size_t		s;
	int			i,
				j,
				d;
	uint32_t	f;

	/* dLoss/dq: the pinball subgradient, averaged over rows and levels */
	for (i = 0; i < m; i++)
	{
		const float *q = w->q + (size_t) i * L;
		float	   *dq = w->dq + (size_t) i * L;

		for (j = 0; j < L; j++)
		{
			float		tau = (float) (j + 1) / (float) model->m;

			dq[j] = (y[i] > q[j] ? -tau : 1.0f - tau) * inv;
		}
	}

	/* head: dU = phi^T dq, dc = column sums, dphi = dq U^T */
	sf_sgemm(1, 0, P, L, m, 1.0f, w->phi, P, w->dq, L, 0.0f, g_hw, L);
	if (wd > 0.0f)
		for (s = 0; s < (size_t) P * L; s++)
			g_hw[s] += wd * model->head_w[s];
	memset(g_hb, 0, sizeof(float) * L);
	for (i = 0; i < m; i++)
		for (j = 0; j < L; j++)
			g_hb[j] += w->dq[(size_t) i * L + j];
	sf_sgemm(0, 1, m, P, L, 1.0f, w->dq, L, model->head_w, L, 0.0f, w->dphi, P);

	/* deep component: through the head's dropout and the last ReLU, then nn_backprop */
	for (i = 0; i < m; i++)
	{
		const float *dp = w->dphi + (size_t) i * P + F + k;
		const float *hr = h + (size_t) i * H;
		float	   *dr = dh + (size_t) i * H;

		for (j = 0; j < H; j++)
		{
			float		g = hr[j] > 0.0f ? dp[j] : 0.0f;

			if (w->tw.dropout > 0.0)
				g = w->hmask[(size_t) i * H + j] ? g * scale : 0.0f;
			dr[j] = g;
		}
	}
	nn_backprop(tower, &w->tw, w->emb, m, weight_decay, w->demb);

	/* embeddings and first-order weights: dense gradient, scattered per row */
	memset(g_embed, 0, sizeof(float) * (size_t) model->n_rows_embed * k);
	memset(g_first, 0, sizeof(float) * (size_t) model->n_rows_embed);
	for (i = 0; i < m; i++)
	{
		const float *e = w->emb + (size_t) i * F * k;
		const float *de = w->demb + (size_t) i * F * k;
		const float *sum = w->sum + (size_t) i * k;
		const float *dphi = w->dphi + (size_t) i * P;

		for (f = 0; f < F; f++)
		{
			uint32_t	r = w->rows[(size_t) i * F + f];
			float		v = w->vals[(size_t) i * F + f];
			float	   *ge = g_embed + (size_t) r * k;

			g_first[r] += dphi[f] * v;
			for (d = 0; d < k; d++)
			{
				float		g = de[(size_t) f * k + d] +
					dphi[F + d] * (sum[d] - e[(size_t) f * k + d]);

				ge[d] += g * v;
			}
		}
	}
	if (wd > 0.0f)
	{
		for (s = 0; s < (size_t) model->n_rows_embed * k; s++)
			g_embed[s] += wd * model->embed[s];
		for (s = 0; s < (size_t) model->n_rows_embed; s++)
			g_first[s] += wd * model->first[s];
	}
}

/* ------------------------------------------------------------ scoring */

size_t
deepfm_scratch_size(const deepfm_model *model)
{
	size_t		F = deepfm_fields(model);

	/* embeddings as doubles, phi, the tower's 2 x widest floats, h */
	return F * (size_t) model->k + (size_t) model->n_phi +
		(size_t) nn_net_max_width(&model->tower) + (size_t) model->tower.layers[model->tower.n_layers - 1].n_out;
}

/*
 * phi (P doubles) = [y1, y2, h] for one checked row x; tmp holds
 * deepfm_scratch_size doubles and phi may point into it (its second region).
 */
static double *
phi_row(const deepfm_model *model, const double *x, double *tmp)
{
	uint32_t	F = deepfm_fields(model);
	int			k = model->k;
	int			P = model->n_phi;
	int			H = model->tower.layers[model->tower.n_layers - 1].n_out;
	double	   *emb = tmp;
	double	   *phi = emb + (size_t) F * k;
	float	   *ttmp = (float *) (void *) (phi + P);
	double	   *hout = (double *) (void *) (ttmp + 2 * (size_t) nn_net_max_width(&model->tower));
	int			d,
				j;
	uint32_t	f;

	for (d = 0; d < k; d++)
		phi[F + d] = 0.0;
	for (f = 0; f < F; f++)
	{
		uint32_t	r;
		float		v;
		const float *src;

		field_input(model, f, x[f], &r, &v);
		src = model->embed + (size_t) r * k;
		phi[f] = (double) (model->first[r] * v);
		for (d = 0; d < k; d++)
		{
			float		e = src[d] * v;

			emb[(size_t) f * k + d] = e;
			phi[F + d] += (double) e * e;
		}
	}
	for (d = 0; d < k; d++)
	{
		double		s = 0.0;

		for (f = 0; f < F; f++)
			s += emb[(size_t) f * k + d];
		phi[F + d] = 0.5 * (s * s - phi[F + d]);
	}
	nn_predict_row(&model->tower, emb, hout, ttmp);
	for (j = 0; j < H; j++)
		phi[F + k + j] = hout[j];
	return phi;
}

void
deepfm_predict_row(const deepfm_model *model, const double *x, double *q, double *tmp)
{
	const double *phi = phi_row(model, x, tmp);
	int			P = model->n_phi;
	int			L = model->m - 1;
	int			j,
				p;

	for (j = 0; j < L; j++)
		q[j] = model->head_b[j];
	for (p = 0; p < P; p++)
	{
		const float *u = model->head_w + (size_t) p * L;
		double		a = phi[p];

		if (a == 0.0)
			continue;
		for (j = 0; j < L; j++)
			q[j] += a * u[j];
	}
	for (j = 0; j < L; j++)
		q[j] = model->y_center + model->y_scale * q[j];
}

void
deepfm_refit_row(const deepfm_model *model, const double *x, double *q, double *tmp)
{
	const double *phi = phi_row(model, x, tmp);
	int			p = model->refit_p;
	int			j,
				c;

	for (j = 0; j < model->refit_m - 1; j++)
	{
		const double *b = model->refit_coef + (size_t) j * p;
		double		v = b[0];

		for (c = 1; c < p; c++)
			v += b[c] * phi[model->refit_cols[c - 1]];
		q[j] = v;
	}
}

sf_status
deepfm_curve(sf_env *env, const deepfm_model *model, const double *x, sf_qcurve *out)
{
	double	   *q;
	double	   *tmp;
	sf_status	st;
	uint32_t	f;

	int			m = model->refit_m > 0 ? model->refit_m : model->m;

	st = deepfm_check_row(env, model, x);
	if (st != SF_OK)
		return st;
	/* a value far outside the training data whose z-score leaves float32
	 * would reach the network as infinity: refused, never a NaN curve */
	for (f = 0; f < model->n_numeric; f++)
		if (fabs((x[f] - model->num_mean[f]) / model->num_scale[f]) > FLT_MAX)
			return sf_fail(env, SF_EDATA,
						   "numeric field %u (%g) is %g standard deviations from its training mean, "
						   "out of the float4 range the network reads", f + 1, x[f],
						   (x[f] - model->num_mean[f]) / model->num_scale[f]);
	q = sf_malloc(env, (size_t) (m - 1) * sizeof(double));
	tmp = sf_malloc(env, deepfm_scratch_size(model) * sizeof(double));
	if (q == NULL || tmp == NULL)
	{
		sf_free(env, q);
		sf_free(env, tmp);
		return sf_fail(env, SF_ENOMEM, "out of memory for %d quantiles", m - 1);
	}
	if (model->refit_m > 0)
		deepfm_refit_row(model, x, q, tmp);
	else
		deepfm_predict_row(model, x, q, tmp);
	/* the refit's curve takes the same rule, on the refit's grid */
	st = sf_qcurve_build_tail(env, q, m, model->transform, model->tail, out);
	sf_free(env, q);
	sf_free(env, tmp);
	return st;
}
