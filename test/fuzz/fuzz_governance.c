/*
 * fuzz_governance.c
 *	  libFuzzer target for the decoders of the governance sections (drift and
 *	  calibration, sf_governance.h).  The first input byte picks the section
 *	  (even: drift, odd: calibration), the next two give the model width the
 *	  drift section must match; the rest is the section body.  Any byte string
 *	  must decode or be refused with a status and a message; a decoded section
 *	  must bin, score and apply without crashing, and re-encoding it must give
 *	  the same bytes.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_governance.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_drift(sf_env *env, const uint8_t *body, size_t len, uint32_t width)
{
	sf_drift	d;
	sf_buf		b;
	uint64_t   *counts;
	uint32_t	k;

	if (sf_drift_decode(env, body, len, width, &d) != SF_OK)
	{
		if (env->msg == NULL)
			abort();
		sf_drift_free(env, &d);
		return;
	}
	counts = calloc(d.score.n_bins + 1, sizeof(uint64_t));
	counts[sf_dist_bin(&d.score, 0.0)]++;
	counts[sf_dist_bin(&d.score, NAN)]++;
	counts[sf_dist_bin(&d.score, -INFINITY)]++;
	for (k = 0; k + 1 < d.score.n_bins; k++)
		counts[sf_dist_bin(&d.score, d.score.edges[k])]++;
	if (!(sf_psi(&d.score, counts, NULL, NULL) >= 0.0))
		abort();				/* PSI is a sum of non-negative terms */
	free(counts);
	sf_buf_init(&b, env);
	sf_drift_encode(&d, &b);
	if (b.len != len || memcmp(b.data, body, len) != 0)
		abort();
	sf_buf_free(&b);
	sf_drift_free(env, &d);
}

static void
check_calib(sf_env *env, const uint8_t *body, size_t len)
{
	sf_calib	c;
	sf_buf		b;
	double		p;

	if (sf_calib_decode(env, body, len, &c) != SF_OK)
	{
		if (env->msg == NULL)
			abort();
		sf_calib_free(env, &c);
		return;
	}
	p = sf_calib_apply(&c, 0.3);
	if (!(p >= 0.0 && p <= 1.0))
		abort();
	p = sf_calib_apply(&c, INFINITY);
	if (isnan(p) && c.method == SF_CALIB_ISOTONIC)
		abort();
	sf_buf_init(&b, env);
	sf_calib_encode(&c, &b);
	if (b.len != len || memcmp(b.data, body, len) != 0)
		abort();
	sf_buf_free(&b);
	sf_calib_free(env, &c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sf_env		env;

	if (size < 3)
		return 0;
	sf_env_init_malloc(&env);
	if (data[0] % 2 == 0)
		check_drift(&env, data + 3, size - 3, (uint32_t) data[1] | ((uint32_t) data[2] << 8));
	else
		check_calib(&env, data + 3, size - 3);
	return 0;
}
