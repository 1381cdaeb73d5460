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

SF_SCORE_ROW_FUNCTION(mlp_predict_sql, SF_KIND_MLP, "mlp_predict");

SF_SCORE_ROW_FUNCTION(logreg_predict_sql, SF_KIND_LOGREG, "logreg_predict");
