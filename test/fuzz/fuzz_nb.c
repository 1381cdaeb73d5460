/*
 * fuzz_nb.c
 *	  libFuzzer target for the gaussian_nb decoder.  The input is copied with
 *	  its header's payload length and CRC-32C recomputed (sf_fuzz.h).  Any
 *	  byte string must decode or be refused with a status and a message; a
 *	  decoded model must score a row of zeros with a probability in [0, 1]
 *	  (or NaN when its log likelihoods overflow) and re-encode to bytes that
 *	  decode again to the same encoding.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/nb.h"
#include "sf_fuzz.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sf_env		env;
	nb_model	m,
				m2;
	uint8_t    *buf = sf_fuzz_model_copy(data, size);

	sf_env_init_malloc(&env);
	if (nb_decode(&env, buf, size, &m) != SF_OK)
	{
		if (env.msg == NULL)
			abort();
	}
	else
	{
		double	   *x = calloc(m.n_features, sizeof(double));
		double		p = nb_predict(&m, x);
		sf_buf		b1,
					b2;

		if (!isnan(p) && !(p >= 0.0 && p <= 1.0))
			abort();
		sf_buf_init(&b1, &env);
		if (nb_encode(&env, &m, NULL, NULL, &b1) != SF_OK)
			abort();
		if (nb_decode(&env, b1.data, b1.len, &m2) != SF_OK)
			abort();
		sf_buf_init(&b2, &env);
		if (nb_encode(&env, &m2, NULL, NULL, &b2) != SF_OK ||
			b2.len != b1.len || memcmp(b1.data, b2.data, b1.len) != 0)
			abort();
		sf_buf_free(&b1);
		sf_buf_free(&b2);
		nb_free(&env, &m2);
		nb_free(&env, &m);
		free(x);
	}
	free(buf);
	return 0;
}
