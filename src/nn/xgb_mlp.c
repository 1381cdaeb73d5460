/*
 * xgb_mlp.c
 *	  The XGBoost-MLP hybrid: tree importance selects the features, an MLP
 *	  classifies on them (xgb_mlp.h).  Both stages are the existing cores;
 *	  this file only joins them, so the hybrid gets every property of its
 *	  stages (missing values, determinism, threads, interrupts) for free.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "scfrisk/xgb_mlp.h"

static const char *const importance_types[] = {
	"weight", "gain", "total_gain", "cover", "total_cover", NULL
};

static const sf_param_spec xgb_mlp_specs[] = {
	{"xgb", SF_PT_OBJECT, offsetof(xgb_mlp_params, xgb), 0, 0, 0, 0, 0, NULL, &gbt_params_table,
	"Stage I: the trees' params (xgb_train's names and defaults)"},
	{"mlp", SF_PT_OBJECT, offsetof(xgb_mlp_params, mlp), 0, 0, 0, 0, 0, NULL, &mlp_params_table,
	"Stage II: the network's params (mlp_train's names and defaults)"},
	{"importance_type", SF_PT_ENUM, offsetof(xgb_mlp_params, importance_type), GBT_IMP_GAIN, 0, 0, 0, 0,
		importance_types, NULL,
	"importance that ranks the features: weight, gain, total_gain, cover, total_cover"},
	{"threshold", SF_PT_DOUBLE, offsetof(xgb_mlp_params, threshold), 0.03, 0, 1, 0, 0, NULL, NULL,
	"keep features whose normalised importance is at least this"},
};

const sf_param_table xgb_mlp_params_table = {
	"xgb_mlp_train", xgb_mlp_specs, (int) (sizeof(xgb_mlp_specs) / sizeof(xgb_mlp_specs[0])), NULL
};

sf_status
xgb_mlp_params_check(sf_env *env, const xgb_mlp_params *p)
{
	sf_status	st;

	if (p->xgb.objective != GBT_OBJ_BINARY)
		return sf_fail(env, SF_EINVAL, "xgb.objective must be binary:logistic: the hybrid classifies default");
	if (p->mlp.objective != MLP_OBJ_BINARY)
		return sf_fail(env, SF_EINVAL, "mlp.objective must be binary:logistic: the hybrid classifies default");
	if ((st = gbt_params_check(env, &p->xgb)) != SF_OK)
		return st;
	return mlp_params_check(env, &p->mlp);
}

/* ------------------------------------------------------------ training */

/*
 * Keep the features whose normalised importance reaches the threshold, in
 * their original order.  A comparison with a tiny relative slack would make
 * the selection depend on rounding; the paper's rule is a plain >=.
 */
static sf_status
select_features(sf_env *env, xgb_mlp_model *m, double threshold)
{
	uint32_t	j,
				k = 0;
	double		best = 0.0;

	for (j = 0; j < m->n_features; j++)
	{
		if (m->importance[j] >= threshold && m->importance[j] > 0.0)
			k++;
		if (m->importance[j] > best)
			best = m->importance[j];
	}
	if (k == 0)
		return sf_fail(env, SF_EDATA,
					   "no feature reaches the importance threshold %g (the largest normalised importance is %g)",
					   threshold, best);
	if (k > NN_MAX_UNITS)
		return sf_fail(env, SF_EDATA,
					   "%u features reach the importance threshold %g, more than the %d an MLP accepts; raise the threshold",
					   k, threshold, NN_MAX_UNITS);
	m->selected = sf_malloc(env, sizeof(uint32_t) * k);
	if (m->selected == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory selecting features");
	m->n_selected = 0;
	for (j = 0; j < m->n_features; j++)
		if (m->importance[j] >= threshold && m->importance[j] > 0.0)
			m->selected[m->n_selected++] = j;
	return SF_OK;
}

sf_status
xgb_mlp_fit(sf_env *env, const xgb_mlp_params *p, const double *x, const double *y,
			size_t n, uint32_t d, xgb_mlp_model *out)
{
	sf_status	st;
	double	   *xs;
	size_t		i;
	uint32_t	j;

	memset(out, 0, sizeof(*out));
	if ((st = xgb_mlp_params_check(env, p)) != SF_OK)
		return st;
	out->n_features = d;
	out->importance_type = p->importance_type;
	out->threshold = p->threshold;

	/* Stage I: trees on every feature, then the ranking. */
	if ((st = gbt_train(env, x, y, NULL, n, d, &p->xgb, &out->trees)) != SF_OK)
		goto fail;
	out->importance = sf_malloc(env, sizeof(double) * d);
	if (out->importance == NULL)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory ranking features");
		goto fail;
	}
	if ((st = gbt_importance(out->trees, (gbt_importance_type) p->importance_type,
							 out->importance)) != SF_OK)
		goto fail;
	gbt_importance_normalize(out->importance, d, out->importance);
	if ((st = select_features(env, out, p->threshold)) != SF_OK)
		goto fail;

	/* Stage II: the network on the kept columns only. */
	xs = sf_malloc(env, sizeof(double) * n * out->n_selected);
	if (xs == NULL)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory gathering the selected features");
		goto fail;
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < out->n_selected; j++)
			xs[i * out->n_selected + j] = x[i * d + out->selected[j]];
	st = mlp_fit(env, &p->mlp, xs, y, n, (int) out->n_selected, &out->mlp);
	sf_free(env, xs);
	if (st != SF_OK)
		goto fail;
	return SF_OK;

