/*
 * kinds.c
 *	  The one table of model kinds (sf_kinds.h) and the adapters that give
 *	  every kind the same decode / width / score / curve signatures.
 *
 * The adapters only cast: each kind's real work stays in its own core.  The
 * table is in tag order and never renumbers a kind (tags are on disk).
 */
#include <math.h>
#include <string.h>

#include "scfrisk/sf_kinds.h"
#include "scfrisk/sf_explain.h"
#include "scfrisk/deepfm.h"
#include "scfrisk/forest.h"
#include "scfrisk/gbt.h"
#include "scfrisk/knn.h"
#include "scfrisk/logreg.h"
#include "scfrisk/mlp.h"
#include "scfrisk/nb.h"
#include "scfrisk/qrgmm.h"
#include "scfrisk/svm.h"
#include "scfrisk/xgb_mlp.h"

/* ------------------------------------------------------------ gbt */

static sf_status
gbt_kind_decode(sf_env *env, const uint8_t *buf, size_t len, void **model)
{
	return gbt_decode(env, buf, len, (gbt_model **) model);
}

static uint32_t
gbt_kind_width(const void *model)
{
	return gbt_n_features((const gbt_model *) model);
}

static double
gbt_kind_predict(const void *model, const double *x)
{
	return gbt_predict((const gbt_model *) model, x);
}

static void
gbt_kind_describe(const void *model, sf_buf *b)
{
	gbt_info_json((const gbt_model *) model, b);
}

/* gbt_train unweighted (params: gbt_params, as the kind's table fills it) */
static sf_status
gbt_kind_fit(sf_env *env, const void *params, const double *x, const double *y, size_t n,
			 uint32_t p, void **model)
{
	return gbt_train(env, x, y, NULL, n, p, (const gbt_params *) params, (gbt_model **) model);
}

static void
gbt_kind_free(sf_env *env, void *model)
{
	gbt_model_free(env, (gbt_model *) model);
}

/*
 * The kinds whose core fills a model struct the caller owns
 * (X_decode(env, buf, len, m), m->n_features, X_predict, X_body_json): one
 * macro gives their decode, width, score and describe adapters, the struct
 * allocated from env.  "name" is the kind's name for the message.
 */
#define SF_KIND_BY_VALUE(prefix, model_t, name) \
static sf_status \
prefix##_kind_decode(sf_env *env, const uint8_t *buf, size_t len, void **model) \
{ \
	model_t    *m = sf_malloc(env, sizeof(model_t)); \
\
	if (m == NULL) \
		return sf_fail(env, SF_ENOMEM, "out of memory decoding a " name " model"); \
	*model = m; \
	return prefix##_decode(env, buf, len, m); \
} \
static uint32_t \
prefix##_kind_width(const void *model) \
{ \
	return ((const model_t *) model)->n_features; \
} \
static double \
prefix##_kind_predict(const void *model, const double *x) \
{ \
	return prefix##_predict((const model_t *) model, x); \
} \
static void \
prefix##_kind_describe(const void *model, sf_buf *b) \
{ \
	prefix##_body_json((const model_t *) model, b); \
} \
extern int	no_such_variable

/*
 * Their fit and free (X_fit(env, params, x, y, n, p, m), X_free(env, m)),
 * which cross-fitting trains folds with (sf_kind_fold_fit).  A failed fit
 * frees the struct; what the core allocated before failing goes with env's
 * context, as after any failed fit.
 */
