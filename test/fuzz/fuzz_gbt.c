/*
 * fuzz_gbt.c
 *	  libFuzzer target for the gbt decoder.  The input is copied with its
 *	  header's payload length and CRC-32C recomputed (sf_fuzz.h), so mutations reach
 *	  the body decoder instead of stopping at the checksum.  Any byte string
 *	  must decode or be refused with a status and a message; a decoded model
 *	  must score rows of zeros and NaN, give importances, and re-encode to
 *	  bytes that decode again to the same encoding.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/gbt.h"
#include "sf_fuzz.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