fail:
	xgb_mlp_free(env, out);
	return st;
}

void
xgb_mlp_free(sf_env *env, xgb_mlp_model *m)
{
	if (m->trees)
		gbt_model_free(env, m->trees);
	mlp_free(env, &m->mlp);		/* idempotent: safe on a partly built model */
	sf_free(env, m->importance);
	sf_free(env, m->selected);
	memset(m, 0, sizeof(*m));
}

double
xgb_mlp_predict(const xgb_mlp_model *m, const double *x)
{
	double		xs[NN_MAX_UNITS];
	uint32_t	j;

	for (j = 0; j < m->n_selected; j++)
		xs[j] = x[m->selected[j]];
	return mlp_predict(&m->mlp, xs);
}

/* ------------------------------------------------------------ bytes */

static void
put_text(sf_buf *b, const char *s)
{
	sf_buf_put_bytes(b, s, strlen(s));
}

/* The selection and the trees' info: all body, shared by the two JSON forms. */
static void
put_selection_and_trees(const xgb_mlp_model *m, sf_buf *b)
{
	char		t[64];
	uint32_t	j;

	put_text(b, "{\"importance_type\": \"");
	put_text(b, importance_types[m->importance_type]);
	snprintf(t, sizeof(t), "\", \"threshold\": %.17g, \"selected\": [", m->threshold);
	put_text(b, t);
	for (j = 0; j < m->n_selected; j++)
	{
		/* 1-based, as SQL arrays and xgb_select count features */
		snprintf(t, sizeof(t), "%s%u", j ? ", " : "", m->selected[j] + 1);
		put_text(b, t);
	}
	put_text(b, "], \"importance\": [");
	for (j = 0; j < m->n_features; j++)
	{
		snprintf(t, sizeof(t), "%s%.17g", j ? ", " : "", m->importance[j]);
		put_text(b, t);
	}
	put_text(b, "], \"xgb\": ");
	gbt_info_json(m->trees, b);
}

void
xgb_mlp_info_json(const xgb_mlp_model *m, sf_buf *b)
{
	put_selection_and_trees(m, b);
	put_text(b, ", \"mlp\": ");
	mlp_info_json(&m->mlp, b);
	put_text(b, "}");
}

void
xgb_mlp_body_json(const xgb_mlp_model *m, sf_buf *b)
{
	put_selection_and_trees(m, b);
	put_text(b, ", \"mlp\": ");
	mlp_body_json(&m->mlp, b);
	put_text(b, "}");
}

/* Selection section: u8 importance type, f64 threshold, u32 k, k x u32 index, d x f64 importance. */
static void
encode_select(const xgb_mlp_model *m, sf_buf *b)
{
	size_t		mark = sf_section_begin(b, XGB_MLP_TAG_SELECT);
	uint32_t	j;

	sf_buf_put_u8(b, (uint8_t) m->importance_type);
	sf_buf_put_f64(b, m->threshold);
	sf_buf_put_u32(b, m->n_selected);
	for (j = 0; j < m->n_selected; j++)
		sf_buf_put_u32(b, m->selected[j]);
	sf_buf_put_f64s(b, m->importance, m->n_features);
	sf_section_end(b, mark);
}

