/*
 * deepfm_sql.c
 *	  SQL side of the QRGMM DeepFM kind: its entry points for the QRGMM
 *	  dispatch table (so qrgmm_curve, qrgmm_quantile(s), qrgmm_cdf,
 *	  qrgmm_sample(_array), qrgmm_crps, crps_mean and the loan-risk
 *	  functions accept its models), and
 *	  scfrisk.qrgmm_deepfm_covariates(model, numeric, categorical), which
 *	  builds the float8[] covariate vector (numeric fields, then the ids) the
 *	  generation functions take, after checking both field counts against
 *	  the model.  The (model, numeric, categorical, ...) overloads of
 *	  qrgmm_curve, qrgmm_quantile, qrgmm_quantiles and qrgmm_sample are SQL
 *	  functions over it (sql/install/35_deepfm.sql), which the planner
 *	  inlines, so they run the same C code with the same per-call-site cache.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"

#include "scfrisk/deepfm.h"
#include "deepfm_pg.h"

PG_FUNCTION_INFO_V1(qrgmm_deepfm_covariates);
Datum
qrgmm_deepfm_covariates(PG_FUNCTION_ARGS)
{
	const deepfm_model *model = SfModelCacheGet(fcinfo, 0, SfKindDecoder(SF_KIND_QRGMM_DEEPFM),
												"qrgmm_deepfm_covariates");
	ArrayType  *na = PG_GETARG_ARRAYTYPE_P(1);
	ArrayType  *ca = PG_GETARG_ARRAYTYPE_P(2);
	int			nn = SfArrayLength(na, "numeric");
	int			nc = DeepfmCategoricalLength(ca, "qrgmm_deepfm_covariates");
	double	   *x;
	ArrayType  *result;

	if (nn != (int) model->n_numeric || nc != (int) model->n_categorical)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("qrgmm_deepfm_covariates: got %d numeric and %d categorical fields but the model was trained on %u and %u",
						nn, nc, model->n_numeric, model->n_categorical)));
	x = palloc(sizeof(double) * Max(nn + nc, 1));
	SfGetFeatures(na, nn, x, SF_MISSING_REJECT, "numeric");
	DeepfmGetCategorical(ca, nc, x + nn, "qrgmm_deepfm_covariates");
	result = SfMakeFloat8Array(x, nn + nc);
	pfree(x);
	PG_RETURN_ARRAYTYPE_P(result);
}
