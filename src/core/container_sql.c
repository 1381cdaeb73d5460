/*
 * container_sql.c
 *	  The model container in SQL: scfrisk.model_info(bytea) -> jsonb, the
 *	  per-call-site decoded-model cache, and bytea helpers.
 *
 * The cache follows DESIGN.md's performance rule: a model is decoded once
 * per call site, not per row, and a different model value is never scored
 * with a stale entry.  The key is taken before detoasting: for a value
 * stored out of line, its TOAST pointer (value id, TOAST relation, sizes),
 * which identifies an immutable value; otherwise the 28-byte header, read
 * directly from an inline value or with a slice detoast of a compressed one,
 * together with the total length.  The header holds the payload's CRC-32C,
 * so a stale hit needs equal kind, version, width, length and checksum.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "common/jsonapi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "scfrisk/sf_explain.h"
#include "scfrisk_pg.h"

bytea *
SfBufToBytea(const sf_buf *b)
{
	bytea	   *out = palloc(VARHDRSZ + b->len);

	SET_VARSIZE(out, VARHDRSZ + b->len);
	if (b->len)
		memcpy(VARDATA(out), b->data, b->len);
	return out;
}

Datum
SfFeatureNameDatum(const sf_container *c, uint32 j, bool *isnull)
{
	const char *name;
	uint32		len;

	*isnull = !sf_container_feature_name(c, j, &name, &len);
	return *isnull ? (Datum) 0 : PointerGetDatum(cstring_to_text_with_len(name, (int) len));
}

void
SfContainerFromBytea(bytea *model, sf_container *c, const char *what)
{
	sf_env		env;

	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(sf_container_decode(&env, (const uint8_t *) VARDATA_ANY(model),
									VARSIZE_ANY_EXHDR(model), c), &env, what);
}

/* ------------------------------------------------------------ cache */

typedef struct SfModelCache
{
	bool		valid;			/* model decoded for the key below */
	SfDecodeFn	decode;			/* decoder the entry was built with */
	bool		is_toast;		/* key is a TOAST pointer, not a header */
	struct varatt_external toast;	/* TOAST pointer of the cached value */
	uint8		header[SF_HEADER_LEN];	/* header of the cached value */
	Size		total_len;		/* its total length */
	MemoryContext cxt;			/* holds the decoded model */
	void	   *model;
} SfModelCache;

void *
SfModelCacheGet(FunctionCallInfo fcinfo, int argno, SfDecodeFn decode, const char *what)
{
	SfModelCache *cache = (SfModelCache *) fcinfo->flinfo->fn_extra;
	struct varlena *raw = (struct varlena *) DatumGetPointer(PG_GETARG_DATUM(argno));
	struct varatt_external toast;
	uint8		header[SF_HEADER_LEN];
	Size		total_len = 0;
	bool		is_toast = false;
	bytea	   *full;
	sf_env		env;
	sf_status	st;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(SfModelCache));
		cache->cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "scfrisk model cache",
										   ALLOCSET_DEFAULT_SIZES);
		fcinfo->flinfo->fn_extra = cache;
	}

	/* Take the key without detoasting the whole value. */
	memset(header, 0, sizeof(header));
	if (VARATT_IS_EXTERNAL_ONDISK(raw))
	{
		VARATT_EXTERNAL_GET_POINTER(toast, raw);
		is_toast = true;
	}
	else if (VARATT_IS_EXTERNAL(raw) || VARATT_IS_COMPRESSED(raw))
	{
		bytea	   *slice = (bytea *) detoast_attr_slice(raw, 0, SF_HEADER_LEN);

		memcpy(header, VARDATA_ANY(slice), Min(VARSIZE_ANY_EXHDR(slice), SF_HEADER_LEN));
		total_len = VARATT_IS_EXTERNAL(raw) ? VARATT_EXTERNAL_GET_EXTSIZE(*(struct varatt_external *) VARDATA_EXTERNAL(raw))
			: VARDATA_COMPRESSED_GET_EXTSIZE(raw);
		pfree(slice);
	}
	else
	{
		total_len = VARSIZE_ANY_EXHDR(raw);
		memcpy(header, VARDATA_ANY(raw), Min(total_len, SF_HEADER_LEN));
	}

	if (cache->valid && cache->decode == decode && cache->is_toast == is_toast)
	{
		if (is_toast
			? (toast.va_valueid == cache->toast.va_valueid &&
			   toast.va_toastrelid == cache->toast.va_toastrelid &&
			   toast.va_rawsize == cache->toast.va_rawsize &&
			   toast.va_extinfo == cache->toast.va_extinfo)
			: (total_len == cache->total_len &&
			   memcmp(header, cache->header, SF_HEADER_LEN) == 0))
			return cache->model;
	}

	/* Miss: decode afresh into the cache's own context. */
	cache->valid = false;
	cache->model = NULL;
	MemoryContextReset(cache->cxt);
	full = DatumGetByteaPP(PG_GETARG_DATUM(argno));
	SfEnvInit(&env, cache->cxt);
	st = decode(&env, (const uint8_t *) VARDATA_ANY(full), VARSIZE_ANY_EXHDR(full), &cache->model);
	if (st != SF_OK)
		SfReportStatus(st, &env, what);
	if ((Pointer) full != (Pointer) raw)
		pfree(full);

	cache->decode = decode;
	cache->is_toast = is_toast;
	if (is_toast)
		cache->toast = toast;
	memcpy(cache->header, header, SF_HEADER_LEN);
	cache->total_len = total_len;
	cache->valid = true;
	return cache->model;
}

