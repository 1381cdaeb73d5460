/*
 * registry_sql.c
 *	  The C half of the model registry (sql/install/60_registry.sql holds the
 *	  tables and the PL/pgSQL half): scoring by name, the deployed model by
 *	  name, running a stored query as the role that registered it, and the
 *	  retrain procedure that commits between its steps.
 *
 * Scoring by name, scfrisk.predict(name text, features float8[]), is STABLE:
 * within one statement every row must be scored by the same version, and a
 * deploy committed by another session must be seen by the next statement.
 * Both follow from reading the registry with the statement's snapshot (the
 * active snapshot, which SPI uses unchanged in read-only mode) and caching
 * the answer per call site (fn_extra) keyed by the content of that snapshot:
 * its local transaction, xmin, xmax, command id and in-progress transaction
 * lists.  Two snapshots with the same content see the same committed rows,
 * so a cache hit can never show another version than a fresh lookup would;
 * a new statement, a new transaction or a command of our own transaction
 * changes the key and the name is looked up again (one index probe).  The
 * lookup returns the model datum as stored, usually a TOAST pointer, which
 * is handed to the generic scfrisk.predict(model bytea, features) through a
 * long-lived FmgrInfo per name: its own decoded-model cache (SfModelCacheGet)
 * is keyed on that TOAST pointer or the model header, so a model is decoded
 * once per call site and version, never per row, and scoring stays in the
 * one dispatch of src/core/predict_sql.c.
 *
 * The registry tables are readable only by their owner; like PostgreSQL's
 * referential-integrity checks (ri_triggers.c), the lookup switches to the
 * owner of the tables for its one query.  Who may score by name is decided
 * by the EXECUTE privilege on scfrisk.predict(text, float8[]).
 *
 * Stored training queries run as the role that registered them, with
 * SECURITY_RESTRICTED_OPERATION (as REFRESH MATERIALIZED VIEW runs a view's
 * query as its owner) and search_path "$user", public, so a registered
 * query can never use the privileges of whoever runs scfrisk.retrain (an
 * owner, or pg_cron as a superuser).  Queries must be one plain SELECT.
 * While a stored query runs, the registry refuses to be written
 * (scfrisk.registry_invoker() raises in a security-restricted operation), so
 * user code can neither save nor deploy from inside a retrain.
 *
 * No function here reaches another object through a name a non-superuser can
 * redirect: the registry's schema is the namespace of the called function
 * itself (by OID, never the name "scfrisk" or the search_path), the tables,
 * the generic predict and the two retrain steps are looked up in it, and the
 * steps are called through fmgr by OID (so PUBLIC needs no EXECUTE on them;
 * the documented check is EXECUTE on the retrain procedure).
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parse_func.h"
#include "parser/parser.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "scfrisk_pg.h"
#include "scfrisk/gbt.h"
#include "scfrisk/logreg.h"
#include "scfrisk/mlp.h"
#include "scfrisk/qrgmm.h"
#include "scfrisk/xgb_mlp.h"
#include "mlp_pg.h"

/* Names cached per call site of predict(name, ...); more are looked up in turn. */
#define REGISTRY_CACHE_NAMES	8

/* The search_path a stored query runs with (PostgreSQL's default). */
#define REGISTRY_QUERY_SEARCH_PATH "\"$user\", public"

/* ------------------------------------------------------------ checks */

