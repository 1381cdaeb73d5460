/*
 * fuzz_xgb_mlp.c
 *	  libFuzzer target for the xgb_mlp decoder.  The input is copied with its
 *	  header's payload length and CRC-32C recomputed (sf_fuzz.h), so mutations reach
 *	  the selection, tree and network decoders instead of stopping at the
 *	  checksum.  Any byte string must decode or be refused with a status and
 *	  a message; a decoded model must score rows of zeros and NaN, and its
 *	  info JSON must be writable.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/xgb_mlp.h"
#include "sf_fuzz.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sf_env		env;
	xgb_mlp_model m;
	sf_status	st;
	uint8_t    *buf = sf_fuzz_model_copy(data, size);

	sf_env_init_malloc(&env);
	st = xgb_mlp_decode(&env, buf, size, &m);
	if (st != SF_OK)
	{
		if (env.msg == NULL)
			abort();
	}
	else
	{
		double	   *x = calloc(m.n_features, sizeof(double));
		double		r;
		sf_buf		b;

		r = xgb_mlp_predict(&m, x);
		x[0] = NAN;
		r += xgb_mlp_predict(&m, x);
		(void) r;
		sf_buf_init(&b, &env);
		xgb_mlp_info_json(&m, &b);
		sf_buf_free(&b);
		free(x);
		xgb_mlp_free(&env, &m);
	}
	/* the table path every SQL scorer takes: finite in, finite out */
	sf_fuzz_kind_scores(SF_KIND_XGB_MLP, buf, size);
	free(buf);
	return 0;
}