/* Rows this wide are scored from a stack buffer, without a palloc per row. */
#define SCORE_ROW_STACK 256

double
SfScoreRow(FunctionCallInfo fcinfo, uint16 kind, const char *what)
{
	const sf_kind *k;
	const void *m;
	ArrayType  *feat;
	int			n;
	double		stack[SCORE_ROW_STACK];
	double	   *x;
	double		r;

	SfPrefetchNextRows(PG_GETARG_DATUM(1));
	k = SfKindOrError(kind, what);
	m = SfModelCacheGet(fcinfo, 0, k->decode, what);
	feat = PG_GETARG_ARRAYTYPE_P(1);
	n = (int) k->n_features(m);
	x = n <= SCORE_ROW_STACK ? stack : palloc(sizeof(double) * n);
	SfGetFeatures(feat, n, x, k->accepts_missing ? SF_MISSING_AS_NAN : SF_MISSING_REJECT, "features");
	if (k->float32_inputs)
		SfCheckFloat32Range(x, (size_t) n, what, "features");
	r = k->predict(m, x);
	if (x != stack)
		pfree(x);
	PG_FREE_IF_COPY(feat, 1);
	return r;
}

/* ------------------------------------------------------------ model_info */

/* Raise the corruption error model_info uses for unreadable metadata. */
static void
CorruptSection(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("model_info: %s", what)));
}

/* Append a JSON text section after checking it is valid JSON in the server encoding. */
static void
AppendJsonSection(StringInfo out, const sf_section *s, const char *name)
{
	char	   *text = pnstrdup((const char *) s->data, (Size) s->len);
	JsonLexContext *lex;

	if (!pg_verifymbstr(text, (int) s->len, true))
		CorruptSection(psprintf("the %s section is not valid text in the database encoding", name));
	lex = makeJsonLexContextCstringLen(text, (int) s->len, GetDatabaseEncoding(), true);
	if (pg_parse_json(lex, &nullSemAction) != JSON_SUCCESS)
		CorruptSection(psprintf("the %s section is not valid JSON", name));
	appendStringInfo(out, ", \"%s\": ", name);
	appendBinaryStringInfo(out, text, (int) s->len);
	pfree(text);
}

static uint64
SectionU64(const sf_section *s)
{
	sf_reader	r;

	sf_reader_init(&r, s->data, s->len);
	return sf_read_u64(&r);
}

static const char *
SectionName(uint16 tag)
{
	switch (tag)
	{
		case SF_TAG_PARAMS:
			return "params";
		case SF_TAG_FEATURE_NAMES:
			return "feature_names";
		case SF_TAG_TRAIN_ROWS:
			return "train_rows";
		case SF_TAG_SEED:
			return "seed";
		case SF_TAG_INFO:
			return "info";
		case SF_TAG_BACKGROUND:
			return "background";
	}
	return "body";
}

/*
 * Refuse (XX001) a section whose JSON disagrees with the body on a field both
 * hold: every key of the body's object that the section also has must have
 * the same value (objects compared key by key, recursively; other values
 * whole).  With only set, just the values of that key are compared (the
 * params section names training settings, of which only the objective is
 * also a body field; its eval_metric "auto", say, legitimately differs from
 * the metric the body records).  path names the field in the message.
 */
