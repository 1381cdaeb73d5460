/*
 * mlp.c
 *	  Multi-layer perceptron: parameters, scoring and the model body
 *	  (training is in mlp_train.c).
 *
 * The body is the input section (standardisation, indicators), the deep
 * net, and from 0.2.0 an optional linear skip section: a model without it is
 * a 0.1.0 model and scores as before (sigmoid output layer), a model with it
 * scores sigmoid(deep(x) + skip(x)) with an identity output layer.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mlp_int.h"
#include "scfrisk/sf_codec.h"
#include "scfrisk/sf_governance.h"

static const char *const mlp_objectives[] = {"binary:logistic", "reg:squarederror", NULL};
static const char *const mlp_activations[] = {"identity", "relu", "tanh", "sigmoid", NULL};
static const char *const mlp_class_weights[] = {"none", "balanced", NULL};

/*
 * Defaults (docs/mlp.md says why): early stopping after 10 epochs without
 * validation gain on a 20% share then a refit on every row, batches of 64,
 * weight decay 1e-3 and the linear skip, because a network trained to the
 * last epoch on a few hundred rows overfits and loses to logistic
 * regression.  The first 14 entries are the 0.1.0 keys (mlp_params_table_v1
 * writes them) with the new defaults; new keys go last.
 */
static const sf_param_spec mlp_specs[] = {
	{"objective", SF_PT_ENUM, offsetof(mlp_params, objective), 0, 0, 0, 0, 0, mlp_objectives, NULL,
	"binary:logistic (sigmoid, log-loss) or reg:squarederror"},
	{"hidden", SF_PT_INT_LIST, offsetof(mlp_params, hidden), 0, 1, NN_MAX_UNITS, 0, 0, NULL, NULL,
	"hidden layer sizes, default [64, 32]"},
	{"activation", SF_PT_ENUM, offsetof(mlp_params, activation), 1, 0, 0, 0, 0, mlp_activations, NULL,
	"activation of the hidden layers"},
	{"epochs", SF_PT_INT, offsetof(mlp_params, epochs), 100, 1, 100000, 0, 0, NULL, NULL,
	"passes over the training rows"},
	{"batch_size", SF_PT_INT, offsetof(mlp_params, batch_size), MLP_DEFAULT_BATCH_SIZE, 1, 65536, 0, 0, NULL, NULL,
	"rows per Adam step"},
	{"learning_rate", SF_PT_DOUBLE, offsetof(mlp_params, learning_rate), 0.001, 0, 10, 1, 0, NULL, NULL,
	"Adam step size"},
	{"weight_decay", SF_PT_DOUBLE, offsetof(mlp_params, weight_decay), MLP_DEFAULT_WEIGHT_DECAY, 0, 10, 0, 0,
		NULL, NULL,
	"L2 rate added to the weight gradient"},
	{"dropout", SF_PT_DOUBLE, offsetof(mlp_params, dropout), 0.0, 0, 1, 0, 1, NULL, NULL,
	"drop probability of hidden units"},
	{"early_stopping_rounds", SF_PT_INT, offsetof(mlp_params, early_stopping_rounds),
		MLP_DEFAULT_EARLY_STOPPING, 0, 100000, 0, 0, NULL, NULL,
	"epochs without validation improvement before stopping, 0 = off"},
	{"validation_share", SF_PT_DOUBLE, offsetof(mlp_params, validation_share), MLP_DEFAULT_VALIDATION_SHARE,
		0, 1, 1, 1, NULL, NULL,
	"share of rows held out for early stopping"},
	{"class_weight", SF_PT_ENUM, offsetof(mlp_params, class_weight), 0, 0, 0, 0, 0, mlp_class_weights, NULL,
	"none or balanced (n / (2 n_class))"},
	{"scale_pos_weight", SF_PT_DOUBLE, offsetof(mlp_params, scale_pos_weight), 1.0, 0, 1e6, 1, 0, NULL, NULL,
	"extra weight of positive rows"},
	{"missing_indicator", SF_PT_BOOL, offsetof(mlp_params, missing_indicator), 0, 0, 1, 0, 0, NULL, NULL,
	"add a 0/1 input per feature with missing training values"},
	{"seed", SF_PT_INT64, offsetof(mlp_params, seed), 0, 0, 9.2e18, 0, 0, NULL, NULL,
	"seed of the split, initialisation, shuffles and dropout"},
	{"feature_names", SF_PT_STR_LIST, offsetof(mlp_params, feature_names), 0, 0, NN_MAX_UNITS, 0, 0, NULL, NULL,
	"names of the features, one per element of the features array"},
	{"verbose", SF_PT_BOOL, offsetof(mlp_params, verbose), 0, 0, 1, 0, 0, NULL, NULL,
	"NOTICE lines with the epoch, the losses and the time left", 1},
	{"linear_skip", SF_PT_BOOL, offsetof(mlp_params, linear_skip), 1, 0, 1, 0, 0, NULL, NULL,
	"add a linear term in the standardised inputs to the output, starting at logistic regression"},
	{"refit", SF_PT_BOOL, offsetof(mlp_params, refit), 1, 0, 1, 0, 0, NULL, NULL,
	"after early stopping, train again on every row for the chosen number of epochs"},
	SF_CALIB_PARAM_SPECS(mlp_params, calibrate, calibrate_folds),
};

