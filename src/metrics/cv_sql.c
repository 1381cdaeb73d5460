/*
 * cv_sql.c
 *	  SQL helpers of scfrisk.cross_validate and scfrisk.tune (sql/install/
 *	  27_cv.sql): the fold of a row by a hash of its content, and the check
 *	  of a kind's params before anything trains.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "scfrisk/cv.h"
#include "scfrisk/gbt.h"
#include "scfrisk/logreg.h"
#include "scfrisk/mlp.h"
#include "scfrisk/xgb_mlp.h"
#include "mlp_pg.h"

/*
 * scfrisk.row_fold(features float8[], label float8, folds int, seed bigint)
 * -> int: the fold of a row, sf_cv_row_fold of its content.  NULL elements
 * hash as missing values (NaN); a NULL argument gives NULL (the row is in
 * no fold, as the trainers skip it).
 */
PG_FUNCTION_INFO_V1(cv_row_fold);
Datum
cv_row_fold(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	double		label = PG_GETARG_FLOAT8(1);
	int32		folds = PG_GETARG_INT32(2);
	int64		seed = PG_GETARG_INT64(3);
	double	   *x;
	int			n;
	int			fold;

	if (folds < 2 || folds > SF_CV_MAX_FOLDS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("row_fold: folds must be between 2 and %d, got %d", SF_CV_MAX_FOLDS, folds)));
	x = SfGetFeaturesAlloc(arr, &n, SF_MISSING_AS_NAN, "features");
	fold = sf_cv_row_fold(x, (size_t) n, label, folds, (uint64_t) seed);
	pfree(x);
	PG_FREE_IF_COPY(arr, 0);
	PG_RETURN_INT32(fold);
}

/*
 * scfrisk.check_params(kind text, params jsonb) -> void: parse params as the
 * kind's trainer does (unknown keys, types, ranges, cross-checks), raising
 * its 22023 error, so tune finds a bad grid before it trains anything.
 */
PG_FUNCTION_INFO_V1(cv_check_params);
Datum
cv_check_params(PG_FUNCTION_ARGS)
{
	char	   *kind;
	Jsonb	   *jb = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("check_params: kind must not be NULL")));
	kind = text_to_cstring(PG_GETARG_TEXT_PP(0));

	/* the registry's check: the kind's params table in the table of kinds */
	SfCheckKindParams(kind, jb);
	PG_RETURN_VOID();
}
