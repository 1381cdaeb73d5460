/*
 * explain_sql.c
 *	  SQL wrappers of per-row explanations: scfrisk.explain (one row per
 *	  feature plus a bias row), scfrisk.explain_array and
 *	  scfrisk.explain_std_error (float8[] forms for bulk use, XGBoost's
 *	  pred_contribs layout), scfrisk.reason_codes; and the helpers the
 *	  training wrappers use to store feature names and the background
 *	  sample (explain_pg.h).
 *
 * The model is decoded once per call site into an sf_explainer (kind,
 * model, background, names) through SfModelCacheGet; the method is the
 * kind's explain function in the table of kinds.
 */
#include "postgres.h"

#include <math.h>

#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "explain_pg.h"

const char *const *
SfFeatureNamesParam(const sf_str_list *names, int width, const char *what, const char *key)
{
	if (names->n == 0)
		return NULL;
	if (names->n != width)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: %s has %d names but the features have %d elements",
						what, key, names->n, width),
				 errhint("Give one name per element of the features array, in order.")));
	return (const char *const *) names->v;
}

/* Add one common section with the body in sec to the bytes in *cur. */
static void
AddSection(sf_env *env, sf_buf *cur, uint16_t tag, const sf_buf *sec, const char *what)
{
	sf_buf		next;

	SF_PG_CHECK(sf_buf_status(sec), env, what);
	sf_buf_init(&next, env);
	SF_PG_CHECK(sf_container_add_section(env, cur->data, cur->len, tag, sec->data, sec->len, &next),
				env, what);
	sf_buf_free(cur);
	*cur = next;
}

bytea *
SfBufToByteaWithSections(sf_env *env, const sf_buf *b, const char *const *names, uint32 n,
						 const sf_background *bg, const char *what)
{
	sf_buf		cur,
				sec;
	bytea	   *r;

	sf_buf_init(&cur, env);
	sf_buf_put_bytes(&cur, b->data, b->len);
	if (names != NULL)
	{
		uint32		j;

		/* the section body of sf_section_put_names: count, then length-prefixed names */
		sf_buf_init(&sec, env);
		sf_buf_put_u32(&sec, n);
		for (j = 0; j < n; j++)
		{
			sf_buf_put_u32(&sec, (uint32) strlen(names[j]));
			sf_buf_put_bytes(&sec, names[j], strlen(names[j]));
		}
		AddSection(env, &cur, SF_TAG_FEATURE_NAMES, &sec, what);
		sf_buf_free(&sec);
	}
	if (bg != NULL)
	{
		sf_buf_init(&sec, env);
		sf_background_encode(bg, &sec);
		AddSection(env, &cur, SF_TAG_BACKGROUND, &sec, what);
		sf_buf_free(&sec);
	}
	SF_PG_CHECK(sf_buf_status(&cur), env, what);
	r = SfBufToBytea(&cur);
	sf_buf_free(&cur);
	return r;
}

/* ------------------------------------------------------------ explaining */

/*
 * Decode (cached) the model of argument 0 and explain the features of
 * argument 1 into palloc'd phi and se (n_features + 1, bias last); x
 * receives the features (NaN = missing).  Errors: a kind without a method
 * (0A000 naming it), a model without the background its method needs
 * (55000), the width and NaN checks of scfrisk.predict.
 */
static const sf_explainer *
ExplainRow(FunctionCallInfo fcinfo, const char *what, double **x, double **phi, double **se)
{
	const sf_explainer *e = SfModelCacheGet(fcinfo, 0, sf_explainer_decode, what);
	const sf_kind *k = e->kind;
	ArrayType  *feat = PG_GETARG_ARRAYTYPE_P(1);
	sf_env		env;

	if (k->explain == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s: models of kind %s have no explanation method", what, k->name),
				 errdetail("Explanations exist for the classifiers: gbt, logreg, mlp and xgb_mlp."),
				 errhint("QRGMM models give quantile curves; see docs/explain.md.")));
	if (k->explain_needs_background && e->bg.n_rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s: this %s model has no background sample to explain against", what, k->name),
				 errdetail("Models of kind %s are explained against a sample of their training rows, "
						   "stored at training time since scfrisk 0.2.0.", k->name),
				 errhint("Retrain the model with %s on scfrisk 0.2.0 or later.", k->aggregate)));
	*x = palloc(sizeof(double) * e->n_features);
	*phi = palloc(sizeof(double) * (e->n_features + 1));
	*se = palloc(sizeof(double) * (e->n_features + 1));
	SfGetFeatures(feat, (int) e->n_features, *x,
				  k->accepts_missing ? SF_MISSING_AS_NAN : SF_MISSING_REJECT, "features");
	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(sf_explainer_explain(&env, e, *x, *phi, *se), &env, what);
	return e;
}

