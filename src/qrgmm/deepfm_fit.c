/*
 * deepfm_fit.c
 *	  Training of the quantile DeepFM network: parameters, input statistics
 *	  and vocabularies, initialisation, mini-batch Adam over shuffled rows,
 *	  early stopping on a seeded validation share, and the training log.
 *
 * Steps (methods/qrgmm_scf.md section 4.2): y = T(S) standardised; numeric
 * fields z-scored with the training mean and population standard
 * deviation; each categorical field's vocabulary is the sorted set of ids
 * seen at least min_count times; rarer ids, and a share unknown_share of
 * all training ids drawn afresh per batch, train the unknown bucket, which
 * is what unseen ids get at scoring time.  Embeddings start N(0, 0.1^2),
 * first-order weights at 0, the MLP He-normal (nn.c), the head's weights
 * Glorot-uniform and its biases at the empirical tau_j-quantiles of the
 * standardised training responses, so the first epoch starts from the
 * unconditional law.  Each epoch shuffles the training rows, runs Adam on
 * both parameter vectors (embeddings + head, and the MLP), and evaluates
 * the validation loss without dropout; with patience > 0 the weights of the
 * best validation epoch are kept.
 *
 * Determinism: training starts from the rows in a canonical order (sorted
 * by response, then by field), so the model depends on the multiset of
 * rows, not on scan or parallel-plan order; every random choice draws from
 * sf_rng streams of the seed
 * (1 split, 2 initialisation, 3 shuffles, dropout per step and shard),
 * loops run in a fixed order, and threads only share the fixed shards of a
 * batch (deepfm_train.c), so the bytes do not depend on the thread count
 * (checked by test_deepfm).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/deepfm.h"
#include "scfrisk/sf_blas.h"

static const char *const deepfm_transforms[] = {"log1p", "identity", NULL};

static const sf_param_spec deepfm_specs[] = {
	{"k", SF_PT_INT, offsetof(deepfm_params, k), DEEPFM_DEFAULT_K, DEEPFM_MIN_K, DEEPFM_MAX_K,
		0, 0, NULL, NULL, "embedding size shared by every field"},
	{"layers", SF_PT_INT_LIST, offsetof(deepfm_params, layers), 0, 1, NN_MAX_UNITS, 0, 0,
		NULL, NULL, "widths of the ReLU MLP over the concatenated embeddings, default [256, 128, 64]"},
	{"m", SF_PT_INT, offsetof(deepfm_params, m), DEEPFM_DEFAULT_M, DEEPFM_MIN_M, DEEPFM_MAX_M,
		0, 0, NULL, NULL, "grid parameter: the head gives the quantiles at j/m, j = 1..m-1"},
	{"epochs", SF_PT_INT, offsetof(deepfm_params, epochs), 200, 1, DEEPFM_MAX_EPOCHS, 0, 0,
		NULL, NULL, "passes over the training rows (early stopping may end sooner)"},
	{"batch_size", SF_PT_INT, offsetof(deepfm_params, batch_size), 512, 1, 65536, 0, 0,
		NULL, NULL, "rows per Adam step"},
	{"learning_rate", SF_PT_DOUBLE, offsetof(deepfm_params, learning_rate), 0.001, 0, 10, 1, 0,
		NULL, NULL, "Adam step size"},
	{"weight_decay", SF_PT_DOUBLE, offsetof(deepfm_params, weight_decay), 1e-5, 0, 10, 0, 0,
		NULL, NULL, "L2 rate on weights and embeddings (not biases)"},
	{"dropout", SF_PT_DOUBLE, offsetof(deepfm_params, dropout), 0.1, 0, 1, 0, 1, NULL, NULL,
	"drop probability of the MLP's hidden units"},
	{"validation_share", SF_PT_DOUBLE, offsetof(deepfm_params, validation_share), 0.1, 0, 0.9,
		0, 0, NULL, NULL, "share of rows held out for the validation loss (0 = none)"},
	{"patience", SF_PT_INT, offsetof(deepfm_params, patience), 20, 0, DEEPFM_MAX_EPOCHS, 0, 0,
		NULL, NULL, "epochs without validation improvement before stopping, 0 = train all epochs"},
	{"min_count", SF_PT_INT, offsetof(deepfm_params, min_count), 1, 1, 1000000, 0, 0, NULL, NULL,
	"ids seen in fewer training rows share the field's unknown bucket"},
	{"unknown_share", SF_PT_DOUBLE, offsetof(deepfm_params, unknown_share), 0.01, 0, 0.5, 0, 0,
		NULL, NULL, "rate at which training ids are replaced by their field's unknown bucket"},
	{"transform", SF_PT_ENUM, offsetof(deepfm_params, transform), 0, 0, 0, 0, 0,
		deepfm_transforms, NULL, "response transform y = T(sales): log1p or identity"},
	{"tail", SF_PT_ENUM, offsetof(deepfm_params, tail), SF_TAIL_FLAT, 0, 0, 0, 0,
		sf_tail_rule_names, NULL, SF_TAIL_PARAM_DOC},
	{"refit", SF_PT_BOOL, offsetof(deepfm_params, refit), 0, 0, 1, 0, 0, NULL, NULL,
	"refit exact linear quantile regressions on the learned features (section 4.2)"},
	{"refit_m", SF_PT_INT, offsetof(deepfm_params, refit_m), 0, 0, 10000, 0, 0, NULL, NULL,
	"grid parameter of the refit, 0 = min(1000, max(100, ceil(sqrt(n))))"},
	{"threads", SF_PT_INT, offsetof(deepfm_params, threads), 0, 0, 64, 0, 0, NULL, NULL,
	"threads sharing each batch's shards (and the refit's levels), 0 = scfrisk.threads"},
	{"seed", SF_PT_INT64, offsetof(deepfm_params, seed), 42, 0, 9.2e18, 0, 0, NULL, NULL,
	"seed of the split, initialisation, shuffles and dropout"},
	{"feature_names", SF_PT_STR_LIST, offsetof(deepfm_params, feature_names), 0, 0, 4096, 0, 0, NULL, NULL,
	"names of the fields, the numeric ones then the categorical ones"},
	{"verbose", SF_PT_BOOL, offsetof(deepfm_params, verbose), 0, 0, 1, 0, 0, NULL, NULL,
	"NOTICE lines with the epoch, the losses and the time left", 1},
};

const sf_param_table deepfm_params_table = {
	"qrgmm_deepfm_train", deepfm_specs, (int) (sizeof(deepfm_specs) / sizeof(deepfm_specs[0])),
	NULL
};

void
deepfm_params_default_layers(deepfm_params *p)
{
	p->layers.n = 3;
	p->layers.v[0] = 256;
	p->layers.v[1] = 128;
	p->layers.v[2] = 64;
}

sf_status
deepfm_params_check(sf_env *env, const deepfm_params *p)
{
	sf_status	st = nn_check_layers(env, p->layers.n, NN_MAX_LAYERS, "layers", "width");

	if (st != SF_OK)
		return st;
	if (p->refit_m == 1)
		return sf_fail(env, SF_EINVAL, "parameter \"refit_m\" must be 0 (default rule) or at least 2, got 1");
	if (p->refit_m > 0 && !p->refit)
		return sf_fail(env, SF_EINVAL, "parameter \"refit_m\" needs \"refit\": true");
	if (p->patience > 0 && p->validation_share <= 0.0)
		return sf_fail(env, SF_EINVAL,
					   "parameter \"patience\" needs a validation share: set \"validation_share\" > 0 or \"patience\": 0");
	return SF_OK;
}

static int
cmp_i32(const void *a, const void *b)
{
	int32_t		x = *(const int32_t *) a,
				y = *(const int32_t *) b;

	return (x > y) - (x < y);
}

static int
cmp_float(const void *a, const void *b)
{
	float		x = *(const float *) a,
				y = *(const float *) b;

	return (x > y) - (x < y);
}

/* Vocabularies: per field, the sorted ids seen at least min_count times. */
static sf_status
build_vocab(sf_env *env, deepfm_model *model, const double *X, size_t n, int min_count)
{
	uint32_t	F = deepfm_fields(model);
	uint32_t	C = model->n_categorical;
	int32_t    *ids = NULL;
	size_t		total = 0,
				cap = 0,
				i;
	uint32_t	c;
	sf_status	st = SF_OK;

	model->vocab_off = sf_calloc(env, (size_t) C + 1, sizeof(uint32_t));
	ids = sf_malloc(env, (n ? n : 1) * sizeof(int32_t));
	if (model->vocab_off == NULL || ids == NULL)
	{
		sf_free(env, ids);
		return sf_fail(env, SF_ENOMEM, "out of memory for the vocabularies");
	}
	for (c = 0; c < C; c++)
	{
		size_t		kept = 0,
					run;

		for (i = 0; i < n; i++)
			ids[i] = (int32_t) X[i * F + model->n_numeric + c];
		qsort(ids, n, sizeof(int32_t), cmp_i32);
		/* compact in place to the ids with enough rows */
		for (i = 0; i < n; i += run)
		{
			for (run = 1; i + run < n && ids[i + run] == ids[i]; run++)
				;
			if (run >= (size_t) min_count)
				ids[kept++] = ids[i];
		}
		if (kept > DEEPFM_MAX_VOCAB)
		{
			st = sf_fail(env, SF_ELIMIT,
						 "categorical field %u has %zu distinct ids, more than the cap of %u (raise \"min_count\" or hash the ids)",
						 c + 1, kept, DEEPFM_MAX_VOCAB);
			goto done;
		}
		if (total + kept > cap)
		{
			size_t		ncap = (total + kept) * 2 + 16;
			int32_t    *nv = sf_malloc(env, ncap * sizeof(int32_t));

			if (nv == NULL)
			{
				st = sf_fail(env, SF_ENOMEM, "out of memory for the vocabularies");
				goto done;
			}
			if (total)
				memcpy(nv, model->vocab, total * sizeof(int32_t));
			sf_free(env, model->vocab);
			model->vocab = nv;
			cap = ncap;
		}
		if (kept)
			memcpy(model->vocab + total, ids, kept * sizeof(int32_t));
		total += kept;
		model->vocab_off[c + 1] = (uint32_t) total;
	}
	if (model->vocab == NULL)
	{
		model->vocab = sf_malloc(env, sizeof(int32_t));
		if (model->vocab == NULL)
			st = sf_fail(env, SF_ENOMEM, "out of memory for the vocabularies");
	}
done:
	sf_free(env, ids);
	return st;
}

