/*
 * svm_codec.c
 *	  Model bytes of the linear_svm kind (docs/format.md "linear_svm"):
 *
 *	  tag 16 (coef): f64 intercept, f64 platt_a, f64 platt_b, f64 w[p]
 *
 * The decoder checks the length and that every number is finite.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scfrisk/svm.h"
#include "scfrisk/sf_codec.h"

void
svm_body_json(const svm_model *m, sf_buf *b)
{
	char		t[160];

	snprintf(t, sizeof(t), "{\"intercept\": %.17g, \"platt_a\": %.17g, \"platt_b\": %.17g}",
			 m->intercept, m->platt_a, m->platt_b);
	sf_buf_put_bytes(b, t, strlen(t));
}

sf_status
svm_encode(sf_env *env, const svm_model *m, const svm_params *p, const char *const *names, sf_buf *b)
{
	size_t		mark;
	char		info[200];
	sf_prelude	pre = {.params_table = &svm_params_table, .params = p, .names = names,
		.rows = m->train_rows, .has_seed = p != NULL, .seed = p ? (uint64_t) p->seed : 0,
		.info_json = info};

	snprintf(info, sizeof(info),
			 "{\"iterations\": %d, \"converged\": %s, \"intercept\": %.17g, \"platt_a\": %.17g, "
			 "\"platt_b\": %.17g}",
			 m->iterations, m->converged ? "true" : "false", m->intercept, m->platt_a, m->platt_b);
	sf_prelude_put(b, SF_KIND_LINEAR_SVM, m->n_features, &pre);
	mark = sf_section_begin(b, SVM_TAG_COEF);
	sf_buf_put_f64(b, m->intercept);
	sf_buf_put_f64(b, m->platt_a);
	sf_buf_put_f64(b, m->platt_b);
	sf_buf_put_f64s(b, m->coef, m->n_features);
	sf_section_end(b, mark);
	return sf_container_finish(b);
}

static sf_status
decode_body(sf_env *env, const sf_container *c, void *model)
{
	svm_model  *m = model;
	const sf_section *coef = sf_container_find(c, SVM_TAG_COEF);
	sf_reader	r;
	uint32_t	j;

	m->n_features = c->n_features;
	if (coef == NULL)
		return sf_corrupt(env, SF_KIND_LINEAR_SVM, "the coef section is missing");
	if (coef->len != 8 * (3 + (uint64_t) m->n_features))
		return sf_corrupt(env, SF_KIND_LINEAR_SVM, "the coef section has the wrong length");
	(void) sf_prelude_get(env, c, "linear_svm", &m->train_rows, NULL, NULL, NULL);
	if ((m->coef = sf_malloc(env, sizeof(double) * m->n_features)) == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding a linear_svm model");
	sf_reader_init(&r, coef->data, coef->len);
	m->intercept = sf_read_f64(&r);
	m->platt_a = sf_read_f64(&r);
	m->platt_b = sf_read_f64(&r);
	sf_read_f64s(&r, m->coef, m->n_features);
	if (!isfinite(m->intercept) || !isfinite(m->platt_a) || !isfinite(m->platt_b))
		return sf_corrupt(env, SF_KIND_LINEAR_SVM, "the intercept or a Platt coefficient is not finite");
	for (j = 0; j < m->n_features; j++)
		if (!isfinite(m->coef[j]))
			return sf_corrupt(env, SF_KIND_LINEAR_SVM, "a weight is not finite");
	return SF_OK;
}

SF_DECODE_BY_VALUE(svm, svm_model, SF_KIND_LINEAR_SVM, SVM_MAX_FEATURES, decode_body);
