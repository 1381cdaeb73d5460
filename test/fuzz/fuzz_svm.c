/*
 * fuzz_svm.c
 *	  libFuzzer target for the linear_svm decoder.  The input is copied with
 *	  its header's payload length and CRC-32C recomputed (sf_fuzz.h).  Any
 *	  byte string must decode or be refused with a status and a message; a
 *	  decoded model must score a row of zeros with a probability in [0, 1]
 *	  and a finite or infinite (never NaN) decision value, and re-encode to
 *	  bytes that decode again to the same encoding.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/svm.h"
#include "sf_fuzz.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sf_env		env;
	svm_model	m,
				m2;
	uint8_t    *buf = sf_fuzz_model_copy(data, size);

	sf_env_init_malloc(&env);
	if (svm_decode(&env, buf, size, &m) != SF_OK)
	{
		if (env.msg == NULL)
			abort();
	}
	else
	{
		double	   *x = calloc(m.n_features, sizeof(double));
		double		p = svm_predict(&m, x);
		sf_buf		b1,
					b2;

		if (!(p >= 0.0 && p <= 1.0) || isnan(svm_decision(&m, x)))
			abort();
		sf_buf_init(&b1, &env);
		if (svm_encode(&env, &m, NULL, NULL, &b1) != SF_OK)
			abort();
		if (svm_decode(&env, b1.data, b1.len, &m2) != SF_OK)
			abort();
		sf_buf_init(&b2, &env);
		if (svm_encode(&env, &m2, NULL, NULL, &b2) != SF_OK ||
			b2.len != b1.len || memcmp(b1.data, b2.data, b1.len) != 0)
			abort();
		sf_buf_free(&b1);
		sf_buf_free(&b2);
		svm_free(&env, &m2);
		svm_free(&env, &m);
		free(x);
	}
	free(buf);
	return 0;
}
