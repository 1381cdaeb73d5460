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

/* ------------------------------------------------------------ mlp */

static sf_status
mlp_kind_decode(sf_env *env, const uint8_t *buf, size_t len, void **model)
{
	mlp_model  *m = sf_malloc(env, sizeof(mlp_model));

	if (m == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding an mlp model");
	*model = m;
	return mlp_decode(env, buf, len, m);
}

static uint32_t
mlp_kind_width(const void *model)
{
	return ((const mlp_model *) model)->n_features;
}

static double
mlp_kind_predict(const void *model, const double *x)
{
	return mlp_predict((const mlp_model *) model, x);
}

static void
mlp_kind_describe(const void *model, sf_buf *b)
{
	mlp_body_json((const mlp_model *) model, b);
}

/* ------------------------------------------------------------ xgb_mlp */

static sf_status
xgb_mlp_kind_decode(sf_env *env, const uint8_t *buf, size_t len, void **model)
{
	xgb_mlp_model *m = sf_malloc(env, sizeof(xgb_mlp_model));

	if (m == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding an xgb_mlp model");
	*model = m;
	return xgb_mlp_decode(env, buf, len, m);
}

static uint32_t
xgb_mlp_kind_width(const void *model)
{
	return ((const xgb_mlp_model *) model)->n_features;
}

static double
xgb_mlp_kind_predict(const void *model, const double *x)
{
	return xgb_mlp_predict((const xgb_mlp_model *) model, x);
}

static void
xgb_mlp_kind_describe(const void *model, sf_buf *b)
{
	xgb_mlp_body_json((const xgb_mlp_model *) model, b);
}

/* ------------------------------------------------------------ logreg */

static sf_status
logreg_kind_decode(sf_env *env, const uint8_t *buf, size_t len, void **model)
{
	logreg_model *m = sf_malloc(env, sizeof(logreg_model));

	if (m == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding a logreg model");
	*model = m;
	return logreg_decode(env, buf, len, m);
}

static uint32_t
logreg_kind_width(const void *model)
{
	return ((const logreg_model *) model)->n_features;
}

static double
logreg_kind_predict(const void *model, const double *x)
{
	return logreg_predict((const logreg_model *) model, x);
}

static void
logreg_kind_describe(const void *model, sf_buf *b)
{
	logreg_body_json((const logreg_model *) model, b);
}

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

/* ------------------------------------------------------------ gaussian_nb */

static sf_status
nb_kind_decode(sf_env *env, const uint8_t *buf, size_t len, void **model)
{
	nb_model   *m = sf_malloc(env, sizeof(nb_model));

	if (m == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding a gaussian_nb model");
	*model = m;
	return nb_decode(env, buf, len, m);
}

static uint32_t
nb_kind_width(const void *model)
{
	return ((const nb_model *) model)->n_features;
}

static double
nb_kind_predict(const void *model, const double *x)
{
	return nb_predict((const nb_model *) model, x);
}

static void
nb_kind_describe(const void *model, sf_buf *b)
{
	nb_body_json((const nb_model *) model, b);
}

/* ------------------------------------------------------------ linear_svm */

static sf_status
svm_kind_decode(sf_env *env, const uint8_t *buf, size_t len, void **model)
{
	svm_model  *m = sf_malloc(env, sizeof(svm_model));

	if (m == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding a linear_svm model");
	*model = m;
	return svm_decode(env, buf, len, m);
}

static uint32_t
svm_kind_width(const void *model)
{
	return ((const svm_model *) model)->n_features;
}

static double
svm_kind_predict(const void *model, const double *x)
{
	return svm_predict((const svm_model *) model, x);
}

static void
svm_kind_describe(const void *model, sf_buf *b)
{
	svm_body_json((const svm_model *) model, b);
}

/* ------------------------------------------------------------ knn */

static sf_status
knn_kind_decode(sf_env *env, const uint8_t *buf, size_t len, void **model)
{
	knn_model  *m = sf_malloc(env, sizeof(knn_model));

	if (m == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding a knn model");
	*model = m;
	return knn_decode(env, buf, len, m);
}

static uint32_t
knn_kind_width(const void *model)
{
	return ((const knn_model *) model)->n_features;
}

static double
knn_kind_predict(const void *model, const double *x)
{
	return knn_predict((const knn_model *) model, x);
}

static void
knn_kind_describe(const void *model, sf_buf *b)
{
	knn_body_json((const knn_model *) model, b);
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
