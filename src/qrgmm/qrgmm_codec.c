/*
 * qrgmm_codec.c
 *	  Bytes of a linear QRGMM model (kind qrgmm_linear, format version 1):
 *	  encoder and total decoder (declared in qrgmm.h; layout in
 *	  docs/format.md, section "qrgmm_linear").
 *
 * The decoder trusts nothing: the container layer checks the header, CRC
 * and section table; here every body section must be present with its exact
 * length, the grid must be exactly j/m, the basis width must match the
 * covariate count and degree, and every number must be finite (scales and
 * the response scale positive).  Any failure is SF_ECORRUPT.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scfrisk/qrgmm.h"
#include "scfrisk/sf_codec.h"

void
sf_qrgmm_body_json(const sf_qrgmm_model *model, sf_buf *b)
{
	char		t[512];
	int			n;

	/* printed as sf_qrgmm_fit's info JSON prints them */
	n = snprintf(t, sizeof(t),
				 "{\"m\": %d, \"levels\": %d, \"p\": %d, \"degree\": %d, \"transform\": \"%s\", "
				 "\"tail\": \"%s\", \"crossing_rate\": %.6g",
				 model->m, model->m - 1, model->p, model->degree,
				 model->transform == SF_TRANSFORM_LOG1P ? "log1p" : "identity",
				 sf_tail_rule_name(model->tail), model->crossing_rate);
	if (model->tail == SF_TAIL_GPD)
		n += snprintf(t + n, sizeof(t) - (size_t) n,
					  ", \"gpd_threshold_level\": %.6g, \"gpd_spacing_level\": %.6g, "
					  "\"gpd_shape\": %.6g, \"gpd_scale\": %.6g, \"gpd_exceedances\": %u",
					  (double) model->gpd.k / model->m, (double) model->gpd.k2 / model->m,
					  model->gpd.xi, model->gpd.beta, model->gpd.exceedances);
	t[n++] = '}';
	sf_buf_put_bytes(b, t, (size_t) n);
}

sf_status
sf_qrgmm_encode(sf_env *env, const sf_qrgmm_model *model, sf_buf *b)
{
	size_t		mark;
	int			j;
	int			L = model->m - 1;
	sf_prelude	pre = {.params_json = model->params_json, .rows = model->n_rows,
		.has_seed = true, .seed = (uint64_t) model->seed, .info_json = model->info_json};

	sf_prelude_put(b, SF_KIND_QRGMM_LINEAR, model->d, &pre);

	mark = sf_section_begin(b, QRGMM_TAG_SHAPE);
	sf_buf_put_u32(b, (uint32_t) model->m);
	sf_buf_put_u32(b, (uint32_t) model->p);
	sf_buf_put_u8(b, (uint8_t) model->degree);
	sf_buf_put_u8(b, (uint8_t) model->transform);
	sf_buf_put_f64(b, model->y_center);
	sf_buf_put_f64(b, model->y_scale);
	sf_buf_put_f64(b, model->crossing_rate);
	sf_section_end(b, mark);

	mark = sf_section_begin(b, QRGMM_TAG_GRID);
	for (j = 1; j <= L; j++)
		sf_buf_put_f64(b, (double) j / (double) model->m);
	sf_section_end(b, mark);

	mark = sf_section_begin(b, QRGMM_TAG_COEF);
	sf_buf_put_f64s(b, model->coef, (size_t) L * model->p);
	sf_section_end(b, mark);

	mark = sf_section_begin(b, QRGMM_TAG_SCALING);
	sf_buf_put_f64s(b, model->center, (size_t) model->p);
	sf_buf_put_f64s(b, model->scale, (size_t) model->p);
	sf_section_end(b, mark);

	mark = sf_section_begin(b, QRGMM_TAG_DIAG);
	for (j = 0; j < L; j++)
	{
		sf_buf_put_u32(b, model->iterations[j]);
		sf_buf_put_f64(b, model->gaps[j]);
	}
	sf_section_end(b, mark);

	sf_qcurve_put_tail(b, QRGMM_TAG_TAIL, model->tail);
	if (model->tail == SF_TAIL_GPD)
	{
		mark = sf_section_begin(b, QRGMM_TAG_GPD);
		sf_buf_put_u32(b, (uint32_t) model->gpd.k);
		sf_buf_put_u32(b, (uint32_t) model->gpd.k2);
		sf_buf_put_f64(b, model->gpd.xi);
		sf_buf_put_f64(b, model->gpd.beta);
		sf_buf_put_u32(b, model->gpd.exceedances);
		sf_section_end(b, mark);
	}
	return sf_container_finish(b);
}

