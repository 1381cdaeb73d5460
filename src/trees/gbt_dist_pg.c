/*
 * gbt_dist_pg.c
 *	  The transport of xgb_train_sharded's steps after the sketch: each job
 *	  goes straight over the connection postgres_fdw already holds to each
 *	  shard (its connection cache, its remote transaction), to all shards at
 *	  once, and the replies come back in binary.
 *
 * Why not a query over foreign tables, as the sketch is: postgres_fdw reads
 * every remote row as text (a reply's doubles as hex, twice their bytes,
 * which the coordinator decodes again) and runs each foreign scan as
 * DECLARE, FETCH and CLOSE, three round trips per shard per step of which
 * only the FETCH overlaps between shards.  Here a step is one extended-
 * protocol query per server, sent to every server before any answer is
 * read, so the shards work at the same time and a reply crosses once, as
 * its bytes.
 *
 * What stays postgres_fdw's: the connection (GetConnection: the server's
 * options, the user mapping, the remote transaction that the sketch
 * opened and that holds the shard's session), the wait for a result
 * (pgfdw_get_result: interrupts are served, so a cancel ends the wait and
 * postgres_fdw's abort cancels the query on every shard still busy) and
 * the report of a remote error (pgfdw_report_error: the shard's SQLSTATE
 * and message).  These are postgres_fdw's exported functions, found by
 * name in its library; their signatures are those of PostgreSQL 14 to 16.
 */
#include "postgres.h"

#include "libpq-fe.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "utils/memutils.h"

#include "shard_pg.h"

/*
 * postgres_fdw's exported functions have these signatures in PostgreSQL 14
 * to 16 (17 changed pgfdw_get_result's).  On other versions the steps take
 * the foreign-table path that logreg_train_sharded uses: slower, the same
 * model.
 */
#if PG_VERSION_NUM >= 140000 && PG_VERSION_NUM < 170000
#define SHARD_DIRECT 1
#endif

#ifdef SHARD_DIRECT

/* contrib/postgres_fdw/postgres_fdw.h (the state is opaque here) */
typedef PGconn *(*GetConnectionFn) (UserMapping *user, bool will_prep_stmt, void **state);
typedef PGresult *(*PgfdwGetResultFn) (PGconn *conn, const char *query);
typedef void (*PgfdwReportErrorFn) (int elevel, PGresult *res, PGconn *conn, bool clear,
									const char *sql);

static GetConnectionFn fdw_get_connection;
static PgfdwGetResultFn fdw_get_result;
static PgfdwReportErrorFn fdw_report_error;

/*
 * One query per server for all its partitions: their sessions are $1, the
 * job $2; a row per session in session order, which is partition order.
 */
static const char *const step_sql =
"SELECT s, scfrisk.xgb_shard_step(s, $2) FROM pg_catalog.unnest($1::pg_catalog.int8[]) s "
"GROUP BY s ORDER BY s";

/* A server holding partitions with rows: its connection and their sessions. */
typedef struct ShardLink
{
	PGconn	   *conn;
	const char *server;
	char	   *sessions;		/* "{s1,s2,...}" */
	int			n_parts;
} ShardLink;

typedef struct ShardLinks
{
	int			n;
	ShardLink  *link;
	uint64		steps,
				job_bytes,
				reply_bytes;
} ShardLinks;

static void
LoadFdwFunctions(void)
{
	if (fdw_get_connection != NULL)
		return;
	fdw_get_result = (PgfdwGetResultFn)
		load_external_function("$libdir/postgres_fdw", "pgfdw_get_result", true, NULL);
	fdw_report_error = (PgfdwReportErrorFn)
		load_external_function("$libdir/postgres_fdw", "pgfdw_report_error", true, NULL);
	fdw_get_connection = (GetConnectionFn)
		load_external_function("$libdir/postgres_fdw", "GetConnection", true, NULL);
}

/*
 * The links of the partitions whose load answered (after CollectReplies of
 * the sketch query, whose foreign scans opened the connections and their
 * remote transaction): one per server, as postgres_fdw has one connection
 * per user mapping.
 */
void
ShardConnect(ShardPlan *sp)
{
	ShardLinks *ls = palloc0(sizeof(ShardLinks));
	int			i,
				j;

	LoadFdwFunctions();
	ls->link = palloc0(sizeof(ShardLink) * (sp->n ? sp->n : 1));
	for (i = 0; i < sp->n; i++)
	{
		ForeignServer *srv;
		PGconn	   *conn;
		void	   *state;
		ShardLink  *l = NULL;

		if (!sp->has_rows[i])
			continue;
		srv = GetForeignServerByName(sp->server[i], false);
		conn = fdw_get_connection(GetUserMapping(GetUserId(), srv->serverid), false, &state);
		for (j = 0; j < ls->n && l == NULL; j++)
			if (ls->link[j].conn == conn)
				l = &ls->link[j];
		if (l == NULL)
		{
			l = &ls->link[ls->n++];
			l->conn = conn;
			l->server = sp->server[i];
			l->sessions = psprintf("{" INT64_FORMAT, sp->session + i);
		}
		else
			l->sessions = psprintf("%s," INT64_FORMAT, l->sessions, sp->session + i);
		l->n_parts++;
	}
	for (j = 0; j < ls->n; j++)
		ls->link[j].sessions = psprintf("%s}", ls->link[j].sessions);
	sp->links = ls;
}