/* Mean level-averaged pinball loss over rows idx[0..n), in batches, no dropout. */
static double
eval_loss(const deepfm_model *model, deepfm_work *w, const double *X, const float *ys,
		  const uint32_t *idx, size_t n, float *yb)
{
	double		total = 0.0;
	size_t		s;

	for (s = 0; s < n; s += (size_t) w->max_batch)
	{
		int			bm = (int) ((n - s) < (size_t) w->max_batch ? (n - s) : (size_t) w->max_batch);
		int			i;

		for (i = 0; i < bm; i++)
			yb[i] = ys[idx[s + i]];
		deepfm_batch_inputs(model, w, X, idx + s, bm);
		deepfm_forward(model, w, bm, 0.0, NULL);
		total += deepfm_batch_loss(model, w, yb, bm);
	}
	return n ? total / (double) n : 0.0;
}

/* A JSON number for a float that may be NaN (then null). */
static void
put_num(sf_buf *b, double v)
{
	char		t[48];

	if (isfinite(v))
		snprintf(t, sizeof(t), "%.6g", v);
	else
		snprintf(t, sizeof(t), "null");
	sf_buf_put_str(b, t);
}

/* The model_info JSON: architecture and training log. */
static sf_status
build_info(sf_env *env, deepfm_model *model, int stopped_early)
{
	sf_buf		b;
	char		t[512];
	uint32_t	c,
				e,
				step;
	int			l;
	size_t		total = model->n_params + model->tower.n_params;
	sf_status	st;

	sf_buf_init(&b, env);
	snprintf(t, sizeof(t),
			 "{\"architecture\": {\"fields\": %u, \"numeric_fields\": %u, \"categorical_fields\": %u, "
			 "\"embedding_size\": %d, \"vocabulary_sizes\": [",
			 deepfm_fields(model), model->n_numeric, model->n_categorical, model->k);
	sf_buf_put_str(&b, t);
	for (c = 0; c < model->n_categorical; c++)
	{
		snprintf(t, sizeof(t), "%s%u", c ? ", " : "", model->vocab_off[c + 1] - model->vocab_off[c]);
		sf_buf_put_str(&b, t);
	}
	sf_buf_put_str(&b, "], \"mlp_layers\": [");
	for (l = 0; l < model->tower.n_layers; l++)
	{
		snprintf(t, sizeof(t), "%s%d", l ? ", " : "", model->tower.layers[l].n_out);
		sf_buf_put_str(&b, t);
	}
	snprintf(t, sizeof(t),
			 "], \"head_inputs\": %d, \"levels\": %d, \"parameters\": %zu}, "
			 "\"m\": %d, \"transform\": \"%s\", \"tail\": \"%s\", \"tail_caveat\": \"",
			 model->n_phi, model->m - 1, total, model->m,
			 model->transform == SF_TRANSFORM_LOG1P ? "log1p" : "identity",
			 sf_tail_rule_names[model->tail]);
	sf_buf_put_str(&b, t);
	sf_buf_put_str(&b, sf_tail_caveat(model->tail));
	sf_buf_put_str(&b, "\", ");
	/* a constant: kept out of the fixed-size buffer */
	sf_buf_put_str(&b, "\"unknown_bucket\": \"per categorical field: ids seen fewer than min_count times "
			"in training and ids never seen; trained by replacing training ids at rate "
			"unknown_share\", ");
	snprintf(t, sizeof(t), "\"epochs_run\": %u, \"best_epoch\": %u, \"stopped_early\": %s, ",
			 model->epochs_run, model->best_epoch, stopped_early ? "true" : "false");
	sf_buf_put_str(&b, t);
	sf_buf_put_str(&b, "\"best_train_loss\": ");
	put_num(&b, model->best_epoch ? model->log_train[model->best_epoch - 1] : NAN);
	sf_buf_put_str(&b, ", \"best_validation_loss\": ");
	put_num(&b, model->best_epoch ? model->log_val[model->best_epoch - 1] : NAN);
	if (model->refit_m > 0)
	{
		snprintf(t, sizeof(t), ", \"refit\": {\"m\": %d, \"levels\": %d, \"features\": %d, \"dropped_features\": %d}",
				 model->refit_m, model->refit_m - 1, model->refit_p - 1, model->n_phi - (model->refit_p - 1));
		sf_buf_put_str(&b, t);
	}
	sf_buf_put_str(&b, ", \"log\": [");
	step = model->epochs_run > DEEPFM_LOG_INFO_MAX ?
		(model->epochs_run + DEEPFM_LOG_INFO_MAX - 1) / DEEPFM_LOG_INFO_MAX : 1;
	for (e = 0; e < model->epochs_run; e++)
	{
		if (e % step != 0 && e + 1 != model->epochs_run && e + 1 != model->best_epoch)
			continue;
		snprintf(t, sizeof(t), "%s{\"epoch\": %u, \"train\": ", e ? ", " : "", e + 1);
		sf_buf_put_str(&b, t);
		put_num(&b, model->log_train[e]);
		sf_buf_put_str(&b, ", \"validation\": ");
		put_num(&b, model->log_val[e]);
		sf_buf_put_str(&b, "}");
	}
	sf_buf_put_str(&b, "]}");
	st = sf_buf_status(&b);
	if (st == SF_OK)
	{
		model->info_json = sf_strndup(env, b.data, b.len);
		if (model->info_json == NULL)
			st = sf_fail(env, SF_ENOMEM, "out of memory");
	}
	sf_buf_free(&b);
	return st;
}