#define CORRUPT(...) do { st = sf_fail(env, SF_ECORRUPT, __VA_ARGS__); goto fail; } while (0)

/* A body section that must be present with exactly 'want' bytes. */
static const sf_section *
body_section(const sf_container *c, uint16_t tag, uint64_t want)
{
	const sf_section *s = sf_container_find(c, tag);

	if (s == NULL || s->len != want)
		return NULL;
	return s;
}

/* The GPD section: present exactly when the tail rule is gpd, its knots those of the grid. */
static sf_status
decode_gpd(sf_env *env, const sf_container *c, sf_qrgmm_model *model)
{
	const sf_section *sec = sf_container_find(c, QRGMM_TAG_GPD);
	sf_qcurve_gpd *g = &model->gpd;
	sf_reader	r;
	int			k,
				k2;

	if (model->tail != SF_TAIL_GPD)
		return sec == NULL ? SF_OK :
			sf_fail(env, SF_ECORRUPT, "qrgmm_linear model has a gpd section without the gpd tail rule");
	if (sec == NULL || sec->len != 4 + 4 + 8 + 8 + 4)
		return sf_fail(env, SF_ECORRUPT, "qrgmm_linear model has the gpd tail rule without a valid gpd section");
	sf_reader_init(&r, sec->data, sec->len);
	g->k = (int) sf_read_u32(&r);
	g->k2 = (int) sf_read_u32(&r);
	g->xi = sf_read_f64(&r);
	g->beta = sf_read_f64(&r);
	g->exceedances = sf_read_u32(&r);
	if (!sf_qcurve_gpd_knots(model->m, &k, &k2) || g->k != k || g->k2 != k2)
		return sf_fail(env, SF_ECORRUPT, "qrgmm_linear model has gpd knots %d and %d, not those of m = %d",
					   g->k, g->k2, model->m);
	if (!(g->xi >= SF_GPD_XI_MIN && g->xi <= SF_GPD_XI_MAX) || !(g->beta > 0.0) || !isfinite(g->beta))
		return sf_fail(env, SF_ECORRUPT, "qrgmm_linear model has an invalid gpd shape %g or scale %g",
					   g->xi, g->beta);
	return SF_OK;
}

