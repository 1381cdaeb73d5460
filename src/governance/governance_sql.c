/*
 * governance_sql.c
 *	  SQL surface of drift monitoring and calibration:
 *
 *	  scfrisk.psi(model, score)              aggregate -> jsonb
 *	  scfrisk.csi(model, features)           aggregate -> jsonb
 *	  scfrisk.calibration_table(label, score [, bins])  aggregate -> jsonb
 *	  scfrisk.calibrate(model, features, label, method) aggregate -> bytea
 *	  scfrisk.calibrated_score(model, score) -> float8
 *	  scfrisk.model_governance(model)        -> jsonb
 *
 * The aggregates keep counts (PSI, CSI, the reliability table) or the
 * scored rows (calibrate) in the aggregate context; the model argument must
 * be the same value on every row, checked by its header (length and
 * CRC-32C).  Results are jsonb built from the shortest round-trip text of
 * each double, so a value reads back exactly (the peer tests compare with
 * numpy within 1e-9).
 */
#include "postgres.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "scfrisk/sf_governance.h"
#include "governance_pg.h"

#define CALIB_TABLE_MAX_BINS 1000

/* ------------------------------------------------------------ helpers */

/* A double as JSON: the shortest text that reads back exactly, null for NaN and infinities. */
static void
JsonNum(StringInfo s, double v)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];

	if (!isfinite(v))
	{
		appendStringInfoString(s, "null");
		return;
	}
	double_to_shortest_decimal_buf(v, buf);
	appendStringInfoString(s, buf);
}

static Datum
JsonbFromText(StringInfo s)
{
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(s->data));
}

/* The aggregate context of an aggregate's support function, or an error. */
static MemoryContext
AggCxt(FunctionCallInfo fcinfo, const char *what)
{
	MemoryContext cxt;

	if (!AggCheckCallContext(fcinfo, &cxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s: called outside an aggregate", what)));
	return cxt;
}

/*
 * The model of every row of an aggregate must be one value, never NULL: its
 * header's length and checksum are remembered from the first row.
 */
typedef struct ModelId
{
	uint64		payload_len;
	uint32		checksum;
} ModelId;

static void
SameModel(ModelId *id, bool first, FunctionCallInfo fcinfo, int argno, const char *what)
{
	bytea	   *head;
	sf_container c;
	sf_env		env;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s: model is NULL", what)));
	/* the header only: a model stored out of line is not fetched whole per row */
	head = PG_GETARG_BYTEA_P_SLICE(argno, 0, SF_HEADER_LEN);
	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(sf_container_read_header(&env, (const uint8_t *) VARDATA(head),
										 VARSIZE(head) - VARHDRSZ, &c), &env, what);
	if (first)
	{
		id->payload_len = c.payload_len;
		id->checksum = c.checksum;
	}
	else if (id->payload_len != c.payload_len || id->checksum != c.checksum)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: the model differs between rows", what),
				 errhint("Pass one model to the aggregate, for example from a scalar subquery, or GROUP BY the model.")));
	if ((Pointer) head != DatumGetPointer(PG_GETARG_DATUM(argno)))
		pfree(head);
}

/*
 * Decode the container and drift section of a model into cxt; errors name
 * the kind when it has no score, and say how to get a drift section.
 */
static void
LoadDrift(bytea *model, MemoryContext cxt, sf_drift *d, const char *what)
{
	sf_container c;
	sf_env		env;
	const sf_section *s;
	const sf_kind *k;

	SfEnvInit(&env, cxt);
	SfContainerFromBytea(model, &c, what);
	k = SfKindOrError(c.kind, what);
	if (k->predict == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s: models of kind %s have no score to monitor", what, k->name),
				 errhint("Drift monitoring covers the classifiers and regressions scored by scfrisk.predict.")));
	s = sf_container_find(&c, SF_TAG_DRIFT);
	if (s == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s: the model holds no training distribution", what),
				 errdetail("Models trained before scfrisk 0.2.0, and imported ones, have none."),
				 errhint("Retrain the model with this version of scfrisk: training stores the distribution.")));
	SF_PG_CHECK(sf_drift_decode(&env, s->data, (size_t) s->len, c.n_features, d), &env, what);
}