/* A registry name argument: not empty (the tables check the rest). */
static inline char *
CheckModelName(text *name)
{
	char	   *s = text_to_cstring(name);

	if (s[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model name must not be empty")));
	return s;
}

/* ------------------------------------------------------------ table owner */

/*
 * The registry's schema: the namespace of the function being called (every
 * function of this file lives in the extension's schema), found by OID so a
 * renamed or shadowing schema "scfrisk" cannot stand in for it.
 */
static Oid
RegistrySchema(FunctionCallInfo fcinfo)
{
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);

	if (!OidIsValid(nsp))
		elog(ERROR, "cache lookup failed for function %u", fcinfo->flinfo->fn_oid);
	return nsp;
}

/* A function of the registry's schema by name and argument types, or an error. */
static Oid
RegistryFunction(Oid nsp, const char *fname, int nargs, const Oid *argtypes)
{
	char	   *nspname = get_namespace_name(nsp);
	List	   *qualified = list_make2(makeString(nspname), makeString(pstrdup(fname)));

	return LookupFuncName(qualified, nargs, argtypes, false);
}

/* Owner of the registry_version table: the role the lookups run as. */
static Oid
RegistryOwner(Oid nsp)
{
	Oid			rel = get_relname_relid("registry_version", nsp);
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(rel))
		elog(ERROR, "table registry_version is missing from schema %s", get_namespace_name(nsp));
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", rel);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/* ------------------------------------------------------------ lookup */

/*
 * Run one of the lookups with the name in args as $1, read-only (the
 * statement's own snapshot, no new one), at most max rows: *plan is kept
 * for the session, prepared on first use from fmt with the registry's
 * schema.
 */
static void
RunLookup(SPIPlanPtr *plan, const char *fmt, const char *schema, Datum *args, long max)
{
	int			rc;

	if (*plan == NULL)
	{
		Oid			argtypes[1] = {TEXTOID};
		SPIPlanPtr	p = SPI_prepare(psprintf(fmt, schema), 1, argtypes);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "cannot prepare the registry lookup: %s", SPI_result_code_string(SPI_result));
		*plan = p;
	}
	rc = SPI_execute_plan(*plan, args, NULL, true, max);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "registry lookup failed: %s", SPI_result_code_string(rc));
}

/*
 * Look up the deployed version of 'name' with the active snapshot.  On
 * success *version is set and the model datum, exactly as stored (often a
 * TOAST pointer, which stays valid for as long as this snapshot), is copied
 * into 'cxt'.  An unknown name is ERRCODE_UNDEFINED_OBJECT, a name without a
 * deployed version ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE.
 */
static struct varlena *
RegistryLookup(text *name, Oid nsp, Oid owner, MemoryContext cxt, int32 *version)
{
	const char *schema = quote_identifier(get_namespace_name(nsp));
	static SPIPlanPtr deployed_plan = NULL;
	static SPIPlanPtr exists_plan = NULL;
	Datum		args[1];
	Oid			save_userid;
	int			save_sec;
	struct varlena *out = NULL;
	bool		found = false;
	bool		known = false;

	args[0] = PointerGetDatum(name);
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	RunLookup(&deployed_plan, "SELECT version, model FROM %s.registry_version "
			  "WHERE name OPERATOR(pg_catalog.=) $1 "
			  "AND status OPERATOR(pg_catalog.=) 'deployed'", schema, args, 2);
	if (SPI_processed > 1)
		elog(ERROR, "model \"%s\" has more than one deployed version", text_to_cstring(name));
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		v = SPI_getbinval(tup, desc, 1, &isnull);
		Datum		m;
		struct varlena *raw;
		Size		sz;

		*version = DatumGetInt32(v);
		m = SPI_getbinval(tup, desc, 2, &isnull);
		if (isnull)
			elog(ERROR, "deployed model \"%s\" has no bytes", text_to_cstring(name));
		raw = (struct varlena *) DatumGetPointer(m);
		sz = VARATT_IS_EXTERNAL(raw) ? VARSIZE_EXTERNAL(raw) : VARSIZE_ANY(raw);
		out = MemoryContextAlloc(cxt, sz);
		memcpy(out, raw, sz);
		found = true;
	}
	else
	{
		RunLookup(&exists_plan, "SELECT 1 FROM %s.registry_model "
				  "WHERE name OPERATOR(pg_catalog.=) $1", schema, args, 1);
		known = SPI_processed > 0;
	}
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec);

	if (!found && !known)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", text_to_cstring(name))));
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model \"%s\" has no deployed version", text_to_cstring(name)),
				 errhint("Deploy one with scfrisk.deploy(name, version).")));
	return out;
}

