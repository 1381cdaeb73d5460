/*
 * svm_sql.c
 *	  The training aggregate scfrisk.svm_train(features, label, params) of
 *	  the linear SVM and its scorers scfrisk.svm_predict (Platt probability)
 *	  and scfrisk.svm_decision (decision value).
 *
 * The state is the shared row store (sf_rowstore_pg.h) with float8
 * features (decision values are compared with LinearSVC's to 1e-4) and no
 * weight column; the transition and the start of the final function are
 * the baselines' shared ones (sf_train_agg.h).  A NULL or NaN feature
 * element is an error, as LinearSVC has no missing values.  The final
 * function fits on the rows in canonical order, so the model bytes do not
 * depend on the plan.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"

#include "scfrisk/svm.h"
#include "scfrisk/sf_explain.h"
#include "scfrisk_pg.h"
#include "sf_train_agg.h"

SF_TRAIN_ROWS_FUNCTIONS(svm, 23, SVM_MAX_FEATURES, "svm_train", 0, NULL);

PG_FUNCTION_INFO_V1(svm_train_final);
Datum
svm_train_final(PG_FUNCTION_ARGS)
{
	SfTrainRows tr;
	svm_params	p;
	sf_env		env;
	sf_buf		b;
	const svm_model *m = SfTrainKind(fcinfo, SF_KIND_LINEAR_SVM, "svm_train", &p, &tr, &env, &b);

	if (!m->converged)
		ereport(WARNING,
				(errmsg("svm_train: the solver stopped after max_iter = %d passes before reaching tol = %g",
						p.max_iter, p.tol),
				 errhint("Raise max_iter, or scale the features (the dual converges slowly on "
						 "features of very different scales).")));
	{
		/* the training means: the reference of its exact explanations (docs/explain.md) */
		sf_background bg;
		sf_buf		sec,
					withbg;

		SF_PG_CHECK(sf_background_mean(&env, tr.x, (size_t) tr.st->n_rows, (uint32_t) tr.st->n_cols, &bg),
					&env, "svm_train");
		sf_buf_init(&sec, &env);
		sf_background_encode(&bg, &sec);
		sf_buf_init(&withbg, &env);
		SF_PG_CHECK(sf_buf_status(&sec), &env, "svm_train");
		SF_PG_CHECK(sf_container_add_section(&env, b.data, b.len, SF_TAG_BACKGROUND, sec.data, sec.len,
											 &withbg), &env, "svm_train");
		PG_RETURN_BYTEA_P(SfTrainFinishKind(&tr, &withbg, SF_KIND_LINEAR_SVM, &p, p.calibrate,
											p.calibrate_folds, "svm_train"));
	}
}

/* scfrisk.svm_predict (the C name svm_predict is the core's scorer) */
SF_SCORE_ROW_FUNCTION(svm_predict_sql, SF_KIND_LINEAR_SVM, "svm_predict");

/* scfrisk.svm_decision (svm_decision is the core's) */
PG_FUNCTION_INFO_V1(svm_decision_sql);
Datum
svm_decision_sql(PG_FUNCTION_ARGS)
{
	const svm_model *m = SfModelCacheGet(fcinfo, 0, SfKindDecoder(SF_KIND_LINEAR_SVM), "svm_decision");
	ArrayType  *feat = PG_GETARG_ARRAYTYPE_P(1);
	double	   *x = palloc(sizeof(double) * m->n_features);
	double		r;

	SfGetFeatures(feat, (int) m->n_features, x, SF_MISSING_REJECT, "features");
	r = svm_decision(m, x);
	pfree(x);
	PG_FREE_IF_COPY(feat, 1);
	PG_RETURN_FLOAT8(r);
}
