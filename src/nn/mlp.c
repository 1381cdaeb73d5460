/*
 * mlp.c
 *	  Multi-layer perceptron: parameters, training, scoring and the model
 *	  body.
 *
 * Training (mlp_fit): column statistics over the non-missing values
 * (population standard deviation, as scikit-learn's StandardScaler), one
 * float32 copy of the standardised inputs with missing values at 0 (the
 * mean) and optional missing indicators, a seeded validation split when
 * early stopping is on, per-row weights from class_weight and
 * scale_pos_weight, then epochs of shuffled mini-batches through nn_forward,
 * nn_backward and nn_adam_step.  The batch buffers are allocated once; no
 * allocation happens per row or per batch.  With early stopping the weights
 * of the epoch with the lowest validation loss are kept.
 *
 * RNG streams from the seed: 1 validation split, 2 initialisation, 3 epoch
 * shuffles, 4 dropout.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scfrisk/mlp.h"

static const char *const mlp_objectives[] = {"binary:logistic", "reg:squarederror", NULL};
static const char *const mlp_activations[] = {"identity", "relu", "tanh", "sigmoid", NULL};
static const char *const mlp_class_weights[] = {"none", "balanced", NULL};

static const sf_param_spec mlp_specs[] = {
	{"objective", SF_PT_ENUM, offsetof(mlp_params, objective), 0, 0, 0, 0, 0, mlp_objectives, NULL,
	"binary:logistic (sigmoid, log-loss) or reg:squarederror"},
	{"hidden", SF_PT_INT_LIST, offsetof(mlp_params, hidden), 0, 1, NN_MAX_UNITS, 0, 0, NULL, NULL,
	"hidden layer sizes, default [64, 32]"},
	{"activation", SF_PT_ENUM, offsetof(mlp_params, activation), 1, 0, 0, 0, 0, mlp_activations, NULL,
	"activation of the hidden layers"},
	{"epochs", SF_PT_INT, offsetof(mlp_params, epochs), 100, 1, 100000, 0, 0, NULL, NULL,
	"passes over the training rows"},
	{"batch_size", SF_PT_INT, offsetof(mlp_params, batch_size), 200, 1, 65536, 0, 0, NULL, NULL,
	"rows per Adam step"},
	{"learning_rate", SF_PT_DOUBLE, offsetof(mlp_params, learning_rate), 0.001, 0, 10, 1, 0, NULL, NULL,
	"Adam step size"},
	{"weight_decay", SF_PT_DOUBLE, offsetof(mlp_params, weight_decay), 0.0, 0, 10, 0, 0, NULL, NULL,
	"L2 rate added to the weight gradient"},
	{"dropout", SF_PT_DOUBLE, offsetof(mlp_params, dropout), 0.0, 0, 1, 0, 1, NULL, NULL,
	"drop probability of hidden units"},
	{"early_stopping_rounds", SF_PT_INT, offsetof(mlp_params, early_stopping_rounds), 0, 0, 100000, 0, 0, NULL, NULL,
	"epochs without validation improvement before stopping, 0 = off"},
	{"validation_share", SF_PT_DOUBLE, offsetof(mlp_params, validation_share), 0.1, 0, 1, 1, 1, NULL, NULL,
	"share of rows held out for early stopping"},
	{"class_weight", SF_PT_ENUM, offsetof(mlp_params, class_weight), 0, 0, 0, 0, 0, mlp_class_weights, NULL,
	"none or balanced (n / (2 n_class))"},
	{"scale_pos_weight", SF_PT_DOUBLE, offsetof(mlp_params, scale_pos_weight), 1.0, 0, 1e6, 1, 0, NULL, NULL,
	"extra weight of positive rows"},
	{"missing_indicator", SF_PT_BOOL, offsetof(mlp_params, missing_indicator), 0, 0, 1, 0, 0, NULL, NULL,
	"add a 0/1 input per feature with missing training values"},
	{"seed", SF_PT_INT64, offsetof(mlp_params, seed), 0, 0, 9.2e18, 0, 0, NULL, NULL,
	"seed of the split, initialisation, shuffles and dropout"},
};

const sf_param_table mlp_params_table = {
	"mlp_train", mlp_specs, (int) (sizeof(mlp_specs) / sizeof(mlp_specs[0])), NULL
};

void
mlp_params_default_hidden(mlp_params *p)
{
	p->hidden.n = 2;
	p->hidden.v[0] = 64;
	p->hidden.v[1] = 32;
}

sf_status
mlp_params_check(sf_env *env, const mlp_params *p)
{
	if (p->hidden.n < 1)
		return sf_fail(env, SF_EINVAL, "parameter \"hidden\" must list at least one layer size");
	if (p->hidden.n > NN_MAX_LAYERS - 1)
		return sf_fail(env, SF_EINVAL, "parameter \"hidden\" lists %d layers, at most %d are allowed",
					   p->hidden.n, NN_MAX_LAYERS - 1);
	if (p->objective == MLP_OBJ_REGRESSION && (p->class_weight != MLP_CW_NONE || p->scale_pos_weight != 1.0))
		return sf_fail(env, SF_EINVAL, "class_weight and scale_pos_weight apply only to binary:logistic");
	return SF_OK;
}

void
mlp_free(sf_env *env, mlp_model *m)
{
	sf_free(env, m->mean);
	sf_free(env, m->scale);
	sf_free(env, m->indicator);
	nn_net_free(env, &m->net);
	m->mean = m->scale = NULL;
	m->indicator = NULL;
}

static sf_status
mlp_alloc_inputs(sf_env *env, mlp_model *m, uint32_t d)
{
	m->n_features = d;
	m->mean = sf_calloc(env, d, sizeof(double));
	m->scale = sf_calloc(env, d, sizeof(double));
	m->indicator = sf_calloc(env, d, 1);
	if (!m->mean || !m->scale || !m->indicator)
		return sf_fail(env, SF_ENOMEM, "out of memory for input statistics");
	return SF_OK;
}

/*
 * Training rows as doubles or as float32 (the row store's network rows):
 * exactly one of xd, xf is set.  A float32 element widens exactly, so both
 * give the same model for the same values.
 */
