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

/* ------------------------------------------------------------ the table */

static const sf_kind kinds[] = {
	{SF_KIND_GBT, "gbt", 1, "xgb_train", "docs/gbt.md", true,
	gbt_kind_decode, gbt_kind_width, gbt_kind_predict, NULL, sf_explain_gbt, false,
	&gbt_params_table, sizeof(gbt_params)},
	{SF_KIND_MLP, "mlp", 1, "mlp_train", "docs/mlp.md", true,
	mlp_kind_decode, mlp_kind_width, mlp_kind_predict, NULL, sf_explain_mlp, true,
	&mlp_params_table, sizeof(mlp_params)},
	{SF_KIND_XGB_MLP, "xgb_mlp", 1, "xgb_mlp_train", "docs/xgboost-mlp.md", true,
	xgb_mlp_kind_decode, xgb_mlp_kind_width, xgb_mlp_kind_predict, NULL, sf_explain_xgb_mlp, true,
	&xgb_mlp_params_table, sizeof(xgb_mlp_params)},
	{SF_KIND_LOGREG, "logreg", 1, "logreg_train", "docs/mlp.md", false,
	logreg_kind_decode, logreg_kind_width, logreg_kind_predict, NULL, sf_explain_logreg, true,
	&logreg_params_table, sizeof(logreg_params)},
	{SF_KIND_QRGMM_LINEAR, "qrgmm_linear", 1, "qrgmm_train", "docs/qrgmm.md", false,
	qrgmm_kind_decode, qrgmm_kind_width, NULL, qrgmm_kind_curve, NULL, false,
	&sf_qrgmm_param_table, sizeof(sf_qrgmm_params)},
	/* qrgmm_deepfm_train takes categorical fields as int[] beside the numeric
	 * covariates: not the registry's (float8[], float8, jsonb) shape */
	{SF_KIND_QRGMM_DEEPFM, "qrgmm_deepfm", 1, NULL, "docs/qrgmm-deepfm.md", false,
	deepfm_kind_decode, deepfm_kind_width, NULL, deepfm_kind_curve, NULL, false,
	&deepfm_params_table, sizeof(deepfm_params)},
	{SF_KIND_CART, "cart", FOREST_FORMAT_VERSION, "tree_train", "docs/baselines.md", true,
	cart_kind_decode, forest_kind_width, forest_kind_predict, NULL, sf_explain_forest, false,
	&cart_params_table, sizeof(forest_params)},
	{SF_KIND_FOREST, "forest", FOREST_FORMAT_VERSION, "rf_train", "docs/baselines.md", true,
	forest_kind_decode, forest_kind_width, forest_kind_predict, NULL, sf_explain_forest, false,
	&forest_params_table, sizeof(forest_params)},
	{SF_KIND_GAUSSIAN_NB, "gaussian_nb", NB_FORMAT_VERSION, "nb_train", "docs/baselines.md", false,
	nb_kind_decode, nb_kind_width, nb_kind_predict, NULL, sf_explain_nb, false,
	&nb_params_table, sizeof(nb_params)},
	{SF_KIND_LINEAR_SVM, "linear_svm", SVM_FORMAT_VERSION, "svm_train", "docs/baselines.md", false,
	svm_kind_decode, svm_kind_width, svm_kind_predict, NULL, sf_explain_svm, true,
	&svm_params_table, sizeof(svm_params)},
	{SF_KIND_KNN, "knn", KNN_FORMAT_VERSION, "knn_train", "docs/baselines.md", false,
	knn_kind_decode, knn_kind_width, knn_kind_predict, NULL, NULL, false,
	&knn_params_table, sizeof(knn_params)},
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
