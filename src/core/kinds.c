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
#include "scfrisk/deepfm.h"
#include "scfrisk/gbt.h"
#include "scfrisk/logreg.h"
#include "scfrisk/mlp.h"
#include "scfrisk/qrgmm.h"
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

/* ------------------------------------------------------------ the table */

static const sf_kind kinds[] = {
	{SF_KIND_GBT, "gbt", 1, "xgb_train", "docs/gbt.md", true, false,
	gbt_kind_decode, gbt_kind_width, gbt_kind_predict, NULL, gbt_kind_describe},
	{SF_KIND_MLP, "mlp", 1, "mlp_train", "docs/mlp.md", true, true,
	mlp_kind_decode, mlp_kind_width, mlp_kind_predict, NULL, mlp_kind_describe},
	{SF_KIND_XGB_MLP, "xgb_mlp", 1, "xgb_mlp_train", "docs/xgboost-mlp.md", true, true,
	xgb_mlp_kind_decode, xgb_mlp_kind_width, xgb_mlp_kind_predict, NULL, xgb_mlp_kind_describe},
	{SF_KIND_LOGREG, "logreg", 1, "logreg_train", "docs/mlp.md", false, false,
	logreg_kind_decode, logreg_kind_width, logreg_kind_predict, NULL, logreg_kind_describe},
	{SF_KIND_QRGMM_LINEAR, "qrgmm_linear", 1, "qrgmm_train", "docs/qrgmm.md", false, false,
	qrgmm_kind_decode, qrgmm_kind_width, NULL, qrgmm_kind_curve, qrgmm_kind_describe},
	/* qrgmm_deepfm_train takes categorical fields as int[] beside the numeric
	 * covariates: not the registry's (float8[], float8, jsonb) shape */
	{SF_KIND_QRGMM_DEEPFM, "qrgmm_deepfm", 1, NULL, "docs/qrgmm-deepfm.md", false, true,
	deepfm_kind_decode, deepfm_kind_width, NULL, deepfm_kind_curve, deepfm_kind_describe},
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
