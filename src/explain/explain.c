/*
 * explain.c
 *	  The explainer of a model (its kind's decoded model, background sample
 *	  and feature names, decoded once for a call site) and the ranking of
 *	  contributions into reason codes.
 */
#include <string.h>

#include "scfrisk/explain_treeshap.h"
#include "scfrisk/forest.h"
#include "scfrisk/sf_explain.h"
#include "scfrisk/sf_kinds.h"

/* Copy the feature names section into NUL-terminated strings. */
static sf_status
copy_names(sf_env *env, const sf_container *c, sf_explainer *e)
{
	uint32_t	j;

	if (sf_container_find(c, SF_TAG_FEATURE_NAMES) == NULL)
		return SF_OK;
	e->names = sf_calloc(env, c->n_features, sizeof(char *));
	if (e->names == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for feature names");
	for (j = 0; j < c->n_features; j++)
	{
		const char *name;
		uint32_t	len;

		/* sf_container_decode checked the section: every name is there */
		if (!sf_container_feature_name(c, j, &name, &len))
			return sf_fail(env, SF_ECORRUPT, "feature name %u is missing", (unsigned) j + 1);
		e->names[j] = sf_malloc(env, (size_t) len + 1);
		if (e->names[j] == NULL)
			return sf_fail(env, SF_ENOMEM, "out of memory for feature names");
		memcpy(e->names[j], name, len);
		e->names[j][len] = '\0';
	}
	return SF_OK;
}

/*
 * The tree kinds' TreeSHAP tables, built once with the decoded model: the
 * kind's method is the reference walk of the same trees, with the same
 * scale (a boosted sum, a forest's mean) and bias.
 */
static sf_status
treeshap_tables(sf_env *env, sf_explainer *e)
{
	if (e->kind->explain == sf_explain_gbt)
	{
		const gbt_model *m = e->model;

		return sf_treeshap_plan_build(env, m->trees, m->n_trees, 1.0, (double) m->base_margin,
									  m->n_features, SF_TREESHAP_TABLE_BUDGET, &e->treeshap);
	}
	if (e->kind->explain == sf_explain_forest)
	{
		const forest_model *m = e->model;

		return sf_treeshap_plan_build(env, m->trees, m->n_trees, 1.0 / m->n_trees, 0.0,
									  m->n_features, SF_TREESHAP_TABLE_BUDGET, &e->treeshap);
	}
	return SF_OK;
}

sf_status
sf_explainer_decode(sf_env *env, const uint8_t *buf, size_t len, void **out)
{
	sf_explainer *e;
	sf_container c;
	sf_status	st;

	if ((st = sf_container_decode(env, buf, len, &c)) != SF_OK)
		return st;
	e = sf_calloc(env, 1, sizeof(sf_explainer));
	if (e == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding a model");
	e->kind = sf_kind_find(c.kind);
	e->n_features = c.n_features;
	if ((st = e->kind->decode(env, buf, len, &e->model)) != SF_OK)
		return st;
	if ((st = sf_background_decode(env, &c, &e->bg)) != SF_OK)
		return st;
	if ((st = copy_names(env, &c, e)) != SF_OK)
		return st;
	if ((st = treeshap_tables(env, e)) != SF_OK)
		return st;
	*out = e;
	return SF_OK;
}

sf_status
sf_explainer_explain(sf_env *env, const sf_explainer *e, const double *x, double *phi, double *se)
{
	if (e->treeshap == NULL)
		return e->kind->explain(env, e->model, &e->bg, x, phi, se);
	memset(se, 0, sizeof(double) * (e->n_features + 1));
	return sf_treeshap_plan_run(env, e->treeshap, x, phi);
}

uint32_t
sf_reason_codes(const double *phi, uint32_t d, uint32_t k, int adverse, uint32_t *idx)
{
	uint32_t	n = 0,
				j,
				i;

	/* insertion into a sorted top-k list: k is small (a handful of reasons) */
	for (j = 0; j < d; j++)
	{
		double		v = adverse ? phi[j] : -phi[j];

		if (!(v > 0))
			continue;
		for (i = n; i > 0; i--)
		{
			double		u = adverse ? phi[idx[i - 1]] : -phi[idx[i - 1]];

			if (u >= v)
				break;
			if (i < k)
				idx[i] = idx[i - 1];
		}
		if (i < k)
		{
			idx[i] = j;
			if (n < k)
				n++;
		}
	}
	return n;
}