/*
 * Canonical row order: by response, then field by field, then by the bits
 * (so -0.0 and 0.0 are ordered too).  Training starts from the rows in
 * this order, so the model depends on the multiset of rows only, not on
 * the order a scan or a parallel plan delivers them in.
 */
typedef struct row_order
{
	const double *X;			/* (n, F) doubles, or NULL */
	const float *Xf;			/* (n, F) float32 rows, ids as int32 bits, or NULL */
	const double *S;			/* (n) */
	uint32_t	F;
	uint32_t	n_num;			/* numeric fields (the others are ids) */
} row_order;

/*
 * Field f of row 'row' as a double: float32 rows widen exactly and ids are
 * their integer value, so float32 rows train as their doubles would.
 */
static inline double
row_val(const row_order *o, size_t row, uint32_t f)
{
	int32_t		id;

	if (o->X)
		return o->X[row * o->F + f];
	if (f < o->n_num)
		return o->Xf[row * o->F + f];
	memcpy(&id, &o->Xf[row * o->F + f], sizeof(id));
	return id;
}

static int
row_cmp(const row_order *o, uint32_t a, uint32_t b)
{
	uint32_t	f;
	int			c;

	if (o->S[a] != o->S[b])
		return o->S[a] < o->S[b] ? -1 : 1;
	for (f = 0; f < o->F; f++)
	{
		double		va = row_val(o, a, f),
					vb = row_val(o, b, f);

		if (va != vb)
			return va < vb ? -1 : 1;
	}
	c = memcmp(&o->S[a], &o->S[b], sizeof(double));
	if (c != 0)
		return c;
	/* the bytes of the rows as doubles, field after field */
	for (f = 0; f < o->F; f++)
	{
		double		va = row_val(o, a, f),
					vb = row_val(o, b, f);

		if ((c = memcmp(&va, &vb, sizeof(double))) != 0)
			return c;
	}
	return 0;
}

