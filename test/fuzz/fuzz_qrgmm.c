/*
 * fuzz_qrgmm.c
 *	  libFuzzer target for the QRGMM model decoder (src/qrgmm/qrgmm_codec.c).
 *
 * The input's payload length and CRC-32C are recomputed before decoding
 * (sf_fuzz.h), so that mutations reach the body checks instead of dying at
 * the checksum.  Any byte string must either be refused
 * with a status and a message, or decode into a model whose invariants let
 * every scoring path run: the curve of a covariate vector builds (or is
 * refused with SF_EDATA for an overflowing log1p curve), and the
 * functionals stay finite.  A decoded model re-encodes into bytes that
 * decode and re-encode to themselves (canonical form).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/qrgmm.h"
#include "sf_fuzz.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_model(sf_env *env, const sf_qrgmm_model *model)
{
	double	   *x = calloc(model->d ? model->d : 1, sizeof(double));
	sf_qcurve	c;
	sf_status	st;
	uint32_t	i;

	for (i = 0; i < model->d; i++)
		x[i] = 0.5 * (double) i;
	st = sf_qrgmm_curve(env, model, x, &c);
	sf_fuzz_check_curve(env, st, &c);
	free(x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sf_env		env;
	sf_qrgmm_model *model,
			   *again;
	uint8_t    *buf;
	sf_status	st;
	sf_buf		b1,
				b2;

	if (size > (1u << 20))
		return 0;
	buf = sf_fuzz_model_copy(data, size);
	sf_env_init_malloc(&env);
	st = sf_qrgmm_decode(&env, buf, size, &model);
	if (st != SF_OK)
	{
		if (env.msg == NULL ||
			(st != SF_ECORRUPT && st != SF_EVERSION && st != SF_EKIND && st != SF_ENOMEM))
			abort();
		free(buf);
		return 0;
	}
	check_model(&env, model);

	/* canonical re-encoding */
	sf_buf_init(&b1, &env);
	sf_buf_init(&b2, &env);
	if (sf_qrgmm_encode(&env, model, &b1) != SF_OK)
		abort();
	if (sf_qrgmm_decode(&env, b1.data, b1.len, &again) != SF_OK)
		abort();
	if (sf_qrgmm_encode(&env, again, &b2) != SF_OK)
		abort();
	if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0)
		abort();
	sf_qrgmm_free(&env, again);
	sf_qrgmm_free(&env, model);
	sf_buf_free(&b1);
	sf_buf_free(&b2);
	/* the table path every SQL scorer takes: finite in, finite out */
	sf_fuzz_kind_scores(SF_KIND_QRGMM_LINEAR, buf, size);
	free(buf);
	return 0;
}