/* The name of feature j as text, or NULL when the model has no names. */
static text *
FeatureName(const sf_explainer *e, uint32 j)
{
	const char *s;

	if (e->names == NULL)
		return NULL;
	s = e->names[j];
	if (!pg_verifymbstr(s, (int) strlen(s), true))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("feature name %u of the model is not valid text in the database encoding",
						(unsigned) j + 1)));
	return cstring_to_text(s);
}

/* One output row: feature, name, value, contribution (+ rank when asked). */
static void
PutRow(ReturnSetInfo *rsinfo, int rank, int32 feature, text *name, double value, bool value_null,
	   double contribution)
{
	Datum		v[5];
	bool		n[5] = {false, false, false, false, false};
	int			i = 0;

	if (rank > 0)
		v[i++] = Int32GetDatum(rank);
	v[i++] = Int32GetDatum(feature);
	n[i] = name == NULL;
	v[i++] = name ? PointerGetDatum(name) : (Datum) 0;
	n[i] = value_null || isnan(value);
	v[i++] = Float8GetDatum(value);
	v[i++] = Float8GetDatum(contribution);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
}

PG_FUNCTION_INFO_V1(explain_sql);
Datum
explain_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const sf_explainer *e;
	double	   *x,
			   *phi,
			   *se;
	uint32		j;

	InitMaterializedSRF(fcinfo, 0);
	e = ExplainRow(fcinfo, "explain", &x, &phi, &se);
	PutRow(rsinfo, 0, 0, cstring_to_text("bias"), 0, true, phi[e->n_features]);
	for (j = 0; j < e->n_features; j++)
		PutRow(rsinfo, 0, (int32) j + 1, FeatureName(e, j), x[j], false, phi[j]);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(explain_array);
Datum
explain_array(PG_FUNCTION_ARGS)
{
	const sf_explainer *e;
	double	   *x,
			   *phi,
			   *se;

	e = ExplainRow(fcinfo, "explain_array", &x, &phi, &se);
	PG_RETURN_ARRAYTYPE_P(SfMakeFloat8Array(phi, (int) e->n_features + 1));
}

PG_FUNCTION_INFO_V1(explain_std_error);
Datum
explain_std_error(PG_FUNCTION_ARGS)
{
	const sf_explainer *e;
	double	   *x,
			   *phi,
			   *se;

	e = ExplainRow(fcinfo, "explain_std_error", &x, &phi, &se);
	PG_RETURN_ARRAYTYPE_P(SfMakeFloat8Array(se, (int) e->n_features + 1));
}

PG_FUNCTION_INFO_V1(reason_codes);
Datum
reason_codes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const sf_explainer *e;
	int32		k = PG_GETARG_INT32(2);
	char	   *direction = text_to_cstring(PG_GETARG_TEXT_PP(3));
	int			adverse;
	double	   *x,
			   *phi,
			   *se;
	uint32	   *idx,
				n,
				i;

	InitMaterializedSRF(fcinfo, 0);
	if (strcmp(direction, "adverse") == 0)
		adverse = 1;
	else if (strcmp(direction, "favorable") == 0)
		adverse = 0;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reason_codes: direction must be 'adverse' or 'favorable', not '%s'", direction),
				 errhint("'adverse' lists the features that pushed the score towards default, "
						 "'favorable' those that pushed it away.")));
	e = ExplainRow(fcinfo, "reason_codes", &x, &phi, &se);
	if (k < 1 || (uint32) k > e->n_features)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reason_codes: k is %d, it must be between 1 and the model's %u features",
						k, (unsigned) e->n_features)));
	idx = palloc(sizeof(uint32) * k);
	n = sf_reason_codes(phi, e->n_features, (uint32) k, adverse, idx);
	for (i = 0; i < n; i++)
		PutRow(rsinfo, (int) i + 1, (int32) idx[i] + 1, FeatureName(e, idx[i]), x[idx[i]], false,
			   phi[idx[i]]);
	return (Datum) 0;
}