#define SF_KIND_FIT_BY_VALUE(prefix, model_t, params_t, name) \
static sf_status \
prefix##_kind_fit(sf_env *env, const void *params, const double *x, const double *y, \
				  size_t n, uint32_t p, void **model) \
{ \
	model_t    *m = sf_malloc(env, sizeof(model_t)); \
	sf_status	st; \
\
	if (m == NULL) \
		return sf_fail(env, SF_ENOMEM, "out of memory fitting a " name " model"); \
	if ((st = prefix##_fit(env, (const params_t *) params, x, y, n, p, m)) != SF_OK) \
	{ \
		sf_free(env, m); \
		return st; \
	} \
	*model = m; \
	return SF_OK; \
} \
static void \
prefix##_kind_free(sf_env *env, void *model) \
{ \
	prefix##_free(env, (model_t *) model); \
	sf_free(env, model); \
} \
extern int	no_such_variable

/*
 * The encoder of a kind whose core writes a model from its params and
 * feature names alone (X_encode(env, m, p, names, b)): the baselines.
 */
#define SF_KIND_ENCODE_BY_VALUE(prefix, model_t, params_t) \
static sf_status \
prefix##_kind_encode(sf_env *env, const void *model, const void *params, \
					 const char *const *names, sf_buf *b) \
{ \
	return prefix##_encode(env, (const model_t *) model, (const params_t *) params, names, b); \
} \
extern int	no_such_variable

SF_KIND_BY_VALUE(mlp, mlp_model, "mlp");
SF_KIND_FIT_BY_VALUE(mlp, mlp_model, mlp_params, "mlp");
SF_KIND_BY_VALUE(xgb_mlp, xgb_mlp_model, "xgb_mlp");
SF_KIND_FIT_BY_VALUE(xgb_mlp, xgb_mlp_model, xgb_mlp_params, "xgb_mlp");
SF_KIND_BY_VALUE(logreg, logreg_model, "logreg");
SF_KIND_FIT_BY_VALUE(logreg, logreg_model, logreg_params, "logreg");
SF_KIND_BY_VALUE(nb, nb_model, "gaussian_nb");
SF_KIND_FIT_BY_VALUE(nb, nb_model, nb_params, "gaussian_nb");
SF_KIND_ENCODE_BY_VALUE(nb, nb_model, nb_params);
SF_KIND_BY_VALUE(svm, svm_model, "linear_svm");
SF_KIND_FIT_BY_VALUE(svm, svm_model, svm_params, "linear_svm");
SF_KIND_ENCODE_BY_VALUE(svm, svm_model, svm_params);
SF_KIND_BY_VALUE(knn, knn_model, "knn");
SF_KIND_FIT_BY_VALUE(knn, knn_model, knn_params, "knn");
SF_KIND_ENCODE_BY_VALUE(knn, knn_model, knn_params);

/* ------------------------------------------------------------ qrgmm_linear */

static sf_status
qrgmm_kind_decode(sf_env *env, const uint8_t *buf, size_t len, void **model)
{
	return sf_qrgmm_decode(env, buf, len, (sf_qrgmm_model **) model);
}

static uint32_t
qrgmm_kind_width(const void *model)
{
	return ((const sf_qrgmm_model *) model)->d;
}

static sf_status
qrgmm_kind_curve(sf_env *env, const void *model, const double *x, sf_qcurve *out)
{
	return sf_qrgmm_curve(env, (const sf_qrgmm_model *) model, x, out);
}

static void
qrgmm_kind_describe(const void *model, sf_buf *b)
{
	sf_qrgmm_body_json((const sf_qrgmm_model *) model, b);
}

/* ------------------------------------------------------------ qrgmm_deepfm */

static sf_status
deepfm_kind_decode(sf_env *env, const uint8_t *buf, size_t len, void **model)
{
	return deepfm_decode(env, buf, len, (deepfm_model **) model);
}

static uint32_t
deepfm_kind_width(const void *model)
{
	return deepfm_fields((const deepfm_model *) model);
}

static sf_status
deepfm_kind_curve(sf_env *env, const void *model, const double *x, sf_qcurve *out)
{
	return deepfm_curve(env, (const deepfm_model *) model, x, out);
}

static void
deepfm_kind_describe(const void *model, sf_buf *b)
{
	deepfm_body_json((const deepfm_model *) model, b);
}

/* ------------------------------------------------------------ cart and forest */

static sf_status
cart_kind_decode(sf_env *env, const uint8_t *buf, size_t len, void **model)
{
	return forest_decode(env, SF_KIND_CART, buf, len, (forest_model **) model);
}

static sf_status
forest_kind_decode(sf_env *env, const uint8_t *buf, size_t len, void **model)
{
	return forest_decode(env, SF_KIND_FOREST, buf, len, (forest_model **) model);
}

static uint32_t
forest_kind_width(const void *model)
{
	return ((const forest_model *) model)->n_features;
}

static double
forest_kind_predict(const void *model, const double *x)
{
	return forest_predict((const forest_model *) model, x);
}

static void
forest_kind_describe(const void *model, sf_buf *b)
{
	forest_body_json((const forest_model *) model, b);
}

/* forest_train of either tree kind (params: forest_params, as the kind's table fills it) */
static sf_status
cart_kind_fit(sf_env *env, const void *params, const double *x, const double *y, size_t n,
			  uint32_t p, void **model)
{
	return forest_train(env, SF_KIND_CART, x, y, n, p, (const forest_params *) params,
						(forest_model **) model);
}

static sf_status
forest_kind_fit(sf_env *env, const void *params, const double *x, const double *y, size_t n,
				uint32_t p, void **model)
{
	return forest_train(env, SF_KIND_FOREST, x, y, n, p, (const forest_params *) params,
						(forest_model **) model);
}

static void
forest_kind_free(sf_env *env, void *model)
{
	forest_model_free(env, (forest_model *) model);
}

/* ------------------------------------------------------------ the table */

/*
 * The table, in tag order.  Designated initializers: a field added to
 * sf_kind is NULL / false / 0 for every kind that does not name it.
 */
static const sf_kind kinds[] = {
	{
		.tag = SF_KIND_GBT, .name = "gbt", .current_version = 1,
		.aggregate = "xgb_train", .doc = "docs/gbt.md",
		.accepts_missing = true, .float32_inputs = false,
		.decode = gbt_kind_decode, .n_features = gbt_kind_width,
		.predict = gbt_kind_predict,
		.describe = gbt_kind_describe,
		.explain = sf_explain_gbt, .explain_needs_background = false,
		.params = &gbt_params_table, .params_size = sizeof(gbt_params),
		.fit = gbt_kind_fit, .free_model = gbt_kind_free,
	},
	{
		.tag = SF_KIND_MLP, .name = "mlp", .current_version = 1,
		.aggregate = "mlp_train", .doc = "docs/mlp.md",
		.accepts_missing = true, .float32_inputs = true,
		.decode = mlp_kind_decode, .n_features = mlp_kind_width,
		.predict = mlp_kind_predict,
		.describe = mlp_kind_describe,
		.explain = sf_explain_mlp, .explain_needs_background = true,
		.params = &mlp_params_table, .params_size = sizeof(mlp_params),
		.fit = mlp_kind_fit, .free_model = mlp_kind_free,
	},
	{
		.tag = SF_KIND_XGB_MLP, .name = "xgb_mlp", .current_version = 1,
		.aggregate = "xgb_mlp_train", .doc = "docs/xgboost-mlp.md",
		.accepts_missing = true, .float32_inputs = true,
		.decode = xgb_mlp_kind_decode, .n_features = xgb_mlp_kind_width,
		.predict = xgb_mlp_kind_predict,
		.describe = xgb_mlp_kind_describe,
		.explain = sf_explain_xgb_mlp, .explain_needs_background = true,
		.params = &xgb_mlp_params_table, .params_size = sizeof(xgb_mlp_params),
		.fit = xgb_mlp_kind_fit, .free_model = xgb_mlp_kind_free,
	},
	{
		.tag = SF_KIND_LOGREG, .name = "logreg", .current_version = 1,
		.aggregate = "logreg_train", .doc = "docs/mlp.md",
		.accepts_missing = false, .float32_inputs = false,
		.decode = logreg_kind_decode, .n_features = logreg_kind_width,
		.predict = logreg_kind_predict,
		.describe = logreg_kind_describe,
		.explain = sf_explain_logreg, .explain_needs_background = true,
		.params = &logreg_params_table, .params_size = sizeof(logreg_params),
		.fit = logreg_kind_fit, .free_model = logreg_kind_free,
	},
	{
		.tag = SF_KIND_QRGMM_LINEAR, .name = "qrgmm_linear", .current_version = 1,
		.aggregate = "qrgmm_train", .doc = "docs/qrgmm.md",
		.accepts_missing = false, .float32_inputs = false,
		.decode = qrgmm_kind_decode, .n_features = qrgmm_kind_width,
		.curve = qrgmm_kind_curve,
		.describe = qrgmm_kind_describe,
		.params = &sf_qrgmm_param_table, .params_size = sizeof(sf_qrgmm_params),
	},
	/* qrgmm_deepfm_train takes categorical fields as int[] beside the numeric
	 * covariates: not the registry's (float8[], float8, jsonb) shape */
	{
		.tag = SF_KIND_QRGMM_DEEPFM, .name = "qrgmm_deepfm", .current_version = 1,
		.aggregate = NULL, .doc = "docs/qrgmm-deepfm.md",
		.accepts_missing = false, .float32_inputs = true,
		.decode = deepfm_kind_decode, .n_features = deepfm_kind_width,
		.curve = deepfm_kind_curve,
		.describe = deepfm_kind_describe,
		.params = &deepfm_params_table, .params_size = sizeof(deepfm_params),
	},
	{
		.tag = SF_KIND_CART, .name = "cart", .current_version = FOREST_FORMAT_VERSION,
		.aggregate = "tree_train", .doc = "docs/baselines.md",
		.accepts_missing = true, .float32_inputs = false,
		.decode = cart_kind_decode, .n_features = forest_kind_width,
		.predict = forest_kind_predict,
		.describe = forest_kind_describe,
		.explain = sf_explain_forest, .explain_needs_background = false,
		.params = &cart_params_table, .params_size = sizeof(forest_params),
		.fit = cart_kind_fit, .free_model = forest_kind_free,
	},
	{
		.tag = SF_KIND_FOREST, .name = "forest", .current_version = FOREST_FORMAT_VERSION,
		.aggregate = "rf_train", .doc = "docs/baselines.md",
		.accepts_missing = true, .float32_inputs = false,
		.decode = forest_kind_decode, .n_features = forest_kind_width,
		.predict = forest_kind_predict,
		.describe = forest_kind_describe,
		.explain = sf_explain_forest, .explain_needs_background = false,
		.params = &forest_params_table, .params_size = sizeof(forest_params),
		.fit = forest_kind_fit, .free_model = forest_kind_free,
	},
	{
		.tag = SF_KIND_GAUSSIAN_NB, .name = "gaussian_nb", .current_version = NB_FORMAT_VERSION,
		.aggregate = "nb_train", .doc = "docs/baselines.md",
		.accepts_missing = false, .float32_inputs = false,
		.decode = nb_kind_decode, .n_features = nb_kind_width,
		.predict = nb_kind_predict,
		.describe = nb_kind_describe,
		.explain = sf_explain_nb, .explain_needs_background = false,
		.params = &nb_params_table, .params_size = sizeof(nb_params),
		.fit = nb_kind_fit, .free_model = nb_kind_free,
		.encode = nb_kind_encode,
	},
	{
		.tag = SF_KIND_LINEAR_SVM, .name = "linear_svm", .current_version = SVM_FORMAT_VERSION,
		.aggregate = "svm_train", .doc = "docs/baselines.md",
		.accepts_missing = false, .float32_inputs = false,
		.decode = svm_kind_decode, .n_features = svm_kind_width,
		.predict = svm_kind_predict,
		.describe = svm_kind_describe,
		.explain = sf_explain_svm, .explain_needs_background = true,
		.params = &svm_params_table, .params_size = sizeof(svm_params),
		.fit = svm_kind_fit, .free_model = svm_kind_free,
		.encode = svm_kind_encode,
	},
	/* a neighbour vote has no additive explanation (explain: 0A000) */
	{
		.tag = SF_KIND_KNN, .name = "knn", .current_version = KNN_FORMAT_VERSION,
		.aggregate = "knn_train", .doc = "docs/baselines.md",
		.accepts_missing = false, .float32_inputs = false,
		.decode = knn_kind_decode, .n_features = knn_kind_width,
		.predict = knn_kind_predict,
		.describe = knn_kind_describe,
		.params = &knn_params_table, .params_size = sizeof(knn_params),
		.fit = knn_kind_fit, .free_model = knn_kind_free,
		.encode = knn_kind_encode,
	},
};

const sf_kind *
sf_kind_find(uint16_t tag)
{
	size_t		i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].tag == tag)
			return &kinds[i];
	return NULL;
}