typedef struct mlp_rows
{
	const double *xd;			/* (n, d) doubles, or NULL */
	const float *xf;			/* (n, d) float32, or NULL */
} mlp_rows;

static inline double
mlp_rows_get(const mlp_rows *r, size_t k)
{
	return r->xd ? r->xd[k] : (double) r->xf[k];
}

/* Standardised network input of row 'row' of r into out (n_inputs floats). */
static inline void
mlp_input_row_of(const mlp_model *m, const mlp_rows *r, size_t row, float *out)
{
	uint32_t	j;
	int			k = (int) m->n_features;
	size_t		base = row * m->n_features;

	for (j = 0; j < m->n_features; j++)
	{
		double		v = mlp_rows_get(r, base + j);
		int			miss = isnan(v);

		out[j] = miss ? 0.0f : (float) ((v - m->mean[j]) / m->scale[j]);
		if (m->indicator[j])
			out[k++] = miss ? 1.0f : 0.0f;
	}
}

/* Standardised network input of one raw row into out (n_inputs floats). */
static inline void
mlp_input_row(const mlp_model *m, const double *x, float *out)
{
	mlp_rows	r = {x, NULL};

	mlp_input_row_of(m, &r, 0, out);
}

/* Mean weighted loss over rows idx[0..n) of the float matrix, in chunks. */
static double
mlp_eval_loss(const mlp_model *m, nn_work *work, const nn_loss *loss, const float *xs,
			  const float *ys, const float *sw, const uint32_t *idx, size_t n,
			  float *xb, float *yb, float *wb)
{
	double		total = 0.0,
				wsum = 0.0;
	size_t		s;
	int			ni = m->n_inputs;

	for (s = 0; s < n; s += (size_t) work->max_batch)
	{
		int			bm = (int) ((n - s) < (size_t) work->max_batch ? (n - s) : (size_t) work->max_batch);
		int			i;

		for (i = 0; i < bm; i++)
		{
			uint32_t	r = idx[s + i];

			memcpy(xb + (size_t) i * ni, xs + (size_t) r * ni, sizeof(float) * ni);
			yb[i] = ys[r];
			wb[i] = sw[r];
			wsum += sw[r];
		}
		nn_forward(&m->net, work, xb, bm, 0.0, NULL);
		total += nn_loss_value(loss, work->act[m->net.n_layers - 1], yb, wb, bm);
	}
	return wsum > 0 ? total / wsum : 0.0;
}

