/*
 * forest_sql.c
 *	  The training aggregates scfrisk.tree_train(features, label, params) and
 *	  scfrisk.rf_train(features, label, params), their scorers tree_predict
 *	  and rf_predict, and tree_importance.
 *
 * The state is the shared row store (sf_rowstore_pg.h): float32 features
 * (the trees compare float32 values, as scikit-learn does), a float8 label,
 * no weight column.  Rows whose features or label are NULL are skipped;
 * NULL or NaN feature elements are missing values.  With a parallel plan the
 * partial states are serialised, appended by the combine function and
 * trained once in the leader; the final function sorts the rows into the
 * canonical order first, so the model bytes depend neither on the scan
 * order nor on the plan.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "scfrisk/forest.h"
#include "scfrisk_pg.h"
#include "sf_rowstore_pg.h"

static const SfRowsSpec cart_rows_spec = {{20, SF_ROWS_FLOAT4, 0, 1, FOREST_MAX_FEATURES}, "tree_train"};
static const SfRowsSpec forest_rows_spec = {{21, SF_ROWS_FLOAT4, 0, 1, FOREST_MAX_FEATURES}, "rf_train"};
static const SfRowsSpec *const forest_specs[] = {&cart_rows_spec, &forest_rows_spec};

/* Transition of either aggregate: (state, features, label, params). */
static Datum
Transition(FunctionCallInfo fcinfo, const SfRowsSpec *spec)
{
	const char *what = spec->what;
	MemoryContext aggcxt = SfRowsAggContext(fcinfo, what);
	SfRows	   *st = PG_ARGISNULL(0) ? NULL : (SfRows *) PG_GETARG_POINTER(0);
	ArrayType  *feat;
	double		label;
	int			n;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	feat = PG_GETARG_ARRAYTYPE_P(1);
	label = PG_GETARG_FLOAT8(2);
	if (!isfinite(label))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: label is not finite (%g)", what, label)));
	n = SfArrayLength(feat, "features");
	if (st == NULL)
	{
		if (n < 1)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s: features is an empty array", what)));
		if (n > FOREST_MAX_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("%s: features has %d elements, at most %d are supported",
							what, n, FOREST_MAX_FEATURES)));
		st = SfRowsNew(aggcxt, spec);
		SfRowsSetWidth(st, n, 0);
	}
	else if (n != st->n_cols)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: features has %d elements, expected %d", what, n, st->n_cols),
				 errdetail("Every row must have the width of the first row.")));
	if (st->params == NULL && !PG_ARGISNULL(3))
		SfRowsKeepParams(st, PG_GETARG_JSONB_P(3));
	SfRowsAppendArray(st, feat, SF_MISSING_AS_NAN, label, 1.0, "features");
	PG_FREE_IF_COPY(feat, 1);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(tree_train_sfunc);
Datum
tree_train_sfunc(PG_FUNCTION_ARGS)
{
	return Transition(fcinfo, &cart_rows_spec);
}

PG_FUNCTION_INFO_V1(rf_train_sfunc);
Datum
rf_train_sfunc(PG_FUNCTION_ARGS)
{
	return Transition(fcinfo, &forest_rows_spec);
}

/* Both aggregates share their serialise, deserialise and combine functions. */
PG_FUNCTION_INFO_V1(forest_rows_serialize);
Datum
forest_rows_serialize(PG_FUNCTION_ARGS)
{
	return SfRowsSerializeFn(fcinfo, "forest_rows_serialize");
}

PG_FUNCTION_INFO_V1(forest_rows_deserialize);
Datum
forest_rows_deserialize(PG_FUNCTION_ARGS)
{
	return SfRowsDeserializeFn(fcinfo, forest_specs, lengthof(forest_specs));
}

PG_FUNCTION_INFO_V1(forest_rows_combine);
Datum
forest_rows_combine(PG_FUNCTION_ARGS)
{
	return SfRowsCombineFn(fcinfo, "forest_rows_combine");
}

