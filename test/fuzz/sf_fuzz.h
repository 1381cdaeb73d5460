/*
 * sf_fuzz.h
 *	  Shared by the model-decoder fuzz targets.
 *
 * sf_fuzz_model_copy returns a malloc'd copy of the fuzzer's input whose
 * container header has its payload length and CRC-32C recomputed, so that
 * mutations reach the kind's body decoder instead of stopping at the
 * checksum (fuzz_container covers the header checks themselves).
 * sf_fuzz_check_curve holds the curve of any QRGMM kind to its invariants.
 */
#ifndef SCFRISK_SF_FUZZ_H
#define SCFRISK_SF_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "scfrisk/sf_container.h"
#include "scfrisk/sf_qcurve.h"

static inline uint8_t *
sf_fuzz_model_copy(const uint8_t *data, size_t size)
{
	uint8_t    *buf = malloc(size ? size : 1);

	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	if (size >= SF_HEADER_LEN)
	{
		uint64_t	plen = size - SF_HEADER_LEN;
		uint32_t	crc = SF_CRC32C_FINAL(sf_crc32c(SF_CRC32C_INIT, buf + SF_HEADER_LEN, plen));
		int			i;

		for (i = 0; i < 8; i++)
			buf[16 + i] = (uint8_t) (plen >> (8 * i));
		for (i = 0; i < 4; i++)
			buf[24 + i] = (uint8_t) (crc >> (8 * i));
	}
	return buf;
}

/*
 * The invariants every QRGMM-kind curve must keep whatever the model bytes:
 * built (st SF_OK) it has sorted knots and finite functionals in range, and
 * is freed here; otherwise it was refused with SF_EDATA (an overflowing
 * log1p curve) or SF_ENOMEM.  Aborts on a violation.
 */
static inline void
sf_fuzz_check_curve(sf_env *env, sf_status st, sf_qcurve *c)
{
	if (st == SF_OK)
	{
		double		F;
		double		q = sf_qcurve_quantile(c, 0.3);
		double		I = sf_qcurve_partial(c, q, &F);
		int			i;

		if (isnan(q) || isnan(F) || F < 0.0 || F > 1.0 || isnan(I))
			abort();
		for (i = 0; i < c->m; i++)
			if (c->qa[i] > c->qa[i + 1])
				abort();
		sf_qcurve_free(env, c);
	}
	else if (st != SF_EDATA && st != SF_ENOMEM)
		abort();
}

#endif							/* SCFRISK_SF_FUZZ_H */