static sf_status
mlp_fit_rows(sf_env *env, const mlp_params *p, const mlp_rows *x, const double *y,
			 size_t n, int d, mlp_model *out)
{
	mlp_model	m;
	sf_status	st;
	sf_rng		rng_split,
				rng_init,
				rng_shuffle,
				rng_drop;
	float	   *xs = NULL,
			   *ys = NULL,
			   *sw = NULL,
			   *xb = NULL,
			   *yb = NULL,
			   *wb = NULL,
			   *best = NULL;
	uint32_t   *idx = NULL;
	size_t		n_val = 0,
				n_tr,
				i;
	int			widths[NN_MAX_LAYERS + 1];
	nn_activation acts[NN_MAX_LAYERS];
	nn_work		work;
	nn_adam		opt;
	nn_loss		loss;
	int			j,
				l,
				bs,
				epoch,
				since_best = 0,
				ni;
	double		best_val = INFINITY;
	int			early = p->early_stopping_rounds > 0;

	memset(&m, 0, sizeof(m));
	memset(&work, 0, sizeof(work));
	memset(&opt, 0, sizeof(opt));
	memset(out, 0, sizeof(*out));
	if ((st = mlp_params_check(env, p)) != SF_OK)
		return st;
	if (n < 2)
		return sf_fail(env, SF_EDATA, "training data needs at least 2 rows, got %zu", n);
	if (n > UINT32_MAX)
		return sf_fail(env, SF_ELIMIT, "training data has more than %u rows", UINT32_MAX);
	if (d < 1 || d > NN_MAX_UNITS)
		return sf_fail(env, SF_EDATA, "feature width %d is out of range 1..%d", d, NN_MAX_UNITS);
	{
		size_t		pos = 0;

		for (i = 0; i < n; i++)
		{
			if (!isfinite(y[i]))
				return sf_fail(env, SF_EDATA, "label of row %zu is not finite", i + 1);
			if (p->objective == MLP_OBJ_BINARY)
			{
				if (y[i] != 0.0 && y[i] != 1.0)
					return sf_fail(env, SF_EDATA, "label of row %zu is %g, binary:logistic needs 0 or 1",
								   i + 1, y[i]);
				pos += y[i] == 1.0;
			}
		}
		if (p->objective == MLP_OBJ_BINARY && (pos == 0 || pos == n))
			return sf_fail(env, SF_EDATA, "training data has only one class (%s)",
						   pos == 0 ? "all labels 0" : "all labels 1");
	}

	/* input statistics */
	if ((st = mlp_alloc_inputs(env, &m, (uint32_t) d)) != SF_OK)
		goto done;
	m.objective = p->objective;
	ni = d;
	for (j = 0; j < d; j++)
	{
		double		s = 0.0,
					ss = 0.0,
					mu;
		size_t		cnt = 0;

		for (i = 0; i < n; i++)
		{
			double		v = mlp_rows_get(x, i * (size_t) d + j);

			if (isnan(v))
				continue;
			if (!isfinite(v))
			{
				st = sf_fail(env, SF_EDATA, "feature %d of row %zu is infinite", j + 1, i + 1);
				goto done;
			}
			s += v;
			cnt++;
		}
		mu = cnt ? s / cnt : 0.0;
		for (i = 0; i < n; i++)
		{
			double		v = mlp_rows_get(x, i * (size_t) d + j);

			if (!isnan(v))
				ss += (v - mu) * (v - mu);
		}
		m.mean[j] = mu;
		m.scale[j] = cnt && ss > 0 ? sqrt(ss / cnt) : 1.0;
		if (!(m.scale[j] > 1e-300) || !isfinite(m.scale[j]))
			m.scale[j] = 1.0;
		if (p->missing_indicator && cnt < n)
		{
			m.indicator[j] = 1;
			ni++;
		}
	}
	if (ni > NN_MAX_UNITS)
	{
		st = sf_fail(env, SF_ELIMIT, "%d network inputs exceed the cap of %d", ni, NN_MAX_UNITS);
		goto done;
	}
	m.n_inputs = ni;

	/* the network */
	widths[0] = ni;
	for (l = 0; l < p->hidden.n; l++)
	{
		widths[l + 1] = p->hidden.v[l];
		acts[l] = (nn_activation) p->activation;
	}
	widths[p->hidden.n + 1] = 1;
	acts[p->hidden.n] = p->objective == MLP_OBJ_BINARY ? NN_ACT_SIGMOID : NN_ACT_IDENTITY;
	if ((st = nn_net_new(env, &m.net, p->hidden.n + 1, widths, acts)) != SF_OK)
		goto done;
	sf_rng_init(&rng_split, (uint64_t) p->seed, 1);
	sf_rng_init(&rng_init, (uint64_t) p->seed, 2);
	sf_rng_init(&rng_shuffle, (uint64_t) p->seed, 3);
	sf_rng_init(&rng_drop, (uint64_t) p->seed, 4);
	nn_net_init_weights(&m.net, &rng_init);

	/* standardised float copy, labels, row weights */
	xs = sf_calloc(env, n, sizeof(float) * (size_t) ni);
	ys = sf_malloc(env, n * sizeof(float));
	sw = sf_malloc(env, n * sizeof(float));
	idx = sf_malloc(env, n * sizeof(uint32_t));
	if (!xs || !ys || !sw || !idx)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory for %zu training rows", n);
		goto done;
	}
	for (i = 0; i < n; i++)
	{
		mlp_input_row_of(&m, x, i, xs + i * (size_t) ni);
		ys[i] = (float) y[i];
		idx[i] = (uint32_t) i;
	}

	/* validation split: the first n_val of a seeded permutation */
	if (early)
	{
		sf_rng_shuffle_u32(&rng_split, idx, (uint32_t) n);
		n_val = (size_t) floor(p->validation_share * (double) n);
		if (n_val < 1)
			n_val = 1;
		if (n_val >= n)
			n_val = n - 1;
	}
	n_tr = n - n_val;

	/* row weights (class weights from the training rows) */
	{
		double		wpos = 1.0,
					wneg = 1.0;

		if (p->objective == MLP_OBJ_BINARY)
		{
			size_t		pos = 0;

			for (i = n_val; i < n; i++)
				pos += ys[idx[i]] == 1.0f;
			if (p->class_weight == MLP_CW_BALANCED && pos > 0 && pos < n_tr)
			{
				wpos = (double) n_tr / (2.0 * pos);
				wneg = (double) n_tr / (2.0 * (n_tr - pos));
			}
			wpos *= p->scale_pos_weight;
		}
		for (i = 0; i < n; i++)
			sw[i] = (float) (ys[i] == 1.0f && p->objective == MLP_OBJ_BINARY ? wpos : wneg);
	}

	bs = p->batch_size < (int) n_tr ? p->batch_size : (int) n_tr;
	if ((st = nn_work_new(env, &m.net, bs, &work)) != SF_OK)
		goto done;
	if ((st = nn_adam_new(env, &opt, m.net.n_params, p->learning_rate)) != SF_OK)
		goto done;
	xb = sf_malloc(env, sizeof(float) * (size_t) bs * ni);
	yb = sf_malloc(env, sizeof(float) * (size_t) bs);
	wb = sf_malloc(env, sizeof(float) * (size_t) bs);
	if (early)
		best = sf_malloc(env, sizeof(float) * m.net.n_params);
	if (!xb || !yb || !wb || (early && !best))
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory for training batches");
		goto done;
	}
	loss.kind = p->objective == MLP_OBJ_BINARY ? NN_LOSS_LOGLOSS : NN_LOSS_SQUARED;
	loss.n_out = 1;
	loss.taus = NULL;

	for (epoch = 1; epoch <= p->epochs; epoch++)
	{
		uint32_t   *tr = idx + n_val;
		double		tl = 0.0,
					tw = 0.0;
		size_t		s;
		int			batch_no = 0;

		sf_rng_shuffle_u32(&rng_shuffle, tr, (uint32_t) n_tr);
		for (s = 0; s < n_tr; s += (size_t) bs)
		{
			int			bm = (int) ((n_tr - s) < (size_t) bs ? (n_tr - s) : (size_t) bs);
			int			r;

			if ((batch_no++ & 15) == 0 && sf_interrupted(env))
			{
				st = sf_fail(env, SF_ECANCEL, "mlp training canceled");
				goto done;
			}
			for (r = 0; r < bm; r++)
			{
				uint32_t	row = tr[s + r];

				memcpy(xb + (size_t) r * ni, xs + (size_t) row * ni, sizeof(float) * ni);
				yb[r] = ys[row];
				wb[r] = sw[row];
				tw += sw[row];
			}
			nn_forward(&m.net, &work, xb, bm, p->dropout, p->dropout > 0 ? &rng_drop : NULL);
			tl += nn_loss_value(&loss, work.act[m.net.n_layers - 1], yb, wb, bm);
			nn_backward(&m.net, &work, &loss, xb, yb, wb, bm, p->weight_decay);
			nn_adam_step(&opt, m.net.params, work.grad);
		}
		tl = tw > 0 ? tl / tw : 0.0;
		if (!isfinite(tl))
		{
			st = sf_fail(env, SF_ENUMERIC, "mlp training diverged in epoch %d (try a smaller learning_rate)",
						 epoch);
			goto done;
		}
		m.epochs_run = epoch;
		if (early)
		{
			double		vl = mlp_eval_loss(&m, &work, &loss, xs, ys, sw, idx, n_val, xb, yb, wb);

			if (vl < best_val)
			{
				best_val = vl;
				m.best_epoch = epoch;
				m.train_loss = tl;
				m.valid_loss = vl;
				memcpy(best, m.net.params, sizeof(float) * m.net.n_params);
				since_best = 0;
			}
			else if (++since_best >= p->early_stopping_rounds)
				break;
		}
		else
		{
			m.best_epoch = epoch;
			m.train_loss = tl;
			m.valid_loss = NAN;
		}
	}
	if (early && m.best_epoch > 0)
		memcpy(m.net.params, best, sizeof(float) * m.net.n_params);
	for (i = 0; i < m.net.n_params; i++)
		if (!isfinite(m.net.params[i]))
		{
			st = sf_fail(env, SF_ENUMERIC, "mlp training produced non-finite weights (try a smaller learning_rate)");
			goto done;
		}
	st = SF_OK;