static void
CheckAgreesWithBody(JsonbContainer *section, JsonbContainer *body, const char *name,
					const char *only, StringInfo path)
{
	JsonbIterator *it = JsonbIteratorInit(body);
	JsonbValue	k,
				v;
	JsonbIteratorToken r;
	int			plen = path->len;

	while ((r = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		JsonbValue	sv;
		char	   *key;

		if (r != WJB_KEY)
			continue;
		key = pnstrdup(k.val.string.val, k.val.string.len);
		(void) JsonbIteratorNext(&it, &v, true);
		appendStringInfo(path, "%s%s", plen ? "." : "", key);
		if (getKeyJsonValueFromContainer(section, k.val.string.val, k.val.string.len, &sv) != NULL)
		{
			if (v.type == jbvBinary && sv.type == jbvBinary &&
				JsonContainerIsObject(v.val.binary.data) && JsonContainerIsObject(sv.val.binary.data))
				CheckAgreesWithBody(sv.val.binary.data, v.val.binary.data, name, only, path);
			else if (only == NULL || strcmp(key, only) == 0)
			{
				Jsonb	   *a = JsonbValueToJsonb(&sv);
				Jsonb	   *b = JsonbValueToJsonb(&v);

				if (compareJsonbContainers(&a->root, &b->root) != 0)
					ereport(ERROR,
							(errcode(ERRCODE_DATA_CORRUPTED),
							 errmsg("model_info: the %s section says %s is %s but the model body has %s",
									name, path->data, JsonbToCString(NULL, &a->root, VARSIZE(a)),
									JsonbToCString(NULL, &b->root, VARSIZE(b))),
							 errdetail("The model bytes were altered after training; scoring reads the body.")));
			}
		}
		path->len = plen;
		path->data[plen] = '\0';
		pfree(key);
	}
}

/*
 * Decode the whole model with its kind's decoder (XX001 when it cannot be
 * scored) and hold the params and info sections to the body's fields
 * (sf_kind.describe), so that what model_info reports is what the scorer
 * reads.  The registry saves and deploys only through model_info.
 */
static void
CheckModelBody(bytea *model, const sf_container *c)
{
	const sf_kind *k = SfKindOrError(c->kind, "model_info");
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk model_info",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	sf_env		env;
	void	   *decoded = NULL;
	sf_buf		b;
	Jsonb	   *body;
	uint16		tags[2] = {SF_TAG_PARAMS, SF_TAG_INFO};
	int			i;

	SfEnvInit(&env, cxt);
	SF_PG_CHECK(k->decode(&env, (const uint8_t *) VARDATA_ANY(model), VARSIZE_ANY_EXHDR(model),
						  &decoded), &env, "model_info");
	sf_buf_init(&b, &env);
	k->describe(decoded, &b);
	sf_buf_put_u8(&b, 0);
	SF_PG_CHECK(sf_buf_status(&b), &env, "model_info");
	body = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum((char *) b.data)));
	for (i = 0; i < 2; i++)
	{
		const sf_section *s = sf_container_find(c, tags[i]);
		Jsonb	   *sec;
		StringInfoData path;

		if (s == NULL)
			continue;
		/* AppendJsonSection has checked it is JSON text in the database encoding */
		sec = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
												 CStringGetDatum(pnstrdup((const char *) s->data, (Size) s->len))));
		if (!JB_ROOT_IS_OBJECT(sec))
			CorruptSection(psprintf("the %s section is not a JSON object", SectionName(tags[i])));
		initStringInfo(&path);
		CheckAgreesWithBody(&sec->root, &body->root, SectionName(tags[i]),
							tags[i] == SF_TAG_PARAMS ? "objective" : NULL, &path);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

/*
 * The container as JSON: header, common sections (params and info checked
 * to be JSON in the database encoding), the section list.  With check_body,
 * the body is decoded and held to params and info too (CheckModelBody).
 */
static Datum
ContainerInfo(FunctionCallInfo fcinfo, bool check_body)
{
	bytea	   *model = PG_GETARG_BYTEA_PP(0);
	sf_container c;
	StringInfoData out;
	const sf_section *s;
	int			i;

	SfContainerFromBytea(model, &c, "model_info");

	initStringInfo(&out);
	appendStringInfo(&out, "{\"kind\": \"%s\", \"format_version\": %u, \"flags\": %u, "
					 "\"n_features\": %u, \"bytes\": %zu, \"payload_len\": " UINT64_FORMAT
					 ", \"checksum\": \"%08x\"",
					 sf_kind_name(c.kind), (unsigned) c.format_version, (unsigned) c.flags,
					 (unsigned) c.n_features, (size_t) VARSIZE_ANY_EXHDR(model),
					 (uint64) c.payload_len, (unsigned) c.checksum);

	if ((s = sf_container_find(&c, SF_TAG_TRAIN_ROWS)) != NULL)
		appendStringInfo(&out, ", \"train_rows\": " UINT64_FORMAT, SectionU64(s));
	if ((s = sf_container_find(&c, SF_TAG_SEED)) != NULL)
		appendStringInfo(&out, ", \"seed\": " UINT64_FORMAT, SectionU64(s));
	if (sf_container_find(&c, SF_TAG_FEATURE_NAMES) != NULL)
	{
		appendStringInfoString(&out, ", \"feature_names\": [");
		for (i = 0; i < (int) c.n_features; i++)
		{
			const char *name;
			uint32		len;
			char	   *z;

			if (!sf_container_feature_name(&c, (uint32) i, &name, &len))
				CorruptSection("a feature name cannot be read");
			z = pnstrdup(name, len);
			if (!pg_verifymbstr(z, (int) len, true))
				CorruptSection("a feature name is not valid text in the database encoding");
			if (i)
				appendStringInfoString(&out, ", ");
			escape_json(&out, z);
			pfree(z);
		}
		appendStringInfoChar(&out, ']');
	}
	else
		/* every kind shows the key, so a reader need not know which kinds take names */
		appendStringInfoString(&out, ", \"feature_names\": null");
	if ((s = sf_container_find(&c, SF_TAG_PARAMS)) != NULL)
		AppendJsonSection(&out, s, "params");
	if ((s = sf_container_find(&c, SF_TAG_INFO)) != NULL)
		AppendJsonSection(&out, s, "info");

	appendStringInfoString(&out, ", \"sections\": [");
	for (i = 0; i < c.n_sections; i++)
		appendStringInfo(&out, "%s{\"tag\": %u, \"name\": \"%s\", \"bytes\": " UINT64_FORMAT "}",
						 i ? ", " : "", (unsigned) c.sections[i].tag,
						 SectionName(c.sections[i].tag), (uint64) c.sections[i].len);
	appendStringInfoString(&out, "]}");
	if (check_body)
		CheckModelBody(model, &c);

	PG_FREE_IF_COPY(model, 0);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}

