/*
 * fuzz_knn.c
 *	  libFuzzer target for the knn decoder.  The input is copied with
 *	  its header's payload length and CRC-32C recomputed (sf_fuzz.h).  Any
 *	  byte string must decode or be refused with a status and a message; a
 *	  decoded model must score a row of zeros with a probability in [0, 1]
 *	  (NaN only when a distance overflows to infinity with distance weights)
 *	  and re-encode to bytes that decode again to the same encoding.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/knn.h"
#include "sf_fuzz.h"

SF_FUZZ_CANONICAL_TARGET(knn_model, knn, isnan(p) || (p >= 0.0 && p <= 1.0));