/* ------------------------------------------------------------ snapshot key */

/* What a snapshot sees, copied so that a later snapshot can be compared. */
typedef struct RegistrySnapKey
{
	bool		valid;
	LocalTransactionId lxid;	/* our top-level transaction */
	TransactionId xmin;
	TransactionId xmax;
	CommandId	curcid;
	uint32		xcnt;
	int32		subxcnt;
	bool		suboverflowed;
	TransactionId *xip;			/* xcnt in-progress xids, in 'cxt' */
	TransactionId *subxip;		/* subxcnt in-progress subxids, in 'cxt' */
	uint32		xip_cap;
	int32		subxip_cap;
} RegistrySnapKey;

static bool
SnapKeyMatches(const RegistrySnapKey *k, Snapshot s)
{
	return k->valid &&
		k->lxid == MyProc->lxid &&
		k->xmin == s->xmin &&
		k->xmax == s->xmax &&
		k->curcid == s->curcid &&
		k->xcnt == s->xcnt &&
		k->subxcnt == s->subxcnt &&
		k->suboverflowed == s->suboverflowed &&
		(s->xcnt == 0 || memcmp(k->xip, s->xip, s->xcnt * sizeof(TransactionId)) == 0) &&
		(s->subxcnt <= 0 || memcmp(k->subxip, s->subxip, s->subxcnt * sizeof(TransactionId)) == 0);
}

static void
SnapKeySet(RegistrySnapKey *k, Snapshot s, MemoryContext cxt)
{
	if (s->xcnt > k->xip_cap)
	{
		if (k->xip)
			pfree(k->xip);
		k->xip = MemoryContextAlloc(cxt, s->xcnt * sizeof(TransactionId));
		k->xip_cap = s->xcnt;
	}
	if (s->subxcnt > k->subxip_cap)
	{
		if (k->subxip)
			pfree(k->subxip);
		k->subxip = MemoryContextAlloc(cxt, s->subxcnt * sizeof(TransactionId));
		k->subxip_cap = s->subxcnt;
	}
	k->lxid = MyProc->lxid;
	k->xmin = s->xmin;
	k->xmax = s->xmax;
	k->curcid = s->curcid;
	k->xcnt = s->xcnt;
	k->subxcnt = s->subxcnt;
	k->suboverflowed = s->suboverflowed;
	if (s->xcnt > 0)
		memcpy(k->xip, s->xip, s->xcnt * sizeof(TransactionId));
	if (s->subxcnt > 0)
		memcpy(k->subxip, s->subxip, s->subxcnt * sizeof(TransactionId));
	k->valid = true;
}

/* ------------------------------------------------------------ predict cache */

/* One model name seen at a call site. */
typedef struct RegistryEntry
{
	bool		used;
	bool		fresh;			/* looked up under the snapshot of the key */
	text	   *name;			/* in cxt */
	int32		version;		/* deployed version found */
	struct varlena *model;		/* model datum as stored, in model_cxt */
	MemoryContext cxt;			/* name, and the generic predict's own cache */
	MemoryContext model_cxt;	/* reset at every lookup */
	FmgrInfo	predict;		/* scfrisk.predict(bytea, float8[]) */
} RegistryEntry;

typedef struct RegistryCache
{
	RegistrySnapKey key;
	Oid			nsp;			/* the registry's schema */
	Oid			owner;			/* owner of the registry tables */
	Oid			predict_oid;	/* scfrisk.predict(bytea, float8[]) */
	int			victim;			/* next entry to replace when all are used */
	RegistryEntry entries[REGISTRY_CACHE_NAMES];
} RegistryCache;

