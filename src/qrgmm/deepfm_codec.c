/*
 * deepfm_codec.c
 *	  Bytes of a QRGMM DeepFM model (kind qrgmm_deepfm, format version 1):
 *	  encoder and total decoder (declared in deepfm.h; layout in
 *	  docs/format.md, section "qrgmm_deepfm").
 *
 * The container layer checks the header, CRC and section table.  Here every
 * body section must be present with exactly the length its shape implies,
 * the shape must respect the caps, each vocabulary must be strictly
 * increasing and non-negative, the MLP must take F*k inputs through ReLU
 * layers, the head must read F + k + H inputs, and every weight and scaling
 * must be finite (scales positive).  The training log may hold NaN
 * validation losses (no validation share) but no other non-finite value.
 * The optional tail section names a rule other than flat (absent = flat).
 * Any failure is SF_ECORRUPT.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scfrisk/deepfm.h"
#include "scfrisk/sf_codec.h"


#define SHAPE_LEN	(4 + 4 + 4 + 4 + 1 + 8 + 8)

sf_status
deepfm_encode(sf_env *env, const deepfm_model *model, sf_buf *b)
{
	size_t		mark;
	uint32_t	f,
				c,
				e;
	size_t		L = (size_t) (model->m - 1);
	sf_prelude	pre = {.params_json = model->params_json, .rows = model->n_rows,
		.has_seed = true, .seed = (uint64_t) model->seed, .info_json = model->info_json};

	sf_prelude_put(b, SF_KIND_QRGMM_DEEPFM, deepfm_fields(model), &pre);

	mark = sf_section_begin(b, DEEPFM_TAG_SHAPE);
	sf_buf_put_u32(b, model->n_numeric);
	sf_buf_put_u32(b, model->n_categorical);
	sf_buf_put_u32(b, (uint32_t) model->k);
	sf_buf_put_u32(b, (uint32_t) model->m);
	sf_buf_put_u8(b, (uint8_t) model->transform);
	sf_buf_put_f64(b, model->y_center);
	sf_buf_put_f64(b, model->y_scale);
	sf_section_end(b, mark);

	mark = sf_section_begin(b, DEEPFM_TAG_NUMERIC);
	for (f = 0; f < model->n_numeric; f++)
	{
		sf_buf_put_f64(b, model->num_mean[f]);
		sf_buf_put_f64(b, model->num_scale[f]);
	}
	sf_section_end(b, mark);

	mark = sf_section_begin(b, DEEPFM_TAG_VOCAB);
	for (c = 0; c < model->n_categorical; c++)
	{
		uint32_t	len = model->vocab_off[c + 1] - model->vocab_off[c];

		sf_buf_put_u32(b, len);
		sf_buf_put_i32s(b, model->vocab + model->vocab_off[c], len);
	}
	sf_section_end(b, mark);

	mark = sf_section_begin(b, DEEPFM_TAG_EMBED);
	sf_buf_put_f32s(b, model->embed, (size_t) model->n_rows_embed * model->k);
	sf_buf_put_f32s(b, model->first, model->n_rows_embed);
	sf_section_end(b, mark);

	mark = sf_section_begin(b, DEEPFM_TAG_TOWER);
	nn_net_encode(&model->tower, b);
	sf_section_end(b, mark);

	mark = sf_section_begin(b, DEEPFM_TAG_HEAD);
	sf_buf_put_f32s(b, model->head_w, (size_t) model->n_phi * L);
	sf_buf_put_f32s(b, model->head_b, L);
	sf_section_end(b, mark);

	mark = sf_section_begin(b, DEEPFM_TAG_LOG);
	sf_buf_put_u32(b, model->epochs_run);
	sf_buf_put_u32(b, model->best_epoch);
	for (e = 0; e < model->epochs_run; e++)
	{
		sf_buf_put_f32(b, model->log_train[e]);
		sf_buf_put_f32(b, model->log_val[e]);
	}
	sf_section_end(b, mark);

	if (model->refit_m > 0)
	{
		mark = sf_section_begin(b, DEEPFM_TAG_REFIT);
		sf_buf_put_u32(b, (uint32_t) model->refit_m);
		sf_buf_put_u32(b, (uint32_t) model->refit_p);
		for (e = 0; e + 1 < (uint32_t) model->refit_p; e++)
			sf_buf_put_u32(b, model->refit_cols[e]);
		sf_buf_put_f64s(b, model->refit_coef, (size_t) (model->refit_m - 1) * model->refit_p);
		sf_section_end(b, mark);
	}

	sf_qcurve_put_tail(b, DEEPFM_TAG_TAIL, model->tail);
	return sf_container_finish(b);
}

static int
all_finite(const float *v, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return 0;
	return 1;
}

void
deepfm_body_json(const deepfm_model *model, sf_buf *b)
{
	char		t[320];
	int			n;

	/* printed as deepfm_fit's info JSON prints them */
	n = snprintf(t, sizeof(t), "{\"m\": %d, \"transform\": \"%s\", \"tail\": \"%s\"",
				 model->m, model->transform == SF_TRANSFORM_LOG1P ? "log1p" : "identity",
				 sf_tail_rule_names[model->tail]);
	sf_buf_put_bytes(b, t, (size_t) n);
	if (model->refit_m > 0)
	{
		n = snprintf(t, sizeof(t), ", \"refit\": {\"m\": %d, \"levels\": %d, \"features\": %d, "
					 "\"dropped_features\": %d}", model->refit_m, model->refit_m - 1,
					 model->refit_p - 1, model->n_phi - (model->refit_p - 1));
		sf_buf_put_bytes(b, t, (size_t) n);
	}
	sf_buf_put_bytes(b, "}", 1);
}

