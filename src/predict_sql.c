/*
 * predict_sql.c
 *	  scfrisk.predict(model bytea, features float8[]) -> float8: scores one
 *	  row with a model of any scoring kind, dispatching on the kind in the
 *	  model's header.
 *
 * Each kind contributes one SfScorer (its decoder and row scorer); a new
 * kind adds one line to Scorers[].  The decoded model is cached per call
 * site with SfModelCacheGet, keyed before detoasting, so a call site that
 * scores rows of the same model decodes it once and a different model value
 * (of any kind) is decoded afresh.  A kind without a scorer is an error
 * (42809) naming the kind.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"

#include "scfrisk_pg.h"
#include "gbt_pg.h"
#include "mlp_pg.h"

static const SfScorer *const Scorers[] = {
	&sf_gbt_scorer,
	&sf_mlp_scorer,
	&sf_logreg_scorer,
	&sf_xgb_mlp_scorer,
};

#define PREDICT_ROW_STACK 256

/* Kind of argument 0 from its header (a slice detoast: the header only). */
static uint16
ModelKind(FunctionCallInfo fcinfo)
{
	bytea	   *head = PG_GETARG_BYTEA_P_SLICE(0, 0, SF_HEADER_LEN);
	sf_container c;
	sf_env		env;

	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(sf_container_read_header(&env, (const uint8_t *) VARDATA(head),
										 VARSIZE(head) - VARHDRSZ, &c), &env, "predict");
	return c.kind;
}

PG_FUNCTION_INFO_V1(scfrisk_predict);
Datum
scfrisk_predict(PG_FUNCTION_ARGS)
{
	uint16		kind = ModelKind(fcinfo);
	const SfScorer *sc = NULL;
	const void *model;
	ArrayType  *feat;
	double		stack[PREDICT_ROW_STACK];
	double	   *x;
	uint32		n;
	double		r;
	int			i;

	for (i = 0; i < (int) lengthof(Scorers); i++)
		if (Scorers[i]->kind == kind)
			sc = Scorers[i];
	if (sc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("predict: models of kind %s have no row scorer",
						sf_kind_name(kind) ? sf_kind_name(kind) : "?"),
				 errhint("Use the functions of that kind, such as qrgmm_quantile for QRGMM models.")));
	/* the cache is keyed by decoder too, so a change of kind decodes afresh */
	model = SfModelCacheGet(fcinfo, 0, sc->decode, "predict");
	n = sc->n_features(model);
	feat = PG_GETARG_ARRAYTYPE_P(1);
	x = n <= PREDICT_ROW_STACK ? stack : palloc(sizeof(double) * n);
	SfGetFeatures(feat, (int) n, x, SF_MISSING_AS_NAN, "features");
	r = sc->predict(model, x);
	if (x != stack)
		pfree(x);
	PG_FREE_IF_COPY(feat, 1);
	PG_RETURN_FLOAT8(r);
}
