/*
 * fuzz_explain.c
 *	  libFuzzer target for the explainer's decoders: the container with its
 *	  background section (sf_background_decode), then the kind's model.  The
 *	  input is copied with its header's payload length and CRC-32C recomputed
 *	  (sf_fuzz.h).  Any byte string must decode or be refused with a message;
 *	  a decoded gbt or logreg model must explain a row of zeros and one with
 *	  a NaN without crashing, and, when its covers add up as training makes
 *	  them, its contributions must add up to its margin and the precomputed
 *	  tables (treeshap_plan.c) must give the reference walk's values.
 *	  (The network kinds' Shapley values cost coalitions x background rows
 *	  per input; their decoders are fuzzed by fuzz_mlp and fuzz_xgb_mlp.)
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/gbt.h"
#include "scfrisk/explain_treeshap.h"
#include "scfrisk/logreg.h"
#include "scfrisk/sf_explain.h"
#include "sf_fuzz.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Covers as training makes them: every split's children share its cover
 * and none is a vanishing fraction of it.  Additivity is exact in real
 * arithmetic for any covers, but covers that do not add up (as mutated
 * bytes give) make TreeSHAP divide by fractions near zero, so rounding,
 * not the method, decides the sum (XGBoost's float32 code alike).
 */
static int
covers_consistent(const gbt_model *m)
{
	int32_t		t,
				k;

	for (t = 0; t < m->n_trees; t++)
	{
		const gbt_tree *tr = &m->trees[t];

		for (k = 0; k < tr->n_nodes; k++)
		{
			float		h = tr->sum_hess[k];

			if (!(h > 0) || !isfinite(h) || !isfinite(tr->split_cond[k]) || fabsf(tr->split_cond[k]) > 1e6f)
				return 0;
			if (tr->left[k] >= 0)
			{
				float		l = tr->sum_hess[tr->left[k]],
							r = tr->sum_hess[tr->right[k]];

				if (!(l >= 1e-3f * h) || !(r >= 1e-3f * h) || fabsf(l + r - h) > 1e-4f * h)
					return 0;
			}
		}
	}
	return 1;
}

/*
 * The tables against the reference walk on row x, whose reference values
 * are phi: both are Shapley values of the same trees, so where the covers
 * add up (elsewhere neither means anything) they agree to rounding.  A
 * small table budget makes some trees take the reference walk inside the
 * plan too.
 */
static void
check_plan(sf_env *env, const gbt_model *m, const double *x, const double *phi)
{
	sf_treeshap_plan *p;
	double	   *got;
	uint32_t	j;
	size_t		budget = (m->n_trees & 1) ? SF_TREESHAP_TABLE_BUDGET : 64;

	if (sf_treeshap_plan_build(env, m->trees, m->n_trees, 1.0, (double) m->base_margin,
							   m->n_features, budget, &p) != SF_OK)
		return;
	got = calloc(m->n_features + 1, sizeof(double));
	if (sf_treeshap_plan_run(env, p, x, got) == SF_OK && covers_consistent(m))
		for (j = 0; j <= m->n_features; j++)
			if (isfinite(phi[j]) && fabs(got[j] - phi[j]) > 1e-6 * (1 + fabs(phi[j])))
				abort();
	free(got);
	sf_treeshap_plan_free(env, p);
}

static void
explain_gbt(sf_env *env, const uint8_t *buf, size_t size)
{
	gbt_model  *m;
	double	   *x,
			   *phi;
	double		s = 0;
	uint32_t	j;

	if (gbt_decode(env, buf, size, &m) != SF_OK)
		return;
	x = calloc(m->n_features + 1, sizeof(double));
	phi = calloc(m->n_features + 1, sizeof(double));
	if (sf_treeshap(env, m, x, phi) == SF_OK)
	{
		for (j = 0; j <= m->n_features; j++)
			s += phi[j];
		/* trees as training makes them: the sum is the float32 margin */
		if (isfinite(s) && covers_consistent(m) && fabs(s - gbt_predict_margin(m, x)) > 1e-3 * (1 + fabs(s)))
			abort();
	}
	if (m->n_features > 0)
		x[0] = NAN;
	if (sf_treeshap(env, m, x, phi) == SF_OK)
		check_plan(env, m, x, phi);
	free(x);
	free(phi);
	gbt_model_free(env, m);
}

static void
explain_logreg(sf_env *env, const uint8_t *buf, size_t size, const sf_background *bg)
{
	logreg_model m;
	double	   *x,
			   *phi;

	if (logreg_decode(env, buf, size, &m) != SF_OK)
		return;
	x = calloc(m.n_features, sizeof(double));
	phi = calloc(m.n_features + 1, sizeof(double));
	(void) sf_explain_logreg(env, &m, bg, x, phi, NULL);
	free(x);
	free(phi);
	logreg_free(env, &m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sf_env		env;
	sf_container c;
	sf_background bg;
	uint8_t    *buf = sf_fuzz_model_copy(data, size);

	sf_env_init_malloc(&env);
	if (sf_container_decode(&env, buf, size, &c) != SF_OK)
	{
		if (env.msg == NULL)
			abort();
		free(buf);
		return 0;
	}
	if (sf_background_decode(&env, &c, &bg) != SF_OK)
	{
		if (env.msg == NULL)
			abort();
		free(buf);
		return 0;
	}
	if (c.kind == SF_KIND_GBT)
		explain_gbt(&env, buf, size);
	else if (c.kind == SF_KIND_LOGREG)
		explain_logreg(&env, buf, size, &bg);
	sf_background_free(&env, &bg);
	free(buf);
	return 0;
}