/* The index (named key: "psi", "csi") and bin table of one distribution into s. */
static double
AppendBins(StringInfo s, const sf_dist *d, const uint64 *counts, const char *key)
{
	double	   *actual = palloc(sizeof(double) * (d->n_bins + 1));
	double	   *contrib = palloc(sizeof(double) * (d->n_bins + 1));
	double		psi = sf_psi(d, counts, actual, contrib);
	uint64		total = 0;
	uint32		k;

	for (k = 0; k <= d->n_bins; k++)
		total += counts[k];
	appendStringInfo(s, "\"%s\": ", key);
	JsonNum(s, psi);
	appendStringInfo(s, ", \"rows\": " UINT64_FORMAT ", \"bins\": [", total);
	for (k = 0; k <= d->n_bins; k++)
	{
		bool		miss = k == d->n_bins;

		if (miss && d->missing == 0.0 && counts[k] == 0)
			continue;			/* no missing value on either side: no row */
		if (k > 0)
			appendStringInfoString(s, ", ");
		if (miss)
			appendStringInfoString(s, "{\"bin\": \"missing\", \"lower\": null, \"upper\": null");
		else
		{
			appendStringInfo(s, "{\"bin\": %u, \"lower\": ", k + 1);
			JsonNum(s, k > 0 ? d->edges[k - 1] : NAN);
			appendStringInfoString(s, ", \"upper\": ");
			JsonNum(s, k + 1 < d->n_bins ? d->edges[k] : NAN);
		}
		appendStringInfoString(s, ", \"expected\": ");
		JsonNum(s, miss ? d->missing : d->share[k]);
		appendStringInfo(s, ", \"count\": " UINT64_FORMAT ", \"actual\": ", counts[k]);
		JsonNum(s, actual[k]);
		appendStringInfoString(s, ", \"contribution\": ");
		JsonNum(s, contrib[k]);
		appendStringInfoChar(s, '}');
	}
	appendStringInfoChar(s, ']');
	return psi;
}

/* ------------------------------------------------------------ psi and csi */

typedef struct DriftState
{
	ModelId		id;
	sf_drift	d;
	uint64	   *counts;			/* psi: n_bins + 1; csi: per feature n_bins + 1 */
	Size	   *off;			/* csi: offset of each feature's counts */
	double	   *x;				/* csi: one row */
} DriftState;

static DriftState *
DriftStart(FunctionCallInfo fcinfo, bool per_feature, const char *what)
{
	MemoryContext cxt = AggCxt(fcinfo, what);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	DriftState *ds = palloc0(sizeof(DriftState));
	bytea	   *model;

	SameModel(&ds->id, true, fcinfo, 1, what);
	model = PG_GETARG_BYTEA_PP(1);
	LoadDrift(model, cxt, &ds->d, what);
	if (!per_feature)
		ds->counts = palloc0(sizeof(uint64) * (ds->d.score.n_bins + 1));
	else
	{
		Size		total = 0;
		uint32		j;

		ds->off = palloc(sizeof(Size) * (ds->d.n_features + 1));
		for (j = 0; j < ds->d.n_features; j++)
		{
			ds->off[j] = total;
			total += ds->d.features[j].n_bins + 1;
		}
		ds->off[ds->d.n_features] = total;
		ds->counts = palloc0(sizeof(uint64) * Max(total, 1));
		ds->x = palloc(sizeof(double) * Max(ds->d.n_features, 1));
	}
	MemoryContextSwitchTo(old);
	return ds;
}

PG_FUNCTION_INFO_V1(scfrisk_psi_sfunc);
Datum
scfrisk_psi_sfunc(PG_FUNCTION_ARGS)
{
	DriftState *ds = PG_ARGISNULL(0) ? NULL : (DriftState *) PG_GETARG_POINTER(0);
	double		v = NAN;

	if (ds == NULL)
		ds = DriftStart(fcinfo, false, "psi");
	else
		SameModel(&ds->id, false, fcinfo, 1, "psi");
	if (!PG_ARGISNULL(2))
	{
		double		score = PG_GETARG_FLOAT8(2);

		if (ds->d.scale == SF_SCALE_LOGIT && !(score >= 0.0 && score <= 1.0))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("psi: score %g is not a probability", score),
					 errhint("Pass the score scfrisk.predict returns for the model (a probability in [0, 1]).")));
		v = sf_scale_score(ds->d.scale, score);
	}
	/* a NULL or NaN score counts in the missing slot: scores going missing is drift */
	ds->counts[sf_dist_bin(&ds->d.score, v)]++;
	PG_RETURN_POINTER(ds);
}