done:
	nn_work_free(env, &work);
	nn_adam_free(env, &opt);
	sf_free(env, xs);
	sf_free(env, ys);
	sf_free(env, sw);
	sf_free(env, idx);
	sf_free(env, xb);
	sf_free(env, yb);
	sf_free(env, wb);
	sf_free(env, best);
	if (st != SF_OK)
		mlp_free(env, &m);
	else
		*out = m;
	return st;
}

sf_status
mlp_fit(sf_env *env, const mlp_params *p, const double *x, const double *y,
		size_t n, int d, mlp_model *out)
{
	mlp_rows	r = {x, NULL};

	return mlp_fit_rows(env, p, &r, y, n, d, out);
}

sf_status
mlp_fit_f32(sf_env *env, const mlp_params *p, const float *x, const double *y,
			size_t n, int d, mlp_model *out)
{
	mlp_rows	r = {NULL, x};

	return mlp_fit_rows(env, p, &r, y, n, d, out);
}

/*
 * The row in double precision, standardised without rounding to float: the
 * decoder's bound (mlp_check_bound) makes this finite for every input within
 * the float32 range.  Kept out of line so the common path keeps a small stack.
 */
static double __attribute__((noinline))
mlp_predict_f64(const mlp_model *m, const double *x)
{
	double		xin[NN_MAX_UNITS];
	double		tmp[2 * NN_MAX_UNITS];
	double		o;
	uint32_t	j;
	int			k = (int) m->n_features;

	for (j = 0; j < m->n_features; j++)
	{
		int			miss = isnan(x[j]);

		xin[j] = miss ? 0.0 : (x[j] - m->mean[j]) / m->scale[j];
		if (m->indicator[j])
			xin[k++] = miss ? 1.0 : 0.0;
	}
	nn_predict_row_f64(&m->net, xin, &o, tmp);
	return o;
}