/* Stable bottom-up merge sort of idx[0..n) by row_cmp; tmp holds n entries. */
static void
sort_rows(const row_order *o, uint32_t *idx, uint32_t *tmp, size_t n)
{
	size_t		width,
				lo;
	uint32_t   *src = idx,
			   *dst = tmp;

	for (width = 1; width < n; width *= 2)
	{
		for (lo = 0; lo < n; lo += 2 * width)
		{
			size_t		mid = lo + width < n ? lo + width : n;
			size_t		hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t		i = lo,
						j = mid,
						k = lo;

			while (i < mid && j < hi)
				dst[k++] = row_cmp(o, src[j], src[i]) < 0 ? src[j++] : src[i++];
			while (i < mid)
				dst[k++] = src[i++];
			while (j < hi)
				dst[k++] = src[j++];
		}
		{
			uint32_t   *t = src;

			src = dst;
			dst = t;
		}
	}
	if (src != idx)
		memcpy(idx, src, n * sizeof(uint32_t));
}

/*
 * What the phases of one fit share: the rows in canonical order, the
 * standardised responses, the validation split and the model being built.
 * deepfm_fit_rows runs the phases in order and frees what they allocated.
 */
typedef struct fit_work
{
	deepfm_params params;		/* the caller's (threads reset before encoding) */
	deepfm_model *model;
	uint32_t	F;				/* fields: numeric then categorical */
	size_t		n;				/* rows */
	double	   *X;				/* (n, F) the rows in canonical order */
	double	   *S;				/* (n) their responses */
	float	   *ys;				/* (n) standardised transformed responses */
	uint32_t   *idx;			/* (n) the n_val validation rows, then the training rows */
	size_t		n_val;
	int			early;			/* early stopping: patience and validation rows */
	int			stopped_early;
} fit_work;

