/*
 * nb.c
 *	  Gaussian naive Bayes (nb.h): the parameter table, the fit (scikit-learn
 *	  GaussianNB's statistics and variance smoothing), scoring, and the model
 *	  bytes:
 *
 *	  tag 16 (meta):  f64 epsilon, f64 prior_0, f64 prior_1
 *	  tag 17 (stats): f64 mean[2][p] (class 0 then class 1), f64 var[2][p]
 *
 * The decoder checks that the priors lie in (0, 1) and sum to 1 within
 * 1e-9, the means are finite, and the variances finite and positive.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "scfrisk/nb.h"
#include "scfrisk/sf_codec.h"
#include "scfrisk/sf_governance.h"

static const sf_param_spec nb_specs[] = {
	{"var_smoothing", SF_PT_DOUBLE, offsetof(nb_params, var_smoothing), 1e-9, 0, 1, 0, 0, NULL, NULL,
	"share of the largest feature variance added to every variance (GaussianNB's var_smoothing)"},
	{"feature_names", SF_PT_STR_LIST, offsetof(nb_params, feature_names), 0, 0, NB_MAX_FEATURES, 0, 0,
	NULL, NULL, "names of the features, one per element of the features array"},
	SF_CALIB_PARAM_SPECS(nb_params, calibrate, calibrate_folds),
	{"verbose", SF_PT_BOOL, offsetof(nb_params, verbose), 0, 0, 1, 0, 0, NULL, NULL,
	"a NOTICE line when the one pass over the rows is done", 1},
};

const sf_param_table nb_params_table = {
	"nb_train", nb_specs, (int) (sizeof(nb_specs) / sizeof(nb_specs[0])), NULL
};

void
nb_free(sf_env *env, nb_model *m)
{
	sf_free(env, m->mean);
	sf_free(env, m->var);
	m->mean = m->var = NULL;
}

static sf_status
check_data(sf_env *env, const double *x, const double *y, size_t n, uint32_t p, size_t count[2])
{
	sf_status	st = sf_check_shape(env, n, p, NB_MAX_FEATURES);

	return st != SF_OK ? st : sf_check_binary_rows(env, x, y, n, p, count);
}

/*
 * Mean and population variance of every feature over the rows with
 * label c (c < 0: every row) into mean and var (p each), in two passes.
 */
static void
moments(const double *x, const double *y, size_t n, uint32_t p, int c, double *mean, double *var)
{
	size_t		i,
				m = 0;
	uint32_t	j;

	memset(mean, 0, sizeof(double) * p);
	memset(var, 0, sizeof(double) * p);
	for (i = 0; i < n; i++)
		if (c < 0 || y[i] == (double) c)
		{
			for (j = 0; j < p; j++)
				mean[j] += x[i * p + j];
			m++;
		}
	for (j = 0; j < p; j++)
		mean[j] /= (double) m;
	for (i = 0; i < n; i++)
		if (c < 0 || y[i] == (double) c)
			for (j = 0; j < p; j++)
			{
				double		d = x[i * p + j] - mean[j];

				var[j] += d * d;
			}
	for (j = 0; j < p; j++)
		var[j] /= (double) m;
}

sf_status
nb_fit(sf_env *env, const nb_params *prm, const double *x, const double *y, size_t n, uint32_t p,
	   nb_model *out)
{
	size_t		count[2];
	double		vmax = 0.0;
	uint32_t	j;
	int			c;
	sf_status	st;

	memset(out, 0, sizeof(*out));
	if (!(prm->var_smoothing >= 0.0 && prm->var_smoothing <= 1.0))
		return sf_fail(env, SF_EINVAL, "var_smoothing must be in [0, 1], got %g", prm->var_smoothing);
	if ((st = check_data(env, x, y, n, p, count)) != SF_OK)
		return st;
	out->n_features = p;
	out->train_rows = n;
	out->mean = sf_calloc(env, 2 * (size_t) p, sizeof(double));
	out->var = sf_calloc(env, 2 * (size_t) p, sizeof(double));
	if (out->mean == NULL || out->var == NULL)
	{
		nb_free(env, out);
		return sf_fail(env, SF_ENOMEM, "out of memory fitting naive Bayes");
	}
	/* epsilon from the variances over every row (class 0's slots as scratch) */
	moments(x, y, n, p, -1, out->mean, out->var);
	for (j = 0; j < p; j++)
		if (out->var[j] > vmax)
			vmax = out->var[j];
	out->epsilon = prm->var_smoothing * vmax;
	for (c = 0; c < 2; c++)
	{
		moments(x, y, n, p, c, out->mean + (size_t) c * p, out->var + (size_t) c * p);
		out->prior[c] = (double) count[c] / (double) n;
		for (j = 0; j < p; j++)
		{
			out->var[(size_t) c * p + j] += out->epsilon;
			if (!(out->var[(size_t) c * p + j] > 0.0))
			{
				nb_free(env, out);
				return sf_fail(env, SF_EDATA,
							   "feature %u is constant within class %d and var_smoothing adds nothing "
							   "(every feature is constant, or var_smoothing is 0)", j + 1, c);
			}
		}
	}
	sf_progress_report(env, "pass", 1, 1, 0, NULL, NAN, NAN);
	return SF_OK;
}