/* OID of predict(bytea, float8[]) of the registry's schema, the generic scoring dispatch. */
static Oid
GenericPredictOid(Oid nsp)
{
	Oid			argtypes[2] = {BYTEAOID, FLOAT8ARRAYOID};
	List	   *fname = list_make2(makeString(get_namespace_name(nsp)), makeString("predict"));
	Oid			oid = LookupFuncName(fname, 2, argtypes, true);

	if (!OidIsValid(oid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("scfrisk.predict(bytea, double precision[]) is not installed"),
				 errdetail("Scoring by name goes through the generic scoring function.")));
	return oid;
}

static RegistryEntry *
CacheEntryFor(FunctionCallInfo fcinfo, RegistryCache *c, text *name)
{
	Size		len = VARSIZE_ANY_EXHDR(name);
	RegistryEntry *e;
	int			i;

	for (i = 0; i < REGISTRY_CACHE_NAMES; i++)
	{
		e = &c->entries[i];
		if (e->used && VARSIZE_ANY_EXHDR(e->name) == len &&
			memcmp(VARDATA_ANY(e->name), VARDATA_ANY(name), len) == 0)
			return e;
	}
	for (i = 0; i < REGISTRY_CACHE_NAMES && c->entries[i].used; i++)
		;
	if (i == REGISTRY_CACHE_NAMES)
	{
		i = c->victim;
		c->victim = (c->victim + 1) % REGISTRY_CACHE_NAMES;
		MemoryContextDelete(c->entries[i].cxt);
	}
	e = &c->entries[i];
	memset(e, 0, sizeof(*e));
	e->cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "scfrisk registry entry",
								   ALLOCSET_SMALL_SIZES);
	e->model_cxt = AllocSetContextCreate(e->cxt, "scfrisk registry model datum",
										 ALLOCSET_SMALL_SIZES);
	e->name = (text *) MemoryContextAlloc(e->cxt, VARHDRSZ + len);
	SET_VARSIZE(e->name, VARHDRSZ + len);
	memcpy(VARDATA(e->name), VARDATA_ANY(name), len);
	e->predict.fn_oid = InvalidOid;	/* set up at the first score */
	e->used = true;
	return e;
}

/*
 * scfrisk.predict(name text, features float8[]) -> float8: the score of the
 * deployed version of a registered model, through the generic dispatch.
 */
