/*
 * deepfm_pg.h
 *	  PostgreSQL-side helpers of the QRGMM DeepFM kind: categorical id
 *	  arrays.  Implemented in src/qrgmm/deepfm_agg.c.
 */
#ifndef SCFRISK_DEEPFM_PG_H
#define SCFRISK_DEEPFM_PG_H

#include "scfrisk_pg.h"
#include "utils/array.h"
#include "scfrisk/sf_qcurve.h"

/*
 * Copy the n ids of a categorical int[] (arr) into out as doubles; NULL ids
 * (22004) and negative ids (22000) are errors naming the element and 'what'.
 * Implemented in deepfm_agg.c.
 */
extern void DeepfmGetCategorical(ArrayType *arr, int n, double *out, const char *what);

/* Length of a one-dimensional int[] (errors name 'what'). */
extern int	DeepfmCategoricalLength(ArrayType *arr, const char *what);

#endif							/* SCFRISK_DEEPFM_PG_H */
