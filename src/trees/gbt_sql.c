/*
 * gbt_sql.c
 *	  Scoring and inspection of tree models: scfrisk.xgb_predict,
 *	  xgb_predict_margin, xgb_importance, xgb_select, and the gbt scorer of
 *	  the generic scfrisk.predict dispatch.
 *
 * A model is decoded once per call site (SfModelCacheGet) and a row costs
 * the unpacking of its features and one walk down each tree.  Importance
 * follows XGBoost's Booster.get_score (weight, gain, total_gain, cover,
 * total_cover); features are numbered from 1 like SQL array elements.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "funcapi.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

#include "scfrisk/gbt.h"
#include "scfrisk_pg.h"

#define GBT_ROW_STACK 256		/* features unpacked on the stack */

/* Score argument 1 with the cached model of argument 0, margin or not. */
static double
ScoreRow(FunctionCallInfo fcinfo, bool margin, const char *what)
{
	const gbt_model *m;
	ArrayType  *feat;
	double		stack[GBT_ROW_STACK];
	double	   *x;
	double		r;

	SfPrefetchNextRows(PG_GETARG_DATUM(1));
	m = SfModelCacheGet(fcinfo, 0, SfKindDecoder(SF_KIND_GBT), what);
	feat = PG_GETARG_ARRAYTYPE_P(1);
	x = m->n_features <= GBT_ROW_STACK ? stack : palloc(sizeof(double) * m->n_features);

	SfGetFeatures(feat, (int) m->n_features, x, SF_MISSING_AS_NAN, "features");
	r = margin ? gbt_predict_margin(m, x) : gbt_predict(m, x);
	if (x != stack)
		pfree(x);
	PG_FREE_IF_COPY(feat, 1);
	return r;
}

PG_FUNCTION_INFO_V1(xgb_predict);
Datum
xgb_predict(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(ScoreRow(fcinfo, false, "xgb_predict"));
}

PG_FUNCTION_INFO_V1(xgb_predict_margin);
Datum
xgb_predict_margin(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(ScoreRow(fcinfo, true, "xgb_predict_margin"));
}

/* ------------------------------------------------------------ importance */

static gbt_importance_type
ImportanceType(text *t, const char *what)
{
	char	   *name = text_to_cstring(t);
	gbt_importance_type type;

	if (gbt_importance_from_name(name, &type) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: unknown importance type \"%s\"", what, name),
				 errhint("Use weight, gain, total_gain, cover or total_cover.")));
	pfree(name);
	return type;
}

/* Decode model bytes (no cache: set-returning and one-shot functions). */
static gbt_model *
DecodeModel(bytea *model, sf_container *c, const char *what)
{
	sf_env		env;
	gbt_model  *m;

	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(gbt_decode(&env, (const uint8_t *) VARDATA_ANY(model), VARSIZE_ANY_EXHDR(model), &m),
				&env, what);
	if (c)
		SfContainerFromBytea(model, c, what);
	return m;
}

PG_FUNCTION_INFO_V1(xgb_importance);
Datum
xgb_importance(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bytea	   *model = PG_GETARG_BYTEA_PP(0);
	gbt_importance_type type = ImportanceType(PG_GETARG_TEXT_PP(1), "xgb_importance");
	sf_container c;
	gbt_model  *m = DecodeModel(model, &c, "xgb_importance");
	double	   *raw = palloc(sizeof(double) * m->n_features);
	double	   *norm = palloc(sizeof(double) * m->n_features);
	uint32		j;

	gbt_importance(m, type, raw);
	gbt_importance_normalize(raw, m->n_features, norm);
	InitMaterializedSRF(fcinfo, 0);
	for (j = 0; j < m->n_features; j++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = Int32GetDatum((int32) j + 1);
		values[1] = SfFeatureNameDatum(&c, j, &nulls[1]);
		values[2] = Float8GetDatum(raw[j]);
		values[3] = Float8GetDatum(norm[j]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(xgb_select);
Datum
xgb_select(PG_FUNCTION_ARGS)
{
	bytea	   *model = PG_GETARG_BYTEA_PP(0);
	double		threshold = PG_GETARG_FLOAT8(1);
	gbt_importance_type type = ImportanceType(PG_GETARG_TEXT_PP(2), "xgb_select");
	gbt_model  *m;
	double	   *norm;
	Datum	   *elems;
	int			n = 0;
	uint32		j;

	if (isnan(threshold) || threshold < 0.0 || threshold > 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("xgb_select: threshold must lie in [0, 1], got %g", threshold)));
	m = DecodeModel(model, NULL, "xgb_select");
	norm = palloc(sizeof(double) * m->n_features);
	elems = palloc(sizeof(Datum) * m->n_features);
	gbt_importance(m, type, norm);
	gbt_importance_normalize(norm, m->n_features, norm);
	for (j = 0; j < m->n_features; j++)
		if (norm[j] >= threshold && norm[j] > 0.0)
			elems[n++] = Int32GetDatum((int32) j + 1);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, INT4OID, sizeof(int32), true, TYPALIGN_INT));
}

/* ------------------------------------------------------------ XGBoost JSON */

PG_FUNCTION_INFO_V1(xgb_to_json);
Datum
xgb_to_json(PG_FUNCTION_ARGS)
{
	bytea	   *model = PG_GETARG_BYTEA_PP(0);
	sf_container c;
	gbt_model  *m = DecodeModel(model, &c, "xgb_to_json");
	const char **names = NULL;
	sf_env		env;
	sf_buf		b;
	char	   *text;
	uint32		j;

	if (sf_container_find(&c, SF_TAG_FEATURE_NAMES) != NULL)
	{
		names = palloc(sizeof(char *) * m->n_features);
		for (j = 0; j < m->n_features; j++)
		{
			const char *name;
			uint32		len;

			if (!sf_container_feature_name(&c, j, &name, &len))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("xgb_to_json: feature name %u cannot be read", j + 1)));
			names[j] = pnstrdup(name, len);
		}
	}
	SfEnvInit(&env, CurrentMemoryContext);
	sf_buf_init(&b, &env);
	SF_PG_CHECK(gbt_to_xgb_json(&env, m, names, &b), &env, "xgb_to_json");
	text = palloc(b.len + 1);
	memcpy(text, b.data, b.len);
	text[b.len] = '\0';
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
}

PG_FUNCTION_INFO_V1(xgb_from_json);
Datum
xgb_from_json(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	char	   *text = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	gbt_model  *m;
	sf_str_list names;
	sf_env		env;
	sf_buf		b;

	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(gbt_from_xgb_json(&env, text, strlen(text), &m, &names), &env, "xgb_from_json");
	sf_buf_init(&b, &env);
	SF_PG_CHECK(gbt_encode(&env, m, NULL, names.n > 0 ? (const char *const *) names.v : NULL, 0, &b),
				&env, "xgb_from_json");
	PG_RETURN_BYTEA_P(SfBufToBytea(&b));
}