#define CORRUPT(...) return sf_fail(env, SF_ECORRUPT, __VA_ARGS__)
#define NOMEM() return sf_fail(env, SF_ENOMEM, "out of memory decoding a DeepFM model")

/* The shape section: field counts, embedding size, grid, response scaling. */
static sf_status
decode_shape(sf_env *env, const sf_container *c, deepfm_model *model)
{
	const sf_section *sec = sf_container_find(c, DEEPFM_TAG_SHAPE);
	sf_reader	r;
	uint32_t	F,
				k,
				m;
	uint8_t		transform;

	if (sec == NULL || sec->len != SHAPE_LEN)
		CORRUPT("qrgmm_deepfm model has no valid shape section");
	sf_reader_init(&r, sec->data, sec->len);
	model->n_numeric = sf_read_u32(&r);
	model->n_categorical = sf_read_u32(&r);
	k = sf_read_u32(&r);
	m = sf_read_u32(&r);
	transform = sf_read_u8(&r);
	model->y_center = sf_read_f64(&r);
	model->y_scale = sf_read_f64(&r);
	if (model->n_numeric > DEEPFM_MAX_FIELDS || model->n_categorical > DEEPFM_MAX_FIELDS)
		CORRUPT("qrgmm_deepfm model has too many fields");
	F = model->n_numeric + model->n_categorical;
	if (F < 1 || F > DEEPFM_MAX_FIELDS || F != c->n_features)
		CORRUPT("qrgmm_deepfm model has %u fields but its header says %u features", F, c->n_features);
	if (k < DEEPFM_MIN_K || k > DEEPFM_MAX_K || (size_t) F * k > NN_MAX_UNITS)
		CORRUPT("qrgmm_deepfm model has embedding size %u", k);
	if (m < DEEPFM_MIN_M || m > DEEPFM_MAX_M)
		CORRUPT("qrgmm_deepfm model has grid parameter m = %u outside [%d, %d]", m,
				DEEPFM_MIN_M, DEEPFM_MAX_M);
	if (transform != SF_TRANSFORM_IDENTITY && transform != SF_TRANSFORM_LOG1P)
		CORRUPT("qrgmm_deepfm model has unknown transform %u", (unsigned) transform);
	if (!isfinite(model->y_center) || !isfinite(model->y_scale) || !(model->y_scale > 0.0))
		CORRUPT("qrgmm_deepfm model has an invalid response scaling");
	model->k = (int) k;
	model->m = (int) m;
	model->transform = (sf_transform) transform;
	return SF_OK;
}

