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
	PG_RETURN_FLOAT8(SfScoreRow(fcinfo, SF_KIND_MLP, "mlp_predict"));
}

PG_FUNCTION_INFO_V1(logreg_predict_sql);
Datum
logreg_predict_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(SfScoreRow(fcinfo, SF_KIND_LOGREG, "logreg_predict"));
}
