/*
 * deepfm_pg.h
 *	  PostgreSQL-side hooks of the QRGMM DeepFM kind for the QRGMM dispatch
 *	  table (QrgmmCurveKinds in src/qrgmm/qrgmm_sql.c).  Implemented in
 *	  src/qrgmm/deepfm_sql.c.
 */
#ifndef SCFRISK_DEEPFM_PG_H
#define SCFRISK_DEEPFM_PG_H

#include "scfrisk_pg.h"
#include "utils/array.h"
#include "scfrisk/sf_qcurve.h"

/* SfDecodeFn of qrgmm_deepfm models (a deepfm_model *). */
extern sf_status DeepfmDecodeAny(sf_env *env, const uint8_t *buf, size_t len, void **model);

/* Covariate width n_numeric + n_categorical of a decoded model. */
extern uint32 DeepfmNFeatures(const void *model);

/* The rearranged curve of a decoded model for covariates x. */
extern sf_status DeepfmCurveAny(sf_env *env, const void *model, const double *x, sf_qcurve *out);

/*
 * Copy the n ids of a categorical int[] (arr) into out as doubles; NULL ids
 * (22004) and negative ids (22000) are errors naming the element and 'what'.
 * Implemented in deepfm_agg.c.
 */
extern void DeepfmGetCategorical(ArrayType *arr, int n, double *out, const char *what);

/* Length of a one-dimensional int[] (errors name 'what'). */
extern int	DeepfmCategoricalLength(ArrayType *arr, const char *what);

#endif							/* SCFRISK_DEEPFM_PG_H */