PG_FUNCTION_INFO_V1(registry_predict);
Datum
registry_predict(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	RegistryCache *c = (RegistryCache *) fcinfo->flinfo->fn_extra;
	RegistryEntry *e;
	Snapshot	snap;
	Datum		result;
	int			i;
	LOCAL_FCINFO(inner, 2);

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(RegistryCache));
		c->nsp = RegistrySchema(fcinfo);
		c->owner = RegistryOwner(c->nsp);
		fcinfo->flinfo->fn_extra = c;
	}
	if (!ActiveSnapshotSet())
		elog(ERROR, "scfrisk.predict by name needs an active snapshot");
	snap = GetActiveSnapshot();
	if (!SnapKeyMatches(&c->key, snap))
	{
		SnapKeySet(&c->key, snap, fcinfo->flinfo->fn_mcxt);
		for (i = 0; i < REGISTRY_CACHE_NAMES; i++)
			c->entries[i].fresh = false;
	}

	e = CacheEntryFor(fcinfo, c, name);
	if (!e->fresh)
	{
		MemoryContextReset(e->model_cxt);
		e->model = NULL;
		(void) CheckModelName(name);
		e->model = RegistryLookup(name, c->nsp, c->owner, e->model_cxt, &e->version);
		e->fresh = true;
	}

	if (!OidIsValid(e->predict.fn_oid))
	{
		if (!OidIsValid(c->predict_oid))
			c->predict_oid = GenericPredictOid(c->nsp);
		fmgr_info_cxt(c->predict_oid, &e->predict, e->cxt);
	}

	InitFunctionCallInfoData(*inner, &e->predict, 2, PG_GET_COLLATION(), NULL, NULL);
	inner->args[0].value = PointerGetDatum(e->model);
	inner->args[0].isnull = false;
	inner->args[1].value = PG_GETARG_DATUM(1);
	inner->args[1].isnull = false;
	result = FunctionCallInvoke(inner);
	if (inner->isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/*
 * scfrisk.model(name text) -> bytea: the bytes of the deployed version, read
 * with the statement's snapshot.
 */
PG_FUNCTION_INFO_V1(registry_model);
Datum
registry_model(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	Oid			nsp = RegistrySchema(fcinfo);
	struct varlena *raw;
	int32		version;

	(void) CheckModelName(name);
	if (!ActiveSnapshotSet())
		elog(ERROR, "scfrisk.model needs an active snapshot");
	raw = RegistryLookup(name, nsp, RegistryOwner(nsp), CurrentMemoryContext, &version);
	PG_RETURN_BYTEA_P((bytea *) detoast_attr(raw));
}

/*
 * scfrisk.registry_invoker() -> text: the role on whose behalf a registry
 * function runs (the session's current role, also inside the SECURITY
 * DEFINER functions of the registry, where current_user is their owner).
 * Every function that writes the registry asks for it first, so this is
 * where writes from a security-restricted operation are refused: a stored
 * training query runs as one (RunAsBegin), and code it calls must not save,
 * deploy or register, nor hold an uncommitted version of the name that
 * other sessions' saves would wait for while the retrain runs.  The same
 * holds for REFRESH MATERIALIZED VIEW and maintenance commands.
 */
PG_FUNCTION_INFO_V1(registry_invoker);
Datum
registry_invoker(PG_FUNCTION_ARGS)
{
	if (InSecurityRestrictedOperation())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("the scfrisk registry cannot be changed within a security-restricted operation"),
				 errdetail("Stored training queries, materialized view refreshes and maintenance commands run as one."),
				 errhint("Save, deploy and register from a top-level statement, not from a function a stored query calls.")));
	PG_RETURN_TEXT_P(cstring_to_text(GetUserNameFromId(GetOuterUserId(), false)));
}

/* ------------------------------------------------------------ stored queries */

/* The query must parse as exactly one SELECT without INTO. */
static void
CheckSingleSelect(const char *sql)
{
	List	   *raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	RawStmt    *rs;

	if (list_length(raw) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a registry query must be exactly one SELECT statement, not %d statements",
						list_length(raw))));
	rs = linitial_node(RawStmt, raw);
	if (!IsA(rs->stmt, SelectStmt) || ((SelectStmt *) rs->stmt)->intoClause != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a registry query must be a SELECT statement")));
}

