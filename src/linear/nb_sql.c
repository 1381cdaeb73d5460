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

static const SfRowsSpec nb_rows_spec = {{22, SF_ROWS_FLOAT8, 0, 0, NB_MAX_FEATURES}, "nb_train"};
static const SfRowsSpec *const nb_specs[] = {&nb_rows_spec};

PG_FUNCTION_INFO_V1(nb_train_sfunc);
Datum
nb_train_sfunc(PG_FUNCTION_ARGS)
{
	return SfTrainTransition(fcinfo, &nb_rows_spec, 0, NULL);
}

SF_ROWS_PARALLEL_FUNCTIONS(nb_rows_serialize, nb_rows_deserialize, nb_rows_combine, nb_specs);

PG_FUNCTION_INFO_V1(nb_train_final);
Datum
nb_train_final(PG_FUNCTION_ARGS)
{
	SfTrainRows tr;
	nb_params	p;
	nb_model   *m;
	sf_env		env;
	sf_buf		b;

	memset(&p, 0, sizeof(p));
	SfTrainStart(fcinfo, "nb_train", &nb_params_table, &p, &tr);
	m = SfTrainFit(&tr, &env, SF_KIND_GAUSSIAN_NB, &p, p.verbose, "nb_train");
	sf_buf_init(&b, &env);
	SF_PG_CHECK(nb_encode(&env, m, &p, SfTrainNames(&p.feature_names, &tr, "nb_train"), &b),
				&env, "nb_train");
	PG_RETURN_BYTEA_P(SfTrainFinishKind(&tr, &b, SF_KIND_GAUSSIAN_NB, &p, p.calibrate,
										p.calibrate_folds, "nb_train"));
}

/* scfrisk.nb_predict (the C name nb_predict is the core's scorer) */
SF_SCORE_ROW_FUNCTION(nb_predict_sql, SF_KIND_GAUSSIAN_NB, "nb_predict");
