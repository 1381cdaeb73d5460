/*
 * fuzz_gbt.c
 *	  libFuzzer target for the gbt decoder.  The input is copied with its
 *	  header's payload length and CRC-32C recomputed (sf_fuzz.h), so mutations reach
 *	  the body decoder instead of stopping at the checksum.  Any byte string
 *	  must decode or be refused with a status and a message; a decoded model
 *	  must score rows of zeros and NaN, give importances, and re-encode to
 *	  bytes that decode again to the same encoding.  Its fast scorer (built
 *	  by the decoder, or forced when the decoder declined it for size) must
 *	  give the reference walk's margin bit for bit on rows made of zeros,
 *	  NaN, +-inf and the model's own split conditions.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/gbt.h"
#include "scfrisk/gbt_fast.h"
#include "sf_fuzz.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless m's scorer gives the reference margin bit for bit on row x. */
static void
check_row(const gbt_model *m, const double *x)
{
	double		a = gbt_predict_margin(m, x),
				b = gbt_predict_margin_reference(m, x);

	if (memcmp(&a, &b, sizeof(double)) != 0)
		abort();
}

/*
 * Rows for the scorers: zeros, NaN, +-inf, then each feature at the split
 * conditions of the first trees (ties go right), just below them, and NaN
 * in turn, the others cycling through the conditions.
 */
static void
check_fast(sf_env *env, gbt_model *m)
{
	double	   *x = calloc(m->n_features ? m->n_features : 1, sizeof(double));
	static const double fill[] = {0.0, NAN, INFINITY, -INFINITY};
	uint32_t	j;
	int32_t		i,
				k;
	int			r,
				forced = 0;

	if (m->fast == NULL)
	{
		if (gbt_fast_build(env, m->trees, m->n_trees, m->n_features, GBT_FAST_FORCE, &m->fast) != SF_OK)
			abort();
		forced = 1;
	}
	for (r = 0; r < 4; r++)
	{
		for (j = 0; j < m->n_features; j++)
			x[j] = fill[r];
		check_row(m, x);
	}
	for (i = 0; i < m->n_trees && i < 4; i++)
		for (k = 0; k < m->trees[i].n_nodes && k < 16; k++)
		{
			const gbt_tree *t = &m->trees[i];
			double		c = t->split_cond[k];

			for (j = 0; j < m->n_features; j++)
				x[j] = m->trees[(i + j) % m->n_trees].split_cond[(k + j) % m->trees[(i + j) % m->n_trees].n_nodes];
			if (t->left[k] < 0)
				continue;
			x[t->split_index[k]] = c;
			check_row(m, x);
			x[t->split_index[k]] = nextafterf((float) c, -INFINITY);
			check_row(m, x);
			x[t->split_index[k]] = NAN;
			check_row(m, x);
		}
	if (forced)
	{
		gbt_fast_free(env, m->fast);
		m->fast = NULL;
	}
	free(x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sf_env		env;
	gbt_model  *m = NULL;
	sf_status	st;
	uint8_t    *buf = sf_fuzz_model_copy(data, size);

	sf_env_init_malloc(&env);
	st = gbt_decode(&env, buf, size, &m);
	if (st != SF_OK)
	{
		if (env.msg == NULL)
			abort();
	}
	else
	{
		double	   *x = calloc(m->n_features, sizeof(double));
		double	   *imp = calloc(m->n_features, sizeof(double));
		sf_buf		b1,
					b2;
		gbt_model  *m2 = NULL;
		int			t;

		(void) gbt_predict(m, x);
		x[0] = NAN;
		(void) gbt_predict_margin(m, x);
		check_fast(&env, m);
		for (t = GBT_IMP_WEIGHT; t <= GBT_IMP_TOTAL_COVER; t++)
			if (gbt_importance(m, (gbt_importance_type) t, imp) != SF_OK)
				abort();
		sf_buf_init(&b1, &env);
		if (gbt_encode(&env, m, NULL, NULL, 0, &b1) != SF_OK)
			abort();
		if (gbt_decode(&env, b1.data, b1.len, &m2) != SF_OK)
			abort();
		sf_buf_init(&b2, &env);
		if (gbt_encode(&env, m2, NULL, NULL, 0, &b2) != SF_OK ||
			b2.len != b1.len || memcmp(b1.data, b2.data, b1.len) != 0)
			abort();
		sf_buf_free(&b1);
		sf_buf_free(&b2);
		gbt_model_free(&env, m2);
		gbt_model_free(&env, m);
		free(x);
		free(imp);
	}
	/* the table path every SQL scorer takes: finite in, finite out */
	sf_fuzz_kind_scores(SF_KIND_GBT, buf, size);
	free(buf);
	return 0;
}