/* After planning: a plain SELECT, no data-modifying WITH. */
static void
CheckPlanIsSelect(SPIPlanPtr plan)
{
	List	   *sources = SPI_plan_get_plan_sources(plan);
	CachedPlanSource *ps;
	ListCell   *lc;

	if (list_length(sources) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a registry query must be exactly one SELECT statement")));
	ps = (CachedPlanSource *) linitial(sources);
	foreach(lc, ps->query_list)
	{
		Query	   *q = lfirst_node(Query, lc);

		if (q->commandType != CMD_SELECT || q->utilityStmt != NULL || q->hasModifyingCTE ||
			q->rowMarks != NIL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a registry query must be a read-only SELECT statement")));
	}
}

/* Saved state of RunAsBegin, restored by RunAsEnd. */
typedef struct RunAsState
{
	Oid			save_userid;
	int			save_sec;
	int			save_nestlevel;
	ErrorContextCallback errcb;
	const char *role;
} RunAsState;

static void
RunAsErrorContext(void *arg)
{
	RunAsState *st = (RunAsState *) arg;

	errcontext("stored registry query run as role \"%s\"", st->role);
}

/*
 * Become 'role' for a stored query: the caller must have the privileges of
 * that role (as SET ROLE requires), the operation is security-restricted and
 * the search_path is PostgreSQL's default.
 */
static void
RunAsBegin(RunAsState *st, const char *role)
{
	Oid			roleid = get_role_oid(role, false);

	if (!has_privs_of_role(GetUserId(), roleid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to run a stored query as role \"%s\"", role)));
	st->role = role;
	GetUserIdAndSecContext(&st->save_userid, &st->save_sec);
	st->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", REGISTRY_QUERY_SEARCH_PATH, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	SetUserIdAndSecContext(roleid, st->save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	st->errcb.callback = RunAsErrorContext;
	st->errcb.arg = st;
	st->errcb.previous = error_context_stack;
	error_context_stack = &st->errcb;
}

static void
RunAsEnd(RunAsState *st)
{
	error_context_stack = st->errcb.previous;
	SetUserIdAndSecContext(st->save_userid, st->save_sec);
	AtEOXact_GUC(true, st->save_nestlevel);
}

/*
 * Run sql as role (RunAsBegin, then SPI connected): prepared with nargs
 * parameters of argtypes, refused unless its plan is one SELECT, executed
 * with values and nulls, at most max rows; failures name what.  The caller
 * reads SPI_tuptable, then SPI_finish and RunAsEnd.
 */
static void
RunSelectAs(RunAsState *st, const char *role, const char *sql, int nargs, Oid *argtypes,
			Datum *values, const char *nulls, bool read_only, long max, const char *what)
{
	SPIPlanPtr	plan;
	int			rc;

	RunAsBegin(st, role);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(sql, nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "%s: SPI_prepare failed: %s", what, SPI_result_code_string(SPI_result));
	CheckPlanIsSelect(plan);
	rc = SPI_execute_plan(plan, values, nulls, read_only, max);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "%s: %s", what, SPI_result_code_string(rc));
}

/*
 * scfrisk.registry_query_as(run_as text, sql text, p1 jsonb, p2 bytea,
 * p3 bytea, result anyelement) -> anyelement: run one SELECT as role run_as
 * with parameters $1 jsonb, $2 bytea, $3 bytea; it must return one row of
 * one column of result's type, which is returned.
 */