/* Phase 1: every row checked once, so the batch code needs no checks. */
static sf_status
fit_check_rows(sf_env *env, fit_work *w, const row_order *o, const double *S_in)
{
	double		rowbuf[DEEPFM_MAX_FIELDS];
	size_t		i;

	for (i = 0; i < w->n; i++)
	{
		uint32_t	f;

		for (f = 0; f < w->F; f++)
			rowbuf[f] = row_val(o, i, f);
		if (deepfm_check_row(env, w->model, rowbuf) != SF_OK)
		{
			char		why[sizeof(env->errbuf)];

			snprintf(why, sizeof(why), "%s", env->msg ? env->msg : "bad value");
			return sf_fail(env, SF_EDATA, "row %zu: %s", i + 1, why);
		}
		if (!isfinite(S_in[i]))
			return sf_fail(env, SF_EDATA, "response at row %zu is not finite", i + 1);
		if (w->model->transform == SF_TRANSFORM_LOG1P && S_in[i] <= -1.0)
			return sf_log1p_domain_error(env, S_in, w->n);
	}
	return SF_OK;
}

/* Phase 2: the rows in canonical order (see row_cmp), as doubles. */
static sf_status
fit_canonical_rows(sf_env *env, fit_work *w, const row_order *o, const double *S_in)
{
	uint32_t   *perm = sf_malloc(env, w->n * sizeof(uint32_t));
	uint32_t   *ptmp = sf_malloc(env, w->n * sizeof(uint32_t));
	size_t		i;

	w->X = sf_malloc(env, w->n * (size_t) w->F * sizeof(double));
	w->S = sf_malloc(env, w->n * sizeof(double));
	if (!perm || !ptmp || !w->X || !w->S)
	{
		sf_free(env, perm);
		sf_free(env, ptmp);
		return sf_fail(env, SF_ENOMEM, "out of memory for %zu training rows", w->n);
	}
	for (i = 0; i < w->n; i++)
		perm[i] = (uint32_t) i;
	sort_rows(o, perm, ptmp, w->n);
	for (i = 0; i < w->n; i++)
	{
		uint32_t	f;

		for (f = 0; f < w->F; f++)
			w->X[i * w->F + f] = row_val(o, perm[i], f);
		w->S[i] = S_in[perm[i]];
	}
	sf_free(env, perm);
	sf_free(env, ptmp);
	return SF_OK;
}

/* Phase 3: responses y = T(S) standardised, numeric z-scores, the vocabularies. */
static sf_status
fit_standardise(sf_env *env, fit_work *w)
{
	deepfm_model *model = w->model;
	sf_transform transform = model->transform;
	uint32_t	n_numeric = model->n_numeric;
	double		ymean = 0.0,
				ysd = 0.0;
	size_t		i,
				n = w->n;
	uint32_t	l;

	w->ys = sf_malloc(env, n * sizeof(float));
	model->num_mean = sf_calloc(env, n_numeric ? n_numeric : 1, sizeof(double));
	model->num_scale = sf_calloc(env, n_numeric ? n_numeric : 1, sizeof(double));
	if (!w->ys || !model->num_mean || !model->num_scale)
		return sf_fail(env, SF_ENOMEM, "out of memory for %zu training rows", n);
	for (i = 0; i < n; i++)
		ymean += sf_transform_apply(transform, w->S[i]);
	ymean /= (double) n;
	for (i = 0; i < n; i++)
	{
		double		v = sf_transform_apply(transform, w->S[i]) - ymean;

		ysd += v * v;
	}
	ysd = sqrt(ysd / (double) n);
	if (!(ysd > 1e-300) || !isfinite(ysd))
		ysd = 1.0;
	for (i = 0; i < n; i++)
		w->ys[i] = (float) ((sf_transform_apply(transform, w->S[i]) - ymean) / ysd);
	model->y_center = ymean;
	model->y_scale = ysd;

	for (l = 0; l < n_numeric; l++)
	{
		double		s = 0.0,
					ss = 0.0,
					mu;

		for (i = 0; i < n; i++)
			s += w->X[i * w->F + l];
		mu = s / (double) n;
		for (i = 0; i < n; i++)
			ss += (w->X[i * w->F + l] - mu) * (w->X[i * w->F + l] - mu);
		model->num_mean[l] = mu;
		model->num_scale[l] = sqrt(ss / (double) n);
		if (!(model->num_scale[l] > 1e-300) || !isfinite(model->num_scale[l]))
			model->num_scale[l] = 1.0;
	}
	return build_vocab(env, model, w->X, n, w->params.min_count);
}

