/*
 * nb_sql.c
 *	  The training aggregate scfrisk.nb_train(features, label, params) of
 *	  Gaussian naive Bayes and its scorer scfrisk.nb_predict.
 *
 * The state is the shared row store (sf_rowstore_pg.h) with float8
 * features (the scores are compared with scikit-learn's to 1e-9) and no
 * weight column; the transition and the start of the final function are
 * the baselines' shared ones (sf_train_agg.h).  A NULL or NaN feature
 * element is an error, as GaussianNB has no missing values.  The final
 * function fits on the rows in canonical order, so the model bytes do not
 * depend on the plan.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"

#include "scfrisk/nb.h"
#include "scfrisk_pg.h"
#include "sf_train_agg.h"

SF_TRAIN_ROWS_FUNCTIONS(nb, 22, NB_MAX_FEATURES, "nb_train", 0, NULL);

PG_FUNCTION_INFO_V1(nb_train_final);
Datum
nb_train_final(PG_FUNCTION_ARGS)
{
	SfTrainRows tr;
	nb_params	p;
	sf_env		env;
	sf_buf		b;

	(void) SfTrainKind(fcinfo, SF_KIND_GAUSSIAN_NB, "nb_train", &p, &tr, &env, &b);
	PG_RETURN_BYTEA_P(SfTrainFinishKind(&tr, &b, SF_KIND_GAUSSIAN_NB, &p, p.calibrate,
										p.calibrate_folds, "nb_train"));
}

/* scfrisk.nb_predict (the C name nb_predict is the core's scorer) */
SF_SCORE_ROW_FUNCTION(nb_predict_sql, SF_KIND_GAUSSIAN_NB, "nb_predict");
