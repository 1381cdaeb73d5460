/*
 * fuzz_forest.c
 *	  libFuzzer target for the cart and forest decoders.  The input is copied
 *	  with its header's payload length and CRC-32C recomputed (sf_fuzz.h), so
 *	  mutations reach the body decoder instead of stopping at the checksum.
 *	  Any byte string must decode or be refused with a status and a message
 *	  under both kinds; a decoded model must score rows of zeros and NaN
 *	  (a probability in [0, 1] for a binary model), give importances that sum
 *	  to 1 or 0, and re-encode to bytes that decode again to the same
 *	  encoding.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/forest.h"
#include "sf_fuzz.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
exercise(sf_env *env, forest_model *m)
{
	double	   *x = calloc(m->n_features, sizeof(double));
	double	   *imp = calloc(m->n_features, sizeof(double));
	double		p,
				sum = 0.0;
	sf_buf		b1,
				b2;
	forest_model *m2 = NULL;
	uint32_t	j;

	p = forest_predict(m, x);
	x[0] = NAN;
	p += forest_predict(m, x);
	if (m->objective == FOREST_OBJ_BINARY && !(p >= 0.0 && p <= 2.0))
		abort();
	if (forest_importance(env, m, imp) != SF_OK)
		abort();
	for (j = 0; j < m->n_features; j++)
		sum += imp[j];
	if (!(sum == 0.0 || fabs(sum - 1.0) < 1e-9))
		abort();
	sf_buf_init(&b1, env);
	if (forest_encode(env, m, NULL, NULL, &b1) != SF_OK)
		abort();
	if (forest_decode(env, m->kind, b1.data, b1.len, &m2) != SF_OK)
		abort();
	sf_buf_init(&b2, env);
	if (forest_encode(env, m2, NULL, NULL, &b2) != SF_OK ||
		b2.len != b1.len || memcmp(b1.data, b2.data, b1.len) != 0)
		abort();
	sf_buf_free(&b1);
	sf_buf_free(&b2);
	forest_model_free(env, m2);
	free(x);
	free(imp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t kinds[] = {SF_KIND_CART, SF_KIND_FOREST};
	sf_env		env;
	uint8_t    *buf = sf_fuzz_model_copy(data, size);
	size_t		k;

	sf_env_init_malloc(&env);
	for (k = 0; k < 2; k++)
	{
		forest_model *m = NULL;
		sf_status	st = forest_decode(&env, kinds[k], buf, size, &m);

		if (st != SF_OK)
		{
			if (env.msg == NULL)
				abort();
			continue;
		}
		exercise(&env, m);
		forest_model_free(&env, m);
	}
	free(buf);
	return 0;
}