double
mlp_predict(const mlp_model *m, const double *x)
{
	float		in[NN_MAX_UNITS];
	double		xin[NN_MAX_UNITS];
	float		tmp[2 * NN_MAX_UNITS];
	double		o;
	int			j;

	mlp_input_row(m, x, in);
	for (j = 0; j < m->n_inputs; j++)
		xin[j] = in[j];
	nn_predict_row(&m->net, xin, &o, tmp);
	/* float32 overflowed (an input far outside the training data): the same
	 * network in double, so finite input never gives NaN or infinity */
	if (!isfinite(o))
		o = mlp_predict_f64(m, x);
	return o;
}

/* ------------------------------------------------------------ encoding */

void
mlp_encode_body(const mlp_model *m, sf_buf *b, uint16_t tag_base)
{
	size_t		mark;
	uint32_t	j;

	/* input: u8 objective, u32 n_features, u32 n_inputs, per feature f64 mean, f64 scale, u8 indicator */
	mark = sf_section_begin(b, tag_base);
	sf_buf_put_u8(b, (uint8_t) m->objective);
	sf_buf_put_u32(b, m->n_features);
	sf_buf_put_u32(b, (uint32_t) m->n_inputs);
	for (j = 0; j < m->n_features; j++)
	{
		sf_buf_put_f64(b, m->mean[j]);
		sf_buf_put_f64(b, m->scale[j]);
		sf_buf_put_u8(b, m->indicator[j]);
	}
	sf_section_end(b, mark);
	mark = sf_section_begin(b, (uint16_t) (tag_base + 1));
	nn_net_encode(&m->net, b);
	sf_section_end(b, mark);
}

