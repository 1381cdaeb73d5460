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

SF_FUZZ_SCORE_TARGET(logreg_model, logreg, SF_KIND_LOGREG);
