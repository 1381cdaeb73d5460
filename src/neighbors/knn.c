/*
 * knn.c
 *	  k nearest neighbours (knn.h): the parameter table, the fit (the
 *	  StandardScaler statistics and the standardised rows), exact search,
 *	  and the model bytes:
 *
 *	  tag 16 (meta):   u32 k, u8 weights, u32 n_rows
 *	  tag 17 (scale):  f64 mean[p], f64 scale[p]
 *	  tag 18 (rows):   f64 rows[n_rows][p] (standardised)
 *	  tag 19 (labels): u8 label[n_rows] (0 or 1)
 *
 * The decoder checks every count against the caps and the section
 * lengths, finite numbers, positive scales, labels 0 or 1 with both present,
 * and k at most n_rows.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "scfrisk/knn.h"
#include "scfrisk/sf_codec.h"

static const char *const knn_weights[] = {"uniform", "distance", NULL};

static const sf_param_spec knn_specs[] = {
	{"k", SF_PT_INT, offsetof(knn_params, k), 5, 1, KNN_MAX_K, 0, 0, NULL, NULL,
	"neighbours (n_neighbors); at most the training rows"},
	{"weights", SF_PT_ENUM, offsetof(knn_params, weights), KNN_WEIGHTS_UNIFORM, 0, 0, 0, 0, knn_weights, NULL,
	"uniform (each neighbour counts once) or distance (weights 1/d)"},
	{"feature_names", SF_PT_STR_LIST, offsetof(knn_params, feature_names), 0, 0, KNN_MAX_FEATURES, 0, 0,
	NULL, NULL, "names of the features, one per element of the features array"},
	{"verbose", SF_PT_BOOL, offsetof(knn_params, verbose), 0, 0, 1, 0, 0, NULL, NULL,
	"a NOTICE line when the rows are standardised and stored", 1},
};

const sf_param_table knn_params_table = {
	"knn_train", knn_specs, (int) (sizeof(knn_specs) / sizeof(knn_specs[0])), NULL
};

void
knn_free(sf_env *env, knn_model *m)
{
	sf_free_clear(env, &m->mean, &m->scale, &m->rows, &m->labels);
}

static sf_status
check_data(sf_env *env, const knn_params *prm, const double *x, const double *y, size_t n, uint32_t p)
{
	if (n == 0)
		return sf_fail(env, SF_EDATA, "no training rows");
	if (p == 0 || p > KNN_MAX_FEATURES)
		return sf_fail_hint(env, SF_ELIMIT, "Pass fewer features: distances over many features say little.",
							"features must have 1 to %d elements, got %u",
							KNN_MAX_FEATURES, (unsigned) p);
	if (n > KNN_MAX_ROWS || n * (size_t) p > KNN_MAX_ELEMENTS)
	{
		sf_fail(env, SF_ELIMIT,
				"a knn model holds its training rows: at most %d rows and %d numbers "
				"(rows times features), got %zu rows of %u",
				KNN_MAX_ROWS, KNN_MAX_ELEMENTS, n, (unsigned) p);
		sf_hint(env, "Train on a sample of at most %zu rows (for example TABLESAMPLE or "
				"ORDER BY random() LIMIT), or use rf_train or xgb_train, whose models do not "
				"hold rows.", (size_t) KNN_MAX_ELEMENTS / p < KNN_MAX_ROWS ?
				(size_t) KNN_MAX_ELEMENTS / p : (size_t) KNN_MAX_ROWS);
		return SF_ELIMIT;
	}
	if ((size_t) prm->k > n)
	{
		sf_fail(env, SF_EINVAL, "k is %d but there are only %zu training rows", prm->k, n);
		sf_hint(env, "Pass \"k\" of at most %zu, or train on more rows.", n);
		return SF_EINVAL;
	}
	return sf_check_binary_rows(env, x, y, n, p, NULL);
}

sf_status
knn_fit(sf_env *env, const knn_params *prm, const double *x, const double *y, size_t n, uint32_t p,
		knn_model *out)
{
	size_t		i;
	uint32_t	j;
	sf_status	st;

	memset(out, 0, sizeof(*out));
	if (prm->k < 1 || prm->k > KNN_MAX_K)
		return sf_fail(env, SF_EINVAL, "k must be in [1, %d], got %d", KNN_MAX_K, prm->k);
	if ((st = check_data(env, prm, x, y, n, p)) != SF_OK)
		return st;
	out->mean = sf_calloc(env, p, sizeof(double));
	out->scale = sf_calloc(env, p, sizeof(double));
	out->rows = sf_malloc(env, sizeof(double) * n * p);
	out->labels = sf_malloc(env, n);
	if (!out->mean || !out->scale || !out->rows || !out->labels)
	{
		knn_free(env, out);
		return sf_fail(env, SF_ENOMEM, "out of memory fitting k nearest neighbours");
	}
	out->n_features = p;
	out->n_rows = (uint32_t) n;
	out->k = prm->k;
	out->weights = prm->weights;
	/* StandardScaler: two passes; a constant feature keeps scale 1 */
	for (i = 0; i < n; i++)
		for (j = 0; j < p; j++)
			out->mean[j] += x[i * p + j];
	for (j = 0; j < p; j++)
		out->mean[j] /= (double) n;
	for (i = 0; i < n; i++)
		for (j = 0; j < p; j++)
		{
			double		d = x[i * p + j] - out->mean[j];

			out->scale[j] += d * d;
		}
	for (j = 0; j < p; j++)
	{
		double		sd = sqrt(out->scale[j] / (double) n);

		out->scale[j] = sd > 0.0 ? sd : 1.0;
	}
	for (i = 0; i < n; i++)
	{
		out->labels[i] = (uint8_t) y[i];
		for (j = 0; j < p; j++)
			out->rows[i * p + j] = (x[i * p + j] - out->mean[j]) / out->scale[j];
	}
	sf_progress_report(env, "pass", 1, 1, 0, NULL, NAN, NAN);
	return SF_OK;
}

