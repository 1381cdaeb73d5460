/*
 * mlp_sql.c
 *	  Scoring functions of the MLP and logistic regression:
 *	  scfrisk.mlp_predict, scfrisk.logreg_predict, and their scorers for the
 *	  generic scfrisk.predict dispatch.
 *
 * A model is decoded once per call site (SfModelCacheGet); a row costs the
 * unpacking of its features and one forward pass.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/array.h"

#include "scfrisk/logreg.h"
#include "scfrisk/mlp.h"
#include "mlp_pg.h"

/* ------------------------------------------------------------ predict */

PG_FUNCTION_INFO_V1(mlp_predict_sql);
Datum
mlp_predict_sql(PG_FUNCTION_ARGS)
{
	const mlp_model *m = SfModelCacheGet(fcinfo, 0, SfKindDecoder(SF_KIND_MLP), "mlp_predict");
	ArrayType  *feat = PG_GETARG_ARRAYTYPE_P(1);
	double		x[NN_MAX_UNITS];
	double		r;

	SfGetFeatures(feat, (int) m->n_features, x, SF_MISSING_AS_NAN, "features");
	SfCheckFloat32Range(x, (int) m->n_features, "mlp_predict", "features");
	r = mlp_predict(m, x);
	PG_FREE_IF_COPY(feat, 1);
	PG_RETURN_FLOAT8(r);
}

PG_FUNCTION_INFO_V1(logreg_predict_sql);
Datum
logreg_predict_sql(PG_FUNCTION_ARGS)
{
	const logreg_model *m = SfModelCacheGet(fcinfo, 0, SfKindDecoder(SF_KIND_LOGREG), "logreg_predict");
	ArrayType  *feat = PG_GETARG_ARRAYTYPE_P(1);
	double		x[LOGREG_MAX_FEATURES];
	double		r;

	SfGetFeatures(feat, (int) m->n_features, x, SF_MISSING_REJECT, "features");
	r = logreg_predict(m, x);
	PG_FREE_IF_COPY(feat, 1);
	PG_RETURN_FLOAT8(r);
}