static void
put_json_double(sf_buf *b, double v)
{
	char		t[40];
	int			n;

	if (!isfinite(v))
		n = snprintf(t, sizeof(t), "null");
	else
		n = snprintf(t, sizeof(t), "%.17g", v);
	sf_buf_put_bytes(b, t, (size_t) n);
}

static void
put_text(sf_buf *b, const char *s)
{
	sf_buf_put_bytes(b, s, strlen(s));
}

void
mlp_info_json(const mlp_model *m, sf_buf *b)
{
	char		t[256];
	int			l,
				n_ind = 0;
	uint32_t	j;

	for (j = 0; j < m->n_features; j++)
		n_ind += m->indicator[j];
	put_text(b, "{\"layers\": [");
	snprintf(t, sizeof(t), "%d", m->net.layers[0].n_in);
	put_text(b, t);
	for (l = 0; l < m->net.n_layers; l++)
	{
		snprintf(t, sizeof(t), ", %d", m->net.layers[l].n_out);
		put_text(b, t);
	}
	snprintf(t, sizeof(t), "], \"weights\": %zu, \"missing_indicators\": %d, \"epochs_run\": %d, "
			 "\"best_epoch\": %d, \"train_loss\": ", m->net.n_params, n_ind, m->epochs_run, m->best_epoch);
	put_text(b, t);
	put_json_double(b, m->train_loss);
	put_text(b, ", \"valid_loss\": ");
	put_json_double(b, m->valid_loss);
	put_text(b, "}");
}

void
mlp_body_json(const mlp_model *m, sf_buf *b)
{
	char		t[128];
	int			l,
				n_ind = 0;
	uint32_t	j;

	for (j = 0; j < m->n_features; j++)
		n_ind += m->indicator[j];
	put_text(b, "{\"objective\": \"");
	put_text(b, mlp_objectives[m->objective]);
	snprintf(t, sizeof(t), "\", \"layers\": [%d", m->net.layers[0].n_in);
	put_text(b, t);
	for (l = 0; l < m->net.n_layers; l++)
	{
		snprintf(t, sizeof(t), ", %d", m->net.layers[l].n_out);
		put_text(b, t);
	}
	snprintf(t, sizeof(t), "], \"weights\": %zu, \"missing_indicators\": %d}", m->net.n_params, n_ind);
	put_text(b, t);
}

/*
 * Refuse a network that could overflow double precision for an input within
 * the float32 range (the range training and the SQL scorers accept): a
 * standardised feature is at most (FLT_MAX + |mean|) / scale, an indicator 1.
 * Trained networks are many orders of magnitude inside the bound; crafted
 * weights near FLT_MAX are not.
 */