const sf_kind *
sf_kind_find_name(const char *name)
{
	size_t		i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

size_t
sf_kind_count(void)
{
	return sizeof(kinds) / sizeof(kinds[0]);
}

const sf_kind *
sf_kind_at(size_t i)
{
	return i < sf_kind_count() ? &kinds[i] : NULL;
}

/* The container's kind functions (sf_container.h) read the same table. */

const char *
sf_kind_name(uint16_t kind)
{
	const sf_kind *k = sf_kind_find(kind);

	return k ? k->name : NULL;
}

uint16_t
sf_kind_from_name(const char *name)
{
	const sf_kind *k = sf_kind_find_name(name);

	return k ? k->tag : 0;
}

uint16_t
sf_kind_current_version(uint16_t kind)
{
	const sf_kind *k = sf_kind_find(kind);

	return k ? k->current_version : 0;
}

/*
 * One fold's model of cross-fitting (calibration): the kind's fit on the
 * fold's training rows, its scorer on the held-out rows xs, then free.
 */
sf_status
sf_kind_fold_fit(void *ctx, sf_env *env, const double *x, const double *y, size_t n,
				 const double *xs, size_t ns, double *prob)
{
	const sf_kind_fold *c = ctx;
	void	   *m;
	sf_status	st;
	size_t		i;

	if ((st = c->kind->fit(env, c->params, x, y, n, c->p, &m)) != SF_OK)
		return st;
	for (i = 0; i < ns; i++)
		prob[i] = c->kind->predict(m, xs + i * c->p);
	c->kind->free_model(env, m);
	return SF_OK;
}