/* Mean and scale of every numeric field: finite, scales positive. */
static sf_status
decode_numeric(sf_env *env, const sf_container *c, deepfm_model *model)
{
	const sf_section *sec = sf_container_find(c, DEEPFM_TAG_NUMERIC);
	sf_reader	r;
	uint32_t	f;

	if (sec == NULL || sec->len != (uint64_t) model->n_numeric * 16)
		CORRUPT("qrgmm_deepfm model has no valid numeric scaling section");
	if (!sf_alloc_all(env, SF_CALLOC_N(model->num_mean, model->n_numeric ? model->n_numeric : 1),
					  SF_CALLOC_N(model->num_scale, model->n_numeric ? model->n_numeric : 1)))
		NOMEM();
	sf_reader_init(&r, sec->data, sec->len);
	for (f = 0; f < model->n_numeric; f++)
	{
		model->num_mean[f] = sf_read_f64(&r);
		model->num_scale[f] = sf_read_f64(&r);
		if (!isfinite(model->num_mean[f]) || !isfinite(model->num_scale[f]) ||
			!(model->num_scale[f] > 0.0))
			CORRUPT("qrgmm_deepfm model has an invalid scaling of numeric field %u", f + 1);
	}
	return SF_OK;
}

/*
 * The vocabularies of the categorical fields, in two passes over the
 * section: the lengths first (offsets, with the caps checked before any
 * allocation sized by them), then the ids, strictly increasing and
 * non-negative.
 */
static sf_status
decode_vocab(sf_env *env, const sf_container *c, deepfm_model *model)
{
	const sf_section *sec = sf_container_find(c, DEEPFM_TAG_VOCAB);
	sf_reader	r;
	uint32_t	f;
	size_t		i,
				total = 0;

	if (sec == NULL)
		CORRUPT("qrgmm_deepfm model has no vocabulary section");
	sf_reader_init(&r, sec->data, sec->len);
	model->vocab_off = sf_calloc(env, (size_t) model->n_categorical + 1, sizeof(uint32_t));
	if (model->vocab_off == NULL)
		NOMEM();
	for (f = 0; f < model->n_categorical; f++)
	{
		uint32_t	vlen = sf_read_u32(&r);

		if (!sf_reader_ok(&r) || vlen > DEEPFM_MAX_VOCAB || !sf_reader_has(&r, vlen, 4))
			CORRUPT("qrgmm_deepfm model has an invalid vocabulary for categorical field %u", f + 1);
		r.p += (size_t) vlen * 4;
		total += vlen;
		if (total > (size_t) UINT32_MAX / 2)
			CORRUPT("qrgmm_deepfm model has oversized vocabularies");
		model->vocab_off[f + 1] = (uint32_t) total;
	}
	if (sf_reader_left(&r) != 0)
		CORRUPT("qrgmm_deepfm model has trailing bytes in its vocabulary section");
	model->vocab = sf_malloc(env, (total ? total : 1) * sizeof(int32_t));
	if (model->vocab == NULL)
		NOMEM();
	sf_reader_init(&r, sec->data, sec->len);
	for (f = 0; f < model->n_categorical; f++)
	{
		uint32_t	vlen = sf_read_u32(&r);
		int32_t    *v = model->vocab + model->vocab_off[f];

		sf_read_i32s(&r, v, vlen);
		for (i = 0; i < vlen; i++)
			if (v[i] < 0 || (i > 0 && v[i] <= v[i - 1]))
				CORRUPT("qrgmm_deepfm model has an unsorted or negative id in the vocabulary of categorical field %u",
						f + 1);
	}
	return SF_OK;
}