/* Phase 4: the tower, the embeddings and the head, seeded (stream 2). */
static sf_status
fit_network(sf_env *env, fit_work *w)
{
	deepfm_model *model = w->model;
	const deepfm_params *params = &w->params;
	int			widths[NN_MAX_LAYERS + 1];
	nn_activation acts[NN_MAX_LAYERS];
	sf_rng		rng_init;
	size_t		i,
				L = (size_t) (model->m - 1);
	double		lim;
	int			l;
	sf_status	st;

	widths[0] = (int) w->F * params->k;
	for (l = 0; l < params->layers.n; l++)
	{
		widths[l + 1] = params->layers.v[l];
		acts[l] = NN_ACT_RELU;
	}
	if ((st = nn_net_new(env, &model->tower, params->layers.n, widths, acts)) != SF_OK)
		return st;
	if ((st = deepfm_alloc_params(env, model)) != SF_OK)
		return st;
	sf_rng_init(&rng_init, (uint64_t) params->seed, 2);
	for (i = 0; i < (size_t) model->n_rows_embed * model->k; i++)
		model->embed[i] = (float) (0.1 * sf_rng_normal(&rng_init));
	nn_net_init_weights(&model->tower, &rng_init);
	lim = sqrt(6.0 / (double) ((size_t) model->n_phi + L));
	for (i = 0; i < (size_t) model->n_phi * L; i++)
		model->head_w[i] = (float) (lim * (2.0 * sf_rng_uniform(&rng_init) - 1.0));
	return SF_OK;
}

/*
 * Phase 5: the validation split, the first n_val of a seeded permutation
 * (stream 1), and the head biases at the empirical level quantiles of the
 * training responses.
 */