PG_FUNCTION_INFO_V1(scfrisk_psi_final);
Datum
scfrisk_psi_final(PG_FUNCTION_ARGS)
{
	DriftState *ds;
	StringInfoData s;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	ds = (DriftState *) PG_GETARG_POINTER(0);
	initStringInfo(&s);
	appendStringInfo(&s, "{\"scale\": \"%s\", \"training_rows\": " UINT64_FORMAT ", ",
					 ds->d.scale == SF_SCALE_LOGIT ? "logit" : "identity", ds->d.rows);
	AppendBins(&s, &ds->d.score, ds->counts, "psi");
	appendStringInfoChar(&s, '}');
	PG_RETURN_DATUM(JsonbFromText(&s));
}

PG_FUNCTION_INFO_V1(scfrisk_csi_sfunc);
Datum
scfrisk_csi_sfunc(PG_FUNCTION_ARGS)
{
	DriftState *ds = PG_ARGISNULL(0) ? NULL : (DriftState *) PG_GETARG_POINTER(0);
	uint32		j;

	if (ds == NULL)
		ds = DriftStart(fcinfo, true, "csi");
	else
		SameModel(&ds->id, false, fcinfo, 1, "csi");
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("csi: features is NULL"),
				 errhint("Pass an array of the model's width; a NULL element is a missing value.")));
	SfGetFeatures(PG_GETARG_ARRAYTYPE_P(2), (int) ds->d.n_features, ds->x, SF_MISSING_AS_NAN,
				  "features");
	for (j = 0; j < ds->d.n_features; j++)
		ds->counts[ds->off[j] + sf_dist_bin(&ds->d.features[j], ds->x[j])]++;
	PG_RETURN_POINTER(ds);
}

PG_FUNCTION_INFO_V1(scfrisk_csi_final);
Datum
scfrisk_csi_final(PG_FUNCTION_ARGS)
{
	DriftState *ds;
	StringInfoData s;
	uint32		j;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	ds = (DriftState *) PG_GETARG_POINTER(0);
	initStringInfo(&s);
	appendStringInfo(&s, "{\"training_rows\": " UINT64_FORMAT ", \"features\": [", ds->d.rows);
	for (j = 0; j < ds->d.n_features; j++)
	{
		appendStringInfo(&s, "%s{\"feature\": %u, ", j ? ", " : "", j + 1);
		AppendBins(&s, &ds->d.features[j], ds->counts + ds->off[j], "csi");
		appendStringInfoChar(&s, '}');
	}
	appendStringInfoString(&s, "]}");
	PG_RETURN_DATUM(JsonbFromText(&s));
}

/* ------------------------------------------------------------ reliability table */

typedef struct CalibTableState
{
	int32		n_bins;
	uint64	   *count;
	double	   *sum_p;
	double	   *sum_y;
} CalibTableState;

PG_FUNCTION_INFO_V1(scfrisk_calibration_table_sfunc);
Datum
scfrisk_calibration_table_sfunc(PG_FUNCTION_ARGS)
{
	CalibTableState *cs = PG_ARGISNULL(0) ? NULL : (CalibTableState *) PG_GETARG_POINTER(0);
	int32		bins = PG_NARGS() > 3 && !PG_ARGISNULL(3) ? PG_GETARG_INT32(3) : 10;
	double		y,
				p;
	uint32		k;

	if (PG_NARGS() > 3 && PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("calibration_table: bins is NULL")));
	if (cs == NULL)
	{
		MemoryContext cxt = AggCxt(fcinfo, "calibration_table");

		if (bins < 1 || bins > CALIB_TABLE_MAX_BINS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("calibration_table: bins must be in [1, %d], got %d",
							CALIB_TABLE_MAX_BINS, bins)));
		cs = MemoryContextAllocZero(cxt, sizeof(CalibTableState));
		cs->n_bins = bins;
		cs->count = MemoryContextAllocZero(cxt, sizeof(uint64) * bins);
		cs->sum_p = MemoryContextAllocZero(cxt, sizeof(double) * bins);
		cs->sum_y = MemoryContextAllocZero(cxt, sizeof(double) * bins);
	}
	else if (bins != cs->n_bins)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("calibration_table: bins changed from %d to %d between rows", cs->n_bins, bins)));
	/* a row without a label or a score says nothing about calibration */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(cs);
	y = PG_GETARG_FLOAT8(1);
	p = PG_GETARG_FLOAT8(2);
	if (y != 0.0 && y != 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("calibration_table: label %g is not 0 or 1", y)));
	if (!(p >= 0.0 && p <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("calibration_table: score %g is not a probability in [0, 1]", p)));
	k = sf_calib_table_bin((uint32) cs->n_bins, p);
	cs->count[k]++;
	cs->sum_p[k] += p;
	cs->sum_y[k] += y;
	PG_RETURN_POINTER(cs);
}