/* The MLP tower: F*k inputs, ReLU layers. */
static sf_status
decode_tower(sf_env *env, const sf_container *c, deepfm_model *model)
{
	const sf_section *sec = sf_container_find(c, DEEPFM_TAG_TOWER);
	uint32_t	Fk = deepfm_fields(model) * (uint32_t) model->k;
	sf_reader	r;
	sf_status	st;
	int			l;

	if (sec == NULL)
		CORRUPT("qrgmm_deepfm model has no MLP section");
	sf_reader_init(&r, sec->data, sec->len);
	st = nn_net_decode(env, &r, &model->tower);
	if (st != SF_OK)
		return st;
	if (sf_reader_left(&r) != 0)
		CORRUPT("qrgmm_deepfm model has trailing bytes in its MLP section");
	if (model->tower.layers[0].n_in != (int) Fk)
		CORRUPT("qrgmm_deepfm model's MLP takes %d inputs, not fields x embedding size = %u",
				model->tower.layers[0].n_in, Fk);
	for (l = 0; l < model->tower.n_layers; l++)
		if (model->tower.layers[l].act != NN_ACT_RELU)
			CORRUPT("qrgmm_deepfm model's MLP layer %d is not ReLU", l + 1);
	return SF_OK;
}

/* Embeddings and head, laid out from the shapes above; every weight finite. */
static sf_status
decode_weights(sf_env *env, const sf_container *c, deepfm_model *model)
{
	const sf_section *sec;
	size_t		k = (size_t) model->k,
				L = (size_t) (model->m - 1);
	sf_reader	r;
	sf_status	st;

	st = deepfm_alloc_params(env, model);
	if (st == SF_ELIMIT)
		CORRUPT("qrgmm_deepfm model has too many embedding rows");
	if (st != SF_OK)
		return st;
	sec = sf_container_find(c, DEEPFM_TAG_EMBED);
	if (sec == NULL || sec->len != ((uint64_t) model->n_rows_embed * k + model->n_rows_embed) * 4)
		CORRUPT("qrgmm_deepfm model has no valid embedding section");
	sf_reader_init(&r, sec->data, sec->len);
	sf_read_f32s(&r, model->embed, (size_t) model->n_rows_embed * k);
	sf_read_f32s(&r, model->first, model->n_rows_embed);
	sec = sf_container_find(c, DEEPFM_TAG_HEAD);
	if (sec == NULL || sec->len != ((uint64_t) model->n_phi * L + L) * 4)
		CORRUPT("qrgmm_deepfm model has no valid head section");
	sf_reader_init(&r, sec->data, sec->len);
	sf_read_f32s(&r, model->head_w, (size_t) model->n_phi * L);
	sf_read_f32s(&r, model->head_b, L);
	if (!all_finite(model->params, model->n_params))
		CORRUPT("qrgmm_deepfm model has a non-finite embedding or head weight");
	return SF_OK;
}

/* The training log: finite training losses, validation losses NaN or finite. */
static sf_status
decode_log(sf_env *env, const sf_container *c, deepfm_model *model)
{
	const sf_section *sec = sf_container_find(c, DEEPFM_TAG_LOG);
	sf_reader	r;
	uint32_t	e;

	if (sec == NULL || sec->len < 8)
		CORRUPT("qrgmm_deepfm model has no valid training log");
	sf_reader_init(&r, sec->data, sec->len);
	model->epochs_run = sf_read_u32(&r);
	model->best_epoch = sf_read_u32(&r);
	if (model->epochs_run > DEEPFM_MAX_EPOCHS || model->best_epoch > model->epochs_run ||
		sec->len != 8 + (uint64_t) model->epochs_run * 8)
		CORRUPT("qrgmm_deepfm model has an invalid training log");
	if (!sf_alloc_all(env, SF_MALLOC_N(model->log_train, model->epochs_run ? model->epochs_run : 1),
					  SF_MALLOC_N(model->log_val, model->epochs_run ? model->epochs_run : 1)))
		NOMEM();
	for (e = 0; e < model->epochs_run; e++)
	{
		model->log_train[e] = sf_read_f32(&r);
		model->log_val[e] = sf_read_f32(&r);
		if (!isfinite(model->log_train[e]) || isinf(model->log_val[e]))
			CORRUPT("qrgmm_deepfm model has an invalid loss in its training log at epoch %u", e + 1);
	}
	return SF_OK;
}