static sf_status
fit_split(sf_env *env, fit_work *w)
{
	deepfm_model *model = w->model;
	size_t		i,
				n = w->n,
				n_tr;
	float	   *tmp;
	int			l;

	w->idx = sf_malloc(env, n * sizeof(uint32_t));
	if (w->idx == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for %zu training rows", n);
	for (i = 0; i < n; i++)
		w->idx[i] = (uint32_t) i;
	if (w->params.validation_share > 0.0)
	{
		sf_rng		rng_split;

		sf_rng_init(&rng_split, (uint64_t) w->params.seed, 1);
		sf_rng_shuffle_u32(&rng_split, w->idx, (uint32_t) n);
		w->n_val = (size_t) floor(w->params.validation_share * (double) n);
		if (w->n_val < 1)
			w->n_val = 1;
		if (w->n_val >= n)
			w->n_val = n - 1;
	}
	n_tr = n - w->n_val;
	w->early = w->params.patience > 0 && w->n_val > 0;

	tmp = sf_malloc(env, n_tr * sizeof(float));
	if (tmp == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory");
	for (i = 0; i < n_tr; i++)
		tmp[i] = w->ys[w->idx[w->n_val + i]];
	qsort(tmp, n_tr, sizeof(float), cmp_float);
	for (l = 0; l < model->m - 1; l++)
	{
		size_t		r = (size_t) floor((double) (l + 1) / model->m * (double) (n_tr - 1) + 0.5);

		model->head_b[l] = tmp[r < n_tr ? r : n_tr - 1];
	}
	sf_free(env, tmp);
	return SF_OK;
}

/* What the epochs need beside the model: trainer, optimisers, best weights. */
typedef struct fit_loop
{
	deepfm_trainer tr;
	nn_adam		opt,
				opt_tower;
	float	   *best,
			   *best_tower;
	int			bs;
} fit_loop;

static void
fit_loop_free(sf_env *env, fit_loop *lp)
{
	deepfm_trainer_free(env, &lp->tr);
	nn_adam_free(env, &lp->opt);
	nn_adam_free(env, &lp->opt_tower);
	sf_free(env, lp->best);
	sf_free(env, lp->best_tower);
}

static sf_status
fit_loop_new(sf_env *env, fit_work *w, fit_loop *lp)
{
	deepfm_model *model = w->model;
	const deepfm_params *params = &w->params;
	size_t		n_tr = w->n - w->n_val;
	int			threads = params->threads > 0 ? params->threads : env->threads;
	sf_status	st;

	lp->bs = params->batch_size < (int) n_tr ? params->batch_size : (int) n_tr;
	if ((st = deepfm_trainer_new(env, model, lp->bs, threads, &lp->tr)) != SF_OK)
		return st;
	if ((st = nn_adam_new(env, &lp->opt, model->n_params, params->learning_rate)) != SF_OK)
		return st;
	if ((st = nn_adam_new(env, &lp->opt_tower, model->tower.n_params, params->learning_rate)) != SF_OK)
		return st;
	model->log_train = sf_malloc(env, (size_t) params->epochs * sizeof(float));
	model->log_val = sf_malloc(env, (size_t) params->epochs * sizeof(float));
	if (w->early)
	{
		lp->best = sf_malloc(env, model->n_params * sizeof(float));
		lp->best_tower = sf_malloc(env, model->tower.n_params * sizeof(float));
	}
	if (!model->log_train || !model->log_val || (w->early && (!lp->best || !lp->best_tower)))
		return sf_fail(env, SF_ENOMEM, "out of memory for training batches");
	return SF_OK;
}

/* One epoch over the training rows (shuffled with rng); *tl gets the mean loss. */
static sf_status
fit_epoch(sf_env *env, fit_work *w, fit_loop *lp, sf_rng *rng, uint64_t *step, double *tl)
{
	const deepfm_params *params = &w->params;
	uint32_t   *trows = w->idx + w->n_val;
	size_t		n_tr = w->n - w->n_val,
				s;
	int			batch_no = 0;
	double		loss = 0.0;

	sf_rng_shuffle_u32(rng, trows, (uint32_t) n_tr);
	for (s = 0; s < n_tr; s += (size_t) lp->bs)
	{
		int			bm = (int) ((n_tr - s) < (size_t) lp->bs ? (n_tr - s) : (size_t) lp->bs);

		if ((batch_no++ & 7) == 0 && sf_interrupted(env))
			return sf_fail(env, SF_ECANCEL, "qrgmm_deepfm_train canceled");
		loss += deepfm_trainer_step(&lp->tr, w->model, w->X, w->ys, trows + s, bm, params->dropout,
									params->unknown_share, params->weight_decay,
									(uint64_t) params->seed, (*step)++);
		nn_adam_step(&lp->opt, w->model->params, lp->tr.w[0].grad);
		nn_adam_step(&lp->opt_tower, w->model->tower.params, lp->tr.w[0].tw.grad);
	}
	*tl = loss / (double) n_tr;
	return SF_OK;
}

/*
 * Phase 6: the epochs (shuffles from stream 3), with early stopping on the
 * validation rows restoring the best epoch's weights.
 */
static sf_status
fit_epochs(sf_env *env, fit_work *w)
{
	deepfm_model *model = w->model;
	const deepfm_params *params = &w->params;
	fit_loop	lp;
	sf_rng		rng_shuffle;
	uint64_t	step = 0;
	double		best_val = INFINITY;
	int			epoch,
				since_best = 0;
	sf_status	st;

	memset(&lp, 0, sizeof(lp));
	if ((st = fit_loop_new(env, w, &lp)) != SF_OK)
	{
		fit_loop_free(env, &lp);
		return st;
	}
	sf_rng_init(&rng_shuffle, (uint64_t) params->seed, 3);
	/* our threads share each batch; BLAS stays single-threaded (see deepfm_train.c) */
	sf_blas_set_threads(1);
	for (epoch = 1; epoch <= params->epochs; epoch++)
	{
		double		tl = 0.0,
					vl = NAN;

		if ((st = fit_epoch(env, w, &lp, &rng_shuffle, &step, &tl)) != SF_OK)
			break;
		if (!isfinite(tl))
		{
			st = sf_fail(env, SF_ENUMERIC,
						 "qrgmm_deepfm_train diverged in epoch %d (try a smaller learning_rate)", epoch);
			break;
		}
		if (w->n_val > 0)
			vl = eval_loss(model, &lp.tr.w[0], w->X, w->ys, w->idx, w->n_val, lp.tr.yb[0]);
		model->log_train[epoch - 1] = (float) tl;
		model->log_val[epoch - 1] = (float) vl;
		model->epochs_run = (uint32_t) epoch;
		sf_progress_report(env, "epoch", epoch, params->epochs, w->early, "loss", tl, vl);
		if (!w->early)
		{
			model->best_epoch = (uint32_t) epoch;
			continue;
		}
		if (vl < best_val)
		{
			best_val = vl;
			since_best = 0;
			model->best_epoch = (uint32_t) epoch;
			memcpy(lp.best, model->params, model->n_params * sizeof(float));
			memcpy(lp.best_tower, model->tower.params, model->tower.n_params * sizeof(float));
		}
		else if (++since_best >= params->patience)
		{
			w->stopped_early = 1;
			break;
		}
	}
	if (st == SF_OK && w->early && model->best_epoch > 0)
	{
		memcpy(model->params, lp.best, model->n_params * sizeof(float));
		memcpy(model->tower.params, lp.best_tower, model->tower.n_params * sizeof(float));
	}
	fit_loop_free(env, &lp);
	return st;
}

/* Phase 7: the optional refit of the levels, the params JSON, the diagnostics. */
static sf_status
fit_finish(sf_env *env, fit_work *w)
{
	sf_buf		pj;
	sf_status	st;

	if (w->params.refit)
	{
		int			host_threads = env->threads;

		if (w->params.threads > 0)
			env->threads = w->params.threads;
		st = deepfm_refit(env, w->model, &w->params, w->X, w->S, w->n);
		env->threads = host_threads;
		if (st != SF_OK)
			return st;
	}

	/*
	 * The thread count changes neither the weights nor (so) the bytes: it is
	 * stored as 0 ("the host's setting") so that models trained with
	 * different counts are byte-identical.
	 */
	w->params.threads = 0;
	sf_buf_init(&pj, env);
	sf_params_to_json(&deepfm_params_table, &w->params, &pj);
	st = sf_buf_status(&pj);
	if (st == SF_OK)
	{
		w->model->params_json = sf_strndup(env, pj.data, pj.len);
		if (w->model->params_json == NULL)
			st = sf_fail(env, SF_ENOMEM, "out of memory");
	}
	sf_buf_free(&pj);
	if (st == SF_OK)
		st = build_info(env, w->model, w->stopped_early);
	return st;
}

static sf_status
deepfm_fit_rows(sf_env *env, const deepfm_params *params_in, const double *X_in, const float *Xf_in,
				const double *S_in, size_t n, uint32_t n_numeric, uint32_t n_categorical,
				deepfm_model **out)
{
	fit_work	w;
	deepfm_model *model;
	row_order	o = {X_in, Xf_in, S_in, n_numeric + n_categorical, n_numeric};
	sf_status	st;

	*out = NULL;
	memset(&w, 0, sizeof(w));
	w.params = *params_in;
	w.F = n_numeric + n_categorical;
	w.n = n;
	if ((st = deepfm_params_check(env, &w.params)) != SF_OK)
		return st;
	if (w.F < 1 || w.F > DEEPFM_MAX_FIELDS)
		return sf_fail(env, SF_EDATA, "qrgmm_deepfm_train needs between 1 and %d fields, got %u",
					   DEEPFM_MAX_FIELDS, w.F);
	if ((size_t) w.F * (size_t) w.params.k > NN_MAX_UNITS)
	{
		sf_fail(env, SF_ELIMIT,
				"%u fields with embedding size %d give %zu MLP inputs, more than the cap of %d",
				w.F, w.params.k, (size_t) w.F * w.params.k, NN_MAX_UNITS);
		sf_hint(env, "Lower \"k\" to at most %u, or pass fewer fields.",
				(unsigned) (NN_MAX_UNITS / w.F));
		return SF_ELIMIT;
	}
	if (n < 2)
		return sf_fail(env, SF_EDATA, "qrgmm_deepfm_train needs at least 2 rows, got %zu", n);
	if (n > (size_t) INT32_MAX)
		return sf_fail_hint(env, SF_ELIMIT, "Train on a sample of the rows (for example TABLESAMPLE).",
							"qrgmm_deepfm_train accepts at most %d rows", INT32_MAX);

	model = w.model = sf_calloc(env, 1, sizeof(*model));
	if (model == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory");
	model->n_numeric = n_numeric;
	model->n_categorical = n_categorical;
	model->k = w.params.k;
	model->m = w.params.m;
	model->transform = w.params.transform == 1 ? SF_TRANSFORM_IDENTITY : SF_TRANSFORM_LOG1P;
	model->tail = (sf_tail_rule) w.params.tail;
	model->n_rows = n;
	model->seed = w.params.seed;

	if ((st = fit_check_rows(env, &w, &o, S_in)) == SF_OK &&
		(st = fit_canonical_rows(env, &w, &o, S_in)) == SF_OK &&
		(st = fit_standardise(env, &w)) == SF_OK &&
		(st = fit_network(env, &w)) == SF_OK &&
		(st = fit_split(env, &w)) == SF_OK &&
		(st = fit_epochs(env, &w)) == SF_OK)
		st = fit_finish(env, &w);

	sf_free_all(env, w.X, w.S, w.ys, w.idx);
	if (st != SF_OK)
	{
		deepfm_free(env, model);
		return st;
	}
	*out = model;
	return SF_OK;
}

sf_status
deepfm_fit(sf_env *env, const deepfm_params *params, const double *X, const double *S,
		   size_t n, uint32_t n_numeric, uint32_t n_categorical, deepfm_model **out)
{
	return deepfm_fit_rows(env, params, X, NULL, S, n, n_numeric, n_categorical, out);
}

sf_status
deepfm_fit_f32(sf_env *env, const deepfm_params *params, const float *X, const double *S,
			   size_t n, uint32_t n_numeric, uint32_t n_categorical, deepfm_model **out)
{
	return deepfm_fit_rows(env, params, NULL, X, S, n, n_numeric, n_categorical, out);
}