PG_FUNCTION_INFO_V1(registry_query_as);
Datum
registry_query_as(PG_FUNCTION_ARGS)
{
	Oid			want = get_fn_expr_argtype(fcinfo->flinfo, 5);
	Oid			argtypes[3] = {JSONBOID, BYTEAOID, BYTEAOID};
	Datum		values[3];
	char		nulls[3];
	MemoryContext outer = CurrentMemoryContext;
	char	   *role;
	char	   *sql;
	RunAsState	st;
	Datum		result = (Datum) 0;
	bool		isnull = true;
	int16		typlen;
	bool		typbyval;
	int			i;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("registry_query_as needs a role and a query")));
	if (!OidIsValid(want))
		elog(ERROR, "registry_query_as: cannot determine the result type");
	role = text_to_cstring(PG_GETARG_TEXT_PP(0));
	sql = text_to_cstring(PG_GETARG_TEXT_PP(1));
	for (i = 0; i < 3; i++)
	{
		nulls[i] = PG_ARGISNULL(i + 2) ? 'n' : ' ';
		values[i] = PG_ARGISNULL(i + 2) ? (Datum) 0 : PG_GETARG_DATUM(i + 2);
	}
	get_typlenbyval(want, &typlen, &typbyval);

	CheckSingleSelect(sql);
	RunSelectAs(&st, role, sql, 3, argtypes, values, nulls, false, 2, "registry_query_as");
	if (SPI_processed != 1 || SPI_tuptable->tupdesc->natts != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("a registry query must return one row of one column, not " UINT64_FORMAT
						" rows of %d columns", (uint64) SPI_processed, SPI_tuptable->tupdesc->natts)));
	if (SPI_gettypeid(SPI_tuptable->tupdesc, 1) != want)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("a registry query returned type %s, expected %s",
						format_type_be(SPI_gettypeid(SPI_tuptable->tupdesc, 1)),
						format_type_be(want))));
	result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
	{
		MemoryContext old = MemoryContextSwitchTo(outer);

		/* a varlena may come back compressed or out of line: flatten it */
		if (typlen == -1)
			result = PointerGetDatum(PG_DETOAST_DATUM_COPY(result));
		else
			result = datumCopy(result, typbyval, typlen);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	RunAsEnd(&st);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/*
 * scfrisk.registry_query_columns(run_as text, sql text) -> jsonb: the result
 * columns of a stored query, [{"name": ..., "type": ...}, ...], found by
 * running it with LIMIT 0 as role run_as (so missing privileges show now).
 */
PG_FUNCTION_INFO_V1(registry_query_columns);
Datum
registry_query_columns(PG_FUNCTION_ARGS)
{
	char	   *role = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(1));
	MemoryContext outer = CurrentMemoryContext;
	StringInfoData wrapped;
	StringInfoData out;
	RunAsState	st;
	TupleDesc	desc;
	char	   *json;
	int			i;

	CheckSingleSelect(sql);
	initStringInfo(&wrapped);
	appendStringInfo(&wrapped, "SELECT * FROM (\n%s\n) AS q LIMIT 0", sql);

	RunSelectAs(&st, role, wrapped.data, 0, NULL, NULL, NULL, true, 1, "registry_query_columns");
	desc = SPI_tuptable->tupdesc;
	initStringInfo(&out);
	appendStringInfoChar(&out, '[');
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);

		if (i)
			appendStringInfoString(&out, ", ");
		appendStringInfoString(&out, "{\"name\": ");
		escape_json(&out, NameStr(a->attname));
		appendStringInfoString(&out, ", \"type\": ");
		escape_json(&out, format_type_be(a->atttypid));
		appendStringInfoChar(&out, '}');
	}
	appendStringInfoChar(&out, ']');
	json = MemoryContextStrdup(outer, out.data);
	SPI_finish();
	RunAsEnd(&st);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

/* ------------------------------------------------------------ retrain */

/*
 * Call one retrain step (a SECURITY DEFINER function of the registry's
 * schema) through fmgr, by OID: not by a name the caller's search_path or a
 * shadowing schema could redirect, and without an EXECUTE check, so PUBLIC
 * needs none on the steps.  After a commit there is no active snapshot; the
 * step gets one of its own (its statements take fresh ones).
 */
static Datum
CallRetrainStep(Oid fn, int nargs, Datum *args, bool *isnull)
{
	FmgrInfo	flinfo;
	Datum		result;
	int			i;
	LOCAL_FCINFO(fc, 2);

	Assert(nargs <= 2);
	fmgr_info(fn, &flinfo);
	InitFunctionCallInfoData(*fc, &flinfo, nargs, InvalidOid, NULL, NULL);
	for (i = 0; i < nargs; i++)
	{
		fc->args[i].value = args[i];
		fc->args[i].isnull = false;
	}
	PushActiveSnapshot(GetTransactionSnapshot());
	result = FunctionCallInvoke(fc);
	PopActiveSnapshot();
	*isnull = fc->isnull;
	return result;
}

/*
 * CALL scfrisk.retrain(name): train, evaluate and save a candidate
 * (retrain_fit), commit, then decide champion / challenger and promote or
 * keep (retrain_promote), commit.  When the new model's bytes equal the
 * deployed version's, retrain_fit records "unchanged", saves nothing and
 * returns NULL, and there is no second step.  Inside a transaction block
 * (atomic CALL) both steps run in the caller's transaction.  A crash
 * anywhere leaves either nothing or a whole candidate, and the deployed
 * version changes only in the second, short transaction.  Who may retrain
 * is decided by the EXECUTE privilege on this procedure; the steps also
 * check it themselves.
 */