/*
 * scfrisk.model_info(bytea) -> jsonb: the container of a model that can be
 * scored (the kind's full decoder ran, XX001 otherwise) and whose params and
 * info sections agree with its body.  The registry saves and deploys through
 * it.
 */
PG_FUNCTION_INFO_V1(model_info);
Datum
model_info(PG_FUNCTION_ARGS)
{
	return ContainerInfo(fcinfo, true);
}

/*
 * scfrisk.container_info(bytea) -> jsonb: the same JSON from the container
 * alone, for inspecting bytes whose body is damaged or hand-made.
 */
PG_FUNCTION_INFO_V1(container_info);
Datum
container_info(PG_FUNCTION_ARGS)
{
	return ContainerInfo(fcinfo, false);
}

/*
 * scfrisk.model_kind(bytea) -> text: the kind name from the header alone,
 * cheap enough for CHECK constraints and registry bookkeeping.
 */
PG_FUNCTION_INFO_V1(model_kind);
Datum
model_kind(PG_FUNCTION_ARGS)
{
	bytea	   *head = PG_GETARG_BYTEA_P_SLICE(0, 0, SF_HEADER_LEN);
	sf_container c;
	sf_env		env;

	SfEnvInit(&env, CurrentMemoryContext);
	SF_PG_CHECK(sf_container_read_header(&env, (const uint8_t *) VARDATA(head),
										 VARSIZE(head) - VARHDRSZ, &c), &env, "model_kind");
	PG_RETURN_TEXT_P(cstring_to_text(sf_kind_name(c.kind)));
}

/*
 * scfrisk.model_kinds() -> TABLE(...): the one table of model kinds
 * (src/core/kinds.c) as rows, read by the registry (which aggregate retrains
 * a kind), by users (what this build scores) and by the tests that check
 * every kind is wired everywhere.
 */
PG_FUNCTION_INFO_V1(model_kinds);
Datum
model_kinds(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	size_t		i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < sf_kind_count(); i++)
	{
		const sf_kind *k = sf_kind_at(i);
		Datum		values[8];
		bool		nulls[8] = {false};

		values[0] = CStringGetTextDatum(k->name);
		values[1] = Int32GetDatum(k->tag);
		values[2] = Int32GetDatum(k->current_version);
		if (k->aggregate)
			values[3] = CStringGetTextDatum(k->aggregate);
		else
			nulls[3] = true;
		values[4] = BoolGetDatum(k->predict != NULL);
		values[5] = BoolGetDatum(k->curve != NULL);
		values[6] = BoolGetDatum(k->accepts_missing);
		values[7] = CStringGetTextDatum(k->doc);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

const char *
SfFuncName(FunctionCallInfo fcinfo, const char *fallback)
{
	static Oid	cached_oid = InvalidOid;
	static char cached_name[NAMEDATALEN];
	Oid			fn = fcinfo->flinfo ? fcinfo->flinfo->fn_oid : InvalidOid;

	if (!OidIsValid(fn))
		return fallback;
	if (fn != cached_oid)
	{
		char	   *name = get_func_name(fn);

		if (name == NULL)
			return fallback;
		strlcpy(cached_name, name, sizeof(cached_name));
		pfree(name);
		cached_oid = fn;
	}
	return cached_name;
}

void
SfStartResult(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		expected = rsinfo != NULL && IsA(rsinfo, ReturnSetInfo) &&
		rsinfo->expectedDesc != NULL;

	InitMaterializedSRF(fcinfo, expected ? MAT_SRF_USE_EXPECTED_DESC : 0);
}
