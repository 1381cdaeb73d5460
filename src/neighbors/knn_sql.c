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

static const SfRowsSpec knn_rows_spec = {{24, SF_ROWS_FLOAT8, 0, 0, KNN_MAX_FEATURES}, "knn_train"};
static const SfRowsSpec *const knn_specs[] = {&knn_rows_spec};

PG_FUNCTION_INFO_V1(knn_train_sfunc);
Datum
knn_train_sfunc(PG_FUNCTION_ARGS)
{
	return SfTrainTransition(fcinfo, &knn_rows_spec, KNN_MAX_ROWS,
							 "Train on a sample of the rows (TABLESAMPLE), or use rf_train or xgb_train.");
}

SF_ROWS_PARALLEL_FUNCTIONS(knn_rows_serialize, knn_rows_deserialize, knn_rows_combine, knn_specs);

PG_FUNCTION_INFO_V1(knn_train_final);
Datum
knn_train_final(PG_FUNCTION_ARGS)
{
	SfTrainRows tr;
	knn_params	p;
	knn_model  *m;
	sf_env		env;
	sf_buf		b;

	memset(&p, 0, sizeof(p));
	SfTrainStart(fcinfo, "knn_train", &knn_params_table, &p, &tr);
	m = SfTrainFit(&tr, &env, SF_KIND_KNN, &p, p.verbose, "knn_train");
	sf_buf_init(&b, &env);
	SF_PG_CHECK(knn_encode(&env, m, &p, SfTrainNames(&p.feature_names, &tr, "knn_train"), &b),
				&env, "knn_train");
	PG_RETURN_BYTEA_P(SfTrainFinish(&tr, &b));
}

/* scfrisk.knn_predict (the C name knn_predict is the core's scorer) */
SF_SCORE_ROW_FUNCTION(knn_predict_sql, SF_KIND_KNN, "knn_predict");