sf_status
sf_qrgmm_decode(sf_env *env, const uint8_t *buf, size_t len, sf_qrgmm_model **out)
{
	sf_container c;
	sf_qrgmm_model *model = NULL;
	const sf_section *sec;
	sf_reader	r;
	sf_status	st;
	uint32_t	m,
				p;
	uint8_t		degree,
				transform;
	size_t		L,
				i;

	*out = NULL;
	st = sf_container_decode_tags(env, buf, len, SF_KIND_QRGMM_LINEAR, QRGMM_TAG_GPD, &c);
	if (st != SF_OK)
		return st;
	model = sf_calloc(env, 1, sizeof(*model));
	if (model == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding a QRGMM model");

	sec = body_section(&c, QRGMM_TAG_SHAPE, 4 + 4 + 1 + 1 + 8 + 8 + 8);
	if (sec == NULL)
		CORRUPT("qrgmm_linear model has no valid shape section");
	sf_reader_init(&r, sec->data, sec->len);
	m = sf_read_u32(&r);
	p = sf_read_u32(&r);
	degree = sf_read_u8(&r);
	transform = sf_read_u8(&r);
	model->y_center = sf_read_f64(&r);
	model->y_scale = sf_read_f64(&r);
	model->crossing_rate = sf_read_f64(&r);
	if (m < QRGMM_MIN_M || m > QRGMM_MAX_M)
		CORRUPT("qrgmm_linear model has grid parameter m = %u outside [%d, %d]", m, QRGMM_MIN_M, QRGMM_MAX_M);
	if (degree < QRGMM_MIN_DEGREE || degree > QRGMM_MAX_DEGREE)
		CORRUPT("qrgmm_linear model has basis degree %u", (unsigned) degree);
	if (transform != SF_TRANSFORM_IDENTITY && transform != SF_TRANSFORM_LOG1P)
		CORRUPT("qrgmm_linear model has unknown transform %u", (unsigned) transform);
	if (c.n_features < 1 || c.n_features > QRGMM_MAX_FEATURES ||
		sf_qrgmm_basis_size(c.n_features, degree) != (int) p)
		CORRUPT("qrgmm_linear model has %u design columns, which does not match %u covariates at degree %u",
				p, c.n_features, (unsigned) degree);
	if (!isfinite(model->y_center) || !(model->y_scale > 0.0) || !isfinite(model->y_scale) ||
		!(model->crossing_rate >= 0.0 && model->crossing_rate <= 1.0))
		CORRUPT("qrgmm_linear model has an invalid response scaling or crossing rate");
	model->d = c.n_features;
	model->m = (int) m;
	model->p = (int) p;
	model->degree = degree;
	model->transform = (sf_transform) transform;
	L = m - 1;

	sec = body_section(&c, QRGMM_TAG_GRID, (uint64_t) L * 8);
	if (sec == NULL)
		CORRUPT("qrgmm_linear model has no valid grid section");
	sf_reader_init(&r, sec->data, sec->len);
	for (i = 1; i <= L; i++)
		if (sf_read_f64(&r) != (double) i / (double) m)
			CORRUPT("qrgmm_linear model grid level %zu is not %zu/%u", i, i, m);

	sec = body_section(&c, QRGMM_TAG_COEF, (uint64_t) L * p * 8);
	if (sec == NULL)
		CORRUPT("qrgmm_linear model has no valid coefficient section");
	if (!sf_alloc_all(env, SF_MALLOC_N(model->coef, L * p), SF_MALLOC_N(model->center, p),
					  SF_MALLOC_N(model->scale, p), SF_MALLOC_N(model->iterations, L), SF_MALLOC_N(model->gaps, L)))
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory decoding a QRGMM model");
		goto fail;
	}
	sf_reader_init(&r, sec->data, sec->len);
	sf_read_f64s(&r, model->coef, L * p);
	for (i = 0; i < L * p; i++)
		if (!isfinite(model->coef[i]))
			CORRUPT("qrgmm_linear model has a non-finite coefficient at level %zu", i / p + 1);

	sec = body_section(&c, QRGMM_TAG_SCALING, (uint64_t) p * 16);
	if (sec == NULL)
		CORRUPT("qrgmm_linear model has no valid scaling section");
	sf_reader_init(&r, sec->data, sec->len);
	sf_read_f64s(&r, model->center, p);
	sf_read_f64s(&r, model->scale, p);
	for (i = 0; i < p; i++)
		if (!isfinite(model->center[i]) || !(model->scale[i] > 0.0) || !isfinite(model->scale[i]))
			CORRUPT("qrgmm_linear model has an invalid scaling of design column %zu", i);

	sec = body_section(&c, QRGMM_TAG_DIAG, (uint64_t) L * 12);
	if (sec == NULL)
		CORRUPT("qrgmm_linear model has no valid diagnostics section");
	sf_reader_init(&r, sec->data, sec->len);
	for (i = 0; i < L; i++)
	{
		model->iterations[i] = sf_read_u32(&r);
		model->gaps[i] = sf_read_f64(&r);
		if (!(model->gaps[i] >= 0.0) || !isfinite(model->gaps[i]))
			CORRUPT("qrgmm_linear model has an invalid duality gap at level %zu", i + 1);
	}

	if (!sf_qcurve_get_tail_of(&c, QRGMM_TAG_TAIL, SF_TAIL_RULE_ALL, &model->tail))
		CORRUPT("qrgmm_linear model has an invalid tail section");
	if ((st = decode_gpd(env, &c, model)) != SF_OK)
		goto fail;

	(void) sf_prelude_get(env, &c, "QRGMM", &model->n_rows, &model->seed, NULL, NULL);
	*out = model;
	return SF_OK;

fail:
	sf_qrgmm_free(env, model);
	return st;
}
