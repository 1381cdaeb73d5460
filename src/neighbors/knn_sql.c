/*
 * knn_sql.c
 *	  The training aggregate scfrisk.knn_train(features, label, params) of
 *	  k nearest neighbours and its scorer scfrisk.knn_predict.
 *
 * The state is the shared row store (sf_rowstore_pg.h) with float8
 * features (the model keeps the standardised rows) and no weight column;
 * the transition and the start of the final function are the baselines'
 * shared ones (sf_train_agg.h).  A model holds its training rows, so the
 * transition stops (54000) at the first row past KNN_MAX_ROWS instead of
 * collecting rows it cannot keep.  A NULL or NaN feature element is an
 * error, as KNeighborsClassifier has no missing values.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"

#include "scfrisk/knn.h"
#include "scfrisk_pg.h"
#include "sf_train_agg.h"

SF_TRAIN_ROWS_FUNCTIONS(knn, 24, KNN_MAX_FEATURES, "knn_train", KNN_MAX_ROWS,
						"Train on a sample of the rows (TABLESAMPLE), or use rf_train or xgb_train.");

PG_FUNCTION_INFO_V1(knn_train_final);
Datum
knn_train_final(PG_FUNCTION_ARGS)
{
	SfTrainRows tr;
	knn_params	p;
	sf_env		env;
	sf_buf		b;

	(void) SfTrainKind(fcinfo, SF_KIND_KNN, "knn_train", &p, &tr, &env, &b);
	PG_RETURN_BYTEA_P(SfTrainFinish(&tr, &b));
}

/* scfrisk.knn_predict (the C name knn_predict is the core's scorer) */
SF_SCORE_ROW_FUNCTION(knn_predict_sql, SF_KIND_KNN, "knn_predict");