double
nb_predict(const nb_model *m, const double *x)
{
	double		jll[2],
				hi,
				lse;
	uint32_t	j;
	int			c;

	for (c = 0; c < 2; c++)
	{
		const double *mu = m->mean + (size_t) c * m->n_features;
		const double *va = m->var + (size_t) c * m->n_features;
		double		a = 0.0,
					b = 0.0;

		/* the two sums apart, in GaussianNB's order of operations */
		for (j = 0; j < m->n_features; j++)
			a += log(2.0 * M_PI * va[j]);
		for (j = 0; j < m->n_features; j++)
		{
			double		d = x[j] - mu[j];

			b += d * d / va[j];
		}
		jll[c] = log(m->prior[c]) - 0.5 * a - 0.5 * b;
	}
	hi = jll[0] > jll[1] ? jll[0] : jll[1];
	if (isnan(hi))
		return NAN;
	lse = hi + log(exp(jll[0] - hi) + exp(jll[1] - hi));
	return exp(jll[1] - lse);
}

/* ------------------------------------------------------------ bytes */

void
nb_body_json(const nb_model *m, sf_buf *b)
{
	char		info[160];

	snprintf(info, sizeof(info), "{\"epsilon\": %.17g, \"class_prior\": [%.17g, %.17g]}",
			 m->epsilon, m->prior[0], m->prior[1]);
	sf_buf_put_bytes(b, info, strlen(info));
}

sf_status
nb_encode(sf_env *env, const nb_model *m, const nb_params *p, const char *const *names, sf_buf *b)
{
	size_t		mark;
	sf_prelude	pre = {.params_table = &nb_params_table, .params = p, .names = names,
		.rows = m->train_rows, .described = m};

	sf_prelude_put(b, SF_KIND_GAUSSIAN_NB, m->n_features, &pre);
	mark = sf_section_begin(b, NB_TAG_META);
	sf_buf_put_f64(b, m->epsilon);
	sf_buf_put_f64(b, m->prior[0]);
	sf_buf_put_f64(b, m->prior[1]);
	sf_section_end(b, mark);
	mark = sf_section_begin(b, NB_TAG_STATS);
	sf_buf_put_f64s(b, m->mean, 2 * (size_t) m->n_features);
	sf_buf_put_f64s(b, m->var, 2 * (size_t) m->n_features);
	sf_section_end(b, mark);
	return sf_container_finish(b);
}

static sf_status
decode_body(sf_env *env, const sf_container *c, void *model)
{
	nb_model   *m = model;
	const sf_section *meta = sf_container_find(c, NB_TAG_META),
			   *stats = sf_container_find(c, NB_TAG_STATS);
	size_t		k,
				cnt = 2 * (size_t) c->n_features;
	sf_reader	r;

	m->n_features = c->n_features;
	(void) sf_prelude_get(env, c, "gaussian_nb", &m->train_rows, NULL, NULL, NULL);
	if (meta == NULL || stats == NULL)
		return sf_corrupt(env, SF_KIND_GAUSSIAN_NB, "a body section is missing");
	if (meta->len != 24 || stats->len != 2 * cnt * sizeof(double))
		return sf_corrupt(env, SF_KIND_GAUSSIAN_NB, "a body section has the wrong length");
	sf_reader_init(&r, meta->data, meta->len);
	m->epsilon = sf_read_f64(&r);
	m->prior[0] = sf_read_f64(&r);
	m->prior[1] = sf_read_f64(&r);
	if (!(m->epsilon >= 0.0 && isfinite(m->epsilon)))
		return sf_corrupt(env, SF_KIND_GAUSSIAN_NB, "epsilon is negative or not finite");
	if (!(m->prior[0] > 0.0 && m->prior[0] < 1.0 && m->prior[1] > 0.0 && m->prior[1] < 1.0) ||
		fabs(m->prior[0] + m->prior[1] - 1.0) > 1e-9)
		return sf_corrupt(env, SF_KIND_GAUSSIAN_NB, "the class priors are not two shares summing to 1");
	m->mean = sf_malloc(env, cnt * sizeof(double));
	m->var = sf_malloc(env, cnt * sizeof(double));
	if (m->mean == NULL || m->var == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding a gaussian_nb model");
	sf_reader_init(&r, stats->data, stats->len);
	sf_read_f64s(&r, m->mean, cnt);
	sf_read_f64s(&r, m->var, cnt);
	if (!sf_reader_ok(&r))
		return sf_corrupt(env, SF_KIND_GAUSSIAN_NB, "the stats section is truncated");
	for (k = 0; k < cnt; k++)
	{
		if (!isfinite(m->mean[k]))
			return sf_corrupt(env, SF_KIND_GAUSSIAN_NB, "a mean is not finite");
		if (!(m->var[k] > 0.0 && isfinite(m->var[k])))
			return sf_corrupt(env, SF_KIND_GAUSSIAN_NB, "a variance is not finite and positive");
	}
	return SF_OK;
}

SF_DECODE_BY_VALUE(nb, nb_model, SF_KIND_GAUSSIAN_NB, NB_MAX_FEATURES, decode_body);
