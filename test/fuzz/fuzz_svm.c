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

SF_FUZZ_CANONICAL_TARGET(svm_model, svm, p >= 0.0 && p <= 1.0 && !isnan(svm_decision(&m, x)));
