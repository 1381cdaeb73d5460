/*
 * fuzz_logreg.c
 *	  libFuzzer target for the logreg decoder.  The input is copied with its
 *	  header's payload length and CRC-32C recomputed (sf_fuzz.h), so mutations reach
 *	  the body decoder instead of stopping at the checksum.  Any byte string
 *	  must decode or be refused with a status and a message; a decoded model
 *	  must score a row of zeros and NaN without crashing, and re-encoding it
 *	  must decode again.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/logreg.h"
#include "sf_fuzz.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sf_env		env;
	logreg_model m;
	sf_status	st;
	uint8_t    *buf = sf_fuzz_model_copy(data, size);

	sf_env_init_malloc(&env);
	st = logreg_decode(&env, buf, size, &m);
	if (st != SF_OK)
	{
		if (env.msg == NULL)
			abort();
	}
	else
	{
		double	   *x = calloc(m.n_features, sizeof(double));
		double		r;

		r = logreg_predict(&m, x);
		if (m.n_features > 0)
			x[0] = NAN;
		(void) logreg_predict(&m, x);
		(void) r;
		free(x);
		logreg_free(&env, &m);
	}
	/* the table path every SQL scorer takes: finite in, finite out */
	sf_fuzz_kind_scores(SF_KIND_LOGREG, buf, size);
	free(buf);
	return 0;
}