double
knn_predict(const knn_model *m, const double *x)
{
	double		z[KNN_MAX_FEATURES],
				best[KNN_MAX_K];
	uint32_t	who[KNN_MAX_K],
				i,
				j;
	int			k = m->k,
				have = 0,
				t,
				zeros = 0;
	double		num = 0.0,
				den = 0.0;

	for (j = 0; j < m->n_features; j++)
	{
		if (isnan(x[j]))
			return NAN;
		z[j] = (x[j] - m->mean[j]) / m->scale[j];
	}
	/* exact search: the k smallest squared distances, ties to the earlier row */
	for (i = 0; i < m->n_rows; i++)
	{
		const double *r = m->rows + (size_t) i * m->n_features;
		double		d = 0.0;

		for (j = 0; j < m->n_features; j++)
		{
			double		e = z[j] - r[j];

			d += e * e;
		}
		if (have == k && !(d < best[k - 1]))
			continue;
		t = have < k ? have++ : k - 1;
		for (; t > 0 && best[t - 1] > d; t--)
		{
			best[t] = best[t - 1];
			who[t] = who[t - 1];
		}
		best[t] = d;
		who[t] = i;
	}
	if (m->weights == KNN_WEIGHTS_UNIFORM)
	{
		for (t = 0; t < k; t++)
			num += m->labels[who[t]];
		return num / k;
	}
	/* 1/d weights; rows at distance 0 take all the weight (scikit-learn's rule) */
	for (t = 0; t < k; t++)
		zeros += best[t] == 0.0;
	for (t = 0; t < k; t++)
	{
		double		w = zeros ? (best[t] == 0.0 ? 1.0 : 0.0) : 1.0 / sqrt(best[t]);

		num += w * m->labels[who[t]];
		den += w;
	}
	return num / den;
}

/* ------------------------------------------------------------ bytes */

void
knn_body_json(const knn_model *m, sf_buf *b)
{
	char		info[120];

	snprintf(info, sizeof(info), "{\"k\": %d, \"weights\": \"%s\", \"rows_held\": %u}",
			 m->k, knn_weights[m->weights], (unsigned) m->n_rows);
	sf_buf_put_bytes(b, info, strlen(info));
}