PG_FUNCTION_INFO_V1(scfrisk_calibration_table_final);
Datum
scfrisk_calibration_table_final(PG_FUNCTION_ARGS)
{
	CalibTableState *cs;
	double	   *mean_p,
			   *rate,
				ece,
				mce;
	uint64		total = 0;
	StringInfoData s;
	int			k;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	cs = (CalibTableState *) PG_GETARG_POINTER(0);
	mean_p = palloc(sizeof(double) * cs->n_bins);
	rate = palloc(sizeof(double) * cs->n_bins);
	sf_calib_table((uint32) cs->n_bins, cs->count, cs->sum_p, cs->sum_y, mean_p, rate, &ece, &mce);
	for (k = 0; k < cs->n_bins; k++)
		total += cs->count[k];
	initStringInfo(&s);
	appendStringInfo(&s, "{\"rows\": " UINT64_FORMAT ", \"ece\": ", total);
	JsonNum(&s, ece);
	appendStringInfoString(&s, ", \"mce\": ");
	JsonNum(&s, mce);
	appendStringInfoString(&s, ", \"bins\": [");
	for (k = 0; k < cs->n_bins; k++)
	{
		appendStringInfo(&s, "%s{\"bin\": %d, \"lower\": ", k ? ", " : "", k + 1);
		JsonNum(&s, (double) k * (1.0 / cs->n_bins));
		appendStringInfoString(&s, ", \"upper\": ");
		JsonNum(&s, (double) (k + 1) * (1.0 / cs->n_bins));
		appendStringInfo(&s, ", \"rows\": " UINT64_FORMAT ", \"mean_score\": ", cs->count[k]);
		JsonNum(&s, mean_p[k]);
		appendStringInfoString(&s, ", \"observed_rate\": ");
		JsonNum(&s, rate[k]);
		appendStringInfoChar(&s, '}');
	}
	appendStringInfoString(&s, "]}");
	PG_RETURN_DATUM(JsonbFromText(&s));
}

/* ------------------------------------------------------------ calibrate */

typedef struct CalibrateState
{
	ModelId		id;
	bytea	   *model;			/* copy of the first row's model */
	const sf_kind *kind;
	void	   *decoded;
	int			method;
	double	   *x;				/* one row */
	double	   *f;				/* margins */
	double	   *y;				/* labels */
	int64		n,
				cap;
	MemoryContext cxt;
} CalibrateState;

static CalibrateState *
CalibrateStart(FunctionCallInfo fcinfo)
{
	MemoryContext cxt = AggCxt(fcinfo, "calibrate");
	MemoryContext old;
	CalibrateState *cs;
	sf_container c;
	sf_env		env;
	char	   *method;
	bytea	   *model;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("calibrate: %s is NULL", PG_ARGISNULL(1) ? "model" : "method")));
	method = text_to_cstring(PG_GETARG_TEXT_PP(4));
	old = MemoryContextSwitchTo(cxt);
	cs = palloc0(sizeof(CalibrateState));
	cs->cxt = cxt;
	cs->method = sf_calib_method(method);
	if (cs->method < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("calibrate: unknown method \"%s\"", method),
				 errhint("The methods are \"platt\" (a sigmoid of the margin) and \"isotonic\".")));
	model = PG_GETARG_BYTEA_P_COPY(1);
	cs->model = model;
	SameModel(&cs->id, true, fcinfo, 1, "calibrate");
	SfContainerFromBytea(model, &c, "calibrate");
	cs->kind = SfKindOrError(c.kind, "calibrate");
	SfEnvInit(&env, cxt);
	if (cs->kind->predict != NULL)
		SF_PG_CHECK(cs->kind->decode(&env, (const uint8_t *) VARDATA(model),
									 VARSIZE(model) - VARHDRSZ, &cs->decoded), &env, "calibrate");
	if (cs->kind->predict == NULL || SfGovScoreScale(c.kind, cs->decoded) != SF_SCALE_LOGIT)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("calibrate: models of kind %s%s give no probability to calibrate",
						cs->kind->name, cs->kind->predict ? " with a regression objective" : ""),
				 errhint("Calibrate a classifier (binary:logistic).")));
	cs->x = palloc(sizeof(double) * Max(c.n_features, 1));
	cs->cap = 1024;
	cs->f = palloc(sizeof(double) * cs->cap);
	cs->y = palloc(sizeof(double) * cs->cap);
	MemoryContextSwitchTo(old);
	return cs;
}