static sf_status
mlp_check_bound(sf_env *env, const mlp_model *m)
{
	int			w = nn_net_max_width(&m->net);
	double	   *in = sf_malloc(env, sizeof(double) * (size_t) (m->n_inputs + 2 * w));
	double		bound;
	uint32_t	j;
	int			k = (int) m->n_features;

	if (in == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding an mlp model");
	for (j = 0; j < m->n_features; j++)
	{
		in[j] = ((double) FLT_MAX + fabs(m->mean[j])) / m->scale[j];
		if (m->indicator[j])
			in[k++] = 1.0;
	}
	bound = nn_net_bound(&m->net, in, in + m->n_inputs);
	sf_free(env, in);
	if (!(bound <= NN_SAFE_BOUND))
		return sf_fail(env, SF_ECORRUPT,
					   "corrupted mlp model: its weights and feature scales can overflow for inputs in the float32 range");
	return SF_OK;
}

sf_status
mlp_decode_body(sf_env *env, const sf_container *c, uint16_t tag_base,
				uint32_t n_features, mlp_model *m)
{
	const sf_section *si = sf_container_find(c, tag_base);
	const sf_section *sn = sf_container_find(c, (uint16_t) (tag_base + 1));
	sf_reader	r;
	uint32_t	nf,
				ni,
				j,
				count = 0;
	uint8_t		obj;
	sf_status	st;

	memset(m, 0, sizeof(*m));
	m->valid_loss = NAN;
	if (si == NULL || sn == NULL)
		return sf_fail(env, SF_ECORRUPT, "corrupted mlp model: body section missing");
	sf_reader_init(&r, si->data, si->len);
	obj = sf_read_u8(&r);
	nf = sf_read_u32(&r);
	ni = sf_read_u32(&r);
	if (!sf_reader_ok(&r) || obj > MLP_OBJ_REGRESSION || nf != n_features || nf < 1 ||
		nf > NN_MAX_UNITS || ni < nf || ni > 2 * nf || ni > NN_MAX_UNITS ||
		!sf_reader_has(&r, nf, 17) || sf_reader_left(&r) != (size_t) nf * 17)
		return sf_fail(env, SF_ECORRUPT, "corrupted mlp model: bad input section");
	if ((st = mlp_alloc_inputs(env, m, nf)) != SF_OK)
		return st;
	m->objective = obj;
	for (j = 0; j < nf; j++)
	{
		m->mean[j] = sf_read_f64(&r);
		m->scale[j] = sf_read_f64(&r);
		m->indicator[j] = sf_read_u8(&r);
		if (!isfinite(m->mean[j]) || !isfinite(m->scale[j]) || !(m->scale[j] > 0) ||
			m->indicator[j] > 1)
		{
			mlp_free(env, m);
			return sf_fail(env, SF_ECORRUPT, "corrupted mlp model: bad statistics of feature %u", j + 1);
		}
		count += m->indicator[j];
	}
	if (nf + count != ni)
	{
		mlp_free(env, m);
		return sf_fail(env, SF_ECORRUPT, "corrupted mlp model: input width mismatch");
	}
	m->n_inputs = (int) ni;
	sf_reader_init(&r, sn->data, sn->len);
	if ((st = nn_net_decode(env, &r, &m->net)) != SF_OK)
	{
		mlp_free(env, m);
		return st == SF_ENOMEM ? st : sf_fail(env, SF_ECORRUPT, "corrupted mlp model: %s", env->msg);
	}
	if (sf_reader_left(&r) != 0 || m->net.layers[0].n_in != (int) ni ||
		m->net.layers[m->net.n_layers - 1].n_out != 1 ||
		m->net.layers[m->net.n_layers - 1].act !=
		(obj == MLP_OBJ_BINARY ? NN_ACT_SIGMOID : NN_ACT_IDENTITY))
	{
		mlp_free(env, m);
		return sf_fail(env, SF_ECORRUPT, "corrupted mlp model: network does not fit its inputs");
	}
	if ((st = mlp_check_bound(env, m)) != SF_OK)
		mlp_free(env, m);
	return st;
}

sf_status
mlp_encode(sf_env *env, const mlp_model *m, const mlp_params *p,
		   const char *const *names, uint64_t rows, sf_buf *b)
{
	size_t		mark;

	sf_container_begin(b, SF_KIND_MLP, m->n_features);
	mark = sf_section_begin(b, SF_TAG_PARAMS);
	sf_params_to_json(&mlp_params_table, p, b);
	sf_section_end(b, mark);
	if (names)
		sf_section_put_names(b, names, m->n_features);
	sf_section_put_u64(b, SF_TAG_TRAIN_ROWS, rows);
	sf_section_put_u64(b, SF_TAG_SEED, (uint64_t) p->seed);
	mark = sf_section_begin(b, SF_TAG_INFO);
	mlp_info_json(m, b);
	sf_section_end(b, mark);
	mlp_encode_body(m, b, MLP_TAG_INPUT);
	return sf_container_finish(b);
}

sf_status
mlp_decode(sf_env *env, const uint8_t *buf, size_t len, mlp_model *m)
{
	sf_container c;
	sf_status	st;

	memset(m, 0, sizeof(*m));
	if ((st = sf_container_decode_kind(env, buf, len, SF_KIND_MLP, &c)) != SF_OK)
		return st;
	return mlp_decode_body(env, &c, MLP_TAG_INPUT, c.n_features, m);
}
