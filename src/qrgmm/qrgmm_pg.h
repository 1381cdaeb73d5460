/*
 * qrgmm_pg.h
 *	  PostgreSQL-side access to QRGMM models for other concerns (the loan-risk
 *	  functions): from a model argument and a covariate argument to the
 *	  rearranged quantile curve of sf_qcurve.h.
 *
 * Implemented in src/qrgmm/qrgmm_sql.c.  The function dispatches on the model kind
 * read from the container header: every kind whose entry in the table of
 * kinds (src/core/kinds.c) has a curve.
 */
#ifndef SCFRISK_QRGMM_PG_H
#define SCFRISK_QRGMM_PG_H

#include "scfrisk_pg.h"
#include "scfrisk/sf_qcurve.h"

/*
 * Build the curve of the QRGMM model in argument model_argno (a bytea; the
 * decoded model is cached per call site with SfModelCacheGet) for the
 * covariates in argument x_argno (a float8[] of the model's width; NULL, NaN
 * and infinite elements are errors).  out->qa and out->prefix are allocated
 * through env (free them with sf_qcurve_free, or let the memory context go).
 * Both arguments must be non-NULL (callers are STRICT).  Errors: 42809 for a
 * model that is not a QRGMM kind, XX001 for corrupted bytes, 22000 for a
 * covariate vector of the wrong width or with non-finite elements.
 */
extern void QrgmmCurveForArgs(FunctionCallInfo fcinfo, int model_argno, int x_argno,
							  sf_env *env, sf_qcurve *out);

/*
 * The same for set-returning functions, whose fn_extra belongs to the SRF
 * machinery (funcapi.h) and so cannot hold the model cache: decodes model
 * (any QRGMM kind) without caching, through env, and builds the curve for
 * the covariates x.  Call it once, in the first call, from the multi-call
 * memory context.  'what' names the SQL function in error messages.
 */
extern void QrgmmCurveFromValues(bytea *model, ArrayType *x, sf_env *env, sf_qcurve *out,
								 const char *what);

/*
 * The sales samples argument arr of crps, loan_risk_curve_samples,
 * loan_decision, ...: *n finite values (NULL and NaN elements refused), at
 * least one (22000 "what: samples is empty", with hint when not NULL).
 */
extern double *SfGetSamples(ArrayType *arr, int *n, const char *what, const char *hint);


#endif							/* SCFRISK_QRGMM_PG_H */