PG_FUNCTION_INFO_V1(registry_retrain);
Datum
registry_retrain(PG_FUNCTION_ARGS)
{
	bool		atomic = !(fcinfo->context != NULL && IsA(fcinfo->context, CallContext) &&
						   !castNode(CallContext, fcinfo->context)->atomic);
	Oid			nsp = RegistrySchema(fcinfo);
	Oid			fit_types[1] = {TEXTOID};
	Oid			promote_types[2] = {TEXTOID, INT4OID};
	Oid			fit_fn;
	Oid			promote_fn;
	Datum		args[2];
	Datum		out;
	char	   *name;
	char	   *outcome;
	int32		version;
	bool		isnull;
	MemoryContext keep;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("retrain needs a model name")));
	/* what must outlive the commits lives in the portal's context */
	keep = atomic ? CurrentMemoryContext : PortalContext;
	name = MemoryContextStrdup(keep, CheckModelName(PG_GETARG_TEXT_PP(0)));
	fit_fn = RegistryFunction(nsp, "retrain_fit", 1, fit_types);
	promote_fn = RegistryFunction(nsp, "retrain_promote", 2, promote_types);

	if (SPI_connect_ext(atomic ? 0 : SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	args[0] = CStringGetTextDatum(name);
	out = CallRetrainStep(fit_fn, 1, args, &isnull);
	if (isnull)
	{
		/* unchanged: retrain_fit logged it and said so */
		SPI_finish();
		PG_RETURN_VOID();
	}
	version = DatumGetInt32(out);
	if (!atomic)
	{
		SPI_commit();
		SPI_start_transaction();
	}

	args[0] = CStringGetTextDatum(name);
	args[1] = Int32GetDatum(version);
	out = CallRetrainStep(promote_fn, 2, args, &isnull);
	outcome = isnull ? NULL : MemoryContextStrdup(keep, TextDatumGetCString(out));
	if (!atomic)
	{
		SPI_commit();
		SPI_start_transaction();
	}
	SPI_finish();

	ereport(NOTICE,
			(errmsg("retrain of model \"%s\": %s", name, outcome ? outcome : "done")));
	PG_RETURN_VOID();
}

/* ------------------------------------------------------------ params */

/*
 * Check a kind's training params as its training aggregate will (keys, JSON
 * types, ranges, cross-field checks): a bad key fails with 22023 before any
 * row is read.  Checks that need the rows (feature_names against the width)
 * stay with the aggregate.  Every kind is checked with the params table of
 * its entry in the table of kinds (src/core/kinds.c); mlp and xgb_mlp go
 * through their aggregates' own parsers, which also fill in the defaults
 * their cross-checks depend on (hidden layers, the paper mode's defaults).
 */
void
SfCheckKindParams(const char *kind, Jsonb *jb)
{
	const sf_kind *k;

	if (strcmp(kind, "mlp") == 0)
	{
		mlp_params	p;

		SfParseMlpParams(jb, &p);
		return;
	}
	if (strcmp(kind, "xgb_mlp") == 0)
	{
		xgb_mlp_params p;

		SfParseXgbMlpParams(jb, &p);
		return;
	}
	k = sf_kind_find_name(kind);
	if (k == NULL || k->params == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown model kind \"%s\"", kind),
				 errhint("scfrisk.model_kinds() lists the kinds and their training aggregates.")));
	SfParseParams(jb, k->params, palloc0(k->params_size));
}

/* scfrisk.registry_check_params(kind text, params jsonb) -> void: SfCheckKindParams. */
PG_FUNCTION_INFO_V1(registry_check_params);
Datum
registry_check_params(PG_FUNCTION_ARGS)
{
	SfCheckKindParams(text_to_cstring(PG_GETARG_TEXT_PP(0)), PG_GETARG_JSONB_P(1));
	PG_RETURN_VOID();
}