/* The optional refit (deepfm_refit): increasing feature indexes, finite coefficients. */
static sf_status
decode_refit(sf_env *env, const sf_container *c, deepfm_model *model)
{
	const sf_section *sec = sf_container_find(c, DEEPFM_TAG_REFIT);
	sf_reader	r;
	uint32_t	rm,
				rp;
	size_t		i;

	if (sec == NULL)
		return SF_OK;
	sf_reader_init(&r, sec->data, sec->len);
	rm = sf_read_u32(&r);
	rp = sf_read_u32(&r);
	if (!sf_reader_ok(&r) || rm < 2 || rm > 10000 || rp < 1 || rp > (uint32_t) model->n_phi + 1 ||
		sec->len != 8 + (uint64_t) (rp - 1) * 4 + (uint64_t) (rm - 1) * rp * 8)
		CORRUPT("qrgmm_deepfm model has an invalid refit section");
	if (!sf_alloc_all(env, SF_MALLOC_N(model->refit_cols, rp),
					  SF_MALLOC_N(model->refit_coef, (size_t) (rm - 1) * rp)))
		NOMEM();
	for (i = 0; i + 1 < rp; i++)
	{
		model->refit_cols[i] = sf_read_u32(&r);
		if (model->refit_cols[i] >= (uint32_t) model->n_phi ||
			(i > 0 && model->refit_cols[i] <= model->refit_cols[i - 1]))
			CORRUPT("qrgmm_deepfm model's refit uses an invalid feature index");
	}
	sf_read_f64s(&r, model->refit_coef, (size_t) (rm - 1) * rp);
	for (i = 0; i < (size_t) (rm - 1) * rp; i++)
		if (!isfinite(model->refit_coef[i]))
			CORRUPT("qrgmm_deepfm model has a non-finite refit coefficient");
	model->refit_m = (int) rm;
	model->refit_p = (int) rp;
	return SF_OK;
}

/*
 * Body sections in dependency order: the shape sizes every later section,
 * the tower and embeddings fix n_phi, which sizes the head and the refit.
 */
static sf_status
decode_body(sf_env *env, const sf_container *c, deepfm_model *model)
{
	sf_status	st;

	if ((st = decode_shape(env, c, model)) != SF_OK ||
		(st = decode_numeric(env, c, model)) != SF_OK ||
		(st = decode_vocab(env, c, model)) != SF_OK ||
		(st = decode_tower(env, c, model)) != SF_OK ||
		(st = decode_weights(env, c, model)) != SF_OK ||
		(st = decode_log(env, c, model)) != SF_OK ||
		(st = decode_refit(env, c, model)) != SF_OK)
		return st;
	if (!sf_qcurve_get_tail(c, DEEPFM_TAG_TAIL, &model->tail))
		CORRUPT("qrgmm_deepfm model has an invalid tail section");
	/* the texts are kept so that re-encoding reproduces the bytes */
	return sf_prelude_get(env, c, "DeepFM", &model->n_rows, &model->seed, &model->params_json,
						  &model->info_json);
}

sf_status
deepfm_decode(sf_env *env, const uint8_t *buf, size_t len, deepfm_model **out)
{
	sf_container c;
	deepfm_model *model;
	sf_status	st;

	*out = NULL;
	st = sf_container_decode_tags(env, buf, len, SF_KIND_QRGMM_DEEPFM, DEEPFM_TAG_TAIL, &c);
	if (st != SF_OK)
		return st;
	model = sf_calloc(env, 1, sizeof(*model));
	if (model == NULL)
		NOMEM();
	st = decode_body(env, &c, model);
	if (st != SF_OK)
	{
		deepfm_free(env, model);
		return st;
	}
	*out = model;
	return SF_OK;
}