/* Final of either aggregate: train on the rows in canonical order. */
static Datum
Final(FunctionCallInfo fcinfo, uint16 kind, const char *what)
{
	const sf_param_table *table = kind == SF_KIND_CART ? &cart_params_table : &forest_params_table;
	SfRows	   *st;
	MemoryContext fitcxt,
				old;
	forest_params p;
	forest_model *m;
	sf_env		env;
	sf_buf		b;
	bytea	   *out;
	double	   *x,
			   *y;
	const char *const *names = NULL;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: no training rows", what),
				 errdetail("Every row had NULL features or label, or the input was empty.")));
	st = (SfRows *) PG_GETARG_POINTER(0);
	fitcxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk forest fit", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(fitcxt);
	memset(&p, 0, sizeof(p));
	SfParseParams(st->params, table, &p);
	if (kind == SF_KIND_CART)
	{
		/* not keys of tree_train's table: one tree on every row */
		p.n_estimators = 1;
		p.bootstrap = 0;
	}
	if (p.feature_names.n > 0)
	{
		if (p.feature_names.n != st->n_cols)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s: feature_names has %d names, features has %d elements",
							what, p.feature_names.n, st->n_cols)));
		names = (const char *const *) p.feature_names.v;
	}
	SfEnvInit(&env, fitcxt);
	SfRowsCanonical(st, &x, &y, NULL);
	SF_PG_CHECK(forest_train(&env, kind, x, y, (size_t) st->n_rows, (uint32_t) st->n_cols, &p, &m),
				&env, what);
	pfree(x);
	sf_buf_init(&b, &env);
	SF_PG_CHECK(forest_encode(&env, m, &p, names, &b), &env, what);
	MemoryContextSwitchTo(old);
	out = SfBufToBytea(&b);
	MemoryContextDelete(fitcxt);
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(tree_train_final);
Datum
tree_train_final(PG_FUNCTION_ARGS)
{
	return Final(fcinfo, SF_KIND_CART, "tree_train");
}

PG_FUNCTION_INFO_V1(rf_train_final);
Datum
rf_train_final(PG_FUNCTION_ARGS)
{
	return Final(fcinfo, SF_KIND_FOREST, "rf_train");
}

/* ------------------------------------------------------------ scoring */

#define FOREST_ROW_STACK 256	/* features unpacked on the stack */

static double
ScoreRow(FunctionCallInfo fcinfo, uint16 kind, const char *what)
{
	const forest_model *m = SfModelCacheGet(fcinfo, 0, SfKindDecoder(kind), what);
	ArrayType  *feat = PG_GETARG_ARRAYTYPE_P(1);
	double		stack[FOREST_ROW_STACK];
	double	   *x = m->n_features <= FOREST_ROW_STACK ? stack : palloc(sizeof(double) * m->n_features);
	double		r;

	SfGetFeatures(feat, (int) m->n_features, x, SF_MISSING_AS_NAN, "features");
	r = forest_predict(m, x);
	if (x != stack)
		pfree(x);
	PG_FREE_IF_COPY(feat, 1);
	return r;
}

PG_FUNCTION_INFO_V1(tree_predict);
Datum
tree_predict(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(ScoreRow(fcinfo, SF_KIND_CART, "tree_predict"));
}

PG_FUNCTION_INFO_V1(rf_predict);
Datum
rf_predict(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(ScoreRow(fcinfo, SF_KIND_FOREST, "rf_predict"));
}

/* ------------------------------------------------------------ importance */

PG_FUNCTION_INFO_V1(tree_importance);
Datum
tree_importance(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bytea	   *model = PG_GETARG_BYTEA_PP(0);
	sf_container c;
	forest_model *m;
	sf_env		env;
	double	   *imp;
	uint32		j;

	SfContainerFromBytea(model, &c, "tree_importance");
	if (c.kind != SF_KIND_CART && c.kind != SF_KIND_FOREST)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("tree_importance: the model is of kind %s, not cart or forest",
						sf_kind_name(c.kind) ? sf_kind_name(c.kind) : "unknown"),
				 errhint("Pass a model of tree_train or rf_train; xgb_importance reads gbt models.")));
	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(forest_decode(&env, c.kind, (const uint8_t *) VARDATA_ANY(model),
							  VARSIZE_ANY_EXHDR(model), &m), &env, "tree_importance");
	imp = palloc(sizeof(double) * m->n_features);
	SF_PG_CHECK(forest_importance(&env, m, imp), &env, "tree_importance");
	InitMaterializedSRF(fcinfo, 0);
	for (j = 0; j < m->n_features; j++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		const char *name;
		uint32		len;

		values[0] = Int32GetDatum((int32) j + 1);
		if (sf_container_feature_name(&c, j, &name, &len))
			values[1] = PointerGetDatum(cstring_to_text_with_len(name, (int) len));
		else
			nulls[1] = true;
		values[2] = Float8GetDatum(imp[j]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