sf_status
knn_encode(sf_env *env, const knn_model *m, const knn_params *p, const char *const *names, sf_buf *b)
{
	size_t		mark;
	sf_prelude	pre = {.params_table = &knn_params_table, .params = p, .names = names,
		.rows = m->n_rows, .described = m};

	sf_prelude_put(b, SF_KIND_KNN, m->n_features, &pre);
	mark = sf_section_begin(b, KNN_TAG_META);
	sf_buf_put_u32(b, (uint32_t) m->k);
	sf_buf_put_u8(b, (uint8_t) m->weights);
	sf_buf_put_u32(b, m->n_rows);
	sf_section_end(b, mark);
	mark = sf_section_begin(b, KNN_TAG_SCALE);
	sf_buf_put_f64s(b, m->mean, m->n_features);
	sf_buf_put_f64s(b, m->scale, m->n_features);
	sf_section_end(b, mark);
	mark = sf_section_begin(b, KNN_TAG_ROWS);
	sf_buf_put_f64s(b, m->rows, (size_t) m->n_rows * m->n_features);
	sf_section_end(b, mark);
	mark = sf_section_begin(b, KNN_TAG_LABELS);
	sf_buf_put_bytes(b, m->labels, m->n_rows);
	sf_section_end(b, mark);
	return sf_container_finish(b);
}

static sf_status
decode_body(sf_env *env, const sf_container *c, void *model)
{
	knn_model  *m = model;
	const sf_section *meta = sf_container_find(c, KNN_TAG_META),
			   *scale = sf_container_find(c, KNN_TAG_SCALE),
			   *rows = sf_container_find(c, KNN_TAG_ROWS),
			   *labels = sf_container_find(c, KNN_TAG_LABELS);
	size_t		p = c->n_features,
				cnt,
				i;
	sf_reader	r;
	int			has[2] = {0, 0};

	m->n_features = c->n_features;
	if (!meta || !scale || !rows || !labels)
		return sf_corrupt(env, SF_KIND_KNN, "a body section is missing");
	if (meta->len != 9)
		return sf_corrupt(env, SF_KIND_KNN, "the meta section has the wrong length");
	sf_reader_init(&r, meta->data, meta->len);
	m->k = (int) sf_read_u32(&r);
	m->weights = sf_read_u8(&r);
	m->n_rows = sf_read_u32(&r);
	if (m->weights > KNN_WEIGHTS_DISTANCE)
		return sf_corrupt(env, SF_KIND_KNN, "unknown weights");
	if (m->n_rows == 0 || m->n_rows > KNN_MAX_ROWS || (size_t) m->n_rows * p > KNN_MAX_ELEMENTS)
		return sf_corrupt(env, SF_KIND_KNN, "row count out of range");
	if (m->k < 1 || m->k > KNN_MAX_K || (uint32_t) m->k > m->n_rows)
		return sf_corrupt(env, SF_KIND_KNN, "k out of range");
	cnt = (size_t) m->n_rows * p;
	if (scale->len != 16 * p || rows->len != 8 * cnt || labels->len != m->n_rows)
		return sf_corrupt(env, SF_KIND_KNN, "a body section has the wrong length");
	m->mean = sf_malloc(env, 8 * p);
	m->scale = sf_malloc(env, 8 * p);
	m->rows = sf_malloc(env, 8 * cnt);
	m->labels = sf_malloc(env, m->n_rows);
	if (!m->mean || !m->scale || !m->rows || !m->labels)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding a knn model");
	sf_reader_init(&r, scale->data, scale->len);
	sf_read_f64s(&r, m->mean, p);
	sf_read_f64s(&r, m->scale, p);
	for (i = 0; i < p; i++)
		if (!isfinite(m->mean[i]) || !(m->scale[i] > 0.0 && isfinite(m->scale[i])))
			return sf_corrupt(env, SF_KIND_KNN, "a mean is not finite or a scale not positive");
	sf_reader_init(&r, rows->data, rows->len);
	sf_read_f64s(&r, m->rows, cnt);
	for (i = 0; i < cnt; i++)
		if (!isfinite(m->rows[i]))
			return sf_corrupt(env, SF_KIND_KNN, "a stored row is not finite");
	memcpy(m->labels, labels->data, m->n_rows);
	for (i = 0; i < m->n_rows; i++)
	{
		if (m->labels[i] > 1)
			return sf_corrupt(env, SF_KIND_KNN, "a label is not 0 or 1");
		has[m->labels[i]] = 1;
	}
	if (!has[0] || !has[1])
		return sf_corrupt(env, SF_KIND_KNN, "the labels hold one class only");
	return SF_OK;
}

SF_DECODE_BY_VALUE(knn, knn_model, SF_KIND_KNN, KNN_MAX_FEATURES, decode_body);