sf_status
xgb_mlp_encode(sf_env *env, const xgb_mlp_model *m, const xgb_mlp_params *p,
			   const char *const *names, uint64_t rows, sf_buf *b)
{
	size_t		mark;

	sf_container_begin(b, SF_KIND_XGB_MLP, m->n_features);
	mark = sf_section_begin(b, SF_TAG_PARAMS);
	sf_params_to_json(&xgb_mlp_params_table, p, b);
	sf_section_end(b, mark);
	if (names)
		sf_section_put_names(b, names, m->n_features);
	sf_section_put_u64(b, SF_TAG_TRAIN_ROWS, rows);
	sf_section_put_u64(b, SF_TAG_SEED, (uint64_t) p->xgb.seed);
	mark = sf_section_begin(b, SF_TAG_INFO);
	xgb_mlp_info_json(m, b);
	sf_section_end(b, mark);
	encode_select(m, b);
	gbt_encode_body(m->trees, b, XGB_MLP_TAG_GBT);
	mlp_encode_body(&m->mlp, b, XGB_MLP_TAG_MLP);
	return sf_container_finish(b);
}

static sf_status
decode_select(sf_env *env, const sf_container *c, xgb_mlp_model *m)
{
	const sf_section *s = sf_container_find(c, XGB_MLP_TAG_SELECT);
	sf_reader	r;
	uint32_t	j,
				k;
	uint8_t		type;
	double		sum = 0.0;

	if (s == NULL)
		return sf_fail(env, SF_ECORRUPT, "corrupted xgb_mlp model: selection section missing");
	sf_reader_init(&r, s->data, s->len);
	type = sf_read_u8(&r);
	m->threshold = sf_read_f64(&r);
	k = sf_read_u32(&r);
	if (!sf_reader_ok(&r) || type > GBT_IMP_TOTAL_COVER || !(m->threshold >= 0.0 && m->threshold <= 1.0) ||
		k < 1 || k > m->n_features || k > NN_MAX_UNITS ||
		sf_reader_left(&r) != (size_t) k * 4 + (size_t) m->n_features * 8)
		return sf_fail(env, SF_ECORRUPT, "corrupted xgb_mlp model: bad selection section");
	m->importance_type = type;
	m->selected = sf_malloc(env, sizeof(uint32_t) * k);
	m->importance = sf_malloc(env, sizeof(double) * m->n_features);
	if (m->selected == NULL || m->importance == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding an xgb_mlp model");
	m->n_selected = k;
	for (j = 0; j < k; j++)
	{
		m->selected[j] = sf_read_u32(&r);
		if (m->selected[j] >= m->n_features || (j > 0 && m->selected[j] <= m->selected[j - 1]))
			return sf_fail(env, SF_ECORRUPT, "corrupted xgb_mlp model: selected feature indices out of order or range");
	}
	sf_read_f64s(&r, m->importance, m->n_features);
	for (j = 0; j < m->n_features; j++)
	{
		if (!(m->importance[j] >= 0.0 && m->importance[j] <= 1.0))
			return sf_fail(env, SF_ECORRUPT, "corrupted xgb_mlp model: importance of feature %u out of [0, 1]", j + 1);
		sum += m->importance[j];
	}
	if (fabs(sum - 1.0) > 1e-9)
		return sf_fail(env, SF_ECORRUPT, "corrupted xgb_mlp model: importances do not sum to 1");
	return SF_OK;
}

sf_status
xgb_mlp_decode(sf_env *env, const uint8_t *buf, size_t len, xgb_mlp_model *m)
{
	sf_container c;
	sf_status	st;

	memset(m, 0, sizeof(*m));
	if ((st = sf_container_decode_kind(env, buf, len, SF_KIND_XGB_MLP, &c)) != SF_OK)
		return st;
	if (c.n_features < 1)
		return sf_fail(env, SF_ECORRUPT, "corrupted xgb_mlp model: no features");
	m->n_features = c.n_features;
	if ((st = decode_select(env, &c, m)) != SF_OK)
		goto fail;
	m->trees = sf_calloc(env, 1, sizeof(gbt_model));
	if (m->trees == NULL)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory decoding an xgb_mlp model");
		goto fail;
	}
	if ((st = gbt_decode_body(env, &c, XGB_MLP_TAG_GBT, c.n_features, m->trees)) != SF_OK)
	{
		sf_free(env, m->trees);
		m->trees = NULL;
		goto fail;
	}
	if ((st = mlp_decode_body(env, &c, XGB_MLP_TAG_MLP, m->n_selected, &m->mlp)) != SF_OK)
		goto fail;
	if (m->mlp.objective != MLP_OBJ_BINARY || m->trees->objective != GBT_OBJ_BINARY)
	{
		st = sf_fail(env, SF_ECORRUPT, "corrupted xgb_mlp model: a stage is not a binary classifier");
		goto fail;
	}
	return SF_OK;

fail:
	xgb_mlp_free(env, m);
	return st;
}