PG_FUNCTION_INFO_V1(scfrisk_calibrate_sfunc);
Datum
scfrisk_calibrate_sfunc(PG_FUNCTION_ARGS)
{
	CalibrateState *cs = PG_ARGISNULL(0) ? NULL : (CalibrateState *) PG_GETARG_POINTER(0);
	double		y;

	if (cs == NULL)
		cs = CalibrateStart(fcinfo);
	else
		SameModel(&cs->id, false, fcinfo, 1, "calibrate");
	/* rows without features or label are left out, as the training aggregates do */
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_POINTER(cs);
	y = PG_GETARG_FLOAT8(3);
	if (y != 0.0 && y != 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("calibrate: label %g is not 0 or 1", y)));
	SfGetFeatures(PG_GETARG_ARRAYTYPE_P(2), (int) cs->kind->n_features(cs->decoded), cs->x,
				  cs->kind->accepts_missing ? SF_MISSING_AS_NAN : SF_MISSING_REJECT, "features");
	if (cs->n == cs->cap)
	{
		cs->cap *= 2;
		cs->f = repalloc_huge(cs->f, sizeof(double) * cs->cap);
		cs->y = repalloc_huge(cs->y, sizeof(double) * cs->cap);
	}
	cs->f[cs->n] = sf_scale_score(SF_SCALE_LOGIT, cs->kind->predict(cs->decoded, cs->x));
	cs->y[cs->n] = y;
	cs->n++;
	PG_RETURN_POINTER(cs);
}

PG_FUNCTION_INFO_V1(scfrisk_calibrate_final);
Datum
scfrisk_calibrate_final(PG_FUNCTION_ARGS)
{
	CalibrateState *cs;
	MemoryContext cxt,
				old;
	sf_env		env;
	sf_calib	cal;
	sf_buf		sec;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	cs = (CalibrateState *) PG_GETARG_POINTER(0);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk calibrate", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	SfEnvInit(&env, cxt);
	if (cs->method == SF_CALIB_PLATT)
		SF_PG_CHECK(sf_calib_fit_platt(&env, cs->f, cs->y, (size_t) cs->n, &cal), &env, "calibrate");
	else
		SF_PG_CHECK(sf_calib_fit_isotonic(&env, cs->f, cs->y, (size_t) cs->n, &cal), &env, "calibrate");
	sf_buf_init(&sec, &env);
	sf_calib_encode(&cal, &sec);
	PG_RETURN_BYTEA_P(SfGovSetSection(&env, cs->model, SF_TAG_CALIBRATION, &sec, old, cxt, "calibrate"));
}

/* ------------------------------------------------------------ scalar functions */

PG_FUNCTION_INFO_V1(scfrisk_calibrated_score);
Datum
scfrisk_calibrated_score(PG_FUNCTION_ARGS)
{
	FmgrInfo   *cache = (FmgrInfo *) fcinfo->flinfo->fn_extra;
	double		p = PG_GETARG_FLOAT8(1);

	if (!(p >= 0.0 && p <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("calibrated_score: score %g is not a probability in [0, 1]", p)));
	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(FmgrInfo));
		cache->fn_mcxt = fcinfo->flinfo->fn_mcxt;
		cache->fn_oid = fcinfo->flinfo->fn_oid;
		cache->fn_nargs = 1;
		cache->fn_strict = true;
		fcinfo->flinfo->fn_extra = cache;
	}
	PG_RETURN_FLOAT8(SfGovCalibrated(fcinfo, cache, p));
}

