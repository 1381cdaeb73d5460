/*
 * predict_sql.c
 *	  scfrisk.predict(model bytea, features float8[]) -> float8: scores one
 *	  row with a model of any scoring kind, dispatching on the kind in the
 *	  model's header.
 *
 * The kind's decoder and row scorer come from the one table of kinds
 * (src/core/kinds.c): a new kind is scored here once it is in that table.  The decoded model is cached per call
 * site with SfModelCacheGet, keyed before detoasting, so a call site that
 * scores rows of the same model decodes it once and a different model value
 * (of any kind) is decoded afresh.  A kind without a scorer is an error
 * (42809) naming the kind.  A model with a calibration map (scfrisk.calibrate)
 * returns the calibrated probability.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "fmgr.h"
#include "utils/array.h"

#include "scfrisk_pg.h"
#include "governance_pg.h"

#define PREDICT_ROW_STACK 256

/*
 * Per-call-site state.  fn_extra holds this; the decoded-model cache of
 * SfModelCacheGet lives in the fn_extra of 'inner', a private FmgrInfo the
 * model is looked up through.  The kind of a model stored out of line is
 * remembered with its TOAST pointer, so a repeated model costs no TOAST
 * fetch per row to read its header.
 */
typedef struct PredictCache
{
	FmgrInfo	inner;			/* carries SfModelCacheGet's cache */
	bool		have_toast;		/* toast and kind below are valid */
	struct varatt_external toast;	/* TOAST pointer of the last model */
	uint16		kind;			/* its kind */
	FmgrInfo	calib;			/* carries the cache of the model's calibration map */
} PredictCache;

/* Kind of argument 0 from its header, without detoasting the whole value. */
static uint16
ModelKind(FunctionCallInfo fcinfo, PredictCache *pc)
{
	struct varlena *raw = (struct varlena *) DatumGetPointer(PG_GETARG_DATUM(0));
	sf_container c;
	sf_env		env;
	bytea	   *head;

	SfEnvInit(&env, CurrentMemoryContext);
	if (!VARATT_IS_EXTERNAL(raw) && !VARATT_IS_COMPRESSED(raw))
	{
		/* plain inline value: read the header in place */
		SF_PG_CHECK(sf_container_read_header(&env, (const uint8_t *) VARDATA_ANY(raw),
											 VARSIZE_ANY_EXHDR(raw), &c), &env, "predict");
		return c.kind;
	}
	if (VARATT_IS_EXTERNAL_ONDISK(raw))
	{
		struct varatt_external toast;

		VARATT_EXTERNAL_GET_POINTER(toast, raw);
		if (pc->have_toast && toast.va_valueid == pc->toast.va_valueid &&
			toast.va_toastrelid == pc->toast.va_toastrelid &&
			toast.va_rawsize == pc->toast.va_rawsize && toast.va_extinfo == pc->toast.va_extinfo)
			return pc->kind;
		head = PG_GETARG_BYTEA_P_SLICE(0, 0, SF_HEADER_LEN);
		SF_PG_CHECK(sf_container_read_header(&env, (const uint8_t *) VARDATA(head),
											 VARSIZE(head) - VARHDRSZ, &c), &env, "predict");
		pc->toast = toast;
		pc->kind = c.kind;
		pc->have_toast = true;
		return c.kind;
	}
	head = PG_GETARG_BYTEA_P_SLICE(0, 0, SF_HEADER_LEN);
	SF_PG_CHECK(sf_container_read_header(&env, (const uint8_t *) VARDATA(head),
										 VARSIZE(head) - VARHDRSZ, &c), &env, "predict");
	return c.kind;
}

PG_FUNCTION_INFO_V1(scfrisk_predict);
Datum
scfrisk_predict(PG_FUNCTION_ARGS)
{
	PredictCache *pc = (PredictCache *) fcinfo->flinfo->fn_extra;
	uint16		kind;
	const sf_kind *sc;
	const void *model;
	ArrayType  *feat;
	double		stack[PREDICT_ROW_STACK];
	double	   *x;
	uint32		n;
	double		r;

	SfPrefetchNextRows(PG_GETARG_DATUM(1));
	if (pc == NULL)
	{
		pc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(PredictCache));
		pc->inner.fn_mcxt = fcinfo->flinfo->fn_mcxt;
		pc->inner.fn_oid = fcinfo->flinfo->fn_oid;
		pc->inner.fn_nargs = 2;
		pc->inner.fn_strict = true;
		pc->calib = pc->inner;
		pc->calib.fn_nargs = 1;
		fcinfo->flinfo->fn_extra = pc;
	}
	kind = ModelKind(fcinfo, pc);
	sc = SfKindOrError(kind, "predict");
	if (sc->predict == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("predict: models of kind %s have no row scorer",
						sf_kind_name(kind) ? sf_kind_name(kind) : "?"),
				 errhint("Use the functions of that kind, such as qrgmm_quantile for QRGMM models.")));
	{
		/* the model cache is keyed by decoder too, so a change of kind decodes afresh */
		LOCAL_FCINFO(inner, 2);

		InitFunctionCallInfoData(*inner, &pc->inner, 2, fcinfo->fncollation, NULL, NULL);
		inner->args[0] = fcinfo->args[0];
		inner->args[1] = fcinfo->args[1];
		model = SfModelCacheGet(inner, 0, sc->decode, "predict");
	}
	n = sc->n_features(model);
	feat = PG_GETARG_ARRAYTYPE_P(1);
	x = n <= PREDICT_ROW_STACK ? stack : palloc(sizeof(double) * n);
	SfGetFeatures(feat, (int) n, x, sc->accepts_missing ? SF_MISSING_AS_NAN : SF_MISSING_REJECT,
				  "features");
	if (sc->float32_inputs)
		SfCheckFloat32Range(x, (int) n, "predict", "features");
	r = sc->predict(model, x);
	/* a calibration map stored by scfrisk.calibrate applies here (docs/governance.md) */
	r = SfGovCalibrated(fcinfo, &pc->calib, r);
	if (x != stack)
		pfree(x);
	PG_FREE_IF_COPY(feat, 1);
	PG_RETURN_FLOAT8(r);
}

const sf_kind *
SfKindOrError(uint16 kind, const char *what)
{
	const sf_kind *k = sf_kind_find(kind);

	if (k == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s: this build of scfrisk knows no model kind %u", what, (unsigned) kind),
				 errhint("The model was written by another version of scfrisk; see scfrisk.model_kinds().")));
	return k;
}
