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

SF_FUZZ_CANONICAL_TARGET(nb_model, nb, isnan(p) || (p >= 0.0 && p <= 1.0));