/* One distribution as JSON: edges and training shares. */
static void
AppendDist(StringInfo s, const sf_dist *d)
{
	uint32		k;

	appendStringInfoString(s, "{\"edges\": [");
	for (k = 0; k + 1 < d->n_bins; k++)
	{
		if (k)
			appendStringInfoString(s, ", ");
		JsonNum(s, d->edges[k]);
	}
	appendStringInfoString(s, "], \"shares\": [");
	for (k = 0; k < d->n_bins; k++)
	{
		if (k)
			appendStringInfoString(s, ", ");
		JsonNum(s, d->share[k]);
	}
	appendStringInfoString(s, "], \"missing\": ");
	JsonNum(s, d->missing);
	appendStringInfoChar(s, '}');
}

PG_FUNCTION_INFO_V1(scfrisk_model_governance);
Datum
scfrisk_model_governance(PG_FUNCTION_ARGS)
{
	bytea	   *model = PG_GETARG_BYTEA_PP(0);
	sf_container c;
	sf_env		env;
	const sf_section *s;
	StringInfoData o;

	SfEnvInit(&env, CurrentMemoryContext);
	SfContainerFromBytea(model, &c, "model_governance");
	initStringInfo(&o);
	appendStringInfo(&o, "{\"kind\": \"%s\", \"drift\": ", sf_kind_name(c.kind));
	if ((s = sf_container_find(&c, SF_TAG_DRIFT)) != NULL)
	{
		sf_drift	d;
		uint32		j;

		SF_PG_CHECK(sf_drift_decode(&env, s->data, (size_t) s->len, c.n_features, &d), &env,
					"model_governance");
		appendStringInfo(&o, "{\"scale\": \"%s\", \"rows\": " UINT64_FORMAT ", \"score\": ",
						 d.scale == SF_SCALE_LOGIT ? "logit" : "identity", d.rows);
		AppendDist(&o, &d.score);
		appendStringInfoString(&o, ", \"features\": [");
		for (j = 0; j < d.n_features; j++)
		{
			if (j)
				appendStringInfoString(&o, ", ");
			AppendDist(&o, &d.features[j]);
		}
		appendStringInfoString(&o, "]}");
	}
	else
		appendStringInfoString(&o, "null");
	appendStringInfoString(&o, ", \"calibration\": ");
	if ((s = sf_container_find(&c, SF_TAG_CALIBRATION)) != NULL)
	{
		sf_calib	cal;

		SF_PG_CHECK(sf_calib_decode(&env, s->data, (size_t) s->len, &cal), &env, "model_governance");
		appendStringInfo(&o, "{\"method\": \"%s\", \"rows\": " UINT64_FORMAT,
						 sf_calib_method_name(cal.method), cal.rows);
		if (cal.method == SF_CALIB_PLATT)
		{
			appendStringInfoString(&o, ", \"a\": ");
			JsonNum(&o, cal.a);
			appendStringInfoString(&o, ", \"b\": ");
			JsonNum(&o, cal.b);
		}
		else
			appendStringInfo(&o, ", \"knots\": %u", cal.n);
		appendStringInfoChar(&o, '}');
	}
	else
		appendStringInfoString(&o, "null");
	appendStringInfoChar(&o, '}');
	PG_RETURN_DATUM(JsonbFromText(&o));
}

/*
 * scfrisk.raw_score(model, features): the kind's own score of a row, without
 * the calibration map scfrisk.predict applies: the scale the stored training
 * distribution was taken on, so the score to give psi for a calibrated model.
 */
PG_FUNCTION_INFO_V1(scfrisk_raw_score);
Datum
scfrisk_raw_score(PG_FUNCTION_ARGS)
{
	bytea	   *head = PG_GETARG_BYTEA_P_SLICE(0, 0, SF_HEADER_LEN);
	sf_container c;
	sf_env		env;
	const sf_kind *k;
	const void *model;
	double	   *x;
	double		r;
	uint32		n;

	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(sf_container_read_header(&env, (const uint8_t *) VARDATA(head),
										 VARSIZE(head) - VARHDRSZ, &c), &env, "raw_score");
	k = SfKindOrError(c.kind, "raw_score");
	if (k->predict == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("raw_score: models of kind %s have no row score", k->name)));
	model = SfModelCacheGet(fcinfo, 0, k->decode, "raw_score");
	n = k->n_features(model);
	x = palloc(sizeof(double) * Max(n, 1));
	SfGetFeatures(PG_GETARG_ARRAYTYPE_P(1), (int) n, x,
				  k->accepts_missing ? SF_MISSING_AS_NAN : SF_MISSING_REJECT, "features");
	r = k->predict(model, x);
	pfree(x);
	PG_RETURN_FLOAT8(r);
}
