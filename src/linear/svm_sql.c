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

static const SfRowsSpec svm_rows_spec = {{23, SF_ROWS_FLOAT8, 0, 0, SVM_MAX_FEATURES}, "svm_train"};
static const SfRowsSpec *const svm_specs[] = {&svm_rows_spec};

PG_FUNCTION_INFO_V1(svm_train_sfunc);
Datum
svm_train_sfunc(PG_FUNCTION_ARGS)
{
	return SfTrainTransition(fcinfo, &svm_rows_spec, 0, NULL);
}

SF_ROWS_PARALLEL_FUNCTIONS(svm_rows_serialize, svm_rows_deserialize, svm_rows_combine, svm_specs);

PG_FUNCTION_INFO_V1(svm_train_final);
Datum
svm_train_final(PG_FUNCTION_ARGS)
{
	SfTrainRows tr;
	svm_params	p;
	svm_model  *m;
	sf_env		env;
	sf_buf		b;

	memset(&p, 0, sizeof(p));
	SfTrainStart(fcinfo, "svm_train", &svm_params_table, &p, &tr);
	m = SfTrainFit(&tr, &env, SF_KIND_LINEAR_SVM, &p, p.verbose, "svm_train");
	if (!m->converged)
		ereport(WARNING,
				(errmsg("svm_train: the solver stopped after max_iter = %d passes before reaching tol = %g",
						p.max_iter, p.tol),
				 errhint("Raise max_iter, or scale the features (the dual converges slowly on "
						 "features of very different scales).")));
	sf_buf_init(&b, &env);
	SF_PG_CHECK(svm_encode(&env, m, &p, SfTrainNames(&p.feature_names, &tr, "svm_train"), &b),
				&env, "svm_train");
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
