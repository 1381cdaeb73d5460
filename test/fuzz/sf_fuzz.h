/*
 * sf_fuzz.h
 *	  Shared by the model-decoder fuzz targets.
 *
 * sf_fuzz_model_copy returns a malloc'd copy of the fuzzer's input whose
 * container header has its payload length and CRC-32C recomputed, so that
 * mutations reach the kind's body decoder instead of stopping at the
 * checksum (fuzz_container covers the header checks themselves).
 */
#ifndef SCFRISK_SF_FUZZ_H
#define SCFRISK_SF_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_container.h"

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

#endif							/* SCFRISK_SF_FUZZ_H */