/* A server's answer to a step: its partitions' replies by partition into by_k / len_k. */
static void
TakeReplies(ShardPlan *sp, ShardLink *l, PGresult *res, bytea **by_k)
{
	ShardLinks *ls = sp->links;
	int			r,
				n = PQntuples(res);

	if (PQnfields(res) != 2 || n != l->n_parts || PQbinaryTuples(res) != 1)
	{
		PQclear(res);
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("%s: server \"%s\" answered a step with %d rows, expected %d",
						sp->what, l->server, n, l->n_parts)));
	}
	for (r = 0; r < n; r++)
	{
		uint64		s;
		int64		k;
		int			len = PQgetlength(res, r, 1);

		if (PQgetisnull(res, r, 0) || PQgetlength(res, r, 0) != 8)
			k = -1;
		else
		{
			memcpy(&s, PQgetvalue(res, r, 0), 8);
			k = (int64) pg_ntoh64(s) - sp->session;
		}
		if (k < 0 || k >= sp->n || !sp->has_rows[k] || by_k[k] != NULL)
		{
			PQclear(res);
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("%s: server \"%s\" answered for a session it was not asked", sp->what,
							l->server)));
		}
		if (PQgetisnull(res, r, 1))
			continue;			/* a partition without rows (none is asked) */
		by_k[k] = MemoryContextAlloc(sp->exchange_cxt, VARHDRSZ + len);
		SET_VARSIZE(by_k[k], VARHDRSZ + len);
		memcpy(VARDATA(by_k[k]), PQgetvalue(res, r, 1), len);
		ls->reply_bytes += len;
	}
	PQclear(res);
}

/*
 * gbt_dist_io's exchange over sp's links: the job to every server, then
 * the answers read in link order and returned in partition order.
 */
sf_status
ShardExchangeDirect(void *ctx, const uint8_t *job, size_t job_len, int *n_replies,
					const uint8_t *const **replies, const size_t **lens)
{
	ShardPlan  *sp = ctx;
	ShardLinks *ls = sp->links;
	const Oid	types[2] = {INT8ARRAYOID, BYTEAOID};
	const int	formats[2] = {0, 1};
	bytea	  **by_k;
	int			j,
				k,
				m = 0;

	if (ls == NULL || ls->n == 0)
		elog(ERROR, "%s: no shard holds rows", sp->what);
	if (job_len > (size_t) INT_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s: a step's job of %zu bytes is too long", sp->what, job_len)));
	MemoryContextReset(sp->exchange_cxt);
	by_k = MemoryContextAllocZero(sp->exchange_cxt, sizeof(bytea *) * sp->n);
	for (j = 0; j < ls->n; j++)
	{
		const char *values[2] = {ls->link[j].sessions, (const char *) job};
		int			lengths[2] = {0, (int) job_len};

		if (!PQsendQueryParams(ls->link[j].conn, step_sql, 2, types, values, lengths, formats, 1))
			fdw_report_error(ERROR, NULL, ls->link[j].conn, false, step_sql);
		ls->job_bytes += job_len;
	}
	for (j = 0; j < ls->n; j++)
	{
		PGresult   *res = fdw_get_result(ls->link[j].conn, step_sql);

		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			fdw_report_error(ERROR, res, ls->link[j].conn, true, step_sql);
		TakeReplies(sp, &ls->link[j], res, by_k);
	}
	ls->steps++;
	for (k = 0; k < sp->n; k++)
		if (by_k[k] != NULL)
		{
			sp->bufs[m] = (const uint8_t *) VARDATA(by_k[k]);
			sp->lens[m++] = VARSIZE(by_k[k]) - VARHDRSZ;
		}
	*n_replies = m;
	*replies = sp->bufs;
	*lens = sp->lens;
	return SF_OK;
}

/* DEBUG1: the steps and the bytes they moved (the figures of docs/scale-out.md). */
void
ShardReportTraffic(const ShardPlan *sp)
{
	const ShardLinks *ls = sp->links;

	if (ls == NULL)
		return;
	ereport(DEBUG1,
			(errmsg("%s: %llu steps to %d servers, %llu bytes of jobs and %llu bytes of replies",
					sp->what, (unsigned long long) ls->steps, ls->n,
					(unsigned long long) ls->job_bytes, (unsigned long long) ls->reply_bytes)));
}

#else							/* !SHARD_DIRECT */

void
ShardConnect(ShardPlan *sp)
{
	PrepareStep(sp);
}

sf_status
ShardExchangeDirect(void *ctx, const uint8_t *job, size_t job_len, int *n_replies,
					const uint8_t *const **replies, const size_t **lens)
{
	return ShardExchange(ctx, job, job_len, n_replies, replies, lens);
}

void
ShardReportTraffic(const ShardPlan *sp)
{
}

#endif							/* SHARD_DIRECT */