#define MLP_N_SPECS		((int) (sizeof(mlp_specs) / sizeof(mlp_specs[0])))
#define MLP_N_SPECS_V1	14		/* keys of 0.1.0: the table up to "seed" */

const sf_param_table mlp_params_table = {"mlp_train", mlp_specs, MLP_N_SPECS, NULL};
const sf_param_table mlp_params_table_v1 = {"mlp_train", mlp_specs, MLP_N_SPECS_V1, NULL};

void
mlp_params_v1_defaults(mlp_params *p, int (*given) (const char *key, void *ctx), void *ctx)
{
#define V1_DEFAULT(field, value) \
	do { if (!given(#field, ctx)) p->field = (value); } while (0)
	V1_DEFAULT(batch_size, 200);
	V1_DEFAULT(weight_decay, 0.0);
	V1_DEFAULT(early_stopping_rounds, 0);
	V1_DEFAULT(validation_share, 0.1);
	V1_DEFAULT(linear_skip, 0);
	V1_DEFAULT(refit, 0);
#undef V1_DEFAULT
}

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
	sf_status	st = nn_check_layers(env, p->hidden.n, NN_MAX_LAYERS - 1, "hidden", "size");

	if (st != SF_OK)
		return st;
	if (p->objective == MLP_OBJ_REGRESSION && (p->class_weight != MLP_CW_NONE || p->scale_pos_weight != 1.0))
		return sf_fail(env, SF_EINVAL, "class_weight and scale_pos_weight apply only to binary:logistic");
	return SF_OK;
}

void
mlp_free(sf_env *env, mlp_model *m)
{
	sf_free_clear(env, &m->mean, &m->scale, &m->indicator);
	nn_net_free(env, &m->net);
	nn_net_free(env, &m->skip);
	m->has_skip = 0;
}

sf_status
mlp_alloc_inputs(sf_env *env, mlp_model *m, uint32_t d)
{
	m->n_features = d;
	if (!sf_alloc_all(env, SF_CALLOC_N(m->mean, d), SF_CALLOC_N(m->scale, d), SF_CALLOC_N(m->indicator, d)))
		return sf_fail(env, SF_ENOMEM, "out of memory for input statistics");
	return SF_OK;
}

/*
 * The row in double precision, standardised without rounding to float: the
 * decoder's bound (mlp_check_bound) makes this finite for every input within
 * the float32 range.  Kept out of line so the common path keeps a small stack.
 * With margin, the output before the final sigmoid, as mlp_output.
 */
static double __attribute__((noinline))
mlp_output_f64(const mlp_model *m, const nn_net *net, const double *x, int margin)
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
	nn_predict_row_f64(net, xin, &o, tmp);
	if (m->has_skip)
	{
		double		lin;

		nn_predict_row_f64(&m->skip, xin, &lin, tmp);
		o += lin;
		if (!margin && m->objective == MLP_OBJ_BINARY)
			o = 1.0 / (1.0 + exp(-o));
	}
	return o;
}

/*
 * The output before the final sigmoid (margin = 1) or the prediction
 * (margin = 0).  Without the skip the network's output layer holds the
 * sigmoid, so the margin runs it on a copy of the struct with an identity
 * output (the weights are shared, not copied).
 */
static double
mlp_output(const mlp_model *m, const double *x, int margin)
{
	float		in[NN_MAX_UNITS];
	double		xin[NN_MAX_UNITS];
	float		tmp[2 * NN_MAX_UNITS];
	double		o;
	int			j;
	nn_net		identity;
	const nn_net *net = &m->net;

	if (margin && !m->has_skip)
	{
		identity = m->net;
		identity.layers[identity.n_layers - 1].act = NN_ACT_IDENTITY;
		net = &identity;
	}
	mlp_input_row(m, x, in);
	for (j = 0; j < m->n_inputs; j++)
		xin[j] = in[j];
	nn_predict_row(net, xin, &o, tmp);
	if (m->has_skip)
	{
		double		lin;

		nn_predict_row(&m->skip, xin, &lin, tmp);
		o += lin;
		if (!margin && m->objective == MLP_OBJ_BINARY)
			o = 1.0 / (1.0 + exp(-o));
	}
	/* float32 overflowed (an input far outside the training data): the same
	 * network in double, so finite input never gives NaN or infinity */
	if (!isfinite(o))
		o = mlp_output_f64(m, net, x, margin);
	return o;
}

double
mlp_predict(const mlp_model *m, const double *x)
{
	return mlp_output(m, x, 0);
}

double
mlp_predict_margin(const mlp_model *m, const double *x)
{
	return mlp_output(m, x, 1);
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
	if (m->has_skip)
	{
		/* skip: a one-layer identity net (n_inputs -> 1), nn_net_encode's bytes */
		mark = sf_section_begin(b, (uint16_t) (tag_base + 2));
		nn_net_encode(&m->skip, b);
		sf_section_end(b, mark);
	}
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

/* The network's shape, the part both JSON texts share: layers, weights, missing indicators. */
static void
put_shape_json(const mlp_model *m, sf_buf *b)
{
	char		t[96];
	int			l,
				n_ind = 0;
	uint32_t	j;

	for (j = 0; j < m->n_features; j++)
		n_ind += m->indicator[j];
	snprintf(t, sizeof(t), "\"layers\": [%d", m->net.layers[0].n_in);
	sf_buf_put_str(b, t);
	for (l = 0; l < m->net.n_layers; l++)
	{
		snprintf(t, sizeof(t), ", %d", m->net.layers[l].n_out);
		sf_buf_put_str(b, t);
	}
	/* weights of the network and of the linear skip */
	snprintf(t, sizeof(t), "], \"weights\": %zu, \"missing_indicators\": %d",
			 m->net.n_params + m->skip.n_params, n_ind);
	sf_buf_put_str(b, t);
}

void
mlp_body_json(const mlp_model *m, sf_buf *b)
{
	sf_buf_put_str(b, "{\"objective\": \"");
	sf_buf_put_str(b, mlp_objectives[m->objective]);
	sf_buf_put_str(b, "\", ");
	put_shape_json(m, b);
	sf_buf_put_str(b, "}");
}

/*
 * Refuse a network that could overflow double precision for an input within
 * the float32 range (the range training and the SQL scorers accept): a
 * standardised feature is at most (FLT_MAX + |mean|) / scale, an indicator 1.
 * Trained networks are many orders of magnitude inside the bound; crafted
 * weights near FLT_MAX are not.  The linear skip is held to the same bound.
 */
static sf_status
mlp_check_bound(sf_env *env, const mlp_model *m)
{
	int			w = nn_net_max_width(&m->net);
	double	   *in;
	double		bound;
	uint32_t	j;
	int			k = (int) m->n_features;

	if (m->has_skip && nn_net_max_width(&m->skip) > w)
		w = nn_net_max_width(&m->skip);
	in = sf_malloc(env, sizeof(double) * (size_t) (m->n_inputs + 2 * w));
	if (in == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding an mlp model");
	for (j = 0; j < m->n_features; j++)
	{
		in[j] = ((double) FLT_MAX + fabs(m->mean[j])) / m->scale[j];
		if (m->indicator[j])
			in[k++] = 1.0;
	}
	bound = nn_net_bound(&m->net, in, in + m->n_inputs);
	if (m->has_skip)
		bound = fmax(bound, nn_net_bound(&m->skip, in, in + m->n_inputs));
	sf_free(env, in);
	if (!(bound <= NN_SAFE_BOUND))
		return sf_fail(env, SF_ECORRUPT,
					   "corrupted mlp model: its weights and feature scales can overflow for inputs in the float32 range");
	return SF_OK;
}

void
mlp_info_json(const mlp_model *m, sf_buf *b)
{
	char		t[128];

	sf_buf_put_str(b, "{");
	put_shape_json(m, b);
	snprintf(t, sizeof(t), ", \"epochs_run\": %d, \"best_epoch\": %d, \"train_loss\": ",
			 m->epochs_run, m->best_epoch);
	sf_buf_put_str(b, t);
	put_json_double(b, m->train_loss);
	sf_buf_put_str(b, ", \"valid_loss\": ");
	put_json_double(b, m->valid_loss);
	sf_buf_put_str(b, "}");
}

sf_status
mlp_decode_body(sf_env *env, const sf_container *c, uint16_t tag_base,
				uint32_t n_features, mlp_model *m)
{
	const sf_section *si = sf_container_find(c, tag_base);
	const sf_section *sn = sf_container_find(c, (uint16_t) (tag_base + 1));
	const sf_section *sk = sf_container_find(c, (uint16_t) (tag_base + 2));
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
	m->has_skip = sk != NULL;
	if (sf_reader_left(&r) != 0 || m->net.layers[0].n_in != (int) ni ||
		m->net.layers[m->net.n_layers - 1].n_out != 1 ||
		m->net.layers[m->net.n_layers - 1].act !=
		(obj == MLP_OBJ_BINARY && !m->has_skip ? NN_ACT_SIGMOID : NN_ACT_IDENTITY))
	{
		mlp_free(env, m);
		return sf_fail(env, SF_ECORRUPT, "corrupted mlp model: network does not fit its inputs");
	}
	if (sk != NULL)
	{
		sf_reader_init(&r, sk->data, sk->len);
		if ((st = nn_net_decode(env, &r, &m->skip)) != SF_OK)
		{
			mlp_free(env, m);
			return st == SF_ENOMEM ? st : sf_fail(env, SF_ECORRUPT, "corrupted mlp model: %s", env->msg);
		}
		if (sf_reader_left(&r) != 0 || m->skip.n_layers != 1 || m->skip.layers[0].n_in != (int) ni ||
			m->skip.layers[0].n_out != 1 || m->skip.layers[0].act != NN_ACT_IDENTITY)
		{
			mlp_free(env, m);
			return sf_fail(env, SF_ECORRUPT, "corrupted mlp model: linear skip does not fit its inputs");
		}
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
	sf_prelude	pre = {.params_table = &mlp_params_table, .params = p, .names = names,
		.rows = rows, .has_seed = true, .seed = (uint64_t) p->seed};

	sf_prelude_put(b, SF_KIND_MLP, m->n_features, &pre);
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
